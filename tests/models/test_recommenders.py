"""The Recommender contract, checked for every registered model on a tiny random problem."""
from dataclasses import replace

import pytest
import torch

from mmstudy.errors import ConfigError
from mmstudy.models import MODELS, Batch, make_model
from mmstudy.schema.content_dropout import ContentDropout

from model_toys import make_input, train_steps

# the package's own models (test modules may register toys of their own in the same process)
ALL = [n for n in MODELS.names() if MODELS.get(n).__module__.startswith("mmstudy.")]
MULTIMODAL = [n for n in ALL if MODELS.get(n).multimodal]


def batch(data, size=16, seed=1):
    g = torch.Generator().manual_seed(seed)
    users = torch.randint(0, data.n_users, (size,), generator=g)
    return Batch(users, torch.randint(0, data.n_items, (size,), generator=g),
                 torch.randint(0, data.n_items, (size,), generator=g))


def test_the_five_models_are_registered_with_aliases():
    for name, alias in [("BPR-MF", "bprmf"), ("BPR-MF", "mf"), ("LightGCN", "lgn"), ("VBPR", "vbpr"),
                        ("LightGCN-M", "lightgcnm"), ("FREEDOM", "freedom")]:
        assert MODELS.canonical(alias) == name
    assert MODELS.get("VBPR").cf_counterpart == "BPR-MF"
    assert MODELS.get("LightGCN-M").cf_counterpart == MODELS.get("FREEDOM").cf_counterpart == "LightGCN"


@pytest.mark.parametrize("name", ALL)
def test_loss_is_finite_and_backpropagates(name, tiny):
    model = make_model(name, tiny)
    loss = model.loss(batch(tiny))
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is None or torch.isfinite(g).all() for g in grads)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", ALL)
def test_scores_cover_all_items(name, tiny):
    model = make_model(name, tiny).eval()
    with torch.no_grad():
        model.prepare_eval()
        scores = model.score(torch.tensor([0, 3, 29]))
    assert scores.shape == (3, tiny.n_items) and torch.isfinite(scores).all()


@pytest.mark.parametrize("name", ALL)
def test_representations_are_deterministic_given_the_seed(name, tiny):
    with torch.no_grad():
        first = make_model(name, tiny).representations()
        second = make_model(name, tiny).representations()
        tiny.seed = 7
        other = make_model(name, tiny).representations()
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    assert not torch.equal(first[0], other[0])


@pytest.mark.parametrize("name", ALL)
def test_training_reduces_the_loss(name, tiny):
    # BM3's dropout on its bootstrap targets puts a floor under its loss: measure it without
    model = make_model(name, tiny, **({"dropout": 0.0} if name == "BM3" else {}))
    losses = train_steps(model, tiny, steps=300)
    assert sum(losses[-20:]) / 20 < 0.7 * sum(losses[:20]) / 20


@pytest.mark.parametrize("name", ALL)
def test_unknown_hyper_parameter_is_named(name, tiny):
    with pytest.raises(ConfigError, match="'embeding_size'.*Did you mean 'embedding_size'"):
        make_model(name, tiny, embeding_size=32)


@pytest.mark.parametrize("name", ALL)
def test_invalid_hyper_parameter_value_is_named(name, tiny):
    with pytest.raises(ConfigError, match="'embedding_size'"):
        make_model(name, tiny, embedding_size=0)
    with pytest.raises(ConfigError, match="'reg_weight'"):
        make_model(name, tiny, reg_weight=-1.0)


@pytest.mark.parametrize("name", MULTIMODAL)
def test_multimodal_models_need_a_modality(name):
    with pytest.raises(ConfigError, match="at least 1 modality"):
        make_model(name, make_input(dims=()))


@pytest.mark.parametrize("name", MULTIMODAL)
@pytest.mark.parametrize("dims", [(5,), (4, 6, 3)])
def test_multimodal_models_take_any_number_of_modalities(name, dims):
    data = make_input(dims=dims)
    loss = make_model(name, data).loss(batch(data))
    assert torch.isfinite(loss)


@pytest.mark.parametrize("name", ALL)
def test_state_dict_round_trip_reproduces_scores(name, tiny):
    model = make_model(name, tiny)
    train_steps(model, tiny, steps=3)
    clone = make_model(name, make_input(seed=0))
    clone.load_state_dict(model.state_dict())
    users = torch.arange(tiny.n_users)
    with torch.no_grad():
        model.eval(), clone.eval()
        assert torch.allclose(model.score(users), clone.score(users))


@pytest.mark.parametrize("name", ALL)
def test_training_invalidates_cached_representations(name, tiny):
    model = make_model(name, tiny).eval()
    with torch.no_grad():
        before = model.score(torch.arange(4)).clone()
    train_steps(model, tiny, steps=2)
    model.eval()
    with torch.no_grad():
        assert not torch.equal(before, model.score(torch.arange(4)))


@pytest.mark.parametrize("name", MULTIMODAL)
def test_content_dropout_acts_while_training_only(name, tiny):
    """Strategy modality_dropout reaches every multimodal model's content; evaluation is untouched."""
    dropping, plain = make_model(name, replace(tiny, content_dropout=0.5)), make_model(name, tiny)
    assert any(isinstance(m, ContentDropout) and m.content_dropout == 0.5 for m in dropping.modules())
    with torch.no_grad():
        for a, b in zip(dropping.eval().representations(), plain.eval().representations()):
            assert torch.equal(a, b)
    losses = []
    for model in (dropping.train(), plain.train()):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            losses.append(model.loss(batch(tiny)))
    assert torch.isfinite(losses[0]) and not torch.isclose(losses[0], losses[1])
