"""Lifecycle stage: new, active, sleeping, lost: the one notion of each used everywhere."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

LIFECYCLES = ("new", "active", "sleeping", "lost")


def _lifecycle(frame: pd.DataFrame, lc: dict[str, Any]) -> pd.DataFrame:
    """Lifecycle stage: new | active | sleeping | lost, judged as of the month end.

    * lost: silent more than ``lost_days``, or a customer without a rhythm (fewer than
      ``sleeping_min_orders`` purchases in all history) who bought nothing in the window;
    * sleeping: at least ``sleeping_min_orders`` purchases and silent longer than
      max(``sleeping_min_days``, ``sleeping_factor`` x its own median gap between purchase
      days): each customer is judged against its own rhythm. Purchases are counted as
      distinct days with a purchase: two orders on one day are one visit and add no gap;
    * new: first purchase within the last ``new_months`` calendar months (this one included);
    * active: the rest. Checked in this order.
    """
    silence = frame["recency_days"].to_numpy(dtype=float)
    gap = frame["median_gap_days"].to_numpy(dtype=float)
    limit = np.maximum(float(lc["sleeping_min_days"]),
                       np.where(np.isnan(gap), 0.0, float(lc["sleeping_factor"]) * gap))
    has_rhythm = frame["purchase_days"].to_numpy() >= int(lc["sleeping_min_orders"])
    lost = (silence > float(lc["lost_days"])) | (~has_rhythm & (frame["orders"].to_numpy() == 0))
    sleeping = has_rhythm & (silence > limit)
    new = frame["first_back"].to_numpy() < int(lc["new_months"])
    stage = np.select([lost, sleeping, new], ["lost", "sleeping", "new"], "active")
    return frame.assign(lifecycle=stage.astype(str), sleeping_after_days=limit)
