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
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.segment.key_accounts import ka_grades, kam_load
from workbench.segment.summaries import concentration

VERDICTS = ("top1_high", "top5_high", "top10_high", "mono_client", "kam_short")


def verdicts(frame: pd.DataFrame, s: dict[str, Any], basis: str) -> dict[str, bool]:
    """The population-dependent verdicts on ``frame`` (customers), as VERDICTS names them.

    Shares and grades are recomputed on the rows given (revenue_rank is not used).
    """
    value = "profit" if basis == "profit" else "revenue"
    conc = concentration(frame.drop(columns=["revenue_rank"], errors="ignore"), s["concentration"], value)
    ka = s["key_accounts"]
    graded = ka_grades(frame[value], frame["customer_id"], float(ka["cum_share"]), float(ka["silver_cum_share"]),
                       frame["_id_rank"].to_numpy() if "_id_rank" in frame.columns else None)
    _, kam = kam_load(frame.assign(key_account=(graded["ka_grade"] == "gold").to_numpy()), int(ka["kam_max"]))
    return {"top1_high": conc["top1_high"], "top5_high": conc["top5_high"], "top10_high": conc["top10_high"],
            "mono_client": conc["mono_client"],
            "kam_short": bool(kam["kam_shortfall"] > 0 or kam["managers_over"] > 0)}


def robustness(frame: pd.DataFrame, s: dict[str, Any], basis: str) -> dict[str, bool]:
    """For each verdict in VERDICTS: True when it is the same on the whole base, without the
    new customers (lifecycle) and without the lost ones."""
    # only the columns the verdicts read: subsetting the whole table would copy every text column
    cols = [c for c in ("customer_id", "revenue", "profit", "manager", "orders", "lifecycle", "_id_rank")
            if c in frame.columns]
    frame = frame[cols]
    whole = verdicts(frame, s, basis)
    life = frame["lifecycle"]
    variants = [verdicts(frame[life != stage].reset_index(drop=True), s, basis) for stage in ("new", "lost")]
    return {k: all(v[k] == whole[k] for v in variants) for k in VERDICTS}
