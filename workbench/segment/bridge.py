"""The revenue bridge: this window's revenue against the window before, customer by customer.

A director's first question is "did we grow, and where did the change come from?". The
bridge answers it with one identity: revenue of the previous window + the change of each
group of customers = revenue of this window (net of returns, in the client's currency).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.segment.tiers import TIERS

# Groups in the order the waterfall shows them: gains first, then losses.
BRIDGE_GROUPS = ("new", "returned", "grown", "shrunk", "lost", "other")
TOP_BRIDGE = 10


def bridge_groups(frame: pd.DataFrame) -> np.ndarray:
    """The bridge group of each customer.

    * new: first purchase ever inside this window;
    * returned: bought in this window, not in the previous one, but before it;
    * grown / shrunk: bought in both windows, revenue up / down (equal revenue: ``unchanged``),
      and shrunk also for a customer who bought in the previous window, nothing in this one,
      and is not lost (it sleeps: its revenue fell to zero but the lifecycle keeps it);
    * lost: bought in the previous window, nothing in this one, and lost by the lifecycle
      (the one notion of lost);
    * other: bought in neither window (its change is a late return or correction), and
      ``none`` when nothing changed at all.

    Input columns: revenue, revenue_prev, orders (purchases in this window), lifecycle,
    _has_prev (purchase in the previous window), _has_before (purchase before it).
    """
    now = frame["orders"].to_numpy() > 0
    prev = frame["_has_prev"].to_numpy(dtype=bool)
    before = frame["_has_before"].to_numpy(dtype=bool)
    lost = frame["lifecycle"].to_numpy() == "lost"
    delta = frame["revenue"].to_numpy(dtype=float) - frame["revenue_prev"].to_numpy(dtype=float)
    both = now & prev
    return np.select(
        [now & ~prev & ~before, now & ~prev, both & (delta > 0), both & (delta < 0), both,
         prev & lost, prev, delta != 0],
        ["new", "returned", "grown", "shrunk", "unchanged", "lost", "shrunk", "other"], "none").astype(str)


def revenue_bridge(frame: pd.DataFrame) -> dict[str, Any]:
    """The bridge in three tables plus the two totals.

    Parameters
    ----------
    frame : the segmentation's customers with revenue, revenue_prev (currency), tier,
        lifecycle, bridge (see :func:`bridge_groups`), customer_id, customer_name, in ABC order.

    Returns
    -------
    dict with
      prev, now (float, currency): revenue of the previous window and of this one;
      change (now - prev), change_share (change / prev, NaN when prev <= 0);
      groups: DataFrame group, customers, change (currency; BRIDGE_GROUPS order plus
        ``unchanged``; prev + sum(change) == now);
      by_tier: DataFrame row ('vip' .. 'ballast' for the customers not lost, then 'lost'),
        customers (with any revenue in either window), prev, new, returned, grown, shrunk,
        lost, other, now; each row adds up (prev + changes = now);
      top: the TOP_BRIDGE customers with the largest revenue in either window: customer_id,
        customer_name, tier, lifecycle, revenue_prev, revenue, change, change_share, bridge.
    """
    rev = frame["revenue"].to_numpy(dtype=float)
    prev = frame["revenue_prev"].to_numpy(dtype=float)
    group = frame["bridge"].to_numpy()
    delta = rev - prev
    groups_all = (*BRIDGE_GROUPS, "unchanged")
    codes = pd.Index(list(groups_all)).get_indexer(group)
    seen = codes >= 0
    groups = pd.DataFrame({
        "group": list(groups_all),
        "customers": np.bincount(codes[seen], minlength=len(groups_all)).astype(np.int64),
        "change": np.bincount(codes[seen], weights=delta[seen], minlength=len(groups_all)),
    })

    lifecycle = frame["lifecycle"].to_numpy()
    row = np.where(lifecycle == "lost", "lost", frame["tier"].to_numpy().astype(object))
    rows = [*TIERS, "lost"]
    row_codes = pd.Index(rows).get_indexer(row)
    touched = (rev != 0) | (prev != 0)
    by_tier = pd.DataFrame({"row": rows})
    by_tier["customers"] = np.bincount(row_codes[touched], minlength=len(rows)).astype(np.int64)
    by_tier["prev"] = np.bincount(row_codes, weights=prev, minlength=len(rows))
    for g in BRIDGE_GROUPS:
        mask = group == g
        by_tier[g] = np.bincount(row_codes[mask], weights=delta[mask], minlength=len(rows))
    # "unchanged" customers add nothing; they are in ``customers`` only.
    by_tier["now"] = np.bincount(row_codes, weights=rev, minlength=len(rows))

    size = np.maximum(rev, prev)
    ties = frame["_id_rank"].to_numpy() if "_id_rank" in frame.columns else \
        frame["customer_id"].astype(str).to_numpy(dtype=object)
    order = np.lexsort((ties, -size))
    pick = order[: min(TOP_BRIDGE, int((size > 0).sum()))]
    top = frame[["customer_id", "customer_name", "tier", "lifecycle", "revenue_prev", "revenue",
                 "bridge"]].iloc[pick].reset_index(drop=True)
    top.insert(6, "change", top["revenue"] - top["revenue_prev"])
    with np.errstate(divide="ignore", invalid="ignore"):
        top.insert(7, "change_share", np.where(top["revenue_prev"] > 0, top["change"] / top["revenue_prev"], np.nan))

    total_prev, total_now = float(prev.sum()), float(rev.sum())
    return {"prev": total_prev, "now": total_now, "change": total_now - total_prev,
            "change_share": (total_now - total_prev) / total_prev if total_prev > 0 else float("nan"),
            "groups": groups, "by_tier": by_tier, "top": top}
