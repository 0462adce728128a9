"""Data layer: datasets, modalities, loaders, preprocessing and splits."""
from .dataset import Dataset
from .loading import LAYOUTS, check_dataset, detect_layout, load_dataset
from .modality import Modality
from .preprocess import implicit_threshold, kcore, preprocess, reindex
from .sources.catalog import DATASETS, data_root
from .sources.ducho import load_ducho
from .sources.mmrec import load_mmrec
from .sources.raw import load_raw
from .sources.synthetic import make_synthetic, render_item_images
from .split import Split
from .holdout import SPLIT_METHODS, load_or_make_split, make_split, random_holdout, temporal_holdout

__all__ = ["DATASETS", "Dataset", "check_dataset", "LAYOUTS", "Modality", "SPLIT_METHODS", "Split", "data_root", "detect_layout",
           "implicit_threshold", "kcore", "load_dataset", "load_ducho", "load_mmrec", "load_or_make_split",
           "load_raw", "make_split", "make_synthetic", "preprocess", "random_holdout", "reindex",
           "render_item_images", "temporal_holdout"]
