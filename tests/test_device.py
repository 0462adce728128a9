"""One device resolver for studies, single runs and extraction: auto, cpu, cuda[:i], checked."""
import pytest
import torch

from mmstudy.device import resolve_device
from mmstudy.errors import ConfigError


def test_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("spec", ["tpu", "cuda:x", "gpu", ""])
def test_unknown_devices_are_config_errors(spec):
    with pytest.raises(ConfigError, match="expected cpu, cuda, cuda:<index> or auto"):
        resolve_device(spec)


def test_cuda_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ConfigError, match="CUDA is not available"):
        resolve_device("cuda")


def test_cuda_index_beyond_the_devices(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda:0") and resolve_device("auto") == torch.device("cuda")
    assert str(resolve_device("CUDA:0")) == "cuda:0"
    with pytest.raises(ConfigError, match="has 1 CUDA device"):
        resolve_device("cuda:3")
