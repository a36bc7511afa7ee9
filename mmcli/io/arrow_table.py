"""Python rows as an Arrow table without pandas: what ``pa.Table.from_pylist`` gives.

pyarrow converts a Python list (``pa.array``, ``Table.from_pylist``) only after asking
whether it is a pandas object, and that question imports pandas (0.3-0.5 s of start-up in
``mmcli preprocess``, which otherwise never needs it). Here each column's Arrow buffers are
built with NumPy (validity bitmap, offsets, values) and wrapped with
``pa.Array.from_buffers``, for the four types the prepared dataset's ``examples.parquet``
uses (``string``, ``int64``, ``float64``, ``bool``). The table equals the one
``from_pylist(records, schema)`` builds (``tests/io/test_arrow_table.py``).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_MAX_OFFSET = 2**31 - 1  # an Arrow ``string`` array's offsets are int32


def records_table(records: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """``records`` (dicts; an absent key or None is null) as a table of ``schema``.

    Raises:
        TypeError: a string column's value that is not a str.
        ValueError: a string column's text over 2 GiB in one batch, a number column's value
            that is no number.
    """
    import pyarrow as pa

    arrays = [column_array(_cells(records, f.name), f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _cells(records: Sequence[Mapping[str, Any]], name: str) -> list:
    """Each record's value under ``name`` (None where it has none)."""
    try:
        return list(map(operator.itemgetter(name), records))  # every record has it (usual)
    except KeyError:
        return [r.get(name) for r in records]


def column_array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """One column's values (None: null) as an Arrow array of type ``kind`` (string, int64,
    float64 or bool).

    Raises:
        TypeError: a string column's value that is not a str, or an unsupported ``kind``.
        ValueError: more than 2 GiB of text, a value that is no number in a number column.
    """
    import numpy as np
    import pyarrow as pa

    count = len(values)
    present = np.fromiter(map(operator.is_not, values, itertools.repeat(None, count)),
                          dtype=bool, count=count)
    nulls = count - int(present.sum())
    validity = _bits(present) if nulls else None
    if pa.types.is_string(kind):
        encoded = _encoded(values) if not nulls else None
        if encoded is None:  # a null, or a value that is no str: one at a time
            encoded = [b"" if v is None else _utf8(v) for v in values]
        offsets = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=count), out=offsets[1:])
        if offsets[-1] > _MAX_OFFSET:
            raise ValueError("more than 2 GiB of text in one batch of examples")
        buffers = [validity, pa.py_buffer(offsets.astype(np.int32)),
                   pa.py_buffer(b"".join(encoded))]
    elif pa.types.is_boolean(kind):
        flags = np.fromiter(values if not nulls else (_typed(v, bool) for v in values),
                            dtype=bool, count=count)
        buffers = [validity, _bits(flags)]
    elif pa.types.is_int64(kind) or pa.types.is_float64(kind):
        python = int if pa.types.is_int64(kind) else float
        dtype = np.int64 if python is int else np.float64
        numbers = np.fromiter(values if not nulls else (_typed(v, python) for v in values),
                              dtype=dtype, count=count)
        buffers = [validity, pa.py_buffer(numbers)]
    else:
        raise TypeError(f"unsupported Arrow type {kind} (string, int64, float64 or bool)")
    return pa.Array.from_buffers(kind, count, buffers, null_count=nulls)


def _bits(flags) -> Any:
    """A NumPy bool array as an Arrow bitmap (least significant bit first)."""
    import numpy as np
    import pyarrow as pa

    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def _encoded(values: Sequence[Any]) -> list[bytes] | None:
    """Every value UTF-8 encoded when all are str (one C loop), else None."""
    try:
        return list(map(str.encode, values))
    except TypeError:
        return None


def _utf8(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"expected a str in a string column, got {type(value).__name__}")
    return value.encode("utf-8")


def _typed(value: Any, python: type) -> Any:
    """``value`` for a ``python`` (int, float, bool) column; None (null) as its zero (NumPy
    converts the rest as it converts any number)."""
    return python() if value is None else value
