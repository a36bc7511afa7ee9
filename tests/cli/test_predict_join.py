"""``predict --join``: a bundle trained on a main table joined to a side table of attributes
predicts from the main table + the side table, joined as preprocess joins (per chunk), with the
same counts; evaluate on a raw table joins the bundle's side table again."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf

N = 80  # every 4th row is a test row


def _write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _label(size: float) -> str:
    return "big" if size > 5 else "small"


@pytest.fixture(scope="module")
def joined(runner, app, tmp_path_factory):
    """The main table holds only ids, labels and splits: the label is known only from the
    side table's ``size``, so a model that predicts right has read the joined column."""
    work = tmp_path_factory.mktemp("join")
    sizes = np.random.default_rng(0).uniform(0, 10, N)
    main = _write(work / "data.csv", ["id", "label", "split"],
                  [[f"p{i}", _label(s), "test" if i % 4 == 0 else "train"]
                   for i, s in enumerate(sizes)])
    side = _write(work / "attributes.csv", ["id", "size"],
                  [[f"p{i}", f"{s:.3f}"] for i, s in enumerate(sizes)])
    flipped = _write(work / "flipped.csv", ["id", "size"],
                     [[f"p{i}", f"{10 - s:.3f}"] for i, s in enumerate(sizes)])
    test = [i for i in range(N) if i % 4 == 0]
    # New rows to predict: the held-out ids (no label column) and one id the side table lacks.
    new = _write(work / "new.csv", ["id"], [[f"p{i}"] for i in test] + [["p999"]])
    bundle = work / "bundle"
    result = runner.invoke(app, ["train", str(main), "--join", str(side), "--out", str(bundle),
                                 "--epochs", "30", "--seed", "0", "--no-cache", "--quiet"])
    assert result.exit_code == 0, result.stderr
    truth = {f"p{i}": _label(sizes[i]) for i in test}
    return {"work": work, "bundle": bundle, "main": main, "side": side, "flipped": flipped,
            "new": new, "truth": truth}


def _predict(runner, app, joined, *extra):
    result = runner.invoke(app, ["predict", str(joined["bundle"]), str(joined["new"]), *extra])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def _accuracy(records, truth):
    return np.mean([r["label"] == truth[r["id"]] for r in records if r["id"] in truth])


def test_predict_joins_the_side_table_chunk_by_chunk_and_reports_the_join(runner, app, joined):
    records, stderr = _predict(runner, app, joined, "--join", str(joined["side"]),
                               "--chunk-rows", "7")
    assert [r["id"] for r in records] == [*joined["truth"], "p999"]  # input order
    assert _accuracy(records, joined["truth"]) >= 0.9  # held-out rows, known from `size` only
    assert all(r["tabular_present"] for r in records[:-1])
    unmatched = records[-1]  # its id is not in the side table: its only modality is missing
    assert unmatched["tabular_present"] is False and unmatched["label"] is None
    assert "id not found in" in unmatched["error"] and "attributes.csv" in unmatched["error"]
    assert "21 rows: 20 predicted, 1 with errors" in stderr
    # 20 ids matched, p999 only in the table, the 60 training ids only in the side table
    assert "join on id with " in stderr
    assert "attributes.csv: 20 matched, 1 ids only in the table, 60 only in the joined table" \
        in stderr


def test_predict_joins_the_bundles_side_table_unless_told_another(runner, app, joined):
    explicit, _ = _predict(runner, app, joined, "--join", str(joined["side"]), "-q")
    saved, _ = _predict(runner, app, joined, "-q")  # the --join saved with the bundle
    assert saved == explicit
    flipped, _ = _predict(runner, app, joined, "--join", str(joined["flipped"]), "-q")
    assert _accuracy(flipped, joined["truth"]) <= 0.1  # the values read are the joined ones


def test_evaluate_on_a_raw_table_joins_again(runner, app, joined):
    result = runner.invoke(app, ["evaluate", str(joined["bundle"]), str(joined["main"]),
                                 "--quiet"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["accuracy"] >= 0.9, sorted(metrics)
    result = runner.invoke(app, ["evaluate", str(joined["bundle"]), str(joined["main"]),
                                 "--join", str(joined["flipped"]), "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["accuracy"] <= 0.1


def test_a_side_table_that_repeats_an_id_is_a_data_error(runner, app, joined):
    twice = _write(joined["work"] / "twice.csv", ["id", "size"], [["p0", "1"], ["p0", "2"]])
    result = runner.invoke(app, ["predict", str(joined["bundle"]), str(joined["new"]),
                                 "--join", str(twice)])
    assert result.exit_code == 3
    assert "p0" in result.stderr and "unique ids" in result.stderr


def test_serve_join_answers_predicts_records_and_counts(runner, app, joined):
    """``serve --join`` joins each request's rows as ``predict --join`` joins a table: the
    same records (a row carrying only its id reads its attributes from the side table), the
    same counts in GET /health."""
    import httpx

    from tests.serve.server import running

    expected, _ = _predict(runner, app, joined, "--join", str(joined["side"]), "-q")
    ids = [*joined["truth"], "p999"]
    with running(joined["bundle"], "--join", str(joined["side"])) as server:
        response = httpx.post(server.url + "/predict", timeout=60,
                              json={"rows": [{"id": i} for i in ids]})
        assert response.status_code == 200, response.text
        records = response.json()["records"]
        assert [{k: v for k, v in r.items() if k != "issues"} for r in records] == expected
        assert [i["reason"] for i in records[-1]["issues"]] == ["not_in_join", "missing",
                                                                "no_modality"]
        health = httpx.get(server.url + "/health", timeout=30).json()
        meta = httpx.get(server.url + "/metadata", timeout=30).json()
    assert health["join"] == {"table": str(joined["side"]), "on": "id", "matched": 20,
                              "only_in_table": 1, "only_in_join": 60}
    assert meta["join"] == str(joined["side"])


def test_predict_reports_each_cell_not_a_number_and_each_id_not_joined(runner, app, joined,
                                                                      tmp_path):
    # The side table has 3 of the 21 ids, one of them with a size that is not a number.
    sparse = _write(tmp_path / "sparse.csv", ["id", "size"],
                    [["p0", "n/a"], ["p4", "1,000"], ["p8", "7.5"]])
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(app, ["predict", str(joined["bundle"]), str(joined["new"]),
                                 "--join", str(sparse), "--chunk-rows", "2",
                                 "--rejects", str(rejects)])
    assert result.exit_code == 0, result.stderr
    with open(rejects, newline="") as handle:
        lines = list(csv.DictReader(handle))
    # size is the model's only input: a row without it is rejected (its record has an error)
    imputed = [(x["row"], x["id"], x["column"], x["action"]) for x in lines
               if x["reason"] == "not_a_number"]
    assert imputed == [("1", "p0", "size", "rejected"), ("2", "p4", "size", "rejected")]
    assert sum(x["reason"] == "not_in_join" for x in lines) == 18
    assert "18  rejected:not_in_join" in result.stderr
    assert "2  rejected:not_a_number" in result.stderr
