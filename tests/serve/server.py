"""Start ``mmcli serve`` as a subprocess on a free loopback port (``--port 0``; the address
is read from its stderr line), and always stop it: on leaving the block, or by a watchdog
after ``lifetime`` seconds whatever the test does."""

from __future__ import annotations

import contextlib
import csv
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 240  # TensorFlow's import and the model's load, on a busy 2-core machine


@dataclass
class Server:
    process: subprocess.Popen
    url: str = ""
    stderr: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


def serve_command(bundle: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "mmcli", "serve", str(bundle), "--port", "0", *flags]


@contextlib.contextmanager
def running(bundle: Path, *flags: str, lifetime: float = 600) -> Iterator[Server]:
    """A server for the block; fails the test if it does not listen in START_SECONDS."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(serve_command(bundle, *flags), stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True, env=env)
    server = Server(process)
    watchdog = threading.Timer(lifetime, process.kill)
    watchdog.daemon = True
    watchdog.start()
    listening = threading.Event()

    def read() -> None:
        for line in process.stderr:
            server.stderr.append(line)
            found = re.search(r"on (http://[\d.]+:\d+)", line)
            if found and not server.url:
                server.url = found.group(1)
                listening.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not listening.wait(1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {''.join(server.stderr)}")
        yield server
    finally:
        server.stop()
        watchdog.cancel()


def with_issues(records: list[dict], rejects: Path) -> list[dict]:
    """Predict's records, each with the rejects lines of its row (row i + 1) as serve's
    ``issues`` field: ``{column, reason, action, message}``."""
    with open(rejects, newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    return [{**r, "issues": [{k: x[k] for k in ("column", "reason", "action", "message")}
                             for x in lines if x["row"] == str(i + 1)]}
            for i, r in enumerate(records)]
