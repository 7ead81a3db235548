"""Tables derived from the customers: the ABC-XYZ matrix, concentration, action lists, thresholds."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.i18n import t
from workbench.segment._util import _EPS
from workbench.segment.classes import ABC_CLASSES, XYZ_CLASSES


def abc_xyz_matrix(frame: pd.DataFrame, lang: str = "ru") -> pd.DataFrame:
    """The ABC-XYZ matrix, tidy: one row per cell (A..C x X, Y, Z, N; empty cells included).

    Columns: abc, xyz, customers (count), revenue (currency), revenue_share (of positive
    revenue), action (recommended action, text in ``lang``).
    """
    # Cell number = 4 x ABC index + XYZ index; counted with bincount (no grouping on text).
    abc_i = pd.Categorical(frame["abc"], categories=list(ABC_CLASSES)).codes.astype(np.int64)
    xyz_i = pd.Categorical(frame["xyz"], categories=list(XYZ_CLASSES)).codes.astype(np.int64)
    cell = abc_i * len(XYZ_CLASSES) + xyz_i
    size = len(ABC_CLASSES) * len(XYZ_CLASSES)
    g = pd.DataFrame({
        "abc": np.repeat(list(ABC_CLASSES), len(XYZ_CLASSES)),
        "xyz": np.tile(list(XYZ_CLASSES), len(ABC_CLASSES)),
        "customers": np.bincount(cell, minlength=size).astype(np.int64),
        "revenue": np.bincount(cell, weights=frame["revenue"].to_numpy(dtype=float), minlength=size),
    })
    total = float(frame.loc[frame["revenue"] > 0, "revenue"].sum())
    g["revenue_share"] = g["revenue"] / total if total > 0 else 0.0
    actions = t("segment.cell_action", lang)
    g["action"] = (g["abc"] + g["xyz"]).map(actions).astype("string")
    return g


def concentration(frame: pd.DataFrame, conc: dict[str, Any], value: str = "revenue") -> dict[str, Any]:
    """Revenue concentration over customers with positive revenue, in words a B2B base needs.

    Parameters
    ----------
    frame : customers with customer_id, revenue (and revenue_rank, the ABC order; and
        ``value``, the column the key accounts are graded on: revenue or profit).
    conc : the ``concentration`` settings: mono_client_share, top1_high, top5_high, top10_high.

    Returns
    -------
    dict: top1_share, top5_share, top10_share (0..1 of positive revenue); top1_high,
    top5_high, top10_high (bool: the share *as shown*, one decimal of a percent, reaches its
    threshold, so the words never contradict the number); hhi = sum of (share x 100)^2
    (0..10000, a secondary figure: a market-structure index, not a customer-risk scale);
    mono_client (the largest customer by ``value`` brings more than mono_client_share of the
    positive ``value``: source 002 speaks of profit); mono_share (that share);
    top1_customer_id; positive_customers.
    """
    from workbench.segment.tiers import shown_share

    positive = (frame["revenue"] > 0).to_numpy()
    pos = frame.loc[positive, ["customer_id", "revenue"]]
    if "revenue_rank" in frame.columns:   # already known: the ABC order
        pos = pos.iloc[np.argsort(frame.loc[positive, "revenue_rank"].to_numpy(), kind="stable")]
    elif "_id_rank" in frame.columns:     # revenue desc, ties by customer_id through its rank
        pos = pos.iloc[np.lexsort((frame.loc[positive, "_id_rank"].to_numpy(), -pos["revenue"].to_numpy()))]
    else:
        pos = pos.sort_values(["revenue", "customer_id"], ascending=[False, True], kind="stable")
    total = float(pos["revenue"].sum())
    out: dict[str, Any] = {"top1_share": 0.0, "top5_share": 0.0, "top10_share": 0.0, "hhi": 0.0,
                           "top1_high": False, "top5_high": False, "top10_high": False,
                           "mono_client": False, "mono_share": 0.0, "top1_customer_id": "",
                           "positive_customers": 0}
    if total <= 0:
        return out
    shares = pos["revenue"].to_numpy() / total
    for k in (1, 5, 10):
        share = float(shares[:k].sum())
        out[f"top{k}_share"] = share
        out[f"top{k}_high"] = bool(shown_share(share) >= float(conc[f"top{k}_high"]) - _EPS)
    v = frame[value].to_numpy(dtype=float) if value in frame.columns else frame["revenue"].to_numpy(dtype=float)
    v_total = float(v[v > 0].sum())
    mono = float(v.max()) / v_total if v_total > 0 else 0.0
    out.update({"hhi": float(((shares * 100) ** 2).sum()), "mono_share": mono,
                "mono_client": bool(mono > float(conc["mono_client_share"]) + _EPS),
                "top1_customer_id": str(pos["customer_id"].iloc[0]), "positive_customers": len(pos)})
    return out


LIST_COLUMNS = {
    "key_accounts": ["customer_id", "customer_name", "manager", "revenue", "revenue_share", "profit",
                     "ka_value_share", "tier", "abc_xyz", "lifecycle", "map", "state_customer", "potential"],
    "sleeping_to_wake": ["customer_id", "customer_name", "manager", "wake_value", "revenue_per_month_before",
                         "wake_chance", "last_purchase", "recency_days", "days_to_lost", "near_lost",
                         "median_gap_days", "tier"],
    "strategic_to_grow": ["customer_id", "customer_name", "manager", "revenue", "potential", "headroom",
                          "trend", "headcount", "abc_xyz", "tier_reason", "map"],
}


def action_lists(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three action lists.

    key_accounts: the gold customers, by the grading value's share desc (the order of the
        grades), then revenue.
    sleeping_to_wake: sleeping customers by what can realistically come back per month
        (wake_value = revenue_per_month_before x wake_chance, see ``lifecycle``), desc; the
        ones close to the lost line are flagged (near_lost).
    strategic_to_grow: strategic customers by headroom (potential - revenue; unknown last),
        then revenue desc.
    """
    # rows first, then only the list's columns, then the sort (never a copy of the whole table)
    ka = frame.loc[frame["key_account"].to_numpy(dtype=bool), LIST_COLUMNS["key_accounts"]]
    ka = ka.sort_values(["ka_value_share", "revenue", "customer_id"], ascending=[False, False, True], kind="stable")
    sl = frame.loc[(frame["lifecycle"] == "sleeping").to_numpy(), LIST_COLUMNS["sleeping_to_wake"]]
    sl = sl.sort_values(["wake_value", "customer_id"], ascending=[False, True], kind="stable")
    cols = [c for c in LIST_COLUMNS["strategic_to_grow"] if c != "headroom"]
    st = frame.loc[(frame["tier"] == "strategic").to_numpy(), cols]
    st = st.assign(headroom=st["potential"] - st["revenue"])
    st = st.assign(_h=st["headroom"].fillna(-np.inf)).sort_values(
        ["_h", "revenue", "customer_id"], ascending=[False, False, True], kind="stable")
    return {
        "key_accounts": ka.reset_index(drop=True),
        "sleeping_to_wake": sl.reset_index(drop=True),
        "strategic_to_grow": st[LIST_COLUMNS["strategic_to_grow"]].reset_index(drop=True),
    }


def xyz_dominance(abc_xyz: pd.DataFrame, limit: float = 0.80) -> pd.DataFrame:
    """Rows of the ABC-XYZ matrix where one XYZ class holds more than ``limit`` of the row.

    Such a row says little about its customers' rhythm (the rule may not suit the base).
    Columns: abc, xyz (the dominant class), customers (in it), row_customers, share.
    Customers with too little history (N) are left out of the row.
    """
    m = abc_xyz[abc_xyz["xyz"] != "N"]
    counts = m["customers"].to_numpy().reshape(len(ABC_CLASSES), -1)    # rows A, B, C x classes X, Y, Z
    row_total = counts.sum(axis=1, keepdims=True)
    share = counts / np.maximum(row_total, 1)
    hit = (row_total > 0) & (share > limit + _EPS)
    r, k = np.nonzero(hit)
    xyz = [x for x in XYZ_CLASSES if x != "N"]
    return pd.DataFrame({"abc": [ABC_CLASSES[i] for i in r], "xyz": [xyz[j] for j in k],
                         "customers": counts[r, k].astype(np.int64), "row_customers": row_total[r, 0].astype(np.int64),
                         "share": share[r, k]})


def _thresholds_used(s: dict[str, Any], window_start: pd.Timestamp, month_end: pd.Timestamp,
                     xyz_attrs: dict[str, Any], n: int) -> dict[str, Any]:
    """Flat ``{key path: value}`` of the settings used plus the derived values."""
    flat: dict[str, Any] = {}
    for key, value in s.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = v
        else:
            flat[key] = value
    flat["window.start"] = window_start.date().isoformat()
    flat["window.end"] = month_end.date().isoformat()
    flat["xyz.min_periods_used"] = int(xyz_attrs.get("min_periods_used", 0))
    flat["xyz.periods_in_window"] = int(xyz_attrs.get("periods_in_window", 0))
    flat["key_accounts.individual_top_customers"] = math.ceil(
        float(s["key_accounts"]["individual_top"]) * n - _EPS)
    return flat
