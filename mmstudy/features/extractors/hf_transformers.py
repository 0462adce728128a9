"""Hugging Face transformers encoders: text (pooled tokens), image (pooled output), CLIP-like joint.

Models load from a local folder or a name already in the Hugging Face cache (never the network),
and only from safetensors weights.
"""
from __future__ import annotations

import abc
import json
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from ...errors import ConfigError
from ...hashing import fingerprint
from ..base import EXTRACTORS, Extractor, MissingWeightsError, files_sha256, verify_sha256
from ..preprocess import clean_texts, l2_normalize, load_image, pool_tokens

_MODEL_FILES = (".json", ".txt", ".model", ".safetensors")
POOLINGS = ("mean", "cls")


def model_dir(model: str | Path) -> Path:
    """A local model folder, or the cached snapshot of a hub name; `MissingWeightsError` otherwise."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    from huggingface_hub import constants, snapshot_download
    try:
        return Path(snapshot_download(str(model), local_files_only=True))
    except (OSError, ValueError):
        raise MissingWeightsError(
            f"Hugging Face model {str(model)!r} is neither a local folder nor in the Hugging Face cache "
            f"({constants.HF_HUB_CACHE}). On a machine with internet run `hf download {model}` (or "
            f"`huggingface-cli download {model}`) and copy the cache (HF_HOME) or the model folder here, "
            "then pass the folder path.") from None


def model_files(directory: Path) -> list[Path]:
    """The files of a model folder that transformers reads (configs, vocabularies, weights)."""
    return [p for p in directory.iterdir() if p.is_file() and p.suffix in _MODEL_FILES]


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide transformers' per-load progress bars (restored afterwards)."""
    from transformers.utils import logging as hf_logging
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


class HFExtractor(Extractor):
    """Shared loading, checksums and identity of the transformers backends."""

    location_params = ("model",)
    layer_name = ""

    def __init__(self, model: str, sha256: str | None = None, name: str = ""):
        super().__init__()
        self.model = str(model)
        self.sha256 = sha256
        self.name = name
        self._net: torch.nn.Module | None = None

    @cached_property
    def directory(self) -> Path:
        return model_dir(self.model)

    @property
    def display_name(self) -> str:
        """`name`, else the hub id; a local folder without a name is known by its hashes only."""
        return self.name or ("local folder" if Path(self.model).expanduser().is_dir() else self.model)

    def weights_sha256(self) -> str:
        """SHA-256 of the safetensors weights (a fingerprint of all shards when sharded)."""
        shards = sorted(self.directory.glob("*.safetensors"))
        if not shards:
            raise ConfigError(f"{self.directory} has no *.safetensors weights; only safetensors are loaded "
                              "(convert pickled pytorch_model.bin files first)")
        if len(shards) == 1:
            return verify_sha256(shards[0], self.sha256)
        return fingerprint(files_sha256(shards))

    def describe(self) -> dict[str, Any]:
        return {"model": self.display_name, "layer": self.layer_name, "preprocessing": self.preprocessing_info(),
                "weights_sha256": self.weights_sha256(), "files_sha256": files_sha256(model_files(self.directory))}

    def preprocessing_info(self) -> dict[str, Any]:
        return {}

    def _load(self, device: torch.device) -> None:
        if self._net is None:
            self.weights_sha256()  # verifies the pinned checksum before anything is loaded
            self._net = self._build(self.directory).eval()
        self._net.to(device)

    @abc.abstractmethod
    def _build(self, directory: Path) -> torch.nn.Module:
        """The model (and its tokenizer / processor) from a local folder."""

    @staticmethod
    def _auto(loader, directory: Path):
        return loader.from_pretrained(directory, local_files_only=True)

    @staticmethod
    def _auto_model(directory: Path) -> torch.nn.Module:
        from transformers import AutoModel
        with _quiet_loading():
            return AutoModel.from_pretrained(directory, local_files_only=True, use_safetensors=True)


def _tokenize(tokenizer, texts: list, max_length: int, device: torch.device) -> dict[str, torch.Tensor]:
    enc = tokenizer(clean_texts(texts), padding=True, truncation=True, max_length=max_length,
                    return_tensors="pt")
    return {k: v.to(device) for k, v in enc.items()}


def _processor_config(processor) -> dict[str, Any]:
    """An image processor's settings as plain JSON values."""
    return json.loads(processor.to_json_string())


def _pooled(output) -> torch.Tensor:
    """`get_*_features` returns a tensor (transformers 4) or an output with `pooler_output` (5)."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


@EXTRACTORS.register("hf-text", "transformers-text")
class HFTextExtractor(HFExtractor):
    """A transformers text encoder; token embeddings pooled ('mean' masked / 'cls'), optionally L2-normalised.

    With pooling='mean', normalize=True, max_length=256 this is how sentence-transformers runs
    all-MiniLM-L6-v2.
    """

    modality_kinds = ("text",)
    backend = "hf-text"
    layer_name = "last_hidden_state"

    def __init__(self, model: str, max_length: int = 256, pooling: str = "mean", normalize: bool = False,
                 sha256: str | None = None, name: str = ""):
        super().__init__(model, sha256, name)
        if pooling not in POOLINGS:
            raise ConfigError(f"pooling {pooling!r}: expected one of {POOLINGS}")
        self.max_length = max_length
        self.pooling = pooling
        self.normalize = normalize

    def preprocessing_info(self) -> dict[str, Any]:
        return {"tokenizer": "AutoTokenizer", "max_length": self.max_length, "truncation": True,
                "strip": True, "pooling": self.pooling, "normalize": self.normalize}

    def _build(self, directory: Path) -> torch.nn.Module:
        from transformers import AutoTokenizer
        self._tokenizer = self._auto(AutoTokenizer, directory)
        net = self._auto_model(directory)
        self._dim = int(net.config.hidden_size)
        return net

    def _encode(self, batch: list, kind: str) -> np.ndarray:
        enc = _tokenize(self._tokenizer, batch, self.max_length, self._device)
        with torch.inference_mode():
            pooled = pool_tokens(self._net(**enc).last_hidden_state, enc["attention_mask"], self.pooling)
            return (l2_normalize(pooled) if self.normalize else pooled).float().cpu().numpy()


@EXTRACTORS.register("hf-image", "transformers-image")
class HFImageExtractor(HFExtractor):
    """A transformers vision encoder (AutoModel + AutoImageProcessor): 'pooler' output or token 'mean'/'cls'."""

    modality_kinds = ("image",)
    backend = "hf-image"

    def __init__(self, model: str, pooling: str = "pooler", sha256: str | None = None, name: str = ""):
        super().__init__(model, sha256, name)
        if pooling not in ("pooler", *POOLINGS):
            raise ConfigError(f"pooling {pooling!r}: expected 'pooler', 'mean' or 'cls'")
        self.pooling = pooling

    @property
    def layer_name(self) -> str:
        return "pooler_output" if self.pooling == "pooler" else f"last_hidden_state ({self.pooling})"

    def preprocessing_info(self) -> dict[str, Any]:
        self._ensure_loaded(self._device or torch.device("cpu"))
        return {"image_processor": _processor_config(self._processor)}

    def _build(self, directory: Path) -> torch.nn.Module:
        from transformers import AutoImageProcessor
        self._processor = self._auto(AutoImageProcessor, directory)
        net = self._auto_model(directory)
        dummy = self._processor(images=[np.zeros((32, 32, 3), np.uint8)], return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            self._dim = int(self._forward(net, dummy).shape[1])
        return net

    def _forward(self, net: torch.nn.Module, pixels: torch.Tensor) -> torch.Tensor:
        out = net(pixel_values=pixels)
        if self.pooling == "pooler":
            if getattr(out, "pooler_output", None) is None:
                raise ConfigError(f"{self.model} has no pooler output; use pooling='mean' or 'cls'")
            return out.pooler_output.flatten(1)
        hidden = out.last_hidden_state
        return hidden[:, 0] if self.pooling == "cls" else hidden.mean(1)

    def _encode(self, batch: list, kind: str) -> np.ndarray:
        pixels = self._processor(images=[load_image(p) for p in batch], return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            return self._forward(self._net, pixels.to(self._device)).float().cpu().numpy()


@EXTRACTORS.register("hf-clip", "clip")
class HFClipExtractor(HFExtractor):
    """A CLIP-like joint model: `get_text_features` / `get_image_features` in one shared space."""

    modality_kinds = ("text", "image")
    backend = "hf-clip"
    layer_name = "projection (get_text_features / get_image_features)"

    def __init__(self, model: str, max_length: int = 77, normalize: bool = False, sha256: str | None = None,
                 name: str = ""):
        super().__init__(model, sha256, name)
        self.max_length = max_length
        self.normalize = normalize

    def preprocessing_info(self) -> dict[str, Any]:
        self._ensure_loaded(self._device or torch.device("cpu"))
        return {"text": {"tokenizer": "AutoTokenizer", "max_length": self.max_length, "strip": True},
                "image": {"image_processor": _processor_config(self._processor)}, "normalize": self.normalize}

    def _build(self, directory: Path) -> torch.nn.Module:
        from transformers import AutoImageProcessor, AutoTokenizer
        net = self._auto_model(directory)
        if not hasattr(net, "get_text_features") or not hasattr(net, "get_image_features"):
            raise ConfigError(f"{self.model} ({type(net).__name__}) is not a joint image-text model")
        self._tokenizer = self._auto(AutoTokenizer, directory)
        self._processor = self._auto(AutoImageProcessor, directory)
        self._dim = int(net.config.projection_dim)
        return net

    def _encode(self, batch: list, kind: str) -> np.ndarray:
        with torch.inference_mode():
            feats = self._text_features(batch) if kind == "text" else self._image_features(batch)
            return (l2_normalize(feats) if self.normalize else feats).float().cpu().numpy()

    def _text_features(self, texts: list) -> torch.Tensor:
        enc = _tokenize(self._tokenizer, texts, self.max_length, self._device)
        return _pooled(self._net.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]))

    def _image_features(self, paths: list) -> torch.Tensor:
        images = [load_image(p) for p in paths]
        pixels = self._processor(images=images, return_tensors="pt")["pixel_values"].to(self._device)
        return _pooled(self._net.get_image_features(pixel_values=pixels))
