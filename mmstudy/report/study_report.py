"""A study's report, for any study kind: the title page (question, data, protocol, audit checks), the
summary, the kind's own figures and tables, the energy pages (when cells recorded energy), the
audit table and the failed cells.

The kind (`mmstudy.study.kinds`) supplies its analysis and pages; everything every report has is
written here once.
"""
from __future__ import annotations

from pathlib import Path

from ..study.kinds import study_kind
from ..study.results import StudyResults
from .audit import audit_study, audit_table
from .energy import energy_pages, energy_summary
from .writer import StudyReport


def build_report(folder: str | Path) -> Path:
    """Analyse a finished (or partly finished) study of any kind and write its report; the PDF's path."""
    results = StudyResults.load(folder)
    kind = study_kind(results.kind)
    tables = kind.analyse(results)
    checks = audit_study(list(results.manifests.values()), min_seeds=results.analysis.min_seeds)
    with StudyReport(folder, f"{kind.title}: {results.study.name}", results.study.chain) as rep:
        rep.title_page(results.study.question, (kind.data or data_lines)(results), kind.protocol(results),
                       checks + kind.checks(results, tables))
        failed = ([f"{len(results.failed)} cells failed; they are listed at the end and excluded."]
                  if results.failed else [])
        rep.text("Summary", kind.summary(results, tables) + energy_summary(results) + failed)
        kind.pages(rep, results, tables)
        energy_pages(rep, results)  # every kind: accuracy vs energy, when cells recorded it
        rep.table("audit", audit_table(checks), "Audit checks (also on the first page)")
        if results.failed:
            rep.text("Failed cells", [f"{fp[:10]}: {err}" for fp, err in results.failed.items()])
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
