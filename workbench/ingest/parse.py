"""The data rows of one file -> canonical columns, validated.

Blank and total rows are left out; numbers, dates, INNs and text are parsed (numbers in
a second thread while this one works on the distinct values); every bad cell becomes a
problem; exact duplicate rows are worked out in the background.
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


def _parse_body(source: Source, kind: str, header: Header, delimiter: str, body: Body,
                col: _Collector, lang: str, background: ThreadPoolExecutor) -> _FileResult | None:
    """Validate and convert the data rows of one file into canonical columns.

    ``background``: where the exact duplicates are worked out (see ``_FileResult.duplicate``).
    """
    m = header.mapping
    n = len(body)
    fields = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    label_of = {canon: header.labels[j] for canon, j in m.items()}
    # Number columns may come undecoded (cp1251 bytes): when they hold only digits, signs,
    # separators and spaces, their prepared text comes straight from the bytes and the
    # cells are decoded only to quote them in an error or compare possible duplicates.
    undecoded: dict[int, pa.Array] = {}
    number_text: dict[int, pa.Array] = {}
    cells = []
    for j, c in enumerate(body.cells):
        if pa.types.is_binary(c.type):  # an array or the reader's chunks
            prepared_bytes = prepare_number_bytes(c)
            if prepared_bytes is not None:
                undecoded[j] = c
                number_text[j] = prepared_bytes
                cells.append(prepared_bytes)  # empty exactly where the trimmed text is
                continue
            c = readers.decode_binary(c, body.raw_codec)
        cells.append(_trim(_as_array(c)))

    def text_of(j: int) -> pa.Array:
        """The trimmed text of column ``j`` (decoded first if it came undecoded)."""
        if j in undecoded:
            cells[j] = _trim(readers.decode_binary(undecoded.pop(j), body.raw_codec))
        return cells[j]
    coded = {f: Coded.encode(cells[m[f]]) for f in CODED_FIELDS if f in m and f in fields}
    # --- rows left out: blank rows, total and subtotal rows ---------------------------
    blank = np.ones(n, dtype=bool)
    for c in cells:
        blank &= _lengths(c) == 0
    # A row carrying its key data (a sale's date, a customer's INN) is a customer whose
    # name starts like a total ("Всего понемногу", "Total Vostok"), not a total row: only
    # the other rows are looked at (none, in a clean ledger).
    candidate = ~blank
    key = C.DATE if kind == "sales" else C.INN
    if key in coded:
        looks = _DATE_LIKE_RE.match if key == C.DATE else (lambda v: bool(v.strip()))
        carried = coded[key].mask(lambda v: bool(looks(v)))
        if key == C.DATE and body.numbers is not None:
            carried |= ~np.isnan(body.numbers[m[key]])  # Excel date serials
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
            hit = pc.match_substring_regex(text_of(j).take(pa.array(look_at)), total_re.pattern, ignore_case=True)
            total[look_at[hit.to_numpy(zero_copy_only=False)]] = True
    total &= candidate
    keep = ~blank & ~total
    total_examples = []
    for i in np.flatnonzero(total)[:5].tolist():
        text = next((text_of(j)[i].as_py() for j in label_cols if text_of(j)[i].as_py()), "")
        total_examples.append({"row": col.where(int(body.rows[i]), label_cols[0]), "text": text})
    if not keep.any():
        if not body.ragged:
            col.add("header_only", header.first_row)
        return None
    if not keep.all():
        index = np.flatnonzero(keep)
        taken = pa.array(index)
        cells = [c.take(taken) for c in cells]
        undecoded = {j: c.take(taken) for j, c in undecoded.items()}
        number_text = {j: c.take(taken) for j, c in number_text.items()}
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
        "unmapped": [x for j, x in enumerate(header.labels) if x and j not in m.values()],
        "rows_read": int(n + body.blank_lines + len(body.ragged)),
        "rows_excluded": {"total": int(total.sum()), "blank": int(blank.sum() + body.blank_lines)},
        "total_examples": total_examples,
    }
    out: dict[str, Any] = {}
    text_fields = [x for x in TEXT_FIELDS if x in m and x in fields]
    numeric = [f for f in NUMERIC_FIELDS if f in m and f in fields]
    # Whole-column work (pyarrow and numpy, which release the GIL) runs in a second thread
    # while this one does the per-distinct-value work; problems are then added in the
    # same order as ever.
    with ThreadPoolExecutor(max_workers=1) as pool:
        numbers_job = pool.submit(_parse_numbers, numeric, m, cells, number_text, knum, header.labels)
        check_utf8 = source.encoding == "cp1251"
        utf8_jobs = {f: pool.submit(_utf8_rows, cells[m[f]]) for f in text_fields if f not in coded and check_utf8}
        clean_jobs = {f: pool.submit(_clean_text_column, cells[m[f]]) for f in text_fields if f not in coded}
        # --- mixed encodings: UTF-8 values inside a cp1251 file (distinct values) ----------
        utf8_coded = {f: coded[f].mask(readers.looks_like_utf8, coded[f].where(_UTF8_CANDIDATE))
                      for f in text_fields if f in coded and check_utf8}
        # --- dates -----------------------------------------------------------------------
        if C.DATE in coded:
            j = m[C.DATE]
            dates, bad_date, empty_date, fmts = parse_dates(coded[C.DATE], knum[j] if knum is not None else None)
            if body.date_cells is not None and body.date_cells[j]:
                moved = min(body.date_cells[j], fmts["yyyy-mm-dd"])
                fmts["excel_date"] += moved
                fmts["yyyy-mm-dd"] -= moved
                fmts = +fmts
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
                col.mask("mixed_encoding", bad, rows, cells[m[f]], m[f], label_of[f])
        decimal, parsed = numbers_job.result()
        report["decimal_mark"] = decimal
        for f in numeric:
            j = m[f]
            values, bad, empty, absurd = parsed[f]
            if bad.any() or absurd.any():
                col.mask("bad_amount" if f == C.AMOUNT else "bad_number", bad, rows, text_of(j), j, label_of[f])
                col.mask("absurd_amount" if f == C.AMOUNT else "absurd_number", absurd, rows, text_of(j), j,
                         label_of[f])
            if f == C.AMOUNT:
                col.mask("missing_value", empty, rows, None, j, label_of[f])
            out[f] = values
        if C.DATE in coded:
            j = m[C.DATE]
            col.mask("bad_date", bad_date, rows, coded[C.DATE], j, label_of[C.DATE])
            col.mask("missing_value", empty_date, rows, None, j, label_of[C.DATE])
            out[C.DATE] = dates
            report["date_format"] = fmts.most_common(1)[0][0] if fmts else ""
            report["date_formats"] = dict(fmts)
        if C.INN in coded:
            report["inn"] = inn_report
            out[C.INN] = inn
        for f in text_fields:
            out[f] = cleaned[f] if f in coded else clean_jobs[f].result()
    if C.CUSTOMER_NAME in out:
        empty_name = out[C.CUSTOMER_NAME].equals("")
        if C.INN in out:
            empty_name &= out[C.INN].equals("")
        col.mask("empty_customer", empty_name, rows, None, m[C.CUSTOMER_NAME], label_of[C.CUSTOMER_NAME])
    elif C.INN in out:
        col.mask("empty_customer", out[C.INN].equals(""), rows, None, m[C.INN], label_of[C.INN])
    # --- exact duplicates (every cell of the row equal) ----------------------------------
    duplicate = background.submit(_duplicates, [undecoded.get(j, c) for j, c in enumerate(cells)], dict(coded),
                                  dict(out), body.raw_codec)
    report["rows_imported"] = len(rows)
    report["duplicates"] = {"count": None}  # filled in when the mask is asked for
    return _FileResult(kind=kind, columns=out, rows=rows, source=source, report=report,
                       pending_duplicates=duplicate)


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
