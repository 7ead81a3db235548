"""Targets and baselines of the checkpoints, and the rules every target obeys.

Rules (tested in ``tests/test_maps.py``; an override that breaks one is refused)
--------------------------------------------------------------------------------
* **Never below the baseline** (KPIs where more is better): a rule that would give less
  (a fixed share under what the customers already do) is lifted to the baseline and
  labelled *hold*; a hold is always said, never hidden in a growth rule.
* **No rounding into another growth rate**: the exact target is kept; only whole-number
  KPIs (orders, customers, meetings) are rounded, always up, and the rounding is shown
  ("8 → 8.4 orders, i.e. 9 in whole orders"). Orders per customer is not a whole number.
* **Cumulative targets say so**: a computed KPI is measured from the plan start to the
  deadline; a sum such as revenue is therefore cumulative, and a later deadline never has
  a smaller target than an earlier one.
* **Regression to the mean**: a group whose revenue comes mostly from customers picked
  for a recent jump (half-year trend at or above the segmentation's ``prospect_trend``)
  gets its growth targets tempered halfway toward the group's longer trend (the last 12
  months on the 12 before; with less history, toward holding), never above the
  template's growth; the map says why.
* **Seasons**: a target proportional to the customers served (``reach``, ``per_member``)
  in a peak month is raised, in a holiday or low month lowered, by
  ``maps.seasonal_factors``. Computed KPIs are compared with the same calendar months a
  year earlier, so last year's season is already in their baseline; the label says so.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.kpis import KPIS, compute_kpi
from workbench.maps.common import _add_months, _Context

SCALED_RULES = ("reach", "per_member")     # targets proportional to the customers served
SEASON_KINDS = ("peak", "holidays", "low")
DEFAULT_SEASONAL_FACTORS = {"peak": 1.2, "holidays": 0.8, "low": 0.8}
JUMP_MAJORITY = 0.5                        # share of a group's revenue from jump-picked customers
_EPS = 1e-9


@dataclass(frozen=True)
class Target:
    """One checkpoint's target.

    baseline : in the KPI's unit
    exact : the target before rounding (in the KPI's unit)
    value : the target (whole-number KPIs rounded up, money to kopecks/cents)
    rounding : "up" when ``value`` is ``exact`` rounded up to a whole number, else ""
    growth : the growth rate applied (growth rules, after tempering), else None
    labels : codes said beside the target: hold, lifted, cumulative, period, tempered,
        peak / holidays / low (seasonal factor applied), season_in_baseline,
        before_selection, selection_bias
    """

    baseline: float
    exact: float
    value: float
    rounding: str = ""
    growth: float | None = None
    labels: tuple[str, ...] = ()


def _round(value: float, unit: str, whole: bool | None = None) -> float:
    """A value as stored: whole counts up, money to cents, the rest to 4 decimals."""
    whole = unit == "count" if whole is None else whole
    if whole:
        return float(math.ceil(round(value, 6)))
    if unit == "currency":
        return float(round(value, 2))
    return float(round(value, 4))


def rule_value(target: Mapping[str, Any], index: int) -> float:
    """``value[index]`` of a normalised target (the last one repeated)."""
    values = target["value"]
    return float(values[min(index, len(values) - 1)])


def temper_growth(growth: float, long_trend: float | None) -> float:
    """Growth moved halfway toward the longer trend, never above ``growth``, never below 0.

    >>> temper_growth(0.25, 0.05)
    0.15
    >>> temper_growth(0.25, None)   # no longer history: toward holding
    0.125
    >>> temper_growth(0.25, 0.60)   # the longer trend is stronger: unchanged
    0.25
    """
    toward = 0.0 if long_trend is None else float(long_trend)
    return round(min(growth, max(0.0, (growth + toward) / 2.0)), 6)


def make_target(target: Mapping[str, Any], baseline: float, n_members: int, index: int, kpi: str,
                growth: float | None = None, season: str = "", season_factor: float = 1.0,
                window_flags: tuple[str, ...] = ()) -> Target:
    """Apply a target rule to a baseline and the rules above.

    Parameters
    ----------
    target : normalised ``{rule, value: [..], min}``; ``value[index]`` is used (last repeated)
    baseline : in the KPI's unit
    n_members : customers served by the map (1 for an individual map)
    index : which value of the list (the n-th deadline of the item)
    kpi : the KPI code (its unit, whether whole, cumulative, computed)
    growth : a tempered growth rate replacing the template's (growth rules only)
    season : the month's seasonal kind (peak, holidays, low; "holidays+peak" for both) or ""
    season_factor : the factor for ``season`` (applied to reach / per_member rules)
    window_flags : seasonal kinds inside the window of a computed KPI (for the label)
    """
    spec = KPIS[kpi]
    rule = target["rule"]
    v = rule_value(target, index)
    labels: list[str] = []
    applied: float | None = None
    if rule == "growth":
        applied = v if growth is None else min(v, growth)
        if applied < v - _EPS:
            labels.append("tempered")
        exact = baseline * (1.0 + applied)
        if applied <= _EPS:
            labels.append("hold")
    elif rule == "hold":
        exact = baseline
        labels.append("hold")
    elif rule == "add":
        exact = baseline + v
    elif rule in ("absolute", "share"):
        exact = v
    elif rule == "reach" or rule == "per_member":
        exact = v * n_members
    else:  # pragma: no cover - validated
        raise ValueError(rule)
    kinds = [k for k in season.split("+") if k in SEASON_KINDS] if season else []
    if rule in SCALED_RULES and kinds and abs(season_factor - 1.0) > _EPS:
        exact *= season_factor
        labels.extend(kinds)
    if target.get("min") is not None:
        exact = max(exact, float(target["min"]))
    if spec.direction == "up" and exact < baseline - _EPS:
        exact = baseline
        labels += ["lifted", "hold"] if "hold" not in labels else ["lifted"]
    if spec.source == "computed":
        labels.append("cumulative" if spec.cumulative else "period")
        if any(f in SEASON_KINDS for f in window_flags):
            labels.append("season_in_baseline")
    exact = float(round(exact, 6))
    value = _round(exact, spec.unit, spec.whole)
    rounding = "up" if spec.whole and value > exact + _EPS else ""
    if not spec.whole:
        exact = value
    if spec.direction == "up" and abs(value - baseline) <= _EPS and "hold" not in labels:
        labels.append("hold")  # a target equal to its baseline is a hold, whatever rule gave it (6 -> 6)
    return Target(baseline=float(baseline), exact=exact, value=value, rounding=rounding,
                  growth=applied, labels=tuple(dict.fromkeys(labels)))


def compute_target(target: Mapping[str, Any], baseline: float, n_members: int, index: int, kpi: str) -> float:
    """The target value of :func:`make_target` (in the KPI's unit)."""
    return make_target(target, baseline, n_members, index, kpi).value


def baseline_window(plan_start: str, deadline: str, report_month: str) -> tuple[str, str]:
    """The past window a checkpoint's baseline is measured over.

    The checkpoint window is ``plan_start .. deadline``; the baseline takes the same calendar
    months whole years earlier, the latest such window ending at or before ``report_month``.
    """
    gap = (pd.Period(deadline, "M") - pd.Period(report_month, "M")).n
    years = max(1, math.ceil(gap / 12))
    return _add_months(plan_start, -12 * years), _add_months(deadline, -12 * years)


def measure_baseline(kpi: str, ledger: pd.DataFrame, members: list[str], plan_start: str, deadline: str,
                     report_month: str, lines: pd.DataFrame | None = None) -> tuple[float, tuple[str, ...]]:
    """The baseline of a computed KPI and its labels (``before_selection`` / ``selection_bias``).

    ``lines``: the members' ledger lines when already sliced (``ledger`` is then only used
    for the date the ledger starts).
    """
    spec = KPIS[kpi]
    if spec.baseline == "zero":
        return 0.0, ()
    lines = ledger if lines is None else lines
    lo, hi = baseline_window(plan_start, deadline, report_month)
    if spec.baseline == "before_selection":
        early_lo, early_hi = _add_months(lo, -12), _add_months(hi, -12)
        start = pd.Period(early_lo, "M").start_time
        dates = pd.to_datetime(ledger[C.DATE]) if len(ledger) else pd.Series(dtype="datetime64[ns]")
        if len(dates) and dates.min() <= start:
            first = pd.to_datetime(lines[C.DATE]).groupby(lines[C.CUSTOMER_ID].astype("string")).min()
            cohort = [m for m in members if m in first.index and first[m] < start]
            if cohort:
                value = compute_kpi(kpi, lines, cohort, early_lo, early_hi)
                return _round(value, spec.unit, False), ("before_selection",)
        value = compute_kpi(kpi, lines, members, lo, hi)
        return _round(value, spec.unit, False), ("selection_bias",)
    return _round(compute_kpi(kpi, lines, members, lo, hi), spec.unit, False), ()


def _baseline(kpi: str, target: Mapping[str, Any], members: list[str], deadline: str,
              ctx: _Context, lines: pd.DataFrame) -> tuple[float, tuple[str, ...]]:
    spec = KPIS[kpi]
    if spec.source == "entered":
        return float(target.get("baseline") or 0.0), ()
    key = (kpi, tuple(members), ctx.months[0], deadline)
    if key not in ctx.cache:
        ctx.cache[key] = measure_baseline(kpi, ctx.ledger, members, ctx.months[0], deadline,
                                          ctx.report_month, lines)
    return ctx.cache[key]


def _recompute_baseline(kpi: str, m: Mapping[str, Any], deadline: str, ledger: pd.DataFrame,
                        report_month: str) -> float:
    return measure_baseline(kpi, ledger, list(m["members"]), m["months"][0], deadline, report_month)[0]


def group_jump(segments: pd.DataFrame, members: list[str], lines: pd.DataFrame, report_month: str,
               threshold: float) -> dict[str, Any] | None:
    """Whether a group was picked by a recent jump, and its longer trend.

    Returns None when fewer than ``JUMP_MAJORITY`` of the members' revenue comes from
    customers whose half-year ``trend`` (segments) is at or above ``threshold``; else
    ``{share, recent, long}``: that revenue share, the group's revenue in the last 6
    months on the 6 before minus 1, and the last 12 months on the 12 before minus 1 (None
    when the ledger does not reach 24 months back).
    """
    if "trend" not in segments.columns or C.REVENUE not in segments.columns or not members:
        return None
    seg = segments[segments[C.CUSTOMER_ID].astype("string").isin(pd.Index(members))]
    revenue = pd.to_numeric(seg[C.REVENUE], errors="coerce").fillna(0.0).clip(lower=0.0)
    trend = pd.to_numeric(seg["trend"], errors="coerce")
    total = float(revenue.sum())
    if total <= 0:
        return None
    share = float(revenue[(trend >= threshold - _EPS).fillna(False)].sum()) / total
    if share < JUMP_MAJORITY - _EPS:
        return None
    end = pd.Period(report_month, "M")
    month = pd.to_datetime(lines[C.DATE]).dt.to_period("M")
    amount = pd.to_numeric(lines[C.AMOUNT], errors="coerce").fillna(0.0)

    def total_of(first: int, last: int) -> float:  # months back from the report month, inclusive
        return float(amount[(month >= end - first) & (month <= end - last)].sum())

    prev6, last6 = total_of(11, 6), total_of(5, 0)
    recent = last6 / prev6 - 1.0 if prev6 > 0 else None
    covered = len(month) and month.min() <= end - 23
    prev12, last12 = total_of(23, 12), total_of(11, 0)
    long = last12 / prev12 - 1.0 if covered and prev12 > 0 else None
    return {"share": share, "recent": recent, "long": long}
