"""Which key accounts a KAM can carry now, and which wait for one.

The segmentation grades the whole base and makes every gold customer a key account (source
002); it also checks the KAM load: a key account manager handles 1-3 key accounts, and the
demo's 40 key accounts need 14 KAMs where the data name 6 managers. A plan that gave every
key account a dossier, the contact rules and an individual map would hand each manager seven
key accounts' work on top of their customers. So the plan carries, per manager, at most
``kam_max`` key accounts (``segmentation.key_accounts.kam_max``) and lists the rest as
**waiting for a KAM**: they stay in their tier's group map, and the report names them, their
number and why, so that nothing is dropped silently.

Who is carried (one rule, decided here only):

* a key account whose customers file or ledger names no manager waits: nobody can carry it
  (the segmentation counts it over the norm too);
* per manager, key accounts with an individual map (``segments.map == 'individual'``) first
  (they are the most promising ones the segmentation picked), then by their share of the
  base's value (``ka_value_share``: profit or revenue, as the grades were made; revenue when
  the column is missing), then customer_id; the first ``kam_max`` are carried.

The number waiting equals the segmentation's ``kam.over_limit`` (key accounts over the norm
per manager, plus those without a manager).
"""
from __future__ import annotations

import pandas as pd

from workbench import columns as C

WAITING_COLUMNS = (C.CUSTOMER_ID, C.CUSTOMER_NAME, C.MANAGER, C.TIER, C.REVENUE, "ka_value_share",
                   "state_customer", "deserves_map", "reason")
WAITING_REASONS = ("over", "no_manager")


def kam_capacity(segments: pd.DataFrame, kam_max: int | None) -> tuple[list[str], pd.DataFrame]:
    """The key accounts a KAM carries in this plan, and those waiting for a KAM.

    Parameters
    ----------
    segments : one row per customer: customer_id, key_account (bool), manager, map, and where
        present customer_name, tier, revenue (currency), ka_value_share (0..1),
        state_customer, map_candidate.
    kam_max : key accounts one manager carries (1-3, source 002); None = no limit (every key
        account with or without a manager is carried, as before the KAM norm was checked).

    Returns
    -------
    (carried, waiting). carried: customer ids, ordered by manager then priority. waiting:
    ``WAITING_COLUMNS``, most valuable first: reason ``over`` (the manager already carries
    ``kam_max``) or ``no_manager``; deserves_map (an individual map is due once a KAM takes it:
    ``map == 'individual'`` or ``map_candidate``).
    """
    seg = segments.reset_index(drop=True)
    key = seg[C.KEY_ACCOUNT].astype("boolean").fillna(False).to_numpy(dtype=bool) \
        if C.KEY_ACCOUNT in seg.columns else pd.Series(False, index=seg.index).to_numpy()
    ids = seg[C.CUSTOMER_ID].astype("string").fillna("")
    manager = seg[C.MANAGER].astype("string").fillna("").str.strip() if C.MANAGER in seg.columns \
        else pd.Series("", index=seg.index, dtype="string")
    individual = (seg[C.MAP].astype("string") == "individual").fillna(False) if C.MAP in seg.columns \
        else pd.Series(False, index=seg.index)
    value_col = "ka_value_share" if "ka_value_share" in seg.columns else C.REVENUE
    value = pd.to_numeric(seg[value_col], errors="coerce").fillna(0.0) if value_col in seg.columns \
        else pd.Series(0.0, index=seg.index)
    rank = pd.DataFrame({"manager": manager, "individual": individual.astype(bool), "value": value, "id": ids})[key]
    rank = rank.sort_values(["manager", "individual", "value", "id"], ascending=[True, False, False, True],
                            kind="stable")
    place = rank.groupby("manager", sort=False).cumcount()
    carry = pd.Series(True, index=rank.index) if kam_max is None \
        else (rank["manager"] != "") & (place < int(kam_max))
    carried = rank.index[carry.to_numpy(dtype=bool)]
    wait = rank.index[~carry.to_numpy(dtype=bool)]

    def column(name: str, default: object) -> pd.Series:
        return seg[name] if name in seg.columns else pd.Series(default, index=seg.index)

    deserves = individual | column(C.MAP_CANDIDATE, False).astype("boolean").fillna(False)
    waiting = pd.DataFrame({
        C.CUSTOMER_ID: ids, C.CUSTOMER_NAME: column(C.CUSTOMER_NAME, "").astype("string").fillna(""),
        C.MANAGER: manager, C.TIER: column(C.TIER, "").astype("string").fillna(""),
        C.REVENUE: pd.to_numeric(column(C.REVENUE, 0.0), errors="coerce").fillna(0.0),
        "ka_value_share": pd.to_numeric(column("ka_value_share", float("nan")), errors="coerce"),
        "state_customer": column("state_customer", False).astype("boolean").fillna(False).astype(bool),
        "deserves_map": deserves.astype(bool),
        "reason": manager.eq("").map({True: "no_manager", False: "over"}).astype(str),
    }).loc[wait]
    waiting = waiting.sort_values([C.REVENUE, C.CUSTOMER_ID], ascending=[False, True], kind="stable")
    return ids.loc[carried].astype(str).tolist(), waiting.reset_index(drop=True)[list(WAITING_COLUMNS)]


__all__ = ["WAITING_COLUMNS", "WAITING_REASONS", "kam_capacity"]
