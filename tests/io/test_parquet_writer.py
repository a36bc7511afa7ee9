"""mmcli.io.parquet_writer writes the bytes pyarrow.parquet.ParquetWriter writes."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmcli.io.arrow_table import records_table
from mmcli.io.parquet_writer import ParquetFile

SCHEMA = pa.schema([("row", pa.int64()), ("id", pa.string()), ("score", pa.float64()),
                    ("text_present", pa.bool_())])


def _batches() -> list[pa.Table]:
    records = [{"row": i, "id": f"r{i}" if i % 7 else None, "score": i / 3 if i % 5 else None,
                "text_present": bool(i % 2)} for i in range(1, 2500)]
    return [records_table(records[i:i + 1000], SCHEMA) for i in range(0, len(records), 1000)]


class _Changed:
    """A pyarrow whose private writer takes other arguments."""

    @staticmethod
    def ParquetWriter(*args, **kwargs):  # noqa: N802 - pyarrow's name
        raise TypeError("__init__() got an unexpected keyword argument 'version'")


@pytest.mark.parametrize("private", ["as is", "absent", "changed"])
def test_same_bytes_as_pyarrow_parquet(tmp_path, monkeypatch, private):
    """Through pyarrow's Cython writer, or (another pyarrow without it, or where it takes
    other arguments) its public one."""
    if private != "as is":
        monkeypatch.setattr("mmcli.io.parquet_writer._parquet",
                            None if private == "absent" else _Changed)
    with pq.ParquetWriter(tmp_path / "theirs.parquet", SCHEMA) as theirs, \
            ParquetFile(tmp_path / "ours.parquet", SCHEMA) as ours:
        for batch in _batches():
            theirs.write_table(batch)
            ours.write_table(batch)
        ours.write_table(records_table([], SCHEMA))  # an empty last batch, as write_rows ends
        theirs.write_table(records_table([], SCHEMA))
    assert (tmp_path / "ours.parquet").read_bytes() == (tmp_path / "theirs.parquet").read_bytes()
    read = pq.read_table(tmp_path / "ours.parquet")
    assert read.num_rows == 2499 and read.schema.equals(SCHEMA, check_metadata=False)
    assert read.column("id").null_count == 2499 // 7


def test_a_table_of_another_schema_is_refused(tmp_path):
    other = pa.table({"row": pa.array([1], pa.int64())})
    with ParquetFile(tmp_path / "x.parquet", SCHEMA) as ours, \
            pytest.raises(ValueError, match="schema"):
        ours.write_table(other)
    assert pq.read_table(tmp_path / "x.parquet").num_rows == 0  # closed whole, no rows
