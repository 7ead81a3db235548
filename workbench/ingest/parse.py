"""The data rows of one file -> canonical columns, validated.

Blank and total rows are left out; numbers, dates, INNs and text are parsed (numbers in
a second thread while this one works on the distinct values); the amount is made as the
file's roles say (``roles.AmountPlan``); every bad cell becomes a problem; then the rows
that are not sales are left out and reported (``checks``); exact duplicate rows are
worked out in the background.
"""
from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench import columns as C
from workbench.i18n import LANGUAGES
from workbench.ingest import checks
from workbench.ingest.buffers import _as_array, _lengths
from workbench.ingest.coded import Coded
from workbench.ingest.dates import _DATE_LIKE_RE, parse_dates
from workbench.ingest.fields import (
    CODED_FIELDS,
    CUSTOMER_FIELDS,
    NUMERIC_FIELDS,
    SALES_FIELDS,
    TEXT_FIELDS,
    TOTAL_LABEL_FIELDS,
)
from workbench.ingest.headers import Header, normalise_header
from workbench.ingest.identity import normalise_inns
from workbench.ingest.messages import _msg
from workbench.ingest.numbers import _parse_numbers, prepare_number_bytes
from workbench.ingest.problems import _Collector
from workbench.ingest.roles import AmountPlan, Roles
from workbench.ingest.text import (
    _CLEAN_CANDIDATE,
    _UTF8_CANDIDATE,
    _clean_text_column,
    _trim,
    _utf8_rows,
    clean_text,
)
from workbench.io import readers
from workbench.io.readers import Body, Source


@dataclass
class _FileResult:
    """One parsed input: canonical columns of the imported rows, and its report part.

    columns: canonical -> Coded (names, INN, product, manager, industry, region),
    np.ndarray (numbers float64, dates datetime64[ns]) or pa.Array (other text).
    """

    kind: str
    columns: dict[str, Any]
    rows: np.ndarray               # physical row of each imported row
    source: Source
    report: dict[str, Any]
    pending_duplicates: Future[np.ndarray] | np.ndarray  # see ``duplicate``

    @property
    def duplicate(self) -> np.ndarray:
        """Row mask: an exact duplicate of an earlier row. Worked out in the background
        while the tables are built; asking waits for it and counts it in the report."""
        if not isinstance(self.pending_duplicates, np.ndarray):
            self.pending_duplicates = self.pending_duplicates.result()
            self.report["duplicates"]["count"] = int(self.pending_duplicates.sum())
        return self.pending_duplicates


@cache
def _total_re() -> re.Pattern[str]:
    words = sorted({normalise_header(w) for lang in LANGUAGES for w in _msg("total_words", lang)},
                   key=len, reverse=True)
    alt = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"^\s*(?:{alt})(?:$|[\s:.,;()\-])", re.IGNORECASE)


class _Cells:
    """The body's columns as this file's parser needs them: trimmed text, or (number
    columns of cp1251 files) prepared ASCII number text straight from the bytes, the
    cells decoded only to quote them in an error or compare possible duplicates."""

    def __init__(self, body: Body) -> None:
        self.codec = body.raw_codec
        self.undecoded: dict[int, pa.Array] = {}
        self.number_text: dict[int, pa.Array] = {}
        self.cells: list[pa.Array] = []
        for j, c in enumerate(body.cells):
            if pa.types.is_binary(c.type):  # an array or the reader's chunks
                prepared_bytes = prepare_number_bytes(c)
                if prepared_bytes is not None:
                    self.undecoded[j] = c
                    self.number_text[j] = prepared_bytes
                    self.cells.append(prepared_bytes)  # empty exactly where the trimmed text is
                    continue
                c = readers.decode_binary(c, body.raw_codec)
            self.cells.append(_trim(_as_array(c)))

    def text(self, j: int) -> pa.Array:
        """The trimmed text of column ``j`` (decoded first if it came undecoded)."""
        if j in self.undecoded:
            self.cells[j] = _trim(readers.decode_binary(self.undecoded.pop(j), self.codec))
            self.number_text.pop(j, None)
        return self.cells[j]

    def take(self, index: np.ndarray) -> None:
        taken = pa.array(index)
        self.cells = [c.take(taken) for c in self.cells]
        self.undecoded = {j: c.take(taken) for j, c in self.undecoded.items()}
        self.number_text = {j: c.take(taken) for j, c in self.number_text.items()}

    def for_duplicates(self) -> list[pa.Array]:
        return [self.undecoded.get(j, c) for j, c in enumerate(self.cells)]


def _parse_body(source: Source, kind: str, header: Header, roles: Roles, delimiter: str, body: Body,
                col: _Collector, settings: dict[str, Any], lang: str, background: ThreadPoolExecutor
                ) -> _FileResult | None:
    """Validate and convert the data rows of one file into canonical columns.

    ``background``: where the exact duplicates are worked out (see ``_FileResult.duplicate``).
    """
    m = roles.mapping
    n = len(body)
    fields = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    cells = _Cells(body)
    coded = {f: Coded.encode(cells.cells[m[f]]) for f in CODED_FIELDS if f in m and f in fields}
    if C.CUSTOMER_NAME in coded:
        coded[C.CUSTOMER_NAME] = _varying_customer(roles, header, coded[C.CUSTOMER_NAME], cells)
        coded = {f: c for f, c in coded.items() if f in m}  # the INN of another column is dropped
    label_of = {canon: header.labels[j] for canon, j in m.items()}
    # Dates first, once per distinct value: a row carrying one is a sale, never a total row.
    parsed_dates = None
    if C.DATE in coded:
        j = m[C.DATE]
        parsed_dates = parse_dates(coded[C.DATE], body.numbers[j] if body.numbers is not None else None,
                                   settings["import"].get("date_order", "auto"), roles.date_in_text)
    keep, blank, total, total_examples = _rows_kept(kind, m, coded, cells, body, parsed_dates, col)
    if not keep.any():
        if not body.ragged:
            col.add("header_only", header.first_row)
        return None
    file_total = _file_total(roles, cells, body, total) if kind == "sales" else None
    if not keep.all():
        index = np.flatnonzero(keep)
        cells.take(index)
        coded = {f: c.take(index) for f, c in coded.items()}
    rows = body.rows[keep]
    knum = [x[keep] for x in body.numbers] if body.numbers is not None else None
    report: dict[str, Any] = {
        "file": col.file, "kind": kind, "format": source.format, "encoding": source.encoding,
        "delimiter": delimiter, "sheet": source.sheet,
        "header_row": col.where(header.first_row, 0),
        "header_line": header.first_row,  # physical row: a report in another language names it anew
        "header": list(header.labels),
        "columns": {canon: label_of[canon] for canon in sorted(m, key=m.__getitem__)},
        "roles": [c.as_dict() for c in roles.columns],
        "unmapped": [c.label for c in roles.columns if c.label and not c.used],
        "rows_read": int(n + body.blank_lines + len(body.ragged)),
        "rows_excluded": {"total": int(total.sum()), "blank": int(blank.sum() + body.blank_lines)},
        "total_examples": total_examples,
    }
    date_cells = body.date_cells[m[C.DATE]] if body.date_cells is not None and C.DATE in m else 0
    out = _parse_columns(source, kind, roles, coded, cells, knum, parsed_dates, keep, rows, date_cells, header,
                         col, report)
    if kind == "sales":
        _make_money(roles, out, report)
        if file_total is not None:
            report["total_check"] = _total_check(file_total, report.get("decimal_mark", ","), out[C.AMOUNT])
    if (grouped := getattr(source, "grouped", None)) is not None:
        report["grouped"] = _grouped_report(grouped, roles, out)
    drop = checks.check_rows(kind, out, rows, coded, roles, label_of, settings, col, report)
    if drop is not None:  # rows that are not sales: left out, counted in the report
        index = np.flatnonzero(~drop)
        rows = rows[index]
        cells.take(index)
        coded = {f: c.take(index) for f, c in coded.items()}
        out = {f: (v.take(index) if isinstance(v, Coded) else
                   v.take(pa.array(index)) if isinstance(v, pa.Array) else v[index]) for f, v in out.items()}
    if kind == "sales":
        report["money"] = {f: float(np.nansum(out[f])) for f in (C.AMOUNT_NET, C.AMOUNT_GROSS, C.VAT, C.COST)
                           if f in out}
    if not len(rows):
        col.add("header_only", header.first_row)
        return None
    # --- exact duplicates (every cell of the row equal) ----------------------------------
    duplicate = background.submit(_duplicates, cells.for_duplicates(), dict(coded), dict(out), cells.codec)
    report["rows_imported"] = len(rows)
    report["duplicates"] = {"count": None}  # filled in when the mask is asked for
    return _FileResult(kind=kind, columns=out, rows=rows, source=source, report=report,
                       pending_duplicates=duplicate)


def _varying_customer(roles: Roles, header: Header, chosen: Coded, cells: _Cells) -> Coded:
    """The customer column: a column holding one value on every row is the seller or a
    heading, not the customer; another customer column whose values vary takes its place."""
    if sum(1 for v in chosen.values if v) > 1 or len(chosen) < 2:
        return chosen
    for j in roles.customer_alternatives:
        other = Coded.encode(cells.text(j))
        if sum(1 for v in other.values if v) > 1:
            roles.switch_customer(j, header)
            return other
    return chosen


def _rows_kept(kind: str, m: dict[str, int], coded: dict[str, Coded], cells: _Cells, body: Body,
               parsed_dates: Any, col: _Collector) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """(rows kept, blank rows, total rows, examples of total rows) before any value is parsed."""
    n = len(body)
    blank = np.ones(n, dtype=bool)
    for c in cells.cells:
        blank &= _lengths(c) == 0
    # A row carrying its key data (a sale's date, a customer's INN) is a customer whose
    # name starts like a total ("Всего понемногу", "Total Vostok"), not a total row: only
    # the other rows are looked at (none, in a clean ledger).
    candidate = ~blank
    key = C.DATE if kind == "sales" else C.INN
    if key in coded:
        if key == C.DATE:
            carried = ~np.isnat(parsed_dates[0]) | coded[key].mask(lambda v: bool(_DATE_LIKE_RE.match(v)))
        else:
            carried = coded[key].mask(lambda v: bool(v.strip()))
        candidate &= ~carried
    total = np.zeros(n, dtype=bool)
    total_re = _total_re()
    label_cols = sorted({0, *(m[f] for f in TOTAL_LABEL_FIELDS if f in m)})
    by_col = {m[f]: c for f, c in coded.items()}
    look_at = np.flatnonzero(candidate)
    for j in label_cols if len(look_at) else ():
        if j in by_col:
            total |= by_col[j].mask(total_re.match)
        else:
            hit = pc.match_substring_regex(cells.text(j).take(pa.array(look_at)), total_re.pattern, ignore_case=True)
            total[look_at[hit.to_numpy(zero_copy_only=False)]] = True
    total &= candidate
    examples = []
    for i in np.flatnonzero(total)[:5].tolist():
        text = next((cells.text(j)[i].as_py() for j in label_cols if cells.text(j)[i].as_py()), "")
        examples.append({"row": col.where(int(body.rows[i]), label_cols[0]), "text": text})
    return ~blank & ~total, blank, total, examples


def _parse_columns(source: Source, kind: str, roles: Roles, coded: dict[str, Coded], cells: _Cells,
                   knum: list[np.ndarray] | None, parsed_dates: Any, keep: np.ndarray, rows: np.ndarray,
                   date_cells: int, header: Header, col: _Collector, report: dict[str, Any]) -> dict[str, Any]:
    """Numbers, dates, INNs and text of the kept rows; every bad cell a problem (in a fixed order).

    ``parsed_dates``: ``parse_dates`` of the whole column (``keep`` selects the kept rows);
    ``date_cells``: how many of the date column's cells were Excel dates (xlsx).
    """
    m = roles.mapping
    fields = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    label_of = {canon: header.labels[j] for canon, j in m.items()}
    out: dict[str, Any] = {}
    text_fields = [x for x in TEXT_FIELDS if x in m and x in fields]
    numeric = [f for f in NUMERIC_FIELDS if f in m and f in fields]
    # Whole-column work (pyarrow and numpy, which release the GIL) runs in a second thread
    # while this one does the per-distinct-value work; problems are then added in the
    # same order as ever.
    with ThreadPoolExecutor(max_workers=1) as pool:
        numbers_job = pool.submit(_parse_numbers, numeric, m, cells.cells, cells.number_text, knum, header.labels)
        check_utf8 = source.encoding == "cp1251"
        utf8_jobs = {f: pool.submit(_utf8_rows, cells.cells[m[f]]) for f in text_fields
                     if f not in coded and check_utf8}
        clean_jobs = {f: pool.submit(_clean_text_column, cells.cells[m[f]]) for f in text_fields if f not in coded}
        # --- mixed encodings: UTF-8 values inside a cp1251 file (distinct values) ----------
        utf8_coded = {f: coded[f].mask(readers.looks_like_utf8, coded[f].where(_UTF8_CANDIDATE))
                      for f in text_fields if f in coded and check_utf8}
        # --- INN -------------------------------------------------------------------------
        if C.INN in coded:
            raw = coded[C.INN]
            normalised, padded, invalid = normalise_inns(raw.values)
            inn_report = {
                "padded": int(padded[raw.codes].sum()) if len(raw.values) else 0,
                "invalid": int(invalid[raw.codes].sum()) if len(raw.values) else 0,
                "invalid_examples": sorted({raw.values[i] for i in np.flatnonzero(invalid).tolist()})[:5]}
            inn = raw.with_values(normalised)
        cleaned = {f: coded[f].map(clean_text, coded[f].where(_CLEAN_CANDIDATE)) for f in text_fields if f in coded}
        # --- the problems, in order ------------------------------------------------------
        for f in text_fields if check_utf8 else ():
            if f in utf8_coded:
                col.mask("mixed_encoding", utf8_coded[f], rows, coded[f], m[f], label_of[f])
            elif (bad := utf8_jobs[f].result()) is not None:
                col.mask("mixed_encoding", bad, rows, cells.cells[m[f]], m[f], label_of[f])
        decimal, parsed = numbers_job.result()
        report["decimal_mark"] = decimal
        needed = set(roles.amount.sources) - {C.VAT} if kind == "sales" else set()
        for f in numeric:
            j = m[f]
            values, bad, empty, absurd = parsed[f]
            money = f in (C.AMOUNT, C.AMOUNT_NET, C.AMOUNT_GROSS, C.VAT)
            if bad.any() or absurd.any():
                col.mask("bad_amount" if money else "bad_number", bad, rows, cells.text(j), j, label_of[f])
                col.mask("absurd_amount" if money else "absurd_number", absurd, rows, cells.text(j), j,
                         label_of[f])
            if f in needed:
                col.mask("missing_value", empty, rows, None, j, label_of[f])
            out[f] = values
        if parsed_dates is not None:
            j = m[C.DATE]
            dates, bad_date, empty_date, fmts, order = (x[keep] if isinstance(x, np.ndarray) else x
                                                        for x in parsed_dates)
            if date_cells:
                moved = min(date_cells, fmts["yyyy-mm-dd"])
                fmts["excel_date"] += moved
                fmts["yyyy-mm-dd"] -= moved
                fmts = +fmts
            col.mask("bad_date", bad_date, rows, coded[C.DATE], j, label_of[C.DATE])
            col.mask("missing_value", empty_date, rows, None, j, label_of[C.DATE])
            out[C.DATE] = dates
            report["date_format"] = fmts.most_common(1)[0][0] if fmts else ""
            report["date_formats"] = dict(fmts)
            report["date_order"] = {"order": order.order, "proven": order.proven, "ambiguous": order.ambiguous}
            report["date_in_text"] = roles.date_in_text
        if C.INN in coded:
            report["inn"] = inn_report
            out[C.INN] = inn
        for f in text_fields:
            out[f] = cleaned[f] if f in coded else clean_jobs[f].result()
    return out


def _make_money(roles: Roles, out: dict[str, Any], report: dict[str, Any]) -> None:
    """``amount`` (and ``margin``) as the roles' plan says; derived money rounded to kopecks."""
    plan: AmountPlan = roles.amount
    vat = np.nan_to_num(out[C.VAT]) if C.VAT in out else 0.0  # an empty VAT cell: no VAT
    if plan.how == "column":
        amount = out[plan.sources[0]]
    elif plan.how == "net_from_gross":
        amount = np.round(out[C.AMOUNT_GROSS] - vat, 2)
    elif plan.how == "gross_from_net":
        amount = np.round(out[C.AMOUNT_NET] + vat, 2)
    else:
        amount = np.round(out[C.QUANTITY] * out[C.PRICE], 2)
    out[C.AMOUNT] = amount
    if roles.margin == "net_minus_cost":
        net = out[C.AMOUNT_NET] if C.AMOUNT_NET in out else out[C.AMOUNT_GROSS] - vat
        out[C.MARGIN] = np.round(net - out[C.COST], 2)
    labels = {r["role"]: r["column"] for r in report["roles"] if r["used"] and r["role"]}
    report["amount"] = {"how": plan.how, "basis": plan.basis,
                        "columns": [labels.get(s, s) for s in plan.sources]}
    report["margin"] = {"how": roles.margin,
                        "columns": [labels.get(s, s) for s in ((C.MARGIN,) if roles.margin == "column" else
                                                             (C.COST,) if roles.margin else ())]}


def _file_total(roles: Roles, cells: _Cells, body: Body, total: np.ndarray) -> tuple[str, float] | None:
    """The file's own grand total (its last total row's amount, as text and as an xlsx number)
    when the amount is a column: the imported rows are checked against it."""
    if not total.any() or roles.amount.how != "column":
        return None
    j = roles.mapping[roles.amount.sources[0]]
    i = int(np.flatnonzero(total)[-1])
    number = float(body.numbers[j][i]) if body.numbers is not None else float("nan")
    return str(cells.text(j)[i].as_py() or ""), number


def _total_check(file_total: tuple[str, float], decimal: str, amount: np.ndarray) -> dict[str, Any] | None:
    text, number = file_total
    if np.isnan(number):
        from workbench.ingest.numbers import parse_number_text, prepare_number_text

        values, bad, empty = parse_number_text(prepare_number_text(pa.array([text], pa.string())), decimal)
        if bad[0] or empty[0]:
            return None
        number = float(values[0])
    got = float(np.nansum(amount))
    return {"file_total": number, "sum": got, "equal": abs(got - number) < 0.005}


def _grouped_report(grouped: dict[str, Any], roles: Roles, out: dict[str, Any]) -> dict[str, Any]:
    """What was read from a grouped report, and its documents' sum against the report's own total."""
    info = {k: v for k, v in grouped.items() if k != "total"}
    plan = roles.amount
    if plan.how == "column" and C.AMOUNT in out:
        total = grouped["total"].get(roles.mapping[plan.sources[0]])
        if total is not None:
            got = float(np.nansum(out[C.AMOUNT]))
            info["total_check"] = {"file_total": float(total), "sum": got, "equal": abs(got - float(total)) < 0.005}
    return info


def _duplicates(cells: list[pa.Array], coded: dict[str, Coded], parsed: dict[str, Any],
                codec: str = "") -> np.ndarray:
    """Rows equal in every cell to an earlier row.

    A cheap 64-bit key from columns already coded (names, dates, ...) and parsed
    numbers finds the candidates; only candidates are compared cell by cell (as
    trimmed text: a binary cell, undecoded ``codec`` bytes, is decoded first).
    """
    n = len(cells[0]) if cells else 0
    key = np.zeros(n, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):  # in place: no fresh 8 MB array per step
        for c in coded.values():
            key ^= np.ascontiguousarray(c.codes, dtype=np.int64).view(np.uint64)
            key *= prime
        for f in NUMERIC_FIELDS:
            if f in parsed:
                key ^= np.nan_to_num(parsed[f], nan=-0.123456789).view(np.uint64)
                key *= prime
    # Rows with a repeated key share a bucket of its low 22 bits: only rows in a shared
    # bucket (~1 in 5 at 1 M rows) are hashed in full.
    bucket = np.bitwise_and(key, np.uint64((1 << 22) - 1)).view(np.int64)
    shared = np.flatnonzero(np.bincount(bucket, minlength=1 << 22)[bucket] > 1)
    candidates = shared[pd.Series(key[shared]).duplicated(keep=False).to_numpy()]
    duplicate = np.zeros(n, dtype=bool)
    if len(candidates):
        taken = pa.array(candidates)
        rows = list(zip(*((_trim(readers.decode_binary(c.take(taken), codec)) if pa.types.is_binary(c.type)
                           else c.take(taken)).to_pylist() for c in cells)))
        seen: set[tuple[Any, ...]] = set()
        for i, row in zip(candidates.tolist(), rows):
            if row in seen:
                duplicate[i] = True
            else:
                seen.add(row)
    return duplicate
