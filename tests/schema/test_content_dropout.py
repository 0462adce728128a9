"""Training-time content dropout (strategy modality_dropout): exact seeded shares per epoch and block,
nothing dropped at evaluation, switched on for a whole model from its input."""
from dataclasses import replace

import pytest
import torch
from torch import nn

from mmstudy.data import load_dataset, make_split
from mmstudy.errors import ConfigError
from mmstudy.evaluation import evaluate_metric
from mmstudy.models import MODELS, ModelInput, Recommender, make_model
from mmstudy.schema.content_dropout import ContentDropout, configure_content_dropout
from mmstudy.schema.projection import FeatureProjection
from mmstudy.training import fit

from .toys import make_input


def dropped_rows(projection: FeatureProjection) -> torch.Tensor:
    """Rows whose projection is the bias alone, i.e. whose content was zeroed."""
    return (projection() - projection.linear.bias).abs().sum(dim=1) < 1e-6


def projection(rate=0.25, widths=(4,), seed=0, n=40):
    proj = FeatureProjection(torch.randn(n, sum(widths)) + 3, 3)
    proj.configure_content_dropout(rate, widths, seed)
    return proj


def test_an_exact_share_of_rows_is_dropped_once_per_epoch_and_never_at_evaluation():
    proj = projection()
    first = dropped_rows(proj)
    assert first.sum() == 10 and torch.equal(dropped_rows(proj), first)  # same draw within an epoch
    items = torch.tensor([3, 1, 3, 30])
    assert torch.allclose(proj(items), proj()[items])  # the batch path drops the same rows
    proj.train()  # next epoch: a new draw of the same size
    second = dropped_rows(proj)
    assert second.sum() == 10 and not torch.equal(first, second)
    proj.eval()
    assert not dropped_rows(proj).any()
    assert torch.equal(proj(), proj.linear(proj.features))


def test_draws_are_seeded():
    a, b, c = projection(seed=5), projection(seed=5), projection(seed=6)
    assert torch.equal(dropped_rows(a), dropped_rows(b)) and not torch.equal(dropped_rows(a), dropped_rows(c))


def test_concatenated_modalities_are_dropped_block_by_block():
    proj = projection(rate=0.5, widths=(3, 2))
    content = proj.dropped(proj.features)
    zero = [(content[:, :3] == 0).all(dim=1), (content[:, 3:] == 0).all(dim=1)]
    assert zero[0].sum() == zero[1].sum() == 20 and not torch.equal(zero[0], zero[1])
    kept = ~zero[0]
    assert torch.equal(content[kept, :3], proj.features[kept, :3])


def test_off_by_default_and_bad_rates():
    proj = FeatureProjection(torch.randn(6, 4), 3)
    assert proj.content_dropout == 0.0 and torch.equal(proj.dropped(proj.features), proj.features)
    for rate in (1.0, -0.1, True):
        with pytest.raises(ConfigError, match="content dropout rate must be in \\[0, 1\\)"):
            configure_content_dropout(nn.Sequential(proj), rate, [4], 0)


@pytest.mark.parametrize("name, blocks", [("VBPR", [(12, 8)]), ("FREEDOM", [(12,), (8,)]), ("GRCN", [(12,), (8,)]),
                                          ("MMGCN", [(12,), (8,)])])
def test_make_model_switches_every_content_module_on(name, blocks):
    data = replace(make_input(), content_dropout=0.5)
    modules = [m for m in make_model(name, data).modules() if isinstance(m, ContentDropout)]
    assert [m._dropout_widths for m in modules] == blocks and all(m.content_dropout == 0.5 for m in modules)
    plain = [m for m in make_model(name, make_input()).modules() if isinstance(m, ContentDropout)]
    assert all(m.content_dropout == 0.0 for m in plain)


def test_models_without_content_are_unaffected():
    data = replace(make_input(), content_dropout=0.5)
    model = make_model("BPR-MF", data)
    assert not any(isinstance(m, ContentDropout) for m in model.modules())
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(model.representations(),
                                                     make_model("BPR-MF", make_input()).representations()))


class RawContent(Recommender):
    """A multimodal toy that reads its features without a ContentDropout module."""
    multimodal = True

    def __init__(self, data, **params):
        super().__init__(data, **params)
        self.content = nn.Linear(next(iter(data.features.values())).shape[1], 2)


def test_a_multimodal_model_without_content_modules_is_a_clear_error():
    MODELS.add("toy-raw-content", RawContent, replace=True)
    with pytest.raises(ConfigError, match="needs model RawContent's content to pass through a ContentDropout module"):
        make_model("toy-raw-content", replace(make_input(), content_dropout=0.3))
    assert make_model("toy-raw-content", make_input()) is not None


def test_training_drops_rows_every_epoch_and_evaluation_never(monkeypatch):
    ds = load_dataset("synthetic", n_users=120, n_items=90, n_interactions=1500, seed=4)
    split = make_split(ds, method="random", seed=0)
    data = ModelInput(train=split.train, seed=1, content_dropout=0.4,
                      features={k: torch.from_numpy(m.features) for k, m in ds.modalities.items()})
    calls = []
    original = ContentDropout.dropped

    def spy(self, features, items=None):
        out = original(self, features, items)
        calls.append((self.training, None if self._kept is None else self._kept.clone(), torch.equal(out, features)))
        return out

    monkeypatch.setattr(ContentDropout, "dropped", spy)
    model = make_model("VBPR", data)
    fit(model, split, epochs=3, batch_size=256, eval_every=1, progress=False, seed=1)
    training = [c for c in calls if c[0]]
    masks = {tuple(c[1].flatten().tolist()) for c in training}
    assert training and all(not unchanged for _, _, unchanged in training)
    assert len(masks) == 3  # one draw per epoch
    assert all(int((1 - torch.tensor(m)).sum()) == 2 * round(0.4 * 90) for m in masks)  # two modality blocks
    evaluation = [c for c in calls if not c[0]]
    assert evaluation and all(unchanged for _, _, unchanged in evaluation)
    before = evaluate_metric(model, split, "Recall@20", "valid")
    assert evaluate_metric(model, split, "Recall@20", "valid") == before  # deterministic evaluation
