"""Write a study report: every table as CSV + LaTeX, every figure as PNG, all of them in one PDF
whose first page carries the study question, data, protocol and the audit checks."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .audit import AuditCheck  # noqa: E402
from .pdf import ReportBuilder  # noqa: E402
from .style import report_style  # noqa: E402
from .tables import to_csv, to_latex_booktabs  # noqa: E402

RAW_TABLES = "tables"  # analysis tables (full precision) that `verify` recomputes
FIGURES = "figures"


def slug(text: str) -> str:
    """A file-name-safe form of a label (for figure and table names)."""
    return "".join(c if c.isalnum() else "-" for c in str(text)).strip("-").lower()


class StudyReport:
    """Context manager around ReportBuilder that also saves the files behind each page."""

    def __init__(self, folder: str | Path, title: str, fingerprint: str):
        self.folder = Path(folder)
        self.pdf_path = self.folder / "report.pdf"
        self._style = report_style()
        self._builder = ReportBuilder(self.pdf_path, title, fingerprint=fingerprint)

    def __enter__(self) -> "StudyReport":
        self._style.__enter__()
        self._builder.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._builder.__exit__(*exc)
        self._style.__exit__(*exc)

    def title_page(self, question: str, data_lines: list[str], protocol_lines: list[str],
                   checks: list[AuditCheck], controls: list[AuditCheck] = ()) -> None:
        self._builder.title_page(question, data_lines, protocol_lines, checks, controls=controls)

    def text(self, title: str, paragraphs: list[str]) -> None:
        self._builder.add_text(title, paragraphs)

    def table(self, name: str, raw: pd.DataFrame, title: str, shown: pd.DataFrame | None = None,
              note: str = "") -> None:
        """Save `raw` (CSV, full precision) and its shown form (CSV + LaTeX), add a PDF page."""
        if raw is None or raw.empty:
            return
        shown = raw if shown is None else shown
        to_csv(raw, self.folder / RAW_TABLES / f"{name}.csv")
        to_latex_booktabs(shown, self.folder / RAW_TABLES / f"{name}.tex", caption=title, label=f"tab:{name}")
        if not shown.empty:  # e.g. CKA between one extractor and itself only: the CSV, no empty page
            self._builder.add_table(shown, title, note)

    def figure(self, name: str, fig, caption: str = "", title: str = "") -> None:
        from .figures import save_figure
        save_figure(fig, self.folder / FIGURES / f"{name}.png")
        self._builder.add_figure(fig, caption, title=title)
        plt.close(fig)
