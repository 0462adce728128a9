"""Input preprocessing shared by extractors: image loading and transforms, text pooling."""
from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from PIL import Image, UnidentifiedImageError
from torchvision.transforms import InterpolationMode

from ..errors import DataError
from ..registry import Registry

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_image(path: str | os.PathLike) -> Image.Image:
    """An RGB PIL image; `DataError` naming the file when it cannot be decoded."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


@dataclass(frozen=True)
class ImageTransform:
    """Resize the shorter side, centre-crop, scale to [0, 1], normalise; returns CHW float32."""

    crop: int = 224
    resize: int = 256
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"

    @classmethod
    def from_crop_pct(cls, crop: int, crop_pct: float, **kwargs) -> "ImageTransform":
        """The timm / TF convention: resize to floor(crop / crop_pct), then crop."""
        return cls(crop=crop, resize=int(crop / crop_pct), **kwargs)

    @classmethod
    def from_torchvision(cls, weights) -> "ImageTransform":
        """The evaluation transform documented by a torchvision `Weights` enum member."""
        tf = weights.transforms()
        return cls(crop=int(tf.crop_size[0]), resize=int(tf.resize_size[0]), mean=tuple(tf.mean),
                   std=tuple(tf.std), interpolation=InterpolationMode(tf.interpolation).value)

    def __call__(self, image: Image.Image) -> np.ndarray:
        img = TF.resize(image, [self.resize], interpolation=InterpolationMode(self.interpolation), antialias=True)
        pixels = np.asarray(TF.center_crop(img, [self.crop, self.crop]), dtype=np.float32) / 255.0
        normalised = (pixels - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(normalised.transpose(2, 0, 1))

    def describe(self) -> dict[str, Any]:
        return {"pipeline": "resize-crop-normalize", "layout": "CHW", "channels": "RGB", **asdict(self)}


@dataclass(frozen=True)
class CaffeTransform:
    """The Caffe pipeline of Yahoo's open_nsfw: square resize, JPEG round trip, centre crop,
    RGB->BGR and per-channel mean subtraction on 0-255 values; returns HWC float32."""

    crop: int = 224
    resize: int = 256
    mean_bgr: tuple[float, float, float] = (104.0, 117.0, 123.0)
    jpeg_roundtrip: bool = True

    def __call__(self, image: Image.Image) -> np.ndarray:
        resized = image.resize((self.resize, self.resize), resample=Image.BILINEAR)
        if self.jpeg_roundtrip:
            buffer = io.BytesIO()
            resized.save(buffer, format="JPEG")
            buffer.seek(0)
            resized = Image.open(buffer).convert("RGB")
        pixels = np.asarray(resized, dtype=np.float32)
        top = (self.resize - self.crop) // 2
        cropped = pixels[top:top + self.crop, top:top + self.crop, ::-1]
        return np.ascontiguousarray(cropped - np.asarray(self.mean_bgr, dtype=np.float32))

    def describe(self) -> dict[str, Any]:
        return {"pipeline": "caffe-open-nsfw", "layout": "HWC", "channels": "BGR", **asdict(self)}


IMAGE_TRANSFORMS: Registry = Registry("image preprocessing")
IMAGE_TRANSFORMS.add("imagenet", ImageTransform())
IMAGE_TRANSFORMS.add("open-nsfw", CaffeTransform(), "caffe")


def image_batch(paths: Sequence[str | os.PathLike], transform) -> np.ndarray:
    """Load and transform a batch of image files into one stacked float32 array."""
    return np.stack([transform(load_image(p)) for p in paths]).astype(np.float32, copy=False)


def clean_texts(texts: Sequence[object]) -> list[str]:
    """Texts as strings with surrounding whitespace removed (as sentence-transformers does)."""
    return [str(t).strip() for t in texts]


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Attention-mask weighted mean over tokens: (batch x tokens x d) -> (batch x d)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def pool_tokens(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """'mean' (masked mean) or 'cls' (first token) pooling of token embeddings."""
    return hidden[:, 0] if pooling == "cls" else mean_pool(hidden, mask)


def l2_normalize(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x, p=2, dim=-1)
