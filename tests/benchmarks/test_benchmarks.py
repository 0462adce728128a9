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
