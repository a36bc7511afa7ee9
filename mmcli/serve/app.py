"""The HTTP routes (FastAPI): ``POST /predict``, ``GET /health``, ``GET /metadata``, and
the OpenAPI page at ``/docs``.

Every refusal is a 4xx JSON body ``{"error": why, "field": the field at fault}``: a body
over ``--max-body-bytes`` (413, read no further), JSON that does not parse (400), a missing
or malformed field, an undecodable upload or an over-long text (422), too many rows (413),
a local path not allowed (403), an unknown content type (415); a full queue is 503 with
``Retry-After``. Reading, decoding and the model run off the event loop (the reader's and
the model's worker threads), and so do parsing and spooling a body over :data:`INLINE_BYTES`
(a thread pool), so a slow request never stalls the others. Requests whose rows carry the
id column and only the model's columns are read together in one table (the reader, a
micro-batcher like the model's); others alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from mmcli import __version__
from mmcli.serve.batching import QueueFull
from mmcli.serve.requests import RequestError, parse_form, parse_json
from mmcli.serve.service import Service
from mmcli.serve.settings import RETRY_AFTER_SECONDS

MAX_FORM_FIELDS = 64
# A body up to this size is parsed and its files spooled on the event loop (well under a
# millisecond, measured): a thread pool hand-off cost more than the work (benchmarks/
# results/serve_load.md). Larger bodies go to the pool so they never stall other requests.
INLINE_BYTES = 64 << 10
_ROWS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["rows"],
    "properties": {"rows": {"type": "array", "items": {
        "type": "object", "additionalProperties": True,
        "description": "The columns training read (GET /metadata: inputs). A file column: "
        'a base64 string, {"b64": ...}, or {"path": ...} under --allow-paths.'}}},
}
_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _ROWS_SCHEMA},
    "multipart/form-data": {"schema": {"type": "object", "additionalProperties": True,
                                       "description": "One row: a field per column; "
                                       "an uploaded file per file column."}},
}}}


def create_app(service: Service) -> FastAPI:
    """The FastAPI application serving ``service``."""
    app = FastAPI(title="mmcli serve", version=__version__,
                  description=f"Predictions of the mmcli bundle {service.bundle.folder}")
    config = service.config

    @app.exception_handler(RequestError)
    async def refused(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse({"error": exc.reason, "field": exc.field}, status_code=exc.status)

    @app.exception_handler(QueueFull)
    async def busy(request: Request, exc: QueueFull) -> JSONResponse:
        return JSONResponse({"error": f"busy: {exc}; retry later", "field": None},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.get("/health", summary="Liveness and queue depth")
    async def health() -> dict[str, Any]:
        return service.health()

    @app.get("/metadata", summary="Labels, inputs, modalities, versions, bundle hashes")
    async def metadata() -> dict[str, Any]:
        return service.metadata()

    @app.post("/predict", summary="Predict rows: the records of mmcli predict --format jsonl",
              openapi_extra=_BODY)
    async def predict(request: Request) -> JSONResponse:
        if service.batcher.full() or service.reader.full():  # refuse before reading the body
            raise QueueFull(f"{service.config.queue} requests are waiting")
        body = await _read_body(request, config.max_body_bytes)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            fields = await _form_fields(request, body, config.max_body_bytes)
            rows = parse_form(fields, service.inputs, config)
        elif kind in ("", "application/json") or kind.endswith("+json"):
            rows = parse_json(body, service.inputs, config) if len(body) <= INLINE_BYTES \
                else await run_in_threadpool(parse_json, body, service.inputs, config)
        else:
            raise RequestError(415, "content-type", f"{kind!r}: send application/json or "
                                                    "multipart/form-data")
        form = kind == "multipart/form-data"
        if len(body) <= INLINE_BYTES:
            cells, spooled = service.cells(rows, form=form)
        else:
            cells, spooled = await run_in_threadpool(service.cells, rows, form=form)
        try:
            if service.shareable(cells):
                decoded = await asyncio.wrap_future(service.reader.submit(cells))
            else:
                decoded = await run_in_threadpool(service.read, cells)
        finally:
            service.discard(spooled)
        future = service.submit(decoded)
        proba = await asyncio.wrap_future(future) if future is not None else None
        return JSONResponse({"records": service.records(decoded, proba)})

    return app


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, "body", f"{declared} bytes; at most {limit} (--max-body-bytes)")
    parts, size = [], 0
    try:
        async for part in request.stream():
            size += len(part)
            if size > limit:
                raise RequestError(413, "body", f"over {limit} bytes (--max-body-bytes)")
            parts.append(part)
    except ClientDisconnect:
        raise RequestError(400, "body", "the client went away mid-body") from None
    return b"".join(parts)


async def _form_fields(request: Request, body: bytes, limit: int) -> list[tuple[str, Any]]:
    """A multipart body's fields: (name, text) or (name, the uploaded bytes)."""

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form_request = Request(request.scope, replay)
    try:
        form = await form_request.form(max_files=MAX_FORM_FIELDS, max_fields=MAX_FORM_FIELDS,
                                       max_part_size=limit)
    except (HTTPException, MultiPartException) as exc:
        reason = getattr(exc, "detail", None) or getattr(exc, "message", "")
        raise RequestError(400, "body", f"not a valid multipart form ({reason})") from None
    fields: list[tuple[str, Any]] = []
    for name, value in form.multi_items():
        fields.append((name, await value.read() if isinstance(value, UploadFile) else value))
    await form.close()
    return fields
