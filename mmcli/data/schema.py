"""``schema.json`` of a prepared dataset, parsed once into a typed :class:`Schema`.

Written by preprocess (and the cache), read by train and evaluate: nothing else looks keys
up in the JSON. The file keeps format 1's layout; :meth:`Schema.from_dict` checks the
format version and every key, so a damaged or foreign file is a :class:`DataError` (exit 3).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mmcli import layout
from mmcli.config import PrepConfig
from mmcli.errors import DataError, UsageError


@dataclass(frozen=True)
class Schema:
    """What a prepared dataset holds and how it was made.

    ``roles`` is the report of which column plays which role (see
    :meth:`mmcli.data.roles.Roles.to_dict`); ``modalities`` are in model order; ``labels``
    are in index order; the counts are those of the preprocess summary.
    """

    table: str
    sha256: str
    roles: dict[str, Any]
    modalities: tuple[str, ...]
    labels: tuple[str, ...]
    prep: PrepConfig
    shard_rows: int
    rows: int
    kept: int
    masked: int
    rejected: int
    issues: dict[str, int]
    class_counts: dict[str, int]
    split_counts: dict[str, int]
    warnings: tuple[str | dict[str, Any], ...] = ()  # a line, or a modality_lost object
    join: dict[str, Any] | None = field(default=None)
    part: dict[str, int] | None = None  # preprocess --shard I/N: {"index": I, "of": N}

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of schema.json (and of preprocess' summary)."""
        data: dict[str, Any] = {
            "format_version": layout.DATASET_FORMAT,
            "source": {"table": self.table, "sha256": self.sha256},
            "roles": self.roles,
            "modalities": list(self.modalities),
            "labels": list(self.labels),
            "prep": dataclasses.asdict(self.prep),
            "shard_rows": self.shard_rows,
        }
        for name in ("rows", "kept", "masked", "rejected", "issues", "class_counts",
                     "split_counts"):
            data[name] = getattr(self, name)
        data["warnings"] = list(self.warnings)
        if self.join is not None:
            data["join"] = self.join
        if self.part is not None:
            data["part"] = self.part
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "schema.json") -> Schema:
        """Parse schema.json's contents.

        Raises:
            DataError: another format version, a missing or unknown key, or a bad value.
        """
        layout.check_format(data, layout.DATASET_FORMAT, DataError, where, "prepared dataset",
                            "run mmcli preprocess again")
        known = {"format_version", "source"} | {f.name for f in dataclasses.fields(cls)}
        known -= {"table", "sha256"}
        required = known - {"warnings", "join", "part"}
        missing, unknown = sorted(required - set(data)), sorted(set(data) - known)
        if missing or unknown:
            what = "; ".join(filter(None, [
                missing and f"missing key(s) {', '.join(missing)}",
                unknown and f"unknown key(s) {', '.join(unknown)}",
            ]))
            raise DataError(f"{where}: {what}; run mmcli preprocess again")
        try:
            source = data["source"]
            return cls(
                table=str(source["table"]), sha256=str(source["sha256"]), roles=data["roles"],
                modalities=tuple(data["modalities"]), labels=tuple(data["labels"]),
                prep=PrepConfig.from_dict(data["prep"]), shard_rows=int(data["shard_rows"]),
                rows=data["rows"], kept=data["kept"], masked=data["masked"],
                rejected=data["rejected"], issues=dict(data["issues"]),
                class_counts=dict(data["class_counts"]),
                split_counts=dict(data["split_counts"]),
                warnings=tuple(data.get("warnings", ())), join=data.get("join"),
                part=data.get("part"),
            )
        except (KeyError, TypeError, ValueError, UsageError) as exc:
            raise DataError(f"{where}: bad value ({exc}); run mmcli preprocess again") from exc
