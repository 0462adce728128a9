"""Published test results on the standard datasets, each number with the source it was copied from.

These are other people's numbers, for orientation beside our runs (`python -m benchmarks.models
--dataset amazon-baby`); they are never used to compute anything. Only numbers verified in a
stored public copy of their source are listed:
- Amazon Baby, Sports and Electronics: MMRec's evaluation table (its LATTICE row on
  Electronics is empty, so there is none here);
- Amazon Clothing, MicroLens, MovieLens-1M and DBbook: none yet. FREEDOM's paper reports
  Clothing, but its table could not be read in a citable copy; later papers that repeat it were
  not used.
Model names are this package's (`BPR-MF` is MMRec's `BPR`); metrics are at cutoff 20 as the
evaluation registry names them.
"""
from __future__ import annotations

from dataclasses import dataclass

MMREC_RESULTS = ("MMRec's evaluation of state-of-the-art models, 'Experimental Results' table "
                 "(github.com/enoche/MMRec evaluation/README.md @23aab75)")
METRICS = ("Recall@20", "nDCG@20")


@dataclass(frozen=True)
class PublishedResult:
    """One published test metric of one model on one dataset."""
    dataset: str
    model: str
    published_as: str
    metric: str
    value: float
    source: str


# dataset -> rows (model, name in the source, Recall@20, nDCG@20), all from MMREC_RESULTS
_MMREC_TABLE: dict[str, list[tuple[str, str, float, float]]] = {
    "amazon-baby": [("BPR-MF", "BPR", 0.0575, 0.0249), ("LightGCN", "LightGCN", 0.0754, 0.0328),
                    ("VBPR", "VBPR", 0.0663, 0.0284), ("MMGCN", "MMGCN", 0.0615, 0.0261),
                    ("GRCN", "GRCN", 0.0833, 0.0363), ("LATTICE", "LATTICE", 0.0850, 0.0370),
                    ("BM3", "BM3", 0.0883, 0.0383), ("FREEDOM", "FREEDOM", 0.0992, 0.0424)],
    "amazon-sports": [("BPR-MF", "BPR", 0.0653, 0.0298), ("LightGCN", "LightGCN", 0.0864, 0.0387),
                      ("VBPR", "VBPR", 0.0856, 0.0384), ("MMGCN", "MMGCN", 0.0605, 0.0254),
                      ("GRCN", "GRCN", 0.0915, 0.0414), ("LATTICE", "LATTICE", 0.0953, 0.0421),
                      ("BM3", "BM3", 0.0980, 0.0438), ("FREEDOM", "FREEDOM", 0.1089, 0.0481)],
    "amazon-elec": [("BPR-MF", "BPR", 0.0367, 0.0161), ("LightGCN", "LightGCN", 0.0540, 0.0250),
                    ("VBPR", "VBPR", 0.0458, 0.0202), ("MMGCN", "MMGCN", 0.0343, 0.0146),
                    ("GRCN", "GRCN", 0.0590, 0.0268), ("BM3", "BM3", 0.0648, 0.0302),
                    ("FREEDOM", "FREEDOM", 0.0601, 0.0273)],
}

PUBLISHED_RESULTS: tuple[PublishedResult, ...] = tuple(
    PublishedResult(dataset, model, published_as, metric, value, MMREC_RESULTS)
    for dataset, rows in _MMREC_TABLE.items()
    for model, published_as, *values in rows
    for metric, value in zip(METRICS, values))


def published_results(dataset: str) -> list[PublishedResult]:
    """The published results on `dataset` (a catalog name; empty when none are known)."""
    return [r for r in PUBLISHED_RESULTS if r.dataset == dataset]
