"""Shared vocabulary of the development maps: codes, defaults, small helpers, problem lists."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench.errors import ConfigError
from workbench.i18n import LANGUAGES, t

TRACKS = ("product", "marketing", "sales", "success")
ROLES = ("hunter", "closer", "farmer", "kam", "presale", "marketing")
COMMITTEE = ("champion", "decision_maker", "blockers", "influencers")
RULES = ("growth", "hold", "add", "absolute", "share", "reach", "per_member")
KINDS = ("group", "individual")
SEASONAL_KINDS = ("holidays", "budget", "peak", "low")
SEASONAL_FACTOR_KINDS = ("peak", "holidays", "low")   # kinds that scale a month's targets
EVENT_KINDS = ("release", "law", "conference")
SHIFT_KINDS = ("holidays", "low")      # sales / marketing activities move out of these months
SHIFT_TRACKS = ("sales", "marketing")
MEMBER_FIELDS = ("tier", "lifecycle", "abc", "xyz", "abc_xyz", "rfm_segment", "ka_grade")
WHEN_KINDS = ("every", "at", "months_of_year", "from_month_of_year", "event")
CAL_TARGETS = ("budget_offers", "warmup", "release_sales", "romi", "awareness", "law_sales",
               "invite", "event")
EDIT_ACTIONS = ("set", "add", "remove")
OVERRIDES_FILE = "overrides/maps.yaml"
ENGAGEMENT_FILE = "engagement.yaml"

DEFAULT_SETTINGS: dict[str, Any] = {
    "start_month": "",
    "months": 12,
    "group_templates": ["vip", "strategic", "typical", "ballast_reactivation", "sleeping_reactivation"],
    "individual_template": "key_account",
    "calendar": {"seasonal": [], "events": []},
    "lead_months": {"release": 1, "law": 4, "conference": 2},
    "romi_lag_months": {"release": 6, "law": 4},
    "seasonal_factors": {"peak": 1.2, "holidays": 0.8, "low": 0.8},
    "max_tasks_per_person_month": 15,
}
DEFAULT_CAL_TARGETS: dict[str, dict[str, Any]] = {
    "budget_offers": {"rule": "reach", "value": 1.0},
    "warmup": {"rule": "reach", "value": 0.8},
    "release_sales": {"rule": "reach", "value": 0.2},
    "romi": {"rule": "absolute", "value": 1.0},
    "awareness": {"rule": "reach", "value": 0.25},
    "law_sales": {"rule": "reach", "value": 0.2},
    "invite": {"rule": "reach", "value": 1.0},
    "event": {"rule": "reach", "value": 0.3},
}
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_ID_RE = re.compile(r"^[\w-]+$")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def segment_value(row: pd.Series, name: str) -> Any:
    """One customer's value in a segments row: None when the column is absent or the value
    missing (None, NaN, NA)."""
    v = row.get(name)
    return None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v


def _add_months(month: str, n: int) -> str:
    return str(pd.Period(month, "M") + n)


def _is_month(value: Any) -> bool:
    return isinstance(value, str) and bool(_MONTH_RE.match(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _text(value: Any, lang: str) -> str:
    """A bilingual ``{ru, en}`` mapping or a plain string, in ``lang``."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("ru") or value.get("en") or "")
    return "" if value is None else str(value)


def _slug(text: str) -> str:
    return re.sub(r"[\W_]+", "-", text.lower()).strip("-") or "x"


def label(group: str, code: str, lang: str = "ru") -> str:
    """The catalogue label of a code: ``label("track", "sales")`` -> "Продажи"."""
    table = t(f"maps.{group}", lang)
    return str(table.get(code, code)) if isinstance(table, Mapping) else code



class _Problems:
    """Collects problems of one file as ``key: message`` lines."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.items: list[tuple[str, str]] = []  # (file, message)

    def add(self, file: str, key: str, msg_key: str, **kw: Any) -> None:
        self.items.append((file, t(msg_key, self.lang, key=key, **kw)))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        lines: list[str] = []
        current = None
        for file, msg in self.items:
            if file != current:
                lines.append(t("maps.err_header", self.lang, file=file))
                current = file
            lines.append(f"  - {msg}")
        raise ConfigError("\n".join(lines))



def _check_text(value: Any, key: str, file: str, p: _Problems, required: bool = True) -> dict[str, str]:
    if value is None and not required:
        return {"ru": "", "en": ""}
    if not isinstance(value, Mapping):
        p.add(file, key, "maps.err_bilingual", value=_show(value))
        return {"ru": "", "en": ""}
    for k in value:
        if k not in LANGUAGES:
            p.add(file, f"{key}.{k}", "config.unknown_key", allowed=", ".join(LANGUAGES))
    for lang in LANGUAGES:
        v = value.get(lang)
        if not isinstance(v, str) or not v.strip():
            p.add(file, f"{key}.{lang}", "config.expected_text", value=_show(v))
    return {lang: str(value.get(lang) or "") for lang in LANGUAGES}


def _check_enum(value: Any, allowed: Sequence[str], key: str, file: str, p: _Problems) -> bool:
    if value not in allowed:
        p.add(file, key, "config.unknown_value", value=_show(value), allowed=", ".join(allowed))
        return False
    return True


def _check_keys(data: Mapping[str, Any], allowed: Sequence[str], key: str, file: str, p: _Problems) -> None:
    for k in data:
        if k not in allowed:
            p.add(file, f"{key}.{k}" if key else str(k), "config.unknown_key", allowed=", ".join(allowed))




# calendar-generated items: target key -> KPI
_CAL_KPI = {"budget_offers": "offers_sent", "warmup": "customers_warmed", "release_sales": "offer_accepted",
            "romi": "romi", "awareness": "customers_informed", "law_sales": "offer_accepted",
            "invite": "customers_invited", "event": "event_attendees"}


@dataclass
class _Context:
    ledger: pd.DataFrame
    report_month: str
    months: list[str]
    settings: dict[str, Any]
    lang: str
    segments: pd.DataFrame | None = None
    jump_threshold: float = 0.30
    cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)
