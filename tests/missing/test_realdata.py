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
