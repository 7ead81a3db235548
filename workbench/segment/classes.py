"""ABC by revenue, XYZ by the rhythm of purchases, RFM scores and named RFM segments."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.segment._util import _EPS, _score

ABC_CLASSES = ("A", "B", "C")
XYZ_CLASSES = ("X", "Y", "Z", "N")
KA_GRADES = ("gold", "silver", "bronze")
RFM_SEGMENTS = ("champions", "loyal", "potential_loyalists", "new", "promising", "need_attention",
                "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost")
# The common R x F map of named segments on a 5-point scale: row = R - 1, column = F - 1.
# (Hibernating is [1-2][1-2] in the usual regex map; its worst corner, R=1 F=1, is "lost".)
_RFM_MAP = np.array([
    ["lost", "hibernating", "at_risk", "at_risk", "cant_lose"],
    ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
    ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    ["promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"],
    ["new", "potential_loyalists", "potential_loyalists", "champions", "champions"],
], dtype=object)


def abc_classes(revenue: pd.Series, customer_id: pd.Series, a: float, b: float,
                id_rank: np.ndarray | None = None) -> pd.DataFrame:
    """ABC class per customer by cumulative revenue share.

    Parameters
    ----------
    revenue : Series of float (currency), one per customer; customer_id : Series of str.
    a, b : the A and B shares (0.80, 0.15).
    id_rank : optional, the rank of each customer_id in text order (ints), for the tie-break.

    Returns
    -------
    DataFrame aligned on the input index: revenue_share (revenue / sum of positive revenue),
    cum_share (cumulative share in ABC order, including the customer), abc ('A'|'B'|'C'),
    revenue_rank (1 = largest; the ABC order).

    The order is revenue desc, ties by customer_id. A customer is A when the cumulative share
    *before* it is below ``a`` (so the customer crossing 80 % stays A, unlike inventorize),
    B when it is below ``a + b``; revenue <= 0 is always C. Comparisons allow 1e-9 for
    floating sums (0.1 + 0.7 reaches 0.8).
    """
    rev = revenue.to_numpy(dtype=float)
    ties = id_rank if id_rank is not None else customer_id.astype(str).to_numpy(dtype=object)
    positive_total = float(rev[rev > 0].sum())
    order = np.lexsort((ties, -rev))
    share = rev / positive_total if positive_total > 0 else np.zeros_like(rev)
    cum_sorted = np.cumsum(np.where(rev[order] > 0, share[order], 0.0))
    before_sorted = cum_sorted - np.where(rev[order] > 0, share[order], 0.0)
    cum = np.empty_like(cum_sorted)
    before = np.empty_like(before_sorted)
    cum[order], before[order] = cum_sorted, before_sorted
    rank = np.empty(len(rev), dtype=np.int64)
    rank[order] = np.arange(1, len(rev) + 1)
    abc = np.select([rev <= 0, before < a - _EPS, before < a + b - _EPS], ["C", "A", "B"], "C")
    return pd.DataFrame({"revenue_share": share, "cum_share": cum, "abc": abc, "revenue_rank": rank},
                        index=revenue.index)


def _xyz(base: dict[str, Any], xyz: dict[str, Any], window_months: int) -> pd.DataFrame:
    """XYZ class: how regularly a customer buys (default) or, as an option, how stable its revenue is.

    Why regularity is the default. The 10 % / 25 % CV limits come from stock planning, where
    a period's demand is summed over many buyers. On one customer's *monthly* revenue they
    make nearly everyone Z: a customer buying equal amounts in 11 of 12 months has CV 0.30,
    so BX, BY, CX and CY are empty by construction and a rule such as ``prospect_cells: [BX,
    BY]`` can never fire (measured on the demo: A 33 / 9 / 59, B and C all Z). A B2B customer's
    order size follows its projects and how it batches orders; what a sales plan relies on is
    whether it comes back period after period. The share of periods with a purchase says that
    in words the room understands ("buys in 10 of 12 months"), lies in 0..1 whatever the
    amounts, and is not thrown by one large order. Measured on the demo, regularity with
    X >= 75 % and Y >= 50 % splits A into 80 / 20 / 1 and B into 15 / 43 / 28 (the quarterly CV
    with 25 % / 50 % gives A 62 / 31 / 8 but rests on four numbers a year, too few for a
    spread). Amount volatility is still reported (``xyz_cv``) and ``method: cv`` restores
    the old rule.

    Periods (month, or rolling quarter counted back from the reporting month) run from the
    later of the window start and the customer's first purchase up to the reporting month.

    * ``method: regularity``: regularity = periods with a purchase / those periods;
      X >= ``regular_x``, Y >= ``regular_y``, else Z.
    * ``method: cv``: CV = population std / mean of revenue per period (periods without
      purchases count as zero); X <= ``x``, Y <= ``y``, else Z; mean <= 0 -> Z.

    Either way, fewer periods than ``min_periods`` (capped by the periods the window holds,
    never below 2) -> 'N' (too little history). Returns xyz, xyz_cv (NaN for N),
    xyz_regularity (0..1, NaN for N), xyz_periods.
    """
    per = base["per_period"]
    n_periods = base["n_periods"]
    plen = 3 if xyz["period"] == "quarter" else 1
    own = np.minimum(base["first_back"] // plen, n_periods - 1) + 1  # periods since first purchase
    mask = np.arange(n_periods)[None, :] < own[:, None]
    mean = (per * mask).sum(axis=1) / own
    var = (((per - mean[:, None]) * mask) ** 2).sum(axis=1) / own
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, np.sqrt(var) / mean, np.nan)
    regularity = (base["bought_in_period"] & mask).sum(axis=1) / own
    need = max(2, min(int(xyz["min_periods"]), n_periods))
    short = own < need
    if xyz.get("method", "regularity") == "cv":
        cls = np.select([short, ~(mean > 0), cv <= xyz["x"] + _EPS, cv <= xyz["y"] + _EPS],
                        ["N", "Z", "X", "Y"], "Z")
    else:
        cls = np.select([short, regularity >= float(xyz["regular_x"]) - _EPS,
                         regularity >= float(xyz["regular_y"]) - _EPS], ["N", "X", "Y"], "Z")
    out = pd.DataFrame({"xyz": cls, "xyz_cv": np.where(short, np.nan, cv),
                        "xyz_regularity": np.where(short, np.nan, regularity), "xyz_periods": own})
    out.attrs = {"min_periods_used": need, "periods_in_window": n_periods}
    return out


def _rfm(frame: pd.DataFrame, bins: int) -> pd.DataFrame:
    """RFM scores 1..bins (bins = best) and the named segment.

    R = days from the last purchase to the month end (fewer is better), F = orders in the
    window, M = revenue in the window. Scores are rank-based quantiles among customers with
    an order in the window (ties share the score of their average rank); customers with no
    order in the window get R = F = M = 1 and the segment 'lost'. The named segment comes
    from the common R x F map on a 5-point scale (scores rescaled when bins != 5).
    """
    active = frame["orders"].to_numpy() > 0
    r = _score(frame["recency_days"].to_numpy(dtype=float), active, bins, higher_is_better=False)
    f = _score(frame["orders"].to_numpy(dtype=float), active, bins, higher_is_better=True)
    m = _score(frame["revenue"].to_numpy(dtype=float), active, bins, higher_is_better=True)
    r5 = np.clip(np.ceil(r * 5 / bins - _EPS), 1, 5).astype(np.int64)
    f5 = np.clip(np.ceil(f * 5 / bins - _EPS), 1, 5).astype(np.int64)
    named = np.where(active, _RFM_MAP[r5 - 1, f5 - 1], "lost")
    return frame.assign(rfm_r=r, rfm_f=f, rfm_m=m, rfm_segment=named.astype(str))
