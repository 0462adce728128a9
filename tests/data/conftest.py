"""Fixtures for the data-layer tests."""
from pathlib import Path

import numpy as np
import pytest

from .files import MMREC_ROWS, write_tsv


@pytest.fixture
def mmrec_dir(tmp_path: Path) -> Path:
    """4 items, 3 users, text (float64 on disk) and image features."""
    d = tmp_path / "toy"
    write_tsv(d / "toy.inter", ["userID", "itemID", "rating", "x_label"], MMREC_ROWS)
    np.save(d / "text.npy", np.arange(8, dtype=np.float64).reshape(4, 2))
    np.save(d / "image.npy", np.ones((4, 3), dtype=np.float32))
    return d
