"""The built-in synthetic dataset: a positive control for multimodal recommendation.

Users and items get latent factors; a user's interactions are sampled without replacement
(Gumbel-top-k) from softmax(strength * <user, item> / sqrt(f) + popularity). Popularity follows a
power law, so most items are long-tail items with few interactions, whose preferences
collaborative filtering cannot learn; every item's content (ready-made "image" and "text"
features, a generated text, and on request a rendered 32x32 image) is a noisy function of its
latent factors, so a model that reads content can recover them. Everything is deterministic in
`seed`: separate child generators feed factors, interactions, features and missingness.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import ConfigError, DataError
from ...hashing import atomic_path
from ..dataset import Dataset
from ..feedback import DEFAULT, apply_feedback
from ..modality import Modality
from . import assemble

DEFAULT_DIMS = {"image": 64, "text": 48}
DEFAULT_MISSING = {"image": 0.05, "text": 0.05}
_START = 1_577_836_800  # 2020-01-01 UTC; interactions spread over one year
_POLES = [("bright", "dark"), ("loud", "quiet"), ("fast", "slow"), ("warm", "cold"), ("sweet", "bitter"),
          ("old", "new"), ("soft", "hard"), ("happy", "sad"), ("simple", "complex"), ("light", "heavy"),
          ("smooth", "rough"), ("wild", "calm"), ("big", "small"), ("rich", "plain"), ("deep", "shallow"),
          ("sharp", "dull"), ("fresh", "stale"), ("strong", "weak"), ("clean", "messy"), ("early", "late"),
          ("high", "low"), ("long", "short"), ("wet", "dry"), ("thick", "thin")]
_NOUNS = ["song", "film", "book", "poster", "game", "dish", "toy", "coat", "lamp", "chair", "shoe", "bag",
          "clock", "vase", "hat", "rug"]
_STREAMS = ("factors", "interactions", "features", "missing", "timestamps")


def make_synthetic(n_users: int = 1000, n_items: int = 800, n_interactions: int = 30000, seed: int = 0,
                   n_factors: int = 32, missing_share: dict[str, float] | None = None,
                   feature_dims: dict[str, int] | None = None, feature_noise: float = 0.1,
                   popularity_exponent: float = 1.0, preference_strength: float = 5.0,
                   min_per_user: int = 5, image_dir: str | Path | None = None,
                   name: str = "synthetic") -> Dataset:
    """Generate the synthetic dataset (see the module docstring).

    `missing_share[m]` is the exact share of items lacking modality m (present False, raw None);
    `feature_noise` is the noise std relative to the unit-variance content signal. With
    `image_dir`, item images are rendered there and the image modality's raw holds their paths.
    """
    params = dict(n_users=n_users, n_items=n_items, n_interactions=n_interactions, seed=seed,
                  n_factors=n_factors, missing_share=dict(DEFAULT_MISSING if missing_share is None else missing_share),
                  feature_dims=dict(DEFAULT_DIMS if feature_dims is None else feature_dims),
                  feature_noise=feature_noise, popularity_exponent=popularity_exponent,
                  preference_strength=preference_strength, min_per_user=min_per_user)
    _check(params)
    rng = _streams(seed)
    users, items, popularity = latent_factors(params)
    counts = _user_counts(params, rng["interactions"])
    rows, cols = sample_interactions(users, items, popularity, counts, preference_strength, rng["interactions"])
    table = pd.DataFrame({"u": rows, "i": cols,
                          "timestamp": _START + rng["timestamps"].integers(0, 365 * 86400, len(rows))})
    modalities = _modalities(items, params, rng["features"], rng["missing"])
    meta = {"source": "synthetic", "generator": params,
            "description": "latent-factor positive control: item content encodes the preference factors"}
    dataset = apply_feedback(assemble(name, table, np.arange(n_users), np.arange(n_items), modalities, meta),
                             DEFAULT, where="synthetic generator")
    return render_item_images(dataset, image_dir) if image_dir is not None else dataset


def _check(params: dict) -> None:
    for key in ("n_users", "n_items", "n_factors", "min_per_user"):
        if int(params[key]) < 1:
            raise ConfigError(f"synthetic: {key} must be >= 1, got {params[key]}")
    if params["min_per_user"] > params["n_items"]:
        raise ConfigError(f"synthetic: min_per_user={params['min_per_user']} exceeds n_items={params['n_items']}")
    low, high = params["min_per_user"] * params["n_users"], params["n_users"] * params["n_items"]
    if not low <= params["n_interactions"] <= high:
        raise ConfigError(f"synthetic: n_interactions must lie in [{low}, {high}] (min_per_user x n_users .. "
                          f"n_users x n_items), got {params['n_interactions']}")
    for key in ("missing_share", "feature_dims"):
        unknown = set(params[key]) - {"image", "text"}
        if unknown:
            raise ConfigError(f"synthetic: {key} has unknown modality {sorted(unknown)[0]!r}; expected image/text")
    bad = {k: v for k, v in params["missing_share"].items() if not 0 <= v < 1}
    if bad:
        raise ConfigError(f"synthetic: missing_share[{next(iter(bad))!r}] must be in [0, 1)")


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent child generators, so e.g. the factors can be regenerated on their own."""
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {key: np.random.default_rng(child) for key, child in zip(_STREAMS, children)}


def latent_factors(params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user factors, item factors, item popularity logits) for the generator parameters."""
    rng = _streams(params["seed"])["factors"]
    users = rng.standard_normal((params["n_users"], params["n_factors"]))
    items = rng.standard_normal((params["n_items"], params["n_factors"]))
    ranks = rng.permutation(params["n_items"]) + 1
    return users, items, -params["popularity_exponent"] * np.log(ranks)


def _user_counts(params: dict, rng: np.random.Generator) -> np.ndarray:
    """Interactions per user: min_per_user plus a log-normal share of the rest (summing exactly
    to n_interactions); counts above n_items are capped and the overflow re-dealt."""
    n_users, n_items, base = params["n_users"], params["n_items"], params["min_per_user"]
    weights = rng.lognormal(0.0, 1.0, n_users)
    counts = base + rng.multinomial(params["n_interactions"] - base * n_users, weights / weights.sum())
    while (overflow := int(np.maximum(counts - n_items, 0).sum())) > 0:
        counts = np.minimum(counts, n_items)
        room = n_items - counts
        counts += rng.multinomial(overflow, room / room.sum())
    return counts


def sample_interactions(users: np.ndarray, items: np.ndarray, popularity: np.ndarray, counts: np.ndarray,
                        strength: float, rng: np.random.Generator,
                        chunk_cells: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
    """Per user, `counts[u]` distinct items by Gumbel-top-k over the preference logits."""
    n_users, n_items = users.shape[0], items.shape[0]
    scale = strength / np.sqrt(items.shape[1])
    rows, cols = [], []
    step = max(1, chunk_cells // max(1, n_items))
    for start in range(0, n_users, step):
        block = slice(start, min(start + step, n_users))
        logits = scale * users[block] @ items.T + popularity + rng.gumbel(size=(block.stop - start, n_items))
        order = np.argsort(-logits, axis=1, kind="stable")
        take = np.arange(n_items) < counts[block, None]
        r, c = np.nonzero(take)
        rows.append(r + start)
        cols.append(order[r, c])
    return np.concatenate(rows), np.concatenate(cols)


def content_features(items: np.ndarray, dim: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """A noisy, mildly nonlinear projection of the item factors (unit-variance signal)."""
    f = items.shape[1]
    linear = items @ rng.standard_normal((f, dim)) / np.sqrt(f)
    bent = np.tanh(items @ rng.standard_normal((f, dim)) / np.sqrt(f))
    signal = linear + 0.5 * bent
    signal = (signal - signal.mean(0)) / signal.std()
    return (signal + noise * rng.standard_normal(signal.shape)).astype(np.float32)


def item_texts(items: np.ndarray, n_words: int = 3) -> list[str]:
    """A short description per item: pole adjectives of its strongest factors plus a noun."""
    f = items.shape[1]
    vocab = np.array([f"{pole}{'' if k < len(_POLES) else k // len(_POLES) + 1}"
                      for k in range(f) for pole in _POLES[k % len(_POLES)]])
    strongest = np.argsort(-np.abs(items), axis=1, kind="stable")[:, :min(n_words, f)]
    negative = np.take_along_axis(items, strongest, axis=1) < 0
    words = vocab[2 * strongest + negative]
    nouns = np.array(_NOUNS)[np.argmax(items, axis=1) % len(_NOUNS)]
    return [f"a {', '.join(adj[:-1])} and {adj[-1]} {noun}" if len(adj) > 1 else f"a {adj[0]} {noun}"
            for adj, noun in zip(words.tolist(), nouns.tolist())]


def _modalities(items: np.ndarray, params: dict, rng: np.random.Generator,
                rng_missing: np.random.Generator) -> dict[str, Modality]:
    n_items, out = items.shape[0], {}
    texts = item_texts(items)
    for key in ("image", "text"):
        dim = params["feature_dims"].get(key, DEFAULT_DIMS[key])
        feats = content_features(items, dim, params["feature_noise"], rng)
        present = np.ones(n_items, bool)
        present[rng_missing.permutation(n_items)[:round(params["missing_share"].get(key, 0.0) * n_items)]] = False
        raw = [t if p else None for t, p in zip(texts, present)] if key == "text" else None
        out[key] = Modality(key, key, feats, present, raw=raw, source=f"synthetic:{key}",
                            info={"noise": params["feature_noise"]})
    return out


def render_image(factors: np.ndarray, size: int = 32):
    """A small RGB image encoding 30 factor values (cycled when fewer): the background colour,
    then three shapes of decreasing size whose kind, colour, size and position each encode 9."""
    from PIL import Image, ImageDraw

    v = np.resize(np.asarray(factors, dtype=np.float64), 3 + 3 * 9)
    sig = 1.0 / (1.0 + np.exp(-v))
    img = Image.new("RGB", (size, size), tuple(int(c) for c in 255 * sig[0:3]))
    draw = ImageDraw.Draw(img)
    for layer, scale in enumerate((0.35, 0.22, 0.13)):
        w, s = v[3 + 9 * layer:12 + 9 * layer], sig[3 + 9 * layer:12 + 9 * layer]
        radius = size * scale * (0.6 + 0.8 * s[6])
        cx, cy = size / 2 * (1 + 0.5 * np.tanh(w[7:9]))
        box = [cx - radius, cy - radius, cx + radius, cy + radius]
        colour = tuple(int(c) for c in 255 * s[3:6])
        kind = int(np.argmax(w[0:3]))
        if kind == 0:
            draw.ellipse(box, fill=colour)
        elif kind == 1:
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=colour)
    return img


def render_item_images(dataset: Dataset, directory: str | Path, size: int = 32) -> Dataset:
    """Render `<item>.png` for every item of a synthetic dataset that has the image modality,
    and return the dataset with the image modality's raw set to those paths (None if absent)."""
    params = dataset.meta.get("generator")
    if dataset.meta.get("source") != "synthetic" or params is None or "image" not in dataset.modalities:
        raise DataError(f"dataset {dataset.name!r} is not a synthetic dataset with an image modality")
    _, items, _ = latent_factors(params)
    items = items[np.asarray(dataset.item_ids, dtype=np.int64)]  # follows any item subsetting
    directory = Path(directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    image = dataset.modalities["image"]
    paths: list[str | None] = []
    for item_id, factors, present in zip(dataset.item_ids.tolist(), items, image.present):
        if not present:
            paths.append(None)
            continue
        path = directory / f"{item_id}.png"
        with atomic_path(path) as tmp:
            render_image(factors, size).save(tmp, format="PNG")
        paths.append(str(path))
    modalities = {**dataset.modalities, "image": replace(image, raw=paths, info={**image.info, "image_dir": str(directory)})}
    return dataset.with_modalities(modalities)
