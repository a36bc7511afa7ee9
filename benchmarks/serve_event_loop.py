"""Benchmark uvicorn's event loop and HTTP parser under ``mmcli serve``: asyncio + h11 against
uvloop + httptools (what uvicorn picks when they are installed), alternating runs.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_event_loop.py --work DIR [--engine lite]

The service of ``mmcli serve`` (bundle from ``benchmarks/serve_load.py --work DIR``) in this
process on a free loopback port, under one-row requests from ``--clients`` connections of
serve_load's client in a subprocess for ``--seconds``: rows/s, p50/p99, errors and the
server's CPU seconds per row (this process' user + system time over the rows answered).
Writes ``benchmarks/results/serve_event_loop.md``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, write_result  # noqa: E402
from serve_load import FASHION  # noqa: E402

CONFIGS = {"asyncio+h11": {"loop": "asyncio", "http": "h11"},
           "uvloop+httptools": {"loop": "uvloop", "http": "httptools"}}
CLIENT = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from serve_load import load
bodies = [line.encode() for line in open(sys.argv[3], encoding="utf-8")]
print(json.dumps(asyncio.run(load(sys.argv[2], bodies, int(sys.argv[4]), float(sys.argv[5]), 1))))
"""


def cpu() -> float:
    usage = os.times()
    return usage.user + usage.system


def run(bundle: Path, engine: str, config: dict, bodies: Path, clients: int,
        seconds: float) -> dict:
    import uvicorn

    from mmcli.serve.app import create_app
    from mmcli.serve.service import Service
    from mmcli.serve.settings import ServeConfig

    service = Service(bundle, ServeConfig(port=0, engine=engine))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False,
                                           lifespan="off", **config))
    result: dict = {}

    def drive() -> None:
        while not server.started:
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        subprocess.run([sys.executable, "-c", CLIENT, str(Path(__file__).parent), url,
                        str(bodies), str(clients), "2"], capture_output=True)  # warm-up
        before = cpu()
        done = subprocess.run([sys.executable, "-c", CLIENT, str(Path(__file__).parent), url,
                               str(bodies), str(clients), str(seconds)],
                              capture_output=True, text=True)
        used = cpu() - before
        result.update(json.loads(done.stdout) if done.returncode == 0 else
                      {"failed": done.stderr[-1000:]})
        result["server_cpu_ms_per_row"] = round(1000 * used / max(result.get("rows", 1), 1), 2)
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
        server.should_exit = True

    threading.Thread(target=drive, daemon=True).start()
    server.run()
    service.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="serve_load.py's --work")
    parser.add_argument("--engine", default="lite")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with open(args.work / "test.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    bodies = args.work / "one_row_bodies.jsonl"
    bodies.write_text("".join(json.dumps({"rows": [{
        "id": r["id"], "text": r["text"], "image": base64.b64encode(
            (FASHION.parent / r["image"]).read_bytes()).decode()}]}) + "\n" for r in rows),
        encoding="utf-8")
    runs = []
    for repeat in range(args.repeats):
        for name, config in CONFIGS.items():
            print(f"{name} ({repeat + 1}/{args.repeats}) ...", file=sys.stderr, flush=True)
            runs.append({"config": name, **run(args.work / "bundle", args.engine, config,
                                               bodies, args.clients, args.seconds)})
            print(f"  {runs[-1]}", file=sys.stderr, flush=True)
    figures = {"engine": args.engine, "clients": args.clients, "runs": runs,
               "machine": machine()}
    print(json.dumps(figures, indent=2))
    write_result("serve_event_loop", figures, notes=(
        "One-row requests (image as base64 + text) from serve_load.py's minimal HTTP/1.1 "
        "client in a subprocess; the service in the benchmark's process under uvicorn with "
        "each loop + HTTP parser, alternating; the server's CPU is the process' user + "
        "system time over the run (the client is another process). The machine is shared "
        "(load_average per run): compare runs next to each other."))


if __name__ == "__main__":
    main()
