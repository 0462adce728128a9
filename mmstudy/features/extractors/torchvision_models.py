"""Image features from any torchvision classification model, read at a chosen graph node."""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
import torchvision
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

from ...errors import ConfigError
from ...registry import Registry
from ..base import (EXTRACTORS, ChecksumError, Extractor, MissingWeightsError, load_into, load_state_dict,
                    run_image_model, seeded_init, verify_sha256)
from ..preprocess import ImageTransform

# Graph nodes read by default: the pooled / fc7 activations that recommender papers use.
DEFAULT_LAYERS = {"resnet": "avgpool", "resnext": "avgpool", "wide_resnet": "avgpool", "vgg": "classifier.3"}


def torchvision_names() -> Registry[str]:
    names: Registry[str] = Registry("torchvision model")
    for name in torchvision.models.list_models(module=torchvision.models):
        names.add(name, name)
    return names


def cached_weights_path(weights) -> Path:
    """Where torchvision keeps the file of a `Weights` member (TORCH_HOME/hub/checkpoints)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name


def check_layer(model: str, layer: str, nodes: list[str]) -> None:
    """`layer` must be a graph node or a module holding nodes; else a did-you-mean error."""
    modules = {".".join(node.split(".")[:i]) for node in nodes for i in range(1, node.count(".") + 1)}
    if layer in nodes or layer in modules:
        return
    close = difflib.get_close_matches(layer, sorted(modules | set(nodes)), n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ConfigError(f"{model} has no layer {layer!r}.{hint} Last nodes: {', '.join(nodes[-6:])}.")


@EXTRACTORS.register("torchvision", "tv")
class TorchvisionExtractor(Extractor):
    """A torchvision model (`resnet50`, `vgg19`, ...) read at graph node `layer`, flattened.

    Weights: the file of torchvision's `weights` tag found in TORCH_HOME (its name carries the
    SHA-256 prefix, which is checked), or `weights_path` (.pth/.safetensors, loaded safely).
    `pretrained=False` builds a randomly initialised model from `seed` (for tests only).
    Preprocessing is the evaluation transform torchvision documents for the `weights` tag.
    """

    backend = "torchvision"
    modality_kinds = ("image",)
    location_params = ("weights_path",)

    def __init__(self, model: str = "resnet50", layer: str | None = None, weights: str = "DEFAULT",
                 weights_path: str | None = None, pretrained: bool = True, sha256: str | None = None,
                 seed: int = 0):
        super().__init__()
        self.model = torchvision_names().canonical(model)
        self.layer = layer
        self.weights = weights
        self.weights_path = weights_path
        self.pretrained = pretrained
        self.sha256 = sha256
        self.seed = seed
        self.transform = ImageTransform.from_torchvision(self._weights_enum())
        self._extractor: torch.nn.Module | None = None

    def _weights_enum(self):
        members = torchvision.models.get_model_weights(self.model)
        try:
            return members[self.weights] if self.weights != "DEFAULT" else members.DEFAULT
        except KeyError:
            raise ConfigError(f"{self.model}: unknown weights {self.weights!r}; "
                              f"known: DEFAULT, {', '.join(m.name for m in members)}") from None

    def weights_file(self) -> Path | None:
        """The local weights file (None for a random init); `MissingWeightsError` when absent."""
        if not self.pretrained:
            return None
        if self.weights_path is not None:
            path = Path(self.weights_path).expanduser()
            if not path.is_file():
                raise MissingWeightsError(f"{self.model}: weights file {path} not found")
            return path
        member = self._weights_enum()
        path = cached_weights_path(member)
        if not path.is_file():
            raise MissingWeightsError(
                f"torchvision weights {member} for {self.model} are not on this machine. Download {member.url} "
                f"and save it as {path} (set TORCH_HOME to use another cache folder), or pass "
                f"weights_path='/path/to/{path.name}'. pretrained=False gives a random init (tests only).")
        return path

    def _checked_sha256(self, path: Path | None) -> str | None:
        if path is None:
            return None
        actual = verify_sha256(path, self.sha256)
        prefix = re.search(r"-([0-9a-f]{8,})\.pth$", path.name) if self.weights_path is None else None
        if prefix and not actual.startswith(prefix.group(1)):
            raise ChecksumError(f"checksum mismatch for {path}: torchvision expects a SHA-256 starting "
                                f"{prefix.group(1)}, got {actual}; delete the file and download it again")
        return actual

    def default_layer(self, nodes: list[str]) -> str:
        for prefix, layer in DEFAULT_LAYERS.items():
            if self.model.startswith(prefix) and layer in nodes:
                return layer
        return nodes[-2]  # the input of the classification head

    def describe(self) -> dict[str, Any]:
        path = self.weights_file()
        weights = (f"random-init(seed={self.seed})" if path is None else
                   path.name if self.weights_path else str(self._weights_enum()))
        return {"model": self.model, "layer": self._resolved_layer(), "preprocessing": self.transform.describe(),
                "weights": weights, "weights_sha256": self._checked_sha256(path)}

    def _resolved_layer(self) -> str:
        if self._extractor is None:
            self._ensure_loaded(self._device or torch.device("cpu"))
        return self._layer

    def _build(self) -> torch.nn.Module:
        path = self.weights_file()
        if path is None:
            return seeded_init(lambda: torchvision.models.get_model(self.model, weights=None), self.seed)
        self._checked_sha256(path)
        net = torchvision.models.get_model(self.model, weights=None)
        load_into(net, load_state_dict(path), path)
        return net

    def _load(self, device: torch.device) -> None:
        if self._extractor is None:
            net = self._build().eval()
            nodes = get_graph_node_names(net)[1]
            layer = self.layer or self.default_layer(nodes)
            check_layer(self.model, layer, nodes)
            self._layer = layer
            self._extractor = create_feature_extractor(net, return_nodes={layer: "features"}).eval()
            dummy = torch.zeros(1, 3, self.transform.crop, self.transform.crop)
            with torch.inference_mode():
                self._dim = int(self._extractor(dummy)["features"].flatten(1).shape[1])
        self._extractor.to(device)

    def _encode(self, batch: list, kind: str) -> np.ndarray:
        return run_image_model(lambda x: self._extractor(x)["features"], batch, self.transform, self._device)
