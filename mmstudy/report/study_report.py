"""A study's report, for any study kind: the title page (question, data, protocol, audit checks), the
summary, the kind's own figures and tables, the audit table and the failed cells.

The kind (`mmstudy.study.kinds`) supplies its analysis and pages; everything every report has is
written here once.
"""
from __future__ import annotations

from pathlib import Path

from ..analysis.controls import controls_table
from ..study.kinds import study_kind
from ..study.results import StudyResults
from .audit import audit_study, audit_table
from .calibration import control_checks, control_sentences, controls_shown
from .writer import StudyReport


def build_report(folder: str | Path) -> Path:
    """Analyse a finished (or partly finished) study of any kind and write its report; the PDF's path."""
    results = StudyResults.load(folder)
    kind = study_kind(results.kind)
    tables = kind.analyse(results)
    controls = controls_table(results)
    checks = audit_study(list(results.all_manifests.values()), min_seeds=results.analysis.min_seeds)
    with StudyReport(folder, f"{kind.title}: {results.study.name}", results.study.chain) as rep:
        rep.title_page(results.study.question, (kind.data or data_lines)(results),
                       kind.protocol(results) + claim_protocol(results), checks + kind.checks(results, tables),
                       control_checks(controls))
        failed = ([f"{len(results.failed)} cells failed; they are listed at the end and excluded."]
                  if results.failed else [])
        rep.text("Summary", control_sentences(controls) + kind.summary(results, tables) + failed)
        kind.pages(rep, results, tables)
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
