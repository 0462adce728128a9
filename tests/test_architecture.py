"""The package's shape: layers run one way with no import cycles (import-linter contracts in
pyproject.toml), every study kind is a plug-in found by the registry, modules stay small."""
import re
import tomllib
from pathlib import Path

import pytest
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

from mmstudy.study.kinds import discover_kinds

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400


def test_import_contracts_are_kept(capsys):
    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert status == EXIT_STATUS_SUCCESS, capsys.readouterr().out


def test_the_layer_stack_places_every_top_level_part():
    """A new top-level package or module must be placed in the layer stack, not float outside it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c["layers"] for c in config["contracts"] if c["type"] == "layers")
    placed = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    parts = {f"mmstudy.{p.stem}" for p in (ROOT / "mmstudy").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists()) and not p.name.startswith("__")}
    assert sorted(parts - placed) == [], "place these in the layers contract of pyproject.toml"


def test_study_kinds_are_discovered_plugins():
    assert {"missing", "extractors", "fusion", "compare"} <= set(discover_kinds())


@pytest.mark.parametrize("path", sorted((ROOT / "mmstudy").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES
