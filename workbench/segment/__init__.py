"""Segmenting the client base: ABC, XYZ, RFM, lifecycle, tiers, key accounts, concentration.

Pure functions over DataFrames: nothing here reads or writes a file. The rules and their
defaults come from the ``segmentation:`` section of ``engagement.yaml`` (sources: the
articles 002 and 003 in ``shared/seeds``; see ``shared/DOMAIN.md`` §1).

The analysis is made **as of the end of the reporting month**: transactions dated after
it are ignored; the *window* is the last ``window_months`` calendar months ending with the
reporting month. History before the window still counts for a customer's first purchase,
its rhythm (sleeping) and the revenue of the previous window (trend).

Everything is computed on whole columns (integer customer codes, ``np.bincount``,
``groupby``, ``rank``, ``np.select``); there is no Python loop over customers or rows.

Interpretations (where the brief leaves room), stated once here and in each function:

* **revenue** is the net amount in the window (returns reduce it; a customer may end at
  zero or below). **revenue_share** is revenue divided by the sum of the *positive*
  revenues (equal to total net revenue unless some customer is net negative), so that
  the shares of the customers who bring money add up to 100 %.
* **orders**: distinct documents; rows without a document count one order per
  (customer, date). Return rows are not orders.
* a customer is *known* when it has at least one ledger row up to the month end; rows of
  the customers file without any purchase yet are not part of the base.
* RFM scores: ties share one score (the score of their average rank), so equal
  recency/frequency/value never get different scores depending on customer_id.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.segment._util import _merged_settings, _month_bounds
from workbench.segment.classes import ABC_CLASSES, RFM_SEGMENTS, XYZ_CLASSES, _rfm, _xyz, abc_classes
from workbench.segment.key_accounts import KA_GRADES, _key_accounts
from workbench.segment.ledger import _aggregate, _customer_frame
from workbench.segment.lifecycle import LIFECYCLES, _lifecycle
from workbench.segment.summaries import (
    LIST_COLUMNS,
    _thresholds_used,
    abc_xyz_matrix,
    action_lists,
    concentration,
)
from workbench.segment.tiers import TIERS, _tiers, tier_mix

SEGMENTS_CSV_COLUMNS = C.SEGMENTS_COLUMNS  # the documented columns of segments.csv, in order


@dataclass(frozen=True)
class SegmentationResult:
    """Everything the segmentation decided, as of the end of ``month``.

    customers: one row per known customer (see :func:`segment` for the columns), sorted by
        revenue desc then customer_id.
    abc_xyz: tidy matrix ``abc, xyz, customers, revenue, revenue_share, action``.
    tier_mix: ``tier, customers, share, healthy_low, healthy_high, status, explanation, lost``.
    concentration: ``top1_share, top5_share, hhi, mono_client, top1_customer_id``.
    lists: ``key_accounts``, ``sleeping_to_wake``, ``strategic_to_grow`` (DataFrames).
    thresholds: the values used (settings plus derived ones such as the window).
    month: the reporting month ``YYYY-MM``; window: (start, end) ISO dates, inclusive.
    lang: the language of the text columns (tier_reason, action, explanation).
    """

    customers: pd.DataFrame
    abc_xyz: pd.DataFrame
    tier_mix: pd.DataFrame
    concentration: dict[str, Any]
    lists: dict[str, pd.DataFrame]
    thresholds: dict[str, Any]
    month: str
    window: tuple[str, str]
    lang: str = "ru"
    totals: dict[str, Any] = field(default_factory=dict)



# --------------------------------------------------------------------------- the analysis
def segment(ledger: pd.DataFrame, customers: pd.DataFrame | None, settings: dict[str, Any] | None,
            month: str, lang: str = "ru") -> SegmentationResult:
    """Segment the client base as of the end of ``month``.

    Parameters
    ----------
    ledger : DataFrame
        ``workbench.columns.LEDGER_COLUMNS`` (customer_id, customer_name, inn, date, amount
        [currency, negative = return], manager, document, is_return, ...). Not modified.
    customers : DataFrame or None
        ``CUSTOMERS_COLUMNS`` (customer_id, industry, headcount [employees], manager,
        potential [currency per year], ...). Optional; not modified.
    settings : dict
        The ``segmentation`` section of engagement.yaml; missing keys take the documented
        defaults of ``templates/engagement.yaml``.
    month : str
        Reporting month ``YYYY-MM``.
    lang : str
        ``ru`` | ``en``: language of the text columns.

    Returns
    -------
    SegmentationResult
        ``customers`` has one row per customer with a ledger row up to the month end:
        SEGMENTS_COLUMNS plus inn, manager, industry, headcount, potential, orders
        (in the window), purchase_days (distinct days with a purchase, all history), revenue_prev (previous window,
        currency), trend (last half-window vs the half before, 0.10 = +10 %), avg_check
        (revenue / orders), cum_share, xyz_cv, xyz_periods, recency_days (days from the last
        purchase to the month end), median_gap_days, first_purchase, last_purchase,
        prospects (bool), prospect_source ('potential' | 'signals'), tier_reason (text),
        ka_grade, map_candidate, revenue_per_month_before (history revenue per active month).

    Rules
    -----
    ABC: sorted by revenue desc, ties by customer_id; A = cumulative share *before* the
    customer < a (the customer crossing the line stays A), B = before < a + b, else C;
    revenue <= 0 -> C. XYZ: population CV of revenue per period (month / rolling quarter
    counted back from the reporting month) over the periods from the later of the window
    start and the first purchase; fewer than ``min_periods`` such periods -> N (the
    requirement is capped by the periods the window holds, and never below 2);
    mean <= 0 -> Z; X <= x < Y <= y < Z. RFM, lifecycle, tiers, key accounts and maps:
    see the helper functions below.
    """
    s = _merged_settings(settings)
    month_start, next_start = _month_bounds(month, lang)
    month_end = next_start - pd.Timedelta(days=1)
    window_months = int(s["window_months"])
    window_start = month_start - pd.DateOffset(months=window_months - 1)

    base = _aggregate(ledger, next_start, window_months, s, lang)
    n = len(base["customer_id"])
    frame = _customer_frame(base, customers, n)

    abc_part = abc_classes(frame["revenue"], frame["customer_id"], s["abc"]["a"], s["abc"]["b"])
    frame = pd.concat([frame, abc_part], axis=1)
    xyz_part = _xyz(base, s["xyz"], window_months)
    for col in ("xyz", "xyz_cv", "xyz_periods"):
        frame[col] = xyz_part[col]
    frame["abc_xyz"] = frame["abc"] + frame["xyz"]
    frame = _rfm(frame, int(s["rfm"]["bins"]))
    frame = _lifecycle(frame, s["lifecycle"])
    frame = _tiers(frame, s["tiers"], lang)
    frame = _key_accounts(frame, s["key_accounts"])

    order = np.argsort(frame["revenue_rank"].to_numpy())
    frame = frame.iloc[order].reset_index(drop=True).drop(columns=["first_back"])
    lead = [c for c in C.SEGMENTS_COLUMNS]
    frame = frame[lead + [c for c in frame.columns if c not in lead]]

    total_positive = float(frame.loc[frame["revenue"] > 0, "revenue"].sum())
    thresholds = _thresholds_used(s, window_start, month_end, xyz_part.attrs, n)
    return SegmentationResult(
        customers=frame,
        abc_xyz=abc_xyz_matrix(frame, lang),
        tier_mix=tier_mix(frame, s["healthy_mix"], lang),
        concentration=concentration(frame, s["concentration"]["mono_client_share"]),
        lists=action_lists(frame),
        thresholds=thresholds,
        month=month,
        window=(window_start.date().isoformat(), month_end.date().isoformat()),
        lang=lang,
        totals={"revenue": float(frame["revenue"].sum()), "revenue_positive": total_positive,
                "customers": n, "active": int((frame["orders"] > 0).sum())},
    )


def segments_csv_frame(res: SegmentationResult, lang: str = "ru") -> pd.DataFrame:
    """The table behind segments.csv: the documented columns first, codes untranslated.

    Columns: customer_id, customer_name, revenue, revenue_share, abc, xyz, abc_xyz, rfm_r,
    rfm_f, rfm_m, rfm_segment, lifecycle, tier, key_account, map, then inn, manager, orders,
    xyz_cv, cum_share, recency_days, ka_grade, map_candidate, first_purchase, last_purchase,
    revenue_prev, avg_check, headcount, potential, industry, tier_reason (text in res.lang).
    ``lang`` is accepted for symmetry; codes never depend on it.
    """
    extras = ["inn", "manager", "orders", "xyz_cv", "cum_share", "recency_days", "ka_grade",
              "map_candidate", "first_purchase", "last_purchase", "revenue_prev", "avg_check",
              "headcount", "potential", "industry", "tier_reason"]
    return res.customers[list(C.SEGMENTS_COLUMNS) + extras].copy()


__all__ = [
    "ABC_CLASSES",
    "KA_GRADES",
    "LIFECYCLES",
    "LIST_COLUMNS",
    "RFM_SEGMENTS",
    "TIERS",
    "XYZ_CLASSES",
    "SegmentationResult",
    "abc_classes",
    "abc_xyz_matrix",
    "action_lists",
    "concentration",
    "segment",
    "segments_csv_frame",
    "tier_mix",
]
