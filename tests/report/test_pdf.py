"""ReportBuilder: page count, metadata, footers, audit marks, atomic writes, rendering."""
import re
import shutil
import subprocess
from collections import namedtuple

import numpy as np
import pandas as pd
import pytest

from mmstudy.errors import ConfigError, DataError
from mmstudy.report.figures import robustness_curve
from mmstudy.report.pdf import ReportBuilder

FINGERPRINT = "3f9a1c27be0d44e1a9f0c2d3e4f5a6b7"
Check = namedtuple("Check", "name passed evidence")  # same fields as report.audit.AuditCheck


def page_count(path) -> int:
    try:
        from pypdf import PdfReader
        return len(PdfReader(path).pages)
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", path.read_bytes()))


def pdf_text(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def _figure():
    df = pd.DataFrame({"strategy": ["zeros"] * 3 + ["knn"] * 3, "rate": [0, 0.5, 0.9] * 2,
                       "Recall@20": [0.1, 0.07, 0.04, 0.1, 0.09, 0.08]})
    return robustness_curve(df, title="Recall@20 vs missing rate")


def _build(path, n_rows=40):
    table = pd.DataFrame({"config": [f"model-{i}" for i in range(n_rows)],
                          "Recall@20": np.linspace(0.05, 0.1, n_rows)})
    with ReportBuilder(path, "Test study", fingerprint=FINGERPRINT) as rb:
        rb.title_page("Does kNN imputation help?", ["Toy data: 50 users, 40 items"],
                      ["3 seeds", "paired t-test, Holm"],
                      [("Validation-only selection", True, "48 of 48 cells"),
                       Check("Seeds >= 3", False, "2 configurations have 2 seeds")])
        rb.add_figure(_figure(), "Figure 1. Recall@20 against the missing rate.")
        rb.add_table(table, "All configurations", note="Sorted by name.")
        rb.add_text("Summary", ["kNN imputation is better.", "- first point", "- second"])
    return rb


def test_report_has_expected_pages_and_metadata(tmp_path):
    path = tmp_path / "report.pdf"
    rb = _build(path)
    assert rb.pages == 5 and page_count(path) == 5  # title, figure, 2 table pages, text
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and b"Test study" in data
    assert FINGERPRINT.encode() in data  # metadata keywords
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_report_text_has_audit_marks_and_footers(tmp_path):
    path = tmp_path / "report.pdf"
    _build(path)
    text = pdf_text(path)
    assert "PASS" in text and "FAIL" in text and "Audit checks: 1 of 2 passed" in text
    assert text.count(f"study {FINGERPRINT[:12]}") == 5
    assert all(f"page {i}" in text for i in range(1, 6))
    assert "All configurations (continued, 2/2)" in text


def test_report_page_renders(tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) not installed")
    path = tmp_path / "report.pdf"
    _build(path)
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "2", str(path),
                    str(tmp_path / "page")], check=True, capture_output=True)
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) == 2 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_add_figure_restores_the_figure(tmp_path):
    fig = _figure()
    size, n_texts = fig.get_size_inches().copy(), len(fig.texts)
    with ReportBuilder(tmp_path / "r.pdf", "T") as rb:
        rb.add_figure(fig, "caption", title="Title")
    np.testing.assert_allclose(fig.get_size_inches(), size)
    assert len(fig.texts) == n_texts


def test_long_content_continues_on_new_pages(tmp_path):
    checks = [(f"check {i}", i % 2 == 0, "evidence " * 30) for i in range(30)]
    with ReportBuilder(tmp_path / "r.pdf", "T") as rb:
        rb.title_page("Q?", ["data"], ["protocol"], checks)
        rb.add_text("Long", ["word " * 200] * 12)
    assert rb.pages >= 4 and page_count(tmp_path / "r.pdf") == rb.pages


def test_failure_inside_the_block_leaves_no_file(tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(b"old report")
    with pytest.raises(RuntimeError, match="boom"):
        with ReportBuilder(path, "T") as rb:
            rb.add_text("Summary", ["text"])
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def test_bad_usage(tmp_path):
    with pytest.raises(ConfigError, match="no pages"):
        with ReportBuilder(tmp_path / "empty.pdf", "T"):
            pass
    assert not (tmp_path / "empty.pdf").exists()
    rb = ReportBuilder(tmp_path / "r.pdf", "T")
    with pytest.raises(DataError, match="not \\(name, passed, evidence\\)"):
        rb.title_page("Q?", [], [], ["just a string"])
    rb.add_text("x", ["y"])
    rb.close()
    with pytest.raises(ConfigError, match="already closed"):
        rb.add_text("x", ["y"])
