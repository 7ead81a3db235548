"""Numbers, money, percentages and months in the reader's language.

Russian: ``1 234 567 ₽`` (no-break spaces), ``12,5 %``, ``ноябрь 2026``.
English: ``RUB 1,234,567``, ``12.5%``, ``November 2026``.
"""
from __future__ import annotations

import math

from workbench.i18n import t

NBSP = "\u00a0"
MINUS = "\u2212"  # typographic minus, as in print


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x: float | None, lang: str = "ru", decimals: int = 0) -> str:
    """Format a number with the language's grouping and decimal mark ("" for missing)."""
    if _is_missing(x):
        return ""
    text = f"{float(x):,.{decimals}f}"
    if text in ("-0", "-0.0") or text.startswith("-0.") and float(text) == 0:
        text = text[1:]
    if lang == "ru":
        text = text.replace(",", NBSP).replace(".", ",")
    return text.replace("-", MINUS)


def money(x: float | None, lang: str = "ru", currency: str = "RUB", decimals: int = 0) -> str:
    """``1 234 567 ₽`` in Russian, ``RUB 1,234,567`` / ``$1,234,567`` in English."""
    if _is_missing(x):
        return ""
    sign = t("fmt.currency_sign", lang).get(currency, currency)
    body = number(x, lang, decimals)
    if lang == "ru":
        return f"{body}{NBSP}{sign}"
    if len(sign) == 1:
        return f"{MINUS}{sign}{body[1:]}" if body.startswith(MINUS) else f"{sign}{body}"
    return f"{sign}{NBSP}{body}"


def pct(share: float | None, lang: str = "ru", decimals: int = 1) -> str:
    """A share (0.125) as a percentage: ``12,5 %`` / ``12.5%``."""
    if _is_missing(share):
        return ""
    body = number(float(share) * 100, lang, decimals)
    return f"{body}{NBSP}%" if lang == "ru" else f"{body}%"


def month(period: str, lang: str = "ru", short: bool = False) -> str:
    """``"2026-11"`` as ``ноябрь 2026`` / ``November 2026`` (``ноя 2026`` when short)."""
    year, mon = str(period)[:7].split("-")
    names = t("fmt.months_short" if short else "fmt.months", lang)
    return f"{names[int(mon) - 1]} {year}"


def day(value: object, lang: str = "ru") -> str:
    """A date as ``23.11.2026`` (ru) or ``2026-11-23`` (en)."""
    if _is_missing(value) or value is None:
        return ""
    import pandas as pd

    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    if ts is pd.NaT:
        return ""
    return ts.strftime("%d.%m.%Y") if lang == "ru" else ts.strftime("%Y-%m-%d")


def yes_no(flag: bool, lang: str = "ru") -> str:
    return str(t("fmt.yes" if flag else "fmt.no", lang))
