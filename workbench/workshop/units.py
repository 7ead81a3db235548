"""Numbers in the room's units: what a sales director reads on the screen and types back.

Settings keep shares as fractions (``0.03``); the room sees and types percent in its own
number format (``3,0 %`` in Russian, ``3.0%`` in English). These functions convert both
ways and read what a person types (``3,5``, ``3.5 %``, ``1 000``, ``−5``) without guessing
more than that.
"""
from __future__ import annotations

import math
import re

from workbench.i18n import t
from workbench.report import fmt

UNITS = ("pct", "times", "days", "people", "orders", "money", "count")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_SUFFIX = re.compile(r"[%×xх₽$€₸¥]+$|(руб\.?|rub|usd|eur)$", re.IGNORECASE)


class NotANumber(ValueError):
    """What was typed is not a number (the message is for the room)."""


def to_display(value: float, unit: str) -> float:
    """A setting as the room sees it: shares (``pct``) times 100, other units as they are."""
    return round(float(value) * 100, 6) if unit == "pct" else float(value)


def from_display(shown: float, unit: str, integer: bool = False) -> float | int:
    """What the room set back in the settings' units (``pct`` divided by 100, rounded clean)."""
    value = round(float(shown) / 100, 8) if unit == "pct" else float(shown)
    return int(round(value)) if integer else value


def parse_number(text: str, lang: str = "ru") -> float:
    """Read a number as typed in the room: ``3,5``, ``3.5 %``, ``1 000``, ``−5``, ``12 017 024 ₽``.

    Russian takes a comma or a point as the decimal mark; English takes a point and reads
    commas as thousands separators. Raises NotANumber (message in ``lang``) otherwise.
    """
    raw = str(text or "").strip()
    s = _SPACES.sub("", raw).replace("\u2212", "-").replace("\u2013", "-")
    s = _SUFFIX.sub("", s)
    s = s.replace(",", ".") if lang == "ru" else s.replace(",", "")
    try:
        value = float(s)
    except ValueError:
        raise NotANumber(t("workshop.not_a_number", lang, value=raw or "…")) from None
    if not math.isfinite(value) or s.lower() in ("nan", "inf", "-inf", "infinity"):
        raise NotANumber(t("workshop.not_a_number", lang, value=raw))
    return value


def unit_sign(unit: str, lang: str = "ru", currency: str = "RUB") -> str:
    """The sign shown after a field: ``%``, ``×``, ``дн.``, ``₽`` ..."""
    if unit == "money":
        return str(t("fmt.currency_sign", lang).get(currency, currency))
    return str(t("workshop.unit", lang).get(unit, ""))


def money_short(x: float | None, lang: str = "ru", currency: str = "RUB") -> str:
    """Money rounded for a projector: ``12,3 млн ₽``, ``450 тыс. ₽`` / ``RUB 12.3 M``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    x = float(x)
    for power, key in ((1e9, "bn"), (1e6, "mn"), (1e3, "th")):
        if abs(x) >= power:
            body = fmt.number(x / power, lang, 1 if abs(x) < 100 * power else 0)
            word = t("workshop.money_scale", lang)[key]
            sign = str(t("fmt.currency_sign", lang).get(currency, currency))
            return f"{body}{fmt.NBSP}{word}{fmt.NBSP}{sign}" if lang == "ru" else f"{sign}{fmt.NBSP}{body}{word}"
    return fmt.money(x, lang, currency)


def delta(n: int | float, lang: str = "ru", decimals: int = 0) -> str:
    """A signed change: ``+3``, ``−2``, ``0``."""
    if n == 0:
        return "0"
    body = fmt.number(abs(n), lang, decimals)
    return ("+" if n > 0 else fmt.MINUS) + body


def customers(n: int, lang: str = "ru") -> str:
    """``14 клиентов``, ``1 клиент``, ``3 клиента`` / ``1 customer``, ``14 customers``."""
    forms = t("workshop.customer_forms", lang)
    n = int(n)
    if lang == "ru":
        i = 0 if n % 10 == 1 and n % 100 != 11 else 1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2
    else:
        i = 0 if n == 1 else 1
    return f"{fmt.number(n, lang)}{fmt.NBSP}{forms[i]}"
