"""Lifecycle stage: new, active, sleeping, lost: the one notion of each used everywhere.

Every other part of the workbench that speaks of sleeping or lost customers (the tier mix,
the revenue bridge, the action lists, the maps and the CJM) reads the ``lifecycle`` column
decided here. RFM has segment names of its own («hibernating», «lost», ...): they rank
customers against each other and are not this lifecycle.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

LIFECYCLES = ("new", "active", "sleeping", "lost")


def _lifecycle(frame: pd.DataFrame, lc: dict[str, Any]) -> pd.DataFrame:
    """Lifecycle stage: new | active | sleeping | lost, judged as of the month end.

    * lost: silent more than ``lost_days``, or a customer without a rhythm (fewer than
      ``sleeping_min_orders`` purchase days in all history) who bought nothing in the window;
    * sleeping: at least ``sleeping_min_orders`` purchase days and silent longer than
      max(``sleeping_min_days``, ``sleeping_factor`` x its own median gap between purchase
      days): each customer is judged against its own rhythm. Two orders on one day are one
      visit and add no gap;
    * new: first purchase within the last ``new_months`` calendar months (this one
      included): being onboarded, it has not yet had the chance to reorder;
    * active: the rest. Checked in this order.

    Added columns: lifecycle, sleeping_after_days (the customer's own limit, days),
    days_to_lost (lost_days - recency_days, sleeping customers only), near_lost (sleeping
    and days_to_lost <= ``near_lost_days``), wake_chance and wake_value (below).

    What a sleeping customer can realistically bring back: ``wake_chance`` falls linearly
    from 1 on the day the customer crosses its own sleeping limit to 0 at the lost line
    (recent silence weighs more than long silence; at the lost line we count on nothing),
    and ``wake_value`` = revenue_per_month_before x wake_chance (currency per month). It is
    a ranking rule stated in plain words, not a forecast.
    """
    silence = frame["recency_days"].to_numpy(dtype=float)
    gap = frame["median_gap_days"].to_numpy(dtype=float)
    limit = np.maximum(float(lc["sleeping_min_days"]),
                       np.where(np.isnan(gap), 0.0, float(lc["sleeping_factor"]) * gap))
    has_rhythm = frame["purchase_days"].to_numpy() >= int(lc["sleeping_min_orders"])
    lost_days = float(lc["lost_days"])
    lost = (silence > lost_days) | (~has_rhythm & (frame["orders"].to_numpy() == 0))
    sleeping = has_rhythm & (silence > limit) & ~lost
    new = frame["first_back"].to_numpy() < int(lc["new_months"])
    stage = np.select([lost, sleeping, new], ["lost", "sleeping", "new"], "active")

    to_lost = np.where(sleeping, lost_days - silence, np.nan)
    span = np.maximum(lost_days - limit, 1.0)
    chance = np.where(sleeping, np.clip((lost_days - silence) / span, 0.0, 1.0), np.nan)
    per_month = frame["revenue_per_month_before"].to_numpy(dtype=float)
    return frame.assign(lifecycle=stage.astype(str), sleeping_after_days=limit, days_to_lost=to_lost,
                        near_lost=sleeping & (to_lost <= float(lc["near_lost_days"])),
                        wake_chance=chance, wake_value=np.where(sleeping, np.clip(per_month, 0, None) * chance,
                                                                np.nan))
