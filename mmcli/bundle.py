"""The bundle folder written by train: model, metadata, history. Reading metadata never imports
TensorFlow; loading the model checks format version and file hashes first."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmcli import layout
from mmcli.errors import BundleError


@dataclass(frozen=True)
class Bundle:
    """A bundle's metadata (``bundle.json``) and where it lives."""

    folder: Path
    meta: dict[str, Any]

    @property
    def labels(self) -> list[str]:
        return list(self.meta["labels"])

    @property
    def modalities(self) -> list[str]:
        return list(self.meta["modalities"])

    @property
    def image_size(self) -> int:
        return int(self.meta["config"]["prep"]["image_size"])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    """Write bundle.json with the format version and the SHA-256 of every other file."""
    files = {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != layout.BUNDLE_FILE
    }
    full = {"format_version": layout.BUNDLE_FORMAT, **meta, "files": files}
    (folder / layout.BUNDLE_FILE).write_text(json.dumps(full, indent=2), encoding="utf-8")


def read_bundle(folder: str | Path, *, verify: bool = True) -> Bundle:
    """Read and check a bundle's metadata, without TensorFlow.

    Raises:
        BundleError: not a bundle, unreadable metadata, a newer format, or (with ``verify``)
            a missing, truncated or changed file.
    """
    folder = Path(folder)
    meta_path = folder / layout.BUNDLE_FILE
    if not folder.is_dir():
        raise BundleError(f"bundle not found: {folder}")
    if not meta_path.is_file():
        raise BundleError(f"{folder} is not an mmcli bundle (no {layout.BUNDLE_FILE})")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{meta_path}: unreadable bundle metadata ({exc})") from exc
    if not isinstance(meta, dict):
        raise BundleError(f"{meta_path}: bundle metadata is not a JSON object")
    version = meta.get("format_version")
    if version != layout.BUNDLE_FORMAT:
        raise BundleError(
            f"{folder}: bundle format {version} cannot be read by this mmcli, which reads "
            f"format {layout.BUNDLE_FORMAT}; use the mmcli version that wrote it "
            f"({meta.get('mmcli_version', 'unknown')})"
        )
    for key in ("labels", "modalities", "config", "files"):
        if key not in meta:
            raise BundleError(f"{meta_path}: bundle metadata lacks {key!r}")
    if verify:
        _verify_files(folder, meta["files"])
    return Bundle(folder, meta)


def _verify_files(folder: Path, files: dict[str, str]) -> None:
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise BundleError(f"{folder}: bundle file {name} is missing")
        if file_sha256(path) != expected:
            raise BundleError(
                f"{folder}: bundle file {name} does not match its recorded SHA-256 "
                "(truncated or modified); retrain or copy the bundle again"
            )


def load_model(bundle: Bundle):
    """Load the Keras model with ``safe_mode`` (no arbitrary code)."""
    from mmcli.model.backend import import_keras

    keras = import_keras()
    import mmcli.model.layers  # noqa: F401  (registers the custom layers)

    try:
        return keras.models.load_model(bundle.folder / layout.MODEL_FILE, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a damaged file
        raise BundleError(f"{bundle.folder}: cannot load {layout.MODEL_FILE}: {exc}") from exc


def describe_bundle(bundle: Bundle) -> dict[str, Any]:
    """The metadata ``mmcli inspect`` prints: bundle.json, plus the folder and each file's size
    and SHA-256 under ``files``."""
    meta = dict(bundle.meta)
    meta["files"] = {
        name: {
            "sha256": digest,
            "bytes": (bundle.folder / name).stat().st_size
            if (bundle.folder / name).is_file()
            else None,
        }
        for name, digest in bundle.meta["files"].items()
    }
    return {"bundle": str(bundle.folder), **meta}
