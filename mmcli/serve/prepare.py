"""A request's rows through predict's own row path, and their records.

The validated rows become the rows of a table (uploads replaced by the paths of their spooled
files) framed as the JSON Lines reader frames the same lines
(:func:`mmcli.io.table_formats.records_columns`) and read by predict's
:class:`mmcli.api.reading.ChunkReader` (the ``--join`` side table joined, the bundle's columns
pinned, cleaned and decoded); records are built as predict builds them
(:func:`mmcli.api.predict.prediction_record` / ``error_record``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmcli import modalities
from mmcli.api.predict import error_record, prediction_record
from mmcli.api.reading import ChunkReader
from mmcli.api.row_issues import issue_dicts
from mmcli.config import PrepConfig, replace
from mmcli.data.roles import pin_roles
from mmcli.data.rows import Row
from mmcli.errors import CellError, UsageError
from mmcli.io.paths import resolve_path
from mmcli.io.table_formats import records_columns
from mmcli.io.tables import Chunk, Table
from mmcli.modalities import RECORD_MODALITIES, present_column
from mmcli.serve.files import file_suffix, spool
from mmcli.serve.requests import Inputs, LocalPath, RequestError, Upload

if TYPE_CHECKING:
    import numpy as np

    from mmcli.bundle import Bundle


def serving_prep(bundle: Bundle, join: str | Path | None = None) -> PrepConfig:
    """The bundle's reading settings for served rows: decoded in the request's thread, files
    only where the service put or checked them (uploads in its spool folder, local paths
    already resolved under ``--allow-paths``); the side table ``join`` (else the bundle's
    training ``--join``, as predict) joined to each request's rows by id.

    Raises:
        UsageError: the bundle reads images from ``--image-dir`` by id (rows cannot send them).
    """
    prep = bundle.config.prep
    if prep.image_dir is not None:
        raise UsageError(f"{bundle.folder} reads images from --image-dir by row id; serve "
                         "needs a bundle trained on an image column")
    return replace(prep, workers=1, image_root=None, allow_outside_root=True,
                   join=str(join) if join is not None else prep.join)


def serving_inputs(bundle: Bundle, *, joined: bool = False) -> Inputs:
    """The columns a served row may carry: those training read, by kind (``joined``: a side
    table is joined by id, so a row may carry the id alone)."""
    _, by_kind = pin_roles(bundle.roles, bundle.config.prep, [])
    files = {c: kind for kind, columns in by_kind.items() if modalities.get(kind).decodes
             for c in columns}
    values = tuple(c for kind, columns in by_kind.items() for c in columns if c not in files)
    identity = bundle.roles.get("id")
    return Inputs(files, values, identity if isinstance(identity, str) else None,
                  joined=joined)


def cells_of(rows: Sequence[dict[str, Any]], inputs: Inputs, spooled: list[Path],
             folder: Path, allow_paths: Path | None, *, prefix: str = "",
             form: bool = False) -> list[dict[str, Any]]:
    """The request's rows as JSON Lines objects: uploads checked and written to ``folder``
    as ``<prefix>-<row>-<cell><suffix>`` (appended to ``spooled``, the caller's to remove)
    and replaced by their paths, local paths checked under ``allow_paths``. Errors name
    ``rows[i].<column>``, or the field of a ``form``.

    Raises:
        RequestError: 422 an upload that is not a file of its kind; 403 a local path outside
            ``allow_paths``.
    """
    out = []
    for i, row in enumerate(rows):
        cells: dict[str, Any] = {}
        for j, (column, value) in enumerate(row.items()):
            field = column if form else f"rows[{i}].{column}"
            kind = inputs.file_columns.get(column, "")
            if isinstance(value, Upload):
                suffix = file_suffix(kind, value.data, field)
                path = spool(folder, f"{prefix}-{i}-{j}{suffix}", value.data)
                spooled.append(path)
                value = str(path)
            elif isinstance(value, LocalPath):
                value = _local(value.value, kind, field, allow_paths)
            cells[column] = value
        out.append(cells)
    return out


def table_rows(cells: Sequence[dict[str, Any]], reader: ChunkReader, root: Path) -> list[Row]:
    """Rows from :func:`cells_of` read as ``mmcli predict`` reads the same lines of a JSON
    Lines table (file paths relative to ``root``; the ``--join`` side table joined), cleaned
    and decoded, in order. ``reader`` reads each request as a table of its own and keeps
    the roles of each set of columns (a third of a one-row request's time).

    Raises:
        DataError: the rows do not make a table (e.g. two keys that differ only by spaces),
            or the side table shares no id column with them.
    """
    columns, values = records_columns(cells, "request")
    table = Table(tuple(columns), tuple(values), Path(root), "request", "", len(cells))
    return list(reader.read(Chunk(table, 1, {})).rows)


def shareable(cells: Sequence[dict[str, Any]], inputs: Inputs) -> bool:
    """Whether these rows read the same inside a table shared with other requests' rows:
    each has the id column (a row without one is numbered by its place in the table) and
    only the model's own columns (nothing left to detect by content)."""
    known = _known_columns(inputs)
    return inputs.id_column is not None and all(
        inputs.id_column in row and set(row) <= known for row in cells)


def _known_columns(inputs: Inputs) -> set[str]:
    """The model's input columns and the id (pinned by name). Not the label or split: unset
    for reading, a label column with an unusual name would be left to detection."""
    return {*inputs.columns, *([inputs.id_column] if inputs.id_column else [])}


def _local(value: str, kind: str, field: str, root: Path | None) -> str:
    """A row's local path, refused (403) when it leads outside ``root``; any other fault
    (missing, not a file) is left for the row path to report as predict does."""
    if root is None:
        raise RequestError(403, field, "local paths are not allowed; start the server with "
                                       "--allow-paths ROOT")
    try:
        resolve_path(value, root, what=kind or "file")
    except CellError as exc:
        if exc.reason == "outside_root":
            raise RequestError(403, field, f"outside the allowed folder ({exc})") from None
    return value


def usable(rows: Sequence[Row]) -> list[Row]:
    """The rows the model predicts (the others get an error record)."""
    return [row for row in rows if not row.rejected]


def records(rows: Sequence[Row], proba: np.ndarray, bundle: Bundle,
            top_k: int) -> list[dict[str, Any]]:
    """One record per row, as ``mmcli predict`` writes it, plus ``issues``: the row's
    rejects.csv lines as predict's ``--rejects`` writes them (:func:`issue_dicts`; an
    empty list when none); ``proba`` holds the usable rows' probabilities, in order
    ``(len(usable(rows)), classes)``."""
    task, labels = bundle.task, bundle.labels
    extra = [m for m in bundle.modalities if m not in RECORD_MODALITIES]
    out, position = [], 0
    for row in rows:
        if row.rejected:
            record = error_record(row, task)
        else:
            record = prediction_record(row, task.prediction(proba[position], labels, top_k))
            position += 1
        for name in extra:  # image_2_present ... after the usual fields, as predict does
            record[present_column(name)] = record["error"] is None and row.present(name)
        record["issues"] = issue_dicts(row.issues)
        out.append(record)
    return out
