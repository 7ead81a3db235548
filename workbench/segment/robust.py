"""Which verdicts survive counting new and lost customers differently.

A verdict a director is asked to act on must not be an artefact of who is counted. The
tier mix carries its own check (``tier_mix``: every way of counting new one-off and lost
customers). The other verdicts that depend on the population are recomputed here on the
base without the new customers and on the base without the lost ones:

* concentration: top-1 / top-5 / top-10 above their thresholds, mono-client;
* the KAM load: more key accounts than the managers can carry (key accounts regraded on
  the smaller base).

Not checked, by nature: the revenue bridge (it *is* the split into new, lost and the
rest: its verdict is the change of total revenue, whoever is counted where), the sleeping
customers (never new, never lost).

The same rules as ``summaries.concentration``, ``key_accounts.ka_grades`` and
``key_accounts.kam_load``, on plain arrays: the workshop reruns the segmentation at every
slider move, three populations at a time.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench.segment._util import _EPS
from workbench.segment.tiers import shown_share

VERDICTS = ("top1_high", "top5_high", "top10_high", "mono_client", "kam_short")


def verdicts(revenue: np.ndarray, value: np.ndarray, id_rank: np.ndarray, manager: np.ndarray, buying: np.ndarray,
             s: dict[str, Any]) -> dict[str, bool]:
    """The population-dependent verdicts of one population, as VERDICTS names them.

    revenue, value (what the grades rank on: profit or revenue), id_rank (tie-break), manager
    (integer codes, -1 = none), buying (bought in the window): one entry per customer.
    """
    conc, ka = s["concentration"], s["key_accounts"]
    out: dict[str, bool] = {}
    pos = np.sort(revenue[revenue > 0])[::-1]
    total = float(pos.sum())
    for k in (1, 5, 10):
        share = float(pos[:k].sum()) / total if total > 0 else 0.0
        out[f"top{k}_high"] = bool(total > 0 and shown_share(share) >= float(conc[f"top{k}_high"]) - _EPS)
    v_total = float(value[value > 0].sum())
    out["mono_client"] = bool(v_total > 0 and float(value.max()) / v_total > float(conc["mono_client_share"]) + _EPS)
    # gold: the cumulative share before the customer below cum_share (value desc, ties by id)
    order = np.lexsort((id_rank, -value))
    v = value[order]
    share = np.where(v > 0, v, 0.0) / v_total if v_total > 0 else np.zeros(len(v))
    before = np.cumsum(share) - share
    gold = order[(v > 0) & (before < float(ka["cum_share"]) - _EPS)]
    size = int(manager.max(initial=-1)) + 2            # code -1 (no manager) goes to the last slot
    per = np.bincount(np.where(manager[gold] >= 0, manager[gold], size - 1), minlength=size)
    managers = int((np.bincount(manager[buying & (manager >= 0)], minlength=size) > 0).sum())
    kam_max = int(ka["kam_max"])
    needed = math.ceil(len(gold) / kam_max) if len(gold) else 0
    out["kam_short"] = bool(needed > managers or (per[:-1] > kam_max).any())
    return out


def robustness(frame: pd.DataFrame, s: dict[str, Any], basis: str) -> dict[str, bool]:
    """For each verdict in VERDICTS: True when it is the same on the whole base, without the
    new customers (lifecycle) and without the lost ones."""
    revenue = frame["revenue"].to_numpy(dtype=float)
    value = frame["profit" if basis == "profit" else "revenue"].to_numpy(dtype=float)
    id_rank = frame["_id_rank"].to_numpy() if "_id_rank" in frame.columns else \
        frame["customer_id"].astype(str).to_numpy(dtype=object)
    manager = pd.factorize(frame["manager"].astype("string").fillna("").str.strip().replace("", pd.NA))[0]
    buying = frame["orders"].to_numpy() > 0
    life = frame["lifecycle"].to_numpy()

    def on(mask: np.ndarray) -> dict[str, bool]:
        return verdicts(revenue[mask], value[mask], id_rank[mask], manager[mask], buying[mask], s)

    whole = on(np.ones(len(frame), dtype=bool))
    variants = [on(life != stage) for stage in ("new", "lost")]
    return {k: all(v[k] == whole[k] for v in variants) for k in VERDICTS}
