"""Benchmark plumbing: merged result files, seed summaries, partial epochs (tiny shapes only)."""
import json
import math

import numpy as np
import pytest
from scipy import stats

from benchmarks import common
from benchmarks.models import accuracy_summary, speed_row
from benchmarks.scale import bench_one


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    return tmp_path


def test_earlier_rows_are_kept_unless_rerun_or_from_another_context(results):
    earlier = {"shape": {"users": 10}, "rows": [{"model": "A", "epoch_s": 1.0}, {"model": "B", "epoch_s": 2.0}]}
    (results / "scale.json").write_text(json.dumps(earlier))
    merged = common.with_earlier_rows("scale", [{"model": "B", "epoch_s": 3.0}], ("model",), {"shape": {"users": 10}})
    assert merged == [{"model": "A", "epoch_s": 1.0}, {"model": "B", "epoch_s": 3.0}]
    other = common.with_earlier_rows("scale", [{"model": "C"}], ("model",), {"shape": {"users": 99}})
    assert other == [{"model": "C"}]
    assert common.with_earlier_rows("missing", [{"model": "C"}], ("model",), {}) == [{"model": "C"}]


def test_accuracy_summary_is_mean_and_t_interval_over_seeds():
    rows = [{"model": "M", "seed": s, "recall20": r, "ndcg20": r / 2} for s, r in zip((1, 2, 3), (0.30, 0.32, 0.37))]
    rows.append({"model": "N", "seed": 1, "recall20": 0.2, "ndcg20": 0.1})
    rows.append({"model": "N", "seed": 2, "error": "boom"})
    summary = {entry["model"]: entry for entry in accuracy_summary(rows)}
    values = np.array([0.30, 0.32, 0.37])
    half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / math.sqrt(3)
    assert summary["M"]["seeds"] == 3 and summary["M"]["recall20"] == pytest.approx(values.mean())
    assert summary["M"]["recall20_ci"] == pytest.approx(half) and summary["M"]["ndcg20_ci"] == pytest.approx(half / 2)
    assert summary["N"]["seeds"] == 1 and math.isnan(summary["N"]["recall20_ci"])


def test_speed_row_adds_reference_figures_only_when_known():
    row = speed_row({"model": "VBPR", "s_epoch": 0.235, "s_valid": 0.043})
    assert row["speedup_epoch"] == pytest.approx(2.0) and row["speedup_valid"] == pytest.approx(10.0)
    assert "speedup_epoch" not in speed_row({"model": "MGCN", "s_epoch": 1.0, "s_valid": 1.0})
    assert speed_row({"model": "VBPR", "error": "x"}) == {"model": "VBPR", "error": "x"}


def test_scale_bench_times_a_whole_or_a_partial_epoch():
    whole = bench_one("LightGCN", 300, 120, 2500, threads=1)
    assert whole["epoch_complete"] and whole["batches"] == whole["batches_per_epoch"] == 1
    partial = bench_one("BPR-MF", 3000, 500, 30000, threads=1, max_batches=2)
    assert not partial["epoch_complete"] and partial["batches"] == 2 < partial["batches_per_epoch"]
    assert 0 <= partial["valid_recall20"] <= 1 and partial["peak_rss_mb"] > 0


def test_first_batches_stops_after_n():
    import scipy.sparse as sp
    import torch

    from benchmarks.scale import FirstBatches
    from mmstudy.training import NegativeSampler

    train = sp.random(50, 40, density=0.3, format="csr", random_state=0)
    sampler = NegativeSampler(train, torch.Generator().manual_seed(0), batch_size=64)
    limited = FirstBatches(sampler, 3)
    assert len(sampler) > 3 and len(limited) == 3 and len(list(limited)) == 3


def test_isolated_case_that_runs_too_long_becomes_an_error_row():
    from benchmarks.common import run_isolated

    row = run_isolated("timeit", "-n", "1", "import time; time.sleep(30)", timeout=1)
    assert row == {"error": "timed out after 1 s"}


def _write_present(root, spec):
    """Empty files under the expected names: enough for the presence check, never loaded."""
    for name in spec.expected_files(spec.default_modalities):
        (root / spec.name / name).parent.mkdir(parents=True, exist_ok=True)
        (root / spec.name / name).write_text("")


def test_models_dataset_flag_reaches_each_run_and_prints_published_results(results, tmp_path, monkeypatch, capsys):
    from benchmarks import models
    from mmstudy.data.sources.reference_results import MMREC_RESULTS
    from mmstudy.data.sources.standard_catalog import STANDARD_DATASETS

    spec = next(s for s in STANDARD_DATASETS if s.name == "amazon-baby")
    _write_present(tmp_path, spec)
    monkeypatch.setenv("MMSTUDY_DATA", str(tmp_path))
    calls = []

    def fake_run(module, *args, timeout=3600):
        calls.append(args)
        return {"recall20": 0.09, "ndcg20": 0.04, "s_epoch": 1.0, "s_valid": 1.0}

    monkeypatch.setattr(common, "run_isolated", fake_run)
    payload = models.main(["--dataset", "amazon_baby", "--models", "FREEDOM", "BPR-MF"])  # an alias
    assert [c[c.index("--dataset") + 1] for c in calls] == ["amazon-baby", "amazon-baby"]
    assert payload["dataset"] == "amazon-baby" and (results / "models-amazon-baby.json").exists()
    assert not any("speedup_epoch" in row for row in payload["rows"])  # toolbox timings are Last.fm-only
    freedom = next(row for row in payload["published"] if row["model"] == "FREEDOM")
    assert freedom == {"model": "FREEDOM", "recall20": 0.09, "published_recall20": 0.0992,
                       "published_ndcg20": 0.0424, "ndcg20": 0.04}
    lattice = next(row for row in payload["published"] if row["model"] == "LATTICE")
    assert lattice["recall20"] is None and lattice["published_recall20"] == 0.0850  # published, not rerun
    out = capsys.readouterr().out
    assert f"published_* = numbers published in {MMREC_RESULTS}; copied, not produced by this run" in out


def test_models_stops_with_what_to_download_when_the_dataset_is_absent(results, tmp_path, monkeypatch):
    from benchmarks import models

    monkeypatch.setenv("MMSTUDY_DATA", str(tmp_path))
    monkeypatch.setattr(common, "run_isolated", lambda *a, **k: pytest.fail("nothing may run"))
    with pytest.raises(SystemExit) as stop:
        models.main(["--dataset", "amazon-baby"])
    message = str(stop.value.code)
    assert message.startswith("error: dataset 'amazon-baby'") and "Download folder 'baby'" in message
    assert str(tmp_path / "amazon-baby" / "baby.inter") in message
    with pytest.raises(SystemExit, match="Did you mean 'amazon-baby'"):
        models.main(["--dataset", "amazon-babi"])


def test_models_one_run_loads_the_requested_dataset(tmp_path):
    """`--one` with --dataset: the fresh process trains on that dataset (a tiny MMRec folder here)."""
    import numpy as np

    from benchmarks.models import bench_one, one_args, parse_args
    from tests.data.files import MMREC_ROWS, write_tsv

    d = tmp_path / "tiny"
    write_tsv(d / "tiny.inter", ["userID", "itemID", "rating", "x_label"], MMREC_ROWS)
    np.save(d / "image.npy", np.ones((4, 3), np.float32))
    row = bench_one("BPR-MF", epochs=1, patience=1, threads=1, dataset_name=str(d))
    assert row["epochs_run"] == 1 and 0 <= row["recall20"] <= 1
    args = parse_args(["--dataset", str(d), "--epochs", "3"])
    assert one_args(args, "VBPR", 7) == ["--one", "VBPR", "--dataset", str(d), "--epochs", "3", "--patience", "20",
                                         "--threads", "2", "--seeds", "7"]


def test_seed_batch_rows_take_medians_and_the_speedup():
    from benchmarks.seed_batch import summary_row

    def run(wall, recall):
        return {"wall_s": wall, "cpu_s": wall / 2, "load": [1.0, 3.0], "recall": recall}

    runs = {"batched": [run(2.0, [0.30, 0.34]), run(9.0, [0.30, 0.34]), run(4.0, [0.30, 0.34])],
            "separate": [run(6.0, [0.30, 0.35]), run(8.0, [0.30, 0.35]), run(1.0, [0.30, 0.35])]}
    row = summary_row("VBPR", 2, 5, runs)
    assert (row["batched_wall_s"], row["separate_wall_s"], row["speedup_wall"]) == (4.0, 6.0, 1.5)
    assert row["speedup_cpu"] == 1.5 and row["batched_load"] == 2.0 and row["repeats"] == 3
    assert row["batched_recall_mean"] == pytest.approx(0.32) and row["separate_recall"] == [0.30, 0.35]
    assert 0 < row["welch_p"] <= 1


def test_every_benchmark_module_is_a_suite():
    """`python -m benchmarks` runs every suite: a new benchmark module must be listed (the CUDA
    benchmark, `gpu`, is run by name on a GPU machine)."""
    from pathlib import Path

    from benchmarks.__main__ import SUITES

    modules = {p.stem for p in Path(__file__).resolve().parents[2].joinpath("benchmarks").glob("*.py")}
    assert modules - {"__init__", "__main__", "common", "gpu"} == {m.rsplit(".", 1)[1] for m in SUITES.values()}
