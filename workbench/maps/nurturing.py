"""Nurturing as a programme: who is ready now, from the data, and what each segment receives.

The source (001) says that in a market, at any moment, about 3 % buy, 40 % are open to talk
and 57 % are not ready (Vorsight). That is a rule of thumb about a *market*: it shapes a
nurturing programme (most of the audience needs a long, patient sequence) and is never
multiplied onto a client's own customers. Who is ready here comes from the data:

* **due**: the customer's next order by its own rhythm (at least three orders, the median
  gap between them) falls by the end of the plan's first month, and it is not more than one
  gap overdue at the end of the reporting month;
* **overdue**: the order is more than one own gap late (its rhythm broke: call, do not
  nurture);
* **open deal** / **enquiry**: an open deal, or a deal created in the last ``ENQUIRY_DAYS``
  days, in the CRM deal export (deals are imported later; without them there are none);
* **later**: the next order is due after the first plan month;
* **no rhythm**: fewer than three orders, so no rhythm to read.

The programme per segment (length, steps by week with the funnel stage, the committee role
addressed, the content and the call to action) comes from the CJM template's ``nurturing``
section (:mod:`workbench.cjm`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C

READINESS = ("due", "open_deal", "enquiry", "overdue", "later", "no_rhythm")
READY = ("due", "open_deal", "enquiry")
ENQUIRY_DAYS = 30
MIN_RHYTHM_ORDERS = 3
DEAL_STATUSES = ("open", "won", "lost")
READINESS_COLUMNS = (C.CUSTOMER_ID, C.CUSTOMER_NAME, C.TIER, C.MANAGER, C.REVENUE, "readiness", "due_date")
# at any moment 3 % of a market buy, 40 % are open to talk, 57 % are not ready (001, after Vorsight)
MARKET_RULE_OF_THUMB: tuple[tuple[str, float], ...] = (("buy_now", 0.03), ("open_to_talk", 0.40),
                                                       ("not_ready", 0.57))


def readiness(segments: pd.DataFrame, report_month: str, plan_start: str,
              deals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each customer's readiness (``READINESS_COLUMNS``), vectorised over the segments.

    segments : customer_id, customer_name, tier, manager, revenue, orders,
        median_gap_days, last_purchase, lifecycle (missing columns count as unknown;
        lost customers are left out)
    deals : optional CRM deals, one row per deal: customer_id, status (open | won | lost),
        created (date); None = no deals imported (no open deals, no enquiries)
    due_date : the next order by the customer's rhythm (NaT without one)
    """
    seg = segments
    if C.LIFECYCLE in seg.columns:
        seg = seg[(seg[C.LIFECYCLE].astype("string") != "lost").fillna(True).to_numpy(dtype=bool)]
    n = len(seg)

    def column(name: str, default: Any) -> pd.Series:
        return seg[name] if name in seg.columns else pd.Series([default] * n, index=seg.index)

    orders = pd.to_numeric(column(C.ORDERS, 0), errors="coerce").fillna(0).to_numpy()
    gap = pd.to_numeric(column("median_gap_days", np.nan), errors="coerce").to_numpy(dtype=float)
    last = pd.to_datetime(column(C.LAST_PURCHASE, pd.NaT))
    rhythm = (orders >= MIN_RHYTHM_ORDERS) & (gap > 0) & last.notna().to_numpy()
    due = last + pd.to_timedelta(np.where(rhythm, gap, np.nan), unit="D")
    report_end = pd.Period(report_month, "M").end_time.normalize()
    first_end = pd.Period(plan_start, "M").end_time.normalize()
    late_by = (report_end - due).dt.days.to_numpy(dtype=float)
    state = np.select(
        [~rhythm, rhythm & (late_by > gap), rhythm & (due <= first_end).to_numpy()],
        ["no_rhythm", "overdue", "due"], default="later").astype(object)
    ids = seg[C.CUSTOMER_ID].astype("string")
    if deals is not None and len(deals):
        d = deals.assign(**{C.CUSTOMER_ID: deals[C.CUSTOMER_ID].astype("string")})
        status = d["status"].astype("string").str.lower()
        open_ids = set(d.loc[(status == "open").fillna(False), C.CUSTOMER_ID])
        created = pd.to_datetime(d["created"], errors="coerce") if "created" in d.columns else pd.Series(pd.NaT)
        recent = (created > report_end - pd.Timedelta(days=ENQUIRY_DAYS)).fillna(False).to_numpy(dtype=bool)
        enquiry_ids = set(d.loc[recent, C.CUSTOMER_ID])
        is_open = ids.isin(open_ids).to_numpy(dtype=bool)
        is_enquiry = ids.isin(enquiry_ids).to_numpy(dtype=bool)
        state = np.where(is_open, "open_deal", np.where(is_enquiry & (state != "due"), "enquiry", state))
    return pd.DataFrame({
        C.CUSTOMER_ID: ids.to_numpy(), C.CUSTOMER_NAME: column(C.CUSTOMER_NAME, "").astype("string").to_numpy(),
        C.TIER: column(C.TIER, "").astype("string").to_numpy(), C.MANAGER: column(C.MANAGER, "").astype("string")
        .fillna("").to_numpy(), C.REVENUE: pd.to_numeric(column(C.REVENUE, 0.0), errors="coerce").to_numpy(),
        "readiness": state.astype(str), "due_date": due.to_numpy(),
    }, columns=list(READINESS_COLUMNS))


def readiness_counts(ready: pd.DataFrame, segment_col: str = C.TIER) -> pd.DataFrame:
    """Customers per segment and readiness: ``segment, customers`` then one column per
    ``READINESS`` state (counts sum to ``customers``)."""
    counts = pd.crosstab(ready[segment_col], ready["readiness"]).reindex(columns=list(READINESS), fill_value=0)
    counts.insert(0, "customers", counts.sum(axis=1))
    return counts.rename_axis("segment").reset_index()


__all__ = ["DEAL_STATUSES", "ENQUIRY_DAYS", "MARKET_RULE_OF_THUMB", "READINESS", "READINESS_COLUMNS", "READY",
           "readiness", "readiness_counts"]
