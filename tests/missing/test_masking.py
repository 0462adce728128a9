import numpy as np
import pytest

from mmstudy.errors import ConfigError, DataError
from mmstudy.missing.masking import Mask, apply_mask, make_mask

from .conftest import modality

N = 1000
TWO = ["image", "text"]


def test_same_rate_and_seed_give_identical_masks():
    a = make_mask(N, TWO, 0.3, "independent", seed=7)
    b = make_mask(N, TWO, 0.3, "independent", seed=7)
    c = make_mask(N, TWO, 0.3, "independent", seed=8)
    assert a.checksum == b.checksum
    assert all(np.array_equal(a.missing[m], b.missing[m]) for m in TWO)
    assert a.checksum != c.checksum


@pytest.mark.parametrize("setting", ["single", "same", "independent"])
@pytest.mark.parametrize("rate", [0.1, 0.25, 0.5, 0.9])
def test_exact_counts(setting, rate):
    mask = make_mask(N, TWO, rate, setting, target="text" if setting == "single" else None, seed=1)
    assert mask.missing["text"].sum() == round(rate * N)
    expected_image = 0 if setting == "single" else round(rate * N)
    assert mask.missing["image"].sum() == expected_image


def test_settings_semantics():
    single = make_mask(N, TWO, 0.4, "single", target="image", seed=3)
    same = make_mask(N, TWO, 0.4, "same", seed=3)
    independent = make_mask(N, TWO, 0.4, "independent", seed=3)
    assert not single.missing["text"].any() and single.target == "image"
    assert np.array_equal(same.missing["image"], same.missing["text"])
    overlap = (independent.missing["image"] & independent.missing["text"]).sum()
    assert 0.16 * N - 60 < overlap < 0.16 * N + 60  # independent draws overlap ~ rate^2
    # "single" is the modality's own stream, so it equals that modality's "independent" mask
    assert np.array_equal(single.missing["image"], independent.missing["image"])


def test_masks_are_nested_across_rates():
    low = make_mask(N, TWO, 0.2, "same", seed=5).missing["text"]
    high = make_mask(N, TWO, 0.6, "same", seed=5).missing["text"]
    assert not (low & ~high).any()


def test_single_modality_dataset_defaults_target():
    mask = make_mask(N, ["text"], 0.5, seed=0)
    assert mask.target == "text" and mask.missing["text"].sum() == 500


def test_natural_missingness_union():
    rng = np.random.default_rng(0)
    present = rng.random(N) > 0.2
    mask = make_mask(N, TWO, 0.5, "single", target="text", seed=2, natural={"text": present})
    assert mask.missing["text"][~present].all()
    synthetic = mask.synthetic("text")
    assert synthetic.sum() == round(0.5 * present.sum()) and not (synthetic & ~present).any()
    assert np.array_equal(mask.natural["text"], ~present)
    assert not mask.natural["image"].any()


def test_same_setting_draws_only_items_present_everywhere():
    rng = np.random.default_rng(1)
    natural = {"text": rng.random(N) > 0.1, "image": rng.random(N) > 0.3}
    mask = make_mask(N, TWO, 0.5, "same", seed=4, natural=natural)
    both = natural["text"] & natural["image"]
    assert mask.synthetic("text").sum() == round(0.5 * both.sum())
    assert np.array_equal(mask.synthetic("text") & both, mask.synthetic("image") & both)
    for name in TWO:
        assert np.array_equal(mask.missing[name], ~natural[name] | (mask.synthetic("text") & both))


def test_rate_zero_with_natural_only():
    present = np.arange(N) % 3 != 0
    mask = make_mask(N, ["text"], 0.0, natural={"text": present})
    assert np.array_equal(mask.missing["text"], ~present)


def test_eligible_restricts_synthetic_masking():
    eligible = np.arange(N) < 400
    mask = make_mask(N, ["text"], 0.5, eligible=eligible)
    assert mask.missing["text"].sum() == 200 and not mask.missing["text"][~eligible].any()


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1, 1.5])
def test_bad_rates(rate):
    with pytest.raises(ConfigError, match="rate"):
        make_mask(N, TWO, rate, "same")


@pytest.mark.parametrize("kwargs, message", [
    ({"setting": "both"}, "unknown missing-modality setting"),
    ({"setting": "single", "target": "audio"}, "available: \\['image', 'text'\\]"),
    ({"setting": "single"}, "needs a target"),
    ({"setting": "same", "target": "text"}, "only applies"),
    ({"setting": "same", "natural": {"audio": np.ones(N, bool)}}, "unknown modalities"),
])
def test_bad_configs(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_mask(N, TWO, 0.5, **kwargs)


@pytest.mark.parametrize("setting", ["same", "independent"])
def test_multi_modality_settings_need_two_modalities(setting):
    with pytest.raises(ConfigError, match="only"):
        make_mask(N, ["text"], 0.5, setting)


def test_bad_natural_or_eligible_arrays():
    with pytest.raises(DataError, match="natural"):
        make_mask(N, ["text"], 0.5, natural={"text": np.ones(N - 1, bool)})
    with pytest.raises(DataError, match="eligible"):
        make_mask(N, ["text"], 0.5, eligible=np.ones(N, int))


def test_save_load_round_trip(tmp_path):
    natural = {"text": np.arange(N) % 7 != 0}
    mask = make_mask(N, TWO, 0.3, "independent", seed=9, natural=natural)
    mask.save(tmp_path / "mask.npz")
    loaded = Mask.load(tmp_path / "mask.npz")
    assert loaded.checksum == mask.checksum
    assert (loaded.setting, loaded.rate, loaded.seed, loaded.target) == ("independent", 0.3, 9, None)
    assert np.array_equal(loaded.natural["text"], mask.natural["text"])


def test_tampered_file_is_rejected(tmp_path):
    path = tmp_path / "mask.npz"
    make_mask(N, ["text"], 0.3, seed=1).save(path)
    with np.load(path, allow_pickle=False) as z:
        arrays = dict(z)
    arrays["missing_0"] = ~arrays["missing_0"]
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(DataError, match="checksum mismatch"):
        Mask.load(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable mask"):
        Mask.load(path)


def test_mask_validates_its_arrays():
    with pytest.raises(DataError, match="same length"):
        Mask(missing={"a": np.zeros(3, bool), "b": np.zeros(4, bool)}, setting="same", rate=0.5, seed=0)
    with pytest.raises(DataError, match="not marked missing"):
        Mask(missing={"a": np.zeros(3, bool)}, natural={"a": np.ones(3, bool)}, setting="single", rate=0.5, seed=0)


def test_apply_mask_marks_absent_and_zeroes_rows():
    rng = np.random.default_rng(0)
    mods = {"text": modality(rng.random((N, 4)) + 1, name="text"),
            "image": modality(rng.random((N, 3)) + 1, name="image")}
    mask = make_mask(N, ["text"], 0.5, seed=3)
    out = apply_mask(mods, mask)
    missing = mask.missing["text"]
    assert np.array_equal(out["text"].present, ~missing)
    assert (out["text"].features[missing] == 0).all()
    assert np.array_equal(out["text"].features[~missing], mods["text"].features[~missing])
    assert out["image"] is mods["image"]
    assert out["text"].info["mask_checksum"] == mask.checksum and out["text"].info["masked_items"] == 500


def test_apply_mask_errors():
    mask = make_mask(N, TWO, 0.5, "same")
    with pytest.raises(ConfigError, match="unknown modalities"):
        apply_mask({"text": modality(np.ones((N, 2)))}, mask)
    short = {m: modality(np.ones((N - 1, 2)), name=m) for m in TWO}
    with pytest.raises(DataError, match="items"):
        apply_mask(short, mask)
