"""engagement.yaml: documented defaults, overlay, validation, and the folder layout.

The defaults are the commented template ``templates/engagement.yaml``; a client's
file is laid over them and validated once, on load. Every error names the file, the
key path, the bad value and the allowed values.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import columns as C
from workbench.errors import ConfigError
from workbench.i18n import LANGUAGES, t

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
ENGAGEMENT_TEMPLATE = TEMPLATES_DIR / "engagement.yaml"
CONFIG_NAME = "engagement.yaml"
SETTINGS_OVERRIDES_NAME = "settings.yaml"  # overrides/settings.yaml: a partial tree written by the workshop

CURRENCIES = ("RUB", "USD", "EUR", "KZT", "BYN", "UZS", "CNY")
SALES_COLUMNS = ("customer_name", "inn", "date", "amount", "quantity", "product",
                 "manager", "margin", "document")
CUSTOMER_COLUMNS = ("customer_name", "inn", "industry", "headcount", "manager", "potential",
                    "region", "phone", "note")

# Enumerated values, by key path ("*" matches any one key).
ENUMS: dict[str, tuple[str, ...]] = {
    "language": LANGUAGES,
    "currency": CURRENCIES,
    "import.returns": ("net", "exclude"),
    "import.duplicates": ("keep", "drop"),
    "import.customer_key": ("auto", "inn", "name"),
    "segmentation.xyz.period": ("month", "quarter"),
    "maps.calendar.seasonal[].kind": ("holidays", "budget", "peak", "low"),
    "maps.calendar.events[].kind": ("release", "law", "conference"),
}
# Keys whose value is a mapping with free keys drawn from a list, values text.
MAPPINGS: dict[str, tuple[str, ...]] = {
    "inputs.sales.columns": SALES_COLUMNS,
    "inputs.customers.columns": CUSTOMER_COLUMNS,
}
# Shape of list items: key -> (type, required).
ITEMS: dict[str, dict[str, tuple[type, bool]]] = {
    "maps.calendar.seasonal": {"month": (int, True), "kind": (str, True), "note": (str, False)},
    "maps.calendar.events": {"month": (str, True), "kind": (str, True), "name": (str, True)},
    "cjm.stages": {"code": (str, True), "ru": (str, True), "en": (str, True)},
}
# Numeric bounds (inclusive) by key path.
RANGES: dict[str, tuple[float, float]] = {
    "segmentation.window_months": (1, 120),
    "segmentation.abc.a": (0.01, 0.99),
    "segmentation.abc.b": (0.0, 0.99),
    "segmentation.xyz.x": (0.0, 10.0),
    "segmentation.xyz.y": (0.0, 10.0),
    "segmentation.xyz.min_periods": (2, 120),
    "segmentation.rfm.bins": (2, 10),
    "segmentation.lifecycle.new_months": (1, 60),
    "segmentation.lifecycle.sleeping_factor": (1.0, 100.0),
    "segmentation.lifecycle.sleeping_min_orders": (2, 1000),
    "segmentation.lifecycle.sleeping_min_days": (1, 3650),
    "segmentation.lifecycle.lost_days": (1, 3650),
    "segmentation.tiers.vip_min_share": (0.0, 1.0),
    "segmentation.tiers.prospect_headcount": (0, 10_000_000),
    "segmentation.tiers.prospect_potential_ratio": (0.0, 1000.0),
    "segmentation.tiers.prospect_trend": (-1.0, 100.0),
    "segmentation.tiers.ballast_max_orders": (0, 1000),
    "segmentation.key_accounts.cum_share": (0.0, 1.0),
    "segmentation.key_accounts.gold_share": (0.0, 1.0),
    "segmentation.key_accounts.silver_share": (0.0, 1.0),
    "segmentation.key_accounts.individual_top": (0.0, 1.0),
    "segmentation.key_accounts.individual_potential_ratio": (0.0, 1000.0),
    "segmentation.key_accounts.individual_per_manager": (0, 100),
    "segmentation.concentration.mono_client_share": (0.0, 1.0),
    "maps.months": (1, 36),
    "traction.at_risk_ratio": (0.0, 1.0),
}
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MONTH_KEYS = ("maps.start_month",)


def render_template(client: str, language: str = "ru", sales_file: str = "",
                    customers_file: str = "") -> str:
    """Return the text of a new engagement.yaml (comments kept) for a client."""
    text = ENGAGEMENT_TEMPLATE.read_text(encoding="utf-8")
    # json.dumps gives a valid YAML double-quoted scalar for any text.
    return text.format(client=json.dumps(client, ensure_ascii=False), language=language,
                       sales_file=json.dumps(sales_file), customers_file=json.dumps(customers_file))


def defaults() -> dict[str, Any]:
    """The default settings tree (the template with empty client and files)."""
    import yaml

    return yaml.safe_load(render_template(client=""))


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
    if isinstance(default, dict) and path not in MAPPINGS:
        if not isinstance(value, dict):
            problems.append(t("config.expected_mapping", lang, key=path or "/", value=_show(value)))
            return default
        out = dict(default)
        for key, sub in value.items():
            sub_path = f"{path}.{key}" if path else str(key)
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
    if isinstance(default, list):
        if not isinstance(value, list):
            problems.append(t("config.expected_list", lang, key=path, value=_show(value)))
            return default
        if path in ITEMS:
            return [_check_item(item, f"{path}[{i}]", ITEMS[path], path, problems, lang)
                    for i, item in enumerate(value)]
        if default and all(isinstance(x, (int, float)) for x in default):
            if len(value) != len(default) or not all(_is_number(x) for x in value):
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
        if isinstance(default, int) and not float(value).is_integer():
            problems.append(t("config.expected_integer", lang, key=path, value=_show(value)))
            return default
        lo, hi = RANGES.get(path, (float("-inf"), float("inf")))
        if not lo <= float(value) <= hi:
            problems.append(t("config.out_of_range", lang, key=path, value=_show(value), lo=lo, hi=hi))
            return default
        return int(value) if isinstance(default, int) else float(value)
    if isinstance(default, str):
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems.append(t("config.expected_text", lang, key=path, value=_show(value)))
            return default
        allowed = _enum_for(path)
        if allowed and value not in allowed:
            problems.append(t("config.unknown_value", lang, key=path, value=_show(value),
                              allowed=", ".join(allowed)))
            return default
        if path in MONTH_KEYS and value and not _MONTH_RE.match(value):
            problems.append(t("config.expected_month", lang, key=path, value=_show(value)))
            return default
        return value
    return value


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


def _check_rules(s: dict[str, Any], problems: list[str], lang: str) -> None:
    seg = s["segmentation"]
    if seg["abc"]["a"] + seg["abc"]["b"] > 1.0:
        problems.append(t("config.abc_sum", lang, a=seg["abc"]["a"], b=seg["abc"]["b"]))
    if seg["xyz"]["x"] > seg["xyz"]["y"]:
        problems.append(t("config.xyz_order", lang, x=seg["xyz"]["x"], y=seg["xyz"]["y"]))
    for tier, bounds in seg["healthy_mix"].items():
        if not 0.0 <= bounds[0] <= bounds[1] <= 1.0:
            problems.append(t("config.mix_bounds", lang, key=f"segmentation.healthy_mix.{tier}",
                              value=_show(bounds)))
    if not s["inputs"]["sales"]["file"]:
        problems.append(t("config.missing_key", lang, key="inputs.sales.file"))
    codes = [st.get("code") for st in s["cjm"]["stages"]]
    if len(codes) != len(set(codes)):
        problems.append(t("config.duplicate_stage", lang, value=_show(codes)))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


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
        """Absolute path of input ``name`` ("sales" / "customers"), or None if not configured."""
        rel = self.settings["inputs"][name]["file"]
        return (self.root / rel) if rel else None

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.settings[name])


def load_engagement(path: str | Path) -> Engagement:
    """Read and validate ``<path>/engagement.yaml``; return the Engagement.

    Raises ConfigError when the folder or file is missing, not YAML, or invalid.
    """
    import yaml

    root = Path(path).resolve()
    cfg = root / CONFIG_NAME
    if not cfg.is_file():
        raise ConfigError(t("config.no_file", "ru", file=str(cfg)) + "\n" + t("config.no_file", "en", file=str(cfg)))
    try:
        raw = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(t("config.not_yaml", "ru", file=str(cfg), error=str(exc).splitlines()[0])) from exc
    if not isinstance(raw, dict):
        raise ConfigError(t("config.expected_mapping", "ru", key="/", value=_show(raw)))
    lang = raw.get("language") if raw.get("language") in LANGUAGES else "ru"
    settings = validate(raw, str(cfg), lang)
    over = root / "overrides" / SETTINGS_OVERRIDES_NAME
    if over.is_file():  # the workshop's agreed thresholds, laid over engagement.yaml
        try:
            extra = yaml.safe_load(over.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(t("config.not_yaml", lang, file=str(over), error=str(exc).splitlines()[0])) from exc
        if not isinstance(extra, dict):
            raise ConfigError(t("config.header", lang, file=str(over)) + "\n  - "
                              + t("config.expected_mapping", lang, key="/", value=_show(extra)))
        settings = validate(_deep_merge(settings, extra), str(over), lang)
    for name in ("sales", "customers"):
        rel = settings["inputs"][name]["file"]
        if rel and not _inside(root, root / rel):
            raise ConfigError(t("config.header", lang, file=str(cfg)) + "\n  - "
                              + t("config.outside", lang, key=f"inputs.{name}.file", value=rel))
    logo = settings["consultant"]["logo"]
    if logo and not _inside(root, root / logo):
        raise ConfigError(t("config.header", lang, file=str(cfg)) + "\n  - "
                          + t("config.outside", lang, key="consultant.logo", value=logo))
    return Engagement(root=root, settings=settings)


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
