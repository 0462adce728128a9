"""Missingness mechanisms: exact rates, nesting, seeding, mcar unchanged, and the bias each adds."""
import re

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from mmstudy.errors import ConfigError, DataError
from mmstudy.missing.masking import Mask, make_mask
from mmstudy.missing.mechanisms import (MAX_STRENGTH, MechanismChoice, check_mechanism, check_strength,
                                        content_score, mechanism_scores, training_popularity)
from mmstudy.missing.profile import who_is_missing

from .conftest import modality

N_USERS, N_ITEMS = 400, 600
TWO = ["image", "text"]
SETTINGS = [("single", "text"), ("same", None), ("independent", None)]


@pytest.fixture(scope="module")
def train():
    """Long-tailed training interactions: 25 items per user, item i drawn with weight 1 / (1 + i)."""
    rng = np.random.default_rng(11)
    keys = -np.log1p(np.arange(N_ITEMS)) + rng.gumbel(size=(N_USERS, N_ITEMS))  # Gumbel top-k sampling
    cols = np.argpartition(-keys, 25, axis=1)[:, :25].ravel()
    rows = np.repeat(np.arange(N_USERS), 25)
    return sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(N_USERS, N_ITEMS))


@pytest.fixture(scope="module")
def modalities():
    rng = np.random.default_rng(5)
    present = rng.random(N_ITEMS) > 0.1  # 10% naturally without text
    return {"image": modality(rng.standard_normal((N_ITEMS, 8)), name="image"),
            "text": modality(rng.standard_normal((N_ITEMS, 16)) * np.linspace(3, 0.5, 16), present, name="text")}


def draw(modalities, train, mechanism, strength, rate=0.4, setting="same", target=None, seed=0):
    natural = {name: m.present for name, m in modalities.items()}
    return make_mask(N_ITEMS, TWO, rate, setting, target=target, seed=seed, natural=natural, mechanism=mechanism,
                     strength=strength, score=mechanism_scores(mechanism, modalities, train))


def long_tail_rho(mask, train):
    """Spearman's rho between long-tail rank (1 = most popular decile) and the decile's missing share."""
    record = who_is_missing(mask, train)
    share = np.sum(list(record["masked"].values()), axis=0) / np.sum(list(record["candidates"].values()), axis=0)
    return stats.spearmanr(np.arange(1, 11), share).statistic


MECHANISMS = [("mcar", 0.0), ("popularity", 2.0), ("content", 2.0)]


@pytest.mark.parametrize("mechanism, strength", MECHANISMS)
@pytest.mark.parametrize("setting, target", SETTINGS)
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_exact_rates(modalities, train, mechanism, strength, setting, target, rate):
    mask = draw(modalities, train, mechanism, strength, rate, setting, target)
    present_everywhere = modalities["image"].present & modalities["text"].present
    for name in ([target] if setting == "single" else TWO):
        pool = present_everywhere if setting == "same" else modalities[name].present
        assert mask.synthetic(name).sum() == round(rate * pool.sum())
        assert not (mask.synthetic(name) & ~pool).any()


@pytest.mark.parametrize("mechanism, strength", MECHANISMS)
@pytest.mark.parametrize("setting, target", SETTINGS)
def test_masks_are_nested_across_rates_and_seeded(modalities, train, mechanism, strength, setting, target):
    masks = [draw(modalities, train, mechanism, strength, rate, setting, target, seed=3) for rate in (0.2, 0.5, 0.8)]
    for low, high in zip(masks, masks[1:]):
        assert all(not (low.missing[n] & ~high.missing[n]).any() for n in TWO)
    again = draw(modalities, train, mechanism, strength, 0.5, setting, target, seed=3)
    other = draw(modalities, train, mechanism, strength, 0.5, setting, target, seed=4)
    assert again.checksum == masks[1].checksum and other.checksum != masks[1].checksum
    assert all(np.array_equal(again.missing[n], masks[1].missing[n]) for n in TWO)


# Checksums of masks drawn by the code before mechanisms existed (commit 762b099): mcar is unchanged.
PRESENT = np.random.default_rng(0).random(1000) > 0.2
PINNED = [({"rate": 0.3, "setting": "independent", "seed": 7},
           "a3857a2871650957f61d7e453c9ace76c206bee53b6212eca638416ee7342059"),
          ({"rate": 0.5, "setting": "single", "target": "text", "seed": 2, "natural": {"text": PRESENT}},
           "d2f19ea7d94828710417b0163da9876a11c11acaf85e783ab5c25ad4080a8a30"),
          ({"rate": 0.6, "setting": "same", "seed": 5, "natural": {"image": PRESENT}},
           "e1fb835f24b9c90391c07f54ee4102612a4bf7f7a8a01e2aab75b0dedd3dfa66")]


@pytest.mark.parametrize("kwargs, checksum", PINNED)
def test_mcar_masks_are_those_drawn_before_mechanisms(kwargs, checksum):
    assert make_mask(1000, TWO, **kwargs).checksum == checksum
    assert make_mask(1000, TWO, **kwargs, mechanism="mcar", strength=0).checksum == checksum


def test_strength_zero_draws_the_mcar_order_and_the_checksum_names_the_mechanism(modalities, train):
    mcar = draw(modalities, train, "mcar", 0.0)
    flat = draw(modalities, train, "popularity", 0.0)
    assert all(np.array_equal(mcar.missing[n], flat.missing[n]) for n in TWO)
    assert flat.checksum != mcar.checksum  # same arrays, other mechanism: another mask in the manifest
    assert draw(modalities, train, "popularity", 1.0).checksum != draw(modalities, train, "popularity", 2.0).checksum


def test_popularity_takes_the_long_tail_first(modalities, train):
    rho = {strength: np.mean([long_tail_rho(draw(modalities, train, "popularity", strength, seed=s), train)
                              for s in range(10)]) for strength in (0.5, 2.0)}
    mcar = np.mean([long_tail_rho(draw(modalities, train, "mcar", 0.0, seed=s), train) for s in range(30)])
    assert rho[2.0] >= 0.8 and rho[2.0] > rho[0.5] > 0.3
    assert abs(mcar) < 0.2


def test_popularity_reads_only_the_training_interactions(modalities, train):
    """An item's interactions outside the given split do not change its chance: the mask depends on
    the training counts alone (here the reversed popularity makes the head lose content)."""
    reversed_train = sp.csr_matrix(train[:, ::-1])
    rho = np.mean([long_tail_rho(draw(modalities, reversed_train, "popularity", 2.0, seed=s), train)
                   for s in range(5)])
    assert rho < -0.8
    assert np.array_equal(training_popularity(train, N_ITEMS), np.asarray(train.sum(axis=0)).ravel())


def test_content_masks_follow_the_content_score(modalities, train):
    z = content_score(modalities, ["text"])
    pool = modalities["text"].present

    def correlation(mechanism, strength, seed):
        mask = draw(modalities, train, mechanism, strength, 0.4, "single", "text", seed)
        return stats.spearmanr(z[pool], mask.synthetic("text")[pool]).statistic

    assert np.mean([correlation("content", 2.0, s) for s in range(5)]) > 0.5
    assert abs(np.mean([correlation("mcar", 0.0, s) for s in range(20)])) < 0.05


def test_content_score_is_the_standardized_first_component():
    rng = np.random.default_rng(2)
    latent = rng.standard_normal(300)
    direction = np.array([0.2, -0.9, 0.3, 0.1])  # largest loading negative: the score flips sign
    features = latent[:, None] * direction * 5 + rng.standard_normal((300, 4)) * 0.1
    present = np.ones(300, bool)
    present[:10] = False
    z = content_score({"x": modality(features, present, name="x")}, ["x"])
    assert np.isclose(z[present].mean(), 0, atol=1e-9) and np.isclose(z[present].std(), 1)
    assert stats.pearsonr(z[present], -latent[present]).statistic > 0.99 and (z[~present] == 0).all()


def test_content_score_of_several_modalities_is_their_standardized_mean(modalities):
    both = content_score(modalities, TWO)
    rows = modalities["image"].present & modalities["text"].present
    mean = content_score(modalities, ["image"]) + content_score(modalities, ["text"])
    assert np.allclose(both[rows], (mean[rows] - mean[rows].mean()) / mean[rows].std())


@pytest.mark.parametrize("features, message", [
    (np.ones((20, 3)), "no content variance"),
    (np.zeros((20, 0)), "0 features; nothing to rank them by (raw content only: extract features with "
                        "data.features)"),
])
def test_content_needs_varying_features(features, message):
    score = mechanism_scores("content", {"x": modality(features, name="x")})
    with pytest.raises(DataError, match=re.escape(message)):
        make_mask(20, ["x"], 0.5, mechanism="content", strength=1, score=score)


def test_popularity_needs_the_training_split(modalities):
    with pytest.raises(ConfigError, match="needs the cell's training split"):
        make_mask(N_ITEMS, TWO, 0.5, "same", mechanism="popularity", strength=1,
                  score=mechanism_scores("popularity", modalities, None))


def test_save_load_keeps_the_mechanism_and_old_files_read_as_mcar(modalities, train, tmp_path):
    mask = draw(modalities, train, "popularity", 1.5)
    mask.save(tmp_path / "m.npz")
    back = Mask.load(tmp_path / "m.npz")
    assert (back.mechanism, back.strength, back.checksum) == ("popularity", 1.5, mask.checksum)
    mcar = make_mask(50, TWO, 0.5, "same", seed=1)
    arrays = {"names": np.asarray(TWO), "setting": np.asarray("same"), "rate": np.asarray(0.5),
              "seed": np.asarray(1), "target": np.asarray(""), "checksum": np.asarray(mcar.checksum)}
    for i, name in enumerate(TWO):
        arrays[f"missing_{i}"], arrays[f"natural_{i}"] = mcar.missing[name], mcar.natural[name]
    np.savez(tmp_path / "old.npz", **arrays)  # the layout written before mechanisms
    old = Mask.load(tmp_path / "old.npz")
    assert (old.mechanism, old.strength, old.checksum) == ("mcar", 0.0, mcar.checksum)


@pytest.mark.parametrize("call, message", [
    (lambda: check_mechanism("popularty", "missing.mechanism"),
     "missing.mechanism: unknown missingness mechanism 'popularty'. Did you mean 'popularity'?"),
    (lambda: check_mechanism("natural", "m"), "the data's own gaps are the setting 'natural'"),
    (lambda: check_strength("popularity", -1, "s"), "strength -1 is negative"),
    (lambda: check_strength("popularity", float("nan"), "s"), "strength must be a number from 0 to 10, got nan"),
    (lambda: check_strength("content", "2", "s"), "got '2'"),
    (lambda: check_strength("content", True, "s"), "got True"),
    (lambda: check_strength("content", MAX_STRENGTH + 1, "s"), "above the maximum 10"),
    (lambda: check_strength("mcar", 1, "s"), "mechanism 'mcar' takes no strength"),
    (lambda: make_mask(10, ["x"], 0.5, mechanism="content", strength=1), "needs its item scores"),
    (lambda: make_mask(10, ["x"], 0.5, mechanism="content", strength=1, score=lambda names: np.zeros(3)),
     r"scored \(3,\) items"),
    (lambda: MechanismChoice.parse({"name": "content", "strenght": 1}, "m[0]"), "Did you mean 'strength'"),
    (lambda: MechanismChoice.parse({"strength": 1}, "m[0]"), "needs a name"),
    (lambda: MechanismChoice.parse(3, "m[0]"), "expected a mechanism name"),
])
def test_bad_mechanisms_and_strengths(call, message):
    with pytest.raises((ConfigError, DataError), match=message):
        call()


def test_choices_and_labels():
    assert MechanismChoice.parse("popularity", "m").label == "popularity:1"  # a bare name: strength 1
    assert MechanismChoice.parse({"name": "Content", "strength": 0.5}, "m").label == "content:0.5"
    assert MechanismChoice.parse("mcar", "m") == MechanismChoice("mcar", 0.0)
