"""Number columns (amount, quantity, margin, headcount, potential): text -> float64.

Spaces and currency marks are dropped, the file's decimal mark is worked out from the
values that show it, and the text is parsed on whole columns (pyarrow); undecoded cp1251
number text is prepared from its bytes.
"""
from __future__ import annotations

import re
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.i18n import LANGUAGES
from workbench.ingest.buffers import _Bytes, _lengths, _swap_byte
from workbench.ingest.messages import _msg
from workbench.io import readers

ABSURD = 1e15            # |value| above this is a typo or a wrong column, not a sale


_DIGITS = b"0123456789"
_SPACE_CHARS = (" ", "\u00a0", "\u202f", "\u2007", "\u2009", "'")


def _rx_escape(word: str) -> str:
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", word)


@cache
def _currency_re() -> str:
    marks = sorted({m.casefold() for lang in LANGUAGES for m in _msg("currency_marks", lang)},
                   key=len, reverse=True)
    alt = "|".join(_rx_escape(m) for m in marks)
    return rf"(?i)^(?:{alt})|(?:{alt})$"


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


_NUMBER_SAMPLE_RE = r"^[+-]?(\d+|\d{1,3}([.,]\d{3})+)([.,]\d+)?$|^[+-]?[.,]\d+$"


def number_share(values: list[str]) -> float:
    """Share of the non-empty ``values`` that read as numbers with either decimal mark
    (a column's sample, for its role: a country or a name is never a quantity)."""
    filled = [v for v in values if v.strip()]
    if not filled:
        return 0.0
    prepared = prepare_number_text(pa.array(filled, pa.string()))
    return float(pc.mean(pc.match_substring_regex(prepared, _NUMBER_SAMPLE_RE).cast(pa.int8())).as_py())
