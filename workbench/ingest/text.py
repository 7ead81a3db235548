"""Text cells: trimmed, cleaned of control characters, checked for UTF-8 inside cp1251."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.ingest.buffers import _as_one_value, _Bytes
from workbench.io import readers

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
