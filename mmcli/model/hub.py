"""KerasHub presets as text encoders: where a preset is (offline first) and its parts.

A preset is a local folder (never the network) or a KerasHub name, looked up in the
kagglehub cache first; only a name not cached is downloaded, after a bounded check that
Kaggle can be reached, so a machine without network gets one line saying what to do.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import sys
import threading

from mmcli.errors import UsageError
from mmcli.registry import hub_preset

INSTALL = "pip install 'mmcli[hub]'"
HOST = ("www.kaggle.com", 443)  # where kagglehub downloads presets from
REACH_TIMEOUT = 5.0  # seconds to resolve and connect to HOST before giving up


def require_keras_hub(encoder: str) -> None:
    """Raises UsageError naming the install when the keras-hub package is missing."""
    if importlib.util.find_spec("keras_hub") is None:
        raise UsageError(f"--text-encoder {encoder} needs KerasHub: {INSTALL} "
                         "(or pip install keras-hub)")


def _cache_folder() -> str:
    return os.environ.get("KAGGLEHUB_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "kagglehub"))


def _cached(handle: str) -> str | None:
    """The kagglehub cache folder of ``kaggle://owner/model/framework/variation/version``
    when it holds a preset."""
    parts = handle.removeprefix("kaggle://").split("/")
    if len(parts) != 5:
        return None
    folder = os.path.join(_cache_folder(), "models", *parts)
    return folder if os.path.isfile(os.path.join(folder, "config.json")) else None


def _reachable(timeout: float = REACH_TIMEOUT) -> bool:
    """Whether HOST answers within ``timeout`` seconds, name resolution included (run in a
    daemon thread: a black-holed resolver cannot hold the run)."""
    result = []

    def probe():
        try:
            socket.create_connection(HOST, timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(result and result[0])


def resolve(encoder: str) -> str:
    """The local folder (or, when downloadable, the name) to load ``encoder`` from.

    Raises:
        UsageError: keras-hub missing, a folder without a preset, an unknown name, or a
            name neither cached nor downloadable.
    """
    preset = hub_preset(encoder)
    if preset is None:
        raise UsageError(f"--text-encoder {encoder} is not a KerasHub preset")
    require_keras_hub(encoder)
    if os.path.isdir(os.path.expanduser(preset)):
        folder = os.path.expanduser(preset)
        if not os.path.isfile(os.path.join(folder, "config.json")):
            raise UsageError(f"--text-encoder {encoder}: {folder} holds no preset "
                             "(no config.json; save one with save_to_preset)")
        return folder
    if os.sep in preset or preset.startswith((".", "~")):
        raise UsageError(f"--text-encoder {encoder}: no such preset folder {preset}")
    import keras_hub

    known = keras_hub.models.Backbone.presets
    if preset not in known:
        bert = sorted(n for n in known if n.startswith("bert_"))[:4]
        raise UsageError(f"--text-encoder {encoder}: unknown KerasHub preset {preset!r} "
                         f"(e.g. {', '.join(bert)}), or pass hub:/path/to/preset_folder")
    handle = known[preset]["kaggle_handle"]
    cached = _cached(handle)
    if cached:
        return cached
    if not _reachable():
        raise UsageError(
            f"--text-encoder {encoder}: preset {preset} is not in the kagglehub cache "
            f"({_cache_folder()}) and {HOST[0]} cannot be reached. Fix: on a connected "
            f"machine run keras_hub.models.Backbone.from_preset({preset!r}) and copy the "
            "cache, or save the preset with save_to_preset and pass hub:/path/to/folder"
        )
    return preset


def load_parts(encoder: str):
    """``(preprocessor, backbone)`` of the preset (the preprocessor a
    ``TextClassifierPreprocessor`` with the config's sequence length when it has one)."""
    where = resolve(encoder)
    import keras_hub

    try:  # a download's progress goes to stderr: stdout is for data
        with contextlib.redirect_stdout(sys.stderr):
            preprocessor = keras_hub.models.TextClassifierPreprocessor.from_preset(where)
            backbone = keras_hub.models.Backbone.from_preset(where)
    except Exception as exc:  # KerasHub raises ValueError/OSError/... for a bad preset
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"--text-encoder {encoder}: cannot load the preset: {text[:300]}") \
            from exc
    return preprocessor, backbone
