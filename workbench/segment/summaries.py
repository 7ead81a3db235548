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


def concentration(frame: pd.DataFrame, mono_client_share: float) -> dict[str, Any]:
    """Revenue concentration over customers with positive revenue.

    top1_share, top5_share (0..1), hhi = sum of (share x 100)^2 (0..10000; above 2500 is
    highly concentrated), mono_client = top1_share > mono_client_share, top1_customer_id.
    """
    pos = frame.loc[frame["revenue"] > 0, ["customer_id", "revenue"]]
    if "revenue_rank" in frame.columns:   # already known: the ABC order
        pos = pos.iloc[np.argsort(frame.loc[frame["revenue"] > 0, "revenue_rank"].to_numpy(), kind="stable")]
    else:
        pos = pos.sort_values(["revenue", "customer_id"], ascending=[False, True], kind="stable")
    total = float(pos["revenue"].sum())
    if total <= 0:
        return {"top1_share": 0.0, "top5_share": 0.0, "hhi": 0.0, "mono_client": False,
                "top1_customer_id": "", "positive_customers": 0}
    shares = pos["revenue"].to_numpy() / total
    top1 = float(shares[0])
    return {"top1_share": top1, "top5_share": float(shares[:5].sum()),
            "hhi": float(((shares * 100) ** 2).sum()),
            "mono_client": bool(top1 > float(mono_client_share) + _EPS),
            "top1_customer_id": str(pos["customer_id"].iloc[0]), "positive_customers": len(pos)}


LIST_COLUMNS = {
    "key_accounts": ["customer_id", "customer_name", "manager", "revenue", "revenue_share", "ka_grade",
                     "tier", "abc_xyz", "lifecycle", "map", "potential"],
    "sleeping_to_wake": ["customer_id", "customer_name", "manager", "revenue_per_month_before",
                         "last_purchase", "recency_days", "median_gap_days", "purchase_days", "tier"],
    "strategic_to_grow": ["customer_id", "customer_name", "manager", "revenue", "potential", "headroom",
                          "trend", "headcount", "abc_xyz", "tier_reason", "map"],
}


def action_lists(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three action lists.

    key_accounts: key accounts by revenue desc.
    sleeping_to_wake: sleeping customers by what they used to bring per month
        (revenue_per_month_before = history revenue / months from first to last purchase), desc.
    strategic_to_grow: strategic customers by headroom (potential - revenue; unknown last),
        then revenue desc.
    """
    ka = frame.loc[frame["key_account"], LIST_COLUMNS["key_accounts"]].reset_index(drop=True)
    sl = frame.loc[frame["lifecycle"] == "sleeping"]
    sl = sl.sort_values(["revenue_per_month_before", "customer_id"], ascending=[False, True], kind="stable")
    st = frame.loc[frame["tier"] == "strategic"].assign(
        headroom=lambda d: d["potential"] - d["revenue"])
    st = st.assign(_h=st["headroom"].fillna(-np.inf)).sort_values(
        ["_h", "revenue", "customer_id"], ascending=[False, False, True], kind="stable")
    return {
        "key_accounts": ka,
        "sleeping_to_wake": sl[LIST_COLUMNS["sleeping_to_wake"]].reset_index(drop=True),
        "strategic_to_grow": st[LIST_COLUMNS["strategic_to_grow"]].reset_index(drop=True),
    }


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
