"""Request bodies -> validated rows, or a :class:`RequestError` naming the field at fault.

A JSON body is ``{"rows": [{column: value, ...}, ...]}`` with the columns the bundle was
trained on (``GET /metadata`` lists them). Numbers are kept as the text written, as the
JSON Lines reader keeps them, so a row reads exactly as the same line of a ``.jsonl`` table
would in ``mmcli predict``. A file column (image, audio) holds a base64 string (or
``{"b64": ...}``, TensorFlow Serving's spelling), ``{"path": ...}`` for a local file under
``--allow-paths``, or null. A multipart form is one row: a field per column, an uploaded
file for a file column.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mmcli.errors import DataError
from mmcli.serve.settings import ServeConfig

_SCALARS = (str, bool, type(None))  # numbers arrive as their text (str)


class RequestError(DataError):
    """A request the service refuses: the HTTP status, the field at fault, and why."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status = status
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Upload:
    """A file sent in the request (decoded from base64, or a multipart upload)."""

    data: bytes


@dataclass(frozen=True)
class LocalPath:
    """A local file named by a row, to be resolved under ``--allow-paths``."""

    value: str


@dataclass(frozen=True)
class Inputs:
    """The columns a row may carry: file columns (column -> kind) and value columns;
    ``joined``: a side table is joined on ``id_column`` (a row may carry the id alone)."""

    file_columns: Mapping[str, str]
    value_columns: tuple[str, ...]
    id_column: str | None
    joined: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.file_columns, *self.value_columns)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key is repeated within one object")
    return found


def parse_json(body: bytes, inputs: Inputs, config: ServeConfig) -> list[dict[str, Any]]:
    """The rows of a JSON body, validated.

    Raises:
        RequestError: 400 body not JSON; 422 no ``rows`` list of objects, a row with none of
            the inputs, a bad file value or an over-long text; 413 more than ``max_rows``
            rows; 403 a local path without ``--allow-paths``.
    """
    try:
        document = json.loads(body, parse_float=str, parse_int=str, parse_constant=str,
                              object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:
        raise RequestError(400, "body", f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or "rows" not in document:
        raise RequestError(422, "rows", 'missing: send {"rows": [{column: value, ...}, ...]}')
    rows = document["rows"]
    if not isinstance(rows, list) or not rows:
        raise RequestError(422, "rows", "expected a non-empty list of objects")
    if len(rows) > config.max_rows:
        raise RequestError(413, "rows", f"{len(rows)} rows; at most {config.max_rows} "
                                        "per request (--max-rows)")
    return [check_row(row, f"rows[{i}]", inputs, config) for i, row in enumerate(rows)]


def parse_form(fields: Sequence[tuple[str, str | bytes]], inputs: Inputs,
               config: ServeConfig) -> list[dict[str, Any]]:
    """The one row of a multipart form: ``(name, text or uploaded bytes)`` per field.

    Raises:
        RequestError: 422 a repeated field, a non-UTF-8 upload for a value column, or what
            :func:`check_row` refuses.
    """
    row: dict[str, Any] = {}
    for name, value in fields:
        if name in row:
            raise RequestError(422, name, "repeated; a form is one row")
        if isinstance(value, bytes):
            if name in inputs.file_columns:
                value = Upload(value)
            else:
                try:
                    value = value.decode("utf-8")
                except UnicodeDecodeError:
                    raise RequestError(422, name, "an uploaded value that is not UTF-8 text; "
                                                  "only file columns take files") from None
        row[name] = value
    return [check_row(row, "", inputs, config)]


def check_row(row: Any, where: str, inputs: Inputs, config: ServeConfig) -> dict[str, Any]:
    """One row checked: file cells as :class:`Upload` / :class:`LocalPath` / None, other
    cells as they came (a JSON object or list in a value column is refused). Fields are
    named ``<where>.<column>`` (``where`` empty, a form's: ``<column>``).

    Raises:
        RequestError: see :func:`parse_json`.
    """
    if not isinstance(row, dict):
        raise RequestError(422, where, f"expected an object, got {_json_type(row)}")
    wanted = (*inputs.columns, *([inputs.id_column] if inputs.joined and inputs.id_column
                                 else []))
    if not any(column in row for column in wanted):
        raise RequestError(422, where or "form", "has none of the model's input columns "
                                       f"({', '.join(wanted)})")
    checked: dict[str, Any] = {}
    for column, value in row.items():
        field = f"{where}.{column}" if where else column
        if column in inputs.file_columns:
            checked[column] = _file_cell(value, field, config)
        elif isinstance(value, Upload):
            checked[column] = value  # parse_form refused these already
        elif not isinstance(value, _SCALARS):
            raise RequestError(422, field, f"expected a string, number or boolean, got "
                                           f"{_json_type(value)}")
        elif isinstance(value, str) and len(value) > config.max_text_chars:
            raise RequestError(422, field, f"{len(value)} characters; at most "
                                           f"{config.max_text_chars} (--max-text-chars)")
        else:
            checked[column] = value
    return checked


def _file_cell(value: Any, field: str, config: ServeConfig) -> Upload | LocalPath | None:
    if isinstance(value, Upload) or value is None or value == "":
        return value or None
    if isinstance(value, str):
        return Upload(_base64(value, field))
    if isinstance(value, dict) and list(value) == ["b64"] and isinstance(value["b64"], str):
        return Upload(_base64(value["b64"], field))
    if isinstance(value, dict) and list(value) == ["path"] and isinstance(value["path"], str):
        if config.allow_paths is None:
            raise RequestError(403, field, "local paths are not allowed; start the server "
                                           "with --allow-paths ROOT")
        return LocalPath(value["path"])
    raise RequestError(422, field, 'expected a base64 string, {"b64": "..."} or '
                                   '{"path": "..."}')


def _base64(text: str, field: str) -> bytes:
    if text.startswith("data:") and ";base64," in text[:100]:
        text = text.split(",", 1)[1]  # a data: URL
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(422, field, "not valid base64") from None


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__)
