"""Which loaded rows count as positive interactions: the explicit implicit-feedback rule.

Every loader passes its `min_rating` option through `apply_feedback`:

- a number keeps rows rated at least that much; "all" (or None) keeps every row (rule "user");
- "default" (every loader's default) decides from the rating column:
  - no rating column, or every rating is 1: implicit feedback, every row kept (rule "implicit");
  - a loader with a documented threshold (MovieLens-100K: 4) applies it (rule "default");
  - graded ratings that are all positive (e.g. 1-5 stars): every row kept, as MMRec and most
    multimodal-recommendation papers treat reviews, with a warning (rule "default");
  - any rating <= 0 (0/1 like/dislike, -1/+1): an error showing the distribution, because a
    0 or a negative value is a dislike and must not silently become a positive.

The decision is recorded in `dataset.meta["feedback"]` (plain JSON, copied into cell manifests)
and shown by `data info`: `rating_column` (as the file spells it; None without one), `file`,
`requested` (the option as understood: a number, "all" or "default"), `min_rating` (the
threshold applied; None = every row kept), `rule` ("user", "default" or "implicit"), `kept`,
`dropped`, `distribution` ({value: rows}, string keys such as "4" or "3.5"; None beyond 50
distinct values), `distinct`, `range` ([min, max]) and `summary` (one sentence).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import replace
from numbers import Real

import numpy as np

from ..errors import ConfigError, DataError
from .dataset import Dataset
from .preprocess import preprocess

ALL, DEFAULT = "all", "default"
MAX_RECORDED = 50  # distinct rating values listed in meta (more: only their range)
MAX_SHOWN = 12  # distinct values written into one-line messages



class FeedbackWarning(UserWarning):
    """A loader's choice of which rows are positives that the user did not make explicitly (e.g.
    graded ratings all kept). Studies say it once, before their cells run; the cells record the
    choice in their manifests (`dataset.feedback`) instead of repeating it."""

def check_min_rating(value: object) -> float | str:
    """A `min_rating` option as a float, "all" (None is an alias) or "default"."""
    if value is None or value == ALL:
        return ALL
    if value == DEFAULT:
        return DEFAULT
    if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ConfigError(f"min_rating={value!r}; expected a number (keep ratings >= it), "
                      f"{ALL!r} (keep every row) or {DEFAULT!r} (the loader's rule)")


def rating_label(value: float) -> str:
    """A rating value as a short stable key: integral values without a decimal point."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def distribution(ratings: np.ndarray) -> dict[str, int]:
    """Rating value -> row count, ascending (string keys, so a JSON round trip keeps them)."""
    values, counts = np.unique(np.asarray(ratings, np.float64), return_counts=True)
    return {rating_label(v): int(c) for v, c in zip(values, counts)}


def compact(dist: dict[str, int], limit: int = MAX_SHOWN) -> str:
    """'1: 10, 2: 3, ...' for messages (at most `limit` values)."""
    items = [f"{k}: {v}" for k, v in dist.items()]
    return ", ".join(items[:limit]) + (f", ... ({len(items)} values)" if len(items) > limit else "")


def apply_feedback(dataset: Dataset, min_rating: object, *, where: str, column: str | None = None,
                   default: float | None = None, default_reason: str = "") -> Dataset:
    """Keep the positive rows of a freshly loaded dataset and record why in meta["feedback"].

    Parameters
    ----------
    min_rating : the user's choice (see the module docstring).
    where : the file(s) the ratings come from, for messages and the record.
    column : the rating column's name as the file spells it (default "rating"; ignored without ratings).
    default, default_reason : a loader's documented threshold and where it comes from.
    """
    requested = check_min_rating(min_rating)
    ratings = None if dataset.ratings is None else dataset.ratings.data
    dist = None if ratings is None else distribution(ratings)
    column = None if ratings is None else column or "rating"
    threshold, rule = _decide(requested, dist, where, column, default)
    kept = dataset.n_interactions if threshold is None else int((ratings >= threshold).sum())
    if kept == 0 and threshold is not None:
        raise DataError(f"{where}: min_rating={rating_label(threshold)} keeps no rows; {column} values: "
                        f"{compact(dist)}")
    record = {"rating_column": column, "file": where, "requested": requested, "min_rating": threshold,
              "rule": rule, "kept": kept, "dropped": dataset.n_interactions - kept,
              "distribution": dist if dist is not None and len(dist) <= MAX_RECORDED else None,
              "distinct": None if dist is None else len(dist),
              "range": None if ratings is None else [float(ratings.min()), float(ratings.max())]}
    record["summary"] = summary(record, default_reason)
    if rule == "default" and threshold is None:
        warnings.warn(f"{where}: column {column!r} holds graded ratings ({compact(dist)}); every row counts as a "
                      f"positive by default. Pass min_rating=<value> to keep only ratings >= value, or "
                      f"min_rating={ALL!r} to make the choice explicit", FeedbackWarning, stacklevel=3)
    out = preprocess(dataset, min_rating=threshold)
    return replace(out, meta={**out.meta, "feedback": record, "min_rating": threshold})


def _decide(requested: float | str, dist: dict[str, int] | None, where: str, column: str | None,
            default: float | None) -> tuple[float | None, str]:
    """(threshold or None = keep all, rule) for a request and a rating distribution."""
    if dist is None:
        if isinstance(requested, float):
            raise DataError(f"{where}: no rating column (named rating, ratings or score), so "
                            f"min_rating={rating_label(requested)} cannot be applied")
        return None, "implicit"
    if requested != DEFAULT:
        return (None if requested == ALL else requested), "user"
    if default is not None:
        return float(default), "default"
    if list(dist) == ["1"]:
        return None, "implicit"
    values = np.array([float(k) for k in dist])
    if (values <= 0).any():
        positive = values[values > 0]
        lowest = rating_label(positive.min()) if positive.size else None
        n = sum(c for k, c in dist.items() if float(k) > 0)
        suggestion = f"min_rating={lowest} keeps the {n} row{'s' * (n != 1)} rated >= {lowest}, " if lowest else ""
        raise DataError(f"{where}: column {column!r} holds explicit feedback ({compact(dist)}) and no min_rating "
                        f"was given; ratings <= 0 are dislikes, so choose which rows are positives: {suggestion}"
                        f"min_rating={ALL!r} keeps every row")
    return None, "default"


def summary(record: dict, default_reason: str = "") -> str:
    """One sentence describing the decision of a feedback record."""
    column, threshold, rule = record["rating_column"], record["min_rating"], record["rule"]
    if column is None:
        return "no rating column: implicit feedback, every row is a positive"
    if rule == "implicit":
        return f"every {column} is 1: implicit feedback, every row is a positive"
    if rule == "user":
        asked = record["requested"]
        why = f", as requested (min_rating={asked!r})" if isinstance(asked, str) else ", as requested"
    else:
        why = f" by default ({default_reason})" if default_reason else " by default"
    if threshold is None:
        graded = "graded ratings, none <= 0: " if rule == "default" else ""
        return f"{graded}every row is a positive{why}"
    return (f"rows with {column} >= {rating_label(threshold)} are positives{why}; "
            f"{record['kept']} kept, {record['dropped']} dropped")


def describe(record: dict | None) -> list[str]:
    """The lines `data info` prints for a feedback record (the rating column and the rule)."""
    if record is None:
        return ["ratings: not recorded (dataset not built by a loader)"]
    if record["rating_column"] is None:
        return ["ratings: none", f"positives: {record['summary']}"]
    dist, (low, high) = record["distribution"], record["range"]
    values = compact(dist) if dist is not None else \
        f"{record['distinct']} distinct values in [{rating_label(low)}, {rating_label(high)}]"
    return [f"ratings: column {record['rating_column']!r} of {record['file']}: {values}",
            f"positives: {record['summary']} (rule: {record['rule']})"]
