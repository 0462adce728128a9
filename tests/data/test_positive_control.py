"""The synthetic dataset is a fair positive control: multimodal beats its CF counterpart."""
import torch

from mmstudy.data import load_dataset, make_split
from mmstudy.evaluation import evaluate
from mmstudy.missing.handling import HandledData
from mmstudy.models import make_model
from mmstudy.study.workspace import model_input
from mmstudy.training import fit


def test_vbpr_beats_bpr_mf_on_synthetic():
    torch.set_num_threads(1)
    dataset = load_dataset("synthetic", n_users=500, n_items=400, n_interactions=12000)
    split = make_split(dataset, method="random", seed=0)
    scores = {}
    for name, mods in (("BPR-MF", {}), ("VBPR", dataset.modalities)):
        data = model_input(HandledData(mods, split), seed=0, device="cpu", cache=None)
        model = make_model(name, data)
        fit(model, split, epochs=40, patience=5, lr=0.01, seed=0, progress=False)
        scores[name] = evaluate(model, split, "test", cutoffs=(20,)).mean()["Recall@20"]
    assert scores["VBPR"] > 1.15 * scores["BPR-MF"], scores
