"""When content goes missing: at serving time (one training per model and seed serves every
strategy and rate) and on new items (held out of training, scored with the warm catalogue)."""
import numpy as np
import pytest

from mmstudy.errors import ConfigError
from mmstudy.study import serving
from mmstudy.study.cell import Cell, DataConfig, MissingConfig
from mmstudy.study.executor import run_cell
from mmstudy.study.workspace import Workspace

DATA = DataConfig(name="synthetic", options={"n_users": 160, "n_items": 120, "n_interactions": 2400})


def serving_cell(strategy, rate, seed=0, model="FREEDOM"):
    grid = {"hops": [1, 2]} if strategy == "propagation" else {}
    return Cell(data=DATA, model=model, train={"epochs": 2}, seed=seed,
                missing=MissingConfig(setting="same", rate=rate, strategy=strategy, phase="serving", graph_k=10,
                                      mask_seed=seed, grid=grid))


def test_one_training_per_model_and_seed_serves_every_strategy_and_rate(tmp_path, monkeypatch):
    trained = []
    real = serving.ServingTrainer._train
    monkeypatch.setattr(serving.ServingTrainer, "_train", lambda self, d: trained.append(d) or real(self, d))
    ws = Workspace(tmp_path)
    outs = [run_cell(serving_cell(s, r), ws) for s in ("zeros", "propagation", "dropped") for r in (0.3, 0.6)]
    assert len(trained) == 1 and ws.models.trained == 1
    assert [o.manifest.serving["reused"] for o in outs] == [False] + [True] * 5
    assert len({o.manifest.serving["training"] for o in outs}) == 1
    again = Workspace(tmp_path)  # another worker: loads the stored training from disk
    run_cell(serving_cell("mean", 0.3), again)
    assert len(trained) == 1 and again.models.trained == 0
    prop = outs[2].manifest.selection
    assert [t.imputer_params for t in prop.trials] == [{"hops": 1}, {"hops": 2}]  # imputer chosen on validation
    assert prop.best_valid == max(t.valid for t in prop.trials) and outs[2].manifest.test.evaluations == 1


def test_modality_dropout_trains_its_own_model_with_dropout_and_serves_zeros(tmp_path, monkeypatch):
    trained = []
    real = serving.ServingTrainer._train
    monkeypatch.setattr(serving.ServingTrainer, "_train", lambda self, d: trained.append(d) or real(self, d))
    ws = Workspace(tmp_path)
    zeros = run_cell(serving_cell("zeros", 0.3, model="VBPR"), ws)
    dropout = [run_cell(serving_cell("modality_dropout", r, model="VBPR"), ws) for r in (0.3, 0.6)]
    assert trained == [0.0, 0.3]  # one training without and one with dropout (rate 0.3, the default)
    assert dropout[0].manifest.serving["training"] != zeros.manifest.serving["training"]
    assert dropout[0].manifest.serving["training"] == dropout[1].manifest.serving["training"]
    assert not np.allclose(zeros.per_user["Recall@20"], dropout[0].per_user["Recall@20"])


def test_served_content_is_the_imputed_one_and_masked_rows_are_not_the_truth(tmp_path):
    ws = Workspace(tmp_path)
    zeros, mean = run_cell(serving_cell("zeros", 0.6), ws), run_cell(serving_cell("mean", 0.6), ws)
    assert zeros.manifest.missing.strategy == "zeros" and zeros.manifest.missing.missing_items["image"] > 0
    assert not np.allclose(zeros.per_user["Recall@20"], mean.per_user["Recall@20"])  # the content served differs
    complete = zeros.manifest.serving["complete_valid"]
    assert zeros.manifest.selection.best_valid < complete  # losing content after training costs accuracy


def test_serving_needs_a_multimodal_model():
    with pytest.raises(ConfigError, match="phase 'serving': BPR-MF reads no content"):
        run_cell(serving_cell("zeros", 0.3, model="BPR-MF"), Workspace())


def test_new_items_are_scored_with_the_warm_catalogue_against_a_random_floor():
    cell = Cell(data=DATA, model="VBPR", train={"epochs": 2},
                missing=MissingConfig(setting="same", rate=0.3, strategy="mean", phase="new_items", cold_share=0.2))
    out = run_cell(cell, Workspace())
    cold = out.tables["per_user_cold"]
    assert out.manifest.split.extra["cold_items"] == 24  # 20% of the 120 warm items
    assert {"Recall@20", "RandomRecall@20"} <= set(cold.columns) and len(cold) > 0
    assert (cold["RandomRecall@20"] > 0).all() and (cold["RandomRecall@20"] < 1).all()
    assert cell.fingerprint != Cell(data=DATA, model="VBPR", train={"epochs": 2},
                                    missing=MissingConfig(setting="same", rate=0.3, strategy="mean")).fingerprint


def test_who_pays_views_and_segments_come_with_every_masked_cell():
    cell = Cell(data=DATA, model="VBPR", train={"epochs": 2},
                missing=MissingConfig(setting="same", rate=0.5, strategy="zeros", mask_seed=1))
    out = run_cell(cell, Workspace())
    seg = out.tables["segments"]
    assert seg.index.equals(out.per_user.index) and seg["masked_target"].any() and not seg["masked_target"].all()
    assert 0 < seg["cold_user"].mean() < 0.5
    assert len(out.tables["per_user_tail"]) + len(out.tables["per_user_head"]) >= len(out.per_user)
