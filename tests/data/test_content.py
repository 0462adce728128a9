"""Raw item content from a table column or an image folder, aligned with a dataset's items."""
from pathlib import Path

import numpy as np
import pytest

from mmstudy.data.sources.content import item_content
from mmstudy.errors import ConfigError, DataError
from mmstudy.hashing import file_sha256

ITEMS = "itemID\ttitle\tnotes\timage\n3\tDrums\t\tposters/3.jpg\n0\tRock anthem\t\tposters/0.jpg\n9\tUnknown\t\t\n" \
        "1\t  \t\t\n"


def folder(tmp_path: Path, items: str | bytes = ITEMS, name: str = "items.tsv") -> Path:
    d = tmp_path / "ds"
    (d / "posters").mkdir(parents=True)
    (d / name).write_bytes(items if isinstance(items, bytes) else items.encode())
    for item in (0, 2):
        (d / "posters" / f"{item}.jpg").write_bytes(b"jpeg")
    return d


def test_a_column_is_aligned_with_the_dataset_items(tmp_path):
    d = folder(tmp_path)
    raw, record = item_content("items.tsv:title", np.arange(4), "text", d)
    assert raw == ["Rock anthem", None, None, "Drums"]  # item 1 is blank, item 2 not listed, item 9 unknown
    assert record == {"kind": "table column", "path": str(d / "items.tsv"), "column": "title", "id_column": "itemID",
                      "sha256": file_sha256(d / "items.tsv"), "rows": 4, "unmatched_rows": 1}


def test_string_ids_and_an_explicit_id_column(tmp_path):
    d = folder(tmp_path, "title,asin\nA,B00X\nB,B00Y\n", "meta.csv")
    raw, record = item_content("meta.csv:title", np.array(["B00Y", "B00X", "B00Z"]), "text", d, id_column="asin")
    assert raw == ["B", "A", None] and record["id_column"] == "asin"


def test_image_paths_of_a_column_are_taken_from_the_dataset_folder(tmp_path):
    d = folder(tmp_path)
    raw, _ = item_content("items.tsv:image", np.arange(4), "image", d)
    assert raw == [str(d / "posters/0.jpg"), None, None, str(d / "posters/3.jpg")]


def test_an_image_folder_names_files_by_item(tmp_path):
    d = folder(tmp_path)
    raw, record = item_content("posters", np.arange(4), "image", d)
    assert raw == [str(d / "posters/0.jpg"), None, str(d / "posters/2.jpg"), None]
    assert record["kind"] == "image folder" and record["column"] is None


@pytest.mark.parametrize("items, source, kind, error, message", [
    (ITEMS, "items.tsv:titel", "text", DataError, r"items\.tsv: no column 'titel'\. Did you mean 'title'\? Columns: "
                                                  r"itemID, title, notes, image$"),
    (ITEMS, "nope.tsv:title", "text", DataError, r"content source 'nope\.tsv:title': .*nope\.tsv does not exist"),
    (ITEMS, "items.tsv", "text", ConfigError, r"name the content column as items\.tsv:COLUMN; columns of items\.tsv: "
                                              r"itemID, title, notes, image$"),
    (ITEMS, "posters", "text", ConfigError, r"a folder holds image files, but the text modality needs a table column"),
    ("itemID\timage\n0\t../../etc/passwd\n", "items.tsv:image", "image", DataError,
     r"items\.tsv line 2: image path '\.\./\.\./etc/passwd' leaves the dataset folder"),
    ("itemID\timage\n0\tposters/0.jpg\n1\t/etc/passwd\n", "items.tsv:image", "image", DataError,
     r"items\.tsv line 3: image path '/etc/passwd' leaves the dataset folder"),
    (b"itemID\ttitle\n0\tCaf\xe9\n", "items.tsv:title", "text", DataError,
     r"items\.tsv: not valid UTF-8 at byte 18 \(line 2\)"),
    ("itemID\ttitle\n0\tA\n\n0\tB\n", "items.tsv:title", "text", DataError,
     r"items\.tsv line 4: item '0' is listed twice"),
    ("itemID\ttitle\n0\tA\tB\n", "items.tsv:title", "text", DataError, r"items\.tsv line 2: 3 tab-separated fields"),
])
def test_bad_content_sources_are_one_line(tmp_path, items, source, kind, error, message):
    d = folder(tmp_path, items)
    with pytest.raises(error, match=message) as info:
        item_content(source, np.arange(2), kind, d)
    assert "\n" not in str(info.value)
