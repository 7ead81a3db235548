"""The client's sales funnel from a CRM deal export (pure measures over the deals table).

Input: the canonical deals table (``workbench.columns.DEALS_COLUMNS``, one row per deal,
``outcome`` won / lost / open, open stages numbered 1..n per pipeline in funnel order), the
stage table, the stage history when the client sent one (``DEAL_HISTORY_COLUMNS``) and the
segments (``customer_id``, ``tier``). Every figure is stated for the **analysis window**:
the ``window_months`` months up to and including the reporting month.

Definitions (each also said in the report):

* **Open stages now**: the open deals of the export (a snapshot as of its date), counted
  and summed per stage, in funnel order. Amounts in the client's currency; a deal without
  an amount counts with 0.
* **Win rate**: among deals *closed* in the window, won / (won + lost); the **average won
  deal** is the won amount / won deals. By manager, by source and by segment (the
  customer's tier; ``new``: a customer not in the segmented base yet, a prospect;
  ``none``: a deal with neither company nor contact).
* **Lost reasons**: lost deals closed in the window by reason («» when none was given),
  ranked by the amount lost.
* **Stage-to-stage conversion** (needs the stage history): the cohort is the deals created
  in the window; a deal *reached* stage k when its furthest stage is k or later (a won deal
  reached every stage; a skipped stage counts as reached; every deal reached the first).
  Conversion of stage k = reached(k + 1) / reached(k); of the last open stage, won /
  reached(last).
* **Days per stage** (needs the history): for the cohort's deals that left stage k (entered
  another stage or closed), the days between entering and leaving it, summed over visits;
  the median over deals. Dates count to the day (as the import reads them), times of day
  are not used.
* **Stalled deals**: open deals that have sat in their stage longer than ``stalled_factor`` x
  the stage's usual time. Time in stage is measured from the last entry into the stage
  (history), else from the deal's last modification, else its creation; the usual time is
  the stage's median days per stage (history), else the median time in stage of the
  stage's open deals now.
* **Monthly funnel KPIs** of the reporting month (stored in the history each month, one row
  per segment and ``all``): new deals (created in the month), won and lost deals and the win
  rate (closed in the month), conversion (won share of the deals created in the window),
  pipeline amount (open deals now).

Without a stage history the export shows each deal's current stage only: conversion from
stage to stage and days per stage cannot be worked out (a lost deal's last stage is not
known); ``FunnelResult.supports`` says which figures the data supports.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.funnel import measures as M
from workbench.funnel.codes import NAT, SEGMENTS, encode, encode_history, segment_codes
from workbench.funnel.measures import (
    CONVERSION_COLUMNS,
    DIMENSIONS,
    LOST_COLUMNS,
    MONTHLY_COLUMNS,
    STAGE_COLUMNS,
    STALLED_COLUMNS,
    WIN_COLUMNS,
)

SEGMENT_NEW = "new"    # a customer not in the segmented base (a prospect)
SEGMENT_NONE = "none"  # a deal with neither company nor contact
FIGURES = ("open_stages", "win_rate", "avg_won", "lost_reasons", "stalled", "new_deals", "conversion",
           "stage_days")
NEEDS_HISTORY = ("conversion", "stage_days")

@dataclass(frozen=True)
class FunnelResult:
    """The funnel measures of one reporting month (see the module docstring for each).

    stages: ``STAGE_COLUMNS``, the open stages now per pipeline in funnel order
    conversion: ``CONVERSION_COLUMNS`` (empty without a stage history)
    win_rates: ``WIN_COLUMNS``, one row per (dimension, value); dimension manager | source |
        segment; sorted by dimension then closed deals (desc)
    lost_reasons: ``LOST_COLUMNS``, by amount lost (desc); share of the amount lost
    stalled: ``STALLED_COLUMNS``, by amount (desc); since = the date time in stage counts from
    monthly: ``MONTHLY_COLUMNS``, the reporting month's KPIs per segment and ``all``
    totals: window figures: deals, won, lost, open, won_amount, lost_amount, open_amount,
        win_rate, avg_won, cycle_days (median created -> won), new_deals, stalled, stalled_amount
    supports: figure -> True when the data supports it (``FIGURES``)
    """

    month: str
    window_start: str
    as_of: str
    has_history: bool
    main_pipeline: str
    stages: pd.DataFrame
    conversion: pd.DataFrame
    win_rates: pd.DataFrame
    lost_reasons: pd.DataFrame
    stalled: pd.DataFrame
    monthly: pd.DataFrame
    totals: dict[str, float] = field(default_factory=dict)
    supports: dict[str, bool] = field(default_factory=dict)
    stalled_factor: float = 2.0
    time_in_stage_from: str = ""  # history | modified | created
    crm: str = ""                 # the CRM's name as the report shows it (set by the caller)


def month_window(month: str, window_months: int) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """(first day of the window, first day after it, first month 'YYYY-MM')."""
    end = pd.Period(month, "M")
    start = end - (int(window_months) - 1)
    return start.start_time, (end + 1).start_time, str(start)


def deal_segments(deals: pd.DataFrame, segments: pd.DataFrame | None) -> pd.Series:
    """Each deal's segment: the customer's tier, ``new`` (not in the base), ``none`` (no customer)."""
    return pd.Series(np.asarray(SEGMENTS, dtype=object)[segment_codes(deals, segments)], index=deals.index,
                     dtype="str")


def funnel(deals: pd.DataFrame, stages: pd.DataFrame, history: pd.DataFrame | None,
           segments: pd.DataFrame | None, month: str, window_months: int = 12,
           stalled_factor: float = 2.0) -> FunnelResult:
    """Work out the funnel for reporting month ``month`` (pure: the inputs are not modified).

    Parameters
    ----------
    deals : DEALS_COLUMNS (amount float, client currency; dates datetime64)
    stages : DEAL_STAGES_COLUMNS
    history : DEAL_HISTORY_COLUMNS or None (no stage history)
    segments : customer_id, tier (the segmentation of the same month) or None
    month : 'YYYY-MM'
    window_months : months of the analysis window up to ``month``
    stalled_factor : a deal is stalled past this multiple of its stage's usual time

    Returns
    -------
    FunnelResult
    """
    lo, hi, start = month_window(month, window_months)
    d = deals
    x = encode(d)
    lo_ns, hi_ns = np.datetime64(lo, "ns").view(np.int64), np.datetime64(hi, "ns").view(np.int64)
    closed_in = (x.closed != NAT) & (x.closed >= lo_ns) & (x.closed < hi_ns)
    created_in = (x.created != NAT) & (x.created >= lo_ns) & (x.created < hi_ns)
    is_won, is_lost, is_open = x.outcome == 1, x.outcome == 2, x.outcome == 0
    as_of = _as_of(x, hi_ns)
    seg = segment_codes(d, segments)
    has_history = history is not None and len(history) > 0
    h = None
    if has_history:
        order_of = {(str(p), str(s)): int(o) for p, s, o, oc in
                    zip(stages[C.PIPELINE], stages[C.STAGE], stages[C.STAGE_ORDER], stages[C.OUTCOME])
                    if oc == "open"}
        h = encode_history(history, d, x, order_of)
    stage_now = M.open_stages(x)
    conversion = M.conversion(x, h, stages, created_in) if h is not None else M.empty(CONVERSION_COLUMNS)
    usual = {(str(p), str(s)): float(v) for p, s, v in
             zip(conversion[C.PIPELINE], conversion[C.STAGE], conversion["median_days"]) if not pd.isna(v)}
    stalled, from_what = M.stalled(d, x, h, as_of, usual, stalled_factor)
    win_rates = M.win_rates(d, x, seg, closed_in)
    lost = M.lost_reasons(d, x, is_lost & closed_in)
    m_lo, m_hi, _ = month_window(month, 1)
    monthly = M.monthly(x, seg, created_in, np.datetime64(m_lo, "ns").view(np.int64),
                        np.datetime64(m_hi, "ns").view(np.int64), month)
    closed_won = is_won & closed_in
    closed_n = int((closed_in & (is_won | is_lost)).sum())
    cycle = (x.closed[closed_won] - x.created[closed_won])[x.created[closed_won] != NAT] / 86_400e9
    totals = {
        "deals": x.n, "won": int(closed_won.sum()), "lost": int((is_lost & closed_in).sum()),
        "open": int(is_open.sum()), "won_amount": float(x.amount[closed_won].sum()),
        "lost_amount": float(x.amount[is_lost & closed_in].sum()), "open_amount": float(x.amount[is_open].sum()),
        "win_rate": float(closed_won.sum() / closed_n) if closed_n else float("nan"),
        "avg_won": float(x.amount[closed_won].mean()) if closed_won.any() else float("nan"),
        "cycle_days": float(np.median(cycle)) if len(cycle) else float("nan"),
        "new_deals": int(created_in.sum()),
        "stalled": len(stalled), "stalled_amount": float(stalled[C.AMOUNT].fillna(0.0).sum()) if len(stalled) else 0.0,
    }
    supports = {f: (has_history or f not in NEEDS_HISTORY) for f in FIGURES}
    supports["lost_reasons"] = bool(len(lost) and (lost[C.LOST_REASON].astype("str") != "").any())
    supports["win_rate"] = supports["avg_won"] = closed_n > 0
    main = main_pipeline(d)
    return FunnelResult(month=month, window_start=start,
                        as_of=pd.Timestamp(np.int64(as_of).view("datetime64[ns]")).date().isoformat(),
                        has_history=has_history, main_pipeline=main, stages=stage_now, conversion=conversion,
                        win_rates=win_rates, lost_reasons=lost, stalled=stalled, monthly=monthly, totals=totals,
                        supports=supports, stalled_factor=float(stalled_factor), time_in_stage_from=from_what)


# The hourglass stages a CRM funnel spans: a deal exists from the first contact to the sale.
_SPAN = ("contact", "warmup", "sale")


def main_pipeline(deals: pd.DataFrame) -> str:
    """The pipeline most deals are in (the CRM's main funnel; "" without deals)."""
    counts = deals[C.PIPELINE].value_counts(sort=True)
    return str(counts.index[0]) if len(counts) else ""


def cjm_stages(stages: pd.DataFrame, pipeline: str, prefix: str = "deal:") -> list[dict[str, str]]:
    """The CJM's columns from the client's funnel: the open stages of ``pipeline`` in funnel order
    (``stages``: DEAL_STAGES_COLUMNS), as ``cjm.stages`` items (code ``deal:<stage>``, the stage's
    own name in both languages, and the hourglass stage it stands for: the first is the contact,
    the last the sale, those between the warm-up; a single stage is the warm-up)."""
    mine = stages[(stages[C.PIPELINE] == pipeline) & (stages[C.OUTCOME] == "open")].sort_values(C.STAGE_ORDER)
    names = mine[C.STAGE].astype("str").tolist()
    n = len(names)
    out = []
    for i, name in enumerate(names):
        hourglass = "warmup" if n == 1 else (_SPAN[0] if i == 0 else _SPAN[2] if i == n - 1 else _SPAN[1])
        out.append({"code": f"{prefix}{name}", "ru": name, "en": name, "hourglass": hourglass})
    return out


def stage_measures(res: FunnelResult) -> pd.DataFrame:
    """Per open stage of the main pipeline: ``stage``, ``deals`` and ``amount`` now (0 for a stage
    no deal sits in), and with a stage history ``conversion`` (to the next stage) and
    ``median_days`` (NaN without one)."""
    now = res.stages[res.stages[C.PIPELINE] == res.main_pipeline][[C.STAGE, C.STAGE_ORDER, "deals", "amount"]]
    if res.has_history and len(res.conversion):
        conv = res.conversion[res.conversion[C.PIPELINE] == res.main_pipeline][[C.STAGE, C.STAGE_ORDER, "conversion",
                                                                                "median_days"]]
        out = conv.merge(now.drop(columns=C.STAGE_ORDER), on=C.STAGE, how="outer")
        out = out.fillna({"deals": 0, "amount": 0.0})
    else:
        out = now.assign(conversion=np.nan, median_days=np.nan)
    return out.sort_values(C.STAGE_ORDER).reset_index(drop=True)


def _as_of(x: object, hi_ns: int) -> int:
    """The export's date (its latest date), never past the end of the reporting month (ns)."""
    latest = [int(a[a != NAT].max()) for a in (x.created, x.closed, x.modified) if (a != NAT).any()]  # type: ignore[attr-defined]
    end = int(hi_ns) - 10**9
    return min(max(latest), end) if latest else end


__all__ = [
    "CONVERSION_COLUMNS",
    "DIMENSIONS",
    "FIGURES",
    "LOST_COLUMNS",
    "MONTHLY_COLUMNS",
    "NEEDS_HISTORY",
    "SEGMENT_NEW",
    "SEGMENT_NONE",
    "STAGE_COLUMNS",
    "STALLED_COLUMNS",
    "WIN_COLUMNS",
    "FunnelResult",
    "cjm_stages",
    "deal_segments",
    "funnel",
    "main_pipeline",
    "month_window",
    "stage_measures",
]
