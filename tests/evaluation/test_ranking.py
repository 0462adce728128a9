"""Full ranking: masking of seen items, batching, score-function input and bad input."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from evaluation_toys import FixedScores, distinct_scores, make_split
from mmstudy.data.split import Split
from mmstudy.errors import ConfigError, DataError
from mmstudy.evaluation.ranking import (budget_batch_size, csr_entries, hit_matrix, rank_topk,
                                        seen_items)
from mmstudy.models.base import ModelInput


def _contains(matrix: sp.csr_matrix, users: np.ndarray, topk: torch.Tensor) -> bool:
    dense = matrix.toarray().astype(bool)[users]
    items = topk.numpy()
    return bool(np.take_along_axis(dense, np.where(items >= 0, items, 0), 1)[items >= 0].any())


def test_valid_ranking_excludes_train_items_only(split, model):
    users, topk = rank_topk(model, split, "valid", k_max=10)
    assert not _contains(split.train, users, topk)
    assert _contains(split.test, users, topk)  # test items are legitimate candidates for valid


def test_test_ranking_excludes_train_and_valid_items(split, model):
    users, topk = rank_topk(model, split, "test", k_max=10)
    assert not _contains(split.train, users, topk)
    assert not _contains(split.valid, users, topk)
    np.testing.assert_array_equal(users, split.eval_users("test"))


def test_ranking_is_the_score_order_of_unseen_items(split, model):
    users, topk = rank_topk(model, split, "test", k_max=5)
    seen = seen_items(split, "test").toarray().astype(bool)
    for u, row in zip(users[:5], topk.numpy()):
        scores = model.scores[u].numpy().copy()
        scores[seen[u]] = -np.inf
        np.testing.assert_array_equal(row, np.argsort(-scores, kind="stable")[:5])


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_batching_gives_identical_results(split, model, batch_size):
    _, whole = rank_topk(model, split, "valid", k_max=10, batch_size=10_000)
    _, batched = rank_topk(model, split, "valid", k_max=10, batch_size=batch_size)
    assert torch.equal(whole, batched)


def test_memory_budget_sets_the_batch_size(split, model):
    assert budget_batch_size(n_items=1024, memory_budget_mb=1) == 256
    assert budget_batch_size(n_items=10**9, memory_budget_mb=1) == 1
    _, whole = rank_topk(model, split, "valid", k_max=10)
    _, tiny = rank_topk(model, split, "valid", k_max=10, memory_budget_mb=4 * 25 * 3 / 2**20)
    assert torch.equal(whole, tiny)


def test_model_is_prepared_once_and_mode_restored(split, model):
    model.train()
    rank_topk(model, split, "valid", k_max=5, batch_size=2)
    assert model.prepared == 1 and model.training


def test_plain_score_function_is_accepted_and_not_modified(split, model):
    scores = model.scores.clone()
    _, from_model = rank_topk(model, split, "test", k_max=10)
    _, from_fn = rank_topk(lambda users: scores[:len(users)] * 0 + scores[users], split, "test", 10)
    assert torch.equal(from_model, from_fn)
    view_scores = scores.clone()
    rank_topk(lambda users: view_scores[: len(users)], split, "valid", 5, batch_size=1000)
    assert torch.equal(view_scores, scores)  # -inf masking never writes into the caller's tensor


def test_short_lists_are_padded_with_minus_one():
    split = make_split(n_users=6, n_items=8, seed=3, train=0.7, valid=0.15, test=0.15)
    model = FixedScores(ModelInput(split.train), distinct_scores(6, 8))
    users, topk = rank_topk(model, split, "test", k_max=11)  # more slots than items
    assert topk.shape == (len(users), 11)
    n_unseen = 8 - np.diff(seen_items(split, "test").indptr)[users]
    np.testing.assert_array_equal((topk.numpy() >= 0).sum(1), n_unseen)
    hits = hit_matrix(topk.numpy(), split.test[users])
    np.testing.assert_array_equal(hits.sum(1), np.diff(split.test.indptr)[users])


def test_csr_entries_selects_rows_in_order():
    m = sp.csr_matrix(np.array([[0, 1, 1], [0, 0, 0], [1, 0, 1]], dtype=np.float32))
    rows, cols = csr_entries(torch.from_numpy(m.indptr.astype(np.int64)),
                             torch.from_numpy(m.indices.astype(np.int64)), torch.tensor([2, 1, 0]))
    assert rows.tolist() == [0, 0, 2, 2] and cols.tolist() == [0, 2, 1, 2]


def test_hit_matrix_marks_membership():
    targets = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0]], dtype=np.float32))
    topk = np.array([[2, 1, 0], [0, 1, 2], [3, 1, -1]])
    expected = [[True, False, True], [False, False, False], [False, True, False]]
    np.testing.assert_array_equal(hit_matrix(topk, targets), expected)


def test_bad_input(split, model):
    with pytest.raises(ConfigError, match="part"):
        rank_topk(model, split, "train")
    with pytest.raises(ConfigError, match="k_max"):
        rank_topk(model, split, "valid", k_max=0)
    with pytest.raises(DataError, match="out of range"):
        rank_topk(model, split, "valid", users=np.array([0, 99]))
    with pytest.raises(ValueError, match="shape"):
        rank_topk(lambda users: torch.zeros(len(users), 3), split, "valid")
    with pytest.raises(FloatingPointError, match="NaN"):
        rank_topk(lambda users: torch.full((len(users), 25), float("nan")), split, "valid")
    with pytest.raises(TypeError, match="score function"):
        rank_topk("not a model", split, "valid")
    with pytest.raises(ConfigError, match="memory_budget_mb"):
        rank_topk(model, split, "valid", memory_budget_mb=0)


@pytest.mark.parametrize("budget", [0, -1.0, float("inf"), float("nan")])
def test_a_budget_that_is_not_a_finite_positive_number_is_one_config_error(split, model, budget):
    """inf and NaN used to escape as OverflowError / ValueError from int()."""
    with pytest.raises(ConfigError) as err:
        rank_topk(model, split, "valid", memory_budget_mb=budget)
    assert str(err.value) == f"memory_budget_mb (the evaluation memory budget) must be a finite number of MB > 0, got {budget}"


def test_user_without_targets_is_rejected():
    split = make_split(n_users=4, n_items=6, seed=0)
    valid = split.valid.tolil()
    valid[0, :] = 0
    split = Split(split.train, valid.tocsr(), split.test)
    model = FixedScores(ModelInput(split.train), distinct_scores(4, 6))
    with pytest.raises(DataError, match="user 0 has no valid interactions"):
        rank_topk(model, split, "valid", k_max=2, users=np.array([0]))


def test_a_single_nan_score_is_detected(split, model):
    scores = model.scores.clone()
    user = int(split.eval_users("valid")[0])
    unseen = np.setdiff1d(np.arange(25), split.train[user].indices)[0]
    scores[user, unseen] = float("nan")
    with pytest.raises(FloatingPointError, match="NaN"):
        rank_topk(lambda users: scores[users], split, "valid", k_max=3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_ranking_matches_cpu(split, model):
    cuda = torch.device("cuda")
    on_gpu = FixedScores(ModelInput(split.train, device=cuda), model.scores.to(cuda))
    for part in ("valid", "test"):
        _, expected = rank_topk(model, split, part, k_max=10)
        _, got = rank_topk(on_gpu, split, part, k_max=10, batch_size=7)
        assert got.device.type == "cpu" and torch.equal(got, expected)


class IntoBlock(FixedScores):
    """FixedScores through `Recommender.score`'s `out=` contract; records each block's address."""

    def __init__(self, data, scores, n_cols=None):
        super().__init__(data, scores)
        self.blocks, self.n_cols = [], n_cols

    def score(self, users, out=None):
        self.blocks.append(out.data_ptr())
        rows = self.scores[users]
        return torch.mm(rows[:, : self.n_cols or rows.shape[1]], torch.eye(self.n_cols or rows.shape[1]), out=out)


def test_a_model_fills_one_block_for_every_batch(split, model):
    into = IntoBlock(ModelInput(split.train), model.scores.clone())
    _, filled = rank_topk(into, split, "valid", k_max=10, batch_size=4)
    _, copied = rank_topk(model, split, "valid", k_max=10, batch_size=4)
    assert torch.equal(filled, copied)
    assert len(into.blocks) > 2 and len(set(into.blocks)) == 1  # one block, overwritten batch after batch


def test_a_model_of_another_catalogue_is_refused(split, model):
    wrong = IntoBlock(ModelInput(split.train), model.scores.clone(), n_cols=split.shape[1] - 1)
    with pytest.raises(ValueError, match="could not fill"):
        rank_topk(wrong, split, "valid", k_max=5)
