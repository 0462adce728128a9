"""Provenance for manifests: package versions, git commit, hardware."""
from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from ..allocator import allocator_state

PACKAGES = ("mmstudy", "torch", "numpy", "scipy", "pandas", "pyarrow", "scikit-learn", "statsmodels",
            "matplotlib", "seaborn", "transformers", "onnxruntime", "timm", "torchvision", "ray")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if rev.returncode != 0:
        return None
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def hardware(device: str = "cpu") -> dict:
    import torch
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "device": str(device), "malloc": allocator_state(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default")}
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def environment(device: str = "cpu") -> dict:
    return {"packages": package_versions(), "git_commit": git_commit(), "hardware": hardware(device)}
