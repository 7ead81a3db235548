"""Individual maps from the customer's own data.

An individual map is what differs for one special customer from the map of its segment:
the customer stays in its group map (the segment's mailings, meetings and calendar reach it
too) and its individual map holds only what its own data and the key-account duties add.
The report shows it as a short difference table, not a copy of the group map.

What the data give (each tested by hand in ``tests/test_maps.py``):

* **Cross-sell candidates**: products that at least ``CROSS_SELL_SHARE`` of similar
  customers (same tier and industry; the same tier when fewer than ``MIN_PEERS`` share the
  industry) bought in the analysis window and this customer did not; the three most
  widely bought, each an offer to make.
* **Order rhythm**: the customer's median gap between orders (at least three orders) and
  the date the next order is due; the map expects the orders its own rhythm gives.
* **Trend**: revenue of the last half-window on the half before; a customer picked for a
  jump gets its growth tempered toward its own year-on-year trend (as groups are).
* **Potential**: the share of the manager's potential estimate already reached, where known.
* **Buying committee**: the people known from the contact log, and the roles still missing.

A customer whose data give none of these (no cross-sell candidate, no rhythm, no known
potential, no contacts, no jump) has no individual content: no individual map is drafted
and it follows its group map (the report says so).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.kpis import month_bounds
from workbench.maps.common import segment_value

CROSS_SELL_SHARE = 0.30
MIN_PEERS = 5
MAX_CROSS_SELL = 3
MIN_RHYTHM_ORDERS = 3
COMMITTEE_SLOTS = ("champion", "decision_maker", "blocker", "influencer")
CONTENT_KEYS = ("cross_sell", "rhythm", "potential", "committee", "jump")


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(x) else x


def cross_sell(ledger: pd.DataFrame, segments: pd.DataFrame, customer_ids: Sequence[str], window: tuple[str, str],
               share: float = CROSS_SELL_SHARE, min_peers: int = MIN_PEERS,
               limit: int = MAX_CROSS_SELL) -> dict[str, list[dict[str, Any]]]:
    """Cross-sell candidates of each customer in ``customer_ids``.

    Returns ``{customer_id: [{product, peer_share, peers}]}``, the most widely bought first
    (ties: product name). ``window`` = (first, last month) of the analysis window. Empty
    lists without a ``product`` column.
    """
    out: dict[str, list[dict[str, Any]]] = {str(c): [] for c in customer_ids}
    if C.PRODUCT not in ledger.columns or not len(ledger) or not out:
        return out
    lo, hi = month_bounds(*window)
    dates = pd.to_datetime(ledger[C.DATE])
    lines = ledger[(dates >= lo) & (dates < hi) & (ledger[C.AMOUNT] > 0)]
    product = lines[C.PRODUCT].astype("string").fillna("").str.strip()
    bought = pd.DataFrame({"cid": lines[C.CUSTOMER_ID].astype("string"), "product": product})
    bought = bought[bought["product"] != ""].drop_duplicates()
    seg = segments.assign(**{C.CUSTOMER_ID: segments[C.CUSTOMER_ID].astype("string")}).set_index(C.CUSTOMER_ID)
    tier = seg[C.TIER].astype("string").fillna("") if C.TIER in seg.columns else pd.Series("", index=seg.index)
    industry = seg[C.INDUSTRY].astype("string").fillna("") if C.INDUSTRY in seg.columns \
        else pd.Series("", index=seg.index)
    buyers = pd.Index(bought["cid"].unique())
    for cid in out:
        if cid not in seg.index:
            continue
        same_tier = tier.index[(tier == tier[cid]) & tier.index.isin(buyers)].difference([cid])
        peers = same_tier[(industry[same_tier] == industry[cid]).to_numpy()] if industry[cid] else same_tier[:0]
        if len(peers) < min_peers:
            peers = same_tier
        if len(peers) < min_peers:
            continue
        counts = bought[bought["cid"].isin(peers)].groupby("product").size() / len(peers)
        own = set(bought.loc[bought["cid"] == cid, "product"])
        counts = counts[(counts >= share - 1e-9) & ~counts.index.isin(list(own))]
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        out[cid] = [{"product": str(p), "peer_share": float(s), "peers": len(peers)} for p, s in ranked]
    return out


def customer_profiles(segments: pd.DataFrame, ledger: pd.DataFrame, customer_ids: Sequence[str], report_month: str,
                      window_months: int = 12, committee: pd.DataFrame | None = None,
                      jump_threshold: float = 0.30) -> dict[str, dict[str, Any]]:
    """The individual facts of each customer (see the module docstring).

    Returns ``{customer_id: profile}``; a profile holds customer_id, customer_name, manager,
    tier, industry, revenue, revenue_prev, trend, orders, gap_days, last_purchase,
    next_due (Timestamp or None), potential, potential_share, cross_sell (list),
    committee (list of {contact, position, role}), missing_roles, jump (bool), and
    ``content``: the kinds of individual content found (``CONTENT_KEYS``).
    """
    ids = [str(c) for c in customer_ids]
    seg = segments.assign(**{C.CUSTOMER_ID: segments[C.CUSTOMER_ID].astype("string")}).set_index(C.CUSTOMER_ID)
    first = str(pd.Period(report_month, "M") - (window_months - 1))
    sells = cross_sell(ledger, segments, ids, (first, report_month))
    out: dict[str, dict[str, Any]] = {}
    for cid in ids:
        if cid not in seg.index:
            continue
        get = partial(segment_value, seg.loc[cid])

        orders = int(_num(get(C.ORDERS)) or 0)
        gap = _num(get("median_gap_days"))
        last = pd.Timestamp(get(C.LAST_PURCHASE)) if get(C.LAST_PURCHASE) is not None else None
        rhythm = gap is not None and gap > 0 and orders >= MIN_RHYTHM_ORDERS and last is not None
        revenue, potential = _num(get(C.REVENUE)) or 0.0, _num(get(C.POTENTIAL))
        trend = _num(get("trend"))
        people: list[dict[str, str]] = []
        if committee is not None and len(committee):
            mine = committee[committee[C.CUSTOMER_ID].astype("string") == cid]
            people = [{"contact": str(r["contact"]), "position": str(r["position"]), "role": str(r["role"])}
                      for r in mine.to_dict("records")]
        known = {p["role"] for p in people if p["role"]}
        profile = {
            "customer_id": cid, "customer_name": str(get(C.CUSTOMER_NAME) or cid),
            "manager": str(get(C.MANAGER) or ""), "tier": str(get(C.TIER) or ""),
            "industry": str(get(C.INDUSTRY) or ""), "revenue": revenue,
            "revenue_prev": _num(get("revenue_prev")), "trend": trend, "orders": orders,
            "gap_days": gap if rhythm else None, "last_purchase": last,
            "next_due": last + pd.Timedelta(days=float(gap)) if rhythm and gap is not None and last is not None
            else None,
            "potential": potential,
            "potential_share": revenue / potential if potential and potential > 0 else None,
            "cross_sell": sells.get(cid, []), "committee": people,
            "missing_roles": [r for r in COMMITTEE_SLOTS if r not in known],
            "jump": trend is not None and trend >= jump_threshold - 1e-9,
        }
        flags = {"cross_sell": bool(profile["cross_sell"]), "rhythm": bool(rhythm),
                 "potential": profile["potential_share"] is not None, "committee": bool(people),
                 "jump": bool(profile["jump"])}
        profile["content"] = [k for k in CONTENT_KEYS if flags[k]]
        out[cid] = profile
    return out


def own_trend(lines: pd.DataFrame, report_month: str) -> float | None:
    """Year-on-year revenue change of one customer (last 12 months on the 12 before); None
    when the ledger does not reach 24 months back or the earlier year is empty."""
    if not len(lines):
        return None
    end = pd.Period(report_month, "M")
    month = pd.to_datetime(lines[C.DATE]).dt.to_period("M")
    amount = pd.to_numeric(lines[C.AMOUNT], errors="coerce").fillna(0.0)
    if month.min() > end - 23:
        return None
    prev = float(amount[(month >= end - 23) & (month <= end - 12)].sum())
    last = float(amount[(month >= end - 11) & (month <= end)].sum())
    return last / prev - 1.0 if prev > 0 else None


def rhythm_orders(last_purchase: pd.Timestamp, gap_days: float, plan_start: str, deadline: str) -> int:
    """Orders the customer's own rhythm gives from the plan start to the deadline: the due
    dates ``last_purchase + k x gap`` (k = 1, 2, ...) falling inside the window. A whole
    number, so nothing is rounded."""
    lo, hi = month_bounds(plan_start, deadline)
    step = pd.Timedelta(days=float(gap_days))
    first_k = max(1, int(np.ceil((lo - last_purchase) / step - 1e-9)))
    last_k = int(np.ceil((hi - last_purchase) / step - 1e-9)) - 1
    return max(0, last_k - first_k + 1)


def difference_rows(individual: Mapping[str, Any], group: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """What the individual map changes or adds to its group map, one row per item key:
    ``{key, kind ("changed" | "added"), activity, kpi, group (the group map's activity with
    the same KPI, or None), first (the item's first occurrence), occurrences}``."""
    group_by_kpi: dict[str, Mapping[str, Any]] = {}
    for a in (group or {}).get("activities", []):
        if a["kpi"] and a.get("section") == "checkpoint":
            group_by_kpi.setdefault(a["kpi"], a)
    rows: dict[str, dict[str, Any]] = {}
    for a in individual["activities"]:
        if a["key"] in rows:
            rows[a["key"]]["occurrences"] += 1
            continue
        same = group_by_kpi.get(a["kpi"]) if a["kpi"] and a.get("section") == "checkpoint" else None
        rows[a["key"]] = {"key": a["key"], "kind": "changed" if same else "added", "activity": a["activity"],
                          "kpi": a["kpi"], "group": same, "first": a, "occurrences": 1}
    return list(rows.values())


__all__ = [
    "COMMITTEE_SLOTS",
    "CONTENT_KEYS",
    "CROSS_SELL_SHARE",
    "MIN_PEERS",
    "cross_sell",
    "customer_profiles",
    "difference_rows",
    "own_trend",
    "rhythm_orders",
]
