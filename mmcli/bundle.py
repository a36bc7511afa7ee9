"""The bundle folder written by train: model, metadata, history. Reading metadata never imports
TensorFlow; loading the model checks the signature (when there is one or a key is set), the
format version and the file hashes first.

What the SHA-256 hashes in ``bundle.json`` protect against: a file truncated, damaged or
changed by accident or by a naive edit, and a file missing. The files the bundle needs
(``layout.REQUIRED_BUNDLE_FILES``: the model, which holds the vocabularies and every
learned statistic) are checked whatever ``files`` lists. What they cannot protect against:
someone who rewrites a file and its hash in ``bundle.json``; for that, sign bundles with
``MMCLI_SIGNING_KEY`` (:mod:`mmcli.io.signature`). Either way, the model is loaded with
Keras' safe mode, so a model that carries code (a ``Lambda`` layer) is refused, not run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmcli import layout, registry
from mmcli.config import RunConfig
from mmcli.errors import BundleError, MmcliError
from mmcli.io.signature import check_signature, sign, signing_key
from mmcli.tasks import TASKS, Task, task_name

# Top-level keys of bundle.json (format 1) besides a task's own (``Task.state_keys``).
KEYS = (
    "format_version", "mmcli_version", "created", "labels", "modalities", "roles", "config",
    "data", "training", "validation", "head", "versions", "manifest", "files",
)
# Optional top-level keys: the ids of the validation rows training used (evaluate --split val
# scores them, --split train leaves them out); absent in bundles written before.
OPTIONAL_KEYS = ("validation_ids",)
CONFIG_SECTIONS = ("prep", "model", "train")
_OBJECTS = ("roles", "config", "data", "training", "validation", "head", "versions", "manifest",
            "files")


@dataclass(frozen=True)
class Bundle:
    """A bundle's metadata (``bundle.json``), parsed, and where it lives.

    ``meta`` is the document as read (what ``mmcli inspect`` prints); everything else reads the
    typed fields. ``task`` carries the task's trained state (multi-label thresholds ...).
    """

    folder: Path
    meta: Mapping[str, Any] = field(repr=False)
    mmcli_version: str
    created: str
    labels: tuple[str, ...]
    modalities: tuple[str, ...]
    config: RunConfig
    task: Task
    roles: Mapping[str, Any]
    data: Mapping[str, Any]
    training: Mapping[str, Any]
    validation: Mapping[str, Any]
    head: Mapping[str, Any]
    versions: Mapping[str, Any]
    manifest: Mapping[str, Any]
    files: Mapping[str, str]
    validation_ids: tuple[str, ...] | None = None  # None: not recorded (an older bundle)

    @property
    def image_size(self) -> int:
        return self.config.prep.image_size


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_meta(folder: Path, meta: dict[str, Any], *, key: bytes | None = None) -> None:
    """Write bundle.json with the format version and the SHA-256 of every other file, and
    ``bundle.sig`` when ``key`` is given (train passes ``MMCLI_SIGNING_KEY``)."""
    skip = {layout.BUNDLE_FILE, layout.SIGNATURE_FILE}
    files = {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix() not in skip
    }
    full = {"format_version": layout.BUNDLE_FORMAT, **meta, "files": files}
    (folder / layout.BUNDLE_FILE).write_text(json.dumps(full, indent=2), encoding="utf-8")
    if key is not None:
        sign(folder, key)


def read_bundle(folder: str | Path, *, verify: bool = True) -> Bundle:
    """Read, parse and check a bundle's metadata, without TensorFlow.

    With ``verify`` (the default; only ``inspect --no-verify`` turns it off), the signature
    is checked first against ``MMCLI_SIGNING_KEY`` (:func:`~mmcli.io.signature.check_signature`),
    then every file ``files`` lists and every required file is hashed.

    Raises:
        BundleError: not a bundle, unreadable metadata, a newer format, a missing or unknown
            key (:func:`parse_meta`), or (with ``verify``) a refused signature, a required
            file missing or not listed, or a missing, truncated or changed file.
    """
    folder = Path(folder)
    meta_path = folder / layout.BUNDLE_FILE
    if not folder.is_dir():
        raise BundleError(f"bundle not found: {folder}")
    if not meta_path.is_file():
        raise BundleError(f"{folder} is not an mmcli bundle (no {layout.BUNDLE_FILE})")
    if verify:
        check_signature(folder, signing_key())
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{meta_path}: unreadable bundle metadata ({exc})") from exc
    written_by = meta.get("mmcli_version", "unknown") if isinstance(meta, dict) else "unknown"
    layout.check_format(meta, layout.BUNDLE_FORMAT, BundleError, str(folder), "bundle",
                        f"use the mmcli version that wrote it ({written_by})")
    bundle = parse_meta(folder, meta)
    if verify:
        _verify_files(folder, bundle.files)
    return bundle


def parse_meta(folder: Path, meta: dict[str, Any]) -> Bundle:
    """The :class:`Bundle` of a bundle.json document of the current format.

    Raises:
        BundleError: a top-level key missing or unknown, a value of the wrong type, a config
            that :meth:`RunConfig.from_dict` rejects, or task state that does not fit.
    """
    where = folder / layout.BUNDLE_FILE

    def bad(message: str) -> BundleError:
        return BundleError(f"{where}: {message}")

    def require(keys) -> None:
        missing = [k for k in keys if k not in meta]
        if missing:
            raise bad(f"bundle metadata lacks {', '.join(map(repr, missing))}")

    require(KEYS)
    config = meta["config"]
    if not isinstance(config, dict) or sorted(config) != sorted(CONFIG_SECTIONS):
        raise bad(f"bundle metadata 'config' must have exactly {', '.join(CONFIG_SECTIONS)}")
    try:
        run = RunConfig.from_dict(config)
    except (MmcliError, TypeError, ValueError) as exc:
        raise bad(f"bad config in bundle metadata: {exc}") from exc
    kind = TASKS[task_name(run.train)]
    expected = (*KEYS, *OPTIONAL_KEYS, *kind.state_keys)
    require(kind.state_keys)
    unknown = sorted(set(meta) - set(expected))
    if unknown:
        raise bad(f"unknown key(s) {', '.join(map(repr, unknown))} in bundle metadata; "
                  f"known: {', '.join(expected)}")
    for key in _OBJECTS:
        if not isinstance(meta[key], dict):
            raise bad(f"bundle metadata {key!r} must be an object")
    for key in ("mmcli_version", "created"):
        if not isinstance(meta[key], str):
            raise bad(f"bundle metadata {key!r} must be a string")
    for key in ("labels", "modalities"):
        if not isinstance(meta[key], list) or not all(isinstance(v, str) for v in meta[key]):
            raise bad(f"bundle metadata {key!r} must be a list of strings")
    labels = tuple(meta["labels"])
    ids = meta.get("validation_ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        raise bad("bundle metadata 'validation_ids' must be a list of strings")
    try:
        task = kind.from_bundle(run.train, labels, {k: meta[k] for k in kind.state_keys})
    except ValueError as exc:
        raise bad(f"bad task state in bundle metadata: {exc}") from exc
    return Bundle(
        folder=folder, meta=meta, mmcli_version=meta["mmcli_version"], created=meta["created"],
        labels=labels, modalities=tuple(meta["modalities"]), config=run, task=task,
        roles=meta["roles"], data=meta["data"], training=meta["training"],
        validation=meta["validation"], head=meta["head"], versions=meta["versions"],
        manifest=meta["manifest"], files=meta["files"],
        validation_ids=tuple(ids) if ids is not None else None,
    )


def _verify_files(folder: Path, files: Mapping[str, Any]) -> None:
    unlisted = [name for name in layout.REQUIRED_BUNDLE_FILES if name not in files]
    if unlisted:
        raise BundleError(f"{folder}: bundle.json records no SHA-256 for {', '.join(unlisted)}, "
                          "which the bundle needs; retrain or copy the bundle again")
    for name, expected in files.items():
        parts = Path(name).parts
        if not isinstance(expected, str) or Path(name).is_absolute() or ".." in parts:
            raise BundleError(f"{folder}: bad entry {name!r} in bundle.json 'files'")
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

    encoder = bundle.config.model.text_encoder
    if registry.hub_preset(encoder) is not None:  # its layers are KerasHub's
        from mmcli.model.hub import require_keras_hub

        require_keras_hub(encoder)
        import keras_hub  # noqa: F401  (registers the KerasHub classes)

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
        for name, digest in bundle.files.items()
    }
    return {"bundle": str(bundle.folder), **meta}
