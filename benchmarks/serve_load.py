"""Benchmark ``mmcli serve`` under load on loopback against batch ``mmcli predict``.

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/serve_load.py [--work DIR]

A short-trained bundle on ../shared/data/fashion30 (``--train-rows`` training rows, 32 px
``small_cnn`` images + ``bow`` text, one epoch: the model is not the point, the service is).
Then, on fashion30's test rows (images sent as base64; requests of ``--rows-per-request``
rows: 1, as a client typically calls a service, and 16):

1. batch ``mmcli predict`` rows/s on the same rows (the command's wall time on N rows minus
   its wall time on one row: start-up and model load left out), and
2. ``mmcli serve`` with 1, 8 and 32 concurrent clients, each for ``--seconds``: rows/s,
   p50 and p99 latency (per request), error count (goal: zero errors; 32 clients at least
   0.8 of batch predict's rows/s).

The load generator is one asyncio process (httpx); every client stops at its deadline and
the server is stopped with SIGTERM (killed after a timeout). Prints one JSON document on
stdout, writes ``benchmarks/results/serve_load.md``; progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FASHION = ROOT.parent / "shared" / "data" / "fashion30" / "data.csv"
if not FASHION.exists():
    FASHION = Path("/work/shared/data/fashion30/data.csv")
MMCLI = [sys.executable, "-m", "mmcli"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def tables(work: Path, train_rows: int, test_rows: int) -> tuple[Path, Path, Path, list]:
    with open(FASHION, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    train = [r for r in rows if r["split"] == "train"][:train_rows]
    test = [r for r in rows if r["split"] == "test"][:test_rows]
    paths = []
    for name, chosen in (("train.csv", train), ("test.csv", test), ("one.csv", test[:1])):
        path = work / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(chosen[0]))
            writer.writeheader()
            writer.writerows(chosen)
        paths.append(path)
    return (*paths, test)


def bundle(work: Path, train: Path) -> Path:
    out = work / "bundle"
    if (out / "bundle.json").exists():
        log(f"reusing {out}")
        return out
    log(f"training {out} ...")
    seconds = wall([*MMCLI, "train", str(train), "--out", str(out), "--image-root",
                    str(FASHION.parent), "--image-size", "32", "--image-encoder", "small_cnn",
                    "--epochs", "1", "--seed", "0", "--quiet"])
    log(f"  trained in {seconds:.1f} s")
    return out


def predict_rate(model: Path, test: Path, one: Path, rows: int, repeats: int) -> dict:
    """Rows/s of the command on ``test`` without its start-up: the fastest of ``repeats``
    walls on all rows minus the fastest on one row (alternated: the machine is shared)."""
    common = ["--image-root", str(FASHION.parent), "--quiet", "--format", "jsonl"]
    ones, alls = [], []
    for _ in range(repeats):
        ones.append(wall([*MMCLI, "predict", str(model), str(one), *common]))
        alls.append(wall([*MMCLI, "predict", str(model), str(test), *common]))
    one_s, all_s = min(ones), min(alls)
    return {"rows": rows, "wall_s": [round(w, 2) for w in alls],
            "one_row_wall_s": [round(w, 2) for w in ones],
            "rows_per_s": round((rows - 1) / max(all_s - one_s, 1e-9), 1),
            "rows_per_s_with_startup": round(rows / all_s, 1)}


def start_server(model: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([*MMCLI, "serve", str(model), "--port", "0"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 300
    for line in process.stderr:
        found = re.search(r"on (http://[\d.]+:\d+)", line)
        if found:
            break
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the server did not start")
    else:
        raise SystemExit(f"the server exited ({process.wait()})")
    threading.Thread(target=process.stderr.read, daemon=True).start()  # drain its stderr
    return process, found.group(1)


def stop_server(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(10)


async def load(url: str, bodies: list[bytes], clients: int, seconds: float,
               per_request: int) -> dict:
    latencies: list[float] = []
    done: list[int] = []
    errors: dict[str, int] = {}
    # An idle connection is dropped by the client before uvicorn's 5 s keep-alive timeout
    # closes it, so no request is sent on a connection the server is closing.
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients,
                          keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def one_client(index: int) -> None:
            turn = index
            while time.perf_counter() < deadline:
                body = bodies[turn % len(bodies)]
                turn += clients
                sent = time.perf_counter()
                try:
                    response = await client.post("/predict", content=body, headers={
                        "content-type": "application/json"})
                    ok = response.status_code == 200 and all(
                        r["error"] is None for r in response.json()["records"])
                    key = "ok" if ok else f"http {response.status_code}"
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                if key == "ok":
                    latencies.append(time.perf_counter() - sent)
                    done.append(per_request)
                else:
                    errors[key] = errors.get(key, 0) + 1

        await asyncio.wait_for(asyncio.gather(*(one_client(i) for i in range(clients))),
                               timeout=seconds + 120)
        elapsed = time.perf_counter() - start
    latencies.sort()

    def quantile(q: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    return {"clients": clients, "rows_per_request": per_request, "seconds": round(elapsed, 1),
            "requests": len(latencies), "rows": sum(done),
            "rows_per_s": round(sum(done) / elapsed, 1), "p50_ms": quantile(0.5),
            "p99_ms": quantile(0.99), "errors": sum(errors.values()), "error_kinds": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="keep the bundle and tables here (reused)")
    parser.add_argument("--train-rows", type=int, default=1500)
    parser.add_argument("--test-rows", type=int, default=1817)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--rows-per-request", default="1,16")
    parser.add_argument("--repeats", type=int, default=3, help="batch predict runs")
    args = parser.parse_args()
    if not FASHION.exists():
        raise SystemExit(f"needs {FASHION} (../shared/data/fashion30)")
    work = args.work or Path(tempfile.mkdtemp(prefix="serve-load-"))
    work.mkdir(parents=True, exist_ok=True)
    train, test, one, test_rows = tables(work, args.train_rows, args.test_rows)
    model = bundle(work, train)
    log("batch predict ...")
    batch = predict_rate(model, test, one, len(test_rows), args.repeats)
    log(f"  {batch}")
    rows = [{"id": r["id"], "text": r["text"], "image": base64.b64encode(
        (FASHION.parent / r["image"]).read_bytes()).decode()} for r in test_rows]
    process, url = start_server(model)
    runs = []
    try:
        for per_request in (int(n) for n in args.rows_per_request.split(",")):
            bodies = [json.dumps({"rows": rows[i:i + per_request]}).encode()
                      for i in range(0, len(rows) - per_request + 1, per_request)]
            for clients in (int(c) for c in args.clients.split(",")):
                log(f"{clients} clients, {per_request} rows a request, {args.seconds:.0f} s ...")
                runs.append(asyncio.run(load(url, bodies, clients, args.seconds, per_request)))
                log(f"  {runs[-1]}")
    finally:
        exit_code = stop_server(process)
    most = max(int(c) for c in args.clients.split(","))
    ratios = {f"{r['rows_per_request']}_rows_a_request": round(r["rows_per_s"] /
                                                              batch["rows_per_s"], 3)
              for r in runs if r["clients"] == most}
    figures = {"batch_predict": batch, "serve": runs, "server_exit_code": exit_code,
               f"serve_over_batch_at_{most}_clients": ratios, "machine": machine()}
    print(json.dumps(figures, indent=2))
    write_result("serve_load", figures, notes=(
        "Requests of 1 and of 16 rows (image as base64 + text) from one asyncio client "
        "process on loopback, the server on the same 2 cores; fashion30 test rows; a 1-epoch "
        "32 px small_cnn + bow bundle trained on "
        f"{args.train_rows} training rows. Batch predict rows/s leaves out start-up (wall on "
        "all rows minus wall on one row). The machine is shared (see load_average)."))


if __name__ == "__main__":
    main()
