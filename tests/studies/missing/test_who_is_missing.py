"""Who is missing, and the missing study's analysis and report with several mechanisms."""
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from mmstudy.report.verify import verify
from mmstudy.studies.missing.analysis import analyse_missing
from mmstudy.studies.missing.who_is_missing import table
from mmstudy.study.manifest import CellManifest, MissingRecord, WhoIsMissing
from mmstudy.study.results import StudyResults
from tiny_study import run_missing_study, tiny_missing_spec

V1 = Path(__file__).resolve().parents[2] / "fixtures" / "results_v1"
ITEMS = [10] * 10


def manifest(mechanism, seed, masked, strategy="zeros", setting="same", natural=None):
    record = WhoIsMissing(items=ITEMS, candidates={} if natural else {"text": ITEMS},
                          masked={} if natural else {"text": masked}, natural={"text": natural or [0] * 10})
    labels = {"role": "multimodal", "setting": setting, "rate": 0.5, "strategy": strategy, "seed": seed}
    if mechanism is not None:
        labels["mechanism"] = mechanism
    return CellManifest(labels=labels, missing=MissingRecord(setting=setting, who_is_missing=record))


def results_of(*manifests):
    return SimpleNamespace(manifests={f"{i:02d}": m for i, m in enumerate(manifests)})


def test_shares_rho_orientation_and_seed_averaging():
    rising = list(range(1, 11))  # the least popular deciles lose the most
    who = table(results_of(manifest("popularity:2", 0, rising), manifest("popularity:2", 0, [9] * 10, "mean"),
                           manifest("popularity:2", 1, [r + 1 for r in rising]),
                           manifest("mcar", 0, [5, 6] * 5), manifest("mcar", 1, [6, 5] * 5)))
    popularity = who[who["mechanism"] == "popularity:2"].sort_values("long_tail_rank")
    # the second strategy shares the first one's mask: seed 0 counts once, whichever cell comes first
    assert popularity["missing_share"].tolist() == pytest.approx([(r + r + 1) / 20 for r in rising])
    assert (popularity["n_seeds"] == 2).all() and popularity["spearman_rho"].tolist() == pytest.approx([1.0] * 10)
    mcar = who[who["mechanism"] == "mcar"]
    assert np.allclose(mcar["missing_share"], 0.55) and np.allclose(mcar["spearman_rho"], 0.0)  # opposite per seed


def test_natural_gaps_and_old_manifests():
    falling = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]  # the popular items lack content more often
    who = table(results_of(manifest(None, 0, None, setting="natural", natural=falling)))
    assert who["mechanism"].unique().tolist() == ["natural"]  # no label: the data's own gaps
    assert who["missing_share"].tolist() == pytest.approx([f / 10 for f in falling])
    assert np.allclose(who["spearman_rho"], -1.0)
    old = CellManifest(labels={"role": "multimodal", "setting": "same", "rate": 0.5, "seed": 0})
    assert table(results_of(old)).empty


def test_old_folders_analyse_as_mcar(tmp_path):
    folder = tmp_path / "missing"
    shutil.copytree(V1 / "missing", folder)
    tables = analyse_missing(StudyResults.load(folder))
    assert set(tables["robustness"]["mechanism"]) == {"mcar"}
    assert set(tables["strategy_vs_reference"]["mechanism"]) == {"mcar"}
    assert set(tables["multimodal_vs_cf"]["mechanism"]) == {"mcar"} and len(tables["multimodal_vs_cf"]) == 3
    assert tables["who_is_missing"].empty


@pytest.fixture(scope="module")
def mechanism_study(tmp_path_factory):
    spec = tiny_missing_spec(mechanisms=["mcar", {"name": "popularity", "strength": 2}],
                             strategies=["zeros", "mean", "dropped"], grids={})
    return run_missing_study(spec, tmp_path_factory.mktemp("mechanisms"))


def test_report_and_verify_with_several_mechanisms(mechanism_study):
    folder = mechanism_study
    who = pd.read_csv(folder / "tables" / "who_is_missing.csv")
    rho = who.groupby("mechanism")["spearman_rho"].first()
    assert set(rho.index) == {"mcar", "popularity:2"} and rho["popularity:2"] >= 0.8
    assert (who["n_seeds"] == 2).all() and len(who) == 2 * 10
    for name in ("strategy_vs_reference", "dropped_losses"):
        assert set(pd.read_csv(folder / "tables" / f"{name}.csv")["mechanism"]) == {"mcar", "popularity:2"}, name
    for name in ("robustness", "multimodal_vs_cf"):  # and the complete-data cells (mechanism none)
        mechanisms = set(pd.read_csv(folder / "tables" / f"{name}.csv")["mechanism"])
        assert mechanisms == {"mcar", "popularity:2", "none"}, name
    figures = {p.name for p in (folder / "figures").glob("*.png")}
    assert {"who_is_missing_same_0-5.png", "robustness_vbpr_train-and-test_mcar_same.png",
            "robustness_vbpr_train-and-test_popularity-2_same.png", "headline_vbpr.png"} <= figures
    problems, checked = verify(folder)
    assert problems == [] and checked > 100


def test_manifests_state_the_mechanism_and_its_mask(mechanism_study):
    results = StudyResults.load(mechanism_study)
    masked = [m for m in results.manifests.values() if m.missing.who_is_missing is not None]
    assert {(m.labels["mechanism"], m.missing.mechanism, m.missing.strength) for m in masked} == {
        ("mcar", "mcar", 0.0), ("popularity:2", "popularity", 2.0)}
    by_mask = {}
    for m in masked:  # every strategy and model (CF dropped included) at one (mechanism, seed): one mask
        by_mask.setdefault((m.labels["mechanism"], m.labels["seed"]), set()).add(m.missing.mask_checksum)
    assert len(by_mask) == 4 and all(len(v) == 1 for v in by_mask.values())
