"""``mmcli serve BUNDLE``: the bundle behind an HTTP JSON service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import make_console

SERVER = "Server"
LIMITS = "Limits"


@reports_errors
def serve(
    bundle: opt.BundleArg,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default; 0.0.0.0 exposes the service to the network).", rich_help_panel=SERVER)] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: a free one, printed on stderr).", min=0, max=65535, rich_help_panel=SERVER)] = 8000,
    allow_paths: Annotated[Path | None, typer.Option(help='Let rows name local files ({"path": ...}) under this folder, never outside it. Without it only uploaded files are read.', file_okay=False, exists=True, rich_help_panel=SERVER)] = None,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body in bytes (413 above).", min=1, rich_help_panel=LIMITS)] = 16 << 20,
    max_rows: Annotated[int, typer.Option(help="Most rows in one request (413 above).", min=1, rich_help_panel=LIMITS)] = 1000,
    max_text_chars: Annotated[int, typer.Option(help="Longest text (any non-file value) in characters (422 above).", min=1, rich_help_panel=LIMITS)] = 10_000,
    queue: Annotated[int, typer.Option(help="Most requests waiting for the model; more get 503 with Retry-After.", min=1, rich_help_panel=LIMITS)] = 64,
    batch_wait_ms: Annotated[float, typer.Option(help="How long a request waits for others to share its model call (micro-batching), in ms.", min=0, rich_help_panel=LIMITS)] = 5.0,
    top_k: Annotated[int, typer.Option(help="How many top labels each record lists.", min=1, rich_help_panel=opt.OUTPUT)] = 3,
    engine: Annotated[str, typer.Option(help="tf (the Keras model), lite or onnx (the bundle's export under LiteRT / ONNX Runtime, without TensorFlow), or auto: the bundle's export when it has one, else tf.", rich_help_panel=SERVER)] = "auto",
    join: Annotated[Path | None, typer.Option(help="A side table joined to each request's rows by id, as predict --join (default: the bundle's training --join, if any); its counts are in GET /health.", dir_okay=False, exists=True, rich_help_panel=SERVER)] = None,
    quiet: opt.Quiet = False,
) -> None:
    """Serve BUNDLE over HTTP: POST /predict {"rows": [...]} answers {"records": [...]}, the
    records of `mmcli predict --format jsonl` for the same rows; GET /health, GET /metadata,
    OpenAPI docs at /docs.

    The bundle's hashes are checked and the model loaded before the port is bound (a tampered
    bundle: exit 4). Images and audio come as base64 strings or multipart uploads (one row).
    SIGTERM finishes the requests in flight, then exits 0.

    Example: curl -s localhost:8000/predict -H 'content-type: application/json' -d '{"rows": [{"text": "a red boat", "image": null}]}'
    """
    from mmcli.serve.server import run_server
    from mmcli.serve.settings import ServeConfig

    config = ServeConfig(host=host, port=port, allow_paths=allow_paths,
                         max_body_bytes=max_body_bytes, max_rows=max_rows,
                         max_text_chars=max_text_chars, queue=queue,
                         batch_wait_ms=batch_wait_ms, top_k=top_k, engine=engine,
                         join=join)
    console = make_console(quiet)
    code = run_server(bundle, config, on_listening=lambda url: console.print(
        f"mmcli serve: {bundle} on {url} (docs: {url}/docs; SIGTERM or Ctrl-C stops)",
        markup=False, highlight=False))
    raise typer.Exit(code)
