"""How a table's cells will be decoded: in this process or in a pool of worker processes
(:func:`mmcli.io.decode.decode_workers`), and the pool's fork server started early."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from mmcli import modalities
from mmcli.io.decode import decode_workers

if TYPE_CHECKING:
    from mmcli.config import PrepConfig
    from mmcli.data.roles import Roles
    from mmcli.io.tables import Table


def workers_for(table: Table, roles: Roles, config: PrepConfig) -> int:
    """The decoding processes for the table: 1 (this process) below ``IN_PROCESS_BELOW``
    cells to decode (every cell of every decoding modality counted), else ``--workers``."""
    decoding = [m for m in roles.modalities if modalities.modality_of(m).decodes]
    return decode_workers(len(table) * len(decoding), config.workers)


def early_server(table: Table, roles: Roles, config: PrepConfig) -> Any:
    """A context in which the fork server of the coming decoding pool starts now, its
    decoders' modules imported while this process plans rows
    (:func:`mmcli.io.server.start_server`); nothing for a table decoded in this process (a
    small table pays nothing)."""
    if workers_for(table, roles, config) <= 1:
        return contextlib.nullcontext()
    from mmcli.io.server import start_server

    found = set()
    for name in roles.modalities:
        kind = modalities.modality_of(name)
        if not kind.decodes:
            continue
        module = getattr(kind, "decoder_module", None)  # named: not imported here first
        if module is None and hasattr(kind, "decoder"):
            try:
                module = type(kind.decoder(config)).__module__
            except Exception:  # noqa: BLE001 - bad settings are reported where rows decode
                continue
        if module is not None:
            found.add(module)
    return start_server(sorted(found))
