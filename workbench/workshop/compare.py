"""Before and after: what a change of thresholds does to the base (pure functions).

"Before" is the agreed segmentation (engagement.yaml with ``overrides/settings.yaml`` laid
over it); "after" is the one the room is looking at. Inputs are
``SegmentationResult.customers`` tables (one row per customer: customer_id, customer_name,
revenue, tier, abc, xyz, lifecycle ...); nothing is modified.
"""
from __future__ import annotations

import pandas as pd

from workbench import columns as C

CHANGE_FIELDS = (C.TIER, C.ABC, C.XYZ, C.LIFECYCLE)


def changed_customers(before: pd.DataFrame, after: pd.DataFrame,
                      fields: tuple[str, ...] = CHANGE_FIELDS) -> pd.DataFrame:
    """Who moved between two segmentations.

    Returns
    -------
    DataFrame with columns customer_id, customer_name, revenue, field, before, after (codes):
    one row per customer and changed field, largest revenue first. A customer present in
    only one table is listed with "" on the other side.
    """
    cols = [C.CUSTOMER_ID, C.CUSTOMER_NAME, C.REVENUE, *fields]
    b = before[cols].set_index(C.CUSTOMER_ID)
    a = after[cols].set_index(C.CUSTOMER_ID)
    ids = b.index.union(a.index)
    b, a = b.reindex(ids), a.reindex(ids)
    parts = []
    for f in fields:  # four fields, each compared on the whole column
        old = b[f].astype("string").fillna("")
        new = a[f].astype("string").fillna("")
        mask = (old != new).to_numpy(dtype=bool)
        if mask.any():
            parts.append(pd.DataFrame({
                C.CUSTOMER_ID: ids[mask], "field": f, "before": old[mask].to_numpy(), "after": new[mask].to_numpy()}))
    out_cols = [C.CUSTOMER_ID, C.CUSTOMER_NAME, C.REVENUE, "field", "before", "after"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == C.REVENUE else "string") for c in out_cols})
    out = pd.concat(parts, ignore_index=True)
    names = a[C.CUSTOMER_NAME].combine_first(b[C.CUSTOMER_NAME])
    revenue = a[C.REVENUE].combine_first(b[C.REVENUE])
    out[C.CUSTOMER_NAME] = names.reindex(out[C.CUSTOMER_ID]).to_numpy()
    out[C.REVENUE] = revenue.reindex(out[C.CUSTOMER_ID]).to_numpy(dtype=float)
    out["_f"] = out["field"].map({f: i for i, f in enumerate(fields)})
    out = out.sort_values([C.REVENUE, C.CUSTOMER_ID, "_f"], ascending=[False, True, True], kind="stable")
    return out[out_cols].reset_index(drop=True)


def class_totals(before: pd.DataFrame, after: pd.DataFrame, field: str, order: tuple[str, ...]) -> pd.DataFrame:
    """Customers and revenue per class of ``field`` (tier, abc ...), before and after.

    Returns one row per class in ``order`` (then any other class met, sorted): class,
    customers_before, customers_after, revenue_before, revenue_after (currency). Classes
    nobody is in have zeros.
    """
    def totals(df: pd.DataFrame) -> pd.DataFrame:
        return df.groupby(df[field].astype("string"))[C.REVENUE].agg(["size", "sum"])

    b, a = totals(before), totals(after)
    extra = sorted((set(b.index.dropna()) | set(a.index.dropna())) - set(order))
    keys = [*order, *extra]
    b, a = b.reindex(keys, fill_value=0), a.reindex(keys, fill_value=0)
    return pd.DataFrame({"class": keys,
                         "customers_before": b["size"].to_numpy(dtype="int64"),
                         "customers_after": a["size"].to_numpy(dtype="int64"),
                         "revenue_before": b["sum"].to_numpy(dtype=float),
                         "revenue_after": a["sum"].to_numpy(dtype=float)})


def cell_counts(before: pd.DataFrame, after: pd.DataFrame, rows: tuple[str, ...], cols: tuple[str, ...],
                row_field: str = C.ABC, col_field: str = C.XYZ) -> pd.DataFrame:
    """Customers per matrix cell (ABC x XYZ by default), before and after.

    Returns one row per (row, col) pair in the given order: row, col, before, after (counts).
    """
    idx = pd.MultiIndex.from_product([list(rows), list(cols)])

    def counts(df: pd.DataFrame) -> pd.Series:
        return df.groupby([df[row_field].astype("string"), df[col_field].astype("string")]).size().reindex(
            idx, fill_value=0)

    b, a = counts(before), counts(after)
    return pd.DataFrame({"row": idx.get_level_values(0), "col": idx.get_level_values(1),
                         "before": b.to_numpy(dtype="int64"), "after": a.to_numpy(dtype="int64")})
