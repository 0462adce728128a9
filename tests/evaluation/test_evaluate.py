"""evaluate(): the EvalResult table, metric selection, users and cutoffs."""
import numpy as np
import pandas as pd
import pytest
import torch

from mmstudy.errors import ConfigError
from mmstudy.evaluation import EvalResult, evaluate, evaluate_metric, rank_topk
from mmstudy.registry import UnknownNameError


def test_result_layout(split, model):
    result = evaluate(model, split, "test")
    assert isinstance(result, EvalResult) and result.part == "test" and result.seconds > 0
    assert result.per_user.index.name == "user"
    np.testing.assert_array_equal(result.per_user.index, split.eval_users("test"))
    assert result.n_users == len(split.eval_users("test"))
    expected = {f"{m}@{k}" for m in ("Recall", "Precision", "HitRate", "nDCG", "MAP", "MAPcut", "MRR",
                                     "APLT", "ARP", "EFD") for k in (10, 20, 50)}
    assert set(result.per_user.columns) == expected
    assert (result.per_user.dtypes == np.float64).all()
    assert set(result.list_metrics) == {f"{m}@{k}" for m in ("Coverage", "GiniDiversity")
                                        for k in (10, 20, 50)}
    means = result.mean()
    assert means["Recall@10"] == pytest.approx(result.per_user["Recall@10"].mean())
    assert means["Coverage@20"] == result.list_metrics["Coverage@20"]


def test_recall_grows_with_the_cutoff(split, model):
    per_user = evaluate(model, split, "valid").per_user
    assert (per_user["Recall@10"] <= per_user["Recall@20"]).all()
    assert (per_user["Recall@20"] <= per_user["Recall@50"] + 1e-12).all()


def test_metric_subset_and_single_metric(split, model):
    result = evaluate(model, split, "valid", cutoffs=(5,), metrics=["ndcg"], beyond=False)
    assert list(result.per_user.columns) == ["nDCG@5"] and result.list_metrics == {}
    full = evaluate(model, split, "valid", cutoffs=(5,)).per_user["nDCG@5"].mean()
    assert evaluate_metric(model, split, "NDCG@5") == pytest.approx(full)


def test_perfect_scores_give_perfect_recall(split):
    dense = split.test.toarray()
    result = evaluate(lambda users: torch.from_numpy(dense[users.numpy()]),
                      split, "test", cutoffs=(25,), metrics=["recall", "ndcg"])
    np.testing.assert_allclose(result.per_user[["Recall@25", "nDCG@25"]], 1.0, rtol=1e-12)


def test_explicit_users_subset(split, model):
    users = split.eval_users("valid")[::3]
    sub = evaluate(model, split, "valid", users=users)
    full = evaluate(model, split, "valid")
    pd.testing.assert_frame_equal(sub.per_user[["Recall@10"]],
                                  full.per_user.loc[users, ["Recall@10"]])


def test_batch_size_does_not_change_results(split, model):
    a = evaluate(model, split, "test", batch_size=1)
    b = evaluate(model, split, "test")
    pd.testing.assert_frame_equal(a.per_user, b.per_user)
    assert a.list_metrics == b.list_metrics


def test_no_users_is_an_empty_result(split, model):
    result = evaluate(model, split, "valid", users=np.array([], dtype=np.int64))
    assert result.n_users == 0 and len(result.per_user) == 0
    _, topk = rank_topk(model, split, "valid", users=np.array([], dtype=np.int64), k_max=4)
    assert topk.shape == (0, 4)


def test_bad_arguments(split, model):
    with pytest.raises(ConfigError, match="cutoffs"):
        evaluate(model, split, "valid", cutoffs=(0, 10))
    with pytest.raises(ConfigError, match="cutoffs"):
        evaluate(model, split, "valid", cutoffs=())
    with pytest.raises(ConfigError, match="part"):
        evaluate(model, split, "validation")
    with pytest.raises(UnknownNameError, match="Did you mean"):
        evaluate(model, split, "valid", metrics=["recal"])
