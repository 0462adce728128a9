"""Audit checks: a clean synthetic study passes every check; each planted violation fails its check."""
import copy
import json

import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.data.split import Split
from mmstudy.errors import ConfigError, DataError
from mmstudy.hashing import array_sha256
from mmstudy.missing.graph import co_interaction_graph
from mmstudy.report.audit import AuditCheck, audit_study, format_checks
from mmstudy.study.cell import Cell, DataConfig, MissingConfig
from mmstudy.study.workspace import grid_points

SPLIT = "3f2a9c1b0d" + "a" * 54
KEPT_SPLIT = "77c01d9e42" + "b" * 54
TRAIN = "5be0c4d1f3" + "c" * 54
DATASET = "d41c0ffee5" + "d" * 54
MODELS = ("VBPR", "LightGCN")
STRATEGIES = ("propagation", "dropped")
SEEDS = (0, 1, 2)
LEARNED_CHECK = "learned imputers fitted on training-observed rows"
NAMES = ["same split", "test scored once", "selection on validation only",
         "imputation graphs from training only", LEARNED_CHECK, "full-ranking metrics", "equal tuning budget",
         "training converged within the budget", "enough seeds"]


def make_manifest(model="VBPR", strategy="propagation", seed=0, *, grid=None, train=None) -> dict:
    """A result.json as `pipeline._manifest` + `ResultStore.write` produce it (JSON round-tripped)."""
    dropped = strategy == "dropped"
    imputer_grid = {} if dropped else {"alpha": (0.5, 0.9)}
    cell = Cell(data=DataConfig(name="synthetic", split_seed=0), model=model, params={"reg": 1e-4},
                grid=grid or {"dim": (32, 64)}, train={"epochs": 50} if train is None else train,
                missing=MissingConfig(setting="single", rate=0.4, target="image", mask_seed=0,
                                      strategy=strategy, grid=imputer_grid),
                seed=seed, labels={"model": model, "strategy": strategy, "rate": 0.4, "seed": seed})
    rng = np.random.default_rng([seed, len(model), len(strategy)])
    trials = [{"imputer_params": imp, "params": params, "valid": float(rng.uniform(0.05, 0.1)),
               "best_epoch": int(rng.integers(1, 50))}
              for imp in grid_points(cell.missing.grid) for params in grid_points(cell.grid)]
    best = trials[int(np.argmax([t["valid"] for t in trials]))]
    missing = {"setting": "single", "rate": 0.4, "strategy": strategy, "mask_checksum": "9a" * 32,
               "missing_items": {"image": 600, "text": 0}}
    if dropped:
        missing["dropped"] = {"items_lost": 600, "train_interactions_lost": 30000, "valid_interactions_lost": 3500,
                              "test_interactions_lost": 3600, "users_lost_train": 4, "users_lost_test": 12,
                              "test_users_evaluable_lost": 12}
    else:
        missing |= {"graph": {"k": 100, "isolated_items": 3, "built_from": "train", "train_checksum": TRAIN},
                    "imputation": {"image": {"imputed_items": 600, "params": best["imputer_params"]}},
                    "imputer_params": best["imputer_params"]}
    manifest = {
        "cell": cell.to_dict(), "model": model, "labels": dict(cell.labels),
        "seeds": {"training": seed, "split": 0, "mask": 0},
        "dataset": {"name": "synthetic", "fingerprint": DATASET, "meta": {"source": "embedded"},
                    "modalities": {"image": "1" * 64, "text": "2" * 64}},
        "split": {"method": "random", "seed": 0, "checksum": SPLIT, "train_interactions": 80000,
                  "train_users": 943, "valid_interactions": 10000, "valid_users": 940, "test_interactions": 10000,
                  "test_users": 943, "cold_users_valid": 0, "cold_users_test": 0, "train_checksum": TRAIN},
        "evaluated_split_checksum": KEPT_SPLIT if dropped else SPLIT, "missing": missing,
        "features": {"image": {"fingerprint": "3" * 64, "dim": 512, "source": "clip", "extractor": "clip-b32"}},
        "selection": {"on": "valid", "metric": "Recall@20", "trials": trials,
                      "selected_params": {**dict(cell.params), **best["params"]},
                      "selected_imputer_params": best["imputer_params"], "best_epoch": best["best_epoch"],
                      "best_valid": best["valid"], "tuning_budget": len(trials)},
        "test": {"evaluations": 1, "users": 931 if dropped else 943, "protocol": "full-ranking",
                 "masked_at_test": ["train", "valid"], "list_metrics": ["Recall@20", "nDCG@20"],
                 "mean": {"Recall@20": 0.09, "nDCG@20": 0.05}},
        "timing": {"total_seconds": 12.0, "train_seconds": 10.0, "mean_epoch_seconds": 0.2,
                   "mean_valid_seconds": 0.05, "epochs_run": 50},
        "n_parameters": 120000, "environment": {"python": "3.11", "torch": "2.14.1", "device": "cpu"},
    }
    return json.loads(json.dumps({**manifest, "fingerprint": cell.fingerprint, "files": {"per_user": "4" * 64}}))


def make_study(seeds=SEEDS, **overrides_by_model) -> list[dict]:
    return [make_manifest(model, strategy, seed, **overrides_by_model.get(model, {}))
            for model in MODELS for strategy in STRATEGIES for seed in seeds]


def comparisons_for(manifests) -> list[tuple[str, str]]:
    """Model vs model at each (strategy, seed) and strategy vs strategy at each (model, seed)."""
    by = {(m["model"], m["labels"]["strategy"], m["labels"]["seed"]): m["fingerprint"] for m in manifests}
    candidates = [((MODELS[0], s, seed), (MODELS[1], s, seed)) for _, s, seed in by]
    candidates += [((mod, STRATEGIES[0], seed), (mod, STRATEGIES[1], seed)) for mod, _, seed in by]
    pairs = [(by[a], by[b]) for a, b in candidates if a in by and b in by]
    return sorted(set(pairs))


def failed(manifests, comparisons="auto", **kwargs) -> set[str]:
    if comparisons == "auto":
        comparisons = comparisons_for(manifests)
    return {c.name for c in audit_study(manifests, comparisons, **kwargs) if not c.passed}


def check(manifests, name, comparisons="auto", **kwargs) -> AuditCheck:
    if comparisons == "auto":
        comparisons = comparisons_for(manifests)
    return next(c for c in audit_study(manifests, comparisons, **kwargs) if c.name == name)


# ---------------------------------------------------------------- clean study

@pytest.mark.parametrize("explicit", [True, False])
def test_clean_study_passes_every_check(explicit):
    study = make_study()
    checks = audit_study(study, comparisons_for(study) if explicit else None)
    assert [c.name for c in checks] == NAMES
    assert all(c.passed for c in checks), format_checks(checks)


def test_clean_evidence_is_concrete():
    study = make_study()
    evidence = {c.name: c.evidence for c in audit_study(study, comparisons_for(study))}
    assert SPLIT[:10] in evidence["same split"] and "943 test users" in evidence["same split"]
    assert "`dropped`" in evidence["same split"] and "common-item view" in evidence["same split"]
    assert TRAIN[:10] in evidence["imputation graphs from training only"]
    assert "6 `dropped` cell(s) use no graph" in evidence["imputation graphs from training only"]
    assert "VBPR 2" in evidence["equal tuning budget"] and "epochs=50" in evidence["equal tuning budget"]
    assert "all 4 configurations" in evidence["enough seeds"]
    assert "all 12 cells" in evidence["test scored once"]


def test_format_checks_lines():
    lines = format_checks([AuditCheck("same split", True, "ok"), AuditCheck("enough seeds", False, "2 seeds")])
    assert lines == ["PASS  same split: ok", "FAIL  enough seeds: 2 seeds"]


# ---------------------------------------------------------------- planted violations

def plant(study, model="VBPR", strategy="propagation", seed=0):
    """The manifest of one cell, to be modified in place."""
    return next(m for m in study if (m["model"], m["labels"]["strategy"], m["labels"]["seed"]) == (model, strategy, seed))


def test_a_best_epoch_at_the_budget_end_fails_convergence_with_a_count_per_model():
    study = make_study()
    for seed in (0, 1):
        plant(study, "VBPR", seed=seed)["selection"]["best_epoch"] = 50  # the budget's last epoch
    plant(study, "LightGCN", "dropped", 2)["selection"]["best_epoch"] = 49
    result = check(study, "training converged within the budget")
    assert not result.passed and result.evidence.startswith("2 of 12 cells selected their last allowed epoch")
    assert "(VBPR 2 of 6)" in result.evidence and "raise train.epochs" in result.evidence
    late = plant(study, "LightGCN")
    late["selection"]["best_epoch"] = {"id": 3, "image": 50}  # a late-fusion cell: any component counts
    assert "3 of 12" in check(study, "training converged within the budget").evidence


def test_different_split_checksum_fails_same_split():
    study = make_study()
    cell = plant(study, "LightGCN")
    cell["split"]["checksum"] = cell["evaluated_split_checksum"] = "e" * 64
    assert failed(study) == {"same split"}
    assert "eeeeeeeeee" in check(study, "same split").evidence


def test_different_dataset_fingerprint_fails_same_split():
    study = make_study()
    plant(study)["dataset"]["fingerprint"] = "f" * 64
    assert failed(study) == {"same split"}


def test_evaluated_on_another_split_fails_same_split():
    study = make_study()
    plant(study)["evaluated_split_checksum"] = KEPT_SPLIT
    assert failed(study, None) == {"same split"}


def test_unequal_test_users_fail_unless_a_dropped_cell_is_involved():
    study = make_study()
    plant(study, "LightGCN", "propagation", 1)["test"]["users"] = 940
    assert failed(study) == {"same split"}
    assert "943 and 940 test users" in check(study, "same split").evidence
    study = make_study()
    plant(study, "LightGCN", "dropped", 1)["test"]["users"] = 900  # dropped vs dropped is not compared in users
    assert failed(study) == set()


def test_test_scored_twice_fails():
    study = make_study()
    plant(study, seed=2)["test"]["evaluations"] = 2
    assert failed(study) == {"test scored once"}
    assert "2 test evaluations" in check(study, "test scored once").evidence


def test_trial_with_a_test_score_fails_test_once():
    study = make_study()
    plant(study)["selection"]["trials"][0]["test"] = 0.12
    assert failed(study) == {"test scored once"}


def test_selected_params_not_the_validation_argmax_fail_selection():
    study = make_study()
    sel = plant(study, "LightGCN", "propagation", 1)["selection"]
    worst = min(sel["trials"], key=lambda t: t["valid"])  # as if the test metric had picked it
    sel["selected_params"] = {"reg": 1e-4, **worst["params"]}
    sel["selected_imputer_params"] = worst["imputer_params"]
    sel["best_valid"] = worst["valid"]
    assert failed(study) == {"selection on validation only"}
    assert "but the best validation trial is" in check(study, "selection on validation only").evidence


def test_selection_reported_on_test_fails():
    study = make_study()
    plant(study)["selection"]["on"] = "test"
    assert failed(study) == {"selection on validation only"}


def test_selection_tolerates_ties_and_non_finite_trials():
    study = make_study()
    sel = plant(study)["selection"]
    sel["trials"].append({**sel["trials"][0], "valid": float("nan")})
    chosen = ({k: v for k, v in sel["selected_params"].items() if k != "reg"}, sel["selected_imputer_params"])
    other = next(t for t in sel["trials"] if (t["params"], t["imputer_params"]) != chosen)
    other["valid"] = sel["best_valid"]  # a tie: either trial is a valid choice
    assert failed(study) == set()
    sel["trials"] = [{**t, "valid": float("nan")} for t in sel["trials"]]
    assert "no trial with a finite validation score" in check(study, "selection on validation only").evidence


def test_graph_built_from_test_fails():
    study = make_study()
    plant(study)["missing"]["graph"]["built_from"] = "test"
    assert failed(study) == {"imputation graphs from training only"}


def test_graph_train_checksum_mismatch_fails():
    study = make_study()
    plant(study, "LightGCN", seed=2)["missing"]["graph"]["train_checksum"] = SPLIT  # built from train+valid+test
    assert failed(study) == {"imputation graphs from training only"}


def test_manifest_without_train_checksum_fails_graph_check_only_when_graphs_exist():
    study = make_study()
    for m in study:
        del m["split"]["train_checksum"]
    assert failed(study) == {"imputation graphs from training only"}
    assert "manifest lacks the train checksum" in check(study, "imputation graphs from training only").evidence
    dropped_only = [m for m in study if m["labels"]["strategy"] == "dropped"]
    assert failed(dropped_only, None) == set()


def test_train_checksum_contract_with_the_graph_builder():
    """split.train_checksum = array_sha256(split.train) is what ItemGraph.train_checksum records."""
    rng = np.random.default_rng(0)
    dense, part = rng.random((30, 20)) < 0.3, rng.integers(0, 3, (30, 20))
    split = Split(*(sp.csr_matrix(dense & (part == p)) for p in range(3)), method="random", seed=0)
    assert co_interaction_graph(split.train, k=5).train_checksum == array_sha256(split.train)
    assert array_sha256(split.train) != split.checksum


def learned(study):
    """The study with its imputing cells turned into learned-imputer cells (records as handle_missing writes them)."""
    rows = {"rows": 480, "sha256": "ab" * 32}
    for m in study:
        if m["labels"]["strategy"] != "dropped":
            m["missing"]["imputation"]["image"] |= {"fitted_rows": 480, "fitted_rows_sha256": rows["sha256"],
                                                    "fit_seconds": 0.4}
            m["missing"]["expected_fit_rows"] = {"image": dict(rows), "text": {"rows": 1000, "sha256": "cd" * 32}}
    return study


def test_learned_imputers_on_their_training_observed_rows_pass():
    study = learned(make_study())
    assert failed(study) == set()
    assert check(study, LEARNED_CHECK).evidence.startswith("all 6 learned-imputer cells fitted on exactly their "
                                                           "training-observed rows (6 modality fits")
    assert check(make_study(), LEARNED_CHECK).evidence == "no cell uses a learned imputer"


@pytest.mark.parametrize("plant_violation, message", [
    (lambda m: m["missing"]["imputation"]["image"].update(fitted_rows=600, fitted_rows_sha256="ef" * 32),
     "image fitted on 600 rows (efefefefef), not the 480 training-observed rows (abababab"),  # masked rows fitted
    (lambda m: m["missing"]["imputation"]["image"].update(fitted_rows_sha256="ef" * 32), "image fitted on 480 rows"),
    (lambda m: m["missing"].pop("expected_fit_rows"), "manifest lacks the expected fit rows"),
    (lambda m: [m["missing"]["imputation"]["image"].pop(k) for k in ("fitted_rows", "fitted_rows_sha256")],
     "image was imputed without a fitted-row record"),
])
def test_learned_imputer_fit_violations_fail(plant_violation, message):
    study = learned(make_study())
    plant_violation(plant(study, "LightGCN", seed=1))
    assert failed(study) == {LEARNED_CHECK}
    result = check(study, LEARNED_CHECK)
    assert result.evidence.startswith("1 problem(s) in 6 learned-imputer cells") and message in result.evidence


def test_a_learner_fitting_beyond_the_training_rows_fails_the_audit(monkeypatch):
    """End to end: a learner that also fits on items without training interactions records a row set
    that the independently derived expectation (mask + train part) does not match."""
    from mmstudy.data import load_dataset, make_split
    from mmstudy.missing import learned as learned_module
    from mmstudy.missing.handling import handle_missing

    ds = load_dataset("synthetic", n_users=150, n_items=100, n_interactions=2000, seed=1)
    split = make_split(ds, method="random", seed=0)
    train = split.train.tolil()
    train[:, :10] = 0  # ten items without training interactions
    split = Split(sp.csr_matrix(train), split.valid, split.test, method="random", seed=0)
    cfg = MissingConfig(setting="single", rate=0.4, target="image", mask_seed=0, strategy="cross_modal")

    def with_handled(info):
        study = make_study()
        for m in study:
            if m["labels"]["strategy"] != "dropped":
                m["missing"] = json.loads(json.dumps({**info, "graph": m["missing"]["graph"]}))
        return study

    honest = handle_missing(ds.modalities, split, cfg, {})
    assert check(with_handled(honest.info), LEARNED_CHECK).passed
    monkeypatch.setattr(learned_module, "training_items", lambda train: np.ones(train.shape[1], bool))
    leaky = handle_missing(ds.modalities, split, cfg, {})
    result = check(with_handled(leaky.info), LEARNED_CHECK)
    assert not result.passed and "in 6 learned-imputer cells" in result.evidence
    want = honest.info["expected_fit_rows"]["image"]["rows"]
    cold_observed = int(leaky.info["imputation"]["image"]["fitted_rows"]) - want
    assert 0 < cold_observed <= 10  # the cold items whose image the mask left observed
    assert f"image fitted on {want + cold_observed} rows" in result.evidence
    assert f"not the {want} training-observed rows" in result.evidence


def test_sampled_protocol_fails():
    study = make_study()
    plant(study)["test"]["protocol"] = "sampled-100"
    assert failed(study) == {"full-ranking metrics"}
    assert "'sampled-100'" in check(study, "full-ranking metrics").evidence


def test_unmasked_training_items_fail_protocol():
    study = make_study()
    plant(study)["test"]["masked_at_test"] = ["train"]
    assert failed(study) == {"full-ranking metrics"}


def test_bigger_grid_for_one_model_fails_budget():
    study = make_study(LightGCN={"grid": {"dim": (32, 64), "layers": (2, 3)}})
    assert failed(study) == {"equal tuning budget"}
    evidence = check(study, "equal tuning budget").evidence
    assert "6 of 12 comparisons pair unequal grids" in evidence and "LightGCN 4, VBPR 2" in evidence


def test_more_epochs_for_one_model_fails_budget():
    study = make_study(LightGCN={"train": {"epochs": 400}})
    assert failed(study) == {"equal tuning budget"}
    assert "epochs=400" in check(study, "equal tuning budget").evidence


def test_budget_defaults_apply_when_absent():
    from mmstudy.training.loop import TrainConfig

    study = make_study(VBPR={"train": {}}, LightGCN={"train": {"epochs": TrainConfig.epochs}})
    assert failed(study) == set()


def test_two_seeds_fail_with_min_seeds_three():
    study = make_study(seeds=(0, 1))
    assert failed(study) == {"enough seeds"}
    evidence = check(study, "enough seeds").evidence
    assert "4 of 4 configurations" in evidence and "2 seed(s) [0, 1]" in evidence
    assert failed(study, min_seeds=2) == set()


def test_one_configuration_short_of_seeds():
    study = [m for m in make_study() if not (m["model"] == "VBPR" and m["labels"]["strategy"] == "dropped"
                                              and m["labels"]["seed"] == 2)]
    assert failed(study) == {"enough seeds"}
    assert "1 of 4 configurations" in check(study, "enough seeds").evidence


# ---------------------------------------------------------------- inputs and edge cases

def test_no_manifests_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        audit_study([])


def test_bad_inputs_raise_clear_errors():
    study = make_study()
    with pytest.raises(DataError, match="not among the manifests"):
        audit_study(study, [(study[0]["fingerprint"], "0" * 64)])
    with pytest.raises(DataError, match="#1 has no 'fingerprint'"):
        audit_study([study[0], {"cell": {}}])
    with pytest.raises(DataError, match="appears twice"):
        audit_study([study[0], copy.deepcopy(study[0])])
    with pytest.raises(ConfigError, match="min_seeds"):
        audit_study(study, min_seeds=0)


def test_no_comparisons_still_checks_every_cell():
    study = make_study()
    plant(study)["test"]["evaluations"] = 3
    checks = {c.name: c for c in audit_study(study, [])}
    assert checks["same split"].passed and checks["same split"].evidence == "no cells to compare"
    assert not checks["test scored once"].passed


def test_single_cell_study():
    checks = audit_study([make_manifest()], min_seeds=1)
    assert all(c.passed for c in checks), format_checks(checks)


def test_malformed_manifest_fails_checks_instead_of_crashing():
    study = make_study()
    for key in ("test", "selection"):
        del plant(study)[key]
    assert {"test scored once", "selection on validation only", "full-ranking metrics"} <= failed(study)
