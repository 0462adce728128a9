"""Who pays for missing content: each strategy's paired loss against complete data, per segment.

For every multimodal configuration (model, phase, mechanism, setting, strategy, rate) and segment,
the segment's users' metric in the masked cells is paired with the same users' metric in the
model's complete-data cells of the same seeds (same split, same test items), and judged by the
claim rule as one exploratory family (Benjamini-Hochberg). Segments (`study.views`):
- users whose test items include a masked item vs the other users;
- cold users (training interactions in the lowest quartile) vs warm users;
- head vs long-tail test items (training popularity: Recall over those targets only).
`dropped` is left out: its catalogue differs from the complete one.
"""
from __future__ import annotations

import pandas as pd

from ...analysis.groups import seed_groups
from ...analysis.pairing import GroupPair, compare_groups
from ...report.tables import comparison_table
from ...study.results import VIEWS, StudyResults

# segment: (view of the masked cells, view of the complete cells; the pairing keeps shared users)
SEGMENTS = {"masked-item users": ("masked_users", "full"), "other users": ("other_users", "full"),
            "cold users": ("cold_users", "full"), "warm users": ("warm_users", "full"),
            "head items": ("head", "head"), "long-tail items": ("tail", "tail")}


def who_pays_pairs(cells: pd.DataFrame, factors: list[str], complete: tuple, complete_phase) -> list[GroupPair]:
    """Each masked configuration's segments against the complete-data cells of its model and phase
    (`complete`: the (mechanism, setting, strategy, rate) labels of complete cells)."""
    groups = seed_groups(cells[cells["role"] == "multimodal"], factors)
    pairs = []
    for (model, phase, mechanism, setting, strategy, rate), fps in sorted(groups.items()):
        base = groups.get((model, complete_phase(phase), *complete))
        if base is None or strategy in ("dropped", complete[2]):
            continue
        for segment, (view_a, view_b) in SEGMENTS.items():
            pairs.append(GroupPair(
                label=f"{model} | {phase} {mechanism} {setting} @ {rate:.0%}: {strategy}, {segment}",
                a=fps, b=base, view_a=view_a, view_b=view_b,
                keys=(("model", model), ("phase", phase), ("mechanism", mechanism), ("setting", setting),
                      ("rate", rate), ("strategy", strategy), ("segment", segment))))
    return pairs


def who_pays(results: StudyResults, pairs: list[GroupPair], metric: str) -> pd.DataFrame:
    """The claim table of `pairs` (one exploratory family) whose cells all stored their segment's
    view; `compare_groups` leaves out a segment without two users shared by every seed's cells
    (e.g. at a high rate with a mask per seed, no user is free of masked test items in all seeds).
    Empty without complete-data cells."""
    present = [p for p in pairs if _stored(results, p.a.values(), p.view_a) and _stored(results, p.b.values(), p.view_b)]
    return compare_groups(results, present, metric, results.analysis, correction="fdr_bh")


def _stored(results: StudyResults, fingerprints, view: str) -> bool:
    """Whether every cell stored the view (older folders have no segment views)."""
    return view == "full" or all(VIEWS[view][0] in results.all_manifests[fp].files for fp in fingerprints)


def pages(rep, tables: dict[str, pd.DataFrame], metric: str) -> None:
    """The who-pays table (a `report.writer.StudyReport`), one row per configuration and segment."""
    table = tables.get("who_pays", pd.DataFrame())
    if table.empty:
        return
    shown = comparison_table(table)
    rep.table("who_pays", table, f"Who pays: {metric} lost to missing content, per user and item segment", shown,
              note="Each strategy's cells minus the model's complete-data cells (same seeds, split and test "
                   "items), over the segment's users; head/long-tail: Recall over those test items only. "
                   "Exploratory family: Benjamini-Hochberg correction under the claim rule. Segments with fewer "
                   "than two users in every seed's cells are left out.")
