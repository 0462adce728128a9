"""Controls every study carries, so its claims can be trusted (the study file's `controls:` section).

- `aa`: each cell of the study's reference configuration re-trained with a disjoint training seed
  (seed + `seed_offset`; data, split and masks unchanged). The reference against its re-trained
  self must show no difference: a significant A/A difference means the claim rule is fooled by
  training noise, and every other claim of the study is suspect.
- `noise`: each multimodal model of the reference configuration with every modality replaced by
  Gaussian noise of the observed features' per-dimension mean and spread (no masking), against
  its CF counterpart on the same seeds. Noise carries no item information, so its "multimodal gain"
  must vanish or turn negative; noise that helps means the gain of real features may come from
  extra parameters or regularisation rather than content.

Control cells are ordinary cells labelled `control` (`aa`, `noise` or `cf`) with `pairs_with`,
the fingerprint of the cell each is compared with; the analysis (`analysis.controls`) pairs them.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..data.modality import Modality
from ..errors import ConfigError
from ..models import MODELS
from .cell import Cell
from .spec import StudySpec


def control_cells(spec: StudySpec, reference: list[Cell]) -> list[Cell]:
    """The A/A and noise control cells of a study whose reference configuration is `reference`."""
    controls = spec.controls
    clash = sorted({c.seed + controls.seed_offset for c in reference} & set(spec.seeds))
    if controls.aa and clash:
        raise ConfigError(f"controls.seed_offset {controls.seed_offset} makes A/A seeds {clash} that the study "
                          "already trains with; choose an offset past the study's seeds")
    out = [_aa(cell, controls.seed_offset) for cell in reference] if controls.aa else []
    if controls.noise:
        for cell in reference:
            cf = MODELS.get(cell.model).cf_counterpart
            if cf is not None:
                out += _noise_pair(spec, cell, MODELS.canonical(cf))
    return out


def _aa(cell: Cell, offset: int) -> Cell:
    seed = cell.seed + offset
    return replace(cell, seed=seed, labels={**cell.labels, "seed": seed, "control": "aa", "pairs_with": cell.fingerprint})


def _noise_pair(spec: StudySpec, cell: Cell, cf: str) -> list[Cell]:
    """The reference cell on noise features (no masking; the data's own gaps filled as the study fills
    them) and its CF counterpart on the same seed."""
    cf_cell = Cell(data=cell.data, model=cf, **spec.model_settings(cf), seed=cell.seed, cutoffs=cell.cutoffs,
                   missing=spec.natural_gaps, labels={"model": cf, "seed": cell.seed, "control": "cf"})
    noise = replace(cell, missing=spec.natural_gaps, control="noise",
                    labels={"model": cell.model, "seed": cell.seed, "control": "noise", "cf_model": cf,
                            "pairs_with": cf_cell.fingerprint})
    return [noise, cf_cell]


def noise_modalities(modalities: dict[str, Modality], seed: int) -> dict[str, Modality]:
    """Every modality's observed rows replaced by Gaussian noise with the per-dimension mean and
    standard deviation of those rows (absent rows stay absent), seeded per (seed, modality)."""
    out = {}
    for index, (name, mod) in enumerate(modalities.items()):
        present = mod.features[mod.present]
        if mod.dim == 0 or len(present) == 0:
            out[name] = mod
            continue
        rng = np.random.default_rng([seed, 104729, index])
        noise = rng.standard_normal(mod.features.shape).astype(np.float32) * present.std(axis=0) + present.mean(axis=0)
        features = np.where(mod.present[:, None], noise, mod.features).astype(np.float32)
        out[name] = replace(mod, features=features, source=f"Gaussian noise with the moments of {mod.source}",
                            info={**mod.info, "control": "noise"})
    return out
