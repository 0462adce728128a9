"""Graph imputation on Last.fm-2K text features: the co-interaction graph carries content signal."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from mmstudy.missing import apply_mask, co_interaction_graph, feature_homophily, get_imputer, make_mask

from .conftest import modality

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def lastfm():
    root = Path(os.environ.get("MMSTUDY_DATA", "~/.mmstudy/data")).expanduser() / "lastfm-2k"
    inter = pd.read_csv(root / "lfm2k.inter", sep="\t")
    train = inter[inter["x_label"] == 0]
    matrix = sp.csr_matrix((np.ones(len(train), np.float32), (train["userID"], train["itemID"])),
                           shape=(inter["userID"].max() + 1, inter["itemID"].max() + 1))
    return matrix, modality(np.load(root / "all-MiniLM-L6-v2.npy", allow_pickle=False))


def mean_cosine(a, b):
    return float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).mean())


def test_graph_imputers_beat_the_mean_on_text(lastfm):
    train, text = lastfm
    graph = co_interaction_graph(train, k=20)
    assert feature_homophily(text, graph) > 0.05
    mask = make_mask(text.n_items, ["text"], 0.5, seed=0)
    masked = apply_mask({"text": text}, mask)["text"]
    truth = text.features[mask.missing["text"]]
    baseline = mean_cosine(get_imputer("mean").impute(masked).features[mask.missing["text"]], truth)
    for name in ["neighbour_mean", "propagation", "ppr", "heat"]:
        filled = get_imputer(name).impute(masked, graph).features[mask.missing["text"]]
        assert mean_cosine(filled, truth) > baseline + 0.02, name


def test_popularity_and_content_mechanisms_on_lastfm(lastfm):
    """Last.fm's long tail loses its text first under `popularity`; `content` follows the text's own
    first principal component."""
    from scipy import stats

    from mmstudy.missing.mechanisms import content_score, mechanism_scores
    from mmstudy.missing.profile import who_is_missing

    train, text = lastfm
    rhos, follows = [], []
    for seed in range(3):
        popular = make_mask(text.n_items, ["text"], 0.5, seed=seed, mechanism="popularity", strength=1,
                            score=mechanism_scores("popularity", {"text": text}, train))
        record = who_is_missing(popular, train)
        share = np.asarray(record["masked"]["text"]) / np.asarray(record["candidates"]["text"])
        rhos.append(stats.spearmanr(np.arange(1, 11), share).statistic)
        content = make_mask(text.n_items, ["text"], 0.5, seed=seed, mechanism="content", strength=2,
                            score=mechanism_scores("content", {"text": text}))
        follows.append(stats.spearmanr(content_score({"text": text}, ["text"]), content.missing["text"]).statistic)
    assert np.mean(rhos) > 0.9 and np.mean(follows) > 0.5
