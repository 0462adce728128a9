"""Content fingerprints and atomic file writes shared by every stage."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp


def canonical_json(obj: Any) -> str:
    """A stable JSON form (sorted keys, no whitespace) used for fingerprints."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot fingerprint object of type {type(obj).__name__}")


def fingerprint(obj: Any) -> str:
    """SHA-256 of the canonical JSON form of `obj`."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def array_sha256(*arrays: np.ndarray | sp.spmatrix | None) -> str:
    """SHA-256 over the shapes, dtypes and bytes of dense or sparse arrays (None allowed)."""
    h = hashlib.sha256()
    for arr in arrays:
        if arr is None:
            h.update(b"none")
        elif sp.issparse(arr):
            csr = sp.csr_matrix(arr)
            csr.sort_indices()
            h.update(f"csr{csr.shape}".encode())
            for part in (csr.indptr, csr.indices, csr.data):
                h.update(np.ascontiguousarray(part).tobytes())
        else:
            a = np.ascontiguousarray(arr)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes() if a.dtype != object else canonical_json(a.tolist()).encode())
    return h.hexdigest()


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp creates owner-only files; results are meant to be shared
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default))


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
