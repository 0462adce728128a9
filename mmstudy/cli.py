"""Command line: `python -m mmstudy run | data info | data extract | list | report | verify | export`."""
from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import warnings
from contextlib import contextmanager
from datetime import datetime
from importlib import import_module
from pathlib import Path

from .config import check_keys, deep_merge, located, parse_assignments
from .errors import ConfigError, MMStudyError
from .export import commands as export_commands
from .registry import UnknownNameError

DEFAULT_REPORTS = Path("reports")


def new_output_dir(prefix: str) -> Path:
    """A fresh folder under reports/ named by prefix and time; the prefix is reduced to one safe
    path segment (letters, digits, '.', '_', '-'), so no name can place it elsewhere."""
    safe = re.sub(r"(?:[^A-Za-z0-9._-]|\.\.)+", "-", str(prefix)).strip(".-") or "study"
    return DEFAULT_REPORTS / f"{safe}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (`error: ...`), like every other error."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def check_positive(args: argparse.Namespace, *flags: str) -> None:
    """Refuse a given numeric flag below 1 (an unset flag is None and keeps its default)."""
    for flag in flags:
        value = getattr(args, flag.lstrip("-").replace("-", "_"), None)
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be at least 1, got {value}")


def cell_from_args(dataset: str, model: str, assignments: list[str] | None):
    """Build a Cell from --dataset/--model and `--set key=value` overrides.

    Keys may be dotted cell paths (`train.epochs=50`, `data.options.min_rating=4`) or bare names:
    a bare model hyper-parameter goes to `params`, a bare training setting to `train`.
    """
    from .data import check_dataset
    from .models import MODELS

    MODELS.get(model)
    check_dataset(dataset)
    with located("--set"):
        return _cell_from_args(dataset, MODELS.canonical(model), parse_assignments(assignments))


def _cell_from_args(dataset: str, model: str, overrides: dict):
    """The cell of `run`: `overrides` routed to the cell, its params or its training settings."""
    from .models import MODELS
    from .study.cell import Cell
    from .training import TrainConfig

    model_keys = set(MODELS.get(model).defaults)
    train_keys = set(TrainConfig.__dataclass_fields__)
    routed: dict = {}
    for key, value in overrides.items():
        if key in Cell.__dataclass_fields__:
            routed = deep_merge(routed, {key: value})
        elif key in model_keys:
            routed = deep_merge(routed, {"params": {key: value}})
        elif key in train_keys:
            routed = deep_merge(routed, {"train": {key: value}})
        else:
            check_keys({key: value}, set(Cell.__dataclass_fields__) | model_keys | train_keys, "--set")
    spec = deep_merge({"data": {"name": dataset}, "model": model}, routed)
    return Cell.from_dict(spec, where="--set")


def add_energy_options(parser: argparse.ArgumentParser) -> None:
    """--no-energy and --energy-country, shared by `run` and the study commands."""
    parser.add_argument("--no-energy", action="store_true",
                        help="do not measure energy and carbon (measured by default with the energy extra)")
    parser.add_argument("--energy-country", metavar="CODE",
                        help="ISO 3166-1 alpha-3 code of the grid whose carbon intensity converts kWh "
                             "to CO2 (e.g. FRA, USA; default: the study file's, else the world average)")


def energy_config(args: argparse.Namespace, base=None):
    """The study's EnergyConfig (`base`: the study file's) with the command-line flags applied."""
    from .study.energy import EnergyConfig

    base = base or EnergyConfig()
    return EnergyConfig(enabled=base.enabled and not args.no_energy, country=args.energy_country or base.country)


def cmd_run(args: argparse.Namespace) -> int:
    from .study.runner import failure_line, run_study
    from .study.store import ResultStore

    check_positive(args, "--threads")
    cell = cell_from_args(args.dataset, args.model, args.set)
    output = Path(args.output) if args.output else new_output_dir(f"run-{cell.model.lower()}")
    summary = run_study([cell], output, device=args.device, progress=True, threads=args.threads,
                        meta={"kind": "run"}, energy=energy_config(args))
    if summary.failed:
        print(f"error: {failure_line(summary, cell.fingerprint, output)}", file=sys.stderr)
        return 1
    per_user, manifest = ResultStore(output).load(cell.fingerprint)
    print(metrics_table(manifest))
    print(f"\nresults: {output / 'cells' / cell.fingerprint}")
    return 0


def metrics_table(manifest) -> str:
    """The test metrics of one cell (a CellManifest) as an aligned text table (one row per cutoff)."""
    import pandas as pd

    mean = manifest.test.mean
    rows: dict = {}
    for key, value in mean.items():
        if "@" in key:
            name, k = key.split("@")
            rows.setdefault(int(k), {})[name] = value
    table = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    table.index.name = "cutoff"
    sel = manifest.selection
    head = (f"{manifest.model} on {manifest.dataset.name}: best epoch {sel.best_epoch} "
            f"(valid {sel.metric} = {sel.best_valid:.4f}), test users {manifest.test.users}")
    return head + "\n" + table.to_string(float_format=lambda v: f"{v:.4f}")


def one_line_warnings() -> None:
    """Show this process' warnings as `warning: <message>` lines (no source path and line)."""
    warnings.formatwarning = lambda message, *args, **kwargs: f"warning: {message}\n"


@contextmanager
def plain_warnings():
    """Warnings raised in the block (e.g. by a loader), shown after it as one plain line each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                print(f"warning: {warning.message}", file=sys.stderr)


def cmd_data_info(args: argparse.Namespace) -> int:
    from .data import load_dataset
    from .data.feedback import describe

    with plain_warnings():
        dataset = load_dataset(args.dataset, **parse_assignments(args.set))
    info = dataset.info()
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"{info['name']}: {info['users']:,} users, {info['items']:,} items, "
          f"{info['interactions']:,} interactions, density {info['density']:.4%}")
    print(f"timestamps: {'yes' if info['timestamps'] else 'no'}; fixed split: {'yes' if info['fixed_split'] else 'no'}")
    print("\n".join(describe(info["feedback"])))
    for name, mod in info["modalities"].items():
        print(f"  {name:<10} {mod['kind']:<8} dim {mod['dim']:>5}  coverage {mod['coverage']:.1%} "
              f"({mod['missing_items']} items missing)  raw: {'yes' if mod['raw'] else 'no'}  {mod['source']}"
              + (f"  extractor {json.dumps(mod['extractor'])} (provenance sidecar)" if "provenance" in mod else ""))
    return 0


def cmd_data_extract(args: argparse.Namespace) -> int:
    from .features.to_file import extract_to_file

    check_positive(args, "--batch-size")
    with located("--set"):
        options = parse_assignments(args.set)
    with located("--param"):
        params = parse_assignments(args.param)
    with plain_warnings():
        done = extract_to_file(args.dataset, args.preset, modality=args.modality, source=args.source,
                               id_column=args.id_column, output=args.output, force=args.force, options=options,
                               params=params, batch_size=args.batch_size or 32, device=args.device,
                               command=shlex.join(["python", "-m", "mmstudy", *args.argv]))
    items, (n_items, dim) = done.record["items"], done.record["features"]["shape"]
    print(f"{done.path}: {n_items:,} items x {dim} ({items['present']:,} with content, "
          f"{len(items['missing']):,} missing) in {done.seconds:.1f} s")
    print(f"provenance: {done.sidecar}")
    if done.loaded_as:
        print(f"the dataset's loader reads it as modality {done.loaded_as!r}")
    else:
        print(f"use it in a study: --set data.features.{done.record['modality']['name']}.file={done.path}")
    return 0


# (label, module, registry or function of names) for `list`; imported lazily so optional backends
# stay optional. Strategies are `dropped` and the imputers.
LISTED = (("datasets", "mmstudy.data", "DATASETS"), ("models", "mmstudy.models", "MODELS"),
          ("strategies", "mmstudy.missing.imputers", "strategy_names"),
          ("mechanisms", "mmstudy.missing.mechanisms", "MECHANISMS"), ("phases", "mmstudy.study.cell", "PHASES"),
          ("extractors", "mmstudy.features", "EXTRACTORS"), ("presets", "mmstudy.features", "PRESETS"),
          ("metrics", "mmstudy.study.spec", "PER_USER_METRICS"))  # what analysis.metric accepts


def registered_names() -> dict[str, list[str]]:
    """The names each registry knows, by label (registries whose backend is missing are left out),
    then the study kinds (`python -m mmstudy.studies.<kind>`)."""
    from .study.kinds import discover_kinds

    out = {}
    for label, module, attr in LISTED:
        try:
            names = getattr(import_module(module), attr)
            out[label] = list(names() if callable(names) else names.names())
        except (ImportError, AttributeError):
            continue
    out["studies"] = discover_kinds()
    return out


def cmd_list(args: argparse.Namespace) -> int:
    for kind, names in registered_names().items():
        if args.what in (None, kind):
            print(f"{kind}: {', '.join(names)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m mmstudy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train and evaluate one configuration")
    run.add_argument("--dataset", default="synthetic")
    run.add_argument("--model", required=True)
    run.add_argument("--output", help="results folder (default: a new folder under reports/)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting (repeatable)")
    run.add_argument("--device", default="cpu", help="cpu | cuda[:i] | auto")
    run.add_argument("--threads", type=int, help="torch threads (default: all cores; use 1 on a busy machine)")
    add_energy_options(run)
    run.set_defaults(func=cmd_run)
    data = sub.add_parser("data", help="dataset tools").add_subparsers(dest="data_command", required=True)
    info = data.add_parser("info", help="print dataset statistics")
    info.add_argument("dataset")
    info.add_argument("--set", action="append", metavar="KEY=VALUE", help="loader option (repeatable)")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=cmd_data_info)
    _add_extract_parser(data)
    lst = sub.add_parser("list", help="list registered datasets, models, strategies, mechanisms, phases, extractors, metrics")
    lst.add_argument("what", nargs="?")
    lst.set_defaults(func=cmd_list)
    _add_report_commands(sub)
    export_commands.add_parsers(sub)  # `export mlflow`: MLflow itself is imported when the command runs
    return parser


def _add_extract_parser(data) -> None:
    ext = data.add_parser("extract", help="extract one modality's features into a .npy with a provenance sidecar")
    ext.add_argument("dataset", help="a catalog name or a dataset folder (any layout)")
    ext.add_argument("--preset", required=True, help="extractor preset (python -m mmstudy list presets)")
    ext.add_argument("--modality", help="modality to extract (default: the preset's kind, e.g. text)")
    ext.add_argument("--source", metavar="FILE:COLUMN|FOLDER",
                     help="raw content: a column of an item table, or a folder of <item>.jpg images, relative "
                          "to the dataset folder (default: the raw content the loader gives the modality)")
    ext.add_argument("--id-column", help="the item id column of the --source table (default: its item column)")
    ext.add_argument("--output", help="the .npy to write (default: <dataset folder>/<modality>_feat.npy)")
    ext.add_argument("--force", action="store_true", help="replace an existing output file")
    ext.add_argument("--set", action="append", metavar="KEY=VALUE", help="loader option (repeatable)")
    ext.add_argument("--param", action="append", metavar="KEY=VALUE",
                     help="extractor parameter override (repeatable), e.g. pooling=cls")
    ext.add_argument("--batch-size", type=int, help="items per batch (default 32)")
    ext.add_argument("--device", default="cpu", help="cpu | cuda[:i] | auto")
    ext.set_defaults(func=cmd_data_extract)


def _add_report_commands(sub) -> None:
    try:
        from .report import commands
    except ImportError:
        return
    commands.add_parsers(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # recorded by commands that write provenance
    one_line_warnings()
    try:
        return args.func(args)
    except (MMStudyError, UnknownNameError, ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
