"""CSV deliverables that open correctly in Excel and can never run as formulas there."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.io import atomic

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe_text(values: pd.Series) -> pd.Series:
    """Prefix ``'`` to text starting with = + - @, tab or CR (Excel would run it as a formula).

    Vectorised over the column; non-text columns are returned unchanged.
    """
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return values
    text = values.astype("string")
    risky = text.str.startswith(_FORMULA_START).fillna(False)
    return text.where(~risky, "'" + text)


def write_csv_for_excel(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as UTF-8 with BOM (Excel detects it), ``,``-separated, text made formula-safe."""
    safe = df.copy()
    for col in safe.columns:
        safe[col] = excel_safe_text(safe[col])
    data = safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
    return atomic.write_bytes(path, data)
