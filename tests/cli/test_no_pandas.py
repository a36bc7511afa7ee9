"""``mmcli preprocess`` and ``mmcli check`` never import pandas (0.3-0.5 s of start-up that
reading a table, assigning roles and writing the prepared dataset do not need).

One subprocess runs the commands in turn on a small table (an image, an audio file, text, a
number and a category per row) in CSV, TSV, JSON Lines and Parquet, and reports after each
command its exit code and whether pandas was imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import wave

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

COLUMNS = ["id", "image", "audio", "text", "size", "colour", "label", "split"]
CODE = """
import json, sys
from mmcli.cli.app import app
for argv in json.loads(sys.argv[1]):
    try:
        app(args=argv, prog_name="mmcli")
        code = 0
    except SystemExit as exc:
        code = exc.code
    print(json.dumps([argv[0], argv[1], code, "pandas" in sys.modules]), file=sys.stderr)
"""


def _rows(folder) -> list[list[str]]:
    rows = []
    for i in range(11):
        Image.new("RGB", (12, 12), (30 * i, 10, 200)).save(folder / f"{i}.png")
        with wave.open(str(folder / f"{i}.wav"), "wb") as sound:
            sound.setnchannels(1)
            sound.setsampwidth(2)
            sound.setframerate(8000)
            sound.writeframes(bytes((i * 7 + k) % 256 for k in range(1600)))
        rows.append([f"r{i}", f"{i}.png", f"{i}.wav", f"a {'red' if i % 2 else 'blue'} thing",
                     str(1.5 * i), ["x", "y"][i % 2], ["a", "b"][i % 2],
                     "test" if i > 8 else "train"])
    rows.append(["r11", "missing.png", "", "plain words", "n/a", "", "a", "train"])  # faults
    return rows


def test_preprocess_and_check_never_import_pandas(tmp_path):
    rows = _rows(tmp_path)
    (tmp_path / "t.csv").write_text(
        "\n".join(",".join(r) for r in [COLUMNS, *rows]) + "\n", encoding="utf-8")
    (tmp_path / "t.tsv").write_text(
        "\n".join("\t".join(r) for r in [COLUMNS, *rows]) + "\n", encoding="utf-8")
    (tmp_path / "t.jsonl").write_text(
        "".join(json.dumps(dict(zip(COLUMNS, r, strict=True))) + "\n" for r in rows),
        encoding="utf-8")
    pq.write_table(pa.table([pa.array([r[i] for r in rows]) for i in range(len(COLUMNS))],
                            names=COLUMNS), tmp_path / "t.parquet")
    commands = []
    for kind in ("csv", "tsv", "jsonl", "parquet"):
        table = str(tmp_path / f"t.{kind}")
        commands.append(["check", table, "--audio-seconds", "0.2", "--max-reject-fraction", "1"])
        commands.append(["preprocess", table, "--out", str(tmp_path / f"out-{kind}"),
                         "--image-size", "8", "--audio-seconds", "0.2", "--quiet"])
    done = subprocess.run([sys.executable, "-c", CODE, json.dumps(commands)],
                          capture_output=True, text=True, cwd=tmp_path, check=True)
    reports = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("[")]
    assert len(reports) == len(commands), done.stderr
    for command, table, code, pandas in reports:
        assert code == 0, (command, table, done.stderr)
        assert not pandas, f"{command} {table} imported pandas"
    summary = json.loads((tmp_path / "out-jsonl" / "schema.json").read_text())
    assert (summary["rows"], summary["kept"]) == (12, 12)
    assert summary["roles"]["numeric"] == ["size"] and summary["roles"]["categorical"] == [
        "colour"]
    assert summary["issues"]["imputed:not_a_number"] == 1
