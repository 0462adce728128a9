"""Masking + strategy application on a dataset's modalities and split."""
import numpy as np
import pytest

from mmstudy.data import load_dataset, make_split
from mmstudy.errors import ConfigError
from mmstudy.missing.handling import handle_missing, mask_for, restrict_items
from mmstudy.study.cell import MissingConfig


@pytest.fixture(scope="module")
def data():
    ds = load_dataset("synthetic", n_users=200, n_items=150, n_interactions=3000, seed=1)
    return ds, make_split(ds, method="random", seed=0)


def test_masks_identical_across_strategies(data):
    ds, split = data
    cfg = dict(setting="same", rate=0.4, mask_seed=7)
    outs = {s: handle_missing(ds.modalities, split, MissingConfig(**cfg, strategy=s), {})
            for s in ("zeros", "mean", "dropped")}
    assert len({o.info["mask_checksum"] for o in outs.values()}) == 1
    mask = mask_for(ds.modalities, MissingConfig(**cfg))
    masked_any = np.logical_or.reduce(list(mask.missing.values()))
    np.testing.assert_array_equal(outs["dropped"].kept_items, np.flatnonzero(~masked_any))
    assert outs["dropped"].split.shape[1] == len(outs["dropped"].kept_items) < ds.n_items
    other_seed = mask_for(ds.modalities, MissingConfig(**{**cfg, "mask_seed": 8}))
    assert other_seed.checksum != mask.checksum


def test_imputers_fill_every_row(data):
    ds, split = data
    out = handle_missing(ds.modalities, split, MissingConfig(setting="same", rate=0.5, strategy="mean"), {})
    for mod in out.modalities.values():
        assert mod.present.all() and np.isfinite(mod.features).all()
        assert (np.abs(mod.features).sum(axis=1) > 0).all()


def test_dropped_reports_losses_and_keeps_users(data):
    ds, split = data
    out = handle_missing(ds.modalities, split, MissingConfig(setting="same", rate=0.5, strategy="dropped"), {})
    lost = out.info["dropped"]
    assert lost["items_lost"] == ds.n_items - len(out.kept_items)
    assert out.split.shape[0] == ds.n_users
    assert split.train.nnz - out.split.train.nnz == lost["train_interactions_lost"]


def test_restrict_items_keeps_columns_in_order(data):
    _, split = data
    keep = np.array([3, 1, 7])
    view = restrict_items(split, keep)
    assert view.shape == (split.shape[0], 3)
    np.testing.assert_array_equal(view.test.toarray(), split.test[:, keep].toarray())


def test_dropping_every_item_is_an_error(data):
    ds, split = data
    with pytest.raises(ConfigError, match="removes every item"):
        handle_missing(ds.modalities, split, MissingConfig(setting="same", rate=0.999, strategy="dropped",
                                                           natural=False), {})


def test_models_without_modalities_are_untouched_and_told_so(data):
    _, split = data
    out = handle_missing({}, split, MissingConfig(setting="same", rate=0.5), {})
    assert out.split is split and out.modalities == {}
    assert "does not apply" in out.info["note"]


def test_learned_imputers_record_fit_rows_and_training_free_ones_do_not(data):
    ds, split = data
    cfg = dict(setting="independent", rate=0.4, mask_seed=2)
    plain = handle_missing(ds.modalities, split, MissingConfig(**cfg, strategy="propagation"), {})
    assert "expected_fit_rows" not in plain.info
    assert not any(k.startswith("fitted") for v in plain.info["imputation"].values() for k in v)
    learned = handle_missing(ds.modalities, split, MissingConfig(**cfg, strategy="cross_modal"), {"alpha": 1.0})
    assert set(learned.info["expected_fit_rows"]) == set(ds.modalities)
    assert learned.info["imputer_params"] == {"alpha": 1.0}
    assert all({"fitted_rows", "fitted_rows_sha256", "fit_seconds"} <= set(v) for v in learned.info["imputation"].values())


def test_modality_dropout_serves_zeros_and_asks_the_model_to_drop_rows(data):
    ds, split = data
    cfg = MissingConfig(setting="same", rate=0.4, mask_seed=2, strategy="modality_dropout")
    out = handle_missing(ds.modalities, split, cfg, {"rate": 0.25})
    zeros = handle_missing(ds.modalities, split, MissingConfig(setting="same", rate=0.4, mask_seed=2), {})
    for name, mod in out.modalities.items():
        assert np.array_equal(mod.features, zeros.modalities[name].features)
    assert out.content_dropout == out.info["content_dropout"] == 0.25
    assert zeros.content_dropout == 0.0 and "content_dropout" not in zeros.info
    default = handle_missing(ds.modalities, split, cfg, {})
    assert default.content_dropout == 0.3


def test_the_configs_own_imputer_settings_apply_and_a_grid_point_overrides_them(data):
    ds, split = data
    cfg = MissingConfig(setting="same", rate=0.5, strategy="propagation", params={"hops": 3}, graph_k=10)
    assert handle_missing(ds.modalities, split, cfg, {}).info["imputer_params"] == {"hops": 3}
    assert handle_missing(ds.modalities, split, cfg, {"hops": 1}).info["imputer_params"] == {"hops": 1}
    one, three = (handle_missing(ds.modalities, split, cfg, {"hops": h}).modalities["image"].features for h in (1, 3))
    assert np.array_equal(handle_missing(ds.modalities, split, cfg, {}).modalities["image"].features, three)
    assert not np.array_equal(one, three)
