"""Late fusion: score normalisation, reciprocal-rank fusion, weight selection on validation only,
the component plan, and a late-fusion cell end to end."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

import mmstudy.evaluation
from mmstudy.data.split import Split
from mmstudy.errors import ConfigError
from mmstudy.evaluation import evaluate_metric
from mmstudy.schema.fusion import FusionConfig
from mmstudy.schema.late import (LateFusion, normalise_scores, reciprocal_ranks, select_weights,
                                 simplex_grid)


def test_simplex_grid_covers_the_simplex():
    grid = simplex_grid(3, 0.25)
    assert len(grid) == 15 and len(set(grid)) == 15  # C(4 + 2, 2)
    assert all(abs(sum(w) - 1) < 1e-12 and min(w) >= 0 for w in grid)
    assert grid[0] == (1.0, 0.0, 0.0) and simplex_grid(2, None) == [(0.5, 0.5)]
    with pytest.raises(ConfigError, match="must divide 1"):
        simplex_grid(2, 0.3)


def test_minmax_and_zscore_normalise_over_candidates_only():
    scores = torch.tensor([[1.0, 3.0, 5.0, 100.0], [2.0, 2.0, 2.0, 2.0]])
    candidates = torch.tensor([[True, True, True, False], [True, True, True, True]])
    minmax = normalise_scores(scores, candidates, "minmax")
    assert torch.allclose(minmax, torch.tensor([[0.0, 0.5, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    z = normalise_scores(scores, candidates, "zscore")
    assert torch.allclose(z[0, :3].mean(), torch.tensor(0.0), atol=1e-6)
    assert torch.allclose(z[0, :3].pow(2).mean(), torch.tensor(1.0))
    assert z[0, 3] == 0 and torch.equal(z[1], torch.zeros(4))
    with pytest.raises(ConfigError, match="normalisation"):
        normalise_scores(scores, candidates, "rank")


def test_reciprocal_ranks_rank_the_candidates():
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.7]])
    rr = reciprocal_ranks(scores, torch.ones(1, 4, dtype=torch.bool), k=0)
    assert torch.allclose(rr, torch.tensor([[1 / 4, 1 / 1, 1 / 3, 1 / 2]]))
    masked = reciprocal_ranks(scores, torch.tensor([[True, False, True, True]]), k=10)
    assert torch.allclose(masked, torch.tensor([[1 / 13, 0.0, 1 / 12, 1 / 11]]))


def test_rrf_fuses_a_toy_ranking_as_computed_by_hand():
    a = torch.tensor([[4.0, 3.0, 2.0, 1.0]])  # ranks items 0, 1, 2, 3
    b = torch.tensor([[1.0, 4.0, 3.0, 2.0]])  # ranks items 1, 2, 3, 0
    fusion = LateFusion([lambda u: a, lambda u: b], sp.csr_matrix((1, 4)), "valid", method="rrf", rrf_k=1)
    fused = fusion.scorer((0.5, 0.5))(torch.tensor([0]))
    expected = 0.5 * torch.tensor([[1 / 2 + 1 / 5, 1 / 3 + 1 / 2, 1 / 4 + 1 / 3, 1 / 5 + 1 / 4]])
    assert torch.allclose(fused, expected)
    assert torch.argsort(fused[0], descending=True).tolist() == [1, 0, 2, 3]


def test_cached_and_streamed_component_scores_agree():
    g = torch.Generator().manual_seed(0)
    tables = [torch.randn(5, 7, generator=g) for _ in range(2)]
    fns = [lambda u, t=t: t[u] for t in tables]
    exclude = sp.random(5, 7, density=0.3, random_state=0, format="csr")
    cached = LateFusion(fns, exclude, "valid", norm="zscore")
    streamed = LateFusion(fns, exclude, "valid", norm="zscore", budget_mb=0)
    users = torch.tensor([4, 0, 2])
    assert streamed._cache is None and cached._cache is not None
    assert torch.allclose(cached.scorer((0.3, 0.7))(users), streamed.scorer((0.3, 0.7))(users))


def conflicting_problem():
    """Component A finds the validation items, B the test items: validation-optimal weights (1, 0)
    differ from test-optimal weights (0, 1)."""
    n_users = 4
    column = lambda item: sp.csr_matrix((np.ones(n_users), (np.arange(n_users), np.full(n_users, item))),
                                        shape=(n_users, 6))
    split = Split(column(0), column(1), column(5))
    a = torch.tensor([0.0, 5, 4, 3, 2, 1]).expand(n_users, -1)
    b = torch.tensor([0.0, 4, 1, 2, 3, 5]).expand(n_users, -1)
    fns = [lambda u: a[u], lambda u: b[u]]
    return split, fns


def test_weights_are_selected_on_validation_only(monkeypatch):
    split, fns = conflicting_problem()
    parts = []
    original = mmstudy.evaluation.evaluate_metric

    def spy(scorer, split_, metric, part="valid", **kwargs):
        parts.append(part)
        return original(scorer, split_, metric, part, **kwargs)

    monkeypatch.setattr(mmstudy.evaluation, "evaluate_metric", spy)
    valid = LateFusion.for_part(fns, split, "valid", FusionConfig.parse({"point": "late"}))
    weights, score, trials = select_weights(valid, split, "Recall@1", simplex_grid(2, 0.5))
    assert parts == ["valid"] * 3 and len(trials) == 3
    assert weights == (1.0, 0.0) and score == 1.0
    test = LateFusion(fns, split.train + split.valid, "test")
    on_test = {w: evaluate_metric(test.scorer(w), split, "Recall@1", "test") for w, _ in trials}
    assert on_test[(0.0, 1.0)] == 1.0 and on_test[(1.0, 0.0)] == 0.0  # the test would have chosen otherwise
    with pytest.raises(ConfigError, match="selected on validation"):
        select_weights(test, split, "Recall@1", simplex_grid(2, 0.5))
