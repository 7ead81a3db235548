"""Numbers, money, percentages and months in the reader's language.

Russian: ``1 234 567 ₽`` (no-break spaces), ``12,5 %``, ``ноябрь 2026``, ``101 клиент``.
English: ``RUB 1,234,567``, ``12.5%``, ``November 2026``, ``101 customers``.

Word forms after a number follow the language's CLDR plural rules (Babel, through
``workbench.i18n.plural``), never hand-written endings.
"""
from __future__ import annotations

import math

from workbench.i18n import plural as _plural
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


def plural(n: float, forms: object, lang: str = "ru") -> str:
    """The word form agreeing with ``n`` (CLDR rules): ``plural(22, "клиент|клиента|клиентов")``."""
    return _plural(n, forms, lang)


def count(n: float, noun: str, lang: str = "ru") -> str:
    """A count with its noun in the agreeing form: ``101 клиент``, ``22 клиента``, ``1 customer``.

    noun: a key of ``fmt.nouns`` (customer, checkpoint, map, task, salesperson, month, day, ...).
    """
    forms = t("fmt.nouns", lang)[noun]
    return f"{number(n, lang)}{NBSP}{_plural(n, forms, lang)}"


def money_short(x: float | None, lang: str = "ru", currency: str = "RUB") -> str:
    """A large amount rounded for a headline: ``12,4 млн ₽``, ``850 тыс. ₽`` / ``RUB 12.4m``."""
    if _is_missing(x):
        return ""
    value = float(x)  # type: ignore[arg-type]
    scales = t("fmt.money_scales", lang)  # [[1e9, "млрд"], [1e6, "млн"], [1e3, "тыс."]]
    for size, word in scales:
        if abs(value) >= float(size):
            scaled = value / float(size)
            body = number(scaled, lang, 0 if abs(scaled) >= 100 else 1)
            body = body[:-2] if body[-2:] in (",0", ".0") else body  # 12 млн, not 12,0 млн
            sign = t("fmt.currency_sign", lang).get(currency, currency)
            if lang == "ru":
                return f"{body}{NBSP}{word}{NBSP}{sign}"
            if len(sign) == 1:
                return f"{MINUS}{sign}{body[1:]}{word}" if body.startswith(MINUS) else f"{sign}{body}{word}"
            return f"{sign}{NBSP}{body}{word}"
    return money(value, lang, currency)
