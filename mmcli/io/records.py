"""Writing prediction records as CSV, JSON Lines or a JSON array, one record at a time."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from typing import Any, TextIO

from mmcli.errors import UsageError

RECORD_FORMATS = ("jsonl", "csv", "json")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_records(records: Iterable[dict[str, Any]], stream: TextIO, fmt: str) -> int:
    """Write records to ``stream`` as they come; returns how many were written.

    In CSV, nested values (dicts, lists) are JSON-encoded in their cell and the header is the
    first record's keys.
    """
    if fmt not in RECORD_FORMATS:
        raise UsageError(
            f"Unknown output format {fmt!r}. Choose one of: {', '.join(RECORD_FORMATS)}"
        )
    count = 0
    writer = None
    if fmt == "json":
        stream.write("[")
    for record in records:
        if fmt == "jsonl":
            stream.write(json.dumps(record, ensure_ascii=False, default=_clean) + "\n")
        elif fmt == "json":
            stream.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        else:
            if writer is None:
                writer = csv.DictWriter(stream, fieldnames=list(record), extrasaction="ignore")
                writer.writeheader()
            writer.writerow(
                {
                    k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                    for k, v in record.items()
                }
            )
        count += 1
        stream.flush()
    if fmt == "json":
        stream.write("\n]\n" if count else "]\n")
    return count
