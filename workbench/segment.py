"""Segmenting the client base: ABC, XYZ, RFM, lifecycle, tiers, key accounts, concentration.

Pure functions over DataFrames: nothing here reads or writes a file. The rules and their
defaults come from the ``segmentation:`` section of ``engagement.yaml`` (sources: the
articles 002 and 003 in ``shared/seeds``; see ``shared/DOMAIN.md`` §1).

The analysis is made **as of the end of the reporting month**: transactions dated after
it are ignored; the *window* is the last ``window_months`` calendar months ending with the
reporting month. History before the window still counts for a customer's first purchase,
its rhythm (sleeping) and the revenue of the previous window (trend).

Everything is computed on whole columns (integer customer codes, ``np.bincount``,
``groupby``, ``rank``, ``np.select``); there is no Python loop over customers or rows.

Interpretations (where the brief leaves room), stated once here and in each function:

* **revenue** is the net amount in the window (returns reduce it; a customer may end at
  zero or below). **revenue_share** is revenue divided by the sum of the *positive*
  revenues (equal to total net revenue unless some customer is net negative), so that
  the shares of the customers who bring money add up to 100 %.
* **orders**: distinct documents; rows without a document count one order per
  (customer, date). Return rows are not orders.
* a customer is *known* when it has at least one ledger row up to the month end; rows of
  the customers file without any purchase yet are not part of the base.
* RFM scores: ties share one score (the score of their average rank), so equal
  recency/frequency/value never get different scores depending on customer_id.
"""
from __future__ import annotations

import math
import string
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.errors import WorkbenchError
from workbench.i18n import t

TIERS = ("vip", "strategic", "typical", "ballast")
LIFECYCLES = ("new", "active", "sleeping", "lost")
ABC_CLASSES = ("A", "B", "C")
XYZ_CLASSES = ("X", "Y", "Z", "N")
KA_GRADES = ("gold", "silver", "bronze")
RFM_SEGMENTS = ("champions", "loyal", "potential_loyalists", "new", "promising", "need_attention",
                "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost")
# The common R x F map of named segments on a 5-point scale: row = R - 1, column = F - 1.
# (Hibernating is [1-2][1-2] in the usual regex map; its worst corner, R=1 F=1, is "lost".)
_RFM_MAP = np.array([
    ["lost", "hibernating", "at_risk", "at_risk", "cant_lose"],
    ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
    ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    ["promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"],
    ["new", "potential_loyalists", "potential_loyalists", "champions", "champions"],
], dtype=object)
# Relative tolerance when comparing shares with thresholds: 0.1 + 0.7 must reach 0.8.
_EPS = 1e-9
# Key for order numbers kept apart from day numbers in one int64 (days since 1970 < 10**6).
_DOC_OFFSET = 1_000_000
# Largest customers x days bitmap (bytes) used to find distinct purchase days without a sort.
_BITMAP_MAX = 64 * 1024 ** 2

SEGMENTS_CSV_COLUMNS = C.SEGMENTS_COLUMNS  # the documented columns of segments.csv, in order


@dataclass(frozen=True)
class SegmentationResult:
    """Everything the segmentation decided, as of the end of ``month``.

    customers: one row per known customer (see :func:`segment` for the columns), sorted by
        revenue desc then customer_id.
    abc_xyz: tidy matrix ``abc, xyz, customers, revenue, revenue_share, action``.
    tier_mix: ``tier, customers, share, healthy_low, healthy_high, status, explanation, lost``.
    concentration: ``top1_share, top5_share, hhi, mono_client, top1_customer_id``.
    lists: ``key_accounts``, ``sleeping_to_wake``, ``strategic_to_grow`` (DataFrames).
    thresholds: the values used (settings plus derived ones such as the window).
    month: the reporting month ``YYYY-MM``; window: (start, end) ISO dates, inclusive.
    lang: the language of the text columns (tier_reason, action, explanation).
    """

    customers: pd.DataFrame
    abc_xyz: pd.DataFrame
    tier_mix: pd.DataFrame
    concentration: dict[str, Any]
    lists: dict[str, pd.DataFrame]
    thresholds: dict[str, Any]
    month: str
    window: tuple[str, str]
    lang: str = "ru"
    totals: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- settings
@lru_cache(maxsize=1)
def _default_settings() -> dict[str, Any]:
    from workbench.config import defaults

    return defaults()["segmentation"]


def _merged_settings(settings: dict[str, Any] | None) -> dict[str, Any]:
    """Lay ``settings`` over the documented defaults (one level of nesting deep)."""
    base = _default_settings()
    out: dict[str, Any] = {}
    for key, value in base.items():
        given = (settings or {}).get(key, value)
        out[key] = {**value, **given} if isinstance(value, dict) and isinstance(given, dict) else given
    return out


def _month_bounds(month: str, lang: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start = pd.Timestamp(f"{month}-01")
        ok = len(month) == 7
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise WorkbenchError(t("segment.bad_month", lang, value=month))
    return start, start + pd.offsets.MonthBegin(1)


# --------------------------------------------------------------------------- helpers
def _score(values: np.ndarray, eligible: np.ndarray, bins: int, higher_is_better: bool) -> np.ndarray:
    """Rank-based quantile score 1..bins among ``eligible`` customers; others get 1.

    Ties share the score of their average rank (deterministic, independent of row order):
    score = ceil(bins × average_rank / n), clipped to 1..bins.
    """
    out = np.ones(len(values), dtype=np.int64)
    n = int(eligible.sum())
    if n == 0:
        return out
    sub = pd.Series(values[eligible] if higher_is_better else -values[eligible])
    ranks = sub.rank(method="average").to_numpy()
    out[eligible] = np.clip(np.ceil(bins * ranks / n - _EPS), 1, bins).astype(np.int64)
    return out


def _obj(values: Any) -> np.ndarray:
    """A text column as a numpy object array (missing -> "")."""
    arr = pd.Series(values).astype(object).to_numpy()
    return np.where(pd.isna(arr), "", arr).astype(object)


def _number_text(x: pd.Series | np.ndarray, lang: str, decimals: int = 1) -> np.ndarray:
    """Vectorised ``fmt.number`` for small numbers (no thousands grouping): 12,5 / 12.5.

    Returns an object array of str; missing values give "".
    """
    arr = np.asarray(x, dtype=float)
    if arr.size == 0:
        return np.array([], dtype=object)
    missing = ~np.isfinite(arr)
    scaled = np.round(np.abs(np.where(missing, 0.0, arr)) * 10 ** decimals).astype(np.int64)
    text = (scaled // 10 ** decimals).astype(str).astype(object)
    text = np.where((arr < 0) & (scaled > 0), "-" + text, text)
    if decimals:
        frac = np.char.zfill((scaled % 10 ** decimals).astype(str), decimals).astype(object)
        text = text + ("," if lang == "ru" else ".") + frac
    return np.where(missing, "", text).astype(object)


def _pct_text(share: pd.Series | np.ndarray, lang: str, decimals: int = 1) -> np.ndarray:
    """Vectorised ``fmt.pct``: 0.125 -> ``12,5 %`` (ru) / ``12.5%`` (en)."""
    body = _number_text(np.asarray(share, dtype=float) * 100, lang, decimals)
    return np.where(body == "", "", body + ("\u00a0%" if lang == "ru" else "%")).astype(object)


def _fill(template: str, n: int, **values: Any) -> np.ndarray:
    """``template.format(**values)`` for whole columns: values are object arrays or scalars."""
    out = np.full(n, "", dtype=object)
    for literal, name, spec, _conv in string.Formatter().parse(template):
        if literal:
            out = out + literal
        if name is not None:
            v = values[name]
            out = out + (v if isinstance(v, np.ndarray) else format(v, spec or ""))
    return out


def _join(parts: list[np.ndarray], sep: str = ", ") -> np.ndarray:
    """Join text columns row by row, skipping empty pieces."""
    joined = parts[0]
    for p in parts[1:]:
        both = (joined != "") & (p != "")
        joined = np.where(both, joined + sep + p, joined + p)
    return joined.astype(object)


def _text_codes(values: pd.Series, with_uniques: bool = False) -> Any:
    """Integer codes of a text column; empty, blank and missing values get -1.

    Factorising once and checking only the distinct values for blanks keeps text work
    proportional to the number of distinct values, not rows.
    """
    codes, uniques = pd.factorize(values)
    uniq = pd.Series(uniques, dtype="string")
    blank = (uniq.str.strip().str.len() == 0).fillna(True).to_numpy(dtype=bool)
    codes = codes.astype(np.int64)
    if blank.any():
        remap = np.where(blank, -1, np.arange(len(blank), dtype=np.int64))
        codes = np.where(codes >= 0, remap[np.clip(codes, 0, None)], -1)
    return (codes, uniq.to_numpy(dtype=object)) if with_uniques else codes


def _blank(s: pd.Series) -> pd.Series:
    """Text column with empty / whitespace-only values as NA."""
    s = s.astype("string")
    return s.where(s.str.strip().str.len() > 0)


# --------------------------------------------------------------------------- the analysis
def segment(ledger: pd.DataFrame, customers: pd.DataFrame | None, settings: dict[str, Any] | None,
            month: str, lang: str = "ru") -> SegmentationResult:
    """Segment the client base as of the end of ``month``.

    Parameters
    ----------
    ledger : DataFrame
        ``workbench.columns.LEDGER_COLUMNS`` (customer_id, customer_name, inn, date, amount
        [currency, negative = return], manager, document, is_return, ...). Not modified.
    customers : DataFrame or None
        ``CUSTOMERS_COLUMNS`` (customer_id, industry, headcount [employees], manager,
        potential [currency per year], ...). Optional; not modified.
    settings : dict
        The ``segmentation`` section of engagement.yaml; missing keys take the documented
        defaults of ``templates/engagement.yaml``.
    month : str
        Reporting month ``YYYY-MM``.
    lang : str
        ``ru`` | ``en``: language of the text columns.

    Returns
    -------
    SegmentationResult
        ``customers`` has one row per customer with a ledger row up to the month end:
        SEGMENTS_COLUMNS plus inn, manager, industry, headcount, potential, orders
        (in the window), purchase_days (distinct days with a purchase, all history), revenue_prev (previous window,
        currency), trend (last half-window vs the half before, 0.10 = +10 %), avg_check
        (revenue / orders), cum_share, xyz_cv, xyz_periods, recency_days (days from the last
        purchase to the month end), median_gap_days, first_purchase, last_purchase,
        prospects (bool), prospect_source ('potential' | 'signals'), tier_reason (text),
        ka_grade, map_candidate, revenue_per_month_before (history revenue per active month).

    Rules
    -----
    ABC: sorted by revenue desc, ties by customer_id; A = cumulative share *before* the
    customer < a (the customer crossing the line stays A), B = before < a + b, else C;
    revenue <= 0 -> C. XYZ: population CV of revenue per period (month / rolling quarter
    counted back from the reporting month) over the periods from the later of the window
    start and the first purchase; fewer than ``min_periods`` such periods -> N (the
    requirement is capped by the periods the window holds, and never below 2);
    mean <= 0 -> Z; X <= x < Y <= y < Z. RFM, lifecycle, tiers, key accounts and maps:
    see the helper functions below.
    """
    s = _merged_settings(settings)
    month_start, next_start = _month_bounds(month, lang)
    month_end = next_start - pd.Timedelta(days=1)
    window_months = int(s["window_months"])
    window_start = month_start - pd.DateOffset(months=window_months - 1)

    base = _aggregate(ledger, next_start, window_months, s, lang)
    n = len(base["customer_id"])
    frame = _customer_frame(base, customers, n)

    abc_part = abc_classes(frame["revenue"], frame["customer_id"], s["abc"]["a"], s["abc"]["b"])
    frame = pd.concat([frame, abc_part], axis=1)
    xyz_part = _xyz(base, s["xyz"], window_months)
    for col in ("xyz", "xyz_cv", "xyz_periods"):
        frame[col] = xyz_part[col]
    frame["abc_xyz"] = frame["abc"] + frame["xyz"]
    frame = _rfm(frame, int(s["rfm"]["bins"]))
    frame = _lifecycle(frame, s["lifecycle"])
    frame = _tiers(frame, s["tiers"], lang)
    frame = _key_accounts(frame, s["key_accounts"])

    order = np.argsort(frame["revenue_rank"].to_numpy())
    frame = frame.iloc[order].reset_index(drop=True).drop(columns=["first_back"])
    lead = [c for c in C.SEGMENTS_COLUMNS]
    frame = frame[lead + [c for c in frame.columns if c not in lead]]

    total_positive = float(frame.loc[frame["revenue"] > 0, "revenue"].sum())
    thresholds = _thresholds_used(s, window_start, month_end, xyz_part.attrs, n)
    return SegmentationResult(
        customers=frame,
        abc_xyz=abc_xyz_matrix(frame, lang),
        tier_mix=tier_mix(frame, s["healthy_mix"], lang),
        concentration=concentration(frame, s["concentration"]["mono_client_share"]),
        lists=action_lists(frame),
        thresholds=thresholds,
        month=month,
        window=(window_start.date().isoformat(), month_end.date().isoformat()),
        lang=lang,
        totals={"revenue": float(frame["revenue"].sum()), "revenue_positive": total_positive,
                "customers": n, "active": int((frame["orders"] > 0).sum())},
    )


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
                          C.IS_RETURN) if c in ledger.columns]
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

    return {
        "n": n,
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
        "n_periods": n_periods,
        "end_day": end_d,
        "end_month": end_m,
    }


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


def abc_classes(revenue: pd.Series, customer_id: pd.Series, a: float, b: float) -> pd.DataFrame:
    """ABC class per customer by cumulative revenue share.

    Parameters
    ----------
    revenue : Series of float (currency), one per customer; customer_id : Series of str.
    a, b : the A and B shares (0.80, 0.15).

    Returns
    -------
    DataFrame aligned on the input index: revenue_share (revenue / sum of positive revenue),
    cum_share (cumulative share in ABC order, including the customer), abc ('A'|'B'|'C'),
    revenue_rank (1 = largest; the ABC order).

    The order is revenue desc, ties by customer_id. A customer is A when the cumulative share
    *before* it is below ``a`` (so the customer crossing 80 % stays A, unlike inventorize),
    B when it is below ``a + b``; revenue <= 0 is always C. Comparisons allow 1e-9 for
    floating sums (0.1 + 0.7 reaches 0.8).
    """
    rev = revenue.to_numpy(dtype=float)
    ids = customer_id.astype(str).to_numpy(dtype=object)
    positive_total = float(rev[rev > 0].sum())
    order = np.lexsort((ids, -rev))
    share = rev / positive_total if positive_total > 0 else np.zeros_like(rev)
    cum_sorted = np.cumsum(np.where(rev[order] > 0, share[order], 0.0))
    before_sorted = cum_sorted - np.where(rev[order] > 0, share[order], 0.0)
    cum = np.empty_like(cum_sorted)
    before = np.empty_like(before_sorted)
    cum[order], before[order] = cum_sorted, before_sorted
    rank = np.empty(len(rev), dtype=np.int64)
    rank[order] = np.arange(1, len(rev) + 1)
    abc = np.select([rev <= 0, before < a - _EPS, before < a + b - _EPS], ["C", "A", "B"], "C")
    return pd.DataFrame({"revenue_share": share, "cum_share": cum, "abc": abc, "revenue_rank": rank},
                        index=revenue.index)


def _xyz(base: dict[str, Any], xyz: dict[str, Any], window_months: int) -> pd.DataFrame:
    """XYZ class from the coefficient of variation of revenue per period.

    Periods run from the later of the window start and the customer's first purchase up to
    the reporting month (periods without purchases count as zero). CV = population std /
    mean. Fewer periods than required -> 'N' (cv left empty); mean <= 0 -> 'Z'.
    """
    per = base["per_period"]
    n_periods = base["n_periods"]
    plen = 3 if xyz["period"] == "quarter" else 1
    own = np.minimum(base["first_back"] // plen, n_periods - 1) + 1  # periods since first purchase
    mask = np.arange(n_periods)[None, :] < own[:, None]
    mean = (per * mask).sum(axis=1) / own
    var = (((per - mean[:, None]) * mask) ** 2).sum(axis=1) / own
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, np.sqrt(var) / mean, np.nan)
    need = max(2, min(int(xyz["min_periods"]), n_periods))
    short = own < need
    cls = np.select([short, ~(mean > 0), cv <= xyz["x"] + _EPS, cv <= xyz["y"] + _EPS],
                    ["N", "Z", "X", "Y"], "Z")
    out = pd.DataFrame({"xyz": cls, "xyz_cv": np.where(short, np.nan, cv), "xyz_periods": own})
    out.attrs = {"min_periods_used": need, "periods_in_window": n_periods}
    return out


def _rfm(frame: pd.DataFrame, bins: int) -> pd.DataFrame:
    """RFM scores 1..bins (bins = best) and the named segment.

    R = days from the last purchase to the month end (fewer is better), F = orders in the
    window, M = revenue in the window. Scores are rank-based quantiles among customers with
    an order in the window (ties share the score of their average rank); customers with no
    order in the window get R = F = M = 1 and the segment 'lost'. The named segment comes
    from the common R x F map on a 5-point scale (scores rescaled when bins != 5).
    """
    active = frame["orders"].to_numpy() > 0
    r = _score(frame["recency_days"].to_numpy(dtype=float), active, bins, higher_is_better=False)
    f = _score(frame["orders"].to_numpy(dtype=float), active, bins, higher_is_better=True)
    m = _score(frame["revenue"].to_numpy(dtype=float), active, bins, higher_is_better=True)
    r5 = np.clip(np.ceil(r * 5 / bins - _EPS), 1, 5).astype(np.int64)
    f5 = np.clip(np.ceil(f * 5 / bins - _EPS), 1, 5).astype(np.int64)
    named = np.where(active, _RFM_MAP[r5 - 1, f5 - 1], "lost")
    return frame.assign(rfm_r=r, rfm_f=f, rfm_m=m, rfm_segment=named.astype(str))


def _lifecycle(frame: pd.DataFrame, lc: dict[str, Any]) -> pd.DataFrame:
    """Lifecycle stage: new | active | sleeping | lost, judged as of the month end.

    * lost: silent more than ``lost_days``, or a customer without a rhythm (fewer than
      ``sleeping_min_orders`` purchases in all history) who bought nothing in the window;
    * sleeping: at least ``sleeping_min_orders`` purchases and silent longer than
      max(``sleeping_min_days``, ``sleeping_factor`` x its own median gap between purchase
      days): each customer is judged against its own rhythm. Purchases are counted as
      distinct days with a purchase: two orders on one day are one visit and add no gap;
    * new: first purchase within the last ``new_months`` calendar months (this one included);
    * active: the rest. Checked in this order.
    """
    silence = frame["recency_days"].to_numpy(dtype=float)
    gap = frame["median_gap_days"].to_numpy(dtype=float)
    limit = np.maximum(float(lc["sleeping_min_days"]),
                       np.where(np.isnan(gap), 0.0, float(lc["sleeping_factor"]) * gap))
    has_rhythm = frame["purchase_days"].to_numpy() >= int(lc["sleeping_min_orders"])
    lost = (silence > float(lc["lost_days"])) | (~has_rhythm & (frame["orders"].to_numpy() == 0))
    sleeping = has_rhythm & (silence > limit)
    new = frame["first_back"].to_numpy() < int(lc["new_months"])
    stage = np.select([lost, sleeping, new], ["lost", "sleeping", "new"], "active")
    return frame.assign(lifecycle=stage.astype(str), sleeping_after_days=limit)


def _tiers(frame: pd.DataFrame, tiers: dict[str, Any], lang: str) -> pd.DataFrame:
    """Four tiers (003): vip, strategic, typical, ballast, with the reason written out.

    Prospects: where the manager's potential is known for the customer, potential >=
    prospect_potential_ratio x revenue (and > 0); otherwise any signal: headcount >
    prospect_headcount, trend (last half-window on the half before) >= prospect_trend, or
    the ABC-XYZ cell in prospect_cells. Then, in order:
    VIP = A, share >= vip_min_share, not lost / sleeping; ballast = lost or revenue <= 0
    (a customer who brought nothing goes to reactivation, not development); strategic =
    prospects; ballast = orders <= ballast_max_orders; typical = the rest.
    """
    n = len(frame)
    revenue = frame["revenue"].to_numpy(dtype=float)
    potential = frame["potential"].to_numpy(dtype=float)
    has_potential = ~np.isnan(potential)
    ratio = float(tiers["prospect_potential_ratio"])
    by_potential = has_potential & (potential > 0) & (potential >= ratio * revenue - _EPS * np.abs(revenue))
    headcount = frame["headcount"].to_numpy(dtype=float)
    sig_head = ~np.isnan(headcount) & (headcount > float(tiers["prospect_headcount"]))
    trend = frame["trend"].to_numpy(dtype=float)
    sig_trend = ~np.isnan(trend) & (trend >= float(tiers["prospect_trend"]) - _EPS)
    sig_cell = frame["abc_xyz"].isin(list(tiers["prospect_cells"])).to_numpy()
    by_signals = sig_head | sig_trend | sig_cell
    prospects = np.where(has_potential, by_potential, by_signals)

    lifecycle = frame["lifecycle"].to_numpy()
    share = frame["revenue_share"].to_numpy(dtype=float)
    lost = lifecycle == "lost"
    vip = (frame["abc"].to_numpy() == "A") & (share >= float(tiers["vip_min_share"]) - _EPS) \
        & ~np.isin(lifecycle, ["lost", "sleeping"])
    nothing = revenue <= 0
    one_off = frame["orders"].to_numpy() <= int(tiers["ballast_max_orders"])
    tier = np.select([vip, lost | nothing, prospects, one_off],
                     ["vip", "ballast", "strategic", "ballast"], "typical").astype(str)

    # The reason, in plain words, built column-wise on the customers of each kind of reason
    # (object arrays: one C loop per piece; a handful of kinds, never a loop over customers).
    reason = np.full(n, "", dtype=object)
    kinds = np.select([tier == "vip", (tier == "ballast") & lost, (tier == "ballast") & nothing,
                       tier == "strategic", tier == "ballast"],
                      ["vip", "lost", "nothing", "strategic", "one_off"], "typical")
    xyz_codes = frame["xyz"].to_numpy()
    abc_codes = frame["abc"].to_numpy()
    cells = frame["abc_xyz"].to_numpy()
    rhythm_of = dict(t("segment.rhythm", lang))
    sleeping_txt = t("segment.reason_sleeping", lang)

    def head(idx: np.ndarray) -> np.ndarray:
        rhythm = pd.Series(xyz_codes[idx]).map(rhythm_of).to_numpy(dtype=object)
        return _fill(t("segment.reason_head", lang), len(idx), abc=abc_codes[idx].astype(object),
                     share=_pct_text(share[idx], lang), rhythm=rhythm)

    def note(idx: np.ndarray) -> np.ndarray:
        return np.where(lifecycle[idx] == "sleeping", sleeping_txt, "").astype(object)

    idx = np.flatnonzero(kinds == "vip")
    reason[idx] = head(idx)
    idx = np.flatnonzero(kinds == "typical")
    reason[idx] = _fill(t("segment.reason_typical", lang), len(idx), head=head(idx)) + note(idx)
    idx = np.flatnonzero(kinds == "strategic")
    if len(idx):
        rev, pot, sig = revenue[idx], potential[idx], ~has_potential[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = _number_text(np.where(rev > 0, pot / rev, np.nan), lang)
        pot_txt = np.where(has_potential[idx] & (rev > 0),
                           _fill(t("segment.signal_potential_ratio", lang), len(idx), ratio=ratio),
                           t("segment.signal_potential", lang))
        signals = _join([
            np.where(by_potential[idx], pot_txt, ""),
            np.where(sig_head[idx] & sig, t("segment.signal_headcount", lang, n=int(tiers["prospect_headcount"])), ""),
            np.where(sig_trend[idx] & sig,
                     _fill(t("segment.signal_trend", lang), len(idx), trend=_pct_text(trend[idx], lang, 0)), ""),
            np.where(sig_cell[idx] & sig,
                     _fill(t("segment.signal_cell", lang), len(idx), cell=cells[idx].astype(object)), ""),
        ])
        reason[idx] = _fill(t("segment.reason_strategic", lang), len(idx), head=head(idx), signals=signals) \
            + note(idx)
    idx = np.flatnonzero(kinds == "lost")
    reason[idx] = _fill(t("segment.reason_lost", lang), len(idx),
                        days=frame["recency_days"].to_numpy()[idx].astype(str).astype(object))
    reason[kinds == "nothing"] = t("segment.reason_no_revenue", lang)
    idx = np.flatnonzero(kinds == "one_off")
    reason[idx] = _fill(t("segment.reason_one_off", lang), len(idx),
                        orders=frame["orders"].to_numpy()[idx].astype(str).astype(object))
    return frame.assign(
        tier=tier, tier_reason=pd.Series(reason, index=frame.index, dtype="string"),
        prospects=prospects.astype(bool),
        prospect_source=np.where(has_potential, "potential", "signals").astype(str),
    )


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


# --------------------------------------------------------------------------- summaries
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


def tier_mix(frame: pd.DataFrame, healthy: dict[str, Any], lang: str = "ru") -> pd.DataFrame:
    """Tier counts against the healthy mix (003), each deviation explained in plain words.

    Columns: tier, customers, share (of all customers in the base, by count), healthy_low,
    healthy_high, status ('ok' | 'below' | 'above'), explanation (text in ``lang``),
    lost (of which lost customers: they sit in ballast).
    """
    from workbench.report import fmt

    n = len(frame)
    counts = frame["tier"].value_counts().reindex(list(TIERS), fill_value=0)
    lost = frame.loc[frame["lifecycle"] == "lost", "tier"].value_counts().reindex(list(TIERS), fill_value=0)
    rows = pd.DataFrame({"tier": list(TIERS), "customers": counts.to_numpy().astype(np.int64)})
    rows["share"] = rows["customers"] / n if n else 0.0
    rows["healthy_low"] = [float(healthy[k][0]) for k in TIERS]
    rows["healthy_high"] = [float(healthy[k][1]) for k in TIERS]
    rows["status"] = np.select([rows["share"] < rows["healthy_low"] - _EPS,
                                rows["share"] > rows["healthy_high"] + _EPS], ["below", "above"], "ok")
    # Four rows: formatting them one by one is not a loop over customers.
    rows["explanation"] = [
        t(f"segment.mix_{tier}_{status}", lang, share=fmt.pct(share, lang),
          low=fmt.pct(low, lang, 0), high=fmt.pct(high, lang, 0))
        for tier, status, share, low, high in zip(rows["tier"], rows["status"], rows["share"],
                                                  rows["healthy_low"], rows["healthy_high"])]
    rows["lost"] = lost.to_numpy().astype(np.int64)
    return rows


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


def segments_csv_frame(res: SegmentationResult, lang: str = "ru") -> pd.DataFrame:
    """The table behind segments.csv: the documented columns first, codes untranslated.

    Columns: customer_id, customer_name, revenue, revenue_share, abc, xyz, abc_xyz, rfm_r,
    rfm_f, rfm_m, rfm_segment, lifecycle, tier, key_account, map, then inn, manager, orders,
    xyz_cv, cum_share, recency_days, ka_grade, map_candidate, first_purchase, last_purchase,
    revenue_prev, avg_check, headcount, potential, industry, tier_reason (text in res.lang).
    ``lang`` is accepted for symmetry; codes never depend on it.
    """
    extras = ["inn", "manager", "orders", "xyz_cv", "cum_share", "recency_days", "ka_grade",
              "map_candidate", "first_purchase", "last_purchase", "revenue_prev", "avg_check",
              "headcount", "potential", "industry", "tier_reason"]
    return res.customers[list(C.SEGMENTS_COLUMNS) + extras].copy()


__all__ = [
    "LIFECYCLES",
    "RFM_SEGMENTS",
    "TIERS",
    "SegmentationResult",
    "abc_classes",
    "abc_xyz_matrix",
    "action_lists",
    "concentration",
    "segment",
    "segments_csv_frame",
    "tier_mix",
]
