"""Every count the segmentation reports, computed once, from the customers table.

The report, the workbook, the summary and the command line read their counts here and
nowhere else, so one number never shows two values. Each key names its population in
plain words (see COUNT_MEANING); where two sections count different populations (the
tier against the tier mix, the mix against a map's members), both counts are here and
the text names the difference.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.segment.bridge import BRIDGE_GROUPS
from workbench.segment.classes import ABC_CLASSES, RFM_SEGMENTS, XYZ_CLASSES
from workbench.segment.customer_types import BREADTH_BANDS
from workbench.segment.key_accounts import KA_GRADES
from workbench.segment.lifecycle import LIFECYCLES
from workbench.segment.tiers import TIERS

# What each family of keys counts (the test that reconciles the report reads this too).
COUNT_MEANING = {
    "customers_file": "distinct customers in the customers file (None: no file)",
    "customers_file_no_sales": "of them, without any ledger row up to the month end (not in the base)",
    "customers": "known customers: at least one ledger row up to the month end (the base)",
    "in_mix": "customers who bought in the window (the tier mix counts them)",
    "not_in_mix": "known customers who bought nothing in the window",
    "lifecycle.<stage>": "customers at each lifecycle stage",
    "tier.<tier>": "customers with this tier code (every known customer)",
    "mix.<tier>": "customers of the tier who bought in the window",
    "mix_new.<tier>": "of them, new (lifecycle)",
    "mix_sleeping.<tier>": "of them, sleeping",
    "outside.<tier>": "customers of the tier who bought nothing in the window",
    "abc.<class>": "customers in the ABC class", "xyz.<class>": "customers in the XYZ class",
    "cell.<cell>": "customers in the ABC-XYZ cell",
    "rfm.<segment>": "customers in the RFM segment (RFM's own name)",
    "grade.<grade>": "customers graded gold / silver / bronze", "key_accounts": "gold customers",
    "key_state": "key accounts that are state customers", "state_vip": "VIPs that are state customers",
    "mix_new_one_off": "new customers with one order in the mix (typical, not ballast)",
    "mix_sleeping": "sleeping customers in the mix", "outside_lost": "lost customers outside the mix", "mix_individual": "customers in the mix with an individual map",
    "individual_maps": "customers with an individual map", "map_candidates": "deserving one, over the limit",
    "sleeping": "sleeping customers (the wake-up list)", "near_lost": "of them, close to the lost line",
    "state": "state customers", "pioneers": "pioneers", "breadth.<band>": "customers by products bought",
    "bridge.<group>": "customers in the bridge group",
    "kam.<key>": "KAM load (managers, kams_needed, kam_shortfall, over_limit, managers_over, unassigned)",
}


def _by(values: pd.Series | np.ndarray, codes: tuple[str, ...], prefix: str) -> dict[str, int]:
    at = pd.Index(list(codes)).get_indexer(np.asarray(values, dtype=object))
    counts = np.bincount(at[at >= 0], minlength=len(codes))
    return {f"{prefix}.{c}": int(n) for c, n in zip(codes, counts)}


def segment_counts(customers: pd.DataFrame, mix: pd.DataFrame, kam: dict[str, int],
                   file_ids: pd.Series | None) -> dict[str, int | None]:
    """All counts, keyed as COUNT_MEANING says.

    Parameters
    ----------
    customers : the segmentation's customers table.
    mix : the tier mix (``tier_mix``), whose counts are taken over as they are.
    kam : the KAM summary of ``key_accounts.kam_load``.
    file_ids : customer_id of the customers file (None: no file).
    """
    c = customers
    in_mix = c["orders"].to_numpy() > 0
    file_n = no_sales = None
    if file_ids is not None:
        ids = pd.Index(pd.unique(file_ids.astype("string").dropna()))
        file_n, no_sales = len(ids), int((~ids.isin(c["customer_id"].astype("string"))).sum())
    out: dict[str, int | None] = {
        "customers_file": file_n,
        "customers_file_no_sales": no_sales,
        "customers": len(c),
        "in_mix": int(in_mix.sum()),
        "not_in_mix": int((~in_mix).sum()),
    }
    out.update(_by(c["lifecycle"], LIFECYCLES, "lifecycle"))
    out.update(_by(c["tier"], TIERS, "tier"))
    m = mix.set_index("tier")
    for tier in TIERS:
        out[f"mix.{tier}"] = int(m.loc[tier, "customers"])
        out[f"mix_new.{tier}"] = int(m.loc[tier, "new"])
        out[f"mix_sleeping.{tier}"] = int(m.loc[tier, "sleeping"])
        out[f"outside.{tier}"] = int(m.loc[tier, "outside"])
    out.update(_by(c["abc"], ABC_CLASSES, "abc"))
    out.update(_by(c["xyz"], XYZ_CLASSES, "xyz"))
    out.update(_by(c["abc_xyz"], tuple(a + x for a in ABC_CLASSES for x in XYZ_CLASSES), "cell"))
    out.update(_by(c["rfm_segment"], RFM_SEGMENTS, "rfm"))
    out.update(_by(c["ka_grade"], KA_GRADES, "grade"))
    out["key_accounts"] = int(c["key_account"].sum())
    out["key_state"] = int((c["key_account"] & c["state_customer"]).sum())
    out["state_vip"] = int((c["state_customer"] & (c["tier"] == "vip")).sum())
    out["mix_new_one_off"] = int(mix["new_one_off"].sum())
    out["outside_lost"] = int((~in_mix & (c["lifecycle"] == "lost")).sum())
    out["mix_sleeping"] = int((in_mix & (c["lifecycle"] == "sleeping")).sum())
    out["mix_individual"] = int((in_mix & (c["map"] == "individual")).sum())
    out["individual_maps"] = int((c["map"] == "individual").sum())
    out["map_candidates"] = int(c["map_candidate"].sum())
    out["sleeping"] = int((c["lifecycle"] == "sleeping").sum())
    out["near_lost"] = int(c["near_lost"].sum())
    out["state"] = int(c["state_customer"].sum())
    out["pioneers"] = int((c["pioneer_products"] > 0).sum())
    out.update(_by(c["breadth"], tuple(code for code, _, _ in BREADTH_BANDS), "breadth"))
    out.update(_by(c["bridge"], (*BRIDGE_GROUPS, "unchanged"), "bridge"))
    out.update({f"kam.{k}": int(v) for k, v in kam.items()})
    return out


def count_of(counts: dict[str, Any], key: str) -> int:
    """One count by key; an unknown key is a programming error, never a silent 0."""
    if key not in counts:
        raise KeyError(f"no count {key!r} in the segmentation's counts")
    value = counts[key]
    return 0 if value is None else int(value)
