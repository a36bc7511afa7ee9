"""A Parquet file written table by table, as ``pyarrow.parquet.ParquetWriter(path, schema)``
writes it, without importing ``pyarrow.parquet``.

``pyarrow.parquet`` is a Python layer over the Cython writer (``pyarrow._parquet``); importing
it also imports ``pyarrow.fs`` (every filesystem binding: S3, GCS, Azure, HDFS), ``ssl`` and
the dataset helpers, 0.013 CPU s of every ``mmcli preprocess`` (measured on the 2-core
machine), to resolve a local path. :class:`ParquetFile` gives the Cython writer the settings
that layer gives it by default (the others are the Cython writer's own defaults, the same),
so the file is byte for byte the one ``pyarrow.parquet`` writes
(``tests/io/test_parquet_writer.py`` compares them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

try:  # private: a pyarrow without it (or with another signature) gets pyarrow.parquet's
    from pyarrow import _parquet
except ImportError:
    _parquet = None

# What pyarrow.parquet.ParquetWriter passes where the Cython writer's default differs
# (pyarrow/parquet/core.py, ParquetWriter.__init__)
DEFAULTS: dict[str, Any] = {
    "version": "2.6",
    "compression": "snappy",
    "use_dictionary": True,
    "write_statistics": True,
    "writer_engine_version": "V2",
    "data_page_version": "1.0",
}


class ParquetFile:
    """A Parquet file at ``path`` with ``schema``, open for :meth:`write_table` until
    :meth:`close` (or the end of a ``with`` block, an exception included: the file is then
    whole but holds only the tables written)."""

    def __init__(self, path: Path | str, schema: pa.Schema):
        self.schema = schema
        self._writer = None
        if _parquet is not None:
            try:
                self._writer = _parquet.ParquetWriter(str(path), schema, **DEFAULTS)
            except (TypeError, AttributeError):  # another pyarrow's private signature
                self._writer = None
        if self._writer is None:  # the public writer: the same file, more imports
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(path, schema)
        self._open = True

    def write_table(self, table: pa.Table) -> None:
        """Append ``table`` as one row group (at most 1024 * 1024 rows each).

        Raises:
            ValueError: ``table``'s schema is not the file's (metadata aside).
        """
        if not table.schema.equals(self.schema, check_metadata=False):
            raise ValueError(f"table schema {table.schema} is not the file's {self.schema}")
        self._writer.write_table(table, row_group_size=None)  # both writers take it

    def close(self) -> None:
        """Write the footer and close the file (once)."""
        if self._open:
            self._open = False
            self._writer.close()

    def __enter__(self) -> ParquetFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
