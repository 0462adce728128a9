"""ONNX Runtime encoders: text (tokenizer + graph) and image (named preprocessing + graph).

`output` may name any tensor of the graph, not only a declared output: intermediate tensors
(e.g. the pooled `/ReduceMean_output_0` of open_nsfw) are exposed by appending a graph output
to the serialized model in memory; the file itself is never modified.
"""
from __future__ import annotations

import abc
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ...errors import ConfigError
from ..base import EXTRACTORS, Extractor, files_sha256, verify_sha256
from .hf_transformers import model_dir, model_files
from ..preprocess import IMAGE_TRANSFORMS, clean_texts, image_batch, l2_normalize, mean_pool

_GRAPH_FIELD, _OUTPUT_FIELD, _NAME_FIELD = 7, 12, 1  # ModelProto.graph, GraphProto.output, ValueInfoProto.name


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def with_graph_outputs(model: bytes, names: list[str]) -> bytes:
    """The serialized ONNX model with extra graph outputs: protobuf merges a repeated `graph`
    field into the first one, so appending `graph { output { name } }` adds the outputs."""
    extra = b"".join(_field(_OUTPUT_FIELD, _field(_NAME_FIELD, name.encode())) for name in names)
    return model + _field(_GRAPH_FIELD, extra)


def onnx_session(path: Path, device: torch.device, output: str | None):
    """An InferenceSession on `device`, exposing `output` as a graph output when it is internal."""
    import onnxruntime as ort
    providers = ["CPUExecutionProvider"]
    if device.type == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ConfigError(f"device {device} requested but onnxruntime has no CUDAExecutionProvider "
                              "(install onnxruntime-gpu)")
        providers = [("CUDAExecutionProvider", {"device_id": device.index or 0})]
    model = path.read_bytes()
    session = ort.InferenceSession(model, providers=providers)
    declared = [o.name for o in session.get_outputs()]
    if output is None or output in declared:
        return session
    try:
        return ort.InferenceSession(with_graph_outputs(model, [output]), providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail / InvalidGraph types
        raise ConfigError(f"{path.name} has no tensor named {output!r}; declared outputs: {declared}") from exc


class OnnxExtractor(Extractor):
    """Shared session handling of the ONNX backends: `output` (None = first output) of `model_path`."""

    location_params = ("model_path", "tokenizer")

    def __init__(self, model_path: str, output: str | None = None, sha256: str | None = None):
        super().__init__()
        self.model_path = str(model_path)
        self.output = output
        self.sha256 = sha256
        self._session = None

    def describe(self) -> dict[str, Any]:
        return {"model": Path(self.model_path).name, "layer": self.output or "first output",
                "preprocessing": self.preprocessing_info(),
                "weights_sha256": verify_sha256(self.model_path, self.sha256)}

    @abc.abstractmethod
    def preprocessing_info(self) -> dict[str, Any]:
        """The input pipeline, for the identity."""

    def _load(self, device: torch.device) -> None:
        verify_sha256(self.model_path, self.sha256)
        self._session = onnx_session(Path(self.model_path), device, self.output)
        self._output = self.output or self._session.get_outputs()[0].name
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._dim = int(self._run(self._dummy_batch()).shape[1])

    @abc.abstractmethod
    def _run(self, batch) -> np.ndarray:
        """Features of a batch of raw items (or of a prepared array)."""

    @abc.abstractmethod
    def _dummy_batch(self) -> Any:
        """A one-item input used to find the output dimension."""

    def _encode(self, batch: list, kind: str) -> np.ndarray:
        return self._run(batch)


@EXTRACTORS.register("onnx-text")
class OnnxTextExtractor(OnnxExtractor):
    """A transformer exported to ONNX plus its tokenizer folder; a token-level output is mean-pooled."""

    backend = "onnx-text"
    modality_kinds = ("text",)

    def __init__(self, model_path: str, tokenizer: str, output: str | None = None, max_length: int = 128,
                 normalize: bool = False, sha256: str | None = None):
        super().__init__(model_path, output, sha256)
        self.tokenizer = str(tokenizer)
        self.max_length = max_length
        self.normalize = normalize

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "files_sha256": files_sha256(model_files(model_dir(self.tokenizer)))}

    def preprocessing_info(self) -> dict[str, Any]:
        return {"tokenizer": Path(self.tokenizer).name, "max_length": self.max_length, "truncation": True,
                "strip": True, "pooling": "mean over tokens when the output is token-level",
                "normalize": self.normalize}

    def _load(self, device: torch.device) -> None:
        from transformers import AutoTokenizer
        self._tokenizer = AutoTokenizer.from_pretrained(model_dir(self.tokenizer), local_files_only=True)
        super()._load(device)

    def _dummy_batch(self) -> list[str]:
        return ["a"]

    def _run(self, batch: list) -> np.ndarray:
        enc = self._tokenizer(clean_texts(batch), padding=True, truncation=True, max_length=self.max_length,
                              return_tensors="np")
        feed = {name: enc[name].astype(np.int64) for name in self._inputs}
        out = torch.from_numpy(self._session.run([self._output], feed)[0])
        if out.ndim == 3:
            out = mean_pool(out, torch.from_numpy(enc["attention_mask"]))
        out = l2_normalize(out) if self.normalize else out
        return out.float().numpy()


@EXTRACTORS.register("onnx-image")
class OnnxImageExtractor(OnnxExtractor):
    """An image model in ONNX with a named input pipeline (`IMAGE_TRANSFORMS`: 'imagenet', 'open-nsfw')."""

    backend = "onnx-image"
    modality_kinds = ("image",)

    def __init__(self, model_path: str, output: str | None = None, preprocessing: str = "imagenet",
                 sha256: str | None = None):
        super().__init__(model_path, output, sha256)
        self.transform = IMAGE_TRANSFORMS.get(preprocessing)
        self.preprocessing = IMAGE_TRANSFORMS.canonical(preprocessing)

    def preprocessing_info(self) -> dict[str, Any]:
        return self.transform.describe()

    def _dummy_batch(self) -> np.ndarray:
        return self.transform(Image.new("RGB", (32, 32)))[None]

    def _run(self, batch) -> np.ndarray:
        pixels = batch if isinstance(batch, np.ndarray) else image_batch(batch, self.transform)
        try:
            out = self._session.run([self._output], {self._inputs[0]: pixels})[0]
        except Exception as exc:  # shape mismatch between the pipeline and the graph input
            raise ConfigError(f"{Path(self.model_path).name}: preprocessing {self.preprocessing!r} produces "
                              f"{pixels.shape[1:]} inputs the graph rejects: {exc}") from exc
        return out.reshape(len(out), -1).astype(np.float32, copy=False)
