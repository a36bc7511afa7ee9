"""``mmcli inspect`` as a library call: a bundle's metadata, without TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmcli.bundle import describe_bundle, read_bundle


def inspect(bundle: str | Path, *, verify: bool = True) -> dict[str, Any]:
    """The metadata ``mmcli inspect`` prints (see :func:`mmcli.bundle.describe_bundle`).

    Raises:
        BundleError: not a bundle, unreadable or of another format; with ``verify``, a
            file whose SHA-256 does not match.
    """
    return describe_bundle(read_bundle(bundle, verify=verify))
