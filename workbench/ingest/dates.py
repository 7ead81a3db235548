"""Date columns: explicit day-first formats and Excel date serials, never a guess."""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from workbench.ingest.coded import Coded

EXCEL_EPOCH = np.datetime64("1899-12-30")
EXCEL_SERIAL_RANGE = (25569, 73415)      # 1970-01-01 .. 2100-12-31: plausible sales dates


_TIME_TAIL = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"


_DATE_LIKE_RE = re.compile(r"^\s*(\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}-\d{2}-\d{2})")


_DATE_PATTERNS = (  # (format label, regex on the date part, explicit strptime format)
    ("dd.mm.yyyy", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$"), "%d.%m.%Y"),
    ("dd.mm.yy", re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2}$"), "%d.%m.%y"),
    ("yyyy-mm-dd", re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
)


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
