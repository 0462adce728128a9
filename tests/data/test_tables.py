"""Delimited text files: physical line numbers, delimiter choice, quoting, byte-order marks."""
import numpy as np
import pytest

from mmstudy.data.sources import read_header, read_table
from mmstudy.data.sources.tables import TextTable, delimiter

# lines pandas skips; a tab is blank in a CSV but separates two empty fields in a TSV
BLANKS = {"\t": ["", "  "], ",": ["", "  ", " \t ", "\t"]}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("sep, end", [("\t", "\n"), ("\t", "\r\n"), (",", "\n"), (",", "\r\n"), ("\t", "\r")])
def test_line_numbers_are_physical(tmp_path, seed, sep, end):
    """Random blank lines between rows: each row's line is where it really is in the file."""
    rng = np.random.default_rng(seed)
    lines, expected = ["a" + sep + "b"], []
    for k in range(30):
        for _ in range(rng.integers(0, 3)):
            lines.append(rng.choice(BLANKS[sep]))
        lines.append(f"{k}{sep}x{k}")
        expected.append(len(lines))
    path = tmp_path / ("t.csv" if sep == "," else "t.tsv")
    path.write_bytes((end.join(lines) + (end if seed % 2 else "")).encode())
    table = TextTable.open(path)
    np.testing.assert_array_equal(table.row_lines(), expected)
    df = table.frame({0: np.int64, 1: str})
    np.testing.assert_array_equal(df[0], np.arange(30))
    assert list(df[1]) == [f"x{k}" for k in range(30)]


def test_tab_only_line_is_a_row_in_a_tsv(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("user\titem\n1\t2\n\t\n")
    with pytest.raises(ValueError, match=r"t\.tsv line 3: user is missing"):
        read_table(path, {"user": np.int64, "item": np.int64})


def test_csv_quoting(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text('item,title\n1,"Heat, the ""classic"""\n2,"two\nlines"\n3,plain "quote" inside\n4,x\n')
    table = TextTable.open(path)
    df = table.frame({0: np.int64, 1: str})
    assert list(df[1]) == ['Heat, the "classic"', "two\nlines", 'plain "quote" inside', "x"]
    np.testing.assert_array_equal(table.row_lines(), [2, 3, 5, 6])


def test_quotes_are_literal_in_tsv(tmp_path):
    path = tmp_path / "items.tsv"
    path.write_text('item\ttitle\n1\t"Crocodile" Dundee\n2\t"open\n')
    assert list(TextTable.open(path).frame({1: str})[1]) == ['"Crocodile" Dundee', '"open']


@pytest.mark.parametrize("name, header, sep", [("x.csv", "a\tb", ","), ("x.tsv", "a,b", "\t"),
                                               ("x.inter", "a\tb", "\t"), ("x.inter", "a,b", ","),
                                               ("x.txt", "a", "\t")])
def test_delimiter_from_suffix_then_content(tmp_path, name, header, sep):
    assert delimiter(tmp_path / name, header) == sep


def test_byte_order_mark_and_leading_blank_lines(tmp_path):
    path = tmp_path / "x.inter"
    path.write_bytes(b"\xef\xbb\xbf\n\nuserID\titemID\n3\t4\n")
    assert read_header(path) == ["userID", "itemID"]
    df = read_table(path, {"user": np.int64, "item": np.int64})
    assert list(df["user"]) == [3] and list(df["line"]) == [4]


def test_header_of_a_csv_with_quoted_names(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('"user","item, id"\n1,2\n')
    assert read_header(path) == ["user", "item, id"]
