"""Key accounts, their grades and the kind of development map each customer follows."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.segment._util import _EPS

KA_GRADES = ("gold", "silver", "bronze")


def _key_accounts(frame: pd.DataFrame, ka: dict[str, Any]) -> pd.DataFrame:
    """Key accounts, grades and the kind of development map.

    Key accounts: the largest customers (revenue > 0) making up to ``cum_share`` of revenue,
    with the same crossing rule as ABC (the customer crossing the line is in). Grades by
    share: gold >= gold_share, silver >= silver_share, else bronze.
    Individual map: a key account ranked within the top ``individual_top`` of the base
    (rank <= ceil(individual_top x customers)) whose potential >= individual_potential_ratio
    x revenue or who shows prospects; at most ``individual_per_manager`` per manager (the
    customers without a manager share one pool), the most promising first: biggest
    potential - revenue (unknown potential last), then revenue, then customer_id. The rest
    of those: map_candidate = True, map = 'group'. Everyone else: 'group'.
    """
    revenue = frame["revenue"].to_numpy(dtype=float)
    share = frame["revenue_share"].to_numpy(dtype=float)
    before = frame["cum_share"].to_numpy(dtype=float) - np.where(revenue > 0, share, 0.0)
    key = (revenue > 0) & (before < float(ka["cum_share"]) - _EPS)
    grade = np.select([~key, share >= float(ka["gold_share"]) - _EPS, share >= float(ka["silver_share"]) - _EPS],
                      ["", "gold", "silver"], "bronze").astype(str)
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
    return frame.assign(key_account=key, ka_grade=grade,
                        map=np.where(individual, "individual", "group").astype(str),
                        map_candidate=candidate)
