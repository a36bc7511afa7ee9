"""Benchmark ``mmcli serve`` under load on loopback against batch ``mmcli predict``.

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/serve_load.py [--work DIR]

A short-trained bundle on ../shared/data/fashion30 (``--train-rows`` training rows, 32 px
``small_cnn`` images + ``bow`` text, one epoch: the model is not the point, the service is).
Then, on fashion30's test rows (images sent as base64; requests of ``--rows-per-request``
rows: 1, as a client typically calls a service, and 16):

For each ``--engines`` (``auto``: the bundle's LiteRT export; ``tf``):

1. batch ``mmcli predict --engine E`` rows/s on the same rows (the command's wall time on N
   rows minus its wall time on one row: start-up and model load left out) and its CPU
   seconds per row (the same difference), and
2. ``mmcli serve --engine E`` with 1, 8 and 32 concurrent clients, each for ``--seconds``:
   rows/s, p50 and p99 latency (per request), error count, and the server's CPU seconds per
   row answered (goal: zero errors; 32 clients at least 0.8 of batch predict's rows/s).

The load generator is one asyncio process with a minimal HTTP/1.1 client (httpx cost as much
CPU as the server on these 2 cores); every client stops at its deadline and the server is
stopped with SIGTERM (killed after a timeout). Prints one JSON document on
stdout, writes ``benchmarks/results/serve_load.md``; progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

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
    return timed(cmd)[0]


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - start, cpu


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


def predict_rate(model: Path, test: Path, one: Path, rows: int, repeats: int,
                 engine: str) -> dict:
    """Rows/s of the command on ``test`` without its start-up: the fastest of ``repeats``
    walls on all rows minus the fastest on one row (alternated: the machine is shared); and
    its CPU seconds per row the same way (all rows minus one row)."""
    common = ["--image-root", str(FASHION.parent), "--quiet", "--format", "jsonl",
              "--engine", engine]
    ones, alls = [], []
    for _ in range(repeats):
        ones.append(timed([*MMCLI, "predict", str(model), str(one), *common]))
        alls.append(timed([*MMCLI, "predict", str(model), str(test), *common]))
    one_s, all_s = min(w for w, _ in ones), min(w for w, _ in alls)
    one_cpu, all_cpu = min(c for _, c in ones), min(c for _, c in alls)
    return {"engine": engine, "rows": rows, "wall_s": [round(w, 2) for w, _ in alls],
            "one_row_wall_s": [round(w, 2) for w, _ in ones],
            "cpu_s": [round(c, 2) for _, c in alls],
            "one_row_cpu_s": [round(c, 2) for _, c in ones],
            "rows_per_s": round((rows - 1) / max(all_s - one_s, 1e-9), 1),
            "rows_per_s_with_startup": round(rows / all_s, 1),
            "cpu_ms_per_row": round(1000 * max(all_cpu - one_cpu, 0) / (rows - 1), 3)}


def start_server(model: Path, engine: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([*MMCLI, "serve", str(model), "--port", "0", "--engine", engine],
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _exchange(reader, writer, request: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a kept-alive connection: (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(b":", 1)[1]) for line in lines[1:]
                  if line.lower().startswith(b"content-length:"))
    return status, await reader.readexactly(length)


async def load(url: str, bodies: list[bytes], clients: int, seconds: float,
               per_request: int) -> dict:
    """``clients`` connections, each sending its next request as soon as the last is answered,
    until ``seconds`` pass. A minimal HTTP/1.1 client on asyncio streams (a request costs it a
    tenth of a millisecond, where httpx spent about 5 ms of the same 2 cores): an answer counts
    when it is 200 and every record has no error."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    latencies: list[float] = []
    done: list[int] = []
    errors: dict[str, int] = {}
    requests = [b"POST /predict HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n%s" % (host.encode(), len(body), body)
                for body in bodies]
    start = time.perf_counter()
    deadline = start + seconds

    async def one_client(index: int) -> None:
        turn = index
        connection = None
        while time.perf_counter() < deadline:
            request = requests[turn % len(requests)]
            turn += clients
            sent = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection(host, int(port))
                status, body = await _exchange(*connection, request)
                ok = status == 200 and all(r["error"] is None
                                           for r in json.loads(body)["records"])
                key = "ok" if ok else f"http {status}"
            except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
                key = type(exc).__name__
                if connection is not None:
                    connection[1].close()
                connection = None
            if key == "ok":
                latencies.append(time.perf_counter() - sent)
                done.append(per_request)
            else:
                errors[key] = errors.get(key, 0) + 1
        if connection is not None:
            connection[1].close()

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
    parser.add_argument("--engines", default="auto,tf", help="serve and predict --engine")
    args = parser.parse_args()
    if not FASHION.exists():
        raise SystemExit(f"needs {FASHION} (../shared/data/fashion30)")
    work = args.work or Path(tempfile.mkdtemp(prefix="serve-load-"))
    work.mkdir(parents=True, exist_ok=True)
    train, test, one, test_rows = tables(work, args.train_rows, args.test_rows)
    model = bundle(work, train)
    rows = [{"id": r["id"], "text": r["text"], "image": base64.b64encode(
        (FASHION.parent / r["image"]).read_bytes()).decode()} for r in test_rows]
    most = max(int(c) for c in args.clients.split(","))
    figures: dict = {"engines": {}}
    for engine in args.engines.split(","):
        log(f"batch predict --engine {engine} ...")
        batch = predict_rate(model, test, one, len(test_rows), args.repeats, engine)
        log(f"  {batch}")
        runs = serve_runs(model, engine, rows, args)
        ratios = {f"{r['rows_per_request']}_rows_a_request": {
            "rows_per_s": round(r["rows_per_s"] / batch["rows_per_s"], 3),
            "cpu_per_row": round(r["server_cpu_ms_per_row"] / batch["cpu_ms_per_row"], 2)
            if batch["cpu_ms_per_row"] else None}
            for r in runs["serve"] if r["clients"] == most}
        figures["engines"][engine] = {"batch_predict": batch, **runs,
                                      f"serve_over_batch_at_{most}_clients": ratios}
    figures["machine"] = machine()
    print(json.dumps(figures, indent=2))
    write_result("serve_load", figures, notes=(
        "Requests of 1 and of 16 rows (image as base64 + text) on loopback from one asyncio "
        "process with a minimal HTTP/1.1 client (keep-alive; about 0.1 ms of CPU a request), "
        "the server and the client on the same 2 cores, shared with other jobs (see "
        "load_average): rows/s depend on how busy the machine was, CPU seconds per row much "
        "less. fashion30 test rows; a 1-epoch 32 px small_cnn + bow bundle trained on "
        f"{args.train_rows} training rows, with its LiteRT export (engine auto = lite). "
        "Batch predict leaves out start-up (wall and CPU on all rows minus on one row). "
        "server_cpu_ms_per_row: the server process' user + system CPU during a run over the "
        "rows answered; serve_over_batch: rows/s ratio (goal 0.8) and CPU-per-row ratio."))


def serve_runs(model: Path, engine: str, rows: list[dict], args) -> dict:
    """The load runs against one server: each clients x rows-per-request, with the server's
    CPU seconds per row answered."""
    process, url = start_server(model, engine)
    runs = []
    try:
        warm = json.dumps({"rows": rows[:16]}).encode()  # the row path's first call (imports)
        urllib.request.urlopen(urllib.request.Request(
            url + "/predict", data=warm, headers={"content-type": "application/json"}),
            timeout=300).read()
        for per_request in (int(n) for n in args.rows_per_request.split(",")):
            bodies = [json.dumps({"rows": rows[i:i + per_request]}).encode()
                      for i in range(0, len(rows) - per_request + 1, per_request)]
            for clients in (int(c) for c in args.clients.split(",")):
                log(f"{engine}: {clients} clients, {per_request} rows a request, "
                    f"{args.seconds:.0f} s ...")
                before = cpu_seconds(process.pid)
                run = asyncio.run(load(url, bodies, clients, args.seconds, per_request))
                used = cpu_seconds(process.pid) - before
                run["server_cpu_s"] = round(used, 2)
                run["server_cpu_ms_per_row"] = round(1000 * used / max(run["rows"], 1), 3)
                run["load_average"] = [round(x, 2) for x in os.getloadavg()]
                runs.append(run)
                log(f"  {run}")
    finally:
        exit_code = stop_server(process)
    return {"serve": runs, "server_exit_code": exit_code}


if __name__ == "__main__":
    main()
