"""Tabular columns without TensorFlow: which columns are taken, how cells are cleaned, what is
learnt from the training rows, and the edge cases (recorded or refused, never silent)."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from mmcli.config import PrepConfig
from mmcli.data.roles import detect_roles
from mmcli.errors import DataError, UsageError
from mmcli.io.tables import Table
from mmcli.modalities import get

TABULAR = get("tabular")


def _frame(**columns) -> Table:
    return Table.from_columns(columns)


def _base(n: int = 8) -> dict:
    return {
        "id": [f"r{i}" for i in range(n)],
        "text": [f"word{i} other{i} more" for i in range(n)],
        "label": ["a", "b"] * (n // 2),
    }


def test_detection_takes_numbers_and_categories_never_id_label_text_or_paths():
    frame = _frame(**_base(), productId=[str(100 + i) for i in range(8)],
                   image=[f"img/{i}.jpg" for i in range(8)],
                   price=["1.5", "2", None, "3e1", "-4", "5", "6", "7"],
                   colour=["red", "blue", "red", None, "blue", "red", "red", "blue"],
                   note=[f"free text number {i}" for i in range(8)])
    roles = detect_roles(frame, PrepConfig())
    assert roles.sources["tabular"] == ("price", "colour")
    assert roles.to_dict()["numeric"] == ["price"]
    assert roles.to_dict()["categorical"] == ["colour"]
    assert roles.sources["image"] == ("image",) and roles.id == "id"
    settled = roles.settled(PrepConfig())
    assert (settled.numeric_col, settled.category_col) == (("price",), ("colour",))


def test_a_settled_or_named_config_detects_nothing_more():
    frame = _frame(**_base(), price=[str(i) for i in range(8)], colour=["x", "y"] * 4)
    roles = detect_roles(frame, PrepConfig(numeric_col=("price",)))
    assert roles.sources["tabular"] == ("price",)
    assert roles.settings == {"numeric_col": ("price",), "category_col": ()}
    none = detect_roles(frame, PrepConfig(numeric_col=(), category_col=()))
    assert "tabular" not in none.sources


def test_ignore_col_leaves_a_column_out_of_every_role():
    frame = _frame(**_base(), price=[str(i) for i in range(8)], colour=["x", "y"] * 4)
    roles = detect_roles(frame, PrepConfig(ignore_col=("price", "text")))
    assert roles.sources["tabular"] == ("colour",)
    assert "text" not in roles.sources
    with pytest.raises(UsageError, match="ignore-col"):
        PrepConfig(numeric_col="price", ignore_col="price")


def test_a_column_with_text_like_unknown_is_not_numeric():
    frame = _frame(**_base(), size=["1", "2", "unknown", "4", "5", "6", "7", "8"])
    assert "tabular" not in detect_roles(frame, PrepConfig()).sources


def _prepare_cells(config: PrepConfig, *cells):
    from pathlib import Path

    from mmcli.modalities.base import TableContext

    return TABULAR.preparer(TableContext(Path("."), config))(list(cells), "r0", False)


def test_cells_numbers_canonical_missing_empty_unknown_noted():
    config = PrepConfig(numeric_col=("price",), category_col=("colour",))
    assert _prepare_cells(config, "2", " red ").value == ("2.0", "red")
    assert _prepare_cells(config, None, "red").value == ("", "red")
    noted = _prepare_cells(config, "unknown", None)
    assert noted.value is None  # nothing usable left: the modality is absent
    assert [(n.reason, n.column) for n in noted.notes] == [("not_a_number", "price")]


def test_fit_on_training_values_records_constant_refuses_empty():
    config = PrepConfig(numeric_col=("price", "const"), category_col=("colour",))
    values = [("1.0", "7.0", "red"), ("", "7.0", ""), ("3.0", "7.0", "blue")]
    fit = TABULAR.fit_values(values, config)
    price, const = fit.numeric
    assert price.median == 2.0 and price.missing == 1 and not price.constant
    assert const.constant and const.variance == 1.0  # recorded, never divided by zero
    assert fit.notes() and "const" in fit.notes()[0]
    assert fit.categorical[0].vocabulary == ("blue", "red") and fit.categorical[0].missing == 1
    with pytest.raises(DataError, match="price"):
        TABULAR.fit_values([("", "7.0", "red")], config)


def _write(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_check_lists_roles_and_reports_imputed_cells(runner, app, tmp_path):
    rows = [[f"r{i}", f"w{i} x y", str(i) if i % 3 else ("n/a" if i % 2 else "?"),
             "red" if i % 2 else "blue", "a" if i % 2 else "b"] for i in range(12)]
    rows.append(["r12", "", "", "", "a"])  # no text, no tabular cell: rejected
    table = _write(tmp_path / "t.csv", ["id", "text", "size", "colour", "label"], rows)
    result = runner.invoke(app, ["check", str(table), "--numeric-col", "size",
                                 "--category-col", "colour"])
    report = json.loads(result.stdout)
    assert report["roles"]["numeric"] == ["size"]
    assert report["roles"]["categorical"] == ["colour"]
    assert report["issues"]["imputed:not_a_number"] == 4  # "?" and "n/a" (a value) twice each
    assert report["issues"]["rejected:no_modality"] == 1
    assert report["kept"] == 12 and report["masked"] == 0
    imputed = [r for r in report["rejects"] if r["action"] == "imputed"]
    assert {r["column"] for r in imputed} == {"size"}


def test_a_joined_side_table_of_attributes_becomes_the_tabular_modality(runner, app, tmp_path):
    table = _write(tmp_path / "data.csv", ["id", "text", "label"],
                   [[f"p{i}", f"w{i} x y", "a" if i % 2 else "b"] for i in range(10)])
    _write(tmp_path / "attributes.csv", ["id", "gender", "year", "empty"],
           [[f"p{i}", "Men" if i % 3 else "Women", str(2010 + i % 2), ""] for i in range(10)])
    result = runner.invoke(app, ["check", str(table), "--join",
                                 str(tmp_path / "attributes.csv")])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["modalities"] == ["text", "tabular"]
    assert report["roles"]["numeric"] == ["year"]
    assert report["roles"]["categorical"] == ["gender"]  # the empty column is never taken
    assert report["prep"]["numeric_col"] == ["year"]  # settled: what predict will read


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "parquet"])
def test_number_like_cells_keep_a_column_numeric_and_unused_columns_are_named(
        runner, app, tmp_path, suffix):
    odd = {3: "n/a", 7: "1,000", 11: "inf", 15: "NaN", 17: "1e400", 19: "-2e39"}  # imputed
    frame = pd.DataFrame({
        "id": [f"00{i}" for i in range(20)],
        "text": [f"w{i} x y" for i in range(20)],
        "size": [odd.get(i, str(i * 1.5)) for i in range(20)],
        "note": [f"free remark number {i}" for i in range(20)],
        "blank": [None] * 20,
        "label": ["a", "b"] * 10,
    }, dtype=object)
    table = tmp_path / f"t.{suffix}"
    if suffix == "parquet":
        frame.to_parquet(table, index=False)
    elif suffix == "jsonl":
        frame.to_json(table, orient="records", lines=True)
    else:
        frame.to_csv(table, index=False, sep="\t" if suffix == "tsv" else ",")
    result = runner.invoke(app, ["check", str(table)])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["roles"]["numeric"] == ["size"]
    assert report["issues"]["imputed:not_a_number"] == 4
    imputed = [(r["row"], r["id"], r["column"]) for r in report["rejects"]
               if r["reason"] == "not_a_number"]
    assert imputed == [(4, "003", "size"), (8, "007", "size"), (12, "0011", "size"),
                       (16, "0015", "size")]
    # a number float32 cannot hold would reach the model as infinity; 1e400 is a number too
    assert [(r["row"], r["action"]) for r in report["rejects"]
            if r["reason"] == "out_of_range"] == [(18, "imputed"), (20, "imputed")]
    unused = report["roles"]["unused"]
    assert set(unused) == {"note", "blank"}
    assert unused["blank"] == "empty in every row"
    assert "column 'note' not used: 20 distinct values" in result.stderr


def test_the_numeric_engine_keeps_a_number_beyond_float32_missing():
    import numpy as np

    from mmcli.engines.contract import TabularStep
    from mmcli.engines.numeric import tabular_cells

    step = TabularStep(modality="tabular", medians=(2.0,), vocabularies=())
    out = tabular_cells(np.array([["1e39"], ["3"]], dtype=object), step)
    assert out["tabular__numbers"].tolist() == [[2.0], [3.0]]
    assert out["tabular__missing"].tolist() == [[1.0], [0.0]]


def test_a_side_table_whose_ids_match_few_rows_is_loud(runner, app, tmp_path):
    table = _write(tmp_path / "data.csv", ["id", "text", "label"],
                   [[f"00{i}", f"w{i} x y", "a" if i % 2 else "b"] for i in range(10)])
    # one id written as the table writes it (001); the others as numbers (2, not 002)
    side = pd.DataFrame({"id": ["001", *map(str, range(2, 11))],
                         "year": [2010 + i % 2 for i in range(10)]})
    side.to_parquet(tmp_path / "attributes.parquet", index=False)
    result = runner.invoke(app, ["check", str(table), "--join",
                                 str(tmp_path / "attributes.parquet")])
    report = json.loads(result.stdout)
    (warning,) = [w for w in report["warnings"] if w["kind"] == "join_unmatched"]
    assert (warning["rows"], warning["of"], warning["every_row"]) == (9, 10, False)
    line = next(x for x in result.stderr.splitlines() if x.startswith("mmcli: warning: 9 of 10"))
    assert "rows found no id in " in line and "attributes.parquet has id '2'" in line
