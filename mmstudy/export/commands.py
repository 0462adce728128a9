"""`python -m mmstudy export mlflow RESULTS [--tracking-uri URI] [--experiment NAME]`."""
from __future__ import annotations

import argparse
from pathlib import Path


def cmd_export_mlflow(args: argparse.Namespace) -> int:
    from .mlflow_export import export_mlflow

    print(export_mlflow(Path(args.folder), tracking_uri=args.tracking_uri, experiment=args.experiment).line())
    return 0


def add_parsers(sub) -> None:
    export = sub.add_parser("export", help="export a results folder to an experiment tracker")
    targets = export.add_subparsers(dest="target", required=True)
    mlflow = targets.add_parser("mlflow", help="the study as an MLflow parent run, each cell as a child run "
                                               "(re-exporting adds only the cells not there yet)")
    mlflow.add_argument("folder", help="results folder (with study.json)")
    mlflow.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else "
                                               "sqlite:///mlflow.db in the current folder)")
    mlflow.add_argument("--experiment", help="experiment name (default: the study's name)")
    mlflow.set_defaults(func=cmd_export_mlflow)
