"""iter_rows plans and decodes only a bounded window ahead of the row it yields."""

from __future__ import annotations

from PIL import Image

import mmcli.io.paths as paths_module
from mmcli.config import PrepConfig
from mmcli.data.roles import detect_roles
from mmcli.data.rows import iter_rows
from mmcli.io.tables import Table


def test_rows_are_planned_a_bounded_window_ahead(tmp_path, monkeypatch):
    Image.new("RGB", (20, 20), (1, 2, 3)).save(tmp_path / "a.png")
    n = 1000
    table = Table.from_columns({"id": [str(i) for i in range(n)], "image": ["a.png"] * n,
                                "text": ["some words"] * n, "label": ["x", "y"] * (n // 2)},
                               tmp_path, "t.csv", "0" * 64)
    config = PrepConfig(image_size=8, workers=1)
    roles = detect_roles(table, config)
    resolved = []
    real = paths_module.FileResolver.resolve  # what the image preparer resolves each path with

    def counting(self, value):
        resolved.append(value)
        return real(self, value)

    monkeypatch.setattr(paths_module.FileResolver, "resolve", counting)
    stream = iter_rows(table, roles, config, need_label=True)
    first = next(stream)
    assert first.row == 1 and first.present("image")
    assert 1 <= len(resolved) <= 64  # one chunk, not the whole table
    later = [next(stream) for _ in range(199)]
    assert later[-1].row == 200 and len(resolved) <= 200 + 64
    rest = list(stream)
    assert len(rest) == n - 200 and len(resolved) == n
    assert [r.row for r in rest] == list(range(201, n + 1))
