#!/usr/bin/env python3
"""Start N local workers of one command on free loopback ports, each with its TF_CONFIG.

    python scripts/launch_local_workers.py -n 2 -- mmcli train prepared/ --out model/

Every worker runs the same command line (as cluster launchers do); worker 0 is the chief and
writes the bundle. Each worker's stderr goes to the terminal (or to ``--logs DIR/worker-I.log``),
stdout to ``--logs DIR/worker-I.out`` (the chief's also to this stdout). When one worker fails
the others are stopped (a cluster missing a worker would wait for it). Exit status: the first
non-zero status of a worker, else 0. ``--timeout`` seconds stops them all (exit 124).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together while chosen)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_configs(ports: list[int]) -> list[str]:
    """One TF_CONFIG per worker of a cluster on those loopback ports."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
            for i in range(len(ports))]


def launch(command: list[str], workers: int, logs: Path | None = None,
           extra_env: dict[str, str] | None = None) -> list[subprocess.Popen]:
    """Start the workers; returns their processes (worker i at index i)."""
    if command and command[0] == "mmcli" and shutil.which("mmcli") is None:
        command = [sys.executable, "-m", "mmcli", *command[1:]]
    procs = []
    for index, config in enumerate(tf_configs(free_ports(workers))):
        env = {**os.environ, **(extra_env or {}), "TF_CONFIG": config}
        out = err = None
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            out = open(logs / f"worker-{index}.out", "wb")  # noqa: SIM115 (the child keeps it)
            err = open(logs / f"worker-{index}.log", "wb")  # noqa: SIM115
        procs.append(subprocess.Popen(command, env=env, stdout=out, stderr=err))
    return procs


def wait_all(procs: list[subprocess.Popen], timeout: float | None) -> int:
    """Wait for every worker; stop the others when one fails or time runs out."""
    deadline = None if timeout is None else time.monotonic() + timeout
    status = 0
    while any(p.poll() is None for p in procs):
        failed = [p.returncode for p in procs if p.returncode not in (None, 0)]
        late = deadline is not None and time.monotonic() > deadline
        if failed or late:
            status = failed[0] if failed else 124
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
            return status
        time.sleep(0.2)
    return next((p.returncode for p in procs if p.returncode), 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--workers", type=int, default=2)
    parser.add_argument("--logs", type=Path, default=None,
                        help="write worker-I.log (stderr) and worker-I.out (stdout) here")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before stopping")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or args.workers < 1:
        parser.error("give -n N >= 1 and a command after --")
    procs = launch(command, args.workers, args.logs)
    status = wait_all(procs, args.timeout)
    if args.logs is not None and (args.logs / "worker-0.out").is_file():
        sys.stdout.write((args.logs / "worker-0.out").read_text(encoding="utf-8"))
    return status


if __name__ == "__main__":
    sys.exit(main())
