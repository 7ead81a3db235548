"""Per-customer aggregates of the ledger up to the month end (integer customer codes, no loops)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.errors import WorkbenchError
from workbench.i18n import t
from workbench.segment._util import _blank, _text_codes

# Key for order numbers kept apart from day numbers in one int64 (days since 1970 < 10**6).
_DOC_OFFSET = 1_000_000
# Largest customers x days bitmap (bytes) used to find distinct purchase days without a sort.
_BITMAP_MAX = 64 * 1024 ** 2


def _aggregate(ledger: pd.DataFrame, next_start: pd.Timestamp, window_months: int,
               s: dict[str, Any], lang: str = "ru") -> dict[str, Any]:
    """Per-customer sums over the ledger up to the month end, on integer customer codes.

    Returns a dict of numpy arrays aligned on the customer codes (plus ``customer_id``).
    """
    missing = [c for c in (C.CUSTOMER_ID, C.DATE, C.AMOUNT) if c not in ledger.columns]
    if missing:
        raise WorkbenchError(t("segment.missing_columns", lang, columns=", ".join(missing)))
    dates = ledger[C.DATE]
    keep = (dates < next_start).to_numpy(dtype=bool, na_value=False)
    # Only the columns we read, filtered one by one (the ledger's other columns are never copied).
    wanted = [c for c in (C.CUSTOMER_ID, C.CUSTOMER_NAME, C.INN, C.DATE, C.AMOUNT, C.MANAGER, C.DOCUMENT,
                          C.IS_RETURN, C.MARGIN, C.PRODUCT) if c in ledger.columns]
    led = {c: (ledger[c] if keep.all() else ledger[c][keep]) for c in wanted}
    codes, uniques = pd.factorize(led[C.CUSTOMER_ID].astype("string"), sort=False)
    n = len(uniques)
    day = led[C.DATE].to_numpy().astype("datetime64[D]").astype(np.int64)
    # Month of each row through a table over the distinct days (a calendar conversion per
    # day of the span, not per row).
    day0 = int(day.min(initial=0))
    day_span = int(day.max(initial=0)) - day0 + 1
    month_of = np.arange(day0, day0 + day_span).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    mon = month_of[day - day0]
    amount = led[C.AMOUNT].astype(float).fillna(0.0).to_numpy()
    if C.IS_RETURN in led:
        is_return = led[C.IS_RETURN].astype("boolean").fillna(False).to_numpy(dtype=bool)
    else:
        is_return = amount < 0
    purchase = ~is_return

    end_m = int(np.datetime64(next_start.date(), "M").astype(np.int64)) - 1
    end_d = int(np.datetime64(next_start.date(), "D").astype(np.int64)) - 1
    back = end_m - mon                      # 0 = the reporting month, 1 = the month before ...
    in_win = back < window_months
    in_prev = (back >= window_months) & (back < 2 * window_months)
    half = max(window_months // 2, 1)
    recent_half = back < half
    prev_half = (back >= half) & (back < 2 * half)

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=np.where(mask, amount, 0.0), minlength=n)

    def any_purchase(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[purchase & mask], minlength=n) > 0

    # Profit: the margin column summed over the window, used only when every window row has one
    # (a partly filled margin would grade customers on whichever rows happen to carry it).
    if C.MARGIN in led:
        margin = led[C.MARGIN].astype(float).to_numpy()
        margin_rows = int(np.isfinite(margin[in_win]).sum())
        profit = np.bincount(codes, weights=np.where(in_win & np.isfinite(margin), margin, 0.0), minlength=n)
    else:
        margin_rows, profit = 0, np.zeros(n)

    # Orders in the window: a document number, or the day when the row has none (one order per
    # customer-day). Only the window's purchase rows are read: documents elsewhere are not needed.
    order_rows = np.flatnonzero(purchase & in_win)
    o_codes, o_day = codes[order_rows].astype(np.int64), np.clip(day[order_rows], 0, _DOC_OFFSET - 1)
    if C.DOCUMENT in led:
        doc_code = _text_codes(led[C.DOCUMENT].iloc[order_rows])   # -1 = no document
        key = np.where(doc_code >= 0, doc_code + _DOC_OFFSET, o_day)
        key_span = int(doc_code.max(initial=0)) + _DOC_OFFSET + 1
    else:
        key, key_span = o_day, _DOC_OFFSET
    unique_orders = pd.unique(o_codes * key_span + key)
    orders_in_window = np.bincount((unique_orders // key_span).astype(np.int64), minlength=n)

    # First / last purchase per customer with unbuffered ufuncs (no sort of the rows).
    def first_last(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        last = np.full(n, -1, dtype=np.int64)
        np.minimum.at(first, codes[mask], day[mask])
        np.maximum.at(last, codes[mask], day[mask])
        return np.where(last >= 0, first, -1), last

    every = np.ones(len(codes), dtype=bool)
    any_first, any_last = first_last(every)
    p_first, p_last = first_last(purchase)
    # First / last purchase from purchase rows; a customer with only returns falls back to any row.
    first_day = np.where(p_first >= 0, p_first, any_first)
    last_day = np.where(p_last >= 0, p_last, any_last)

    # The customer's own rhythm: median gap in days between distinct purchase days (all history).
    # Distinct (customer, day) keys in order: a bitmap over customers x days when it is small,
    # else hashing and a sort; both give the same sorted distinct keys.
    p_day = day[purchase]
    p_lo = int(p_day.min()) if len(p_day) else 0
    p_span = int(p_day.max(initial=p_lo)) - p_lo + 1
    raw_keys = codes[purchase].astype(np.int64) * p_span + (p_day - p_lo)
    del p_day
    if n * p_span <= _BITMAP_MAX:
        seen = np.zeros(n * p_span, dtype=bool)
        seen[raw_keys] = True
        pkeys = np.flatnonzero(seen)
        del seen
    else:
        pkeys = np.sort(pd.unique(raw_keys))
    del raw_keys
    pc, pday = np.divmod(pkeys, p_span)
    same = np.zeros(len(pc), dtype=bool)
    same[1:] = pc[1:] == pc[:-1]
    gaps = np.diff(pday, prepend=0).astype(float)
    median_gap = pd.Series(gaps[same]).groupby(pc[same]).median().reindex(range(n)).to_numpy(dtype=float)

    # Revenue per XYZ period inside the window: a dense (customers x periods) matrix.
    plen = 3 if s["xyz"]["period"] == "quarter" else 1
    n_periods = math.ceil(window_months / plen)
    period = back // plen
    wmask = in_win
    flat = codes[wmask].astype(np.int64) * n_periods + period[wmask]
    per_period = np.bincount(flat, weights=amount[wmask], minlength=n * n_periods).reshape(n, n_periods)
    bought = np.bincount(flat, weights=purchase[wmask].astype(float),
                         minlength=n * n_periods).reshape(n, n_periods) > 0

    first_back = end_m - first_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)

    # Per-customer attributes: the latest non-empty value by date (the last such row on that day).
    row_no = np.arange(len(codes), dtype=np.int64)

    def pick_latest(mask: np.ndarray) -> np.ndarray:
        """Row number of the last row on the latest day per customer among ``mask`` (-1 = none)."""
        top_day = np.full(n, -1, dtype=np.int64)
        np.maximum.at(top_day, codes[mask], day[mask])
        at_top = mask & (day == top_day[codes])
        pick = np.full(n, -1, dtype=np.int64)
        np.maximum.at(pick, codes[at_top], row_no[at_top])
        return pick

    latest_any = pick_latest(np.ones(len(codes), dtype=bool))

    def latest(col: str) -> pd.Series:
        if col not in led:
            return pd.Series([pd.NA] * n, dtype="string")
        text = led[col].astype("string").reset_index(drop=True)

        def values_at(pick: np.ndarray) -> tuple[pd.Series, np.ndarray]:
            vals = text.iloc[np.clip(pick, 0, None)].reset_index(drop=True) if len(text) else \
                pd.Series([pd.NA] * n, dtype="string")
            blank = (vals.str.strip().str.len() == 0).fillna(True).to_numpy(dtype=bool) | (pick < 0)
            return vals, blank

        pick = latest_any
        vals, blank = values_at(pick)
        if blank.any():
            # Only the rows of customers whose latest value is blank are checked for text.
            rows = blank[codes]
            ok = np.zeros(len(codes), dtype=bool)
            ok[rows] = (text[rows].str.strip().str.len() > 0).fillna(False).to_numpy(dtype=bool)
            pick = np.where(blank, pick_latest(ok), pick)
            vals, blank = values_at(pick)
        return vals.where(~blank).astype("string")

    window_day0 = int(np.datetime64((next_start - pd.DateOffset(months=window_months)).date(), "D")
                      .astype(np.int64))
    products, pioneer, new_products, has_product = _assortment(led, codes, day, purchase, in_win, n, window_day0,
                                    int(s["customer_types"]["pioneer_days"]))
    return {
        "n": n,
        "has_now": any_purchase(in_win),
        "has_prev": any_purchase(in_prev),
        "has_before": any_purchase(back >= 2 * window_months),
        "profit": profit,
        "margin_rows": margin_rows,
        "window_rows": int(in_win.sum()),
        "products": products,
        "pioneer_products": pioneer,
        "new_products": new_products,
        "has_product": has_product,
        "customer_id": pd.Series(uniques, dtype="string"),
        "customer_name": latest(C.CUSTOMER_NAME),
        "inn": latest(C.INN),
        "manager": latest(C.MANAGER),
        "revenue": total(in_win),
        "revenue_prev": total(in_prev),
        "revenue_recent_half": total(recent_half),
        "revenue_prev_half": total(prev_half),
        "revenue_history": total(np.ones(len(codes), dtype=bool)),
        "orders": orders_in_window,
        "purchase_days": np.bincount(pc, minlength=n),
        "first_day": first_day,
        "last_day": last_day,
        "first_back": first_back,
        "median_gap": median_gap,
        "per_period": per_period,
        "bought_in_period": bought,
        "n_periods": n_periods,
        "end_day": end_d,
        "end_month": end_m,
    }


def _assortment(led: dict[str, pd.Series], codes: np.ndarray, day: np.ndarray, purchase: np.ndarray,
                in_win: np.ndarray, n: int, window_day0: int,
                pioneer_days: int) -> tuple[np.ndarray, np.ndarray, list[str], bool]:
    """Distinct products bought in the window, and products new in the window bought early.

    A product is *new in the window* when its first sale (any customer, all history up to the
    month end) falls inside the window and the ledger holds sales at least ``pioneer_days``
    before the window start (otherwise every product of a short ledger would look new). A
    customer's ``pioneer_products`` counts the new products it bought within ``pioneer_days``
    of their first sale: the first buyers. Without a product column both are 0. The third
    item is the names of the products new in the window, by first sale; the fourth says
    whether any purchase names a product.
    """
    zeros = np.zeros(n, dtype=np.int64)
    if C.PRODUCT not in led or not len(codes):
        return zeros, zeros, [], False
    prod, names = _text_codes(led[C.PRODUCT], with_uniques=True)
    ok = purchase & (prod >= 0)
    if not ok.any():
        return zeros, zeros, [], False
    width = int(prod.max()) + 1

    def per_customer(mask: np.ndarray) -> np.ndarray:
        pairs = pd.unique(codes[mask].astype(np.int64) * width + prod[mask])
        return np.bincount((pairs // width).astype(np.int64), minlength=n).astype(np.int64)

    first = np.full(width, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, prod[ok], day[ok])
    if int(day[ok].min()) > window_day0 - pioneer_days:
        return per_customer(ok & in_win), zeros, [], True
    new_product = (first >= window_day0) & (first < np.iinfo(np.int64).max)
    safe = np.clip(prod, 0, None)
    early = ok & new_product[safe] & (day - first[safe] < pioneer_days)
    launched = np.flatnonzero(new_product)
    launched = launched[np.argsort(first[launched], kind="stable")]
    return per_customer(ok & in_win), per_customer(early), [str(names[i]) for i in launched], True


def _customer_frame(base: dict[str, Any], customers: pd.DataFrame | None, n: int) -> pd.DataFrame:
    """One row per customer code: ledger aggregates joined with the customers file.

    Name and INN: the latest non-empty value in the ledger, else the customers file.
    Manager: the customers file (the salesperson responsible), else the latest in the ledger.
    """
    frame = pd.DataFrame({
        "customer_id": base["customer_id"],
        "customer_name": base["customer_name"],
        "inn": base["inn"],
        "manager": base["manager"],
        "revenue": base["revenue"],
        "revenue_prev": base["revenue_prev"],
        "orders": base["orders"].astype(np.int64),
        "purchase_days": base["purchase_days"].astype(np.int64),
        "profit": base["profit"],
        "products": base["products"],
        "pioneer_products": base["pioneer_products"],
        "_has_prev": base["has_prev"],
        "_has_before": base["has_before"],
    })
    prev_half, recent_half = base["revenue_prev_half"], base["revenue_recent_half"]
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["trend"] = np.where(prev_half > 0, recent_half / prev_half - 1.0, np.nan)
        frame["avg_check"] = np.where(frame["orders"] > 0, frame["revenue"] / frame["orders"], np.nan)
    frame["first_purchase"] = pd.to_datetime(base["first_day"], unit="D")
    frame["last_purchase"] = pd.to_datetime(base["last_day"], unit="D")
    frame["recency_days"] = (base["end_day"] - base["last_day"]).astype(np.int64)
    frame["median_gap_days"] = base["median_gap"]
    active_months = (base["last_day"].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
                     - base["first_day"].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1)
    frame["revenue_per_month_before"] = base["revenue_history"] / np.maximum(active_months, 1)
    frame["first_back"] = base["first_back"]

    attrs = pd.DataFrame({"customer_id": frame["customer_id"]})
    for col in (C.INDUSTRY, C.HEADCOUNT, C.POTENTIAL, "file_name", "file_inn", "file_manager"):
        attrs[col] = pd.NA
    if customers is not None and len(customers) and C.CUSTOMER_ID in customers.columns:
        cust = customers.drop_duplicates(C.CUSTOMER_ID, keep="first").copy()
        cust[C.CUSTOMER_ID] = cust[C.CUSTOMER_ID].astype("string")
        cust = cust.set_index(C.CUSTOMER_ID)
        ids = frame["customer_id"]
        for src, dst in ((C.INDUSTRY, C.INDUSTRY), (C.HEADCOUNT, C.HEADCOUNT), (C.POTENTIAL, C.POTENTIAL),
                         (C.CUSTOMER_NAME, "file_name"), (C.INN, "file_inn"), (C.MANAGER, "file_manager")):
            if src in cust.columns:
                attrs[dst] = cust[src].reindex(ids).to_numpy()
    frame["customer_name"] = frame["customer_name"].fillna(_blank(attrs["file_name"]))
    frame["customer_name"] = frame["customer_name"].fillna(frame["customer_id"])
    frame["inn"] = frame["inn"].fillna(_blank(attrs["file_inn"])).fillna("")
    frame["manager"] = _blank(attrs["file_manager"]).fillna(frame["manager"]).fillna("")
    frame["industry"] = _blank(attrs[C.INDUSTRY]).fillna("")
    frame["headcount"] = pd.to_numeric(attrs[C.HEADCOUNT], errors="coerce").astype(float)
    frame["potential"] = pd.to_numeric(attrs[C.POTENTIAL], errors="coerce").astype(float)
    return frame
