"""Gold / silver / bronze over the whole base, key accounts (= gold), the KAM load, map kinds.

Source 002: gold customers are the key accounts (a long relationship, the key part of the
profit); silver ones deserve a closer look, a future gold partner may be among them; bronze
ones, with minimal turnover and profit, are never key. A key account manager handles 1-3
key accounts. The grades rank the *whole base* by value: profit (the ledger's margin) when
every row of the window carries one, revenue otherwise, and the report says which.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.segment._util import _EPS

KA_GRADES = ("gold", "silver", "bronze")


def grade_basis(grade_by: str, margin_rows: int, window_rows: int) -> str:
    """'profit' or 'revenue': what grades the base.

    ``grade_by`` auto: profit when every ledger row of the window has a margin (a partly
    filled margin would rank customers by whichever rows happen to carry one), else revenue.
    ``profit`` asked for but unavailable falls back to revenue (the report says so).
    """
    complete = window_rows > 0 and margin_rows == window_rows
    if grade_by == "revenue" or not complete:
        return "revenue"
    return "profit"


def id_ranks(customer_id: pd.Series) -> np.ndarray:
    """The rank of each customer_id in text order (ints), computed with one sort."""
    rank = np.empty(len(customer_id), dtype=np.int64)
    rank[customer_id.astype("string").argsort().to_numpy()] = np.arange(len(customer_id))
    return rank


def ka_grades(value: pd.Series, customer_id: pd.Series, gold_cum: float, silver_cum: float,
              id_rank: np.ndarray | None = None) -> pd.DataFrame:
    """Gold / silver / bronze by cumulative share of value, with the ABC crossing rule.

    Parameters
    ----------
    value : Series of float (currency: profit or revenue in the window), one per customer.
    customer_id : Series of str (ties are broken by it).
    gold_cum, silver_cum : cumulative shares (0.50, 0.80).
    id_rank : optional, the rank of each customer_id among them (ints): the tie-break without
        comparing strings again.

    Returns
    -------
    DataFrame aligned on the input index: ka_value_share (value / sum of positive values),
    ka_grade: gold when the cumulative share *before* the customer is below ``gold_cum``
    (the customer crossing the line is in), silver below ``silver_cum``, else bronze; a
    value <= 0 is always bronze.
    """
    v = value.to_numpy(dtype=float)
    total = float(v[v > 0].sum())
    if id_rank is None:
        id_rank = id_ranks(customer_id)
    order = np.lexsort((id_rank, -v))   # value desc, ties by customer_id
    share = v / total if total > 0 else np.zeros_like(v)
    sorted_share = np.where(v[order] > 0, share[order], 0.0)
    before = np.empty_like(v)
    before[order] = np.cumsum(sorted_share) - sorted_share
    grade = np.select([v <= 0, before < gold_cum - _EPS, before < silver_cum - _EPS],
                      ["bronze", "gold", "silver"], "bronze")
    return pd.DataFrame({"ka_value_share": share, "ka_grade": grade}, index=value.index)


def _key_accounts(frame: pd.DataFrame, ka: dict[str, Any], basis: str) -> pd.DataFrame:
    """Grades, key accounts and the kind of development map.

    Grades: :func:`ka_grades` on profit (``basis == 'profit'``) or revenue, over every known
    customer. key_account = gold.
    Individual map: a key account ranked within the top ``individual_top`` of the base
    (rank <= ceil(individual_top x customers)) whose potential >= individual_potential_ratio
    x revenue or who shows prospects; at most ``individual_per_manager`` per manager (the
    customers without a manager share one pool), the most promising first: biggest
    potential - revenue (unknown potential last), then revenue, then customer_id. The rest
    of those: map_candidate = True, map = 'group'. Everyone else: 'group'.
    """
    value = frame["profit"] if basis == "profit" else frame["revenue"]
    grades = ka_grades(value, frame["customer_id"], float(ka["cum_share"]), float(ka["silver_cum_share"]),
                       frame["_id_rank"].to_numpy() if "_id_rank" in frame.columns else None)
    key = (grades["ka_grade"] == "gold").to_numpy()
    revenue = frame["revenue"].to_numpy(dtype=float)
    ids = frame["customer_id"].to_numpy(dtype=object)
    rank = frame["revenue_rank"].to_numpy()
    top_n = math.ceil(float(ka["individual_top"]) * len(frame) - _EPS)
    potential = frame["potential"].to_numpy(dtype=float)
    big_potential = ~np.isnan(potential) & (potential > 0) & \
        (potential >= float(ka["individual_potential_ratio"]) * revenue - _EPS * np.abs(revenue))
    deserving = key & (rank <= top_n) & (big_potential | frame["prospects"].to_numpy())

    headroom = np.where(np.isnan(potential), -np.inf, potential - revenue)
    cand = pd.DataFrame({"manager": frame["manager"].astype(str).to_numpy(), "headroom": headroom,
                         "revenue": revenue, "id": ids})[deserving]
    cand = cand.sort_values(["headroom", "revenue", "id"], ascending=[False, False, True], kind="stable")
    place = cand.groupby("manager", sort=False).cumcount()
    individual = np.zeros(len(frame), dtype=bool)
    individual[cand.index[(place < int(ka["individual_per_manager"])).to_numpy()]] = True
    candidate = deserving & ~individual
    return frame.assign(key_account=key, ka_grade=grades["ka_grade"].to_numpy().astype(str),
                        ka_value_share=grades["ka_value_share"].to_numpy(),
                        map=np.where(individual, "individual", "group").astype(str),
                        map_candidate=candidate)


def kam_load(frame: pd.DataFrame, kam_max: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """Key accounts per manager against the KAM norm (002: 1-3 key accounts per KAM).

    Parameters
    ----------
    frame : customers with manager, key_account, orders.
    kam_max : the most key accounts one KAM can handle (3).

    Returns
    -------
    (table, summary). table: one row per manager with a key account or a customer who bought
    in the window: manager ('' = no manager in the data), key_accounts, over (key_accounts -
    kam_max, at least 0; every key account without a manager counts as over), sorted by
    key_accounts desc then manager. summary: key_accounts, managers (distinct non-empty
    managers of the customers who bought in the window), kams_needed
    (ceil(key_accounts / kam_max)), kam_shortfall (max(0, kams_needed - managers)),
    over_limit (sum of over), managers_over (managers above kam_max), unassigned (key
    accounts without a manager).
    """
    manager = frame["manager"].astype("string").fillna("").str.strip()
    codes, names = pd.factorize(manager)
    names = np.asarray(names, dtype=object)
    key = frame["key_account"].to_numpy(dtype=bool)
    active = frame["orders"].to_numpy() > 0
    size = len(names)
    per = np.bincount(codes[key], minlength=size).astype(np.int64)
    buying = np.bincount(codes[active], minlength=size) > 0
    named = names != ""
    shown = (per > 0) | (buying & named)
    table = pd.DataFrame({"manager": names[shown].astype(str), "key_accounts": per[shown]})
    table["over"] = np.where(table["manager"] == "", table["key_accounts"],
                             np.clip(table["key_accounts"] - int(kam_max), 0, None)).astype(np.int64)
    table = table.sort_values(["key_accounts", "manager"], ascending=[False, True], kind="stable").reset_index(drop=True)
    n_key = int(key.sum())
    managers = int((buying & named).sum())
    needed = math.ceil(n_key / int(kam_max)) if n_key else 0
    summary = {"key_accounts": n_key, "managers": managers, "kams_needed": needed,
               "kam_shortfall": max(0, needed - managers), "over_limit": int(table["over"].sum()),
               "managers_over": int((named & (per > int(kam_max))).sum()),
               "unassigned": int(per[~named].sum())}
    return table, summary
