"""The part every file-backed kind shares (image, audio): a cell names a file under the data
root; the path is checked while rows are planned (missing, outside the root: never opened,
not a regular file), the file is decoded in worker processes into one fixed-shape array, and
the arrays are stored in ``.npy`` shards. A kind says only what differs: its decoder, its
array's shape and dtype, its file suffixes and its shard folder.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from mmcli.modalities.base import Fault, Job, Modality, Outcome, Ready, ShardSpec, TableContext

if TYPE_CHECKING:
    from mmcli.config import PrepConfig


class FileModality(Modality):
    """A file per row, decoded once into an array (absent: no path, or a file that cannot be
    used).

    Attributes:
        suffixes: file name endings (lower case) that mark a column of this kind.
        shard_folder: the prepared dataset's folder of the first modality's shards (a second
            modality ``<kind>_2`` stores in ``<shard_folder>_2``).
    """

    decodes: ClassVar[bool] = True
    suffixes: ClassVar[tuple[str, ...]] = ()
    shard_folder: ClassVar[str]
    # the module doing the decoder's work (its class's, or the decoder's ``preload``), named
    # so the decoding pool's fork server can start importing it before this process makes a
    # decoder (None: found by making the decoder)
    decoder_module: ClassVar[str | None] = None

    @abstractmethod
    def decoder(self, config: PrepConfig) -> Callable[[str], Any]:
        """The picklable decoder of one file (``decoder(path)`` returns the array, or a
        :class:`~mmcli.io.decode.Noted` one, or raises :class:`~mmcli.errors.CellError`).

        Raises:
            UsageError: the settings cannot decode anything (e.g. a size below 1).
        """

    def match_score(self, values: Sequence[str]) -> float | None:
        """Most of the first 50 values end in one of the kind's ``suffixes``."""
        head = [value.lower() for value in values[:50]]
        hits = sum(value.endswith(self.suffixes) for value in head)
        return 1.0 if head and hits / len(head) > 0.8 else None

    def preparer(self, context: TableContext) -> Callable[[Sequence[Any], str, bool], Outcome]:
        """Path cells: ``missing`` when empty; nothing opened for a rejected row; else the
        path resolved under the data root (:class:`mmcli.io.paths.FileResolver`: a
        ``Fault`` with its reason) and a decoding :class:`Job`."""
        from mmcli.data.clean import is_missing

        resolve = self.path_resolver(context)
        absent = f"no {self.kind} path"

        def prepare(cells: Sequence[Any], row_id: str, rejected: bool) -> Outcome:
            cell = cells[0]
            if type(cell) is str:  # the common cell, is_missing and str() short-cut
                value = cell.strip()
                if not value:
                    return Fault("missing", absent)
            elif is_missing(cell):
                return Fault("missing", absent)
            else:
                value = str(cell).strip()
            return Ready(None) if rejected else resolve(value)

        return prepare

    def path_resolver(self, context: TableContext) -> Callable[[str], Outcome]:
        """A callable from a cell's path text to a decoding :class:`Job` or a path
        :class:`Fault` (``outside_root``, ``missing``, ``not_a_file``, ``unreadable``)."""
        from mmcli.errors import CellError
        from mmcli.io.paths import FileResolver

        config = context.config
        decoder = self.decoder(config)
        resolver = FileResolver(context.root, what=self.kind,
                                allow_outside_root=config.allow_outside_root)

        def resolve(value: str) -> Outcome:
            try:
                path = resolver.resolve(value)
            except CellError as exc:
                return Fault(exc.reason, str(exc))
            return Job(decoder, path)

        return resolve

    def shard_spec(self, name: str, config: PrepConfig) -> ShardSpec:
        shape, dtype = self.input_spec(config)
        return ShardSpec(self.shard_folder + name[len(self.kind):], shape, dtype)

    def file_references(self, columns: Sequence[Sequence[Any]],
                        context: TableContext) -> Iterator[str]:
        """Each file's resolved path, size and mtime (or why it cannot be used)."""
        from mmcli.data.clean import is_missing
        from mmcli.errors import CellError
        from mmcli.io.paths import resolve_path

        root, config = context.root, context.config
        for cell in (cell for cells in columns for cell in cells):
            if is_missing(cell):
                yield ""
                continue
            try:
                path = resolve_path(str(cell).strip(), root, what=self.kind,
                                    allow_outside_root=config.allow_outside_root)
                info = path.stat()
            except CellError as exc:
                yield f"{cell}: {exc.reason}"
                continue
            except OSError as exc:
                yield f"{cell}: {exc.strerror}"
                continue
            yield f"{path}\t{info.st_size}\t{info.st_mtime_ns}"
