"""Automated rigor checks of a finished study, recomputed from the cells' manifests.

Each check recomputes what it can (the validation argmax, the train checksum, seed counts)
instead of trusting a flag, and states its verdict in one sentence with counts and ids.
`comparisons` are the pairs of cell fingerprints that the report tests against each other; with
None, every cell is compared with every other cell on the same dataset.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from numbers import Real
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

from ..errors import ConfigError, DataError
from ..hashing import canonical_json
from ..study.manifest import CellManifest
from ..training.loop import TrainConfig

Pair = tuple[CellManifest, CellManifest]
BUDGET_KEYS = ("epochs", "patience", "max_seconds")
CONVERGENCE = "training converged within the budget"


@dataclass(frozen=True)
class AuditCheck:
    """One check's verdict and the concrete sentence that justifies it."""

    name: str
    passed: bool
    evidence: str


def audit_study(manifests: Sequence[CellManifest | Mapping], comparisons: list[tuple[str, str]] | None = None,
                min_seeds: int = 3) -> list[AuditCheck]:
    """Run every check over the cells' manifests (typed, or result.json mappings with "fingerprint")."""
    manifests = [m if isinstance(m, CellManifest) else CellManifest.from_dict(m, where=f"manifest #{i}")
                 for i, m in enumerate(manifests)]
    if not manifests:
        raise DataError("audit_study needs at least one cell manifest, got none")
    if min_seeds < 1:
        raise ConfigError(f"min_seeds must be at least 1, got {min_seeds}")
    pairs = _pairs(_index(manifests), comparisons)
    return [check_same_split(pairs), check_test_once(manifests), check_selection(manifests),
            check_graphs(manifests), check_learned_fits(manifests), check_protocol(manifests),
            check_budget(manifests, pairs),
            check_convergence(manifests), check_seeds(manifests, min_seeds)]


def audit_table(checks: Sequence[AuditCheck]) -> pd.DataFrame:
    """The checks as the report's (and `verify`'s) audit table: check, passed, evidence."""
    return pd.DataFrame([{"check": c.name, "passed": c.passed, "evidence": c.evidence} for c in checks])


def format_checks(checks: Sequence[AuditCheck]) -> list[str]:
    """One "PASS  name: evidence" / "FAIL  name: evidence" line per check."""
    return [f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {c.evidence}" for c in checks]


def check_same_split(pairs: list[Pair]) -> AuditCheck:
    """Compared cells share dataset, split and (unless `dropped` is involved) test users."""
    name = "same split"
    if not pairs:
        return AuditCheck(name, True, "no cells to compare")
    cells = _cells_of(pairs)
    issues = [i for m in cells if (i := _evaluated_split_issue(m))]
    issues += [i for a, b in pairs if (i := _pair_split_issue(a, b))]
    if issues:
        return AuditCheck(name, False, f"{len(issues)} problem(s) among {len(cells)} compared cells: "
                                       + _listing(issues))
    by_dataset = _group_by(cells, lambda m: m.dataset.name)
    parts = [_split_summary(ds, group) for ds, group in by_dataset.items()]
    n_dropped = sum(a.is_dropped != b.is_dropped for a, b in pairs)
    note = f"; {n_dropped} comparison(s) with a `dropped` cell use the common-item view" if n_dropped else ""
    return AuditCheck(name, True, "; ".join(parts) + note)


def check_test_once(manifests: list[CellManifest]) -> AuditCheck:
    """Every cell evaluated the test part exactly once and no tuning trial carries a test score."""
    issues = [f"{_name(m)} has {m.test.evaluations} test evaluations" for m in manifests if m.test.evaluations != 1]
    issues += [f"{_name(m)} records test scores in its tuning trials" for m in manifests
               if any("test" in t.to_dict() for t in m.selection.trials)]
    if issues:
        return AuditCheck("test scored once", False, _listing(issues))
    return AuditCheck("test scored once", True, f"all {len(manifests)} cells scored the test part exactly "
                                                 "once, after selection; no tuning trial holds a test score")


def check_selection(manifests: list[CellManifest]) -> AuditCheck:
    """Selection used validation and picked the argmax of the recorded validation trials."""
    issues = [i for m in manifests if (i := _selection_issue(m))]
    if issues:
        return AuditCheck("selection on validation only", False,
                          f"{len(issues)} of {len(manifests)} cells: " + _listing(issues))
    trials = sum(len(m.selection.trials) for m in manifests)
    metrics = sorted({str(m.selection.metric) for m in manifests})
    return AuditCheck("selection on validation only", True,
                      f"all {len(manifests)} cells selected the best of their {trials} validation trials "
                      f"in total (metric {', '.join(metrics)}); argmax recomputed, selection.on = 'valid'")


def check_graphs(manifests: list[CellManifest]) -> AuditCheck:
    """Imputation graphs were built from the training interactions of the cell's own split."""
    name = "imputation graphs from training only"
    graphed = [m for m in manifests if not m.is_dropped and m.missing.graph]
    n_dropped = sum(m.is_dropped for m in manifests)
    dropped_note = f"; {n_dropped} `dropped` cell(s) use no graph" if n_dropped else ""
    if not graphed:
        return AuditCheck(name, True, "no cell imputes over a co-interaction graph" + dropped_note)
    issues = [i for m in graphed if (i := _graph_issue(m))]
    if issues:
        return AuditCheck(name, False, f"{len(issues)} of {len(graphed)} graph-imputed cells: " + _listing(issues))
    trains = sorted({_short(m.split.train_checksum) for m in graphed})
    return AuditCheck(name, True, f"all {len(graphed)} graph-imputed cells built their graph from the train "
                                  f"part (train checksum {', '.join(trains)} matches){dropped_note}")


def check_learned_fits(manifests: list[CellManifest]) -> AuditCheck:
    """Learned imputers fitted on exactly the training-observed rows: for every imputed modality, the
    row set the imputer recorded equals the one `handle_missing` derived from the mask and the train
    part (count and SHA-256 of the item indices)."""
    name = "learned imputers fitted on training-observed rows"
    learned = [m for m in manifests if m.missing.expected_fit_rows is not None or _fitted(m)]
    if not learned:
        return AuditCheck(name, True, "no cell uses a learned imputer")
    issues = [i for m in learned for i in _fit_issues(m)]
    if issues:
        return AuditCheck(name, False, f"{len(issues)} problem(s) in {len(learned)} learned-imputer cells: "
                                       + _listing(issues))
    fits = sum(len(_fitted(m)) for m in learned)
    return AuditCheck(name, True, f"all {len(learned)} learned-imputer cells fitted on exactly their training-observed "
                                  f"rows ({fits} modality fits; counts and SHA-256 match the row sets derived from "
                                  "the mask and the train part)")


def _fitted(m: CellManifest) -> dict[str, dict]:
    return {k: v for k, v in (m.missing.imputation or {}).items() if "fitted_rows_sha256" in v}


def _fit_issues(m: CellManifest) -> list[str]:
    expected, fitted = m.missing.expected_fit_rows or {}, _fitted(m)
    if not expected:
        return [f"{_name(m)}: manifest lacks the expected fit rows (missing.expected_fit_rows)"]
    issues = [f"{_name(m)}: {k} was imputed without a fitted-row record" for k, v in (m.missing.imputation or {}).items()
              if v.get("imputed_items") and k not in fitted]
    for k, v in fitted.items():
        want = expected.get(k) or {}
        if (v.get("fitted_rows"), v["fitted_rows_sha256"]) != (want.get("rows"), want.get("sha256")):
            issues.append(f"{_name(m)}: {k} fitted on {v.get('fitted_rows')} rows ({_short(v['fitted_rows_sha256'])}), "
                          f"not the {want.get('rows')} training-observed rows ({_short(want.get('sha256'))})")
    return issues


def check_protocol(manifests: list[CellManifest]) -> AuditCheck:
    """Test metrics rank the full catalogue with train and validation items masked."""
    issues = [f"{_name(m)} uses protocol {m.test.protocol!r}" for m in manifests if m.test.protocol != "full-ranking"]
    issues += [f"{_name(m)} does not mask train+valid items at test" for m in manifests
               if not {"train", "valid"} <= set(m.test.masked_at_test or ())]
    if issues:
        return AuditCheck("full-ranking metrics", False, _listing(issues))
    return AuditCheck("full-ranking metrics", True, f"all {len(manifests)} cells ranked every item "
                                                     "(protocol 'full-ranking', train and valid items masked)")


def check_budget(manifests: list[CellManifest], pairs: list[Pair]) -> AuditCheck:
    """Compared cells tried equally many model settings; every cell had the same training budget."""
    budgets = _group_by(manifests, _budget)
    unequal = [(a, b) for a, b in pairs if _grid_size(a) != _grid_size(b)]
    issues = [f"{len(unequal)} of {len(pairs)} comparisons pair unequal grids ({_grid_summary(_cells_of(unequal))}, "
              f"e.g. {_name(unequal[0][0])} vs {_name(unequal[0][1])})"] if unequal else []
    if len(budgets) > 1:
        issues.append("training budgets differ: " + " vs ".join(
            f"{b} ({len(ms)} cells, e.g. {_name(ms[0])})" for b, ms in budgets.items()))
    if issues:
        return AuditCheck("equal tuning budget", False, _listing(issues))
    per_model = f"{_grid_summary(_cells_of(pairs))}; " if pairs else ""
    return AuditCheck("equal tuning budget", True,
                      f"{per_model}training budget {next(iter(budgets))} in all {len(manifests)} cells")


def check_convergence(manifests: list[CellManifest]) -> AuditCheck:
    """No cell selected its last allowed epoch: a best epoch at the budget's end means training was
    still improving on validation when the budget stopped it (the cell may be under-trained)."""
    name = CONVERGENCE
    bound = [m for m in manifests if _at_budget_end(m)]
    if bound:
        per_model = _group_by(bound, lambda m: str(m.model))
        counts = ", ".join(f"{k} {len(v)} of {sum(x.model == k for x in manifests)}"
                           for k, v in sorted(per_model.items()))
        return AuditCheck(name, False, f"{len(bound)} of {len(manifests)} cells selected their last allowed epoch "
                                       f"({counts}): they may be under-trained; raise train.epochs")
    return AuditCheck(name, True, f"all {len(manifests)} cells selected an epoch before the end of their budget")


def _at_budget_end(m: CellManifest) -> bool:
    budget = int((m.cell.train if m.cell is not None else {}).get("epochs", TrainConfig.epochs))
    epochs = m.selection.best_epoch.values() if isinstance(m.selection.best_epoch, dict) else [m.selection.best_epoch]
    return any(isinstance(e, int) and e >= budget for e in epochs)


def check_seeds(manifests: list[CellManifest], min_seeds: int) -> AuditCheck:
    """Every configuration (cells differing only in the training seed) has >= min_seeds seeds."""
    groups = {k: {m.seeds.training for m in ms}
              for k, ms in _group_by(manifests, _configuration).items()}
    few = {k: s for k, s in groups.items() if len(s) < min_seeds}
    if few:
        items = [f"{k or 'unlabelled'}: {len(s)} seed(s) {sorted(s, key=str)}" for k, s in few.items()]
        return AuditCheck("enough seeds", False, f"{len(few)} of {len(groups)} configurations have fewer than "
                                                 f"{min_seeds} training seeds: " + _listing(items))
    counts = [len(s) for s in groups.values()]
    return AuditCheck("enough seeds", True, f"all {len(groups)} configurations have >= {min_seeds} training "
                                            f"seeds ({min(counts)}-{max(counts)} each)")


def _evaluated_split_issue(m: CellManifest) -> str | None:
    declared, evaluated = m.split.checksum, m.evaluated_split_checksum
    if not m.is_dropped and evaluated != declared:
        return f"{_name(m)} was evaluated on split {_short(evaluated)}, not its split {_short(declared)}"
    return None


def _pair_split_issue(a: CellManifest, b: CellManifest) -> str | None:
    pair = f"{_name(a)} vs {_name(b)}"
    for value, what in ((lambda m: m.dataset.name, "datasets"), (lambda m: m.split.checksum, "splits"),
                        (lambda m: m.dataset.fingerprint, "dataset fingerprints")):
        if value(a) != value(b):
            return f"{pair} use different {what} ({_short(value(a))} / {_short(value(b))})"
    users = a.test.users, b.test.users
    if not (a.is_dropped or b.is_dropped) and users[0] != users[1]:
        return f"{pair} have {users[0]} and {users[1]} test users"
    return None


def _split_summary(dataset: str, cells: list[CellManifest]) -> str:
    split = _short(cells[0].split.checksum)
    users = sorted({m.test.users for m in cells if not m.is_dropped}, key=str)
    user_text = f"; {'/'.join(map(str, users))} test users in every non-dropped cell" if users else ""
    return f"all {len(cells)} compared {dataset} cells share split {split}{user_text}"


def _selection_issue(m: CellManifest) -> str | None:
    sel = m.selection
    if sel.on != "valid":
        return f"{_name(m)} selected on {sel.on!r}"
    scored = [t for t in sel.trials if isinstance(t.valid, Real) and math.isfinite(t.valid)]
    if not scored:
        return f"{_name(m)} has no trial with a finite validation score"
    best = max(t.valid for t in scored)
    chosen = (sel.selected_params, sel.selected_imputer_params or {})
    fixed = dict(m.cell.params) if m.cell is not None else {}
    winners = [({**fixed, **t.params}, t.imputer_params or {}) for t in scored if t.valid == best]
    if chosen not in winners or sel.best_valid != best:
        return (f"{_name(m)} selected {chosen} (valid {sel.best_valid}) but the best validation "
                f"trial is {winners[0]} (valid {best})")
    return None


def _graph_issue(m: CellManifest) -> str | None:
    graph, train = m.missing.graph, m.split.train_checksum
    if graph.built_from != "train":
        return f"{_name(m)} built its graph from {graph.built_from!r}"
    if train is None:
        return f"{_name(m)}: manifest lacks the train checksum (split.train_checksum)"
    if graph.train_checksum != train:
        return (f"{_name(m)}: graph train checksum {_short(graph.train_checksum)} is not the "
                f"train part's {_short(train)}")
    return None


def _budget(m: CellManifest) -> str:
    train = m.cell.train if m.cell is not None else {}
    return ", ".join(f"{k}={train.get(k, getattr(TrainConfig, k))}" for k in BUDGET_KEYS)


def _grid_size(m: CellManifest) -> int:
    """Distinct model hyper-parameter settings tried (per imputer setting)."""
    return len({canonical_json(t.params) for t in m.selection.trials})


def _grid_summary(cells: list[CellManifest]) -> str:
    grids = _group_by(cells, lambda m: str(m.model))
    return "model settings per imputer setting: " + ", ".join(
        f"{k} {'/'.join(map(str, sorted({_grid_size(m) for m in ms})))}" for k, ms in sorted(grids.items()))


def _configuration(m: CellManifest) -> str:
    """Labels without the seed and the control's partner (the cell config without its seed when a
    cell has no labels)."""
    labels = {k: v for k, v in m.labels.items() if k not in ("seed", "pairs_with")}
    if labels:
        return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    cell = m.cell.to_dict() if m.cell is not None else {}
    return canonical_json({k: v for k, v in cell.items() if k not in ("seed", "labels")})


def _index(manifests: list[CellManifest]) -> dict[str, CellManifest]:
    by_fp: dict[str, CellManifest] = {}
    for i, m in enumerate(manifests):
        if not m.fingerprint:
            raise DataError(f"manifest #{i} has no 'fingerprint' key (expected a cell's result.json)")
        if m.fingerprint in by_fp:
            raise DataError(f"cell {m.fingerprint} appears twice among the manifests")
        by_fp[m.fingerprint] = m
    return by_fp


def _pairs(by_fp: dict[str, CellManifest], comparisons: list[tuple[str, str]] | None) -> list[Pair]:
    """The compared pairs; with None, each cell against one anchor cell of its dataset (the
    compared quantities must all be equal, so a star of pairs checks every pair)."""
    if comparisons is not None:
        missing = [fp for pair in comparisons for fp in pair if fp not in by_fp]
        if missing:
            raise DataError(f"comparison names cell {missing[0]!r}, which is not among the manifests")
        return [(by_fp[a], by_fp[b]) for a, b in comparisons]
    pairs = []
    for cells in _group_by(by_fp.values(), _split_family).values():
        anchor = next((m for m in cells if not m.is_dropped), cells[0])
        pairs += [(anchor, m) for m in cells if m is not anchor]
    return pairs


def _split_family(m: CellManifest) -> tuple:
    """Cells that must share a split: one dataset, and for new items one held-out draw (its split
    moves the cold items' training interactions, so it differs per share and mask seed)."""
    phase = m.cell.missing.phase if m.cell is not None else "train_and_test"
    return (m.dataset.name, (m.cell.missing.cold_share, m.seeds.mask) if phase == "new_items" else None)


def _group_by(manifests: Iterable[CellManifest], key: Callable[[CellManifest], Any]) -> dict[Any, list[CellManifest]]:
    groups: dict[Any, list[CellManifest]] = defaultdict(list)
    for m in manifests:
        groups[key(m)].append(m)
    return groups


def _cells_of(pairs: list[Pair]) -> list[CellManifest]:
    return list({m.fingerprint: m for pair in pairs for m in pair}.values())


def _name(m: CellManifest) -> str:
    labels = "/".join(map(str, m.labels.values()))
    return f"{_short(m.fingerprint)} ({labels})" if labels else _short(m.fingerprint)


def _short(value: Any) -> str:
    return str(value)[:10]


def _listing(items: list[str], limit: int = 2) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")
