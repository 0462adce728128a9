"""The workspace's model input: a modality with raw content only (no extracted features) stops
the cell with one line saying how to extract them, instead of a model learning from nothing."""
import numpy as np
import pytest
import scipy.sparse as sp

from mmstudy.data.modality import Modality
from mmstudy.data.split import Split
from mmstudy.errors import ConfigError
from mmstudy.missing.handling import HandledData
from mmstudy.study.workspace import model_input


def handled(dim: int) -> HandledData:
    train = sp.csr_matrix(np.eye(4, 5, dtype=np.float32))
    empty = sp.csr_matrix((4, 5), dtype=np.float32)
    split = Split(train, empty, empty.copy(), method="random", seed=0)
    text = Modality("text", "text", np.ones((5, dim), np.float32), np.ones(5, bool), raw=["t"] * 5)
    return HandledData({"text": text}, split)


def test_features_reach_the_model_input():
    inp = model_input(handled(3), seed=0, device="cpu", cache=None)
    assert inp.features["text"].shape == (5, 3)


def test_raw_content_without_features_is_one_clear_error():
    with pytest.raises(ConfigError, match=r"modality 'text' has no features, only raw content: extract them with "
                                          r"data.features \(e.g. features: \{text: <extractor>\}"):
        model_input(handled(0), seed=0, device="cpu", cache=None)
