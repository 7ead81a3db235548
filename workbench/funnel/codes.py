"""The deals table as integer codes: every measure is a count or a sum over codes (numpy).

Text columns of a million deals are worked on once, as codes into their distinct values
(pyarrow's dictionary encoding through ``pandas.factorize``); every group is then a
``numpy.bincount`` and only the small result tables hold text again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench import columns as C

TIERS = ("vip", "strategic", "typical", "ballast")
SEGMENTS = (*TIERS, "new", "none")  # new: a customer not in the segmented base; none: no customer
NS_PER_DAY = 86_400 * 10**9


def codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes int64, distinct values as an object array) of a text column; a missing value is ""."""
    found, uniq = pd.factorize(col)
    values = np.asarray(uniq, dtype=object)
    found = np.asarray(found, dtype=np.int64)
    if (found < 0).any():
        empty = np.flatnonzero(values == "")
        if len(empty):
            found = np.where(found < 0, empty[0], found)
        else:
            found = np.where(found < 0, len(values), found)
            values = np.append(values, "")
    return found, values


def day_ns(values: pd.Series) -> np.ndarray:
    """datetime64 column as int64 nanoseconds (NaT: the int64 minimum)."""
    return values.to_numpy(dtype="datetime64[ns]").view(np.int64)


NAT = np.iinfo(np.int64).min


@dataclass
class Deals:
    """The deals as codes and numbers, one row per deal (see ``encode``)."""

    n: int
    amount: np.ndarray        # float64, 0 for none
    has_amount: np.ndarray    # bool
    outcome: np.ndarray       # int8: 0 open, 1 won, 2 lost, -1 other
    created: np.ndarray       # int64 ns (NAT)
    closed: np.ndarray
    modified: np.ndarray
    order: np.ndarray         # int64 stage order (0: a closed stage)
    pipeline: np.ndarray      # int64 pipeline code
    pipelines: np.ndarray     # pipeline code -> text
    width: int                # key of an open stage = pipeline * width + order
    key: np.ndarray           # int64 key of each deal's open stage (-1 for closed deals)
    keys: pd.DataFrame        # the open stages deals sit in: key, pipeline, stage, stage_order


def encode(d: pd.DataFrame) -> Deals:
    """The deals table (``DEALS_COLUMNS``) as codes and numbers. An open stage is known by its
    pipeline and its position (stage_order), so only the pipeline is worked on as text."""
    amount = d[C.AMOUNT].to_numpy(dtype="float64")
    text = _arrow(d[C.OUTCOME])
    outcome = np.full(len(d), -1, dtype=np.int8)
    for code, word in ((0, "open"), (1, "won"), (2, "lost")):
        outcome[pc.equal(text, word).fill_null(False).to_numpy(zero_copy_only=False)] = code
    pipe, pv = codes(d[C.PIPELINE])
    order = d[C.STAGE_ORDER].to_numpy(dtype=np.int64)
    width = int(order.max()) + 1 if len(order) else 1
    is_open = (outcome == 0) & (order > 0)
    key = np.where(is_open, pipe * width + order, -1)
    uniq, first = np.unique(key[is_open], return_index=True)
    rows = np.flatnonzero(is_open)[first]
    keys = pd.DataFrame({"key": uniq, C.PIPELINE: pv[uniq // width] if len(uniq) else [],
                         C.STAGE: d[C.STAGE].take(rows).to_numpy(dtype=object), C.STAGE_ORDER: uniq % width})
    return Deals(n=len(d), amount=np.nan_to_num(amount), has_amount=~np.isnan(amount), outcome=outcome,
                 created=day_ns(d[C.CREATED]), closed=day_ns(d[C.CLOSED]), modified=day_ns(d[C.MODIFIED]),
                 order=order, pipeline=pipe, pipelines=pv, width=width, key=key, keys=keys)


def segment_codes(d: pd.DataFrame, segments: pd.DataFrame | None) -> np.ndarray:
    """Each deal's segment as an index into ``SEGMENTS`` (the customer's tier, ``new``, ``none``)."""
    cc, cv = codes(d[C.CUSTOMER_ID])
    per_value = np.full(len(cv), SEGMENTS.index("new"), dtype=np.int64)
    if segments is not None and len(segments) and C.TIER in segments.columns:
        tier = dict(zip(segments[C.CUSTOMER_ID].astype(str), segments[C.TIER].astype(str)))
        per_value = np.asarray([SEGMENTS.index(tier[v]) if tier.get(v) in TIERS else SEGMENTS.index("new")
                                for v in cv.tolist()], dtype=np.int64)
    per_value[cv == ""] = SEGMENTS.index("none")
    return per_value[cc]


@dataclass
class History:
    """The stage history as codes: one row per stage entered, in deal order then time order."""

    deal: np.ndarray     # int64 row of the deal in the deals table
    order: np.ndarray    # int64 position of the stage in its funnel (0: a closed stage)
    key: np.ndarray      # int64 key of an open stage as ``Deals.key`` (-1: a closed stage)
    entered: np.ndarray  # int64 ns
    starts: np.ndarray   # first row of each deal's run of rows


def encode_history(h: pd.DataFrame, d: pd.DataFrame, deals: Deals, order_of: dict[tuple[str, str], int]
                   ) -> History:
    """The history (``DEAL_HISTORY_COLUMNS``) against the deals.

    The import writes each row's ``deal_row`` and ``stage_order``; they are used when they agree
    with ``d`` (the first row of each deal names the deal that row holds), else worked out from
    the deal ids and ``order_of`` ((pipeline, stage) -> position). Rows of deals not in ``d``
    are left out; rows are put in deal order, then time order, unless they are so already.
    """
    entered = day_ns(h[C.ENTERED])
    row = _rows_given(h, d)
    if row is not None:
        order = h[C.STAGE_ORDER].to_numpy(dtype=np.int64)
    else:
        row = pc.index_in(_arrow(h[C.DEAL_ID]), value_set=_arrow(d[C.DEAL_ID])).fill_null(-1) \
            .to_numpy(zero_copy_only=False).astype(np.int64)
        sc, sv = codes(h[C.STAGE])
        pipe_of_row = np.where(row >= 0, deals.pipeline[np.maximum(row, 0)], 0)
        table = np.asarray([order_of.get((str(deals.pipelines[p]), str(s)), 0)
                            for p in range(len(deals.pipelines)) for s in sv.tolist()], dtype=np.int64)
        order = table[pipe_of_row * len(sv) + sc] if len(sc) else sc
    keep = row >= 0
    if not keep.all():
        row, entered, order = row[keep], entered[keep], order[keep]
    same_deal = row[1:] == row[:-1]
    in_order = bool(np.all(~same_deal | (entered[1:] >= entered[:-1])))
    runs = np.flatnonzero(np.r_[True, ~same_deal]) if len(row) else np.zeros(0, dtype=np.int64)
    contiguous = not len(runs) or int(np.bincount(row[runs]).max()) <= 1
    if not (in_order and contiguous):
        sort = np.lexsort((entered, row))
        row, entered, order = row[sort], entered[sort], order[sort]
        runs = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if len(row) else runs
    key = np.where(order > 0, deals.pipeline[row] * deals.width + order, -1) if len(row) else row
    return History(deal=row, order=order, key=key, entered=entered, starts=runs)


def _rows_given(h: pd.DataFrame, d: pd.DataFrame) -> np.ndarray | None:
    """The history's own ``deal_row`` when it points at the right deals of ``d`` (checked on the
    first row of each run of one deal), else None."""
    if C.DEAL_ROW not in h.columns or C.STAGE_ORDER not in h.columns or not len(h):
        return None
    row = h[C.DEAL_ROW].to_numpy(dtype=np.int64)
    if row.min() < 0 or row.max() >= len(d):
        return None
    runs = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    given = _arrow(h[C.DEAL_ID]).take(pa.array(runs))
    found = _arrow(d[C.DEAL_ID]).take(pa.array(row[runs]))
    return row if pc.all(pc.equal(given, found)).as_py() else None


def _arrow(col: pd.Series) -> pa.Array:
    """A text column as one pyarrow string array (no copy for pandas' Arrow-backed text)."""
    arr = pa.array(col.astype("str"))
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def group_sum(codes_: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum (or count) per code 0..n-1."""
    return np.bincount(codes_, weights=weights, minlength=n)[:n]


__all__ = ["NAT", "NS_PER_DAY", "SEGMENTS", "TIERS", "Deals", "History", "codes", "day_ns", "encode",
           "encode_history", "group_sum", "segment_codes"]
