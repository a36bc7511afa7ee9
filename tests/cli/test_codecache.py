"""The console script's cache of the code dataclasses and namedtuples generate
(mmcli.cli.codecache): written once, read after, ignored when unsafe or broken, and the
classes behave as without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mmcli.cli import codecache
from mmcli.data.cache import cache_root

CLASSES = """
import collections, dataclasses, json, sys
from mmcli.cli import codecache
installed = codecache.install()

@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: str = "b"

Pair = collections.namedtuple("Pair", "left right")
try:
    Point(1).x = 2
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
print(json.dumps([installed, repr(Point(1)), Point(1) == Point(1, "b"), hash(Point(1)) ==
                  hash(Point(1, "b")), frozen, repr(Pair(1, 2)), len(codecache._NEW)]))
"""


def _env(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != codecache.SWITCH_ENV}
    return {**env, "MMCLI_CACHE_DIR": str(cache), **extra}


def _classes(cache: Path, **extra: str) -> list:
    done = subprocess.run([sys.executable, "-c", CLASSES], capture_output=True, text=True,
                          env=_env(cache, **extra), check=True)
    return json.loads(done.stdout)


def _file(cache: Path, command: str = "other") -> Path:
    env = _env(cache)
    done = subprocess.run([sys.executable, "-c", "from mmcli.cli import codecache; "
                           f"print(codecache.cache_file({command!r}))"], capture_output=True,
                          text=True, env=env, check=True)
    return Path(done.stdout.strip())


def test_written_once_then_read_and_the_classes_behave_the_same(tmp_path):
    cache = tmp_path / "cache"
    first = _classes(cache)
    path = _file(cache)
    assert path.parent == cache / "startup" and path.exists()
    assert path.stat().st_mode & 0o777 == 0o600
    assert first[0] is True and first[-1] > 0  # compiled, then saved
    written = path.stat().st_mtime_ns
    second = _classes(cache)
    assert second[:-1] == first[:-1] == [True, "Point(x=1, y='b')", True, True, True,
                                         "Pair(left=1, right=2)"]
    assert second[-1] == 0  # nothing compiled: every text came from the cache
    assert path.stat().st_mtime_ns == written  # and nothing rewritten


def test_off_switch_writes_nothing(tmp_path):
    result = _classes(tmp_path / "cache", MMCLI_STARTUP_CACHE="0")
    assert result[0] is False and result[1:-1] == ["Point(x=1, y='b')", True, True, True,
                                                   "Pair(left=1, right=2)"]
    assert not (tmp_path / "cache").exists()


def test_a_cache_others_may_write_or_a_broken_one_is_not_used(tmp_path):
    cache = tmp_path / "cache"
    _classes(cache)
    path = _file(cache)
    path.chmod(0o666)  # writable by anyone: could hold anyone's code
    assert _classes(cache)[-1] > 0  # compiled again, and saved as this user's own
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_bytes(b"not marshal data")
    assert _classes(cache)[1:-1] == ["Point(x=1, y='b')", True, True, True,
                                     "Pair(left=1, right=2)"]
    assert _classes(cache)[-1] == 0  # the broken file was replaced


def test_preprocess_through_the_console_script_fills_the_cache(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n" + "".join(f"r{i},words {i},{i % 2}\n" for i in range(6)),
                     encoding="utf-8")
    cache = tmp_path / "cache"
    outs = []
    for run in range(2):
        done = subprocess.run([sys.executable, "-m", "mmcli", "preprocess", str(table), "--out",
                               str(tmp_path / f"o{run}"), "--quiet"], capture_output=True,
                              text=True, env=_env(cache), check=False)
        assert done.returncode == 0, done.stderr
        outs.append(json.loads(done.stdout)["kept"])
    assert outs == [6, 6]
    assert (tmp_path / "o0" / "examples.parquet").read_bytes() == \
        (tmp_path / "o1" / "examples.parquet").read_bytes()
    assert _file(cache, "preprocess").stat().st_size > 10_000
    assert [p.name.rsplit("-", 1)[1] for p in (cache / "startup").iterdir()] == \
        ["preprocess.marshal"]
    done = subprocess.run([sys.executable, "-m", "mmcli", "preprocss", str(table)],
                          capture_output=True, text=True, env=_env(cache), check=False)
    assert done.returncode == 2 and done.stderr.startswith("mmcli: error: No such command")
    assert len(list((cache / "startup").iterdir())) == 1  # a typo writes no cache


def test_the_cache_folder_is_the_prepared_data_caches(monkeypatch, tmp_path):
    monkeypatch.setenv("MMCLI_CACHE_DIR", str(tmp_path))
    assert codecache.cache_file().parent == cache_root() / "startup"
    monkeypatch.delenv("MMCLI_CACHE_DIR", raising=False)
    assert codecache.cache_file().parent == cache_root() / "startup"
