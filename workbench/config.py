"""engagement.yaml: documented defaults, overlay, validation, and the folder layout.

The defaults are the commented template ``templates/engagement.yaml``; a client's
file is laid over them and validated once, on load. Every error names the file, the
key path, the bad value and the allowed values.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import columns as C
from workbench.currencies import ISO_4217
from workbench.errors import ConfigError
from workbench.i18n import LANGUAGES, t

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
ENGAGEMENT_TEMPLATE = TEMPLATES_DIR / "engagement.yaml"
CONFIG_NAME = "engagement.yaml"
SETTINGS_OVERRIDES_NAME = "settings.yaml"  # overrides/settings.yaml: a partial tree written by the workshop

CURRENCIES = tuple(sorted(ISO_4217))
SALES_COLUMNS = ("customer_name", "inn", "date", "amount", "quantity", "product",
                 "manager", "margin", "document", "amount_net", "amount_gross", "vat", "cost", "price",
                 "currency", "status")
CUSTOMER_COLUMNS = ("customer_name", "inn", "industry", "headcount", "manager", "potential",
                    "region", "phone", "note")
ACTIVITY_COLUMNS = ("date", "customer_name", "inn", "manager", "result", "contact", "position", "role")
DEAL_COLUMNS = ("deal_id", "deal_name", "stage", "pipeline", "amount", "created", "closed", "modified",
                "closed_flag", "semantic", "company", "contact", "manager", "source", "lost_reason",
                "currency")
DEAL_HISTORY_COLUMNS = ("deal_id", "stage", "date", "pipeline")
DEAL_OUTCOMES = ("won", "lost", "open")
INPUTS = ("sales", "customers", "activities", "deals", "deal_history")

# Enumerated values, by key path ("*" matches any one key).
ENUMS: dict[str, tuple[str, ...]] = {
    "language": LANGUAGES,
    "import.returns": ("net", "exclude"),
    "import.vat": ("net", "gross"),
    "import.date_order": ("auto", "dmy", "mdy"),
    "import.duplicates": ("keep", "drop"),
    "import.customer_key": ("auto", "inn", "name"),
    "import.overlap": ("newest_file_wins", "dedupe_rows"),
    "segmentation.xyz.method": ("regularity", "cv"),
    "deals.won_without_amount": ("refuse", "keep"),
    "segmentation.xyz.period": ("month", "quarter"),
    "segmentation.key_accounts.grade_by": ("auto", "profit", "revenue"),
    "maps.calendar.seasonal[].kind": ("holidays", "budget", "peak", "low"),
    "maps.calendar.events[].kind": ("release", "law", "conference"),
    # the hourglass stage a custom CJM stage stands for (its template cells land there)
    "cjm.stages[].hourglass": ("attention", "trust", "contact", "warmup", "sale", "after_sales", "referral"),
}
# Keys whose value is a mapping with free keys drawn from a list, values text.
MAPPINGS: dict[str, tuple[str, ...]] = {
    "inputs.sales.columns": SALES_COLUMNS,
    "inputs.customers.columns": CUSTOMER_COLUMNS,
    "inputs.activities.columns": ACTIVITY_COLUMNS,
    "inputs.deals.columns": DEAL_COLUMNS,
    "inputs.deal_history.columns": DEAL_HISTORY_COLUMNS,
}
# Lists of files: each item a path / glob pattern inside the engagement folder, or (where
# the key allows it) a mapping {file, sheet, columns} for a file with a layout of its own.
FILE_LISTS: dict[str, tuple[str, ...] | None] = {
    "inputs.sales.files": SALES_COLUMNS,
    "inputs.ignore": None,
}
# Mappings with the client's own keys: key path -> what each value must be.
FREE_MAPPINGS: dict[str, str] = {
    "import.rates": "rate",          # ISO 4217 code -> positive number
    "import.statuses": "status",     # a status value -> sale | skip
}
STATUS_VERDICTS = ("sale", "skip")
# Lists of groups of customer spellings or INNs (two or more texts each).
GROUP_LISTS = ("customers.merge", "customers.keep_apart")
DATE_KEYS = ("import.max_date", "import.min_date")
_DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
# Shape of list items: key -> (type, required).
ITEMS: dict[str, dict[str, tuple[type, bool]]] = {
    "maps.calendar.seasonal": {"month": (int, True), "kind": (str, True), "note": (str, False)},
    "maps.calendar.events": {"month": (str, True), "kind": (str, True), "name": (str, True)},
    "cjm.stages": {"code": (str, True), "ru": (str, True), "en": (str, True), "hourglass": (str, False)},
}
# Numeric bounds (inclusive) by key path.
RANGES: dict[str, tuple[float, float]] = {
    "segmentation.window_months": (1, 120),
    "segmentation.abc.a": (0.01, 0.99),
    "segmentation.abc.b": (0.0, 0.99),
    "segmentation.xyz.x": (0.0, 10.0),
    "segmentation.xyz.y": (0.0, 10.0),
    "segmentation.xyz.regular_x": (0.0, 1.0),
    "segmentation.xyz.regular_y": (0.0, 1.0),
    "segmentation.xyz.min_periods": (2, 120),
    "segmentation.rfm.bins": (2, 10),
    "segmentation.lifecycle.new_months": (1, 60),
    "segmentation.lifecycle.sleeping_factor": (1.0, 100.0),
    "segmentation.lifecycle.sleeping_min_orders": (2, 1000),
    "segmentation.lifecycle.sleeping_min_days": (1, 3650),
    "segmentation.lifecycle.lost_days": (1, 3650),
    "segmentation.lifecycle.near_lost_days": (0, 3650),
    "segmentation.tiers.vip_min_share": (0.0, 1.0),
    "segmentation.tiers.prospect_headcount": (0, 10_000_000),
    "segmentation.tiers.prospect_potential_ratio": (0.0, 1000.0),
    "segmentation.tiers.prospect_trend": (-1.0, 100.0),
    "segmentation.tiers.ballast_max_orders": (0, 1000),
    "segmentation.key_accounts.cum_share": (0.0, 1.0),
    "segmentation.key_accounts.silver_cum_share": (0.0, 1.0),
    "segmentation.key_accounts.kam_max": (1, 100),
    "segmentation.key_accounts.individual_top": (0.0, 1.0),
    "segmentation.key_accounts.individual_potential_ratio": (0.0, 1000.0),
    "segmentation.key_accounts.individual_per_manager": (0, 100),
    "segmentation.concentration.mono_client_share": (0.0, 1.0),
    "segmentation.concentration.top1_high": (0.0, 1.0),
    "segmentation.concentration.top5_high": (0.0, 1.0),
    "segmentation.concentration.top10_high": (0.0, 1.0),
    "segmentation.customer_types.pioneer_days": (1, 3650),
    "maps.months": (1, 36),
    "maps.lead_months.*": (0, 36),
    "maps.romi_lag_months.*": (0, 36),
    "maps.max_tasks_per_person_month": (1, 500),
    "maps.seasonal_factors.peak": (0.1, 5.0),
    "maps.seasonal_factors.holidays": (0.1, 5.0),
    "maps.seasonal_factors.low": (0.1, 5.0),
    "traction.at_risk_ratio": (0.0, 1.0),
    "deals.stalled_factor": (1.0, 100.0),
}
# Any other number: within this (a value is compared before it is converted to float,
# which a 400-digit integer would overflow).
NUMBER_LIMIT = 1e15
# Names shown on every deliverable: control and direction-override characters removed.
NAME_KEYS = ("client", "consultant.firm")
# Keys of earlier versions, accepted and ignored so that an older engagement.yaml still loads
# (key accounts used to be graded by each one's share; gold/silver/bronze now grade the base).
RETIRED_KEYS = ("segmentation.key_accounts.gold_share", "segmentation.key_accounts.silver_share")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MONTH_KEYS = ("maps.start_month",)


def render_template(client: str, language: str = "ru", sales_file: str = "",
                    customers_file: str = "", deals_file: str = "") -> str:
    """Return the text of a new engagement.yaml (comments kept) for a client."""
    text = ENGAGEMENT_TEMPLATE.read_text(encoding="utf-8")
    # json.dumps gives a valid YAML double-quoted scalar for any text.
    return text.format(client=json.dumps(client, ensure_ascii=False), language=language,
                       sales_file=json.dumps(sales_file), customers_file=json.dumps(customers_file),
                       deals_file=json.dumps(deals_file))


def defaults() -> dict[str, Any]:
    """The default settings tree (the template with empty client and files); a new copy
    at each call, the template parsed once per process."""
    import copy

    return copy.deepcopy(_defaults())


@functools.cache
def _defaults() -> dict[str, Any]:
    from workbench.io.yamlfiles import trusted_load

    return trusted_load(render_template(client=""))


def validate(settings: dict[str, Any], source: str, lang: str = "ru") -> dict[str, Any]:
    """Lay ``settings`` over the defaults and validate; return the merged tree.

    Raises ConfigError listing every problem (file, key path, value, allowed values).
    """
    problems: list[str] = []
    merged = _overlay(defaults(), settings, "", problems, lang)
    if not problems:
        _check_rules(merged, problems, lang)
    if problems:
        raise ConfigError(t("config.header", lang, file=source) + "\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return merged


def _enum_for(path: str) -> tuple[str, ...] | None:
    return ENUMS.get(path)


def _overlay(default: Any, value: Any, path: str, problems: list[str], lang: str) -> Any:
    if path == "deals.stages":  # pipeline -> {stage: won | lost | open}: free keys, checked apart
        return _deal_stages(value, path, problems, lang)
    if path in FREE_MAPPINGS:
        return _free_mapping(value, path, problems, lang)
    if path in GROUP_LISTS:
        return _groups(value, path, problems, lang)
    if isinstance(default, dict) and path not in MAPPINGS:
        if not isinstance(value, dict):
            problems.append(t("config.expected_mapping", lang, key=path or "/", value=_show(value)))
            return default
        out = dict(default)
        for key, sub in value.items():
            sub_path = f"{path}.{key}" if path else str(key)
            if sub_path in RETIRED_KEYS:
                continue
            if key not in default:
                problems.append(t("config.unknown_key", lang, key=sub_path,
                                  allowed=", ".join(map(str, default))))
                continue
            out[key] = _overlay(default[key], sub, sub_path, problems, lang)
        return out
    if path in MAPPINGS:
        allowed = MAPPINGS[path]
        if value is None:
            return {}
        if not isinstance(value, dict):
            problems.append(t("config.expected_mapping", lang, key=path, value=_show(value)))
            return {}
        for key, sub in value.items():
            if key not in allowed:
                problems.append(t("config.unknown_value", lang, key=f"{path}.{key}",
                                  value=_show(key), allowed=", ".join(allowed)))
            elif not isinstance(sub, str) or not sub.strip():
                problems.append(t("config.expected_text", lang, key=f"{path}.{key}", value=_show(sub)))
        return {str(k): str(v) for k, v in value.items()}
    if path in FILE_LISTS:
        return _check_file_list(value, path, problems, lang)
    if isinstance(default, list):
        if not isinstance(value, list):
            problems.append(t("config.expected_list", lang, key=path, value=_show(value)))
            return default
        if path in ITEMS:
            return [_check_item(item, f"{path}[{i}]", ITEMS[path], path, problems, lang)
                    for i, item in enumerate(value)]
        if default and all(isinstance(x, (int, float)) for x in default):
            if len(value) != len(default) or not all(_is_number(x) and -NUMBER_LIMIT <= x <= NUMBER_LIMIT
                                                     for x in value):
                problems.append(t("config.expected_numbers", lang, key=path, n=len(default),
                                  value=_show(value)))
                return default
            return [float(x) for x in value]
        if not all(isinstance(x, str) for x in value):
            problems.append(t("config.expected_texts", lang, key=path, value=_show(value)))
            return default
        return list(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            problems.append(t("config.expected_bool", lang, key=path, value=_show(value)))
            return default
        return value
    if isinstance(default, (int, float)):
        if not _is_number(value):
            problems.append(t("config.expected_number", lang, key=path, value=_show(value)))
            return default
        if isinstance(default, int) and not (isinstance(value, int) or value.is_integer()):
            problems.append(t("config.expected_integer", lang, key=path, value=_show(value)))
            return default
        lo, hi = RANGES.get(path) or RANGES.get(path.rsplit(".", 1)[0] + ".*", (-NUMBER_LIMIT, NUMBER_LIMIT))
        if not lo <= value <= hi:  # compared as written: no float() of a 400-digit integer; NaN fails
            problems.append(t("config.out_of_range", lang, key=path, value=_show(value), lo=lo, hi=hi))
            return default
        return int(value) if isinstance(default, int) else float(value)
    if isinstance(default, str):
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems.append(t("config.expected_text", lang, key=path, value=_show(value)))
            return default
        if path in NAME_KEYS:
            value = clean_name(value)
        allowed = _enum_for(path)
        if allowed and value not in allowed:
            problems.append(t("config.unknown_value", lang, key=path, value=_show(value),
                              allowed=", ".join(allowed)))
            return default
        if path in MONTH_KEYS and value and not _MONTH_RE.match(value):
            problems.append(t("config.expected_month", lang, key=path, value=_show(value)))
            return default
        if path in DATE_KEYS and value and not _valid_date(value):
            problems.append(t("config.expected_date", lang, key=path, value=_show(value)))
            return default
        if path == "currency" and value not in ISO_4217:
            problems.append(t("config.expected_currency", lang, key=path, value=_show(value)))
            return default
        return value
    return value


def _valid_date(text: str) -> bool:
    import datetime as dt

    if not _DATE_RE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _free_mapping(value: Any, path: str, problems: list[str], lang: str) -> dict[str, Any]:
    """``import.rates`` (ISO code -> rate > 0) or ``import.statuses`` (value -> sale | skip)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(t("config.expected_mapping", lang, key=path, value=_show(value)))
        return {}
    out: dict[str, Any] = {}
    for key, sub in value.items():
        where = f"{path}.{key}"
        if FREE_MAPPINGS[path] == "rate":
            if str(key).upper() not in ISO_4217:
                problems.append(t("config.expected_currency", lang, key=where, value=_show(key)))
            elif not _is_number(sub) or not 0 < float(sub) < 1e9:
                problems.append(t("config.expected_rate", lang, key=where, value=_show(sub)))
            else:
                out[str(key).upper()] = float(sub)
        elif sub not in STATUS_VERDICTS:
            problems.append(t("config.unknown_value", lang, key=where, value=_show(sub),
                              allowed=", ".join(STATUS_VERDICTS)))
        else:
            out[str(key)] = sub
    return out


def _groups(value: Any, path: str, problems: list[str], lang: str) -> list[list[str]]:
    """``customers.merge`` / ``keep_apart``: a list of groups of two or more non-empty texts.
    (Whether each text names a customer of the data is checked at import.)"""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(t("config.expected_list", lang, key=path, value=_show(value)))
        return []
    out = []
    for i, group in enumerate(value):
        ok = isinstance(group, list) and len(group) >= 2 and all(
            isinstance(x, (str, int)) and not isinstance(x, bool) and str(x).strip() for x in group)
        if not ok:
            problems.append(t("config.expected_group", lang, key=f"{path}[{i}]", value=_show(group)))
            continue
        out.append([str(x) for x in group])
    return out


def _check_item(item: Any, path: str, shape: dict[str, tuple[type, bool]], list_path: str,
                problems: list[str], lang: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        problems.append(t("config.expected_mapping", lang, key=path, value=_show(item)))
        return {}
    for key in item:
        if key not in shape:
            problems.append(t("config.unknown_key", lang, key=f"{path}.{key}", allowed=", ".join(shape)))
    for key, (typ, required) in shape.items():
        if key not in item:
            if required:
                problems.append(t("config.missing_key", lang, key=f"{path}.{key}"))
            continue
        value = item[key]
        if typ is int and not (isinstance(value, int) and not isinstance(value, bool)):
            problems.append(t("config.expected_integer", lang, key=f"{path}.{key}", value=_show(value)))
        elif typ is str and not isinstance(value, str):
            problems.append(t("config.expected_text", lang, key=f"{path}.{key}", value=_show(value)))
        allowed = ENUMS.get(f"{list_path}[].{key}")
        if allowed and value not in allowed:
            problems.append(t("config.unknown_value", lang, key=f"{path}.{key}", value=_show(value),
                              allowed=", ".join(allowed)))
    if list_path == "maps.calendar.seasonal" and isinstance(item.get("month"), int) \
            and not 1 <= item["month"] <= 12:
        problems.append(t("config.out_of_range", lang, key=f"{path}.month", value=item["month"], lo=1, hi=12))
    if list_path == "maps.calendar.events" and isinstance(item.get("month"), str) \
            and not _MONTH_RE.match(item["month"]):
        problems.append(t("config.expected_month", lang, key=f"{path}.month", value=_show(item["month"])))
    return dict(item)


def _check_file_list(value: Any, path: str, problems: list[str], lang: str) -> list[Any]:
    """A list of paths / glob patterns; items of ``inputs.sales.files`` may be mappings
    ``{file, sheet, columns}`` (a file with its own sheet and column mapping)."""
    if value is None:
        return []
    if isinstance(value, str):  # one pattern written without brackets
        value = [value]
    if not isinstance(value, list):
        problems.append(t("config.expected_list", lang, key=path, value=_show(value)))
        return []
    columns = FILE_LISTS[path]
    out: list[Any] = []
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
        elif isinstance(item, dict) and columns is not None:
            for key in item:
                if key not in ("file", "sheet", "columns"):
                    problems.append(t("config.unknown_key", lang, key=f"{where}.{key}",
                                      allowed="file, sheet, columns"))
            file, sheet = item.get("file"), item.get("sheet", "")
            if not isinstance(file, str) or not file.strip():
                problems.append(t("config.missing_key", lang, key=f"{where}.file"))
                continue
            if not isinstance(sheet, str):
                problems.append(t("config.expected_text", lang, key=f"{where}.sheet", value=_show(sheet)))
                sheet = ""
            cols = item.get("columns") or {}
            if not isinstance(cols, dict):
                problems.append(t("config.expected_mapping", lang, key=f"{where}.columns", value=_show(cols)))
                cols = {}
            for key, sub in cols.items():
                if key not in columns:
                    problems.append(t("config.unknown_value", lang, key=f"{where}.columns.{key}",
                                      value=_show(key), allowed=", ".join(columns)))
                elif not isinstance(sub, str) or not sub.strip():
                    problems.append(t("config.expected_text", lang, key=f"{where}.columns.{key}", value=_show(sub)))
            out.append({"file": file.strip(), "sheet": sheet,
                        "columns": {str(k): str(v) for k, v in cols.items()}})
        else:
            problems.append(t("config.expected_file_item" if columns is not None else "config.expected_texts",
                              lang, key=where if columns is not None else path, value=_show(item)))
    return out


def file_patterns(items: list[Any]) -> list[str]:
    """The path or pattern of each item of a file list (``FILE_LISTS``)."""
    return [item["file"] if isinstance(item, dict) else str(item) for item in items]


def _check_rules(s: dict[str, Any], problems: list[str], lang: str) -> None:
    seg = s["segmentation"]
    if seg["abc"]["a"] + seg["abc"]["b"] > 1.0:
        problems.append(t("config.abc_sum", lang, a=seg["abc"]["a"], b=seg["abc"]["b"]))
    if seg["xyz"]["x"] > seg["xyz"]["y"]:
        problems.append(t("config.xyz_order", lang, x=seg["xyz"]["x"], y=seg["xyz"]["y"]))
    if seg["xyz"]["regular_x"] < seg["xyz"]["regular_y"]:
        problems.append(t("config.xyz_regular_order", lang, x=seg["xyz"]["regular_x"], y=seg["xyz"]["regular_y"]))
    ka = seg["key_accounts"]
    if ka["cum_share"] > ka["silver_cum_share"]:
        problems.append(t("config.ka_order", lang, gold=ka["cum_share"], silver=ka["silver_cum_share"]))
    pattern = seg["customer_types"]["state_name_pattern"]
    try:
        re.compile(pattern)
    except re.error as exc:
        problems.append(t("config.bad_pattern", lang, key="segmentation.customer_types.state_name_pattern",
                          value=_show(pattern), error=str(exc)))
    for tier, bounds in seg["healthy_mix"].items():
        if not 0.0 <= bounds[0] <= bounds[1] <= 1.0:
            problems.append(t("config.mix_bounds", lang, key=f"segmentation.healthy_mix.{tier}",
                              value=_show(bounds)))
    if not s["inputs"]["sales"]["file"] and not s["inputs"]["sales"]["files"] and not s["inputs"]["deals"]["file"]:
        problems.append(t("config.missing_key", lang, key="inputs.sales.file"))
    codes = [st.get("code") for st in s["cjm"]["stages"]]
    if len(codes) != len(set(codes)):
        problems.append(t("config.duplicate_stage", lang, value=_show(codes)))


def _deal_stages(value: Any, path: str, problems: list[str], lang: str) -> dict[str, dict[str, str]]:
    """``deals.stages``: pipeline (as in the file, ``*`` = any) -> {stage: won | lost | open}, in
    the order given (the open stages' order is the funnel's)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(t("config.expected_mapping", lang, key=path, value=_show(value)))
        return {}
    out: dict[str, dict[str, str]] = {}
    for pipeline, stages in value.items():
        key = f"{path}.{pipeline}"
        if not isinstance(stages, dict):
            problems.append(t("config.expected_mapping", lang, key=key, value=_show(stages)))
            continue
        out[str(pipeline)] = {}
        for stage, outcome in stages.items():
            if outcome not in DEAL_OUTCOMES:
                problems.append(t("config.unknown_value", lang, key=f"{key}.{stage}", value=_show(outcome),
                                  allowed=", ".join(DEAL_OUTCOMES)))
                continue
            out[str(pipeline)][str(stage)] = str(outcome)
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(value: Any) -> str:
    return show_value(value)


class _Full(Exception):
    pass


def show_value(value: Any, limit: int = 80) -> str:
    """``value`` as JSON-like text of at most ``limit`` characters (cut with "…").

    Serialised piece by piece and stopped once past the limit, so a value that is huge
    once expanded (a list of lists of lists…) costs no more than its first characters.
    """
    parts: list[str] = []
    size = 0

    def emit(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)
        if size > limit:
            raise _Full

    def walk(v: Any, depth: int) -> None:
        if depth > limit:
            emit("…")
        elif isinstance(v, dict):
            emit("{")
            for i, (k, x) in enumerate(v.items()):
                emit(", " if i else "")
                walk(str(k), depth + 1)
                emit(": ")
                walk(x, depth + 1)
            emit("}")
        elif isinstance(v, (list, tuple)):
            emit("[")
            for i, x in enumerate(v):
                emit(", " if i else "")
                walk(x, depth + 1)
            emit("]")
        elif isinstance(v, str):
            emit(json.dumps(v[: limit + 1], ensure_ascii=False))
        elif isinstance(v, int) and not isinstance(v, bool):
            try:
                emit(str(v))
            except ValueError:  # past Python's 4 300-digit limit for str(int)
                emit("9" * (limit + 1))
        else:
            emit(json.dumps(v, ensure_ascii=False, default=str))

    try:
        walk(value, 0)
    except _Full:
        pass
    text = "".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# C0 and C1 controls, the bidirectional embeddings, overrides, isolates and marks, and
# invisible zero-width characters: they reorder or hide a name on a title page.
_NAME_JUNK = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e"
                        "\u2060-\u2069\ufeff]")
_NAME_BREAKS = re.compile("[\t\n\r\x0b\x0c\u2028\u2029]+")


def clean_name(value: str) -> str:
    """A client or firm name fit for a title: control, bidi-override and zero-width characters
    removed, line breaks and tabs made spaces, ends stripped."""
    return _NAME_JUNK.sub("", _NAME_BREAKS.sub(" ", value)).strip()


@dataclass(frozen=True)
class Engagement:
    """One client engagement: its folder and its validated settings."""

    root: Path
    settings: dict[str, Any]

    @property
    def slug(self) -> str:
        return self.root.name

    @property
    def lang(self) -> str:
        return str(self.settings["language"])

    @property
    def client(self) -> str:
        return str(self.settings["client"])

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def data_dir(self) -> Path:
        """Raw client files: read, never written."""
        return self.root / "data"

    @property
    def work_dir(self) -> Path:
        """Canonical tables and intermediate results between steps (rebuildable)."""
        return self.root / "work"

    @property
    def overrides_dir(self) -> Path:
        """The consultant's validated edits (maps, CJM, workshop), with previous versions."""
        return self.root / "overrides"

    @property
    def actuals_dir(self) -> Path:
        return self.root / "actuals"

    @property
    def deliverables_dir(self) -> Path:
        return self.root / "deliverables"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def history_path(self) -> Path:
        return self.root / "history.sqlite"

    def input_path(self, name: str) -> Path | None:
        """Absolute path of input ``name`` (``INPUTS``: "sales", "customers", "activities", "deals",
        "deal_history"), or None if not configured."""
        rel = self.settings["inputs"][name]["file"]
        return (self.root / rel) if rel else None

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.settings[name])


def load_engagement(path: str | Path) -> Engagement:
    """Read and validate ``<path>/engagement.yaml``, then ``overrides/settings.yaml`` over it.

    Raises ConfigError when the folder or file is missing, not a regular file, not YAML, or
    invalid; every message names the file that holds the problem.
    """
    from workbench.io.yamlfiles import check_regular, read_yaml

    root = Path(path).resolve()
    cfg = root / CONFIG_NAME
    try:
        present = check_regular(cfg, "ru")
    except ConfigError as exc:  # the language is in the file that cannot be read: say it in both
        raise ConfigError(str(exc) + "\n" + _english(cfg)) from None
    if not present:
        raise ConfigError(t("config.no_file", "ru", file=str(cfg)) + "\n" + t("config.no_file", "en", file=str(cfg)))
    raw = read_yaml(cfg, "ru") or {}
    if not isinstance(raw, dict):
        raise ConfigError(t("config.header", "ru", file=str(cfg)) + "\n  - "
                          + t("config.expected_mapping", "ru", key="/", value=_show(raw)))
    lang = raw.get("language") if raw.get("language") in LANGUAGES else "ru"
    settings = validate(raw, str(cfg), lang)
    _check_paths(root, settings, {}, cfg, lang)
    over = root / "overrides" / SETTINGS_OVERRIDES_NAME
    if check_regular(over, lang):  # the workshop's agreed thresholds, laid over engagement.yaml
        extra = read_yaml(over, lang) or {}
        if not isinstance(extra, dict):
            raise ConfigError(t("config.header", lang, file=str(over)) + "\n  - "
                              + t("config.expected_mapping", lang, key="/", value=_show(extra)))
        merged = validate(_deep_merge(settings, extra), str(over), lang)
        _check_paths(root, merged, settings, over, lang)  # only what the overrides changed
        settings = merged
    return Engagement(root=root, settings=settings)


def _english(cfg: Path) -> str:
    """The English of a check_regular refusal (before the engagement's language is known)."""
    from workbench.io.yamlfiles import check_regular

    try:
        check_regular(cfg, "en")
    except ConfigError as english:
        return str(english)
    return ""


def _check_paths(root: Path, settings: dict[str, Any], before: dict[str, Any], source: Path, lang: str) -> None:
    """Refuse file paths leading outside the engagement folder, blaming ``source``.

    With ``before`` (the settings ``source`` was laid over), only paths it changed are checked.
    """
    keys = [*(("inputs", name, "file") for name in INPUTS), ("consultant", "logo")]
    paths = [(".".join(key), _get(settings, key), _get(before, key) if before else None) for key in keys]
    for name in FILE_LISTS:  # every path or pattern of the file lists (inputs.sales.files, inputs.ignore)
        key = tuple(name.split("."))
        old = file_patterns(_get(before, key)) if before else []
        paths += [(f"{name}[{i}]", rel, rel if rel in old else None)
                  for i, rel in enumerate(file_patterns(_get(settings, key)))]
    for key_text, value, previous in paths:
        if before and value == previous:
            continue
        if value and not _inside(root, root / value):
            raise ConfigError(t("config.header", lang, file=str(source)) + "\n  - "
                              + t("config.outside", lang, key=key_text, value=value))


def _get(tree: dict[str, Any], key: tuple[str, ...]) -> Any:
    for part in key:
        tree = tree[part]
    return tree


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def with_overrides(engagement: Engagement, changes: dict[str, Any]) -> Engagement:
    """Return a new Engagement with ``changes`` (a partial settings tree) laid over it and re-validated."""
    merged = _deep_merge(engagement.settings, changes)
    return Engagement(root=engagement.root, settings=validate(merged, str(engagement.config_path), engagement.lang))


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in ("columns",):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


__all__ = ["C", "Engagement", "defaults", "load_engagement", "render_template", "validate"]
