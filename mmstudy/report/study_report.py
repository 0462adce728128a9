"""A study's report, for any study kind: the title page (question, data, protocol, audit checks), the
summary, the kind's own figures and tables, the energy pages (when cells recorded energy), the
audit table and the failed cells.

The kind (`mmstudy.study.kinds`) supplies its analysis and pages; everything every report has is
written here once.
"""
from __future__ import annotations

from pathlib import Path

from ..analysis.controls import controls_table
from ..study.kinds import StudyKind, study_kind
from ..study.results import StudyResults
from .audit import CONVERGENCE, audit_study, audit_table
from .calibration import control_checks, control_sentences, controls_shown
from .energy import energy_pages, energy_summary
from .writer import StudyReport


def build_report(folder: str | Path) -> Path:
    """Analyse a finished (or partly finished) study of any kind and write its report; the PDF's path."""
    results = StudyResults.load(folder)
    kind = study_kind(results.kind)
    if not results.manifests:
        return report_without_cells(results, kind)
    tables = kind.analyse(results)
    controls = controls_table(results)
    checks = audit_study(list(results.all_manifests.values()), min_seeds=results.analysis.min_seeds)
    with StudyReport(folder, f"{kind.title}: {results.study.name}", results.study.chain) as rep:
        rep.title_page(results.study.question, (kind.data or data_lines)(results),
                       kind.protocol(results) + claim_protocol(results), checks + kind.checks(results, tables),
                       control_checks(controls))
        failed = ([f"{len(results.failed)} cells failed; they are listed at the end and excluded."]
                  if results.failed else [])
        warnings = [f"Possibly under-trained: {c.evidence}." for c in checks if c.name == CONVERGENCE and not c.passed]
        rep.text("Summary", control_sentences(controls) + warnings + kind.summary(results, tables)
                 + energy_summary(results) + failed)
        kind.pages(rep, results, tables)
        energy_pages(rep, results)  # every kind: accuracy vs energy, when cells recorded it
        rep.table("controls", controls, "Controls: the reference re-trained on disjoint seeds (A/A) and on noise "
                  "content (noise)", controls_shown(controls),
                  note="A/A must show no difference; noise must show no gain over the CF counterpart.")
        rep.table("audit", audit_table(checks), "Audit checks (also on the first page)")
        if results.failed:
            rep.text("Failed cells", [f"{fp[:10]}: {err}" for fp, err in results.failed.items()])
    return rep.pdf_path


def claim_protocol(results: StudyResults) -> list[str]:
    """The claim rule and the metric conventions, on every report's first page."""
    cfg = results.analysis
    effect = f"; underpowered: cannot detect {cfg.min_effect:g} with {cfg.power:.0%} power" if cfg.min_effect else ""
    return [f"claim rule: significant only if the two-level (users x seeds) and the seed-level tests both reject "
            f"({cfg.correction}, alpha {cfg.alpha}); the user-level test is shown, decides nothing{effect}",
            "MAP@k divides by min(|relevant|, k) as MMRec; MAPcut@k by |relevant| (ranx, trec_eval)"]


def report_without_cells(results: StudyResults, kind: StudyKind) -> Path:
    """The report of a study none of whose cells finished: its design, and why each cell failed
    (there is nothing to analyse, so the kind's analysis and pages are not asked)."""
    planned = len({entry["fingerprint"] for entry in results.study.cells})
    with StudyReport(results.folder, f"{kind.title}: {results.study.name}", results.study.chain) as rep:
        rep.title_page(results.study.question, data_lines(results), kind.protocol(results), [])
        rep.text("Summary", [f"No cell finished: {len(results.failed)} of {planned} cells failed and "
                             f"{planned - len(results.failed)} did not run; there are no results to analyse."])
        rep.text("Failed cells", [f"{fp[:10]}: {err}" for fp, err in results.failed.items()] or ["none"])
    return rep.pdf_path


def data_lines(results: StudyResults) -> list[str]:
    """One line per dataset of the study (fingerprint, modalities, split, test users), then what
    counts as a positive interaction and how the data's own gaps were filled."""
    seen, lines = set(), []
    for m in results.manifests.values():
        d, s = m.dataset, m.split
        if d.fingerprint in seen:
            continue
        seen.add(d.fingerprint)
        lines.append(f"{d.name} (fingerprint {d.fingerprint[:12]}): modalities {', '.join(d.modalities) or 'none'}; "
                     f"split {s.method} ({s.checksum[:12]}) train {s.train_interactions:,} / valid "
                     f"{s.valid_interactions:,} / test {s.test_interactions:,}; {s.test_users:,} test users")
    return (lines or ["no finished cells"]) + declared_defaults(results)


def declared_defaults(results: StudyResults) -> list[str]:
    """The defaults that shape results, stated: the positives rule of each dataset and how many items
    of each modality had no content of their own and how those gaps were filled."""
    lines, seen = [], set()
    for m in results.manifests.values():
        feedback = m.dataset.meta.get("feedback") or {}
        if feedback.get("summary") and m.dataset.name not in seen:
            seen.add(m.dataset.name)
            lines.append(f"{m.dataset.name} positives: {feedback['summary']}")
    gaps = next((m for m in results.manifests.values() if m.missing.natural_missing), None)
    if gaps is not None:
        counts = ", ".join(f"{k} {v:,}" for k, v in gaps.missing.natural_missing.items())
        of = f" (of {gaps.dataset.items:,} items)" if gaps.dataset.items else ""
        how = ("masked together with the synthetic gaps and handled by each strategy" if gaps.missing.setting != "none"
               else f"filled by {gaps.missing.strategy} (the study's natural_gaps)")
        lines.append(f"items that lack a modality in the data itself{of}: {counts}; {how}")
    return lines
