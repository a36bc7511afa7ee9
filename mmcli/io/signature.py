"""An optional HMAC signature of a bundle, keyed by ``MMCLI_SIGNING_KEY``.

The signature is ``bundle.sig``: ``hmac-sha256:<hex>`` of the exact bytes of ``bundle.json``.
bundle.json records the SHA-256 of every other file (``model.keras`` always among them), so
one signature covers the whole bundle. SHA-256 alone only catches accidental or naive
changes (anyone who rewrites a file can rewrite its hash too); the HMAC cannot be redone
without the key.

What a reader does (:func:`check_signature`), with the key set or not:

| key set | bundle.sig | result                                        |
|---------|------------|-----------------------------------------------|
| yes     | matches    | accepted                                      |
| yes     | differs    | refused: wrong key, or bundle.json changed    |
| yes     | absent     | refused: an unsigned bundle where signed ones are expected |
| no      | present    | refused: the signature could not be checked   |
| no      | absent     | accepted (hashes only)                        |

Refusals are :class:`~mmcli.errors.BundleError` (exit code 4).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

from mmcli import layout
from mmcli.errors import BundleError

ENV_KEY = "MMCLI_SIGNING_KEY"
_SCHEME = "hmac-sha256:"


def signing_key(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The key from ``MMCLI_SIGNING_KEY`` (UTF-8 bytes), or None when unset or empty."""
    value = (os.environ if environ is None else environ).get(ENV_KEY, "")
    return value.encode("utf-8") if value else None


def signature_of(meta_bytes: bytes, key: bytes) -> str:
    """``hmac-sha256:<64 hex digits>`` of ``meta_bytes``."""
    return _SCHEME + hmac.new(key, meta_bytes, hashlib.sha256).hexdigest()


def sign(folder: Path, key: bytes) -> None:
    """Write ``folder/bundle.sig`` for the ``bundle.json`` already in ``folder``."""
    meta = (Path(folder) / layout.BUNDLE_FILE).read_bytes()
    (Path(folder) / layout.SIGNATURE_FILE).write_text(signature_of(meta, key) + "\n",
                                                      encoding="ascii")


def check_signature(folder: Path, key: bytes | None) -> bool:
    """Check ``folder``'s signature against ``key`` (see the table above).

    Returns:
        True when the bundle is signed and the signature matches, False when it is unsigned
        and no key is set.

    Raises:
        BundleError: any of the refusals in the table.
    """
    folder = Path(folder)
    sig_path = folder / layout.SIGNATURE_FILE
    if not sig_path.exists():
        if key is not None:
            raise BundleError(f"{folder}: the bundle is not signed ({layout.SIGNATURE_FILE} "
                              f"is missing) but {ENV_KEY} is set; only signed bundles are read")
        return False
    if key is None:
        raise BundleError(f"{folder}: the bundle is signed ({layout.SIGNATURE_FILE}) but "
                          f"{ENV_KEY} is not set, so its signature cannot be checked")
    try:
        recorded = sig_path.read_text(encoding="ascii").strip()
        meta = (folder / layout.BUNDLE_FILE).read_bytes()
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{sig_path}: unreadable signature ({exc})") from exc
    if not hmac.compare_digest(recorded.encode("ascii"), signature_of(meta, key).encode()):
        raise BundleError(f"{folder}: the bundle's signature does not match (signed with "
                          f"another {ENV_KEY}, or bundle.json was changed after signing)")
    return True
