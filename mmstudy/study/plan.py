"""Plan a study before running it: its cells by factor, what is already finished, what shared work
is cached, and how long the rest will take.

Expanding and counting cells trains nothing. Time comes from the recorded timing of finished
cells (per model, per training run); models without finished cells are timed on at most a few
sample cells run in a temporary folder, each capped by a time budget and, when cut, extrapolated
to the cell's full epoch budget (an upper bound: early stopping can only shorten it).
"""
from __future__ import annotations

import heapq
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..data.holdout import split_key
from ..device import resolve_device
from ..hashing import fingerprint
from ..training import TrainConfig
from .cell import Cell
from .executor import run_cell
from .manifest import CellManifest
from .store import ResultStore
from .worker import cpu_cores, threads_per_worker, torch_settings
from .workspace import Workspace, grid_points


@dataclass
class ModelTiming:
    per_trial: float  # seconds per training run (one grid point) of one cell
    source: str


@dataclass
class Plan:
    name: str
    output: Path
    cells: list[Cell]
    finished: set[str]
    cache: list[str]
    timings: dict[str, ModelTiming] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    jobs: int = 1
    threads: int = 1
    remaining: list[Cell] = field(init=False)

    def __post_init__(self) -> None:
        self.remaining = [c for c in self.cells if c.fingerprint not in self.finished]

    def cell_seconds(self) -> list[float]:
        """Estimated seconds of each remaining cell (`cell_trainings` x the model's seconds per
        training; empty when nothing was timed); a serving cell's own evaluation is not counted."""
        if not self.timings:
            return []
        return [n * self.timings[c.model].per_trial for c, n in zip(self.remaining, cell_trainings(self.remaining))]

    def text(self) -> str:
        lines = [f"study {self.name}: {len(self.cells)} cells -> {self.output}"]
        lines += [f"  by {factor:<9} {', '.join(f'{v} {n}' for v, n in counts.items())}"
                  for factor, counts in factor_counts(self.cells).items()]
        lines.append(f"finished: {len(self.finished)} of {len(self.cells)} ({len(self.remaining)} to run)")
        lines += ["cached:"] + [f"  {line}" for line in self.cache]
        return "\n".join(lines + self._estimate_lines() + [f"note: {p}" for p in self.problems])

    def _estimate_lines(self) -> list[str]:
        seconds = self.cell_seconds()
        if not self.remaining:
            return ["estimate: nothing left to run"]
        if not seconds:
            return ["estimate: none (no finished cells to learn from and no sample; use --plan-sample N)"]
        lines = [f"estimate ({self.threads} torch thread(s) per cell):"]
        by_model: dict[str, list[Cell]] = {}
        for cell in self.remaining:
            by_model.setdefault(cell.model, []).append(cell)
        for model, todo in by_model.items():
            timing = self.timings[model]
            lines.append(f"  {model:<12} {len(todo):>6} cells {sum(cell_trainings(todo)):>7} trainings  "
                         f"{timing.per_trial:8.2f} s each  ({timing.source})")
        lines.append(f"  serial: {duration(sum(seconds))}")
        jobs = self.jobs if self.jobs > 1 else cpu_cores()
        if jobs > 1:
            lines.append(f"  with --jobs {jobs}: {duration(makespan(seconds, jobs))}")
        return lines


def factor_counts(cells: list[Cell]) -> dict[str, Counter]:
    """How many cells take each value of each factor (the cells' labels; the model always)."""
    out: dict[str, Counter] = {"model": Counter(c.model for c in cells)}
    for cell in cells:
        for key, value in cell.labels.items():
            if key != "model":
                out.setdefault(key, Counter())[str(value)] += 1
    # a label with about one cell per value (a control's pairs_with) is an identifier, not a factor
    return {k: v for k, v in out.items() if len(v) < 3 or 2 * len(v) <= sum(v.values())}


def trials(cell: Cell) -> int:
    """Training runs in the cell: imputer grid points (one when the grid is decided by
    reconstruction) x model grid points; a `serving` cell trains nothing itself (see `trainings`)."""
    if cell.missing.phase == "serving":
        return 0
    imputer = 1 if cell.missing.select == "reconstruction" else len(grid_points(cell.missing.grid))
    return imputer * len(grid_points(cell.grid))


def serving_key(cell: Cell) -> str:
    """What a `serving` cell's stored training depends on (besides data and split): the phase
    trains once per key and serves every strategy and rate (`study.serving`)."""
    return fingerprint([cell.model, cell.params, cell.grid, cell.train, cell.fusion, cell.seed,
                        cell.missing.strategy == "modality_dropout"])


def cell_trainings(cells: list[Cell]) -> list[int]:
    """Training runs per cell: its own (`trials`), and for the first `serving` cell of each stored
    training, that training over the model's grid."""
    seen, out = set(), []
    for cell in cells:
        if cell.missing.phase == "serving" and (key := serving_key(cell)) not in seen:
            seen.add(key)
            out.append(len(grid_points(cell.grid)))
        else:
            out.append(trials(cell))
    return out


def duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def makespan(seconds: list[float], workers: int) -> float:
    """Wall time of the jobs on `workers` workers, longest first to the least loaded."""
    loads = [0.0] * max(1, workers)
    for s in sorted(seconds, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + s)
    return max(loads)


def finished_fingerprints(cells: list[Cell], store: ResultStore) -> set[str]:
    """Fingerprints of the finished cells (a cheap existence check before the checksum one)."""
    fps = {c.fingerprint for c in cells}
    return {fp for fp in fps if (store.cell_dir(fp) / "result.json").exists() and store.is_done(fp)}


def cache_lines(cells: list[Cell], cache_dir: Path) -> list[str]:
    """What `.cache` holds: the study's splits (present or not) and derived structures."""
    lines, ws = [], Workspace()
    for data in {fingerprint(c.to_dict()["data"]): c.data for c in cells}.values():
        try:
            dataset = ws.dataset(data)
        except Exception as exc:  # planning goes on; the run would report this error per cell
            lines.append(f"split of {data.name}: unknown ({type(exc).__name__}: {exc})")
            continue
        method = data.split if data.split != "auto" else ("fixed" if dataset.fixed_split is not None else "random")
        stem = f"split-{fingerprint(split_key(dataset, method, data.ratios, data.split_seed))[:20]}"
        present = (cache_dir / "splits" / f"{stem}.npz").exists()
        lines.append(f"split of {data.name} ({method}, seed {data.split_seed}): "
                     f"{'present' if present else 'not yet made'}")
    derived = sorted((cache_dir / "derived").glob("*.npz")) if (cache_dir / "derived").is_dir() else []
    kinds = Counter(p.name.rsplit("-", 1)[0] for p in derived)
    size = sum(p.stat().st_size for p in derived) / 2**20
    lines.append(f"derived graphs: {len(derived)} ({', '.join(f'{k} {n}' for k, n in kinds.items()) or 'none'}; "
                 f"{size:.1f} MiB)")
    return lines


def recorded_timings(cells: list[Cell], finished: set[str], store: ResultStore) -> dict[str, ModelTiming]:
    """Per model, the mean recorded seconds per training run of its finished cells."""
    per_model: dict[str, list[float]] = {}
    for cell in cells:
        if cell.fingerprint in finished and trials(cell):  # a serving cell's time is not a training's
            manifest = store.manifest(cell.fingerprint)
            per_model.setdefault(cell.model, []).append(manifest.timing.total_seconds / trials(cell))
    return {m: ModelTiming(sum(v) / len(v), f"recorded, {len(v)} finished cells") for m, v in per_model.items()}


def sample_timings(cells: list[Cell], models: list[str], n: int, max_seconds: float, device: str,
                   threads: int, problems: list[str]) -> dict[str, ModelTiming]:
    """Time at most `n` cells (one per model, fewest trainings first) in a throwaway folder,
    their training capped at `max_seconds` in all."""
    trained = [c for c in cells if trials(c)]
    picks = [min((c for c in trained if c.model == m), key=trials) for m in models if any(
        c.model == m for c in trained)][:n]
    out: dict[str, ModelTiming] = {}
    if not picks:
        return out
    import torch._dynamo  # noqa: F401 -- a one-off import the first optimizer triggers; not a cell's cost

    with tempfile.TemporaryDirectory(prefix="mmstudy-plan-") as tmp, torch_settings(threads, device == "cpu"):
        ws = Workspace(tmp)
        for cell in picks:
            budget = max_seconds / len(picks) / trials(cell)
            try:
                ws.split(ws.dataset(cell.data), cell.data)  # loaded once per worker, not per cell
                manifest = run_cell(cell.with_(train={**cell.train, "max_seconds": budget}), ws, device).manifest
            except Exception as exc:
                problems.append(f"sample cell of {cell.model} failed: {type(exc).__name__}: {exc}")
                continue
            out[cell.model] = _timing_from_sample(manifest, cell, budget)
    return out


def _timing_from_sample(manifest: CellManifest, cell: Cell, budget: float) -> ModelTiming:
    timing, n = manifest.timing, trials(cell)
    epochs = TrainConfig.from_dict(dict(cell.train)).epochs
    if timing.epochs_run >= epochs or timing.train_seconds < 0.9 * budget:
        return ModelTiming(timing.total_seconds / n, "sampled, ran to the end")
    overhead = max(0.0, timing.total_seconds - n * timing.train_seconds) / n
    per_epoch = timing.train_seconds / timing.epochs_run
    return ModelTiming(overhead + epochs * per_epoch,
                       f"sampled {timing.epochs_run} epochs, extrapolated to {epochs} (upper bound)")


def make_plan(cells: list[Cell], output: str | Path, *, name: str = "study", jobs: int = 1,
              sample: int = 2, max_seconds: float = 60.0, device: str = "cpu",
              cache_dir: str | Path | None = None, threads: int | None = None) -> Plan:
    """Everything `--plan` prints; runs at most `sample` cells (in a temporary folder) with the
    torch threads each cell of the study would get (`threads`, default: cores // jobs)."""
    output, cells = Path(output), list({c.fingerprint: c for c in cells}.values())
    store = ResultStore(output)
    finished = finished_fingerprints(cells, store)
    threads = threads or threads_per_worker(jobs)
    plan = Plan(name, output, cells, finished, cache_lines(cells, Path(cache_dir or output / ".cache")),
                jobs=jobs, threads=threads)
    plan.timings = recorded_timings(cells, finished, store)
    remaining = plan.remaining
    untimed = list(dict.fromkeys(c.model for c in remaining if c.model not in plan.timings))
    if untimed and sample > 0:
        plan.timings.update(sample_timings(remaining, untimed, sample, max_seconds, str(resolve_device(device)),
                                           threads, plan.problems))
    _guess_missing(plan, untimed)
    return plan


def _guess_missing(plan: Plan, models: list[str]) -> None:
    """Models left untimed get the mean per-training time of the timed ones (flagged)."""
    known = [t.per_trial for t in plan.timings.values()]
    for model in models:
        if model not in plan.timings and known:
            plan.timings[model] = ModelTiming(sum(known) / len(known), "guessed from the other models")
