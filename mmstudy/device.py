"""Which torch device a run uses: `auto`, `cpu`, `cuda` or `cuda:<index>`, checked against this
machine before anything runs (one resolver for studies, single runs and feature extraction)."""
from __future__ import annotations

import torch

from .errors import ConfigError

EXPECTED = "expected cpu, cuda, cuda:<index> or auto"


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when available, else CPU; a CUDA device this machine lacks is a ConfigError.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    spec = str(device).strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec != "cpu" and not spec.startswith("cuda"):
        raise ConfigError(f"device {str(device)!r}: {EXPECTED}")
    try:
        resolved = torch.device(spec)
    except RuntimeError as exc:
        raise ConfigError(f"device {str(device)!r}: {EXPECTED}") from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {str(device)!r}: CUDA is not available on this machine "
                              "(use cpu, or auto to pick the GPU only when there is one)")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ConfigError(f"device {str(device)!r}: this machine has {torch.cuda.device_count()} CUDA "
                              "device(s), numbered from 0; the requested one is not available")
    return resolved
