"""The imputation-quality tables: derived from manifests and per-user files, recomputed by verify."""
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mmstudy.report.verify import verify
from mmstudy.studies.missing.analysis import strategy_pairs
from mmstudy.studies.missing.imputation_quality import cell_gains, quality_rows, quality_table, quality_vs_gain
from mmstudy.study.results import StudyResults


def test_the_quality_table_holds_every_imputing_strategy_and_modality(tiny_missing_study):
    table = pd.read_csv(tiny_missing_study / "tables" / "imputation_quality.csv")
    assert list(table.columns) == ["mechanism", "strategy", "setting", "rate", "modality", "n_cells", "rows", "cosine",
                                   "rse"]
    assert set(table["strategy"]) == {"zeros", "propagation"}  # `dropped` imputes nothing
    assert set(table["modality"]) == {"image", "text"} and (table["n_cells"] == 2).all()  # 1 model x 2 seeds
    zeros = table[table["strategy"] == "zeros"]
    assert np.allclose(zeros["cosine"], 0.0) and np.allclose(zeros["rse"], 1.0)
    propagation = table[table["strategy"] == "propagation"]
    assert (propagation["cosine"] > 0.2).all()
    assert (tiny_missing_study / "tables" / "imputation_quality_vs_gain.csv").exists()


def test_quality_rows_come_from_the_manifests(tiny_missing_study):
    results = StudyResults.load(tiny_missing_study)
    rows = quality_rows(results)
    for row in rows.itertuples():
        recorded = results.manifests[row.fingerprint].missing.quality[row.modality]
        assert (row.rows, row.cosine, row.rse) == (recorded["rows"], recorded["cosine"], recorded["rse"])
    assert set(rows["model"]) == {"VBPR"}


def test_gains_are_paired_per_user_differences_to_the_reference(tiny_missing_study):
    results = StudyResults.load(tiny_missing_study)
    pairs = [p for p in strategy_pairs(results.cells, "zeros") if dict(p.keys)["strategy"] == "propagation"]
    gains = cell_gains(results, pairs, "Recall@20").set_index("fingerprint")["gain"]
    for pair in pairs:
        for seed, fp in pair.a.items():
            a, b = results.per_user(fp)["Recall@20"], results.per_user(pair.b[seed])["Recall@20"]
            users = a.index.intersection(b.index)
            assert math.isclose(gains[fp], a[users].mean() - b[users].mean())


def test_spearman_of_quality_with_gain():
    rows = pd.DataFrame({"fingerprint": list("abcde"), "modality": "image", "rows": 10,
                         "cosine": [0.1, 0.2, 0.3, 0.4, 0.5], "rse": [0.9, 0.7, 0.8, 0.2, 0.1]})
    gains = pd.DataFrame({"fingerprint": list("abcde"), "gain": [0.01, 0.02, 0.04, 0.03, 0.05]})
    table = quality_vs_gain(rows, gains, "Recall@20").set_index("measure")
    expected = stats.spearmanr(rows["cosine"], gains["gain"])
    assert math.isclose(table.loc["cosine", "spearman_rho"], expected.statistic)
    assert math.isclose(table.loc["cosine", "p_value"], expected.pvalue)
    assert table.loc["rse", "spearman_rho"] < 0 and (table["n_cells"] == 5).all()
    two = quality_vs_gain(rows.head(2), gains, "Recall@20")
    assert two["spearman_rho"].isna().all() and two["p_value"].isna().all()  # undefined below 3 cells
    constant = quality_vs_gain(rows.assign(cosine=0.0), gains, "Recall@20").set_index("measure")
    assert math.isnan(constant.loc["cosine", "spearman_rho"])


def test_the_table_groups_by_mechanism_only_when_the_study_labels_one():
    rows = pd.DataFrame({"fingerprint": list("abcd"), "strategy": "mean", "setting": "same", "rate": 0.5,
                         "modality": "image", "rows": 10, "cosine": [0.1, 0.3, 0.5, 0.7], "rse": 0.5})
    assert len(quality_table(rows)) == 1 and "mechanism" not in quality_table(rows)
    by_mechanism = quality_table(rows.assign(mechanism=["mcar", "mcar", "mnar", "mnar"]))
    assert by_mechanism["cosine"].tolist() == pytest.approx([0.2, 0.6])
    assert list(by_mechanism.columns[:4]) == ["mechanism", "strategy", "setting", "rate"]


def test_verify_recomputes_the_quality_numbers(tiny_missing_study, tmp_path):
    study = shutil.copytree(tiny_missing_study, tmp_path / "copy")
    problems, _ = verify(study)
    assert problems == []
    cell = next(p for p in (study / "cells").iterdir()
                if json.loads((p / "result.json").read_text())["labels"].get("strategy") == "propagation")
    manifest = json.loads((cell / "result.json").read_text())
    manifest["missing"]["quality"]["image"]["cosine"] += 0.2  # a forged quality record
    (cell / "result.json").write_text(json.dumps(manifest))
    problems, _ = verify(study)
    assert any(p.startswith("table imputation_quality, row") and "'cosine'" in p for p in problems)
