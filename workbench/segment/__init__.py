"""Segmenting the client base: the revenue bridge, ABC, XYZ, RFM, lifecycle, tiers, grades and
key accounts, concentration, customer types, and the counts every deliverable shows.

Pure functions over DataFrames: nothing here reads or writes a file. The rules and their
defaults come from the ``segmentation:`` section of ``engagement.yaml`` (sources: the
articles 002 and 003 in ``shared/seeds``; see ``shared/DOMAIN.md`` §1).

The analysis is made **as of the end of the reporting month**: transactions dated after
it are ignored; the *window* is the last ``window_months`` calendar months ending with the
reporting month, the *previous window* the same number of months before it. History before
the window still counts for a customer's first purchase, its rhythm (sleeping), the
previous window's revenue (bridge, trend) and new products (pioneers).

The package follows the steps (one module each): ``ledger`` (per-customer aggregates),
``classes`` (ABC, XYZ, RFM), ``lifecycle``, ``tiers`` (and the tier mix), ``key_accounts``
(grades, KAM load, map kinds), ``customer_types``, ``bridge``, ``summaries`` (matrix,
concentration, lists), ``robust`` (verdicts that survive counting new / lost customers
differently) and ``counts`` (the one set of numbers).

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
  the customers file without any purchase yet are not part of the base (and are counted:
  ``customers_file_no_sales``).
* the **tier mix** counts the customers who bought in the window; lost customers keep the
  tier code ballast but are counted apart; a new customer with one order is typical
  (onboarding), not ballast (``tiers``).
* **one notion** of sleeping and of lost: the ``lifecycle`` column; RFM's segment names are
  RFM's own, and the bridge's "lost" group is the lifecycle's lost.
* verdicts are taken on shares **as shown** (one decimal of a percent), so that the words
  never contradict the number beside them.
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
from workbench.segment.bridge import BRIDGE_GROUPS, bridge_groups, revenue_bridge
from workbench.segment.classes import ABC_CLASSES, RFM_SEGMENTS, XYZ_CLASSES, _rfm, _xyz, abc_classes
from workbench.segment.counts import COUNT_MEANING, count_of, segment_counts
from workbench.segment.customer_types import BREADTH_BANDS, breadth_band, state_customers
from workbench.segment.key_accounts import (
    KA_GRADES,
    _key_accounts,
    grade_basis,
    id_ranks,
    ka_grades,
    kam_load,
)
from workbench.segment.ledger import _aggregate, _customer_frame
from workbench.segment.lifecycle import LIFECYCLES, _lifecycle
from workbench.segment.robust import robustness
from workbench.segment.summaries import (
    LIST_COLUMNS,
    _thresholds_used,
    abc_xyz_matrix,
    action_lists,
    concentration,
    xyz_dominance,
)
from workbench.segment.tiers import MIX_VARIANTS, TIERS, _tiers, shown_share, tier_mix

SEGMENTS_CSV_COLUMNS = C.SEGMENTS_COLUMNS  # the documented columns of segments.csv, in order
# ... followed by these (README, "segments.csv").
SEGMENTS_CSV_EXTRAS = ("ka_grade", "state_customer", "in_mix", "new_one_off", "inn", "manager", "industry",
                       "orders", "products", "pioneer_products", "xyz_regularity", "xyz_cv", "cum_share",
                       "recency_days", "near_lost", "days_to_lost", "wake_value", "profit", "ka_value_share",
                       "map_candidate", "first_purchase", "last_purchase", "revenue_prev", "revenue_change",
                       "bridge", "avg_check", "headcount", "potential", "state_source", "tier_reason")


@dataclass(frozen=True)
class SegmentationResult:
    """Everything the segmentation decided, as of the end of ``month``.

    customers: one row per known customer (see :func:`segment` for the columns), sorted by
        revenue desc then customer_id.
    abc_xyz: tidy matrix ``abc, xyz, customers, revenue, revenue_share, action``.
    tier_mix: the mix over the customers who bought in the window (see :func:`tier_mix`).
    concentration: top-1/5/10 shares and their verdicts, HHI, mono-client (see :func:`concentration`).
    lists: ``key_accounts``, ``sleeping_to_wake``, ``strategic_to_grow`` (DataFrames).
    thresholds: the values used (settings plus derived ones such as the window).
    month: the reporting month ``YYYY-MM``; window: (start, end) ISO dates, inclusive.
    lang: the language of the text columns (tier_reason, action, explanation).
    totals: revenue, revenue_positive, revenue_prev (currency), profit (currency or None),
        grade_basis ('profit' | 'revenue'), grade_by (the setting), margin_rows,
        window_rows, customers, active, has_product (bool), new_products (names of the products
        first sold inside the window), window_prev (start, end).
    bridge: the revenue bridge (see :func:`workbench.segment.bridge.revenue_bridge`).
    counts: every count the deliverables show (see :mod:`workbench.segment.counts`).
    kam: key accounts per manager (see :func:`workbench.segment.key_accounts.kam_load`).
    xyz_dominance: ABC rows where one XYZ class holds more than 80 % of the row.
    robust: for each verdict of :mod:`workbench.segment.robust`, whether it survives leaving
        the new or the lost customers out.
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
    bridge: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    kam: pd.DataFrame = field(default_factory=pd.DataFrame)
    xyz_dominance: pd.DataFrame = field(default_factory=pd.DataFrame)
    robust: dict[str, bool] = field(default_factory=dict)



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
        (in the window), in_mix (bought in the window: counted in the tier mix),
        purchase_days (distinct days with a purchase, all history), revenue_prev
        (previous window, currency), revenue_change (revenue - revenue_prev), bridge (the
        customer's group in the revenue bridge), profit (margin in the window, currency; 0
        without a margin column), trend (last half-window vs the half before, 0.10 = +10 %),
        avg_check (revenue / orders), cum_share, xyz_cv, xyz_regularity, xyz_periods,
        recency_days (days from the last purchase to the month end), median_gap_days,
        first_purchase, last_purchase, sleeping_after_days, days_to_lost, near_lost,
        wake_chance (0..1), wake_value (currency per month), prospects (bool),
        prospect_source ('potential' | 'signals'), new_one_off (bool), tier_reason (text),
        ka_grade (gold | silver | bronze, every customer), ka_value_share, map_candidate,
        state_customer (bool), state_source, products (distinct products bought in the
        window), breadth (band code), pioneer_products, revenue_per_month_before (history
        revenue per active month).

    Rules
    -----
    ABC: sorted by revenue desc, ties by customer_id; A = cumulative share *before* the
    customer < a (the customer crossing the line stays A), B = before < a + b, else C;
    revenue <= 0 -> C. XYZ (:func:`workbench.segment.classes._xyz`): regularity of purchases
    by default, the CV of revenue as an option. Lifecycle, tiers, key accounts, the bridge
    and the customer types: see their modules.
    """
    s = _merged_settings(settings)
    month_start, next_start = _month_bounds(month, lang)
    month_end = next_start - pd.Timedelta(days=1)
    window_months = int(s["window_months"])
    window_start = month_start - pd.DateOffset(months=window_months - 1)

    base = _aggregate(ledger, next_start, window_months, s, lang)
    n = len(base["customer_id"])
    frame = _customer_frame(base, customers, n)

    frame["_id_rank"] = id_ranks(frame["customer_id"])   # one text sort, reused for every tie-break
    abc_part = abc_classes(frame["revenue"], frame["customer_id"], s["abc"]["a"], s["abc"]["b"],
                           frame["_id_rank"].to_numpy())
    frame = pd.concat([frame, abc_part], axis=1)
    xyz_part = _xyz(base, s["xyz"], window_months)
    for col in ("xyz", "xyz_cv", "xyz_regularity", "xyz_periods"):
        frame[col] = xyz_part[col]
    frame["abc_xyz"] = frame["abc"] + frame["xyz"]
    frame["in_mix"] = frame["orders"] > 0
    frame = _rfm(frame, int(s["rfm"]["bins"]))
    frame = _lifecycle(frame, s["lifecycle"])
    frame = _tiers(frame, s["tiers"], lang)
    basis = grade_basis(str(s["key_accounts"]["grade_by"]), base["margin_rows"], base["window_rows"])
    frame = _key_accounts(frame, s["key_accounts"], basis)
    frame = pd.concat([frame, state_customers(frame, s["customer_types"])], axis=1)
    frame["breadth"] = breadth_band(frame["products"])
    frame["bridge"] = bridge_groups(frame)
    frame["revenue_change"] = frame["revenue"] - frame["revenue_prev"]

    order = np.argsort(frame["revenue_rank"].to_numpy())
    frame = frame.iloc[order].reset_index(drop=True).drop(columns=["first_back", "_has_prev", "_has_before"])
    lead = list(C.SEGMENTS_COLUMNS)
    frame = frame[lead + [c for c in frame.columns if c not in lead]]

    total_positive = float(frame.loc[frame["revenue"] > 0, "revenue"].sum())
    thresholds = _thresholds_used(s, window_start, month_end, xyz_part.attrs, n)
    thresholds["key_accounts.grade_basis"] = basis
    mix = tier_mix(frame, s["healthy_mix"], lang)
    kam_table, kam_summary = kam_load(frame, int(s["key_accounts"]["kam_max"]))
    file_ids = customers[C.CUSTOMER_ID] if customers is not None and C.CUSTOMER_ID in customers.columns else None
    matrix = abc_xyz_matrix(frame, lang)
    prev_start = window_start - pd.DateOffset(months=window_months)
    robust = robustness(frame, s, basis)
    bridge = revenue_bridge(frame)
    frame = frame.drop(columns=["_id_rank"])
    return SegmentationResult(
        customers=frame,
        abc_xyz=matrix,
        tier_mix=mix,
        concentration=concentration(frame, s["concentration"], "profit" if basis == "profit" else "revenue"),
        lists=action_lists(frame),
        thresholds=thresholds,
        month=month,
        window=(window_start.date().isoformat(), month_end.date().isoformat()),
        lang=lang,
        totals={"revenue": float(frame["revenue"].sum()), "revenue_positive": total_positive,
                "revenue_prev": float(frame["revenue_prev"].sum()),
                "profit": float(frame["profit"].sum()) if base["margin_rows"] else None,
                "grade_basis": basis, "grade_by": str(s["key_accounts"]["grade_by"]),
                "margin_rows": int(base["margin_rows"]), "window_rows": int(base["window_rows"]),
                "customers": n, "active": int((frame["orders"] > 0).sum()), "has_product": base["has_product"],
                "new_products": list(base["new_products"]),
                "window_prev": (prev_start.date().isoformat(), (window_start - pd.Timedelta(days=1)).date().isoformat())},
        bridge=bridge,
        counts=segment_counts(frame, mix, kam_summary, file_ids),
        kam=kam_table,
        xyz_dominance=xyz_dominance(matrix),
        robust=robust,
    )


def segments_csv_frame(res: SegmentationResult, lang: str = "ru") -> pd.DataFrame:
    """The table behind segments.csv: the documented columns first, codes untranslated.

    Columns: SEGMENTS_COLUMNS (customer_id, customer_name, revenue, revenue_share, abc, xyz,
    abc_xyz, rfm_r, rfm_f, rfm_m, rfm_segment, lifecycle, tier, key_account, map), then
    SEGMENTS_CSV_EXTRAS (tier_reason is text in res.lang).
    ``lang`` is accepted for symmetry; codes never depend on it.
    """
    extras = list(SEGMENTS_CSV_EXTRAS)
    return res.customers[list(C.SEGMENTS_COLUMNS) + extras].copy()


__all__ = [
    "ABC_CLASSES",
    "BREADTH_BANDS",
    "BRIDGE_GROUPS",
    "COUNT_MEANING",
    "KA_GRADES",
    "LIFECYCLES",
    "LIST_COLUMNS",
    "MIX_VARIANTS",
    "RFM_SEGMENTS",
    "SEGMENTS_CSV_EXTRAS",
    "TIERS",
    "XYZ_CLASSES",
    "SegmentationResult",
    "abc_classes",
    "abc_xyz_matrix",
    "action_lists",
    "concentration",
    "count_of",
    "ka_grades",
    "segment",
    "segments_csv_frame",
    "shown_share",
    "tier_mix",
]
