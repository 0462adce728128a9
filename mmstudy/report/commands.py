"""`python -m mmstudy report <folder>` and `python -m mmstudy verify <folder>`."""
from __future__ import annotations

import argparse
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    from .study_report import build_report

    print(f"report: {build_report(Path(args.folder))}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .verify import verify

    problems, checked = verify(Path(args.folder))
    for line in problems:
        print(f"MISMATCH  {line}")
    print(f"verified {checked} numbers: {len(problems)} mismatch(es)")
    return 1 if problems else 0


def add_parsers(sub) -> None:
    rep = sub.add_parser("report", help="rebuild a study's PDF report from its results folder")
    rep.add_argument("folder")
    rep.set_defaults(func=cmd_report)
    ver = sub.add_parser("verify", help="recompute every number of a report from the stored per-user files")
    ver.add_argument("folder")
    ver.set_defaults(func=cmd_verify)
