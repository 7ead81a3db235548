"""Targets and baselines of the checkpoints."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from workbench.kpis import KPIS, compute_kpi
from workbench.maps.common import _add_months, _Context


def _round(value: float, unit: str) -> float:
    if unit == "count":
        return float(math.ceil(round(value, 6)))
    if unit == "currency":
        return float(round(value, 2))
    return float(round(value, 4))


def compute_target(target: Mapping[str, Any], baseline: float, n_members: int, index: int, unit: str) -> float:
    """Apply a target rule to a baseline.

    target : normalised ``{rule, value: [..], min}``; ``value[index]`` is used (last repeated)
    baseline : in the KPI's unit
    n_members : customers served by the map (1 for an individual map)
    Returns the target in the KPI's unit (counts rounded up, money to cents).
    """
    values = target["value"]
    v = values[min(index, len(values) - 1)]
    rule = target["rule"]
    if rule == "growth":
        out = baseline * (1.0 + v)
    elif rule == "hold":
        out = baseline
    elif rule == "add":
        out = baseline + v
    elif rule in ("absolute", "share"):
        out = v
    elif rule == "reach":
        out = math.ceil(round(v * n_members, 6))
    elif rule == "per_member":
        out = v * n_members
    else:  # pragma: no cover - validated
        raise ValueError(rule)
    if target.get("min") is not None:
        out = max(out, float(target["min"]))
    return _round(float(out), unit)


def baseline_window(plan_start: str, deadline: str, report_month: str) -> tuple[str, str]:
    """The past window a checkpoint's baseline is measured over.

    The checkpoint window is ``plan_start .. deadline``; the baseline takes the same calendar
    months whole years earlier, the latest such window ending at or before ``report_month``.
    """
    gap = (pd.Period(deadline, "M") - pd.Period(report_month, "M")).n
    years = max(1, math.ceil(gap / 12))
    return _add_months(plan_start, -12 * years), _add_months(deadline, -12 * years)


def _baseline(kpi: str, target: Mapping[str, Any], members: list[str], deadline: str,
              ctx: _Context, lines: pd.DataFrame) -> float:
    spec = KPIS[kpi]
    if spec.source == "entered":
        return float(target.get("baseline") or 0.0)
    if spec.baseline == "zero":
        return 0.0
    lo, hi = baseline_window(ctx.months[0], deadline, ctx.report_month)
    key = (kpi, tuple(members), lo, hi)
    if key not in ctx.cache:
        ctx.cache[key] = _round(compute_kpi(kpi, lines, members, lo, hi), spec.unit)
    return ctx.cache[key]


# --- one map -------------------------------------------------------------------------


def _recompute_baseline(kpi: str, m: Mapping[str, Any], deadline: str, ledger: pd.DataFrame,
                        report_month: str) -> float:
    spec = KPIS[kpi]
    if spec.baseline == "zero":
        return 0.0
    lo, hi = baseline_window(m["months"][0], deadline, report_month)
    return _round(compute_kpi(kpi, ledger, m["members"], lo, hi), spec.unit)
