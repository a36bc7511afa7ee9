"""Rows to Arrow without pandas (``mmcli.io.arrow_table``): the table ``from_pylist`` builds.

No TensorFlow. examples.parquet is written with it, so its cells must be exactly what
pyarrow's own conversion gives, nulls, empty strings and non-ASCII text included.
"""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from mmcli.io.arrow_table import column_array, records_table

SCHEMA = pa.schema([("row", pa.int64()), ("id", pa.string()), ("label", pa.string()),
                    ("score", pa.float64()), ("image_present", pa.bool_())])
RECORDS = [
    {"row": 1, "id": "007", "label": "cat", "score": 0.25, "image_present": True},
    {"row": 2, "id": "", "label": None, "score": None, "image_present": False},
    {"row": 3, "id": "caf\u00e9 \U0001f431", "label": "\u732b", "score": -1e300,
     "image_present": None},
    {"row": 4, "id": "x" * 70, "image_present": True},  # absent keys are null
]


@pytest.mark.parametrize("count", [0, 1, 4])
def test_records_become_the_table_from_pylist_builds(count):
    records = (RECORDS * 3)[:count * 3] if count else []
    ours = records_table(records, SCHEMA)
    assert ours.schema == SCHEMA
    assert ours.equals(pa.Table.from_pylist(records, SCHEMA))
    assert ours.to_pylist() == [{f.name: r.get(f.name) for f in SCHEMA} for r in records]
    ours.validate(full=True)


def test_a_column_without_nulls_has_no_validity_bitmap():
    array = column_array(["a", "bc"], pa.string())
    assert array.null_count == 0 and array.buffers()[0] is None
    assert array.equals(pa.array(["a", "bc"], pa.string()))


def test_a_value_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="expected a str"):
        column_array(["a", 3], pa.string())
    with pytest.raises(TypeError, match="unsupported"):
        column_array([1], pa.int32())


def test_building_the_table_never_imports_pandas():
    code = ("import sys, pyarrow as pa\n"
            "from mmcli.io.arrow_table import records_table\n"
            "t = records_table([{'a': 'x', 'n': 1}], pa.schema([('a', pa.string()),\n"
            "                                                   ('n', pa.int64())]))\n"
            "print(t.num_rows, 'pandas' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["1", "False"]
