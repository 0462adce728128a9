"""Multi-page PDF reports (matplotlib PdfPages): title page with audit checks, figures, tables
and text pages, each with a footer carrying the study fingerprint and the page number."""
from __future__ import annotations

import os
import textwrap
from contextlib import ExitStack, contextmanager
from typing import Callable, Iterable, Iterator, Sequence

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from .. import __version__
from ..errors import ConfigError, DataError
from ..hashing import atomic_path
from .style import A4_LANDSCAPE, FAIL_COLOR, FONT_SIZE, MARGIN, PASS_COLOR, report_style
from .tables import table_pages

FOOTER_IN = 0.45  # inches kept free above the bottom margin for the footer
CHAR_EM = 0.55  # average glyph width of running text, in em
TEXT_WIDTH_IN = 8.8  # readable line length on text pages
TITLE_SHRINK = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)  # points the title page's text may shrink to fit one page


def _wrap(text: str, width_in: float, size: float) -> list[str]:
    return textwrap.wrap(text, max(20, int(width_in * 72 / (size * CHAR_EM)))) or [""]


def _check_parts(check) -> tuple[str, bool, str]:
    """(name, passed, evidence) from a tuple or an object with those attributes."""
    if isinstance(check, (tuple, list)) and len(check) == 3:
        return str(check[0]), bool(check[1]), str(check[2])
    try:
        return str(check.name), bool(check.passed), str(check.evidence)
    except AttributeError:
        raise DataError(f"audit check {check!r} is not (name, passed, evidence)") from None


class _Flow:
    """Places wrapped text top-down in one column (inches from the top-left corner) and asks
    for a continuation page when the column is full."""

    def __init__(self, page: Figure, x: float, width: float, y: float,
                 new_page: Callable[[], tuple[Figure, float]]):
        self.pages, self.x, self.width, self.y, self.new_page = [page], x, width, y, new_page
        w, h = page.get_size_inches()
        self.size, self.bottom = (w, h), h - MARGIN - FOOTER_IN

    def _room(self, height: float) -> None:
        """Start a continuation page (full text width) unless `height` inches still fit."""
        if self.y + height > self.bottom:
            page, self.y = self.new_page()
            self.pages.append(page)
            self.x, self.width = MARGIN, min(TEXT_WIDTH_IN, self.size[0] - 2 * MARGIN)

    def _put(self, x: float, text: str, **kw):
        w, h = self.size
        return self.pages[-1].text(x / w, 1 - self.y / h, text, va="top", **kw)

    def lines(self, text: str, size: float, indent: float = 0.0, first: str = "",
              gap: float = 0.0, **kw) -> None:
        """Wrapped text; `first` (e.g. a bullet) hangs left of the first line."""
        step = size * 1.45 / 72
        self.y += gap
        wrapped = _wrap(text, self.width - indent, size)
        self._room(min(len(wrapped), 4) * step)  # keep short paragraphs on one page
        for i, line in enumerate(wrapped):
            self._room(step)
            if i == 0 and first:
                self._put(self.x + indent - 0.2, first, fontsize=size, **kw)
            self._put(self.x + indent, line, fontsize=size, **kw)
            self.y += step

    def heading(self, text: str) -> None:
        self.y += 0.18
        self._room(3 * FONT_SIZE["title"] / 72)  # never leave a heading alone at the bottom
        self.lines(text, FONT_SIZE["title"] + 1, fontweight="bold", color="0.1")
        self.y += 0.04

    def bullets(self, items: Iterable[str], size: float) -> None:
        for item in items:
            self.lines(str(item), size, indent=0.22, first="•", gap=0.03, color="0.15")

    def check(self, name: str, passed: bool, evidence: str, size: float, compact: bool = False) -> None:
        """A PASS/FAIL badge, the check's name and its evidence (`compact`: both on one wrapped line)."""
        self.y += 0.04 if compact else 0.08
        text, indent = (f"{name}: {evidence}", 0.55) if compact else (evidence, 0.7)
        n_lines = (0 if compact else 1) + min(3, len(_wrap(text, self.width - indent, size - 1)))
        self._room(n_lines * size * 1.45 / 72)  # keep a check with its evidence
        self._put(self.x, "PASS" if passed else "FAIL", fontsize=size - 1, fontweight="bold",
                  color="white", family="DejaVu Sans Mono",
                  bbox={"boxstyle": "round,pad=0.25", "edgecolor": "none",
                        "facecolor": PASS_COLOR if passed else FAIL_COLOR})
        if not compact:
            self.lines(name, size, indent=indent, fontweight="bold", color="0.1")
        self.lines(text, size - 1, indent=indent, color="0.1" if compact else "0.3")


def _check_block(flow: _Flow, title: str, checks: list[tuple[str, bool, str]], size: float,
                 compact: bool = False) -> None:
    """A heading with the pass count, then one PASS/FAIL check per row."""
    passed = sum(p for _, p, _ in checks)
    flow.heading(f"{title}: {passed} of {len(checks)} passed" if checks else f"{title}: none recorded")
    for name, ok, evidence in checks:
        flow.check(name, ok, evidence, size, compact)


class ReportBuilder:
    """Write a PDF report page by page; the file appears atomically on `close()`.

    Use as a context manager: an exception inside the block discards the partial report.
    `fingerprint` (the study's content hash) is shown, shortened, in every page footer and
    stored in the PDF metadata.
    """

    def __init__(self, path: str | os.PathLike, title: str, *, fingerprint: str = "",
                 subject: str = "", page_size: tuple[float, float] = A4_LANDSCAPE):
        self.path, self.title, self.fingerprint = os.fspath(path), title, fingerprint
        self.page_size, self.pages = page_size, 0
        self._stack = ExitStack()
        tmp = self._stack.enter_context(atomic_path(path))
        keywords = f"mmstudy; study fingerprint {fingerprint}" if fingerprint else "mmstudy"
        self._pdf = PdfPages(tmp, metadata={
            "Title": title, "Author": "mmstudy", "Subject": subject or title,
            "Keywords": keywords, "Creator": f"mmstudy {__version__}"})

    # -- pages -------------------------------------------------------------------------
    def title_page(self, question: str, data_lines: Sequence[str],
                   protocol_lines: Sequence[str], audit_checks: Sequence = (), *,
                   subtitle: str = "", controls: Sequence = ()) -> None:
        """Title, research question, data and protocol (left) and audit checks (right),
        each check marked PASS or FAIL with its evidence, after the calibration box of the study's
        `controls` when it has any (both then compact: name and evidence on one wrapped line).
        Text shrinks by up to 2 points to keep it on one page; beyond that it continues on new
        pages."""
        parts = (question, data_lines, protocol_lines, [_check_parts(c) for c in audit_checks],
                 [_check_parts(c) for c in controls], subtitle)
        for shrink in TITLE_SHRINK:
            figures = self._title_figures(*parts, shrink)
            if len(figures) == 1:
                break
        for fig in figures:
            self._emit(fig)

    def _title_figures(self, question: str, data_lines: Sequence[str], protocol_lines: Sequence[str],
                       checks: list, controls: list, subtitle: str, shrink: float) -> list[Figure]:
        """The title page (and any continuation pages) with every text size reduced by `shrink`."""
        w, h = self.page_size
        page = self._blank()
        label, base = FONT_SIZE["label"] - shrink, FONT_SIZE["base"] + 0.5 - shrink
        with report_style():
            page.text(MARGIN / w, 1 - MARGIN / h, self.title, va="top", fontweight="bold",
                      fontsize=FONT_SIZE["cover"])
            sub = subtitle or (f"Study fingerprint {self.fingerprint}" if self.fingerprint else "")
            page.text(MARGIN / w, 1 - (MARGIN + 0.5) / h, sub, va="top", color="0.35", fontsize=FONT_SIZE["label"])
            left_w = (w - 2 * MARGIN) * (0.44 if controls else 0.52)
            left = _Flow(page, MARGIN, left_w, MARGIN + 0.85, self._continuation)
            left.heading("Question")
            left.lines(question, label, color="0.1")
            for heading, items in (("Data", data_lines), ("Protocol", protocol_lines)):
                left.heading(heading)
                left.bullets(items, label - 0.5)
            right = _Flow(page, MARGIN + left_w + 0.45, w - 2 * MARGIN - left_w - 0.45,
                          MARGIN + 0.85, self._continuation)
            if controls:
                _check_block(right, "Calibration (controls)", controls, base, compact=True)
            _check_block(right, "Audit checks", checks, base, compact=bool(controls))
        return [page] + left.pages[1:] + right.pages[1:]

    def add_text(self, title: str, paragraphs: Sequence[str]) -> None:
        """A text page (continued as needed); paragraphs starting with "- " become bullets."""
        page = self._blank(title)
        with report_style():
            flow = _Flow(page, MARGIN, min(TEXT_WIDTH_IN, self.page_size[0] - 2 * MARGIN),
                         MARGIN + 0.7, lambda: self._continuation(title))
            for para in paragraphs:
                para = str(para).strip()
                if para.startswith(("- ", "* ", "• ")):
                    flow.bullets([para[2:]], FONT_SIZE["label"] + 1)
                else:
                    flow.lines(para, FONT_SIZE["label"] + 1, gap=0.12, color="0.1")
        for fig in flow.pages:
            self._emit(fig)

    def add_table(self, df: pd.DataFrame, title: str, note: str = "") -> None:
        """A table over as many pages as it needs (header repeated, `note` under it)."""
        for fig in table_pages(df, title, note, page_size=self.page_size,
                               bottom_reserved=FOOTER_IN):
            self._emit(fig)

    def add_figure(self, fig: Figure, caption: str = "", *, title: str = "") -> None:
        """Place `fig` on a full page (vector graphics) with an optional title and a wrapped
        caption. The figure is resized and annotated only while it is written, then restored
        (a figure without a layout engine keeps the constrained layout it gets here)."""
        w, h = self.page_size
        lines = _wrap(caption, w - 2 * MARGIN, FONT_SIZE["base"] + 1) if caption else []
        step = (FONT_SIZE["base"] + 1) * 1.45 / 72
        bottom = MARGIN + FOOTER_IN + len(lines) * step + (0.15 if lines else 0)
        top = MARGIN + (0.55 if title else 0)
        with report_style(), _on_page(fig, self.page_size, bottom, top):
            if title:
                fig.text(MARGIN / w, 1 - MARGIN / h, title, va="top", fontweight="bold",
                         fontsize=FONT_SIZE["page_title"])
            for i, line in enumerate(lines):
                fig.text(MARGIN / w, (bottom - 0.1 - i * step) / h, line, va="top",
                         fontsize=FONT_SIZE["base"] + 1, color="0.15")
            self._emit(fig)

    # -- file ----------------------------------------------------------------------------
    def close(self) -> None:
        """Finish the PDF and move it into place."""
        if self._pdf is None:
            return
        if self.pages == 0:
            self.abort()
            raise ConfigError(f"report {self.path} has no pages")
        with report_style():  # fonts are embedded at close, under the same pdf.fonttype
            self._pdf.close()
        self._pdf = None
        self._stack.close()

    def abort(self) -> None:
        """Discard the partial report (the target file is left untouched)."""
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None
            self._stack.__exit__(RuntimeError, RuntimeError("report aborted"), None)

    def __enter__(self) -> "ReportBuilder":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- helpers -------------------------------------------------------------------------
    def _blank(self, title: str = "") -> Figure:
        fig = Figure(figsize=self.page_size)
        if title:
            w, h = self.page_size
            with report_style():
                fig.text(MARGIN / w, 1 - MARGIN / h, title, va="top", fontweight="bold",
                         fontsize=FONT_SIZE["page_title"])
        return fig

    def _continuation(self, title: str | None = None) -> tuple[Figure, float]:
        return self._blank(f"{title or self.title} (continued)"), MARGIN + 0.7

    def _emit(self, fig: Figure) -> None:
        """Add the footer (report title, short fingerprint, page number) and write the page."""
        if self._pdf is None:
            raise ConfigError(f"report {self.path} is already closed")
        self.pages += 1
        w, h = fig.get_size_inches()
        left = self.title + (f"  ·  study {self.fingerprint[:12]}" if self.fingerprint else "")
        y = (MARGIN * 0.6) / h
        with report_style():
            fig.text(MARGIN / w, y, left, fontsize=FONT_SIZE["small"], color="0.4")
            fig.text(1 - MARGIN / w, y, f"page {self.pages}", ha="right",
                     fontsize=FONT_SIZE["small"], color="0.4")
            self._pdf.savefig(fig, facecolor="white")


@contextmanager
def _on_page(fig: Figure, page_size: tuple[float, float], bottom: float,
             top: float) -> Iterator[None]:
    """Temporarily resize `fig` to the page, keeping the side margins and `bottom`/`top`
    inches free of axes (legends should belong to axes to respect this);
    texts added inside the block are removed afterwards."""
    w, h = page_size
    old_size, n_texts = fig.get_size_inches().copy(), len(fig.texts)
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    engine = fig.get_layout_engine()
    old_rect = engine.get().get("rect")
    left, lo, hi = MARGIN / w, bottom / h, 1 - top / h
    tight = type(engine).__name__ == "TightLayoutEngine"  # rect = (left, bottom, right, top)
    engine.set(rect=(left, lo, 1 - left, hi) if tight else (left, lo, 1 - 2 * left, hi - lo))
    fig.set_size_inches(w, h, forward=False)
    try:
        yield
    finally:
        for text in fig.texts[n_texts:]:
            text.remove()
        if old_rect is not None:
            engine.set(rect=old_rect)
        fig.set_size_inches(old_size, forward=False)
