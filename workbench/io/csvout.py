"""CSV deliverables that open correctly in Excel and can never run as formulas there.

Written by pyarrow's CSV writer (C++; pandas' ``to_csv`` formats every cell in Python and
took 0.75 s for 20 000 customers): UTF-8 with a BOM (Excel detects it), ``,``, CRLF, text
values in quotes. Cells read as pandas wrote them before: ``True`` / ``False``, dates as
``YYYY-MM-DD`` (with the time only where a value has one), empty for a missing value.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from workbench.io import atomic

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = b"\xef\xbb\xbf"


def excel_safe_text(values: pd.Series) -> pd.Series:
    """Prefix ``'`` to text starting with = + - @, tab or CR (Excel would run it as a formula).

    Vectorised over the column; non-text columns are returned unchanged.
    """
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return values
    text = values.astype("string")
    risky = text.str.startswith(_FORMULA_START).fillna(False)
    return text.where(~risky, "'" + text)


def _excel_column(values: pd.Series) -> Any:
    """One column as the pyarrow array written: text defused, flags and dates as words."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pd.api.types.is_bool_dtype(values):
        arr = pa.array(values, from_pandas=True)
        return pc.if_else(arr, "True", "False")
    if pd.api.types.is_datetime64_any_dtype(values):
        arr = pa.array(values, from_pandas=True)
        dated = pc.equal(pc.cast(pc.cast(arr, pa.date32()), arr.type), arr)
        whole_days = bool(pc.all(dated).as_py() is not False)
        return pc.strftime(arr, "%Y-%m-%d" if whole_days else "%Y-%m-%d %H:%M:%S")
    if pd.api.types.is_numeric_dtype(values):
        return pa.array(values, from_pandas=True)
    text = pa.array(values.astype("string"), type=pa.large_string(), from_pandas=True)
    risky = pc.fill_null(pc.match_substring_regex(text, r"^[=+\-@\t\r]"), False)
    return pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'", pa.large_string()), text, pa.scalar("", pa.large_string())), text)


def write_csv_for_excel(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as UTF-8 with BOM, ``,``-separated, CRLF, text made formula-safe."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.table({str(col): _excel_column(df[col]) for col in df.columns})
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(eol="\r\n", quoting_style="needed"))
    return atomic.write_bytes(path, BOM + sink.getvalue().to_pybytes())
