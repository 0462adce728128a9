import time

import numpy as np
import pytest
from PIL import Image

from mmstudy.data import make_split, make_synthetic, render_item_images
from mmstudy.data.sources.synthetic import _POLES, latent_factors
from mmstudy.errors import ConfigError, DataError

SMALL = dict(n_users=120, n_items=90, n_interactions=2000)


@pytest.fixture(scope="module")
def default():
    start = time.perf_counter()
    ds = make_synthetic()
    return ds, time.perf_counter() - start


def test_default_shape_and_speed(default):
    ds, seconds = default
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (1000, 800, 30000)
    assert seconds < 2.0
    assert np.diff(ds.interactions.indptr).min() >= 5
    assert ds.modalities["image"].dim == 64 and ds.modalities["text"].dim == 48
    assert ds.timestamps is not None and ds.timestamps.nnz == ds.n_interactions


def test_deterministic_from_seed():
    a, b, c = make_synthetic(**SMALL), make_synthetic(**SMALL), make_synthetic(**SMALL, seed=1)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert (a.timestamps != b.timestamps).nnz == 0
    assert a.modalities["text"].raw == b.modalities["text"].raw


def test_missing_shares_are_exact_and_raw_follows():
    ds = make_synthetic(**SMALL, missing_share={"image": 0.2, "text": 0.1})
    image, text = ds.modalities["image"], ds.modalities["text"]
    assert (~image.present).sum() == 18 and (~text.present).sum() == 9
    assert all((r is None) == (not p) for r, p in zip(text.raw, text.present))
    assert np.all(image.features[~image.present] == 0)


def test_popularity_is_long_tailed(default):
    degrees = np.sort(np.asarray(default[0].interactions.sum(axis=0)).ravel())[::-1]
    assert degrees[:80].sum() > 3 * degrees[-400:].sum() / 5  # top 10% of items >> bottom half per item


def test_content_predicts_preferences(default):
    """Positive control: held-out items are ranked well by content alone (user profile = mean
    content of the user's training items), far above chance, and better than popularity on
    long-tail items."""
    ds = default[0]
    split = make_split(ds, "random", seed=0)
    feats = np.concatenate([ds.modalities[m].features for m in ("image", "text")], axis=1)
    profiles = split.train @ feats / np.maximum(split.train.sum(axis=1), 1)
    scores = np.asarray(profiles) @ feats.T
    train_deg = np.asarray(split.train.sum(axis=0)).ravel()
    test = split.test.tocoo()
    tail = train_deg[test.col] <= np.median(train_deg)

    def auc(s):  # share of (user, held-out item, random item) triples ranked correctly
        rng = np.random.default_rng(0)
        neg = rng.integers(0, ds.n_items, test.nnz)
        return float((s[test.row, test.col] > s[test.row, neg]).mean()), \
            float((s[test.row, test.col] > s[test.row, neg])[tail].mean())

    content_all, content_tail = auc(scores)
    _, pop_tail = auc(np.broadcast_to(train_deg, scores.shape))
    assert content_all > 0.75 and content_tail > 0.7 and content_tail > pop_tail + 0.1


def test_texts_name_the_strongest_factor():
    ds = make_synthetic(**SMALL, n_factors=8, missing_share={})
    _, items, _ = latent_factors(ds.meta["generator"])
    strongest = np.argmax(np.abs(items), axis=1)
    for text, k, v in zip(ds.modalities["text"].raw, strongest, items[np.arange(90), strongest]):
        assert _POLES[k][0 if v > 0 else 1] in text.replace(",", " ").split()


def test_render_item_images(tmp_path):
    ds = make_synthetic(**SMALL, missing_share={"image": 0.1})
    out = render_item_images(ds, tmp_path)
    raw = out.modalities["image"].raw
    assert sum(r is not None for r in raw) == 81 and len(list(tmp_path.glob("*.png"))) == 81
    first = next(r for r in raw if r is not None)
    assert Image.open(first).size == (32, 32)
    again = make_synthetic(**SMALL, missing_share={"image": 0.1}, image_dir=tmp_path / "b")
    assert open(first, "rb").read() == open(again.modalities["image"].raw[raw.index(first)], "rb").read()
    subset = render_item_images(ds.subset_items(np.arange(3, 10)), tmp_path / "c")
    assert subset.modalities["image"].raw[0] in (None, str(tmp_path / "c" / "3.png"))


def test_render_rejects_non_synthetic(tmp_path):
    ds = make_synthetic(**SMALL)
    from dataclasses import replace
    with pytest.raises(DataError, match="not a synthetic dataset"):
        render_item_images(replace(ds, meta={}), tmp_path)


@pytest.mark.parametrize("bad", [dict(n_interactions=10), dict(missing_share={"audio": 0.1}),
                                 dict(missing_share={"image": 1.0}), dict(n_items=0)])
def test_bad_parameters(bad):
    with pytest.raises(ConfigError):
        make_synthetic(**{**SMALL, **bad})
