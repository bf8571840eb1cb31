"""A trial report's values, checked before anything is ranked from them.

A report is a line of a trial's ``result.json`` or an entry of the study's
``BASELINES_FILE`` (keys of :mod:`centerir.contract`, plus a few of Ray's). Each known key
must hold a value of the kind the study writes, and each metric a value it can take (an
error is never negative, an R² never above 1); unknown keys (Ray adds many) are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import chain
from typing import Any

from centerir.contract import (
    CENTERIR_SHARE,
    DEVICE,
    FOLDS_DONE,
    FOLDS_TOTAL,
    HIGHER_IS_BETTER,
    MESSAGE,
    METRICS,
    ROLE,
    SECONDS,
    STATUS,
    Status,
    UserError,
    folds_key,
    is_json_number,
    std_key,
)

TEXT_KEYS = (STATUS, MESSAGE, DEVICE, ROLE, "trial_id")  # trial_id: Ray's
COUNT_KEYS = (FOLDS_DONE, FOLDS_TOTAL)
# Amounts that cannot be negative (null or NaN: unknown); timestamp, time_total_s: Ray's.
AMOUNT_KEYS = (SECONDS, CENTERIR_SHARE, "timestamp", "time_total_s")
STATUSES = tuple(str(status) for status in Status)


def json_kind(value: Any) -> str:
    """What a JSON value is, in words: ``[]`` -> ``"a list"``."""
    kinds = ((bool, "true or false"), (dict, "an object"), (list, "a list"), (str, "text"))
    kind = next((name for cls, name in kinds if isinstance(value, cls)), None)
    if kind or value is None:
        return kind or "null"
    digits = repr(value)
    return f"the number {digits if len(digits) <= 30 else digits[:12] + '...'}"


def is_integer(value: Any) -> bool:
    """A whole JSON number (no bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_count(value: Any) -> bool:
    """A whole number >= 0 (no bool)."""
    return is_integer(value) and value >= 0


def unknown(value: Any) -> bool:
    """null, or NaN (Ray writes a float NaN as NaN): a value nobody could compute."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def metric_problem(name: str, value: Any, label: str = "") -> str | None:
    """What is wrong with ``value`` as the metric ``name`` (called ``label``, default
    ``name``, in the answer), as ``"<what was expected>, got <what was found>"``; None:
    nothing. Unknown (null, NaN) is fine; an error metric must be >= 0 and an R² <= 1."""
    label = label or name
    if unknown(value):
        return None
    if not is_json_number(value):
        return f"{label} as a number or null, got {json_kind(value)}"
    if name in HIGHER_IS_BETTER:
        return None if value <= 1 else f"{label} <= 1 (an R² cannot exceed 1), got {value!r}"
    return None if value >= 0 else f"{label} >= 0 (an error cannot be negative), got {value!r}"


def amount_problem(name: str, value: Any) -> str | None:
    """What is wrong with ``value`` as an amount that cannot be negative (None: nothing)."""
    if unknown(value) or (is_json_number(value) and value >= 0):
        return None
    return f"{name} as a number >= 0 or null, got {value!r:.60}"


def text_problem(report: dict[str, Any]) -> str | None:
    """A text key holding something else, or a status that is none of :class:`Status`."""
    for key in TEXT_KEYS:
        if key in report and not isinstance(report[key], str):
            return f"{key} as text, got {json_kind(report[key])}"
    if report.get(STATUS, STATUSES[0]) not in STATUSES:
        return f"{STATUS} one of {', '.join(STATUSES)}, got {report[STATUS]!r:.60}"
    return None


def count_problem(report: dict[str, Any]) -> str | None:
    """A fold count that is no whole number >= 0, or more folds done than there are."""
    for key in COUNT_KEYS:
        if key in report and not is_count(report[key]):
            return f"{key} as a whole number >= 0, got {json_kind(report[key])}"
    done, total = report.get(FOLDS_DONE, 0), report.get(FOLDS_TOTAL, math.inf)
    if done > total:
        return f"{FOLDS_DONE} <= {FOLDS_TOTAL}, got {done} > {total}"
    return None


def folds_problem(report: dict[str, Any], name: str) -> str | None:
    """A metric's per-fold values that are no list of its values, one per finished fold."""
    key = folds_key(name)
    if key not in report:
        return None
    folds = report[key]
    if not isinstance(folds, list):
        return f"{key} as a list of numbers, got {json_kind(folds)}"
    if FOLDS_DONE in report and len(folds) != report[FOLDS_DONE]:
        return f"{key} with one value per finished fold ({report[FOLDS_DONE]}), got {len(folds)}"
    return next(filter(None, (metric_problem(name, value, key) for value in folds)), None)


def metrics_problem(report: dict[str, Any]) -> str | None:
    """The first metric, std, per-fold list or amount that is of the wrong kind."""
    problems = (
        problem
        for name in METRICS
        for problem in (
            metric_problem(name, report.get(name)),
            amount_problem(std_key(name), report.get(std_key(name))),
            folds_problem(report, name),
        )
    )
    amounts = (amount_problem(key, report.get(key)) for key in AMOUNT_KEYS)
    return next(filter(None, chain(problems, amounts)), None)


# In this order: each check relies on the ones before it having passed.
CHECKS: tuple[Callable[[dict[str, Any]], str | None], ...] = (
    text_problem,
    count_problem,
    metrics_problem,
)


def check_report(report: Any, where: str) -> dict[str, Any]:
    """``report``, if it is a JSON object whose known keys hold values of the right kind;
    else a ``UserError`` ``"<where>: expected ..., got ..."``."""
    if not isinstance(report, dict):
        raise UserError(f"{where}: expected a report as a JSON object, got {json_kind(report)}.")
    for check in CHECKS:
        problem = check(report)
        if problem:
            raise UserError(f"{where}: expected {problem}.")
    return report
