"""Plain-language sentences for a family of paired comparisons (`stats.compare_family` rows)."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from ..errors import DataError
from ..stats.corrections import correction_label
from ..stats.effects import cohen_label
from .tables import auto_decimals, format_number, format_p

REQUIRED = ("comparison", "mean_diff", "diff_ci_low", "diff_ci_high", "p_adj", "correction",
            "cohens_dz", "significant")


def _names(row) -> tuple[str, str]:
    """(candidate, baseline): system_a/system_b columns, else "A vs B" in the label."""
    if isinstance(getattr(row, "system_a", None), str) and isinstance(
            getattr(row, "system_b", None), str):
        return row.system_a, row.system_b
    parts = str(row.comparison).split(" vs ")
    return (parts[0], parts[1]) if len(parts) == 2 else (f"{row.comparison}: the candidate",
                                                        "the baseline")


def _where(row) -> str:
    metric = getattr(row, "metric", None)
    condition = getattr(row, "condition", None)
    return (f" on {metric}" if isinstance(metric, str) else "") + (
        f" {condition}" if isinstance(condition, str) and condition else "")


def _p_phrase(p: float) -> str:
    text = format_p(p)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def _diff(row) -> str:
    return format_number(row.mean_diff, auto_decimals(row.diff_ci_low, row.diff_ci_high), True)


def _evidence(row) -> str:
    """"+0.012 (95% CI +0.006 to +0.018), Holm-adjusted p = 0.003, d_z = 0.21 (small)"."""
    d = auto_decimals(row.diff_ci_low, row.diff_ci_high)
    level = f"{100 * getattr(row, 'confidence', 0.95):g}%"
    p_part = (f"{_p_phrase(row.p_adj)} (uncorrected)" if row.correction == "none" else
              f"{correction_label(row.correction)}-adjusted {_p_phrase(row.p_adj)}")
    return (f"{_diff(row)} ({level} CI "
            f"{format_number(row.diff_ci_low, d, True)} to "
            f"{format_number(row.diff_ci_high, d, True)}), {p_part}, "
            f"d_z = {format_number(row.cohens_dz, 2)} ({cohen_label(row.cohens_dz)})")


def summarize_comparisons(df: pd.DataFrame, *, higher_is_better: bool = True,
                          collapse_nonsignificant: bool = False) -> list[str]:
    """One sentence per comparison, e.g. "X is significantly better than Y on Recall@20 at 30%
    missing: +0.012 (95% CI +0.006 to +0.018), Holm-adjusted p = 0.003, d_z = 0.21 (small)."

    Optional columns refine the wording: system_a / system_b (names; otherwise "A vs B" in the
    comparison label), metric, condition (appended verbatim, e.g. "at 30% missing") and
    confidence. Non-significant comparisons say so; with `collapse_nonsignificant` they are
    gathered into one closing sentence. Effect labels follow Cohen (|d_z| < 0.2 negligible,
    < 0.5 small, < 0.8 medium, else large).
    """
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"comparison table lacks columns {missing}")
    sentences, quiet, weak = [], [], []
    for row in df.itertuples(index=False):
        a, b = _names(row)
        verdict = getattr(row, "verdict", "")
        if collapse_nonsignificant and verdict in ("underpowered", "untestable"):
            weak.append(f"{a} vs {b}{_where(row)} ({_diff(row)}, {verdict}"
                        + (f", detectable {format_number(row.mde, 3)}" if verdict == "underpowered" else "") + ")")
        elif row.significant and row.mean_diff != 0:
            better = (row.mean_diff > 0) == higher_is_better
            verdict = "better" if better else "worse"
            sentences.append(f"{a} is significantly {verdict} than {b}{_where(row)}: "
                             f"{_evidence(row)}.")
        elif collapse_nonsignificant:
            quiet.append(f"{a} vs {b}{_where(row)} ({_diff(row)}, adjusted "
                         f"{_p_phrase(row.p_adj)})")
        else:
            sentences.append(f"No significant difference between {a} and {b}{_where(row)}: "
                             f"{_evidence(row)}.")
    if quiet:
        sentences.append(f"No significant difference in {len(quiet)} of {len(df)} comparisons{_listed(quiet)}.")
    if weak:
        sentences.append(f"Not enough evidence either way in {len(weak)} of {len(df)} comparisons (underpowered: "
                         f"the smallest difference they could detect with 80% power exceeds the study's minimum "
                         f"effect; untestable: one seed){_listed(weak)}.")
    return sentences


MAX_LISTED = 8  # longer lists of quiet comparisons are left to the comparison tables


def _listed(items: list[str]) -> str:
    """": a; b; c" for a short list; for a long one, where to read it instead of a page of text."""
    return f": {'; '.join(items)}" if len(items) <= MAX_LISTED else " (each one is in the comparison table)"


def claim_count(df: pd.DataFrame, what: str) -> str:
    """"3 of 12 <what> on Recall@20 are significant under the claim rule (...); 4 are underpowered;
    the user-level test alone would call 9 significant." for a `stats.claims.claim_family` table."""
    if df.empty:
        return f"No {what} to test."
    row = df.iloc[0]
    counts = df["verdict"].value_counts() if "verdict" in df else pd.Series(dtype=int)
    weak = "; ".join(f"{int(counts[v])} {v}" for v in ("underpowered", "untestable") if counts.get(v, 0))
    user = int(df["user_significant"].sum()) if "user_significant" in df else None
    metric = f" on {row.metric}" if isinstance(getattr(row, "metric", None), str) else ""
    return (f"{int(df['significant'].sum())} of {len(df)} {what}{metric} are significant under the claim rule "
            f"(two-level test over users and training seeds, {correction_label(row.correction)} correction, "
            f"alpha {row.alpha:g})" + (f"; {weak}" if weak else "")
            + (f"; the user-level test alone would call {user} significant." if user is not None else "."))


def training_settings(spec: Mapping[str, Any]) -> str:
    """A study's training settings as its first page states them: `train`, then any model's own
    changes (`train_by_model`)."""
    line = f"training: {dict(spec.get('train') or {})}"
    changes = spec.get("train_by_model") or {}
    if changes:
        line += " (per model: " + "; ".join(f"{model} {dict(c)}" for model, c in changes.items()) + ")"
    return line
