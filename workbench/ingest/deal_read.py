"""A deal export's rows -> the canonical deals table, checked (whole columns, codes per value).

Called by ``workbench.ingest.deals`` once the header is known. Every text column is worked
on as codes into its distinct values (pyarrow dictionary encoding): stages, pipelines, flags
and semantics are classified per distinct value or per distinct (pipeline, stage), dates are
parsed per distinct day (the time of day is dropped first), and only the problems' rows are
ever looked at one by one. A million deals import in seconds.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench import columns as C
from workbench.ingest import deal_checks as checks
from workbench.ingest.buffers import _as_array, _lengths
from workbench.ingest.coded import Coded
from workbench.ingest.dates import parse_dates
from workbench.ingest.headers import normalise_header
from workbench.ingest.identity import name_keys
from workbench.ingest.messages import _msg
from workbench.ingest.numbers import ABSURD, detect_decimal, parse_number_text, prepare_number_text
from workbench.ingest.problems import _Collector, _sheet_ref
from workbench.ingest.stages import (
    classify_stages,
    code_pipeline,
    deal_messages,
    flag_value,
    stage_family,
)
from workbench.ingest.text import _trim
from workbench.io import readers
from workbench.io.readers import Source

DATE_FIELDS = ("created", "closed", "modified")
TEXT_FIELDS = ("deal_id", "deal_name", "stage", "pipeline", "closed_flag", "semantic", "company", "contact",
               "manager", "source", "lost_reason", "currency")
OUTCOMES = ("open", "won", "lost", "")  # outcome codes 0..3
_NO_ID = ("", "0")  # Bitrix24 writes COMPANY_ID / CONTACT_ID 0 for "none"
_TIME_TAIL = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
# Headers only Bitrix24 writes (its interface and its REST field names).
_B24_HEADERS = ("стадия сделки", "сделка закрыта", "направление", "stage id", "stage semantic id", "category id",
                "opportunity", "assigned by id", "date create", "date modify")


def factor(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """(codes int64, distinct values) of a text array, codes in order of first appearance."""
    enc = pc.dictionary_encode(values)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()


def text_of(body: readers.Body, j: int) -> pa.Array:
    c = body.cells[j]
    if pa.types.is_binary(c.type):
        c = readers.decode_binary(c, body.raw_codec)
    return _trim(_as_array(c))


def str_series(values: pa.Array | None, n: int) -> pd.Series:
    """A pandas ``str`` column from Arrow text (no per-value work)."""
    if values is None:
        values = pa.array([""] * n, pa.string())
    if not pa.types.is_large_string(values.type):
        values = values.cast(pa.large_string())
    return pd.Series(pd.array(values, dtype="str"))


def crm_by_header(labels: list[str], amocrm: bool) -> str:
    """amocrm or bitrix24 by the export's headers ("" when they do not tell)."""
    if amocrm:
        return "amocrm"
    if any(normalise_header(x) in _B24_HEADERS for x in labels):
        return "bitrix24"
    return ""


def read_rows(source: Source, header: Any, col: _Collector, engagement: Any) -> dict[str, Any] | None:
    """The deal export's rows, checked and classified; None when a problem was found (in ``col``).

    Returns the pieces ``workbench.ingest.deals`` assembles: ``deals`` (DEALS_COLUMNS),
    ``stage_table`` (a ``StageTable``), ``pairs`` (the distinct stages as classified), ``crm``,
    ``rows`` (physical row per deal), ``labels`` (field -> header), the report's counts.
    """
    lang, settings = engagement.lang, engagement.settings
    m = header.mapping
    ncols = max(len(header.labels), max(m.values()) + 1)
    body = source.body(header.delimiter, header.data_start, ncols)
    for row, nfields in body.ragged:
        col.add("ragged_row", row, None, "", f"{nfields} ≠ {ncols}")
    label = {f: header.labels[j] for f, j in m.items()}
    text = {f: text_of(body, j) for f, j in m.items()}
    n = len(body)
    blank = np.ones(n, dtype=bool)
    for a in text.values():
        blank &= _lengths(a) == 0
    keep = np.flatnonzero(~blank)
    if len(keep) < n:
        taken = pa.array(keep)
        text = {f: a.take(taken) for f, a in text.items()}
    rows = body.rows[keep]
    numbers = [x[keep] for x in body.numbers] if body.numbers is not None else None
    n = len(rows)
    empty = pa.array([""] * n, pa.string()) if any(f not in text for f in TEXT_FIELDS) else None
    t = {f: text.get(f, empty) for f in TEXT_FIELDS}
    # --- amounts ----------------------------------------------------------------------------
    amount = np.full(n, np.nan)
    decimal = ""
    if "amount" in m:
        prepared = prepare_number_text(text["amount"])
        knum = numbers[m["amount"]] if numbers is not None else None
        only_text = prepared if knum is None else prepared.filter(pa.array(np.isnan(knum)))
        decimal = detect_decimal([only_text], any("\u0400" <= ch <= "\u04ff" for x in header.labels for ch in x))
        amount, bad, _ = parse_number_text(prepared, decimal)
        if knum is not None:
            is_num = ~np.isnan(knum)
            amount, bad = np.where(is_num, knum, amount), bad & ~is_num
        with np.errstate(invalid="ignore"):
            absurd = np.abs(amount) > ABSURD
        col.mask("bad_amount", bad, rows, text["amount"], m["amount"], label["amount"])
        col.mask("absurd_amount", absurd, rows, text["amount"], m["amount"], label["amount"])
    # --- stages and pipelines, as codes ---------------------------------------------------------
    sc, sv = factor(t["stage"])
    if "pipeline" in m:
        pcode, pv = factor(t["pipeline"])
    else:  # Bitrix24 codes name their pipeline: "C2:NEW" is pipeline 2, a bare code the main one
        derived = [("" if (code_pipeline(v) or "0") == "0" else str(code_pipeline(v))) for v in sv]
        dcode, pv = factor(pa.array(derived, pa.string())) if derived else (np.zeros(0, np.int64), [])
        pcode = dcode[sc] if len(sc) else sc
    combined = pcode * max(len(sv), 1) + sc
    uniq_pairs, pair_code = np.unique(combined, return_inverse=True)
    pair_pipeline = [pv[int(c) // max(len(sv), 1)] for c in uniq_pairs]
    pair_stage = [sv[int(c) % max(len(sv), 1)] for c in uniq_pairs]
    crm_header = crm_by_header(header.labels, header.amocrm)
    checks.mixed_crm(sc, sv, rows, col, m["stage"], label["stage"], crm_header)
    if "pipeline" in m:
        checks.pipeline_contradictions(pair_code, pair_pipeline, pair_stage, rows, col, m["pipeline"],
                                       label["pipeline"])
    # --- dates, parsed per distinct day ---------------------------------------------------------
    dates, date_bad, fmts = {}, {}, {}
    for f in DATE_FIELDS:
        if f in m:
            days = pc.replace_substring_regex(text[f], _TIME_TAIL, "")
            d, bad, _, counts, _ = parse_dates(Coded.encode(days), numbers[m[f]] if numbers is not None else None,
                                               engagement.settings["import"].get("date_order", "auto"))
            dates[f], date_bad[f] = d, bad
            for k, v in counts.items():
                fmts[k] = fmts.get(k, 0) + int(v)
        else:
            dates[f] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
            date_bad[f] = np.zeros(n, dtype=bool)
    as_of = latest({f: dates[f] for f in ("created", "modified")})  # a planned close may lie ahead
    # --- classification per distinct (pipeline, stage) -----------------------------------------
    semc, semv = factor(pc.utf8_upper(t["semantic"]))
    flagc, flagv = factor(t["closed_flag"])
    flag_of_value = np.asarray([{True: 1, False: 0}.get(flag_value(v) if v else None, -1) for v in flagv] + [-1],
                               dtype=np.int8)
    flag = flag_of_value[flagc] if len(flagc) else np.zeros(0, np.int8)
    n_pairs = len(uniq_pairs)
    age = (as_of - dates["created"]).astype("timedelta64[s]").astype("float64") / 86400.0 \
        if as_of is not None else np.full(n, np.nan)
    pairs = pd.DataFrame({C.PIPELINE: pair_pipeline, C.STAGE: pair_stage})
    pairs["deals"] = np.bincount(pair_code, minlength=n_pairs)
    pairs["amount"] = np.bincount(pair_code, weights=np.nan_to_num(amount), minlength=n_pairs)
    pairs["semantic"] = [semv[i] if i >= 0 else "" for i in majority(pair_code, semc, n_pairs, len(semv),
                                                                       skip=_index_of(semv, ""))]
    flag_major = majority(pair_code, flag.astype(np.int64) + 1, n_pairs, 3, skip=0)   # -1 (none) skipped
    pairs["closed"] = [{2: True, 1: False}.get(int(i)) for i in flag_major]
    pairs["median_age"] = pd.Series(age).groupby(pair_code).median().reindex(range(n_pairs)).to_numpy()
    crm = crm_header or _crm_by_values(sv)
    stage_table = classify_stages(pairs, settings["deals"]["stages"], crm)
    by_pair = stage_table.table.set_index([C.PIPELINE, C.STAGE])
    pair_outcome = np.asarray([OUTCOMES.index(by_pair.loc[(p, s), C.OUTCOME])
                               for p, s in zip(pair_pipeline, pair_stage)], dtype=np.int8)
    pair_order = np.asarray([by_pair.loc[(p, s), C.STAGE_ORDER] for p, s in zip(pair_pipeline, pair_stage)],
                            dtype=np.int64)
    outcome = pair_outcome[pair_code] if n else np.zeros(0, np.int8)
    order = pair_order[pair_code] if n else np.zeros(0, np.int64)
    checks.stage_contradictions(sc, sv, semc, semv, flag, outcome, rows, col, m, label, crm)
    # --- dates by outcome ------------------------------------------------------------------------
    is_open = outcome == 0
    for f in DATE_FIELDS:
        if f in m:
            bad = date_bad[f] & ~is_open if f == "closed" else date_bad[f]
            col.mask("bad_date", bad, rows, text[f], m[f], label[f])
    close_text = date_bad["closed"] & is_open  # «не закрыта» in an open deal's close date: normal
    close = np.where(is_open, np.datetime64("NaT"), dates["closed"]).astype("datetime64[ns]")
    from_modified = ~is_open & np.isnat(close) & ~np.isnat(dates["modified"])
    close = np.where(from_modified, dates["modified"], close).astype("datetime64[ns]")
    close_from = np.where(is_open, 2, np.where(from_modified, 1, 0)).astype(np.int64)  # close | modified | ""
    as_of = latest({"created": dates["created"], "modified": dates["modified"], "closed": close})
    won = outcome == 1
    no_date = ~is_open & (outcome != 3) & np.isnat(close) & ~date_bad["closed"]
    if no_date.any():
        col.mask("deal_no_close_date", no_date, rows, t["stage"], m.get("closed", m["stage"]),
                 label.get("closed", label["stage"]))
    # --- amounts by outcome ----------------------------------------------------------------------
    if "amount" in m:
        with np.errstate(invalid="ignore"):
            negative = amount < 0
        col.mask("deal_negative_amount", negative, rows, text["amount"], m["amount"], label["amount"])
    no_amount = won & (np.isnan(amount) | (amount == 0))
    if settings["deals"]["won_without_amount"] == "refuse" and no_amount.any():
        values = text["amount"] if "amount" in m else t["stage"].cast(pa.string())
        col.mask("deal_won_no_amount", no_amount, rows, values, m.get("amount", m["stage"]),
                 label.get("amount", label["stage"]))
    checks.currencies(t["currency"], rows, col, m.get("currency"), label.get("currency", ""))
    if col.items:
        return None
    # --- one row per deal --------------------------------------------------------------------------
    frame = pd.DataFrame({
        C.DEAL_ID: str_series(t["deal_id"], n), C.DEAL_NAME: str_series(t["deal_name"], n),
        C.PIPELINE: str_series(pa.array(pv, pa.string()).take(pa.array(pcode)), n),
        C.STAGE: str_series(t["stage"], n),
        C.OUTCOME: str_series(pa.array(OUTCOMES, pa.string()).take(pa.array(outcome.astype(np.int64))), n),
        C.STAGE_ORDER: order, C.AMOUNT: amount, C.CREATED: dates["created"], C.CLOSED: close,
        C.MODIFIED: dates["modified"],
        C.CLOSE_FROM: str_series(pa.array(["close", "modified", ""], pa.string()).take(pa.array(close_from)), n),
        "company": str_series(t["company"], n), "contact": str_series(t["contact"], n),
        C.MANAGER: str_series(t["manager"], n), C.SOURCE: str_series(t["source"], n),
        C.LOST_REASON: str_series(t["lost_reason"], n),
        "_row": rows, "_close_text": close_text, "_no_amount": no_amount,
    })
    frame, dups = checks.one_row_per_deal(frame, "deal_id" in m, "modified" in m, col, m.get("deal_id", 0),
                                          label.get("deal_id", ""))
    if col.items:
        return None
    deals = customers_of(frame, lang)
    deals[C.SOURCE_FILE] = str_series(pa.array([col.file], pa.string()).take(pa.array(np.zeros(len(deals), np.int64))),
                                      len(deals))
    deals[C.SOURCE_ROW] = str_series(row_labels(deals["_row"].to_numpy(dtype=np.int64), source, lang), len(deals))
    counted = {"open_close_text": int(deals["_close_text"].sum()), "won_no_amount": int(deals["_no_amount"].sum())}
    rows_kept = deals["_row"].to_numpy(dtype=np.int64)
    deals = deals[list(C.DEALS_COLUMNS)].reset_index(drop=True)
    return {"deals": deals, "stage_table": stage_table, "pairs": pairs, "crm": crm, "rows": rows_kept,
            "labels": label, "body": body, "blank": blank, "decimal": decimal, "fmts": fmts, "as_of": as_of,
            "dups": dups, **counted}


def _index_of(values: list[str], value: str) -> int:
    return values.index(value) if value in values else -1


def majority(group: np.ndarray, value: np.ndarray, n_groups: int, n_values: int, skip: int = -1) -> np.ndarray:
    """The most frequent value code per group (-1 when the group has none but ``skip``)."""
    if not n_values or not len(group):
        return np.full(n_groups, -1, dtype=np.int64)
    counts = np.bincount(group * n_values + value, minlength=n_groups * n_values).reshape(n_groups, n_values)
    if 0 <= skip < n_values:
        counts[:, skip] = 0
    best = counts.argmax(axis=1)
    return np.where(counts.max(axis=1) > 0, best, -1)


def latest(dates: dict[str, np.ndarray]) -> np.datetime64 | None:
    """The export's date: the latest date it holds."""
    found = [d[~np.isnat(d)].max() for d in dates.values() if (~np.isnat(d)).any()]
    return max(found) if found else None


def _crm_by_values(stages: list[str]) -> str:
    families = {stage_family(v) for v in stages[:10_000]} - {""}
    return families.pop() if len(families) == 1 else ""


def customers_of(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """customer_name / customer_kind / customer_id (the name key) of each deal: the company,
    else the contact; Bitrix24's numeric ids become «Компания 11» / «Контакт 7»."""
    msgs = deal_messages(lang)
    company = _as_array(pa.array(frame["company"])).cast(pa.string())
    contact = _as_array(pa.array(frame["contact"])).cast(pa.string())
    no_id = pa.array(list(_NO_ID), pa.string())
    has_company = pc.invert(pc.is_in(company, value_set=no_id))
    has_contact = pc.and_(pc.invert(pc.is_in(contact, value_set=no_id)), pc.invert(has_company))

    def named(values: pa.Array, template: str) -> pa.Array:
        before, _, after = template.partition("{id}")
        numeric = pc.match_substring_regex(values, r"^\d+$")
        text = pa.string()
        joined = pc.binary_join_element_wise(pa.scalar(before, text), values, pa.scalar(after, text),
                                             pa.scalar("", text))
        return pc.if_else(numeric, joined, values)

    name = pc.if_else(has_company, named(company, str(msgs["company_id"])),
                      pc.if_else(has_contact, named(contact, str(msgs["contact_id"])), ""))
    kind = pc.if_else(has_company, "company", pc.if_else(has_contact, "contact", ""))
    out = frame.drop(columns=["company", "contact"]).reset_index(drop=True)
    out[C.CUSTOMER_NAME] = str_series(name, len(out))
    out[C.CUSTOMER_KIND] = str_series(kind, len(out))
    codes, uniq = factor(name) if len(out) else (np.zeros(0, np.int64), [])
    keys = pa.array(name_keys([str(u) for u in uniq]), pa.string())
    out[C.CUSTOMER_ID] = str_series(keys.take(pa.array(codes)), len(out))
    return out


def row_labels(rows: np.ndarray, source: Source, lang: str) -> pa.Array:
    """The row as the user sees it ("строка 12" / "line 12", or "Лист1!A12"), whole column."""
    if source.format == "xlsx":
        prefix, suffix = f"{_sheet_ref(source.sheet)}!A", ""
    else:
        prefix, _, suffix = str(_msg("line", lang)).partition("{n}")
    text = pa.string()
    nums = pa.array(rows).cast(text)
    return pc.binary_join_element_wise(pa.scalar(prefix, text), nums, pa.scalar(suffix, text), pa.scalar("", text))


__all__ = ["DATE_FIELDS", "OUTCOMES", "TEXT_FIELDS", "crm_by_header", "customers_of", "factor", "latest",
           "majority", "read_rows", "row_labels", "str_series", "text_of"]
