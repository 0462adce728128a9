"""The report's calibration box: what the study's controls found (`analysis.controls`), as
first-page checks beside the audit, with a warning wherever a control fails."""
from __future__ import annotations

import pandas as pd

from .audit import AuditCheck
from .tables import comparison_table, format_mean_ci, format_p


def control_checks(table: pd.DataFrame) -> list[AuditCheck]:
    """One compact PASS/FAIL line per (control, model) of a controls table (the first page's box)."""
    return [AuditCheck(f"{'A/A' if r.control == 'aa' else 'noise'}: {r.model}", bool(r.passed), _evidence(r))
            for r in table.itertuples()] if not table.empty else []


def _evidence(row) -> str:
    found = (f"{format_mean_ci(row.mean_diff, row.diff_ci_low, row.diff_ci_high, signed=True)}, "
             f"claim-rule p {format_p(row.p_adj)}")
    if row.control == "aa":
        if not row.passed:
            return f"WARNING {found}: training noise passes the claim rule here; read every claim with caution"
        return found + (f" (user-level alone: p {format_p(row.user_p_adj)}, 'significant')"
                        if row.user_significant else "")
    if not row.passed:
        return (f"WARNING noise content beats {row.baseline}: {found}; the multimodal gain may come from extra "
                "parameters or regularisation, not content")
    return f"vs {row.baseline}: {found}"


def control_sentences(table: pd.DataFrame) -> list[str]:
    """The summary's account of the controls, one sentence per control kind."""
    out = []
    for control, part in table.groupby("control", sort=True) if not table.empty else []:
        failed = part[~part["passed"].astype(bool)]
        what = ("A/A control (the reference re-trained on disjoint seeds)" if control == "aa"
                else "noise control (content replaced by Gaussian noise, vs the CF counterpart)")
        passed = f"all {len(part)} models" if len(part) > 1 else ", ".join(part["model"])
        verdict = (f"passed for {passed}" if failed.empty else
                   f"FAILED for {', '.join(failed['model'])}: see the warning on the first page")
        user = int(part["user_significant"].sum()) if control == "aa" else 0
        extra = f"; the user-level test alone would have called {user} of these A/A differences significant" \
            if user else ""
        out.append(f"The {what} {verdict}{extra}.")
    return out


def controls_shown(table: pd.DataFrame) -> pd.DataFrame | None:
    """The controls table's readable form: the claim columns plus the control's verdict."""
    if table.empty:
        return None
    shown = comparison_table(table)
    shown.insert(0, "Control", table["control"].map({"aa": "A/A", "noise": "noise"}).to_numpy())
    shown["Passed"] = table["passed"].map({True: "yes", False: "NO"}).to_numpy()
    return shown
