"""What ``mmcli serve`` accepts: address, request limits, queue and batching (no imports of
FastAPI, TensorFlow or pandas)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmcli.errors import UsageError

BATCH_ROWS = 256  # the most rows per model call: predict's default --batch-size
RETRY_AFTER_SECONDS = 1  # the Retry-After of a 503 (queue full)
SHUTDOWN_SECONDS = 60  # in-flight requests get this long to finish after SIGTERM


@dataclass(frozen=True)
class ServeConfig:
    """The server's settings (the ``mmcli serve`` flags).

    Args:
        host: Address to bind (loopback unless told otherwise).
        port: TCP port; 0 picks a free one (the address is printed on stderr).
        allow_paths: Folder under which a row may name a local file (``{"path": ...}``);
            None: only uploaded (base64 / multipart) files.
        max_body_bytes: Largest request body, in bytes (413 above).
        max_rows: Most rows in one request (413 above).
        max_text_chars: Longest value of a non-file column, in characters (422 above).
        queue: Most requests waiting for the model (503 with Retry-After above).
        batch_wait_ms: How long the first waiting request waits for others to share its
            batch, in milliseconds.
        top_k: Labels listed in each record's ``top_k``.
        engine: ``auto``, ``tf``, ``lite`` or ``onnx``, as ``mmcli predict --engine``.
        join: A side table joined to each request's rows by id, as ``mmcli predict --join``
            (None: the bundle's training ``--join``, if any).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    allow_paths: Path | None = None
    max_body_bytes: int = 16 << 20
    max_rows: int = 1000
    max_text_chars: int = 10_000
    queue: int = 64
    batch_wait_ms: float = 5.0
    top_k: int = 3
    engine: str = "auto"
    join: Path | None = None

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_rows", "max_text_chars", "queue", "top_k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"Expected a positive integer for `{name}`. "
                                 f"Received: {name}={value!r}")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"Expected a port between 0 and 65535. Received: port={self.port}")
        if self.batch_wait_ms < 0:
            raise UsageError("Expected a non-negative number for `batch_wait_ms`. "
                             f"Received: batch_wait_ms={self.batch_wait_ms}")
        if self.engine not in ("auto", "tf", "lite", "onnx"):
            raise UsageError(f"--engine {self.engine}: choose one of auto, tf, lite, onnx")
        if self.allow_paths is not None and not Path(self.allow_paths).is_dir():
            raise UsageError(f"--allow-paths {self.allow_paths}: not a folder")
