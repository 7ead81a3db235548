"""Shared helpers of the segmentation: settings, scoring and vectorised text."""
from __future__ import annotations

import string
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.i18n import t

# Relative tolerance when comparing shares with thresholds: 0.1 + 0.7 must reach 0.8.
_EPS = 1e-9


# --------------------------------------------------------------------------- settings
@lru_cache(maxsize=1)
def _default_settings() -> dict[str, Any]:
    from workbench.config import defaults

    return defaults()["segmentation"]


def _merged_settings(settings: dict[str, Any] | None) -> dict[str, Any]:
    """Lay ``settings`` over the documented defaults (one level of nesting deep)."""
    base = _default_settings()
    out: dict[str, Any] = {}
    for key, value in base.items():
        given = (settings or {}).get(key, value)
        out[key] = {**value, **given} if isinstance(value, dict) and isinstance(given, dict) else given
    return out


def _month_bounds(month: str, lang: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start = pd.Timestamp(f"{month}-01")
        ok = len(month) == 7
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise WorkbenchError(t("segment.bad_month", lang, value=month))
    return start, start + pd.offsets.MonthBegin(1)


# --------------------------------------------------------------------------- helpers
def _score(values: np.ndarray, eligible: np.ndarray, bins: int, higher_is_better: bool) -> np.ndarray:
    """Rank-based quantile score 1..bins among ``eligible`` customers; others get 1.

    Ties share the score of their average rank (deterministic, independent of row order):
    score = ceil(bins × average_rank / n), clipped to 1..bins.
    """
    out = np.ones(len(values), dtype=np.int64)
    n = int(eligible.sum())
    if n == 0:
        return out
    sub = pd.Series(values[eligible] if higher_is_better else -values[eligible])
    ranks = sub.rank(method="average").to_numpy()
    out[eligible] = np.clip(np.ceil(bins * ranks / n - _EPS), 1, bins).astype(np.int64)
    return out


def _obj(values: Any) -> np.ndarray:
    """A text column as a numpy object array (missing -> "")."""
    arr = pd.Series(values).astype(object).to_numpy()
    return np.where(pd.isna(arr), "", arr).astype(object)


def _number_text(x: pd.Series | np.ndarray, lang: str, decimals: int = 1) -> np.ndarray:
    """Vectorised ``fmt.number`` for small numbers (no thousands grouping): 12,5 / 12.5.

    Returns an object array of str; missing values give "".
    """
    arr = np.asarray(x, dtype=float)
    if arr.size == 0:
        return np.array([], dtype=object)
    missing = ~np.isfinite(arr)
    scaled = np.round(np.abs(np.where(missing, 0.0, arr)) * 10 ** decimals).astype(np.int64)
    text = (scaled // 10 ** decimals).astype(str).astype(object)
    text = np.where((arr < 0) & (scaled > 0), "-" + text, text)
    if decimals:
        frac = np.char.zfill((scaled % 10 ** decimals).astype(str), decimals).astype(object)
        text = text + ("," if lang == "ru" else ".") + frac
    return np.where(missing, "", text).astype(object)


def _pct_text(share: pd.Series | np.ndarray, lang: str, decimals: int = 1) -> np.ndarray:
    """Vectorised ``fmt.pct``: 0.125 -> ``12,5 %`` (ru) / ``12.5%`` (en)."""
    body = _number_text(np.asarray(share, dtype=float) * 100, lang, decimals)
    return np.where(body == "", "", body + ("\u00a0%" if lang == "ru" else "%")).astype(object)


def _fill(template: str, n: int, **values: Any) -> np.ndarray:
    """``template.format(**values)`` for whole columns: values are object arrays or scalars."""
    out = np.full(n, "", dtype=object)
    for literal, name, spec, _conv in string.Formatter().parse(template):
        if literal:
            out = out + literal
        if name is not None:
            v = values[name]
            out = out + (v if isinstance(v, np.ndarray) else format(v, spec or ""))
    return out


def _join(parts: list[np.ndarray], sep: str = ", ") -> np.ndarray:
    """Join text columns row by row, skipping empty pieces."""
    joined = parts[0]
    for p in parts[1:]:
        both = (joined != "") & (p != "")
        joined = np.where(both, joined + sep + p, joined + p)
    return joined.astype(object)


def _text_codes(values: pd.Series, with_uniques: bool = False) -> Any:
    """Integer codes of a text column; empty, blank and missing values get -1.

    Factorising once and checking only the distinct values for blanks keeps text work
    proportional to the number of distinct values, not rows.
    """
    codes, uniques = pd.factorize(values)
    uniq = pd.Series(uniques, dtype="string")
    blank = (uniq.str.strip().str.len() == 0).fillna(True).to_numpy(dtype=bool)
    codes = codes.astype(np.int64)
    if blank.any():
        remap = np.where(blank, -1, np.arange(len(blank), dtype=np.int64))
        codes = np.where(codes >= 0, remap[np.clip(codes, 0, None)], -1)
    return (codes, uniq.to_numpy(dtype=object)) if with_uniques else codes


def _blank(s: pd.Series) -> pd.Series:
    """Text column with empty / whitespace-only values as NA."""
    s = s.astype("string")
    return s.where(s.str.strip().str.len() > 0)
