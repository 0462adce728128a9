"""The hands-on notebook (notebooks/hands-on.ipynb): committed without outputs, and it runs end to
end in quick mode on the shared MovieLens-100K data (executed into a temporary copy)."""
from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "hands-on.ipynb"
PRESETS_USED = ("efficientnet-lite0", "minilm-l6", "resnet50-1by2-nsfw")  # the notebook's FEATURES + OTHER_IMAGE
QUICK_LIMIT_S = 360  # quick mode takes under 2 minutes on 2 idle cores; this only catches a runaway
STRIP = ("python -c \"import nbformat as n; p='notebooks/hands-on.ipynb'; b=n.read(p, 4); "
         "[c.update(outputs=[], execution_count=None) for c in b.cells if c.cell_type == 'code']; n.write(b, p)\"")


def load(path: Path = NOTEBOOK) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def cells_with_outputs(nb: dict) -> list[str]:
    """Ids (or indices) of the code cells that hold outputs or an execution count."""
    return [str(cell.get("id", i)) for i, cell in enumerate(nb["cells"])
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]


def parameters_index(nb: dict) -> int:
    tagged = [i for i, cell in enumerate(nb["cells"]) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"expected one cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def with_parameters(nb: dict, **values) -> dict:
    """A copy of `nb` with papermill's convention: a cell tagged 'injected-parameters' after the
    'parameters' cell assigns `values`."""
    out = copy.deepcopy(nb)
    source = "".join(f"{name} = {value!r}\n" for name, value in values.items())
    cell = {"cell_type": "code", "id": "injected-parameters", "metadata": {"tags": ["injected-parameters"]},
            "execution_count": None, "outputs": [], "source": source}
    out["cells"].insert(parameters_index(nb) + 1, cell)
    return out


def source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def assigned(code: str) -> dict:
    """Top-level `name = literal` assignments of a cell."""
    return {target.id: ast.literal_eval(node.value) for node in ast.parse(code).body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


def test_committed_notebook_has_no_outputs():
    dirty = cells_with_outputs(load())
    assert not dirty, f"notebooks/hands-on.ipynb is committed with outputs in cells {dirty}; strip them: {STRIP}"


def test_output_check_flags_outputs_and_execution_counts():
    nb = load()
    code = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"]
    with_output, counted = copy.deepcopy(nb), copy.deepcopy(nb)
    with_output["cells"][code[0]]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    counted["cells"][code[-1]]["execution_count"] = 7
    assert cells_with_outputs(with_output) == [str(nb["cells"][code[0]].get("id", code[0]))]
    assert cells_with_outputs(counted) == [str(nb["cells"][code[-1]].get("id", code[-1]))]


def test_parameters_cell_defaults_to_quick_mode():
    nb = load()
    params = assigned(source(nb["cells"][parameters_index(nb)]))
    assert params["quick"] is True
    assert set(params) >= {"quick", "workdir", "threads"}


def test_injected_parameters_override_the_defaults():
    nb = with_parameters(load(), quick=False, workdir="/tmp/x")
    i = parameters_index(nb)
    injected = nb["cells"][i + 1]
    assert injected["metadata"]["tags"] == ["injected-parameters"]
    values = {**assigned(source(nb["cells"][i])), **assigned(source(injected))}
    assert values["quick"] is False and values["workdir"] == "/tmp/x" and values["threads"] == 1


def test_notebook_is_valid_nbformat():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra: pip install -e '.[test]'")
    nbformat.validate(nbformat.read(str(NOTEBOOK), as_version=4))


def _require_real_inputs() -> None:
    """Skip (with the reason) unless the shared MovieLens-100K files and the weight packages exist."""
    from mmstudy.data import data_root
    from mmstudy.features.base import MissingWeightsError
    from mmstudy.features.zoo import PRESETS

    folder = data_root() / "movielens-100k"
    if not (folder / "ml-100k.inter").is_file():
        pytest.skip(f"MovieLens-100K not found at {folder} (set MMSTUDY_DATA to the shared datasets)")
    for name in PRESETS_USED:
        try:
            for package in PRESETS.get(name).packages:
                package.weights()
        except MissingWeightsError as exc:
            pytest.skip(f"extractor preset {name!r} has no weights: {exc}")


def _outputs(nb) -> list[tuple[str, dict]]:
    return [(cell.get("id", ""), out) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _text(out: dict) -> str:
    if out.get("output_type") == "stream":
        return out.get("text", "")
    return out.get("data", {}).get("text/plain", "")


@pytest.mark.realdata
@pytest.mark.slow
def test_quick_mode_runs_end_to_end(tmp_path):
    _require_real_inputs()
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra: pip install -e '.[test]'")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra: pip install -e '.[test]'")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra: pip install -e '.[test]'")
    committed = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    params = with_parameters(load(), quick=True, workdir=str(tmp_path / "work"), threads=1)
    nb = nbformat.reads(json.dumps(params), as_version=4)  # joins the cells' source lines
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})  # cwd: this checkout
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        nbformat.write(nb, str(tmp_path / "hands-on.ipynb"))  # the executed copy, to inspect a failure
    seconds = time.perf_counter() - started
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == committed, "executing rewrote the committed notebook"
    outputs = _outputs(nb)
    noise = [(cid, _text(out)[:200]) for cid, out in outputs if out.get("name") == "stderr"]
    assert not noise, f"the notebook printed to stderr (warnings?): {noise}"
    text = "\n".join(_text(out) for _, out in outputs)
    assert "36 of 1682 movies have no poster" in text
    assert re.search(r"hands-on finished in \d+ s \(quick=True", text), text[-500:]
    assert os.environ.get("MMSTUDY_DATA")  # the kernel read the shared data through it
    assert seconds < QUICK_LIMIT_S, f"quick mode took {seconds:.0f} s (limit {QUICK_LIMIT_S} s)"


def test_study_file_shown_in_the_notebook_is_a_valid_missing_study(tmp_path):
    from mmstudy.studies.missing import KIND
    from mmstudy.studies.missing.design import missing_cells
    from mmstudy.study.spec import load_spec

    blocks = [m.group(1) for cell in load()["cells"] if cell["cell_type"] == "markdown"
              for m in re.finditer(r"```yaml\n(.*?)```", source(cell), re.S)]
    assert len(blocks) == 1
    (tmp_path / "study.yaml").write_text(blocks[0])
    spec = load_spec(tmp_path / "study.yaml", "missing")
    assert dict(spec.data.features) == {"image": "efficientnet-lite0", "text": "minilm-l6"}
    cells = missing_cells(spec, KIND.parse_section(spec), ["image", "text"])
    assert len(cells) == 33  # the count the notebook states: 3 rates x 3 strategies x 3 seeds + 3 complete + 3 BPR-MF
