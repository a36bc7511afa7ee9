"""Run the service: verify and load the bundle, bind, serve until SIGTERM or Ctrl-C, finish
the requests in flight, stop the model's worker, and say how it ended.

The bundle is checked and the model loaded before the socket is bound, so a tampered bundle
is refused (exit 4) before anything listens, and a client never meets a half-ready server.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from mmcli.errors import EXIT_INTERRUPTED, EXIT_OK, UsageError
from mmcli.serve.settings import SHUTDOWN_SECONDS, ServeConfig

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_server(bundle: str | Path, config: ServeConfig, *,
               on_listening: Callable[[str], None] = lambda url: None) -> int:
    """Serve ``bundle`` until SIGTERM (exit code 0) or SIGINT (130); in-flight requests
    finish first (up to ``SHUTDOWN_SECONDS``).

    Args:
        on_listening: Called with the base URL (``http://127.0.0.1:8000``) once bound.

    Raises:
        BundleError: the bundle is tampered, incomplete or unreadable (before binding).
        UsageError: the address cannot be bound (in use, not local ...).
    """
    import uvicorn

    from mmcli.serve.app import create_app
    from mmcli.serve.service import Service

    service = Service(bundle, config)
    try:
        sock = _bind(config.host, config.port)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        server = _Server(uvicorn.Config(
            create_app(service), log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=SHUTDOWN_SECONDS))
        on_listening(f"http://{shown}:{port}")
        server.run(sockets=[sock])
    finally:
        service.close()
    return EXIT_INTERRUPTED if signal.SIGINT in server.signals else EXIT_OK


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but a signal ends it with an exit code rather than being raised
        again after the graceful shutdown (uvicorn's default, which would end the process
        by the signal)."""

        signals: list[int]

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return

            def note(sig: int, frame) -> None:
                self.signals.append(sig)
                self.handle_exit(sig, frame)

            original = {sig: signal.signal(sig, note) for sig in _SIGNALS}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return Server


def _Server(config):  # noqa: N802  (a class built lazily: uvicorn is imported by serve only)
    server = _server_class()(config)
    server.signals = []
    return server
