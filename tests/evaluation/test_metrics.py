"""Accuracy metrics against a brute-force pure-Python reference and against ranx."""
import math

import numpy as np
import pytest

from evaluation_toys import FixedScores, distinct_scores, make_split
from mmstudy.errors import ConfigError
from mmstudy.evaluation import evaluate, rank_topk
from mmstudy.evaluation.metrics import METRICS, column, ndcg, parse_metric, recall
from mmstudy.models.base import ModelInput
from mmstudy.registry import UnknownNameError

CUTOFFS = (1, 3, 5, 10)


def reference(ranked: list[int], relevant: set[int], k: int) -> dict[str, float]:
    """Textbook definitions, one user at a time (see mmstudy.evaluation.metrics)."""
    top = [i for i in ranked[:k] if i >= 0]
    hit_ranks = [r for r, item in enumerate(top, start=1) if item in relevant]
    n_ideal = min(len(relevant), k)
    dcg = sum(1 / math.log2(r + 1) for r in hit_ranks)
    idcg = sum(1 / math.log2(r + 1) for r in range(1, n_ideal + 1))
    precision_sum = sum((n + 1) / r for n, r in enumerate(hit_ranks))
    return {"Recall": len(hit_ranks) / len(relevant), "Precision": len(hit_ranks) / k,
            "HitRate": float(bool(hit_ranks)), "nDCG": dcg / idcg, "MAP": precision_sum / n_ideal,
            "MAPcut": precision_sum / len(relevant),
            "MRR": 1 / hit_ranks[0] if hit_ranks else 0.0}


def brute_force_ranking(scores: np.ndarray, seen: set[int]) -> list[int]:
    return sorted((i for i in range(len(scores)) if i not in seen), key=lambda i: -scores[i])


@pytest.mark.parametrize("part", ["valid", "test"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_metric_matches_brute_force(part, seed):
    split = make_split(n_users=25, n_items=20, seed=seed, train=0.3, valid=0.25, test=0.25)
    scores = distinct_scores(*split.shape, seed=seed)
    result = evaluate(FixedScores(ModelInput(split.train), scores), split, part, cutoffs=CUTOFFS)
    masked = split.train + (split.valid if part == "test" else 0)
    targets = getattr(split, part)
    n_relevant = np.diff(targets.indptr)[result.per_user.index]
    assert (n_relevant < 10).any() and (n_relevant > 3).any()  # both regimes are exercised
    for user in result.per_user.index:
        ranked = brute_force_ranking(scores[user].numpy(), set(masked[user].indices))
        relevant = set(targets[user].indices)
        for k in CUTOFFS:
            for name, value in reference(ranked, relevant, k).items():
                assert result.per_user.loc[user, f"{name}@{k}"] == pytest.approx(value, abs=1e-12), \
                    (user, name, k)


def test_metrics_match_ranx(split, model):
    ranx = pytest.importorskip("ranx")
    users, topk = rank_topk(model, split, "test", k_max=10)
    qrels = ranx.Qrels({str(u): {str(i): 1 for i in split.test[u].indices} for u in users})
    run = ranx.Run({str(u): {str(i): float(10 - r) for r, i in enumerate(row)}
                    for u, row in zip(users, topk.tolist())})
    names = {"Recall": "recall", "Precision": "precision", "HitRate": "hit_rate", "nDCG": "ndcg",
             "MAP": "map", "MAPcut": "map", "MRR": "mrr"}
    ours = evaluate(model, split, "test", cutoffs=(5, 10)).per_user
    n_relevant = np.diff(split.test.indptr)[users]
    for k in (5, 10):
        ranx.evaluate(qrels, run, [f"{m}@{k}" for m in names.values()], make_comparable=True)
        for name, ranx_name in names.items():
            theirs = np.array([run.scores[f"{ranx_name}@{k}"][str(u)] for u in users])
            mine = ours[f"{name}@{k}"].to_numpy()
            if name == "MAP":  # ranx divides AP by |relevant|, MAP (like MMRec) by min(|relevant|, k)
                mine = mine * np.minimum(n_relevant, k) / n_relevant
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12, err_msg=name)  # MAPcut as is


def test_hand_computed_values():
    hits = np.array([[False, True, False, True], [False, False, False, False]])
    n_rel = np.array([4, 1])
    np.testing.assert_allclose(recall(hits, n_rel), [0.5, 0.0])
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / sum(1 / math.log2(r + 1) for r in range(1, 5))
    np.testing.assert_allclose(ndcg(hits, n_rel), [expected, 0.0])
    np.testing.assert_allclose(METRICS.get("map")(hits, n_rel), [(1 / 2 + 2 / 4) / 4, 0.0])
    np.testing.assert_allclose(METRICS.get("mrr")(hits, n_rel), [0.5, 0.0])


def test_users_without_relevant_items_are_rejected():
    with pytest.raises(ValueError, match="relevant"):
        recall(np.zeros((1, 3), bool), np.array([0]))


def test_names_are_case_insensitive_and_canonical():
    assert parse_metric("recall@20") == ("Recall", 20)
    assert parse_metric(" NDCG @ 10 ") == ("nDCG", 10)
    assert parse_metric("hit_rate@5") == ("HitRate", 5)
    assert column("ndcg", 50) == "nDCG@50"
    assert set(METRICS.names()) == {"Recall", "Precision", "HitRate", "nDCG", "MAP", "MAPcut", "MRR"}


@pytest.mark.parametrize("bad", ["recall", "Recall@", "Recall@0", "@20", "Recall@2.5"])
def test_malformed_metric_names(bad):
    with pytest.raises(ConfigError, match="metric"):
        parse_metric(bad)


def test_unknown_metric_suggests_a_name():
    with pytest.raises(UnknownNameError, match="Did you mean 'Recall'"):
        parse_metric("recal@20")
