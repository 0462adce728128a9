"""Command line: `python -m mmstudy run | data info | list | report | verify | export`."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from importlib import import_module
from pathlib import Path

from .config import deep_merge, parse_assignments
from .errors import ConfigError, MMStudyError
from .export import commands as export_commands
from .registry import UnknownNameError

DEFAULT_REPORTS = Path("reports")


def new_output_dir(prefix: str) -> Path:
    """A fresh folder under reports/ named by prefix and time."""
    return DEFAULT_REPORTS / f"{prefix}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def cell_from_args(dataset: str, model: str, assignments: list[str] | None):
    """Build a Cell from --dataset/--model and `--set key=value` overrides.

    Keys may be dotted cell paths (`train.epochs=50`, `data.options.min_rating=4`) or bare names:
    a bare model hyper-parameter goes to `params`, a bare training setting to `train`.
    """
    from .models import MODELS
    from .study.cell import Cell
    from .training import TrainConfig

    overrides = parse_assignments(assignments)
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
            from .config import check_keys
            check_keys({key: value}, set(Cell.__dataclass_fields__) | model_keys | train_keys, "--set")
    from .data import check_dataset
    check_dataset(dataset)
    spec = deep_merge({"data": {"name": dataset}, "model": MODELS.canonical(model)}, routed)
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
    from .study.runner import run_study
    from .study.store import ResultStore

    cell = cell_from_args(args.dataset, args.model, args.set)
    output = Path(args.output) if args.output else new_output_dir(f"run-{cell.model.lower()}")
    summary = run_study([cell], output, device=args.device, progress=True, threads=args.threads,
                        meta={"kind": "run"}, energy=energy_config(args))
    if summary.failed:
        print(next(iter(summary.failed.values())), file=sys.stderr)
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


def cmd_data_info(args: argparse.Namespace) -> int:
    import warnings

    from .data import load_dataset
    from .data.feedback import describe

    with warnings.catch_warnings(record=True) as caught:  # shown as one plain line each, below
        warnings.simplefilter("always")
        dataset = load_dataset(args.dataset, **parse_assignments(args.set))
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
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
              f"({mod['missing_items']} items missing)  raw: {'yes' if mod['raw'] else 'no'}  {mod['source']}")
    return 0


# (label, module, registry) for `list`; imported lazily so optional backends stay optional
LISTED = (("datasets", "mmstudy.data", "DATASETS"), ("models", "mmstudy.models", "MODELS"),
          ("strategies", "mmstudy.missing.imputers", "IMPUTERS"), ("extractors", "mmstudy.features", "EXTRACTORS"),
          ("presets", "mmstudy.features", "PRESETS"), ("metrics", "mmstudy.evaluation", "METRICS"))


def registered_names() -> dict[str, list[str]]:
    """The names each registry knows, by label (registries whose backend is missing are left out),
    then the study kinds (`python -m mmstudy.studies.<kind>`)."""
    from .study.kinds import discover_kinds

    out = {}
    for label, module, attr in LISTED:
        try:
            out[label] = getattr(import_module(module), attr).names()
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
    parser = argparse.ArgumentParser(prog="python -m mmstudy", description=__doc__)
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
    lst = sub.add_parser("list", help="list registered datasets, models, imputers, extractors, metrics")
    lst.add_argument("what", nargs="?")
    lst.set_defaults(func=cmd_list)
    _add_report_commands(sub)
    export_commands.add_parsers(sub)  # `export mlflow`: MLflow itself is imported when the command runs
    return parser


def _add_report_commands(sub) -> None:
    try:
        from .report import commands
    except ImportError:
        return
    commands.add_parsers(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (MMStudyError, UnknownNameError, ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
