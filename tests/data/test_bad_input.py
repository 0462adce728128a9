"""Table-driven bad-input suite: every malformed file stops the loader with one line naming the
file and the physical line (blank lines counted) or byte, before anything is trained."""
import re
from pathlib import Path

import pytest

from mmstudy.data import load_dataset, load_ducho, load_mmrec, load_raw
from mmstudy.errors import ConfigError, DataError

MMREC_HEADER = "userID\titemID\trating\tx_label\n"
MMREC_OK = "0\t0\t1\t0\n0\t1\t1\t0\n1\t1\t1\t1\n1\t0\t1\t2\n"
ITEMS_TSV = "item\ttitle\n1\tA\n2\tB\n"
INTER_TSV = "user\titem\nu\t1\nv\t2\n"
ITEMS_CSV = 'item,title\n1,"A, the ""first"""\n2,B\n'
INTER_CSV = "user,item\nu,1\nv,2\n"
DUCHO_VAL, DUCHO_TEST = "1\t3\n", "1\t4\n"
ML_ITEM = ("item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
           "1\tA\t1995\tDrama\n2\tB\t1996\tComedy\n")
ML_INTER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t1\t5\t10\n1\t2\t3\t11\n2\t1\t4\t12\n"


def write(directory: Path, files: dict[str, str | bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return directory


def mmrec(files):
    return lambda d, **kw: load_mmrec(write(d, files), **kw)


def raw(files):
    return lambda d, **kw: load_raw(write(d, files), **kw)


def ducho(train, val=DUCHO_VAL, test=DUCHO_TEST):
    return lambda d, **kw: load_ducho(write(d, {"train.tsv": train, "val.tsv": val, "test.tsv": test}), **kw)


def movielens(files):
    def load(d, **kw):
        write(d / "movielens-100k", {"ml-100k.inter": ML_INTER, "ml-100k.item": ML_ITEM, **files})
        return load_dataset("movielens-100k", root=d, modalities=["genres"], **kw)
    return load


CASES = {
    # --- implicit-feedback threshold -------------------------------------------------------
    "0/1 ratings without min_rating (mmrec)": (
        mmrec({"toy.inter": MMREC_HEADER + "0\t0\t1\t0\n0\t1\t0\t0\n1\t1\t1\t1\n1\t0\t0\t2\n1\t2\t1\t0\n"}), {},
        (r"toy\.inter: column 'rating' holds explicit feedback \(0: 2, 1: 3\) and no min_rating was given; "
         r"ratings <= 0 are dislikes, so choose which rows are positives: min_rating=1 keeps the 3 rows rated "
         r">= 1, min_rating='all' keeps every row$")),
    "-1/+1 ratings without min_rating (raw)": (
        raw({"items.tsv": ITEMS_TSV, "interactions.tsv": "user\titem\tscore\nu\t1\t-1\nv\t2\t1\n"}), {},
        r"interactions\.tsv: column 'score' holds explicit feedback \(-1: 1, 1: 1\).*min_rating=1 keeps the 1 row rated"),
    "0/1 ratings without min_rating (ducho, no header)": (
        ducho("1\t2\t0\n2\t2\t1\n", "1\t3\t1\n", "1\t4\t1\n"), {},
        r"\{train\.tsv,val\.tsv,test\.tsv\}: column 'rating' holds explicit feedback \(0: 1, 1: 3\)"),
    "threshold keeps nothing": (
        mmrec({"toy.inter": MMREC_HEADER + MMREC_OK}), {"min_rating": 2},
        r"toy\.inter: min_rating=2 keeps no rows; rating values: 1: 4$"),
    "threshold keeps nothing (movielens)": (
        movielens({}), {"min_rating": 6},
        r"ml-100k\.inter: min_rating=6 keeps no rows; rating:float values: 3: 1, 4: 1, 5: 1"),
    "threshold without a rating column": (
        raw({"items.tsv": ITEMS_TSV, "interactions.tsv": INTER_TSV}), {"min_rating": 4},
        r"interactions\.tsv: no rating column \(named rating, ratings or score\), so min_rating=4 cannot be applied"),
    "min_rating neither number nor keyword": (
        mmrec({"toy.inter": MMREC_HEADER + MMREC_OK}), {"min_rating": "4"},
        r"min_rating='4'; expected a number \(keep ratings >= it\), 'all' \(keep every row\) or 'default'"),
    # --- encoding -------------------------------------------------------------------------
    "non-UTF-8 in .inter": (
        mmrec({"toy.inter": (MMREC_HEADER + MMREC_OK).encode() + b"2\t\xe9\t1\t0\n"}), {},
        (r"toy\.inter: not valid UTF-8 at byte 63 \(line 6\): b'\\xe9' \(invalid continuation byte\); "
         r"save the file as UTF-8$")),
    "non-UTF-8 in the .inter header": (
        mmrec({"toy.inter": b"user\xffID\titemID\tx_label\n0\t0\t0\n"}), {},
        r"toy\.inter: not valid UTF-8 at byte 4 \(line 1\)"),
    "non-UTF-8 in items.tsv": (
        raw({"items.tsv": b"item\ttitle\n\n1\tCaf\xe9\n", "interactions.tsv": INTER_TSV}), {},
        r"items\.tsv: not valid UTF-8 at byte 17 \(line 3\)"),
    "non-UTF-8 in interactions.tsv": (
        raw({"items.tsv": ITEMS_TSV, "interactions.tsv": b"user\titem\nJos\xe9\t1\n"}), {},
        r"interactions\.tsv: not valid UTF-8 at byte 13 \(line 2\)"),
    "non-UTF-8 in items.csv": (
        raw({"items.csv": b"item,title\n1,\"Caf\xe9, bar\"\n", "interactions.csv": INTER_CSV}), {},
        r"items\.csv: not valid UTF-8 at byte 17 \(line 2\)"),
    "non-UTF-8 in a Ducho file": (
        ducho(b"1\t2\n\n1\t\xff\n"), {},
        r"train\.tsv: not valid UTF-8 at byte 7 \(line 3\): b'\\xff' \(invalid start byte\)"),
    "non-UTF-8 in .item": (
        movielens({"ml-100k.item": ML_ITEM.encode() + b"3\tCaf\xe9\t1997\tDrama\n"}), {},
        r"ml-100k\.item: not valid UTF-8 at byte 107 \(line 4\)"),
    # --- fields per row -------------------------------------------------------------------
    "extra field in .inter": (
        mmrec({"toy.inter": MMREC_HEADER + "0\t0\t1\t0\n\n0\t1\t1\t0\t9\n"}), {},
        r"toy\.inter line 4: 5 tab-separated fields, but line 1 has 4 \(userID, itemID, rating, x_label\)$"),
    "missing field in .inter": (
        mmrec({"toy.inter": MMREC_HEADER + "0\t0\t1\t0\n0\t1\t1\n"}), {},
        r"toy\.inter line 3: 3 tab-separated fields, but line 1 has 4"),
    "extra field in items.tsv": (
        raw({"items.tsv": "item\ttitle\n1\tA\n\n2\tB\tC\n", "interactions.tsv": INTER_TSV}), {},
        r"items\.tsv line 4: 3 tab-separated fields, but line 1 has 2 \(item, title\)"),
    "extra field in interactions.csv": (
        raw({"items.csv": ITEMS_CSV, "interactions.csv": "user,item\nu,1\nv,2,x\n"}), {},
        r"interactions\.csv line 3: 3 comma-separated fields, but line 1 has 2 \(user, item\)"),
    "extra field in a Ducho file": (
        ducho("1\t2\n1\t3\t5\n"), {}, r"train\.tsv line 2: 3 tab-separated fields, but line 1 has 2 \(1, 2\)"),
    "extra field in .item": (
        movielens({"ml-100k.item": ML_ITEM + "3\tC\t1997\tDrama\textra\n"}), {},
        r"ml-100k\.item line 4: 5 tab-separated fields, but line 1 has 4"),
    "unclosed quote in items.csv": (
        raw({"items.csv": 'item,title\n1,A\n2,"B\n3,C\n', "interactions.csv": INTER_CSV}), {},
        (r"items\.csv line 3: malformed CSV \(unexpected end of data\); a field that opens with a double quote "
         r"must close")),
    "repeated column in items.tsv": (
        raw({"items.tsv": "item\ttitle\ttitle\n1\tA\tB\n", "interactions.tsv": INTER_TSV}), {},
        r"items\.tsv: column 'title' appears twice in the header"),
    "CSV saved as .tsv": (
        raw({"items.tsv": ITEMS_TSV, "interactions.tsv": "user,item\nu,1\n"}), {},
        (r"interactions\.tsv: missing column\(s\) \['user', 'item'\]; found \['user,item'\] \(the file is read as "
         r"tab-separated but its header contains commas\)")),
    # --- blank lines count in line numbers -------------------------------------------------
    "bad value after blank lines": (
        mmrec({"toy.inter": MMREC_HEADER + "\n0\t0\t1\t0\n\n\n0\tx\t1\t0\n"}), {},
        r"toy\.inter line 6: item value 'x' is not an integer"),
    "duplicate after blank lines (CRLF)": (
        mmrec({"toy.inter": "userID\titemID\tx_label\r\n0\t0\t0\r\n\r\n  \r\n0\t0\t1\r\n"}), {},
        r"toy\.inter line 5: duplicate interaction of user 0 with item 0"),
    "unknown item after blank lines": (
        raw({"items.tsv": ITEMS_TSV, "interactions.tsv": "user\titem\n\nu\t1\n\nv\t7\n"}), {},
        r"interactions\.tsv line 5: item '7' is not a known item"),
    "item listed twice after a multi-line quoted title": (
        raw({"items.csv": 'item,title\n1,"A\nsequel"\n\n1,B\n', "interactions.csv": INTER_CSV}), {},
        r"items\.csv line 5: item '1' is listed twice"),
    "x_label after a blank line": (
        mmrec({"toy.inter": MMREC_HEADER + "0\t0\t1\t0\n\n0\t1\t1\t3\n"}), {},
        r"toy\.inter line 4: x_label 3 is not 0, 1 or 2"),
    "bare-CR line ends": (
        mmrec({"toy.inter": "userID\titemID\tx_label\r0\t0\t0\r\r0\tz\t1\r"}), {},
        r"toy\.inter line 4: item value 'z'"),
    # --- split column ---------------------------------------------------------------------
    "bad split value": (
        raw({"items.csv": ITEMS_CSV, "interactions.csv": "user,item,split\nu,1,train\n\nv,2,trian\n"}), {},
        r"interactions\.csv line 4: split value 'trian' is not train/valid/test \(also val/validation\) or 0/1/2$"),
    "empty split value": (
        raw({"items.tsv": ITEMS_TSV, "interactions.tsv": "user\titem\tx_label\nu\t1\t0\nv\t2\t\n"}), {},
        r"interactions\.tsv line 3: x_label value '' is not train/valid/test"),
    # --- files ----------------------------------------------------------------------------
    "both items.tsv and items.csv": (
        raw({"items.tsv": ITEMS_TSV, "items.csv": ITEMS_CSV, "interactions.csv": INTER_CSV}), {},
        r": both items\.tsv and items\.csv exist; pass items= to choose one"),
    "no interactions file": (
        raw({"items.csv": ITEMS_CSV}), {},
        r"interactions\.tsv is missing; .* contains: items\.csv\. \(or interactions\.csv\)"),
    "ratings in some Ducho files only": (
        ducho("1\t2\t5\n", "1\t3\n"), {},
        r"val\.tsv has no rating column but train\.tsv has one; give every split file"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_clear_line(case, tmp_path):
    load, options, message = CASES[case]
    with pytest.raises((DataError, ConfigError)) as info:
        load(tmp_path / "d", **options)
    text = str(info.value)
    assert "\n" not in text.replace("\\n", "")
    assert re.search(message, text), text


def test_byte_offset_points_at_the_bad_byte(tmp_path):
    data = (MMREC_HEADER + MMREC_OK).encode() + b"2\t\xe9\t1\t0\n"
    assert data[63] == 0xE9 and data[:63].count(b"\n") + 1 == 6  # as quoted in the table above
