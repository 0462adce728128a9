"""Shared benchmark plumbing: peak memory, running one case in a fresh process, JSON output."""
from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from mmstudy.hashing import write_json

RESULTS = Path(__file__).resolve().parent / "results"


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_isolated(module: str, *args: str, timeout: float = 3600) -> dict:
    """Run `python -m module --one ... ` in a fresh process (so peak RSS is per case); parse its
    last stdout line as JSON."""
    try:
        proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def with_earlier_rows(suite: str, rows: list[dict], key: tuple[str, ...], context: dict) -> list[dict]:
    """`rows` plus the rows saved earlier by `suite` under the same `context` (e.g. the dataset
    shape) whose `key` fields were not rerun now, so long suites can be run a model at a time."""
    path = RESULTS / f"{suite}.json"
    earlier = json.loads(path.read_text()) if path.exists() else {}
    if any(earlier.get(field) != value for field, value in context.items()):
        return rows
    rerun = {tuple(row.get(k) for k in key) for row in rows}
    return [row for row in earlier.get("rows", []) if tuple(row.get(k) for k in key) not in rerun] + rows


def save(name: str, payload: dict) -> Path:
    path = RESULTS / f"{name}.json"
    write_json(path, payload)
    return path


def print_table(rows: list[dict], columns: list[str]) -> None:
    import pandas as pd
    frame = pd.DataFrame(rows)
    print(frame.reindex(columns=[c for c in columns if c in frame.columns]).to_string(
        index=False, float_format=lambda v: f"{v:.3f}"))
