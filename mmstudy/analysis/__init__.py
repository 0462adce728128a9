"""Study analyses: the numbers a report shows, recomputable from stored per-user files."""
from __future__ import annotations

from typing import Callable


def analysers() -> dict[str, Callable]:
    """Analysis function per study kind: (StudyResults, AnalysisConfig) -> {table name: DataFrame}."""
    from .extractors import analyse_extractors
    from .fusion import analyse_fusion
    from .missing import analyse_missing
    return {"missing": analyse_missing, "fusion": analyse_fusion, "extractors": analyse_extractors}
