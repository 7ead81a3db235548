"""Date columns: explicit formats and Excel date serials, never a guess.

Day-first is the default; a column written with slashes is read month-first only when
its own values prove it (a day above 12 in the second place, none in the first) or when
``import.date_order: mdy`` says so. Periods («Январь 2024 г.», «1 кв. 2024 г.»,
"Jan 2024", "2024-01") become the first day of the month or quarter. A date inside a
document's text («Реализация … от 15.01.2024 12:00:00») is read when the file has no
date column. Work is done once per distinct value.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from workbench.i18n import LANGUAGES
from workbench.ingest.coded import Coded
from workbench.ingest.messages import _msg

if TYPE_CHECKING:  # pandas loads when dates are parsed, not when roles read a header
    import pandas as pd

EXCEL_EPOCH = np.datetime64("1899-12-30")
EXCEL_SERIAL_RANGE = (25569, 73415)      # 1970-01-01 .. 2100-12-31: plausible sales dates


_TIME_TAIL = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s?[AaPp][Mm])?(Z|[+-]\d{2}:?\d{2})?$"


_DATE_LIKE_RE = re.compile(r"^\s*(\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2})")
# «Реализация товаров и услуг 00ЦБ-000123 от 15.01.2024 12:00:00»: the document's date
_IN_TEXT_RE = r"(?:^|\s)от\s+(\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2}))(?:\s|$)"


_DATE_PATTERNS = (  # (format label, regex on the date part, explicit strptime format)
    ("dd.mm.yyyy", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$"), "%d.%m.%Y"),
    ("dd.mm.yy", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2}$"), "%d.%m.%y"),
    ("yyyy-mm-dd", re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "%Y-%m-%d"),
)
_SLASH_RE = r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$"
_YEAR = r"(\d{4})(?:\s*(?:г|года|год)\.?)?"


@cache
def _month_numbers() -> dict[str, int]:
    """Month name (any catalogue form: nominative, genitive, short; both languages) -> 1..12."""
    out: dict[str, int] = {}
    for lang in LANGUAGES:
        for forms in _msg("month_names", lang).values():
            for i, name in enumerate(forms):
                out[name.casefold().replace("ё", "е")] = i + 1
    return out


@cache
def _period_patterns() -> tuple[tuple[str, str], ...]:
    """(label, regex) of periods and dates written with month names, tried after the numeric ones."""
    names = "|".join(sorted(map(re.escape, _month_numbers()), key=len, reverse=True))
    roman = r"(?:I{1,3}|IV|[1-4])"
    return (
        ("d_month_yyyy", rf"^(\d{{1,2}})\s+({names})\.?,?\s+{_YEAR}$"),
        ("month", rf"^({names})\.?,?\s+{_YEAR}$"),
        ("month", r"^((?:19|20)\d{2})-(0?[1-9]|1[0-2])$"),
        ("month", r"^(0?[1-9]|1[0-2])\.((?:19|20)\d{2})$"),
        ("quarter", rf"^({roman})\s*(?:-?й\s*)?(?:кв|квартал|q|quarter)\.?\s*{_YEAR}$"),
        ("quarter", r"^q([1-4])\s*[-/ ]?\s*(\d{4})$"),
        ("quarter", r"^(\d{4})\s*[-/ ]?\s*q([1-4])$"),
    )


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


@dataclass(frozen=True)
class DateOrder:
    """How a slash-written column was read: ``order`` dmy | mdy; ``proven`` by its values
    (a part above 12); ``ambiguous``: slash dates none of which proves the order."""

    order: str = "dmy"
    proven: bool = False
    ambiguous: bool = False


def _slash_order(day: pd.Series, setting: str) -> DateOrder:
    """Day-first or month-first for the slash dates among ``day`` (distinct values)."""
    parts = day.str.extract(_SLASH_RE)
    hit = parts[0].notna()
    if not hit.any():
        return DateOrder("mdy" if setting == "mdy" else "dmy")
    first = parts.loc[hit, 0].astype(int)
    second = parts.loc[hit, 1].astype(int)
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if setting in ("dmy", "mdy"):
        return DateOrder(setting, proven=False, ambiguous=False)
    if month_first and not day_first:
        return DateOrder("mdy", proven=True)
    if day_first:
        return DateOrder("dmy", proven=True)
    return DateOrder("dmy", proven=False, ambiguous=True)


def _periods(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(first day, label) of the values written as periods or with month names (NaT, "" elsewhere)."""
    import pandas as pd

    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    label = pd.Series("", index=text.index, dtype=object)
    months = _month_numbers()
    low = text.str.casefold().str.replace("ё", "е", regex=False).str.strip()
    for name, rx in _period_patterns():
        free = label.eq("")
        if not free.any():
            break
        parts = low[free].str.extract(rx)
        hit = parts[0].notna()
        if not hit.any():
            continue
        idx = parts.index[hit]
        p = parts.loc[hit]
        if name == "d_month_yyyy":
            y, m, d = p[2].astype(int), p[1].map(months), p[0].astype(int)
        elif name == "month" and rx.startswith("^((?:19"):
            y, m, d = p[0].astype(int), p[1].astype(int), 1
        elif name == "month" and rx.startswith("^(0?"):
            y, m, d = p[1].astype(int), p[0].astype(int), 1
        elif name == "month":
            y, m, d = p[1].astype(int), p[0].map(months), 1
        else:
            q_first = not rx.startswith("^(\\d{4})")
            q = (p[0] if q_first else p[1]).map(lambda s: _ROMAN.get(s, None) or int(s))
            y, m, d = (p[1] if q_first else p[0]).astype(int), (q - 1) * 3 + 1, 1
        frame = pd.DataFrame({"year": y, "month": m, "day": d}, index=idx)
        out[idx] = pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")
        label[idx] = name
    return out, label


def _read_distinct(uniques: pd.Series, order: str = "auto", in_text: bool = False
                   ) -> tuple[pd.Series, pd.Series, DateOrder]:
    """(date or NaT, format label or "", how slash dates were read) of distinct values. A
    value written in a known format keeps its label even when the date is impossible."""
    import pandas as pd

    text = uniques.str.extract(_IN_TEXT_RE)[0].fillna("") if in_text else uniques
    day = text.str.strip().str.replace(_TIME_TAIL, "", regex=True)
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    label = pd.Series("", index=uniques.index, dtype=object)
    for name, rx, fmt in _DATE_PATTERNS:
        hit = day.str.match(rx.pattern) & label.eq("")
        if hit.any():
            parsed[hit] = pd.to_datetime(day[hit], format=fmt, errors="coerce").astype("datetime64[ns]")
            label[hit] = name
    slash = DateOrder("mdy" if order == "mdy" else "dmy")
    hit = day.str.match(_SLASH_RE) & label.eq("")
    if hit.any():
        slash = _slash_order(day[hit], order)
        parts = day[hit].str.extract(_SLASH_RE)
        dd, mm = (parts[1], parts[0]) if slash.order == "mdy" else (parts[0], parts[1])
        year = parts[2].astype(int)
        year = year.where(year >= 100, year + np.where(year < 70, 2000, 1900))
        frame = pd.DataFrame({"year": year, "month": mm.astype(int), "day": dd.astype(int)})
        parsed[hit] = pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")
        short = parts[2].str.len() == 2
        label[hit] = np.where(short, "m/d/yy" if slash.order == "mdy" else "d/m/yy",
                              "m/d/yyyy" if slash.order == "mdy" else "d/m/yyyy")
    rest = label.eq("") & day.str.len().gt(0)
    if rest.any() and not in_text:
        when, what = _periods(day[rest])
        got = what.ne("")
        parsed[when.index[got]] = when[got]
        label[what.index[got]] = what[got]
    return parsed, label, slash


def parse_dates(values: Coded, numbers: np.ndarray | None = None, order: str = "auto", in_text: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Counter[str], DateOrder]:
    """Parse a date column with explicit formats, never by guessing.

    Accepted: dd.mm.yyyy, dd.mm.yy, yyyy-mm-dd, d/m/yyyy or m/d/yyyy (see ``order``),
    each optionally followed by a time (dropped: the ledger is day-grained); months and
    quarters (their first day), dates with month names; in xlsx also date cells (arrive
    as ISO text) and Excel date numbers (serials) within 1970-2100. Impossible dates
    (31.02.2025) are bad. ``order``: auto (day-first unless the slash values prove
    month-first) | dmy | mdy (``import.date_order``). ``in_text``: the values are
    documents' texts; the date after «от» is read. Work is done once per distinct value.

    Returns (datetime64[ns] per row with NaT, bad mask, empty mask, Counter of format
    labels, how slash dates were read).
    """
    import pandas as pd

    uniques = pd.Series(values.values, dtype=object)
    parsed, label, slash = _read_distinct(uniques, order, in_text)
    codes = values.codes
    dates = parsed.to_numpy(dtype="datetime64[ns]")[codes]
    empty = (uniques.str.strip().str.len() == 0).to_numpy(dtype=bool)[codes]
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
    return dates, bad, empty, +counts, slash


@cache
def _date_like_re() -> re.Pattern[str]:
    """One pattern for a value written as a date or period in any accepted format (possible
    or not): the cheap test a column's sample is put to when its role is decided."""
    numeric = [rx.pattern.strip("^$") for _, rx, _ in _DATE_PATTERNS] + [_SLASH_RE.strip("^$")]
    periods = [rx.strip("^$") for _, rx in _period_patterns()]
    return re.compile("^(?:" + "|".join(f"(?:{x})" for x in numeric + periods) + ")$")


def looks_like_date(value: str, in_text: bool = False) -> bool:
    """True when ``value`` is written as a date or a period (``in_text``: holds «от <date>»)."""
    if in_text:
        m = re.search(_IN_TEXT_RE, value)
        return bool(m) and looks_like_date(m.group(1))
    day = re.sub(_TIME_TAIL, "", value.strip())
    return bool(_date_like_re().match(day.casefold().replace("ё", "е").strip()))


def date_like_share(values: list[str], in_text: bool = False) -> float:
    """Share of the non-empty ``values`` written as dates (possible or not: «31.02.2025»
    is a date written wrong), periods, or (``in_text``) documents with a date."""
    filled = [v for v in values if v.strip()]
    if not filled:
        return 0.0
    return sum(looks_like_date(v, in_text) for v in filled) / len(filled)
