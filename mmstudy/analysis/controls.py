"""The controls' verdicts (`study.controls`): does the A/A control show no difference, and does the
noise control's "multimodal gain" vanish? Both judged by the claim rule, one corrected family per
control, on the study's main metric.
"""
from __future__ import annotations

import pandas as pd

from ..study.results import StudyResults
from .pairing import GroupPair, compare_groups

CONTROLS = {"aa": "A/A: the reference re-trained on disjoint seeds vs itself",
            "noise": "noise: Gaussian-noise content vs the CF counterpart"}


def control_pairs(results: StudyResults, control: str) -> list[GroupPair]:
    """One pair per model: the control cells (a) against the cells they pair with (b), matched by
    the seed of b (the reference's seed for A/A, the shared seed for noise)."""
    groups: dict[str, tuple[dict[int, str], dict[int, str]]] = {}
    for entry in results.controls:
        labels, partner = entry["labels"], entry["labels"].get("pairs_with")
        if labels["control"] != control or partner not in results.all_manifests:
            continue
        seed = results.all_manifests[partner].seeds.training
        a, b = groups.setdefault(labels["model"], ({}, {}))
        a[seed], b[seed] = entry["fingerprint"], partner
    pairs = []
    for model, (a, b) in sorted(groups.items()):
        counterpart = results.all_manifests[next(iter(b.values()))].model
        label = (f"{model}: re-trained (seeds +{_offset(results, a, b)}) vs reference" if control == "aa"
                 else f"{model} on noise vs {counterpart}")
        pairs.append(GroupPair(label, a, b, keys=(("control", control), ("model", model),
                                                  ("baseline", "reference" if control == "aa" else counterpart))))
    return pairs


def _offset(results: StudyResults, a: dict[int, str], b: dict[int, str]) -> int:
    seed = next(iter(b))
    return results.all_manifests[a[seed]].seeds.training - seed


def controls_table(results: StudyResults) -> pd.DataFrame:
    """One row per (control, model): the claim-rule comparison and whether the control passed
    (A/A: no significant difference; noise: no significant gain over CF)."""
    tables = [compare_groups(results, pairs, results.analysis.metric, results.analysis)
              for pairs in (control_pairs(results, c) for c in CONTROLS) if pairs]
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    gain = table["significant"] & (table["mean_diff"] > 0)
    table["passed"] = (~table["significant"]).where(table["control"] == "aa", ~gain)
    return table
