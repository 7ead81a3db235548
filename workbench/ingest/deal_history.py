"""The stage history of a deal export: read, joined to its deals, and used to classify and order.

A stage history is one row per stage a deal entered (Bitrix24's ``crm.stagehistory.list``:
``OWNER_ID``, ``STAGE_ID``, ``CREATED_TIME``; or any file with a deal id, a stage and a date).
Its rows are kept for the deals of the export (others are counted), in the deals' order and
then in time, with each row's deal (``deal_row``) and stage position (``stage_order``): the
funnel then works on numbers. Stages deals passed through but none sits in now join the
stage table; the open stages' order comes from it when neither the consultant nor the CRM's
defaults tell.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench import columns as C
from workbench.errors import Problem
from workbench.ingest.buffers import _as_array, _lengths
from workbench.ingest.coded import Coded
from workbench.ingest.dates import parse_dates
from workbench.ingest.deal_read import _TIME_TAIL, factor, str_series, text_of
from workbench.ingest.problems import _Collector
from workbench.ingest.stages import classify_stages, stage_summary
from workbench.io import readers
from workbench.io.readers import ReadError, Source


def read_history(engagement: Any, problems: list[Problem], display_name: str, deals: Any, path: Any) -> None:
    """Read the stage history at ``path`` (with ``inputs.deal_history``'s sheet and columns) into
    ``deals.history`` (``DEAL_HISTORY_COLUMNS``); problems go to ``problems``. ``deals``: the
    ``DealImport`` of the export."""
    from workbench.ingest.deals import find_deal_header

    spec = engagement.settings["inputs"]["deal_history"]
    col = _Collector(display_name, engagement.lang, None)
    try:
        source = readers.open_source(path, display_name, spec.get("sheet", "") or "")
        col.source = source
        header = find_deal_header(source, dict(spec.get("columns") or {}), kind="history")
        if header is None:
            first = source.preview(source.delimiters[0])
            col.add("deal_history_no_header", first[0][0] if first else None, None, "",
                    " | ".join(c for c in first[0][2][:8] if c.strip()) if first else "")
        else:
            for missing in header.missing_explicit:
                col.add("unknown_mapped_column", header.first_row, None, missing,
                        " | ".join(x for x in header.labels if x))
            if not col.items:
                _read(source, header, col, deals, engagement.settings["import"].get("date_order", "auto"))
    except ReadError as exc:
        col.add(exc.kind, exc.row, None, "", exc.value)
    except (pa.ArrowException, ValueError, TypeError, IndexError, KeyError, OverflowError, UnicodeError) as exc:
        col.add("unreadable", None, None, "", f"{type(exc).__name__}: {exc}")
    problems.extend(col.items)


def _read(source: Source, header: Any, col: _Collector, deals: Any, date_order: str = "auto") -> None:
    m = header.mapping
    ncols = max(len(header.labels), max(m.values()) + 1)
    body = source.body(header.delimiter, header.data_start, ncols)
    for row, nfields in body.ragged:
        col.add("ragged_row", row, None, "", f"{nfields} ≠ {ncols}")
    text = {f: text_of(body, j) for f, j in m.items() if f in ("deal_id", "stage", "date")}
    keep = np.flatnonzero(_lengths(text["deal_id"]) > 0)
    rows = body.rows[keep]
    if len(keep) < len(body):
        text = {f: a.take(pa.array(keep)) for f, a in text.items()}
    numbers = body.numbers[m["date"]][keep] if body.numbers is not None else None
    days = pc.replace_substring_regex(text["date"], _TIME_TAIL, "")  # to the day: parsed per distinct day
    entered, bad, empty, _, _ = parse_dates(Coded.encode(days), numbers, date_order)
    col.mask("bad_date", bad | empty, rows, text["date"], m["date"], header.labels[m["date"]])
    if col.items:
        return
    row = pc.index_in(text["deal_id"], value_set=_as_array(pa.array(deals.deals[C.DEAL_ID]))).fill_null(-1) \
        .to_numpy(zero_copy_only=False).astype(np.int64)
    mine = row >= 0
    order = np.lexsort((entered[mine], row[mine]))         # deal by deal (the deals' order), then in time
    taken = np.flatnonzero(mine)[order]
    deal_row = row[taken]
    picked = pa.array(taken)
    n = len(taken)
    pipelines = _as_array(pa.array(deals.deals[C.PIPELINE])).take(pa.array(deal_row))
    deals.history = pd.DataFrame({
        C.DEAL_ID: str_series(text["deal_id"].take(picked), n), C.PIPELINE: str_series(pipelines, n),
        C.STAGE: str_series(text["stage"].take(picked), n), C.ENTERED: entered[taken],
        C.STAGE_ORDER: np.zeros(n, dtype=np.int64), C.DEAL_ROW: deal_row})[list(C.DEAL_HISTORY_COLUMNS)]
    deals.report["deals"]["history"] = {"file": col.file, "rows": len(rows), "rows_used": int(mine.sum()),
                                        "rows_other_deals": int((~mine).sum()),
                                        "deals_with_history": int((np.bincount(deal_row) > 0).sum()) if n else 0}


def classify_with_history(deals: Any, config: dict[str, dict[str, str]]) -> None:
    """Classify again with the stage history: the stages deals passed through but none sits in
    now join the stage table (a system stage as such; another one, which deals moved on from,
    as open: rule ``history``), and the open stages are ordered by the history where neither
    the consultant nor the CRM's defaults tell (the mean position at which deals first entered
    each stage). Each history row gets its stage's position; the deals' positions and the
    report follow."""
    from workbench.ingest.deals import _counted

    h = deals.history
    if h is None or not len(h):
        return
    pcode, pv = factor(_as_array(pa.array(h[C.PIPELINE])))
    scode, sv = factor(_as_array(pa.array(h[C.STAGE])))
    width = max(len(sv), 1)
    uniq, pair = np.unique(pcode * width + scode, return_inverse=True)
    hist_pairs = [(pv[int(u) // width], sv[int(u) % width]) for u in uniq]
    known = set(zip(deals.pairs[C.PIPELINE], deals.pairs[C.STAGE]))
    extra = [p for p in hist_pairs if p not in known]
    pairs = deals.pairs
    if extra:
        pairs = pd.concat([pairs, pd.DataFrame({
            C.PIPELINE: [p for p, _ in extra], C.STAGE: [s for _, s in extra], "deals": 0, "amount": 0.0,
            "semantic": "", "closed": None, "median_age": np.nan, "passed": True})], ignore_index=True)
    provisional = classify_stages(pairs, config, deals.crm)
    outcome = dict(zip(zip(provisional.table[C.PIPELINE], provisional.table[C.STAGE]), provisional.table[C.OUTCOME]))
    is_open = np.asarray([outcome.get(p) == "open" for p in hist_pairs], dtype=bool)
    ranks = _ranks(h[C.DEAL_ROW].to_numpy(dtype=np.int64), pair, is_open, hist_pairs)
    table = classify_stages(pairs, config, deals.crm, entered=ranks)
    deals.pairs = pairs
    deals.stages = table.table
    deals.unclassified = _counted(table.unclassified, deals.deals)
    order_of = dict(zip(zip(table.table[C.PIPELINE], table.table[C.STAGE]), table.table[C.STAGE_ORDER]))
    deals.report["deals"].update(stage_summary(table.table))
    deals.report["deals"]["order_from"] = table.order_from
    per_pair = np.asarray([order_of.get(p, 0) for p in hist_pairs], dtype=np.int64)
    deals.history = h.assign(**{C.STAGE_ORDER: per_pair[pair] if len(pair) else np.zeros(0, dtype=np.int64)})
    d = deals.deals
    dp, dpv = factor(_as_array(pa.array(d[C.PIPELINE])))
    ds, dsv = factor(_as_array(pa.array(d[C.STAGE])))
    w = max(len(dsv), 1)
    du, dpair = np.unique(dp * w + ds, return_inverse=True)
    per_deal_pair = np.asarray([order_of.get((dpv[int(u) // w], dsv[int(u) % w]), 0) for u in du], dtype=np.int64)
    deals.deals[C.STAGE_ORDER] = per_deal_pair[dpair] if len(dpair) else np.zeros(0, dtype=np.int64)


def _ranks(deal_row: np.ndarray, pair: np.ndarray, is_open: np.ndarray,
           pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """The mean position at which deals first entered each open stage (rows sorted by deal, then
    time): ``pipeline``, ``stage``, ``rank``."""
    mine = is_open[pair]
    d, p = deal_row[mine], pair[mine]
    first = ~pd.Series(d * len(pairs) + p).duplicated().to_numpy()
    d, p = d[first], p[first]
    starts = np.r_[True, d[1:] != d[:-1]] if len(d) else np.zeros(0, dtype=bool)
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(d)), 0)) if len(d) else np.zeros(0, np.int64)
    pos = np.arange(len(d)) - run_start + 1
    counts = np.bincount(p, minlength=len(pairs))
    sums = np.bincount(p, weights=pos, minlength=len(pairs))
    seen = np.flatnonzero(counts > 0)
    return pd.DataFrame({C.PIPELINE: [pairs[i][0] for i in seen], C.STAGE: [pairs[i][1] for i in seen],
                         "rank": sums[seen] / counts[seen]})


__all__ = ["classify_with_history", "read_history"]
