"""Import: the client's exports (1C, amoCRM, Bitrix24, Excel) -> canonical tables.

The only place where a client's own headers are seen. ``import_engagement`` reads the
inputs named in engagement.yaml (through ``workbench.io.readers``), recognises the
header row and its columns, parses numbers and dates itself (every cell is read as
text: INN keeps its leading zeros, ``01.02.2024`` is never guessed to be 2 January),
leaves out total and blank rows, validates everything and either returns the tables
and a report or raises one ``InputError`` listing every problem. It writes nothing;
``write_import`` does.

Choices made here (stated in the import report too):

* Returns are rows with a negative amount. They stay in the ledger with
  ``is_return = True``. ``import.returns: net`` (default) lets them reduce revenue;
  ``exclude`` leaves them out of the revenue total (the ledger still holds them, so
  downstream steps decide with the same flag).
* Exact duplicate rows (every cell equal) are counted; ``import.duplicates: keep``
  (default) keeps them, ``drop`` keeps the first of each.
* ``customer_id`` is the INN when the row has one, else a name key (casefolded,
  quotes removed, spaces collapsed, ё -> е). A row without an INN whose name key maps
  to exactly one INN elsewhere in the inputs gets that INN, so one customer never has
  two ids. ``customer_name`` is the most frequent spelling per id.
* Work is done on whole columns (pyarrow.compute, numpy) or on the distinct values of
  a column (dates, names), never row by row: a 1 M-row ledger imports in seconds.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench import columns as C
from workbench.errors import InputError, Problem
from workbench.i18n import LANGUAGES, t
from workbench.io import readers
from workbench.io.readers import Body, ReadError, Source, col_letter

ABSURD = 1e15            # |value| above this is a typo or a wrong column, not a sale
SALES_FIELDS = (C.CUSTOMER_NAME, C.INN, C.DATE, C.AMOUNT, C.QUANTITY, C.PRODUCT, C.MANAGER,
                C.MARGIN, C.DOCUMENT)
CUSTOMER_FIELDS = (C.CUSTOMER_NAME, C.INN, C.INDUSTRY, C.HEADCOUNT, C.MANAGER, C.POTENTIAL,
                   C.REGION, C.PHONE, C.NOTE)
NUMERIC_FIELDS = (C.AMOUNT, C.QUANTITY, C.MARGIN, C.HEADCOUNT, C.POTENTIAL)
TEXT_FIELDS = (C.CUSTOMER_NAME, C.PRODUCT, C.MANAGER, C.DOCUMENT, C.INDUSTRY, C.REGION, C.PHONE, C.NOTE)
# Columns where a total row announces itself ("Итого по ...", "Total").
TOTAL_LABEL_FIELDS = (C.CUSTOMER_NAME, C.DOCUMENT, C.DATE, C.PRODUCT, C.MANAGER, C.INN)
EXCEL_EPOCH = np.datetime64("1899-12-30")
EXCEL_SERIAL_RANGE = (25569, 73415)      # 1970-01-01 .. 2100-12-31: plausible sales dates
_CONTROL_TO_SPACE = r"[\t\n\r\x{0b}\x{0c}]+"
_CONTROL_DROP = r"[\x{00}-\x{08}\x{0e}-\x{1f}\x{7f}-\x{9f}]"
_SPACES = r"[\s\x{00A0}\x{202F}\x{2007}\x{2009}']"
_QUOTES_RE = re.compile(r"[«»\"'“”„‘’`]")
_WS_RE = re.compile(r"\s+")
_NONWORD_RE = re.compile(r"[^\w]+")
_TIME_TAIL = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
_DATE_PATTERNS = (  # (format label, regex on the date part, explicit strptime format)
    ("dd.mm.yyyy", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$"), "%d.%m.%Y"),
    ("dd.mm.yy", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2}$"), "%d.%m.%y"),
    ("yyyy-mm-dd", re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
)


@dataclass(frozen=True)
class ImportResult:
    """What ``import_engagement`` returns; nothing is written yet.

    ledger: columns ``workbench.columns.LEDGER_COLUMNS``
    customers: columns ``workbench.columns.CUSTOMERS_COLUMNS``
    report: JSON-serialisable dict (see ``import_engagement``)
    """

    ledger: pd.DataFrame
    customers: pd.DataFrame
    report: dict[str, Any]


# =====================================================================================
# header recognition
# =====================================================================================

def normalise_header(text: str) -> str:
    """Header text for comparison: casefolded, ё -> е, punctuation -> space, collapsed."""
    text = str(text).casefold().replace("ё", "е").replace("_", " ")
    return _WS_RE.sub(" ", _NONWORD_RE.sub(" ", text)).strip()


@lru_cache(maxsize=None)
def _synonyms() -> dict[str, tuple[str, ...]]:
    """canonical -> normalised synonyms, Russian first then English, from the catalogues."""
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for canon, words in t("ingest.headers", lang).items():
            bucket = out.setdefault(canon, [])
            for w in words:
                n = normalise_header(w)
                if n and n not in bucket:
                    bucket.append(n)
    return {k: tuple(v) for k, v in out.items()}


def recognise(label: str, allowed: tuple[str, ...]) -> tuple[str, float] | None:
    """Best canonical column for one header label, with a score; None if unknown.

    Exact synonym 3, synonym followed by more words 2 ("Сумма, руб."), a word starting
    with a synonym 1 ("Наименование контрагента"); longer synonyms win ties.
    """
    norm = normalise_header(label)
    if not norm:
        return None
    words = norm.split()
    best: tuple[str, float] | None = None
    for canon in allowed:
        for syn in _synonyms().get(canon, ()):
            if norm == syn:
                score = 3.0
            elif norm.startswith(syn + " "):
                score = 2.0
            elif (" " not in syn and len(syn) >= 4 and any(w.startswith(syn) for w in words)) \
                    or f" {syn} " in f" {norm} ":
                score = 1.0
            else:
                continue
            score += min(len(syn), 40) / 100.0
            if best is None or score > best[1]:
                best = (canon, score)
    return best


@dataclass
class Header:
    """The recognised header: where it is and what each column means."""

    first_row: int                 # physical row of the (first) header row
    data_start: int                # physical row where data rows begin
    labels: list[str]              # column labels as the user sees them
    mapping: dict[str, int]        # canonical -> column index
    score: float
    missing_explicit: list[str] = field(default_factory=list)  # headers from engagement.yaml not found


def _fill_right(cells: list[str]) -> list[str]:
    """Merged header cells keep their text in the first cell only: carry it right."""
    out, last = [], ""
    for c in cells:
        last = c if c.strip() else last
        out.append(last)
    return out


def _assign(labels: list[list[str]], allowed: tuple[str, ...],
            explicit: dict[str, str]) -> tuple[dict[str, int], float, list[str]]:
    """Map canonical columns to column indices. ``labels[j]`` = candidate texts, best first."""
    mapping: dict[str, int] = {}
    score = 0.0
    missing: list[str] = []
    taken: set[int] = set()
    for canon, header in explicit.items():
        want = normalise_header(header)
        hit = next((j for j, cands in enumerate(labels)
                    if any(normalise_header(c) == want for c in cands if c)), None)
        if hit is None:
            missing.append(header)
        else:
            mapping[canon] = hit
            taken.add(hit)
            score += 10.0
    best: dict[str, tuple[float, int]] = {}
    for j, cands in enumerate(labels):
        if j in taken:
            continue
        found = None
        for cand in cands:
            found = recognise(cand, allowed) if cand else None
            if found:
                break
        if not found or found[0] in mapping:
            continue
        canon, sc = found
        if canon not in best or sc > best[canon][0]:
            best[canon] = (sc, j)
    for canon, (sc, j) in best.items():
        mapping[canon] = j
        score += sc * (3.0 if canon in C.LEDGER_REQUIRED else 1.0)
    return mapping, score, missing


def find_header(preview: list[tuple[int, int, list[str]]], kind: str,
                explicit: dict[str, str]) -> Header | None:
    """Find the header among the first rows: the row (or pair of rows) naming most columns.

    Title rows above the header ("Отчёт по продажам за 2024") are skipped. A two-row
    header (merged group cells over sub-headers) is combined: "Документ / Дата".
    Returns None when no row names at least two known columns, one of them a key
    column (customer, date or amount for sales; customer or INN for customers).
    """
    allowed = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    keys = set(C.LEDGER_REQUIRED) if kind == "sales" else {C.CUSTOMER_NAME, C.INN}
    best: Header | None = None
    for i, (row, end, cells) in enumerate(preview):
        width = _width(cells)
        single = [[c] for c in cells[:width]]
        cand = [(single, [c.strip() for c in cells[:width]], end, 0.0)]
        if i + 1 < len(preview) and preview[i + 1][0] == end + 1:
            nrow, nend, ncells = preview[i + 1]
            w2 = max(width, _width(ncells))
            top = _fill_right([*(c.strip() for c in cells[:w2]), *[""] * (w2 - width)])
            bottom = [c.strip() for c in ncells[:w2]] + [""] * max(0, w2 - len(ncells))
            pair = [[b, f"{tp} {b}".strip(), tp] if b else [tp] for tp, b in zip(top, bottom)]
            shown = [f"{tp} / {b}" if tp and b and tp != b else (b or tp) for tp, b in zip(top, bottom)]
            cand.append((pair, shown, nend, 0.5))  # a pair must beat its rows by more than noise
        for labels, shown, last, penalty in cand:
            mapping, score, missing = _assign(labels, allowed, explicit)
            score -= penalty
            recognised = [k for k in mapping if k in keys]
            if len(mapping) < 2 or not recognised:
                continue
            if kind == "sales" and len(recognised) < 2 and not explicit:
                continue
            if best is None or score > best.score + 1e-9:
                best = Header(first_row=row, data_start=last + 1, labels=shown, mapping=mapping,
                              score=score, missing_explicit=missing)
    return best


def _width(cells: list[str]) -> int:
    """Number of cells up to the last non-empty one."""
    n = len(cells)
    while n and not str(cells[n - 1]).strip():
        n -= 1
    return n


# =====================================================================================
# numbers and dates (whole columns)
# =====================================================================================

def _rx_escape(word: str) -> str:
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", word)


@lru_cache(maxsize=None)
def _currency_re() -> str:
    marks = sorted({m.casefold() for lang in LANGUAGES for m in t("ingest.currency_marks", lang)},
                   key=len, reverse=True)
    alt = "|".join(_rx_escape(m) for m in marks)
    return rf"(?i)^(?:{alt})|(?:{alt})$"


@lru_cache(maxsize=None)
def _total_re() -> str:
    words = sorted({normalise_header(w) for lang in LANGUAGES for w in t("ingest.total_words", lang)},
                   key=len, reverse=True)
    alt = "|".join(_rx_escape(w).replace(" ", r"\s+") for w in words)
    return rf"(?i)^\s*(?:{alt})(?:$|[\s:.,;()\-])"


def _prepare_number_text(values: pa.Array) -> pa.Array:
    """Drop spaces of every kind, currency marks; unify minus signs and (negative) brackets."""
    s = pc.replace_substring_regex(values, _SPACES, "")
    s = pc.replace_substring_regex(s, _currency_re(), "")
    if pc.any(pc.match_substring_regex(s, r"[\x{2212}\x{2013}(]")).as_py():
        s = pc.replace_substring_regex(s, r"[\x{2212}\x{2013}]", "-")
        s = pc.replace_substring_regex(s, r"^\((.*)\)$", r"-\1")
    return s


def detect_decimal(prepared: list[pa.Array], cyrillic_header: bool) -> str:
    """The file's decimal mark, from values where it is unambiguous.

    "1 234,56" or "1.234,56" vote ","; "1,234.56" or "12.5" vote "."; a lone
    separator followed by exactly three digits ("1,234") is ambiguous and does not
    vote. Without votes: "," for a Russian header, else ".".
    """
    comma = dot = 0
    for s in prepared:
        if len(s) == 0:
            continue
        comma += pc.sum(pc.match_substring_regex(s, r",(\d{1,2}|\d{4,})$")).as_py() or 0
        dot += pc.sum(pc.match_substring_regex(s, r"\.(\d{1,2}|\d{4,})$")).as_py() or 0
    if comma != dot:
        return "," if comma > dot else "."
    return "," if cyrillic_header else "."


def parse_number_text(prepared: pa.Array, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse prepared number text with a known decimal mark.

    Returns (values float64 with NaN for empty or bad, bad mask, empty mask). The other
    separator is accepted only as a thousands separator in groups of three.
    """
    thousands = "." if decimal == "," else ","
    d, th = re.escape(decimal), re.escape(thousands)
    valid = pc.match_substring_regex(prepared, rf"^[+-]?(\d+|\d{{1,3}}({th}\d{{3}})+)({d}\d+)?$|^[+-]?{d}\d+$")
    clean = pc.replace_substring(prepared, thousands, "")
    if decimal != ".":
        clean = pc.replace_substring(clean, decimal, ".")
    nums = pc.cast(pc.if_else(valid, clean, pa.scalar(None, pa.string())), pa.float64())
    values = nums.to_numpy(zero_copy_only=False)
    empty = pc.equal(pc.utf8_length(prepared), 0).to_numpy(zero_copy_only=False)
    bad = ~valid.to_numpy(zero_copy_only=False) & ~empty
    return values.astype(np.float64, copy=False), bad, empty


def parse_dates(values: pa.Array, numbers: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Counter[str]]:
    """Parse a date column with explicit day-first formats, never by guessing.

    Accepted: dd.mm.yyyy, dd.mm.yy, yyyy-mm-dd, each optionally followed by a time
    (dropped: the ledger is day-grained); in xlsx also date cells (arrive as ISO text)
    and Excel date numbers (serials) within 1970-2100. Impossible dates (31.02.2025)
    are bad. Work is done on the distinct values only.

    Returns (datetime64[ns] with NaT, bad mask, empty mask, Counter of format labels).
    """
    enc = pc.dictionary_encode(values)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    uniques = pd.Series(enc.dictionary.to_pylist(), dtype=object)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    day = uniques.str.replace(_TIME_TAIL, "", regex=True)
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    label = pd.Series("", index=uniques.index, dtype=object)
    for name, rx, fmt in _DATE_PATTERNS:
        hit = day.str.match(rx.pattern) & label.eq("")
        if hit.any():
            parsed[hit] = pd.to_datetime(day[hit], format=fmt, errors="coerce").astype("datetime64[ns]")
            label[hit] = name
    ok = parsed.notna()
    label[~ok] = ""
    # Per row, via the codes of the distinct values.
    dates = parsed.to_numpy(dtype="datetime64[ns]")[codes]
    row_label = label.to_numpy(dtype=object)[codes]
    empty = (uniques.str.len() == 0).to_numpy()[codes]
    counts: Counter[str] = Counter()
    for name, n in zip(*np.unique(row_label[~pd.isna(dates)], return_counts=True)):
        counts[str(name)] += int(n)
    if numbers is not None:
        serial = ~np.isnan(numbers)
        if serial.any():
            lo, hi = EXCEL_SERIAL_RANGE
            good = serial & (numbers >= lo) & (numbers <= hi)
            days = np.floor(np.where(good, numbers, 0)).astype("int64")
            dates = np.where(good, (EXCEL_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[ns]"),
                             np.where(serial, np.datetime64("NaT"), dates))
            counts["excel_serial"] += int(good.sum())
    bad = pd.isna(dates) & ~empty
    return dates, bad, empty, counts


def _clean_text(values: pa.Array) -> pa.Array:
    """Control characters out (openpyxl refuses them later): tabs and line breaks -> space."""
    if not pc.any(pc.match_substring_regex(values, r"[\x{00}-\x{1f}\x{7f}-\x{9f}]")).as_py():
        return values
    s = pc.replace_substring_regex(values, _CONTROL_TO_SPACE, " ")
    s = pc.replace_substring_regex(s, _CONTROL_DROP, "")
    return pc.utf8_trim_whitespace(s)


def name_key(name: str) -> str:
    """The customer's name key: casefolded, quotes removed, ё -> е, spaces collapsed."""
    text = _QUOTES_RE.sub(" ", str(name).casefold().replace("ё", "е"))
    return _WS_RE.sub(" ", text).strip()


def _normalise_inn(uniques: list[str]) -> tuple[list[str], list[bool], list[bool]]:
    """INN text -> (normalised, padded, invalid). A 9- or 11-digit INN lost its leading zero."""
    out, padded, invalid = [], [], []
    for raw in uniques:
        v = re.sub(r"[\s\u00a0\u202f-]", "", raw)
        if v.endswith(".0") and v[:-2].isdigit():  # a number cell written as a float
            v = v[:-2]
        pad = bad = False
        if not v:
            pass
        elif v.isdigit() and len(v) in (10, 12):
            pass
        elif v.isdigit() and len(v) in (9, 11):
            v, pad = "0" + v, True
        else:
            v, bad = "", True
        out.append(v)
        padded.append(pad)
        invalid.append(bad)
    return out, padded, invalid


# =====================================================================================
# one file
# =====================================================================================

@dataclass
class _FileResult:
    """One parsed input: canonical columns of the imported rows, and its report part."""

    kind: str
    columns: dict[str, Any]        # canonical -> np.ndarray / pa.Array, imported rows only
    rows: np.ndarray               # physical row of each imported row
    source: Source
    report: dict[str, Any]
    row_labels: pa.Array | None = None


class _Collector:
    """Problems of one file, with rows as the user sees them."""

    def __init__(self, file: str, lang: str, source: Source | None) -> None:
        self.file, self.lang, self.source = file, lang, source
        self.items: list[Problem] = []

    def where(self, row: int | None, col: int | None = None) -> str:
        if row is None:
            return ""
        if self.source is not None and self.source.format == "xlsx":
            return f"{_sheet_ref(self.source.sheet)}!{col_letter(col or 0)}{row}"
        return str(t("ingest.line", self.lang, n=row))

    def add(self, kind: str, row: int | None = None, col: int | None = None, column: str = "",
            value: str = "") -> None:
        self.items.append(Problem(kind=kind, file=self.file, row=self.where(row, col),
                                  column=column, value=value))

    def mask(self, kind: str, mask: np.ndarray, rows: np.ndarray, values: pa.Array | None,
             col: int | None, column: str) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        vals = values.take(pa.array(idx)).to_pylist() if values is not None else [""] * len(idx)
        for i, v in zip(idx.tolist(), vals):
            self.add(kind, int(rows[i]), col, column, "" if v is None else str(v))


def _sheet_ref(sheet: str) -> str:
    return sheet if re.fullmatch(r"\w+", sheet) else "'" + sheet.replace("'", "''") + "'"


def _display_name(engagement: Any, path: Path) -> str:
    for base in (engagement.data_dir, engagement.root):
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return path.name


def _read_file(engagement: Any, kind: str, problems: list[Problem]) -> _FileResult | None:
    lang = engagement.lang
    spec = engagement.settings["inputs"][kind]
    path = engagement.input_path(kind)
    if path is None:
        return None
    name = _display_name(engagement, path)
    col = _Collector(name, lang, None)
    try:
        source = readers.open_source(path, name, spec.get("sheet", "") or "")
        col.source = source
        result = _parse(source, kind, dict(spec.get("columns") or {}), col, engagement)
    except ReadError as exc:
        col.add(exc.kind, exc.row, None, "", exc.value)
        result = None
    problems.extend(col.items)
    return result if not col.items else None


def _parse(source: Source, kind: str, explicit: dict[str, str], col: _Collector,
           engagement: Any) -> _FileResult | None:
    lang = engagement.lang
    header: Header | None = None
    delimiter = ""
    any_rows = False
    for d in source.delimiters:
        preview = source.preview(d)
        any_rows = any_rows or bool(preview)
        found = find_header(preview, kind, explicit)
        if found and (header is None or found.score > header.score + 1e-9):
            header, delimiter = found, d
    if header is None:
        if not any_rows:
            col.add("empty")
            return None
        if source.encoding == "cp1251" and any(
                readers.looks_like_utf8(c) for d in source.delimiters
                for _, _, cells in source.preview(d)[:PREVIEW_CHECK] for c in cells):
            col.add("mixed_encoding")
            return None
        col.add("no_header", value=" | ".join(source.preview(source.delimiters[0])[0][2][:8])
                if source.preview(source.delimiters[0]) else "")
        return None
    for missing in header.missing_explicit:
        col.add("unknown_mapped_column", header.first_row, None, missing,
                " | ".join(x for x in header.labels if x))
    required = C.LEDGER_REQUIRED if kind == "sales" else ()
    for canon in required:
        if canon not in header.mapping and not any(k == canon for k in explicit):
            col.add("missing_column", header.first_row, None, "", _expected_headers(canon))
    if kind == "sales" and engagement.settings["import"]["customer_key"] == "inn" \
            and C.INN not in header.mapping:
        col.add("missing_column", header.first_row, None, "", _expected_headers(C.INN))
    if col.items:
        return None

    ncols = max(len(header.labels), max(header.mapping.values()) + 1)
    body = source.body(delimiter, header.data_start, ncols)
    for row, nfields in body.ragged:
        col.add("ragged_row", row, None, "", f"{nfields} ≠ {ncols}")
    if source.format == "xlsx":
        mapped = set(header.mapping.values())
        for row, c in body.formula_cells:
            if c in mapped:
                col.add("formula_no_value", row, c, header.labels[c])
    return _parse_body(source, kind, header, delimiter, body, col, engagement, lang)


PREVIEW_CHECK = 40


def _expected_headers(canon: str) -> str:
    syn = _synonyms().get(canon, ())
    return f"{canon}: " + ", ".join(syn[:4])


def _parse_body(source: Source, kind: str, header: Header, delimiter: str, body: Body,
                col: _Collector, engagement: Any, lang: str) -> _FileResult | None:
    m = header.mapping
    n = len(body)
    cells = [pc.utf8_trim_whitespace(c) for c in body.cells]
    # --- rows left out: blank, totals ------------------------------------------------
    blank = np.ones(n, dtype=bool)
    for c in cells:
        blank &= pc.equal(pc.utf8_length(c), 0).to_numpy(zero_copy_only=False)
    total = np.zeros(n, dtype=bool)
    label_cols = sorted({0, *(m[f] for f in TOTAL_LABEL_FIELDS if f in m)})
    for j in label_cols:
        total |= pc.match_substring_regex(cells[j], _total_re()).to_numpy(zero_copy_only=False)
    total &= ~blank
    keep = ~blank & ~total
    total_idx = np.flatnonzero(total)
    total_examples = [{"row": col.where(int(body.rows[i]), label_cols[0]),
                       "text": next((cells[j][int(i)].as_py() for j in label_cols
                                     if cells[j][int(i)].as_py()), "")}
                      for i in total_idx[:5]]
    rows_read = n + body.blank_lines + len(body.ragged)
    if not keep.any():
        if not body.ragged:
            col.add("header_only", header.first_row)
        return None
    keep_idx = pa.array(np.flatnonzero(keep))
    kcells = [c.take(keep_idx) for c in cells]
    rows = body.rows[keep]
    knum = [x[keep] for x in body.numbers] if body.numbers is not None else None
    label_of = {canon: header.labels[j] for canon, j in m.items()}

    out: dict[str, Any] = {}
    report: dict[str, Any] = {
        "file": col.file, "kind": kind, "format": source.format, "encoding": source.encoding,
        "delimiter": delimiter, "sheet": source.sheet,
        "header_row": col.where(header.first_row, 0 if source.format == "xlsx" else None),
        "header": [x for x in header.labels],
        "columns": {canon: label_of[canon] for canon in sorted(m, key=m.get)},
        "unmapped": [x for j, x in enumerate(header.labels) if x and j not in m.values()],
        "rows_read": int(rows_read),
        "rows_excluded": {"total": int(total.sum()), "blank": int(blank.sum() + body.blank_lines)},
        "total_examples": total_examples,
    }
    # --- mixed encodings: UTF-8 values inside a cp1251 file ----------------------------
    if source.encoding == "cp1251":
        for canon in (f for f in TEXT_FIELDS if f in m):
            values = kcells[m[canon]]
            non_ascii = pc.invert(pc.string_is_ascii(values))
            if not pc.any(non_ascii).as_py():
                continue
            uniq = pc.unique(values.filter(non_ascii)).to_pylist()
            utf8 = [u for u in uniq if readers.looks_like_utf8(u)]
            if utf8:
                mask = pc.is_in(values, value_set=pa.array(utf8, pa.string())).to_numpy(zero_copy_only=False)
                col.mask("mixed_encoding", mask, rows, values, m[canon], label_of[canon])
    # --- numbers -------------------------------------------------------------------------
    fields = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    numeric = [f for f in NUMERIC_FIELDS if f in m and f in fields]
    prepared = {f: _prepare_number_text(kcells[m[f]]) for f in numeric}
    text_only = {f: (prepared[f] if knum is None else prepared[f].filter(pa.array(np.isnan(knum[m[f]]))))
                 for f in numeric}
    cyrillic = any(re.search(r"[\u0400-\u04ff]", x) for x in header.labels)
    decimal = detect_decimal(list(text_only.values()), cyrillic)
    report["decimal_mark"] = decimal
    for f in numeric:
        j = m[f]
        values, bad, empty = parse_number_text(prepared[f], decimal)
        if knum is not None:  # xlsx number cells are numbers already
            is_num = ~np.isnan(knum[j])
            values = np.where(is_num, knum[j], values)
            bad &= ~is_num
            empty &= ~is_num
        absurd = np.abs(np.nan_to_num(values)) > ABSURD
        col.mask("bad_amount" if f == C.AMOUNT else "bad_number", bad, rows, kcells[j], j, label_of[f])
        col.mask("absurd_amount" if f == C.AMOUNT else "absurd_number", absurd, rows, kcells[j], j,
                 label_of[f])
        if f == C.AMOUNT:
            col.mask("missing_value", empty, rows, None, j, label_of[f])
        out[f] = values
    # --- dates ---------------------------------------------------------------------------
    if C.DATE in m:
        j = m[C.DATE]
        dates, bad, empty, fmts = parse_dates(kcells[j], knum[j] if knum is not None else None)
        if body.date_cells is not None and body.date_cells[j]:
            fmts["excel_date"] += body.date_cells[j]
            fmts["yyyy-mm-dd"] -= min(body.date_cells[j], fmts["yyyy-mm-dd"])
            fmts = +fmts
        col.mask("bad_date", bad, rows, kcells[j], j, label_of[C.DATE])
        col.mask("missing_value", empty, rows, None, j, label_of[C.DATE])
        out[C.DATE] = dates
        report["date_format"] = fmts.most_common(1)[0][0] if fmts else ""
        report["date_formats"] = dict(fmts)
    # --- INN -----------------------------------------------------------------------------
    if C.INN in m:
        enc = pc.dictionary_encode(kcells[m[C.INN]])
        norm, padded, invalid = _normalise_inn(enc.dictionary.to_pylist())
        codes = enc.indices.to_numpy(zero_copy_only=False)
        inn = np.asarray(norm, dtype=object)[codes] if len(norm) else np.full(len(codes), "", dtype=object)
        pad_rows = np.asarray(padded, dtype=bool)[codes] if len(norm) else np.zeros(len(codes), bool)
        bad_rows = np.asarray(invalid, dtype=bool)[codes] if len(norm) else np.zeros(len(codes), bool)
        bad_vals = sorted({u for u, b in zip(enc.dictionary.to_pylist(), invalid) if b})
        report["inn"] = {"padded": int(pad_rows.sum()), "invalid": int(bad_rows.sum()),
                         "invalid_examples": bad_vals[:5]}
        out[C.INN] = inn
    # --- text ----------------------------------------------------------------------------
    for f in (x for x in TEXT_FIELDS if x in m and x in fields):
        out[f] = _clean_text(kcells[m[f]])
    if C.CUSTOMER_NAME in out:
        name_empty = pc.equal(pc.utf8_length(out[C.CUSTOMER_NAME]), 0).to_numpy(zero_copy_only=False)
        if C.INN in out:
            name_empty &= out[C.INN] == ""
        col.mask("empty_customer", name_empty, rows, None, m[C.CUSTOMER_NAME], label_of[C.CUSTOMER_NAME])
    elif C.INN in out:
        col.mask("empty_customer", out[C.INN] == "", rows, None, m[C.INN], label_of[C.INN])
    # --- exact duplicates (every cell of the row equal) ----------------------------------
    joined = pc.binary_join_element_wise(*kcells, "\x1f") if len(kcells) > 1 else kcells[0]
    codes = pc.dictionary_encode(joined).indices.to_numpy(zero_copy_only=False)
    first = np.zeros(len(codes), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    duplicate = ~first
    report["rows_imported"] = int(len(rows))
    report["duplicates"] = {"count": int(duplicate.sum())}
    res = _FileResult(kind=kind, columns=out, rows=rows, source=source, report=report)
    res.columns["_duplicate"] = duplicate
    return res


# =====================================================================================
# customer ids and the tables
# =====================================================================================

def _keys_of(names: pa.Array) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(name key per row as object array, name code per row, distinct names)."""
    enc = pc.dictionary_encode(names)
    uniq = enc.dictionary.to_pylist()
    keys = np.asarray([name_key(u) for u in uniq], dtype=object)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    return (keys[codes] if len(uniq) else np.zeros(0, dtype=object)), codes, uniq


def name_to_inn(keys: np.ndarray, inns: np.ndarray) -> tuple[dict[str, str], list[str]]:
    """Name keys seen with exactly one INN -> that INN; and name keys seen with several."""
    has = inns != ""
    pairs = pd.DataFrame({"k": keys[has], "i": inns[has]}).drop_duplicates()
    pairs = pairs[pairs["k"] != ""]
    counts = pairs.groupby("k")["i"].nunique()
    single = pairs[pairs["k"].isin(counts[counts == 1].index)]
    return dict(zip(single["k"], single["i"])), sorted(counts[counts > 1].index.tolist())


def assign_ids(keys: np.ndarray, inns: np.ndarray | None, mapping: dict[str, str],
               mode: str) -> tuple[np.ndarray, np.ndarray, int]:
    """customer_id per row: the INN (own, or via the name->INN map), else the name key.

    Returns (ids, inns filled from the map, rows that got their INN from the map).
    ``mode``: auto | inn | name (``import.customer_key``).
    """
    n = len(keys)
    if inns is None:
        inns = np.full(n, "", dtype=object)
    if mode == "name":
        return keys.copy(), inns, 0
    missing = inns == ""
    filled = inns.copy()
    if missing.any() and mapping:
        mapped = pd.Series(keys[missing], dtype=object).map(mapping).fillna("").to_numpy(dtype=object)
        filled[missing] = mapped
    got = int((missing & (filled != "")).sum())
    ids = np.where(filled != "", filled, keys)
    return ids.astype(object), filled, got


def _most_frequent(ids: np.ndarray, values: np.ndarray) -> dict[str, str]:
    """id -> its most frequent non-empty value (ties: first seen)."""
    df = pd.DataFrame({"id": ids, "v": values})
    df = df[df["v"] != ""]
    if df.empty:
        return {}
    counts = df.groupby(["id", "v"], sort=False).size().reset_index(name="n")
    counts = counts.sort_values(["id", "n"], ascending=[True, False], kind="stable")
    top = counts.drop_duplicates("id")
    return dict(zip(top["id"], top["v"]))


def _text_series(values: Any, n: int) -> pd.Series:
    if values is None:
        return pd.Series([""] * n, dtype="str")
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return pd.Series(values.to_pandas(), dtype="str")
    return pd.Series(values, dtype="str")


def _row_labels(res: _FileResult, lang: str) -> pd.Series:
    """source_row per imported row: "строка 12" / "line 12" or "Лист1!A12"."""
    if res.source.format == "xlsx":
        prefix, suffix = f"{_sheet_ref(res.source.sheet)}!A", ""
    else:
        template = str(t("ingest.line", lang))
        prefix, _, suffix = template.partition("{n}")
    nums = pa.array(res.rows).cast(pa.string())
    joined = pc.binary_join_element_wise(pa.scalar(prefix), nums, pa.scalar(suffix), "")
    return pd.Series(joined.to_pandas(), dtype="str")


def build_tables(sales: _FileResult, customers: _FileResult | None, settings: dict[str, Any],
                 lang: str, problems: list[Problem]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The canonical ledger and customers tables from parsed files (pure)."""
    imp = settings["import"]
    mode = imp["customer_key"]
    sc = sales.columns
    n = len(sales.rows)
    s_keys, _, _ = _keys_of(sc[C.CUSTOMER_NAME])
    s_inns = sc.get(C.INN)
    c_keys = c_inns = None
    if customers is not None:
        cc = customers.columns
        c_keys = (_keys_of(cc[C.CUSTOMER_NAME])[0] if C.CUSTOMER_NAME in cc
                  else np.full(len(customers.rows), "", dtype=object))
        c_inns = cc.get(C.INN)
    all_keys = np.concatenate([s_keys, c_keys]) if c_keys is not None else s_keys
    all_inns = np.concatenate([
        s_inns if s_inns is not None else np.full(n, "", dtype=object),
        c_inns if c_inns is not None else np.full(len(c_keys) if c_keys is not None else 0, "", dtype=object)])
    mapping, ambiguous = name_to_inn(all_keys, all_inns) if mode != "name" else ({}, [])
    ids, inns, from_name = assign_ids(s_keys, s_inns, mapping, mode)
    if mode == "inn":
        col = _Collector(sales.report["file"], lang, sales.source)
        lbl = sales.report["columns"].get(C.INN, "")
        col.mask("missing_inn", inns == "", sales.rows, sc[C.CUSTOMER_NAME], None, lbl)
        problems.extend(col.items)
    sales.report["inn_from_name"] = from_name
    sales.report["names_ambiguous"] = {"count": len(ambiguous), "examples": ambiguous[:5]}

    raw_names = np.asarray(sc[C.CUSTOMER_NAME].to_numpy(zero_copy_only=False), dtype=object)
    top_name = _most_frequent(ids, raw_names)
    names = pd.Series(ids, dtype=object).map(top_name).fillna("").to_numpy(dtype=object)
    names = np.where(names == "", ids, names)

    amount = sc[C.AMOUNT]
    ledger = pd.DataFrame({
        C.CUSTOMER_ID: pd.Series(ids, dtype="str"),
        C.CUSTOMER_NAME: pd.Series(names, dtype="str"),
        C.INN: pd.Series(inns, dtype="str"),
        C.DATE: pd.Series(sc[C.DATE]).astype("datetime64[ns]"),
        C.AMOUNT: pd.Series(amount, dtype="float64"),
        C.QUANTITY: pd.Series(sc.get(C.QUANTITY, np.full(n, np.nan)), dtype="float64"),
        C.PRODUCT: _text_series(sc.get(C.PRODUCT), n),
        C.MANAGER: _text_series(sc.get(C.MANAGER), n),
        C.MARGIN: pd.Series(sc.get(C.MARGIN, np.full(n, np.nan)), dtype="float64"),
        C.DOCUMENT: _text_series(sc.get(C.DOCUMENT), n),
        C.IS_RETURN: pd.Series(amount < 0, dtype="bool"),
        C.SOURCE_FILE: pd.Series([sales.report["file"]] * n, dtype="str"),
        C.SOURCE_ROW: _row_labels(sales, lang),
    })
    dup = sc["_duplicate"]
    if imp["duplicates"] == "drop" and dup.any():
        ledger = ledger.loc[~dup].reset_index(drop=True)
    sales.report["duplicates"]["action"] = imp["duplicates"]
    ret = ledger[C.IS_RETURN].to_numpy()
    amt = ledger[C.AMOUNT].to_numpy()
    sales.report["returns"] = {"count": int(ret.sum()), "sum": float(amt[ret].sum())}

    customers_df = _customers_table(ledger, customers, mapping, mode, lang)
    gross = float(amt[amt > 0].sum())
    returns_sum = float(amt[ret].sum())
    revenue = gross + returns_sum if imp["returns"] == "net" else gross
    dates = ledger[C.DATE]
    totals = {
        "customers": int(len(customers_df)),
        "customers_with_sales": int(ledger[C.CUSTOMER_ID].nunique()),
        "rows": int(len(ledger)),
        "date_from": dates.min().date().isoformat() if len(ledger) else "",
        "date_to": dates.max().date().isoformat() if len(ledger) else "",
        "revenue": revenue,
        "revenue_gross": gross,
        "returns_sum": returns_sum,
        "returns_count": int(ret.sum()),
        "returns": imp["returns"],
        "duplicates": imp["duplicates"],
        "customer_key": mode,
    }
    return ledger, customers_df, totals


def _customers_table(ledger: pd.DataFrame, customers: _FileResult | None, mapping: dict[str, str],
                     mode: str, lang: str) -> pd.DataFrame:
    """One row per customer: attributes from the customers file, purchases from the ledger."""
    g = ledger.groupby(C.CUSTOMER_ID, sort=False)
    base = pd.DataFrame({
        C.CUSTOMER_NAME: g[C.CUSTOMER_NAME].first(),
        C.INN: g[C.INN].first(),
        C.FIRST_PURCHASE: g[C.DATE].min(),
        C.LAST_PURCHASE: g[C.DATE].max(),
    })
    mgr = _most_frequent(ledger[C.CUSTOMER_ID].to_numpy(dtype=object),
                         ledger[C.MANAGER].to_numpy(dtype=object))
    base[C.MANAGER] = pd.Series(base.index.map(lambda i: mgr.get(i, "")), index=base.index, dtype=object)
    attrs = pd.DataFrame(index=pd.Index([], name=C.CUSTOMER_ID))
    if customers is not None:
        cc = customers.columns
        m = len(customers.rows)
        keys = (_keys_of(cc[C.CUSTOMER_NAME])[0] if C.CUSTOMER_NAME in cc
                else np.full(m, "", dtype=object))
        ids, inns, _ = assign_ids(keys, cc.get(C.INN), mapping, mode)
        frame = {C.CUSTOMER_ID: ids, C.INN: inns}
        for f in CUSTOMER_FIELDS:
            if f in cc and f != C.INN:
                v = cc[f]
                frame[f] = v.to_numpy(zero_copy_only=False) if isinstance(v, pa.Array) else v
        cdf = pd.DataFrame(frame)
        cdf = cdf[cdf[C.CUSTOMER_ID] != ""]
        merged = int(cdf[C.CUSTOMER_ID].duplicated().sum())
        customers.report["customers_merged"] = merged
        text_cols = [c for c in cdf.columns if c not in (C.CUSTOMER_ID, C.HEADCOUNT, C.POTENTIAL)]
        cdf[text_cols] = cdf[text_cols].replace("", np.nan)
        attrs = cdf.groupby(C.CUSTOMER_ID, sort=False).first()
    out = base.join(attrs, how="outer", rsuffix="_file", sort=False)
    for f in (C.CUSTOMER_NAME, C.INN, C.MANAGER):
        if f + "_file" in out:
            own = out[f].replace("", np.nan)
            # ledger spelling wins for the name (consistent with the ledger); file wins otherwise
            out[f] = own.combine_first(out[f + "_file"]) if f == C.CUSTOMER_NAME \
                else out[f + "_file"].combine_first(own)
    out = out.reset_index().rename(columns={"index": C.CUSTOMER_ID})
    res = pd.DataFrame({C.CUSTOMER_ID: out[C.CUSTOMER_ID].astype("str")})
    for f in C.CUSTOMERS_COLUMNS[1:]:
        if f in (C.HEADCOUNT, C.POTENTIAL):
            res[f] = pd.to_numeric(out[f], errors="coerce").astype("float64") if f in out else np.nan
        elif f in (C.FIRST_PURCHASE, C.LAST_PURCHASE):
            res[f] = pd.to_datetime(out[f]).astype("datetime64[ns]")
        else:
            res[f] = (out[f].astype(object).where(out[f].notna(), "") if f in out
                      else pd.Series([""] * len(out), dtype=object)).astype("str")
    res[C.CUSTOMER_NAME] = res[C.CUSTOMER_NAME].where(res[C.CUSTOMER_NAME] != "", res[C.CUSTOMER_ID])
    return res.loc[:, list(C.CUSTOMERS_COLUMNS)].reset_index(drop=True)


# =====================================================================================
# public API
# =====================================================================================

def import_engagement(engagement: Any) -> ImportResult:
    """Read the engagement's input files into the canonical tables; write nothing.

    Parameters
    ----------
    engagement : workbench.config.Engagement
        ``settings["inputs"]["sales"|"customers"]`` = {file, sheet, columns};
        ``settings["import"]`` = {returns, duplicates, customer_key}.

    Returns
    -------
    ImportResult
        ledger (LEDGER_COLUMNS: text columns ``str``, date datetime64[ns], amount /
        quantity / margin float64 in the client's currency, is_return bool),
        customers (CUSTOMERS_COLUMNS, one row per customer_id, including customers of
        the customers file without purchases: first/last purchase NaT), report (dict:
        ``files`` (one dict per file) and ``totals``).

    Raises
    ------
    InputError
        Every problem found in every file, grouped, in the engagement's language.
    """
    lang = engagement.lang
    problems: list[Problem] = []
    try:
        sales = _read_file(engagement, "sales", problems)
        customers = _read_file(engagement, "customers", problems)
        ledger = customers_df = None
        totals: dict[str, Any] = {}
        if not problems and sales is not None:
            ledger, customers_df, totals = build_tables(sales, customers, engagement.settings, lang, problems)
    except InputError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise InputError([*problems, Problem(kind="too_large", file=str(engagement.input_path("sales")))],
                         lang) from exc
    if problems or ledger is None or customers_df is None or sales is None:
        raise InputError(problems or [Problem(kind="not_found", file="inputs.sales.file")], lang)
    files = [sales.report] + ([customers.report] if customers is not None else [])
    totals["currency"] = engagement.settings.get("currency", "RUB")
    report = {"client": engagement.client, "lang": lang, "currency": totals["currency"],
              "files": files, "totals": totals}
    return ImportResult(ledger=ledger, customers=customers_df, report=_jsonable(report))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return None if math.isnan(float(obj)) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_import(engagement: Any, result: ImportResult) -> None:
    """Atomically write work/ledger.parquet, work/customers.parquet, work/import_report.json."""
    from workbench.io import tables

    work = engagement.work_dir
    tables.write_parquet(result.ledger, work / "ledger.parquet")
    tables.write_parquet(result.customers, work / "customers.parquet")
    tables.write_json(result.report, work / "import_report.json")


# --- rendering ---------------------------------------------------------------------------

def _money(x: float, lang: str, currency: str) -> str:
    from workbench.report.fmt import money

    return money(x, lang, currency)


def _num(x: float, lang: str) -> str:
    from workbench.report.fmt import number

    return number(x, lang)


def _day(iso: str, lang: str) -> str:
    from workbench.report.fmt import day

    return day(iso, lang) if iso else ""


def _dates_label(f: dict[str, Any], lang: str) -> str:
    labels = t("ingest.date_formats", lang)
    fmts = f.get("date_formats") or {}
    return ", ".join(labels.get(k, k) for k in sorted(fmts, key=lambda k: -fmts[k])) or t("ingest.none", lang)


def _delimiter_label(d: str, lang: str) -> str:
    return str(t("ingest.delimiter_tab", lang)) if d == "\t" else str(t("ingest.delimiter_quoted", lang, d=d))


def render_report_text(report: dict[str, Any], lang: str) -> str:
    """The human import report printed by ``workbench import`` (plain text)."""
    cur = report.get("currency", "RUB")
    lines = [str(t("ingest.title", lang))]
    for f in report["files"]:
        lines.append("")
        lines.append(t("ingest.file_line", lang, kind=t(f"ingest.kind_{f['kind']}", lang), file=f["file"]))
        if f["format"] == "xlsx":
            lines.append("  " + t("ingest.format_xlsx", lang, sheet=f["sheet"], decimal=f.get("decimal_mark", ""),
                                  dates=_dates_label(f, lang)))
        else:
            lines.append("  " + t("ingest.format_text", lang, encoding=f["encoding"],
                                  delimiter=_delimiter_label(f["delimiter"], lang),
                                  decimal=f.get("decimal_mark", ""), dates=_dates_label(f, lang)))
        lines.append("  " + t("ingest.header_line", lang, row=f["header_row"],
                              header=" | ".join(x for x in f["header"] if x)))
        lines.append("  " + t("ingest.columns_line", lang,
                              columns=", ".join(f"{k} ← «{v}»" if lang == "ru" else f'{k} <- "{v}"'
                                                for k, v in f["columns"].items())))
        if f.get("unmapped"):
            lines.append("  " + t("ingest.unmapped_line", lang, columns=", ".join(f["unmapped"])))
        ex = f["rows_excluded"]
        lines.append("  " + t("ingest.rows_line", lang, read=_num(f["rows_read"], lang),
                              kept=_num(f["rows_imported"], lang), total=ex["total"], blank=ex["blank"]))
        if f.get("total_examples"):
            lines.append("  " + t("ingest.total_examples", lang, examples="; ".join(
                f"{e['row']}: {e['text']}" for e in f["total_examples"])))
        if "returns" in f:
            lines.append("  " + t("ingest.returns_line", lang, count=f["returns"]["count"],
                                  sum=_money(f["returns"]["sum"], lang, cur)))
        dup = f.get("duplicates", {})
        if dup.get("count"):
            key = "ingest.duplicates_drop" if dup.get("action") == "drop" else "ingest.duplicates_keep"
            lines.append("  " + t(key, lang, count=dup["count"]))
        inn = f.get("inn") or {}
        if inn.get("padded"):
            lines.append("  " + t("ingest.inn_padded", lang, count=inn["padded"]))
        if inn.get("invalid"):
            lines.append("  " + t("ingest.inn_invalid", lang, count=inn["invalid"],
                                  examples=", ".join(inn["invalid_examples"])))
        if f.get("inn_from_name"):
            lines.append("  " + t("ingest.inn_from_name", lang, count=f["inn_from_name"]))
        amb = f.get("names_ambiguous") or {}
        if amb.get("count"):
            lines.append("  " + t("ingest.names_ambiguous", lang, count=amb["count"],
                                  examples=", ".join(amb["examples"])))
        if f.get("customers_merged"):
            lines.append("  " + t("ingest.customers_merged", lang, count=f["customers_merged"]))
    tot = report["totals"]
    lines += ["", str(t("ingest.totals_title", lang)),
              "  " + t("ingest.totals_customers", lang, n=_num(tot["customers"], lang)),
              "  " + t("ingest.totals_rows", lang, n=_num(tot["rows"], lang)),
              "  " + t("ingest.totals_period", lang, start=_day(tot["date_from"], lang),
                       end=_day(tot["date_to"], lang))]
    if tot["returns"] == "exclude":
        lines.append("  " + t("ingest.totals_revenue_exclude", lang, revenue=_money(tot["revenue"], lang, cur),
                              returns=_money(tot["returns_sum"], lang, cur)))
    else:
        lines.append("  " + t("ingest.totals_revenue_net", lang, revenue=_money(tot["revenue"], lang, cur)))
    return "\n".join(lines)


def render_import_html(report: dict[str, Any], lang: str, currency: str) -> str:
    """The import section of the report (anchor ``import``), built with workbench.report.html."""
    from workbench.report import html

    tot = report["totals"]
    note = "ingest.html_revenue_note_exclude" if tot["returns"] == "exclude" else "ingest.html_revenue_note_net"
    tiles = html.kpi_tiles([
        (t("ingest.html_rows", lang), _num(tot["rows"], lang), ""),
        (t("ingest.html_customers", lang), _num(tot["customers"], lang), ""),
        (t("ingest.html_period", lang), f"{_day(tot['date_from'], lang)} — {_day(tot['date_to'], lang)}", ""),
        (t("ingest.html_revenue", lang), _money(tot["revenue"], lang, currency), t(note, lang)),
    ])
    parts = [tiles]
    for f in report["files"]:
        items: list[tuple[str, str]] = [
            (t("ingest.html_file", lang), f"{t('ingest.kind_' + f['kind'], lang)}: {f['file']}"),
            (t("ingest.html_encoding", lang), f["sheet"] if f["format"] == "xlsx"
             else f"{f['encoding']}, {_delimiter_label(f['delimiter'], lang)}"),
            (t("ingest.html_header", lang), f"{f['header_row']}: " + " | ".join(x for x in f["header"] if x)),
            (t("ingest.html_decimal", lang), f.get("decimal_mark", "")),
            (t("ingest.html_dates", lang), _dates_label(f, lang)),
            (t("ingest.html_read", lang), _num(f["rows_read"], lang)),
            (t("ingest.html_excluded_total", lang), _num(f["rows_excluded"]["total"], lang)),
            (t("ingest.html_excluded_blank", lang), _num(f["rows_excluded"]["blank"], lang)),
        ]
        if "returns" in f:
            items.append((t("ingest.html_returns", lang), t("ingest.html_returns_value", lang,
                          count=_num(f["returns"]["count"], lang),
                          sum=_money(f["returns"]["sum"], lang, currency))))
        dup = f.get("duplicates") or {}
        key = "ingest.html_dup_dropped" if dup.get("action") == "drop" else "ingest.html_dup_kept"
        items.append((t("ingest.html_duplicates", lang), t(key, lang, count=_num(dup.get("count", 0), lang))))
        df = pd.DataFrame(items, columns=["param", "value"])
        parts.append(html.table(df, headers={"param": t("ingest.html_param", lang),
                                             "value": t("ingest.html_value", lang)}))
    return html.section("import", str(t("ingest.title", lang)), "".join(parts))


def import_findings(report: dict[str, Any], lang: str, currency: str) -> list[dict[str, Any]]:
    """Findings for the executive summary: severity, headline, number, action, weight."""
    from workbench.report.fmt import pct

    tot = report["totals"]
    out: list[dict[str, Any]] = []
    gross = tot.get("revenue_gross") or 0.0
    if tot.get("returns_count"):
        share = abs(tot["returns_sum"]) / gross if gross else 0.0
        out.append({"severity": "risk" if share > 0.10 else "warn" if share > 0.03 else "info",
                    "headline": t("ingest.finding_returns_headline", lang, share=pct(share, lang)),
                    "number": _money(tot["returns_sum"], lang, currency),
                    "action": t("ingest.finding_returns_action", lang), "weight": 5.0 + 50 * share})
    dups = sum((f.get("duplicates") or {}).get("count", 0) for f in report["files"] if f["kind"] == "sales")
    if dups:
        act = "ingest.finding_duplicates_action_drop" if tot["duplicates"] == "drop" \
            else "ingest.finding_duplicates_action_keep"
        out.append({"severity": "warn", "headline": t("ingest.finding_duplicates_headline", lang,
                                                      count=_num(dups, lang)),
                    "number": _num(dups, lang), "action": t(act, lang), "weight": 6.0})
    if tot.get("date_from"):
        start, end = pd.Timestamp(tot["date_from"]), pd.Timestamp(tot["date_to"])
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        short = months < 12
        out.append({"severity": "warn" if short else "info",
                    "headline": t("ingest.finding_period_headline", lang, months=months,
                                  start=_day(tot["date_from"], lang), end=_day(tot["date_to"], lang)),
                    "number": str(months),
                    "action": t("ingest.finding_period_short_action" if short
                                else "ingest.finding_period_ok_action", lang),
                    "weight": 7.0 if short else 1.0})
    bad_inn = sum((f.get("inn") or {}).get("invalid", 0) for f in report["files"])
    if bad_inn:
        out.append({"severity": "warn", "headline": t("ingest.finding_inn_headline", lang, count=_num(bad_inn, lang)),
                    "number": _num(bad_inn, lang), "action": t("ingest.finding_inn_action", lang),
                    "weight": 4.0})
    amb = sum((f.get("names_ambiguous") or {}).get("count", 0) for f in report["files"])
    if amb:
        out.append({"severity": "warn", "headline": t("ingest.finding_ambiguous_headline", lang, count=amb),
                    "number": str(amb), "action": t("ingest.finding_ambiguous_action", lang), "weight": 3.0})
    excluded = sum(f["rows_excluded"]["total"] for f in report["files"])
    if excluded:
        out.append({"severity": "info", "headline": t("ingest.finding_excluded_headline", lang,
                                                      count=_num(excluded, lang)),
                    "number": _num(excluded, lang), "action": t("ingest.finding_excluded_action", lang),
                    "weight": 0.5})
    if not any(f["severity"] in ("warn", "risk") for f in out):
        out.append({"severity": "ok", "headline": t("ingest.finding_clean_headline", lang),
                    "number": _num(tot["rows"], lang), "action": t("ingest.finding_clean_action", lang),
                    "weight": 0.1})
    return sorted(out, key=lambda f: -f["weight"])


__all__ = ["ImportResult", "import_engagement", "write_import", "render_report_text", "render_import_html",
           "import_findings", "find_header", "recognise", "normalise_header", "parse_dates",
           "parse_number_text", "detect_decimal", "name_key"]
