"""A study's report, for any study kind: the title page (question, data, protocol, audit checks), the
summary, the kind's own figures and tables, the audit table and the failed cells.

The kind (`mmstudy.study.kinds`) supplies its analysis and pages; everything every report has is
written here once.
"""
from __future__ import annotations

from pathlib import Path

from ..study.kinds import StudyKind, study_kind
from ..study.results import StudyResults
from .audit import audit_study, audit_table
from .writer import StudyReport


def build_report(folder: str | Path) -> Path:
    """Analyse a finished (or partly finished) study of any kind and write its report; the PDF's path."""
    results = StudyResults.load(folder)
    kind = study_kind(results.kind)
    if not results.manifests:
        return report_without_cells(results, kind)
    tables = kind.analyse(results)
    checks = audit_study(list(results.manifests.values()), min_seeds=results.analysis.min_seeds)
    with StudyReport(folder, f"{kind.title}: {results.study.name}", results.study.chain) as rep:
        rep.title_page(results.study.question, (kind.data or data_lines)(results), kind.protocol(results),
                       checks + kind.checks(results, tables))
        failed = ([f"{len(results.failed)} cells failed; they are listed at the end and excluded."]
                  if results.failed else [])
        rep.text("Summary", kind.summary(results, tables) + failed)
        kind.pages(rep, results, tables)
        rep.table("audit", audit_table(checks), "Audit checks (also on the first page)")
        if results.failed:
            rep.text("Failed cells", [f"{fp[:10]}: {err}" for fp, err in results.failed.items()])
    return rep.pdf_path


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
    """One line per dataset of the study: fingerprint, modalities, split and test users."""
    seen, lines = set(), []
    for m in results.manifests.values():
        d, s = m.dataset, m.split
        if d.fingerprint in seen:
            continue
        seen.add(d.fingerprint)
        lines.append(f"{d.name} (fingerprint {d.fingerprint[:12]}): modalities {', '.join(d.modalities) or 'none'}; "
                     f"split {s.method} ({s.checksum[:12]}) train {s.train_interactions:,} / valid "
                     f"{s.valid_interactions:,} / test {s.test_interactions:,}; {s.test_users:,} test users")
    return lines or ["no finished cells"]
