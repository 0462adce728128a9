"""Data layer: datasets, modalities, loaders, preprocessing and splits."""
from .dataset import Dataset
from .modality import Modality
from .split import Split

__all__ = ["Dataset", "Modality", "Split"]
