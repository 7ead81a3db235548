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

import gc
import math
import re
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, lru_cache
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
_QUOTES_RE = re.compile(r"[«»\"'“”„‘’`]")
_WS_RE = re.compile(r"\s+")
_NONWORD_RE = re.compile(r"[^\w]+")
_TIME_TAIL = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
_DATE_LIKE_RE = re.compile(r"^\s*(\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}-\d{2}-\d{2})")
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


@cache
def _ingest_messages(lang: str) -> dict[str, Any]:
    """The ``ingest`` topic of a catalogue alone (libyaml when present).

    Import needs only this topic; the whole catalogue (every topic, pure-Python YAML)
    took 0.1-0.25 s to load, a sixth of a 1 M-row import. Same file, same values as
    ``t("ingest.<key>", lang)``.
    """
    import yaml

    from workbench import i18n

    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: allowed {', '.join(LANGUAGES)}")
    path = Path(i18n.__file__).parent / lang / "ingest.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}


def _msg(name: str, lang: str, **kwargs: Any) -> Any:
    """``t(f"ingest.{name}", lang, **kwargs)`` from the ingest topic alone."""
    try:
        msg = _ingest_messages(lang)[name]
    except KeyError:
        return t(f"ingest.{name}", lang, **kwargs)  # same KeyError as t()
    if isinstance(msg, str) and kwargs:
        return msg.format(**kwargs)
    return msg


@cache
def _synonyms() -> dict[str, tuple[str, ...]]:
    """canonical -> normalised synonyms, Russian first then English, from the catalogues."""
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for canon, words in _msg("headers", lang).items():
            bucket = out.setdefault(canon, [])
            for w in words:
                n = normalise_header(w)
                if n and n not in bucket:
                    bucket.append(n)
    return {k: tuple(v) for k, v in out.items()}


@cache
def _synonym_index() -> tuple[dict[str, tuple[str, int]], tuple[tuple[str, str], ...]]:
    """(normalised synonym -> (canonical, length), single-word synonyms of 4+ letters)."""
    index: dict[str, tuple[str, int]] = {}
    stems: list[tuple[str, str]] = []
    for canon, syns in _synonyms().items():
        for syn in syns:
            index.setdefault(syn, (canon, len(syn)))
            if " " not in syn and len(syn) >= 4:
                stems.append((syn, canon))
    return index, tuple(stems)


@lru_cache(maxsize=4096)
def recognise(label: str, allowed: tuple[str, ...]) -> tuple[str, float] | None:
    """Best canonical column for one header label, with a score; None if unknown.

    Exact synonym 3, synonym followed by more words 2 ("Сумма, руб."), a synonym
    inside the label or a word starting with one 1 ("Наименование контрагента");
    longer synonyms win ties.
    """
    norm = normalise_header(label)
    if not norm or sum(ch.isdigit() for ch in norm) * 2 > len(norm):
        return None  # values such as dates and amounts are never headers
    index, stems = _synonym_index()
    words = norm.split()
    best: tuple[str, float] | None = None

    def offer(canon: str, score: float, length: int) -> None:
        nonlocal best
        if canon in allowed:
            score += min(length, 40) / 100.0
            if best is None or score > best[1]:
                best = (canon, score)

    hit = index.get(norm)
    if hit:
        offer(hit[0], 3.0, hit[1])
    for k in range(len(words) - 1, 0, -1):
        hit = index.get(" ".join(words[:k]))
        if hit:
            offer(hit[0], 2.0, hit[1])
    for i in range(1, len(words)):
        for k in range(i + 1, len(words) + 1):
            hit = index.get(" ".join(words[i:k]))
            if hit:
                offer(hit[0], 1.0, hit[1])
    # stems that some word starts with and is longer than (found through the word's
    # prefixes, not by trying every stem), offered in stem order
    for pos in sorted(p for w in words for k in range(4, len(w)) for p in _stem_positions().get(w[:k], ())):
        syn, canon = stems[pos]
        offer(canon, 1.0, len(syn))
    return best


@cache
def _stem_positions() -> dict[str, tuple[int, ...]]:
    """stem -> its positions in ``_synonym_index()[1]``."""
    out: dict[str, list[int]] = {}
    for pos, (syn, _) in enumerate(_synonym_index()[1]):
        out.setdefault(syn, []).append(pos)
    return {k: tuple(v) for k, v in out.items()}


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
            _, nend, ncells = preview[i + 1]
            w2 = max(width, _width(ncells))
            top_cells = [c.strip() for c in cells[:w2]]
            top = _fill_right(top_cells + [""] * (w2 - len(top_cells)))
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
# whole-column helpers
# =====================================================================================

def _rx_escape(word: str) -> str:
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", word)


@cache
def _currency_re() -> str:
    marks = sorted({m.casefold() for lang in LANGUAGES for m in _msg("currency_marks", lang)},
                   key=len, reverse=True)
    alt = "|".join(_rx_escape(m) for m in marks)
    return rf"(?i)^(?:{alt})|(?:{alt})$"


@cache
def _total_re() -> re.Pattern[str]:
    words = sorted({normalise_header(w) for lang in LANGUAGES for w in _msg("total_words", lang)},
                   key=len, reverse=True)
    alt = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"^\s*(?:{alt})(?:$|[\s:.,;()\-])", re.IGNORECASE)


def _as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _lengths(values: pa.Array) -> np.ndarray:
    """Byte length of each string, from the offsets buffer (no per-value work)."""
    if isinstance(values, pa.DictionaryArray):
        return _lengths(values.dictionary)[values.indices.to_numpy(zero_copy_only=False)]
    off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(values.buffers()[1], dtype=off_type)[values.offset:values.offset + len(values) + 1]
    return np.diff(offsets).astype(np.int64)


class _Bytes:
    """The UTF-8 bytes of a whole string column, for cheap "does it hold X at all" tests."""

    def __init__(self, values: pa.Array) -> None:
        if len(values) == 0 or values.buffers()[2] is None:
            self.raw = b""
            return
        off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
        offsets = np.frombuffer(values.buffers()[1], dtype=off_type)
        lo, hi = int(offsets[values.offset]), int(offsets[values.offset + len(values)])
        self.raw = memoryview(values.buffers()[2])[lo:hi].tobytes()

    def has(self, text: str) -> bool:
        return text.encode("utf-8") in self.raw

    def has_other_than(self, allowed: bytes) -> bool:
        """True when some byte is not in ``allowed``."""
        return bool(self.raw.translate(None, allowed))


_DIGITS = b"0123456789"
_SPACE_CHARS = (" ", "\u00a0", "\u202f", "\u2007", "\u2009", "'")


# First / last UTF-8 byte of a value that ``_trim`` could strip (space, tab, CR, LF, the lead
# byte of NBSP and of the narrow / figure / thin spaces; their final bytes).
_TRIM_FIRST = np.zeros(256, dtype=bool)
_TRIM_FIRST[[0x20, 0x09, 0x0D, 0x0A, 0xC2, 0xE2]] = True
_TRIM_LAST = np.zeros(256, dtype=bool)
_TRIM_LAST[[0x20, 0x09, 0x0D, 0x0A, 0xA0, 0xAF, 0x87, 0x89]] = True


def _needs_trim(values: pa.Array) -> bool:
    """False when no value starts or ends with a byte of a character ``_trim`` strips.

    Reads only the first and last byte of each value (zero-copy views of the buffers);
    True (the full trim runs) whenever in doubt.
    """
    if values.null_count or not pa.types.is_string(values.type) or len(values) == 0 \
            or values.buffers()[2] is None:
        return True
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    if int(offsets[-1]) <= int(offsets[0]):
        return False  # all values empty
    # An empty value reads a neighbour's byte: at worst a needless full trim, never a missed one.
    lo, hi = int(offsets[0]), int(offsets[-1]) - 1
    firsts = data.take(np.clip(offsets[:-1], lo, hi))
    lasts = data.take(np.clip(offsets[1:] - 1, lo, hi))
    return bool(_TRIM_FIRST.take(firsts).any() or _TRIM_LAST.take(lasts).any())


def _trim(values: pa.Array) -> pa.Array:
    """Strip spaces (also no-break ones) and tabs at both ends of every value."""
    if isinstance(values, pa.DictionaryArray):  # the distinct values only (may become equal)
        return pa.DictionaryArray.from_arrays(values.indices, _trim(values.dictionary))
    if not _needs_trim(values):
        return values
    raw = _Bytes(values)
    chars = " \t\r\n" + ("\u00a0" if b"\xc2" in raw.raw else "") + \
        ("\u202f\u2007\u2009" if b"\xe2" in raw.raw else "")
    return pc.utf8_trim(values, characters=chars)


@dataclass
class Coded:
    """A text column as integer codes into its distinct values (low-cardinality columns).

    codes: np.ndarray of int, one per row; values: the distinct values, each once.
    """

    codes: np.ndarray
    values: list[str]

    @classmethod
    def encode(cls, values: pa.Array) -> Coded:
        """Codes in order of first appearance (also from a dictionary array whose
        dictionary is in that order and may hold a value twice, e.g. after ``_trim``)."""
        if isinstance(values, pa.DictionaryArray):
            remap, uniq = pd.factorize(pd.Series(values.dictionary.to_pylist(), dtype=object))
            idx = values.indices.to_numpy(zero_copy_only=False)
            if len(uniq) == len(remap):  # distinct already, in order: the indices are the codes
                return cls(codes=idx.astype(np.int64), values=list(uniq))
            return cls(codes=remap.astype(np.int64)[idx], values=list(uniq))
        enc = pc.dictionary_encode(values)
        return cls(codes=enc.indices.to_numpy(zero_copy_only=False).astype(np.int64),
                   values=enc.dictionary.to_pylist())

    def map(self, func: Any, which: np.ndarray | None = None) -> Coded:
        """Apply ``func`` to the distinct values; values that become equal are merged.

        ``which``: indices of the only values ``func`` can change (the others are kept).
        """
        if which is None:
            mapped = [func(v) for v in self.values]
        else:
            if not len(which):
                return Coded(codes=self.codes, values=list(self.values))
            mapped = list(self.values)
            for i in which.tolist():
                mapped[i] = func(mapped[i])
        new, uniq = pd.factorize(pd.Series(mapped, dtype=object))
        return Coded(codes=new[self.codes] if len(self.codes) else self.codes, values=list(uniq))

    def with_values(self, mapped: list[str]) -> Coded:
        """``map`` with the new value of each distinct value given (same order)."""
        new, uniq = pd.factorize(pd.Series(mapped, dtype=object))
        return Coded(codes=new[self.codes] if len(self.codes) else self.codes, values=list(uniq))

    def take(self, index: np.ndarray) -> Coded:
        return Coded(codes=self.codes[index], values=self.values)

    def mask(self, pred: Any, which: np.ndarray | None = None) -> np.ndarray:
        """Row mask where ``pred(value)`` is true (evaluated once per distinct value).

        ``which``: indices of the only values for which ``pred`` can be true.
        """
        if which is not None:
            hit = np.zeros(len(self.values), dtype=bool)
            for i in which.tolist():
                hit[i] = bool(pred(self.values[i]))
        else:
            hit = np.fromiter((bool(pred(v)) for v in self.values), dtype=bool, count=len(self.values))
        return hit[self.codes] if len(self.values) else np.zeros(len(self.codes), dtype=bool)

    def equals(self, value: str) -> np.ndarray:
        """Row mask where the value is ``value`` (the distinct values are distinct: one code)."""
        try:
            return self.codes == self.values.index(value)
        except ValueError:
            return np.zeros(len(self.codes), dtype=bool)

    def where(self, pattern: str) -> np.ndarray:
        """Indices of the distinct values matching an RE2 ``pattern`` (one vectorised call)."""
        if not self.values:
            return np.zeros(0, dtype=np.int64)
        hit = pc.match_substring_regex(pa.array(self.values, pa.string()), pattern)
        return np.flatnonzero(hit.to_numpy(zero_copy_only=False))

    def arrow(self) -> pa.Array:
        return pa.array(self.values, pa.string()).take(pa.array(self.codes))

    def __len__(self) -> int:
        return len(self.codes)


_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_BREAKS_RE = re.compile(r"[\t\n\r\x0b\x0c]+")


def _re2_class(chars: str) -> str:
    return "[" + "".join(f"\\x{{{ord(ch):04x}}}" for ch in chars) + "]"


# What str.strip() removes (the characters for which str.isspace() is true), written out:
# computing it scans all of Unicode, 0.1 s at every start of the command. A test keeps it
# in step with the running Python.
_STRIPPED = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
             "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# Values that ``clean_text`` can change: a control character anywhere, or a stripped one at an end.
_CLEAN_CANDIDATE = rf"[\x{{00}}-\x{{1f}}\x{{7f}}-\x{{9f}}]|^{_re2_class(_STRIPPED)}|{_re2_class(_STRIPPED)}$"
# Values that ``readers.looks_like_utf8`` can accept: UTF-8 Cyrillic (U+0400-U+04FF) is a lead
# byte D0-D3 and a continuation byte 80-BF, read as cp1251: one of "РСТУ" then one of these.
_UTF8_CANDIDATE = _re2_class(bytes(range(0xD0, 0xD4)).decode("cp1251")) + \
    _re2_class(bytes(range(0x80, 0xC0)).decode("cp1251", errors="ignore"))


def clean_text(value: str) -> str:
    """Control characters out (openpyxl refuses them later); tabs and line breaks -> space."""
    return _CONTROL_RE.sub("", _BREAKS_RE.sub(" ", value)).strip()


def _clean_text_column(values: pa.Array) -> pa.Array:
    """``clean_text`` on a whole high-cardinality column (only when it holds control bytes)."""
    raw = _Bytes(values)
    if not raw.has_other_than(bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))) and b"\xc2" not in raw.raw:
        return values  # no C0 controls, DEL, or C1 controls (UTF-8 C2 80..C2 9F)
    if not pc.any(pc.match_substring_regex(values, r"[\x{00}-\x{1f}\x{7f}-\x{9f}]")).as_py():
        return values
    s = pc.replace_substring_regex(values, r"[\t\n\r\x{0b}\x{0c}]+", " ")
    s = pc.replace_substring_regex(s, r"[\x{00}-\x{08}\x{0e}-\x{1f}\x{7f}-\x{9f}]", "")
    return pc.utf8_trim_whitespace(s)


# =====================================================================================
# numbers and dates (whole columns)
# =====================================================================================

def prepare_number_text(values: pa.Array) -> pa.Array:
    """Drop spaces of every kind (thousands separators) and currency marks; unify minus signs.

    "1 234,56 руб." -> "1234,56"; "(100)" -> "-100"; "−5" -> "-5". Work is skipped when
    the column's bytes show it is not needed.
    """
    s = values
    raw = _Bytes(s)
    # The bytes left after deleting digits, signs and separators (ASCII only, so multi-byte
    # characters stay whole): the checks below then scan a few bytes, not the column.
    rest = _Bytes.__new__(_Bytes)
    rest.raw = raw.raw.translate(None, _DIGITS + b"+-,.")
    for ch in _SPACE_CHARS:
        if rest.has(ch):
            s = pc.replace_substring(s, ch, "")
    if rest.has_other_than(_DIGITS + b"+-,. '\xc2\xa0\xe2\x80\xaf\x87\x89"):
        s = pc.replace_substring_regex(s, _currency_re(), "")
        s = pc.replace_substring_regex(s, r"[\x{2212}\x{2013}]", "-")
        s = pc.replace_substring_regex(s, r"^\((.*)\)$", r"-\1")
    return s


_NUMBER_BYTES = _DIGITS + b"+-,. \xa0"  # cp1251: 0xA0 is the no-break space
_SPACE_BYTES = bytes(1 if b in (0x20, 0xA0) else 0 for b in range(256))  # bytes.translate: 1 = a space


def prepare_number_bytes(values: pa.Array | pa.ChunkedArray) -> pa.Array | None:
    """``prepare_number_text`` on undecoded cp1251 number text, without decoding it.

    Returns the prepared (ASCII) string array, or None when some value holds anything
    but digits, signs, separators and spaces (the caller then decodes the column and
    prepares it as text). A piece at a time, dropping the spaces moves each offset back
    by the spaces before it (a running sum read at the old offsets).
    """
    if not len(values) or values.null_count:
        return None
    pieces = []
    spaces = readers.RunningSum()
    for rel, piece in readers.binary_pieces(values):
        if piece.translate(None, _NUMBER_BYTES):
            return None
        kept = piece.translate(None, b" \xa0")
        if len(kept) < len(piece):
            rel = rel - spaces.before(piece.translate(_SPACE_BYTES), rel)
        pieces.append((rel, kept))
    return readers.join_pieces(len(values), pieces)


def _swap_byte(values: pa.Array, old: str, new: str) -> pa.Array:
    """Every ASCII character ``old`` replaced by ``new``: the same lengths, so the same
    offsets, and one pass over the bytes."""
    bufs = values.buffers()
    if len(values) == 0 or bufs[2] is None:
        return values
    table = bytes.maketrans(old.encode("ascii"), new.encode("ascii"))
    data = pa.py_buffer(memoryview(bufs[2]).tobytes().translate(table))
    return pa.Array.from_buffers(values.type, len(values), [bufs[0], bufs[1], data],
                                 null_count=values.null_count, offset=values.offset)


def detect_decimal(prepared: list[pa.Array], cyrillic_header: bool, sample: int = 200_000) -> str:
    """The file's decimal mark, from values where it is unambiguous.

    "1 234,56" or "1.234,56" vote ","; "1,234.56" or "12.5" vote "."; a lone
    separator followed by exactly three digits ("1,234") is ambiguous and does not
    vote. Without votes: "," for a Russian header, else ".". Looks at the first
    ``sample`` values of each column, then at all of them if none voted.
    """
    def votes(limit: int | None) -> tuple[int, int]:
        comma = dot = 0
        for s in prepared:
            part = s if limit is None else s.slice(0, limit)
            if len(part) == 0:
                continue
            raw = _Bytes(part)
            if raw.has(","):
                comma += pc.sum(pc.match_substring_regex(part, r",(\d{1,2}|\d{4,})$")).as_py() or 0
            if raw.has("."):
                dot += pc.sum(pc.match_substring_regex(part, r"\.(\d{1,2}|\d{4,})$")).as_py() or 0
        return comma, dot

    comma, dot = votes(sample)
    if comma == dot and any(len(s) > sample for s in prepared):
        comma, dot = votes(None)
    if comma != dot:
        return "," if comma > dot else "."
    return "," if cyrillic_header else "."


def parse_number_text(prepared: pa.Array, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse prepared number text (see ``prepare_number_text``) with a known decimal mark.

    Returns (values float64 with NaN for empty or bad, bad mask, empty mask). The other
    separator is accepted only as a thousands separator in groups of three
    ("1.234,5" with decimal ","; "1.5" with decimal "," is bad, not 15).
    """
    thousands = "." if decimal == "," else ","
    empty = _lengths(prepared) == 0
    raw = _Bytes(prepared)
    has_thousands, has_decimal = raw.has(thousands), raw.has(decimal)
    simple = not raw.has_other_than(_DIGITS + b"+-" + decimal.encode())
    null = pa.scalar(None, pa.string())
    s = _swap_byte(prepared, decimal, ".") if decimal != "." and has_decimal else prepared
    if simple:  # digits, sign and decimal mark only: a cast either parses all or fails
        try:
            nums = pc.cast(pc.if_else(pa.array(~empty), s, null) if empty.any() else s, pa.float64())
            return nums.to_numpy(zero_copy_only=False), np.zeros(len(s), dtype=bool), empty
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    d, th = re.escape(decimal), re.escape(thousands)
    valid = pc.match_substring_regex(prepared, rf"^[+-]?(\d+|\d{{1,3}}({th}\d{{3}})+)({d}\d+)?$|^[+-]?{d}\d+$")
    clean = pc.replace_substring(prepared, thousands, "") if has_thousands else prepared
    if decimal != ".":
        clean = pc.replace_substring(clean, decimal, ".")
    nums = pc.cast(pc.if_else(valid, clean, null), pa.float64())
    values = nums.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    bad = ~valid.to_numpy(zero_copy_only=False) & ~empty
    return values, bad, empty


def parse_dates(values: Coded, numbers: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Counter[str]]:
    """Parse a date column with explicit day-first formats, never by guessing.

    Accepted: dd.mm.yyyy, dd.mm.yy, yyyy-mm-dd, each optionally followed by a time
    (dropped: the ledger is day-grained); in xlsx also date cells (arrive as ISO text)
    and Excel date numbers (serials) within 1970-2100. Impossible dates (31.02.2025)
    are bad. Work is done once per distinct value.

    Returns (datetime64[ns] per row with NaT, bad mask, empty mask, Counter of format labels).
    """
    uniques = pd.Series(values.values, dtype=object)
    day = uniques.str.replace(_TIME_TAIL, "", regex=True)
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    label = pd.Series("", index=uniques.index, dtype=object)
    for name, rx, fmt in _DATE_PATTERNS:
        hit = day.str.match(rx.pattern) & label.eq("")
        if hit.any():
            parsed[hit] = pd.to_datetime(day[hit], format=fmt, errors="coerce").astype("datetime64[ns]")
            label[hit] = name
    codes = values.codes
    dates = parsed.to_numpy(dtype="datetime64[ns]")[codes]
    empty = (uniques.str.len() == 0).to_numpy(dtype=bool)[codes]
    counts: Counter[str] = Counter()
    per_value = np.bincount(codes, minlength=len(uniques))
    ok = parsed.notna().to_numpy()
    for name, n in zip(label.to_numpy()[ok], per_value[ok]):
        counts[str(name)] += int(n)
    if numbers is not None:
        serial = ~np.isnan(numbers)
        if serial.any():
            lo, hi = EXCEL_SERIAL_RANGE
            good = serial & (numbers >= lo) & (numbers <= hi)
            days = np.floor(np.where(good, numbers, 0)).astype("int64")
            as_dates = (EXCEL_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[ns]")
            dates = np.where(good, as_dates, np.where(serial, np.datetime64("NaT", "ns"), dates))
            empty = empty & ~serial
            if good.any():
                counts["excel_serial"] += int(good.sum())
    bad = np.isnat(dates) & ~empty
    return dates, bad, empty, +counts


def name_key(name: str) -> str:
    """The customer's name key: casefolded, quotes removed, ё -> е, spaces collapsed."""
    text = _QUOTES_RE.sub(" ", str(name).casefold().replace("ё", "е"))
    return _WS_RE.sub(" ", text).strip()


def name_keys(names: list[str]) -> list[str]:
    """``name_key`` of each name, in one pass over the names joined by NUL.

    Imported names carry no NUL (``clean_text`` removes control characters); a list that
    does is keyed one name at a time. After the whitespace runs collapse to one space,
    stripping a name is dropping a space next to a separator.
    """
    joined = "\0".join(names)
    if not names or joined.count("\0") != len(names) - 1:
        return [name_key(v) for v in names]
    text = _WS_RE.sub(" ", _QUOTES_RE.sub(" ", joined.casefold().replace("ё", "е")))
    return _SEP_SPACES_RE.sub("\0", text).strip(" ").split("\0")


_SEP_SPACES_RE = re.compile(" ?\0 ?")


_INN_STRIP_RE = re.compile(r"[\s\u00a0\u202f-]")


def normalise_inn(raw: str) -> tuple[str, bool, bool]:
    """INN text -> (normalised, padded, invalid). A 9- or 11-digit INN lost its leading zero.

    Invalid INNs (not 10 or 12 digits) become "" (the customer is keyed by name) and
    are counted in the report rather than refusing the file.
    """
    v = _INN_STRIP_RE.sub("", raw)
    if v.endswith(".0") and v[:-2].isdigit():  # a number cell written as a float
        v = v[:-2]
    if not v or (v.isdigit() and len(v) in (10, 12)):
        return v, False, False
    if v.isdigit() and len(v) in (9, 11):
        return "0" + v, True, False
    return "", False, True


def normalise_inns(values: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``normalise_inn`` of each value: (normalised, padded mask, invalid mask).

    Values of ASCII digits only (nearly all) are judged by their length in one
    vectorised pass; the rest one by one.
    """
    n = len(values)
    arr = pa.array(values, pa.string())
    plain = pc.match_substring_regex(arr, r"^[0-9]*$").to_numpy(zero_copy_only=False) if n else np.zeros(0, bool)
    size = _lengths(arr)
    padded = plain & ((size == 9) | (size == 11))
    invalid = plain & ~padded & (size != 0) & (size != 10) & (size != 12)
    out = list(values)
    for i in np.flatnonzero(padded).tolist():
        out[i] = "0" + out[i]
    for i in np.flatnonzero(invalid).tolist():
        out[i] = ""
    for i in np.flatnonzero(~plain).tolist():
        out[i], padded[i], invalid[i] = normalise_inn(values[i])
    return out, padded, invalid


# =====================================================================================
# one file
# =====================================================================================

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
        return str(_msg("line", self.lang, n=row))

    def add(self, kind: str, row: int | None = None, col: int | None = None, column: str = "",
            value: str = "") -> None:
        self.items.append(Problem(kind=kind, file=self.file, row=self.where(row, col),
                                  column=column, value=value))

    def mask(self, kind: str, mask: np.ndarray, rows: np.ndarray, values: Any,
             col: int | None, column: str) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        if values is None:
            vals: list[Any] = [""] * len(idx)
        elif isinstance(values, Coded):
            vals = [values.values[c] for c in values.codes[idx]]
        else:
            vals = values.take(pa.array(idx)).to_pylist()
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


def _read_file(engagement: Any, kind: str, problems: list[Problem], background: ThreadPoolExecutor
               ) -> _FileResult | None:
    spec = engagement.settings["inputs"][kind]
    path = engagement.input_path(kind)
    if path is None:
        return None
    name = _display_name(engagement, path)
    col = _Collector(name, engagement.lang, None)
    result = None
    try:
        source = readers.open_source(path, name, spec.get("sheet", "") or "")
        col.source = source
        result = _parse(source, kind, dict(spec.get("columns") or {}), col, engagement, background)
    except ReadError as exc:
        col.add(exc.kind, exc.row, None, "", exc.value)
    except (MemoryError, RecursionError) as exc:
        col.add("too_large", None, None, "", type(exc).__name__)
    except (pa.ArrowException, ValueError, TypeError, IndexError, KeyError, OverflowError,
            UnicodeError) as exc:
        # arbitrary bytes must end as an InputError, never as a traceback
        col.add("unreadable", None, None, "", f"{type(exc).__name__}: {exc}")
    problems.extend(col.items)
    return result if not col.items else None


def _parse(source: Source, kind: str, explicit: dict[str, str], col: _Collector,
           engagement: Any, background: ThreadPoolExecutor) -> _FileResult | None:
    header: Header | None = None
    delimiter = ""
    previews = {d: source.preview(d) for d in source.delimiters}
    for d, preview in previews.items():
        found = find_header(preview, kind, explicit)
        if found and (header is None or found.score > header.score + 1e-9):
            header, delimiter = found, d
    if header is None:
        first = previews[source.delimiters[0]]
        if not any(previews.values()):
            col.add("empty")
        elif source.encoding == "cp1251" and any(
                readers.looks_like_utf8(c) for _, _, cells in first for c in cells):
            col.add("mixed_encoding", first[0][0] if first else None)
        else:
            col.add("no_header", first[0][0] if first else None, None, "",
                    " | ".join(c for c in first[0][2][:8] if c.strip()) if first else "")
        return None
    for missing in header.missing_explicit:
        col.add("unknown_mapped_column", header.first_row, None, missing,
                " | ".join(x for x in header.labels if x))
    required = C.LEDGER_REQUIRED if kind == "sales" else ()
    for canon in required:
        if canon not in header.mapping and canon not in explicit:
            col.add("missing_column", header.first_row, None, "", _expected_headers(canon))
    if kind == "sales" and engagement.settings["import"]["customer_key"] == "inn" \
            and C.INN not in header.mapping and C.INN not in explicit:
        col.add("missing_column", header.first_row, None, "", _expected_headers(C.INN))
    if col.items:
        return None
    ncols = max(len(header.labels), max(header.mapping.values()) + 1)
    fields = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    body = source.body(delimiter, header.data_start, ncols, coded=_columns_only_of(header.mapping, CODED_FIELDS, fields),
                       raw=_columns_only_of(header.mapping, NUMERIC_FIELDS, fields))
    for row, nfields in body.ragged:
        col.add("ragged_row", row, None, "", f"{nfields} ≠ {ncols}")
    if source.format == "xlsx":
        mapped = set(header.mapping.values())
        for row, c in body.formula_cells:
            if c in mapped:
                col.add("formula_no_value", row, c, header.labels[c])
    result = _parse_body(source, kind, header, delimiter, body, col, engagement.lang, background)
    formula_rows = {p.row for p in col.items if p.kind == "formula_no_value"}
    if formula_rows:  # the formula is the problem, not the empty value it left
        col.items = [p for p in col.items if not (p.kind == "missing_value" and p.row in formula_rows)]
    return result


def _columns_only_of(mapping: dict[str, int], group: tuple[str, ...], fields: tuple[str, ...]) -> set[int]:
    """Columns mapped to a field of ``group`` (among this file's ``fields``) and to no other."""
    mine = {j for f, j in mapping.items() if f in group and f in fields}
    return mine - {j for f, j in mapping.items() if not (f in group and f in fields)}


def _expected_headers(canon: str) -> str:
    syn = _synonyms().get(canon, ())
    return f"{canon}: " + ", ".join(syn[:4])


CODED_FIELDS = (C.CUSTOMER_NAME, C.INN, C.DATE, C.PRODUCT, C.MANAGER, C.INDUSTRY, C.REGION)


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


def _as_one_value(values: pa.Array) -> pa.Array | None:
    """All the text of a string column as one value (a zero-copy view), for a search that
    needs no value boundaries; None when the column does not allow it."""
    if not pa.types.is_string(values.type) or values.null_count or not len(values) \
            or values.buffers()[2] is None:
        return None
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)
    span = np.array([offsets[values.offset], offsets[values.offset + len(values)]], dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(span), values.buffers()[2]])


_UTF8_HINT = r"(?:[РС][\x{0080}-\x{00BF}\x{0401}-\x{045F}\x{2010}-\x{2122}]){2}"


def _utf8_rows(values: pa.Array) -> np.ndarray | None:
    """Rows of a cp1251 text column holding UTF-8 text read as cp1251 (None: none do).

    RE2 finds the rows that could ("Р" or "С" and a character of UTF-8's second byte,
    twice); only their distinct values are decoded back to tell. The column's text is
    searched as one value first: a value that matches matches there too, and one search
    is much cheaper than a million.
    """
    whole = _as_one_value(values)
    if whole is not None and not pc.match_substring_regex(whole, _UTF8_HINT)[0].as_py():
        return None
    hint = pc.match_substring_regex(values, _UTF8_HINT)
    if not pc.any(hint).as_py():
        return None
    utf8 = [u for u in pc.unique(values.filter(hint)).to_pylist() if readers.looks_like_utf8(u)]
    return pc.is_in(values, value_set=pa.array(utf8, pa.string())).to_numpy(zero_copy_only=False)


def _parse_numbers(numeric: list[str], m: dict[str, int], cells: list[pa.Array], number_text: dict[int, pa.Array],
                   knum: list[np.ndarray] | None, labels: list[str]
                   ) -> tuple[str, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]]:
    """The number columns of one file: (decimal mark, field -> (values float64 NaN for none,
    bad mask, empty mask, absurd mask)). ``number_text``: columns prepared from their bytes."""
    prepared = {f: number_text[m[f]] if m[f] in number_text else prepare_number_text(cells[m[f]])
                for f in numeric}
    text_only = [prepared[f] if knum is None else prepared[f].filter(pa.array(np.isnan(knum[m[f]])))
                 for f in numeric]
    cyrillic = any(re.search(r"[\u0400-\u04ff]", x) for x in labels)
    decimal = detect_decimal(text_only, cyrillic)
    parsed = {}
    for f in numeric:
        j = m[f]
        values, bad, empty = parse_number_text(prepared[f], decimal)
        if knum is not None:  # xlsx number cells are numbers already
            is_num = ~np.isnan(knum[j])
            values = np.where(is_num, knum[j], values)
            bad &= ~is_num
            empty &= ~is_num
        with np.errstate(invalid="ignore"):
            absurd = np.abs(values) > ABSURD  # NaN: False, inf: True (as with nan_to_num)
        parsed[f] = (values, bad, empty, absurd)
    return decimal, parsed


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


# =====================================================================================
# customer ids and the tables
# =====================================================================================

def _combos(keys: Coded, inns: Coded) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, distinct values) of the (name key, INN) pairs, first seen first."""
    codes, combos = pd.factorize(keys.codes * max(len(inns.values), 1) + inns.codes)
    return codes, np.asarray(combos, dtype=np.int64)


def _pairs(keys: Coded, inns: Coded | None,
           combos: tuple[np.ndarray, np.ndarray] | None = None) -> set[tuple[str, str]]:
    """Distinct (name key, INN) pairs of rows that carry both (``combos``: ``_combos`` of them)."""
    if inns is None or not len(keys):
        return set()
    combo = combos[1] if combos is not None else pd.unique(keys.codes * max(len(inns.values), 1) + inns.codes)
    k, i = np.divmod(combo, max(len(inns.values), 1))
    return {(keys.values[a], inns.values[b]) for a, b in zip(k.tolist(), i.tolist())
            if keys.values[a] and inns.values[b]}


def name_to_inn(pairs: set[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Name keys seen with exactly one INN -> that INN; and name keys seen with several."""
    seen: dict[str, set[str]] = {}
    for key, inn in pairs:
        seen.setdefault(key, set()).add(inn)
    single = {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}
    return single, sorted(k for k, v in seen.items() if len(v) > 1)


def _name_to_inn_codes(keys: Coded, inns: Coded, combos: tuple[np.ndarray, np.ndarray]
                       ) -> tuple[dict[str, str], list[str]]:
    """``name_to_inn(_pairs(keys, inns, combos))`` counted on codes (the distinct values of a
    ``Coded`` are distinct strings, so distinct code pairs are distinct text pairs)."""
    k, i = np.divmod(combos[1], max(len(inns.values), 1))
    named = np.array([v != "" for v in keys.values], dtype=bool)
    with_inn = np.array([v != "" for v in inns.values], dtype=bool)
    both = named[k] & with_inn[i] if len(k) else np.zeros(0, dtype=bool)
    k, i = k[both], i[both]
    per_key = np.bincount(k, minlength=len(keys.values))
    one = per_key[k] == 1
    single = {keys.values[a]: inns.values[b] for a, b in zip(k[one].tolist(), i[one].tolist())}
    return single, sorted(keys.values[a] for a in np.flatnonzero(per_key > 1).tolist())


def assign_ids(keys: Coded, inns: Coded | None, mapping: dict[str, str], mode: str,
               combos: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[Coded, Coded, int]:
    """customer_id per row: the INN (own, or via the name->INN map), else the name key.

    Returns (ids, INNs with those found by name filled in, rows that got an INN by name).
    ``mode``: auto | inn | name (``import.customer_key``). Work is per distinct
    (name key, INN) pair.
    """
    n = len(keys)
    if inns is None:
        inns = Coded(codes=np.zeros(n, dtype=np.int64), values=[""])
    base = max(len(inns.values), 1)
    combo_codes, uniq = combos if combos is not None else _combos(keys, inns)
    k, i = np.divmod(uniq, base)
    ids, filled, by_name = [], [], []
    for a, b in zip(k.tolist(), i.tolist()):
        key, inn = keys.values[a], inns.values[b]
        if mode == "name":
            ids.append(key)
            filled.append(inn)
            by_name.append(False)
            continue
        got = inn or mapping.get(key, "")
        ids.append(got or key)
        filled.append(got)
        by_name.append(not inn and bool(got))
    id_codes, id_values = pd.factorize(pd.Series(ids, dtype=object))
    inn_codes, inn_values = pd.factorize(pd.Series(filled, dtype=object))
    row_by_name = np.asarray(by_name, dtype=bool)[combo_codes] if len(uniq) else np.zeros(n, bool)
    return (Coded(codes=id_codes[combo_codes], values=list(id_values)),
            Coded(codes=inn_codes[combo_codes], values=list(inn_values)), int(row_by_name.sum()))


def _first_rows(codes: np.ndarray, size: int) -> np.ndarray:
    """For each code 0..size-1, the first row holding it (len(codes) where none does)."""
    first = np.full(size, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return first


_COUNT_IN_PLACE_MAX = 1 << 22  # (id, value) combinations up to which most_frequent counts in an array


def _values_of_one_id(ids: Coded, values: Coded) -> tuple[np.ndarray, np.ndarray] | None:
    """The (id, value) combinations as ``most_frequent`` counts them (code id * len(values)
    + value, first seen first; their row counts), when every value occurs with one id only
    (a spelling belongs to one customer, as a rule); else None. No hashing: a value's
    first row gives its id."""
    n, nv = len(values.codes), max(len(values.values), 1)
    first = _first_rows(values.codes, nv)
    present = np.flatnonzero(first < n)
    id_of_value = np.zeros(nv, dtype=np.int64)
    id_of_value[present] = ids.codes[first[present]]
    if not np.array_equal(id_of_value[values.codes], ids.codes):
        return None
    present = present[np.argsort(first[present], kind="stable")]
    counts = np.bincount(values.codes, minlength=nv)[present].astype(np.float64)
    return id_of_value[present] * nv + present, counts


def most_frequent(ids: Coded, values: Coded) -> list[str]:
    """For each id (in ``ids.values`` order) its most frequent non-empty value; ties: first seen."""
    nv = max(len(values.values), 1)
    key = ids.codes * nv + values.codes
    space = len(ids.values) * nv
    if len(key) and space <= _COUNT_IN_PLACE_MAX:  # few (id, value) combinations: counted in place
        every = np.bincount(key, minlength=space)
        seen = _first_rows(key, space)
        combos = np.flatnonzero(every)
        combos = combos[np.argsort(seen[combos], kind="stable")]  # first seen first, as factorize
        counts = every[combos].astype(np.float64)
    elif len(key) and (one := _values_of_one_id(ids, values)) is not None:
        combos, counts = one
    else:
        combo_codes, combos = pd.factorize(key)
        counts = np.bincount(combo_codes, minlength=len(combos)).astype(np.float64)
    id_of, val_of = np.divmod(np.asarray(combos, dtype=np.int64), nv)
    if "" in values.values:
        counts[val_of == values.values.index("")] = -1.0
    order = np.lexsort((np.arange(len(combos)), -counts, id_of))
    first = np.ones(len(order), dtype=bool)
    first[1:] = id_of[order][1:] != id_of[order][:-1]
    out = [""] * len(ids.values)
    for c in order[first].tolist():
        if counts[c] > 0:
            out[int(id_of[c])] = values.values[int(val_of[c])]
    return out


def _str_series(values: Any, n: int) -> pd.Series:
    """A ``str`` column. pandas keeps its text as large_string: built as large_string
    (a take from the distinct values), it is not copied again (5x faster than a cast)."""
    if values is None:
        values = Coded(codes=np.zeros(n, dtype=np.int64), values=[""])
    if isinstance(values, Coded):
        values = pa.array(values.values, pa.large_string()).take(pa.array(values.codes))
    if not pa.types.is_large_string(values.type):  # from string: widening the offsets is all
        values = values.cast(pa.large_string())       # (20x faster than through pandas)
    return pd.Series(pd.array(values, dtype="str"))


def _row_labels(res: _FileResult, lang: str) -> pa.Array:
    """source_row per imported row: "строка 12" / "line 12" or "Лист1!A12"."""
    if res.source.format == "xlsx":
        prefix, suffix = f"{_sheet_ref(res.source.sheet)}!A", ""
    else:
        prefix, _, suffix = str(_msg("line", lang)).partition("{n}")
    text = pa.large_string()
    nums = pa.array(res.rows).cast(text)
    if not suffix:  # inserting the prefix is twice as fast as a join
        return pc.utf8_replace_slice(nums, 0, 0, prefix)
    return pc.binary_join_element_wise(pa.scalar(prefix, text), nums, pa.scalar(suffix, text), pa.scalar("", text))


def _name_keys(res: _FileResult) -> Coded:
    if C.CUSTOMER_NAME in res.columns:
        names = res.columns[C.CUSTOMER_NAME]
        return names.with_values(name_keys(names.values))
    return Coded(codes=np.zeros(len(res.rows), dtype=np.int64), values=[""])


def build_tables(sales: _FileResult, customers: _FileResult | None, settings: dict[str, Any],
                 lang: str, problems: list[Problem]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The canonical ledger and customers tables from parsed files (pure)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return _build_tables(sales, customers, settings, lang, problems, pool)


def _build_tables(sales: _FileResult, customers: _FileResult | None, settings: dict[str, Any],
                  lang: str, problems: list[Problem], pool: ThreadPoolExecutor
                  ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    imp = settings["import"]
    mode = imp["customer_key"]
    sc = sales.columns
    n = len(sales.rows)
    # The text columns that do not depend on the customer ids are built in the second
    # thread (pyarrow takes, without the GIL) while this one works out the ids.
    text_jobs = {
        C.PRODUCT: pool.submit(_str_series, sc.get(C.PRODUCT), n),
        C.MANAGER: pool.submit(_str_series, sc.get(C.MANAGER), n),
        C.DOCUMENT: pool.submit(_str_series, sc.get(C.DOCUMENT), n),
        C.SOURCE_FILE: pool.submit(_str_series, Coded(codes=np.zeros(n, dtype=np.int64),
                                                      values=[sales.report["file"]]), n),
        C.SOURCE_ROW: pool.submit(lambda: _str_series(_row_labels(sales, lang), n)),
    }
    s_keys = _name_keys(sales)
    s_combos = _combos(s_keys, sc[C.INN]) if C.INN in sc and len(s_keys) else None
    if mode == "name":
        mapping, ambiguous = {}, []
    elif customers is None and s_combos is not None:
        mapping, ambiguous = _name_to_inn_codes(s_keys, sc[C.INN], s_combos)
    else:
        pairs = _pairs(s_keys, sc.get(C.INN), s_combos)
        if customers is not None:
            pairs |= _pairs(_name_keys(customers), customers.columns.get(C.INN))
        mapping, ambiguous = name_to_inn(pairs)
    ids, inns, by_name = assign_ids(s_keys, sc.get(C.INN), mapping, mode, s_combos)
    if mode == "inn":
        col = _Collector(sales.report["file"], lang, sales.source)
        col.mask("missing_inn", inns.equals(""), sales.rows, sc[C.CUSTOMER_NAME], None,
                 sales.report["columns"].get(C.INN, ""))
        problems.extend(col.items)
    sales.report["inn_from_name"] = by_name
    sales.report["names_ambiguous"] = {"count": len(ambiguous), "examples": ambiguous[:5]}
    top = most_frequent(ids, sc[C.CUSTOMER_NAME])
    top = [name or cid for name, cid in zip(top, ids.values)]
    names = Coded(codes=ids.codes, values=top)
    for f, v in ((C.CUSTOMER_ID, ids), (C.CUSTOMER_NAME, names), (C.INN, inns)):
        text_jobs[f] = pool.submit(_str_series, v, n)
    # the customers table (from codes and dates) meanwhile
    id_codes, inn_codes = ids.codes, inns.codes
    managers = sc.get(C.MANAGER)
    sale_dates = np.asarray(sc[C.DATE], dtype="datetime64[ns]")
    drop = imp["duplicates"] == "drop" and bool(sales.duplicate.any())
    keep = ~sales.duplicate if drop else None
    if drop:
        id_codes, inn_codes, sale_dates = id_codes[keep], inn_codes[keep], sale_dates[keep]
        managers = managers.take(np.flatnonzero(keep)) if managers is not None else None
    customers_df = _customers_table(sale_dates, Coded(id_codes, ids.values), top,
                                    Coded(inn_codes, inns.values), managers, customers, mapping, mode)
    amount = sc[C.AMOUNT]
    nan = np.full(n, np.nan)
    ledger = pd.DataFrame({
        C.CUSTOMER_ID: text_jobs[C.CUSTOMER_ID].result(),
        C.CUSTOMER_NAME: text_jobs[C.CUSTOMER_NAME].result(),
        C.INN: text_jobs[C.INN].result(),
        C.DATE: pd.Series(sc[C.DATE], dtype="datetime64[ns]"),
        C.AMOUNT: pd.Series(amount, dtype="float64"),
        C.QUANTITY: pd.Series(sc.get(C.QUANTITY, nan), dtype="float64"),
        C.PRODUCT: text_jobs[C.PRODUCT].result(),
        C.MANAGER: text_jobs[C.MANAGER].result(),
        C.MARGIN: pd.Series(sc.get(C.MARGIN, nan), dtype="float64"),
        C.DOCUMENT: text_jobs[C.DOCUMENT].result(),
        C.IS_RETURN: pd.Series(amount < 0, dtype="bool"),
        C.SOURCE_FILE: text_jobs[C.SOURCE_FILE].result(),
        C.SOURCE_ROW: text_jobs[C.SOURCE_ROW].result(),
    })
    if drop:
        ledger = ledger.loc[keep].reset_index(drop=True)
    sales.report["duplicates"]["action"] = imp["duplicates"]
    amt = ledger[C.AMOUNT].to_numpy()
    ret = amt < 0
    sales.report["returns"] = {"count": int(ret.sum()), "sum": float(amt[ret].sum())}
    gross = float(amt[amt > 0].sum())
    returns_sum = float(amt[ret].sum())
    dates = ledger[C.DATE]
    totals = {
        "customers": len(customers_df),
        "customers_with_sales": int(np.count_nonzero(np.bincount(id_codes, minlength=len(ids.values)))),
        "rows": len(ledger),
        "date_from": dates.min().date().isoformat() if len(ledger) else "",
        "date_to": dates.max().date().isoformat() if len(ledger) else "",
        "revenue": gross + returns_sum if imp["returns"] == "net" else gross,
        "revenue_gross": gross,
        "returns_sum": returns_sum,
        "returns_count": int(ret.sum()),
        "returns": imp["returns"],
        "duplicates": imp["duplicates"],
        "customer_key": mode,
    }
    return ledger, customers_df, totals


def _customers_table(dates: np.ndarray, ids: Coded, names: list[str], inns: Coded, managers: Coded | None,
                     customers: _FileResult | None, mapping: dict[str, str], mode: str) -> pd.DataFrame:
    """One row per customer: attributes from the customers file, purchases from the ledger.

    Customers of the customers file without purchases are included (first/last
    purchase NaT). Name: the ledger's most frequent spelling, else the file's.
    Manager, INN and other attributes: the customers file first, else the ledger.
    """
    present = np.flatnonzero(np.bincount(ids.codes, minlength=len(ids.values)))  # = np.unique(ids.codes)
    if len(dates) and not np.isnat(dates).any():  # per-id min / max in place (no groupby)
        ns = dates.astype("datetime64[ns]").view(np.int64)
        lo = np.full(len(ids.values), np.iinfo(np.int64).max, dtype=np.int64)
        hi = np.full(len(ids.values), np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(lo, ids.codes, ns)
        np.maximum.at(hi, ids.codes, ns)
        first = pd.Series(lo[present].view("datetime64[ns]"))
        last = pd.Series(hi[present].view("datetime64[ns]"))
    else:
        g = pd.Series(dates).groupby(ids.codes)
        first = g.min().reindex(present)
        last = g.max().reindex(present)
    # the INN of an id is the same on all its rows (the id is built from it): take the first row's
    first_row = _first_rows(ids.codes, len(ids.values))
    base = pd.DataFrame({
        C.CUSTOMER_ID: [ids.values[i] for i in present.tolist()],
        C.CUSTOMER_NAME: [names[i] for i in present.tolist()],
        C.INN: [inns.values[c] for c in inns.codes[first_row[present]].tolist()],
        C.FIRST_PURCHASE: first.to_numpy(),
        C.LAST_PURCHASE: last.to_numpy(),
    })
    if managers is not None:
        top = most_frequent(ids, managers)
        base[C.MANAGER] = [top[i] for i in present.tolist()]
    base = base.set_index(C.CUSTOMER_ID)
    if customers is not None:
        cc = customers.columns
        cids, cinns, _ = assign_ids(_name_keys(customers), cc.get(C.INN), mapping, mode)
        frame: dict[str, Any] = {C.CUSTOMER_ID: cids.arrow().to_pylist(), C.INN: cinns.arrow().to_pylist()}
        for f in CUSTOMER_FIELDS:
            v = cc.get(f)
            if v is None or f == C.INN:
                continue
            frame[f] = v.arrow().to_pylist() if isinstance(v, Coded) else (
                v.to_pylist() if isinstance(v, pa.Array) else v)
        cdf = pd.DataFrame(frame)
        cdf = cdf[cdf[C.CUSTOMER_ID] != ""]
        customers.report["customers_merged"] = int(cdf[C.CUSTOMER_ID].duplicated().sum())
        text_cols = [c for c in cdf.columns if c not in (C.CUSTOMER_ID, C.HEADCOUNT, C.POTENTIAL)]
        cdf[text_cols] = cdf[text_cols].astype(object).replace("", None)
        attrs = cdf.groupby(C.CUSTOMER_ID, sort=False).first()
        overlap = {c: c + "_file" for c in attrs.columns if c in base.columns}
        out = base.join(attrs.rename(columns=overlap), how="outer", sort=False)
        for f in (C.CUSTOMER_NAME, C.INN, C.MANAGER):
            if f + "_file" in out:
                own = out[f].astype(object).replace("", None) if f in out else pd.Series(None, index=out.index)
                other = out[f + "_file"].astype(object)
                out[f] = own.combine_first(other) if f == C.CUSTOMER_NAME else other.combine_first(own)
    else:
        out = base
    out = out.reset_index()
    res = pd.DataFrame({C.CUSTOMER_ID: pd.Series(out[C.CUSTOMER_ID].to_numpy(dtype=object), dtype="str")})
    for f in C.CUSTOMERS_COLUMNS[1:]:
        if f in (C.HEADCOUNT, C.POTENTIAL):
            res[f] = (pd.to_numeric(out[f], errors="coerce").astype("float64") if f in out
                      else pd.Series(np.nan, index=res.index, dtype="float64"))
        elif f in (C.FIRST_PURCHASE, C.LAST_PURCHASE):
            res[f] = pd.Series(out[f].to_numpy(), dtype="datetime64[ns]")
        else:
            vals = out[f].astype(object).where(out[f].notna(), "") if f in out else ""
            res[f] = pd.Series(vals, index=res.index, dtype="str") if f in out else \
                pd.Series([""] * len(res), dtype="str")
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
    # The import makes few long-lived objects but many short lists of distinct values:
    # the cyclic garbage collector would only walk them (2 % of the time at 1 M rows).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with ThreadPoolExecutor(max_workers=1) as background:
            sales = _read_file(engagement, "sales", problems, background)
            customers = _read_file(engagement, "customers", problems, background)
            ledger = customers_df = None
            totals: dict[str, Any] = {}
            if not problems and sales is not None:
                ledger, customers_df, totals = build_tables(sales, customers, engagement.settings, lang, problems)
                for res in (sales, customers):
                    if res is not None:
                        _ = res.duplicate  # waits for the mask: its count goes in the report
    except InputError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise InputError([*problems, Problem(kind="too_large", file=str(engagement.input_path("sales")))],
                         lang) from exc
    finally:
        if collecting:
            gc.enable()
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


def _header_where(f: dict[str, Any], lang: str) -> str:
    """Where the header is, in ``lang``: "line 3" / "строка 3"; a cell (Лист1!A4) as it is.
    (``header_row`` is in the engagement's language, the report's may differ.)"""
    if f["format"] == "xlsx" or f.get("header_line") is None:  # the latter: a report from before
        return str(f["header_row"])
    return str(_msg("line", lang, n=f["header_line"]))


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
        lines.append("  " + t("ingest.header_line", lang, row=_header_where(f, lang),
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
            (t("ingest.html_header", lang), f"{_header_where(f, lang)}: " + " | ".join(x for x in f["header"] if x)),
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


__all__ = [
    "ImportResult",
    "detect_decimal",
    "find_header",
    "import_engagement",
    "import_findings",
    "name_key",
    "normalise_header",
    "parse_dates",
    "parse_number_text",
    "recognise",
    "render_import_html",
    "render_report_text",
    "write_import",
]
