"""Who is missing: the missing share per training-popularity decile for each mechanism.

Read from what every masked cell records (`missing.who_is_missing`, see `mmstudy.missing.profile`),
so `verify` recomputes it without data. Per (mechanism, setting, rate) and decile, the missing
share is the share of the decile's candidates that the synthetic draw masked, pooled over the
masked modalities (for the data's own gaps, `natural`: the share of (item, modality) pairs without
content), averaged over seeds; Spearman's rho is computed per seed between the decile's long-tail
rank (1 = the most popular tenth ... 10 = the least popular) and its missing share, then averaged
over seeds, so rho > 0 means the long tail loses content first.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ...report.figures import robustness_curve
from ...report.writer import StudyReport, slug
from ...study.manifest import CellManifest, WhoIsMissing
from ...study.results import StudyResults
from .design import mechanism_label, phase_label

KEYS = ["phase", "mechanism", "setting", "rate"]
NOTE = ("Columns 1 (head) ... 10 (tail), long_tail_rank in the CSV: training-popularity deciles, 1 = the most "
        "popular tenth of the catalogue by training interactions ... 10 = the least popular. Missing share: the "
        "masked share of the decile's candidates (natural: the share without content), mean over seeds. rho: "
        "Spearman's rho between long-tail rank and missing share, per seed, averaged over seeds; rho > 0: the "
        "long tail loses content first.")


def decile_shares(record: WhoIsMissing, natural: bool) -> np.ndarray:
    """The missing share per decile of one cell's mask (NaN where a decile has no candidates)."""
    if natural:
        missing = np.sum(list(record.natural.values()), axis=0)
        total = np.asarray(record.items) * len(record.natural)
    else:
        missing, total = np.sum(list(record.masked.values()), axis=0), np.sum(list(record.candidates.values()), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(missing, dtype=float) / np.asarray(total, dtype=float)


def mask_rows(manifests: dict[str, CellManifest]) -> pd.DataFrame:
    """One row per decile of each distinct mask (phase, mechanism, setting, rate, seed): every strategy
    and model at those values shares it, so the first cell in fingerprint order stands for all.
    `serving` draws the masks of `train_and_test` (same split), so its rows are those; `new_items`
    draws on its own split (the held-out items have no training popularity)."""
    rows = []
    for fp in sorted(manifests):
        m = manifests[fp]
        record = m.missing.who_is_missing
        if record is None or m.labels.get("role") != "multimodal":
            continue
        mechanism = mechanism_label(m.labels)
        if not record.masked and mechanism != "natural":  # nothing drawn
            continue
        shares = decile_shares(record, mechanism == "natural")
        mask = {"phase": "new_items" if phase_label(m.labels) == "new_items" else "train_and_test",
                "mechanism": mechanism, **{k: m.labels[k] for k in ("setting", "rate", "seed")}}
        for rank, (items, share) in enumerate(zip(record.items, shares), start=1):
            rows.append({**mask, "long_tail_rank": rank, "items": items, "missing_share": share})
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).drop_duplicates([*KEYS, "seed", "long_tail_rank"])


def table(results: StudyResults) -> pd.DataFrame:
    """Missing share per (phase, mechanism, setting, rate, long-tail rank), with rho per (phase,
    mechanism, setting, rate); empty for folders written before cells recorded who is missing."""
    rows = mask_rows(results.manifests)
    if rows.empty:
        return rows
    rho = (rows.groupby([*KEYS, "seed"])
           .apply(lambda g: _spearman(g["long_tail_rank"], g["missing_share"]), include_groups=False)
           .groupby(level=KEYS).mean().rename("spearman_rho"))
    shares = rows.groupby([*KEYS, "long_tail_rank"]).agg(
        items=("items", "mean"), missing_share=("missing_share", "mean"), n_seeds=("seed", "nunique"))
    return shares.reset_index().merge(rho.reset_index(), on=KEYS, how="left")


def _spearman(rank: pd.Series, share: pd.Series) -> float:
    valid = share.notna()
    if valid.sum() < 3 or share[valid].nunique() < 2:  # rho is undefined without variation
        return float("nan")
    return float(stats.spearmanr(rank[valid], share[valid]).statistic)


def shown(who: pd.DataFrame) -> pd.DataFrame:
    """One row per (phase, mechanism, setting, rate): the share per long-tail rank and rho."""
    wide = who.pivot_table(index=KEYS, columns="long_tail_rank", values="missing_share")
    wide.columns = [{1: "1 (head)", 10: "10 (tail)"}.get(rank, str(rank)) for rank in wide.columns]
    wide = wide.map(lambda v: f"{v:.0%}")
    wide["rho"] = who.groupby(KEYS)["spearman_rho"].first().map(lambda v: f"{v:+.2f}")
    out = wide.reset_index()
    out["rate"] = out["rate"].map(lambda r: f"{r:.0%}")
    return out


def pages(rep: StudyReport, tables: dict[str, pd.DataFrame]) -> None:
    """The who-is-missing figure per (setting, rate) and its table."""
    who = tables.get("who_is_missing", pd.DataFrame())
    if who.empty:
        return
    for (phase, setting, rate), part in who.groupby(["phase", "setting", "rate"]):
        split = " (new-items split)" if phase == "new_items" else ""
        name = f"who_is_missing_{slug(setting)}_{slug(f'{rate:g}')}" + ("_new_items" if split else "")
        rep.figure(name, robustness_curve(
            part, x="long_tail_rank", y="missing_share", hue="mechanism",
            title=(f"Who is missing: {setting} masking at {rate:.0%}" if rate else
                   "Who is missing: the data's own gaps") + split,
            xlabel="long-tail rank (1 = most popular tenth ... 10 = least popular)", ylabel="missing share"),
            caption="Share of each training-popularity decile's items that lost content, per missingness "
                    "mechanism (mean over seeds). A rising line: the long tail loses content first.")
    rep.table("who_is_missing", who, "Who is missing: missing share per training-popularity decile",
              shown(who), note=NOTE)
