"""Client development maps: group maps per segment, individual maps for key accounts.

A map is an *algorithm with checkpoints* (source 000): activities per track with an
owner role, placed on the months of the planning year, and checkpoints with a KPI, a
baseline, a target and a deadline. This module drafts maps from the segmentation
result, the ledger, the ``maps`` settings and the map templates (``templates/maps``).
Pure: it never touches the disk (templates and overrides are read by
``workbench.io.yamlfiles``) and never modifies its inputs.

Decisions (documented here, tested in ``tests/test_maps.py``)
---------------------------------------------------------------
* **Planning year**: ``months`` months from ``start_month`` ('' = the month after the
  reporting month).
* **Membership**: a customer is in at most one map. Customers with
  ``segments.map == 'individual'`` get an individual map and are taken out of the
  group maps. Group templates claim customers by ``priority`` (lower first, then the
  order of ``group_templates``): the reactivation of sleeping customers (priority 10)
  comes before their tier's map. Lost customers (silent > a year) are in no shipped
  map (``exclude: {lifecycle: [lost]}``); a finding counts them. An empty segment
  gives no map (and a finding).
* **Baselines** of computed KPIs are measured on the same calendar months one year
  earlier than the checkpoint's window (plan start .. deadline), i.e. inside the 12
  months up to the reporting month for a standard plan: the final (12-month)
  checkpoint's baseline is the KPI over those 12 months, intermediate checkpoints are
  pro-rated by month *and* season. Individual maps use the customer's own history.
  Entered KPIs take their baseline from the template (default 0).
* **Target rules** (``target: {rule, value}``): growth (baseline x (1 + value)), hold
  (= baseline), add (baseline + value), absolute (value), share (value, 0..1), reach
  (value 0..1 of the members, a count rounded up), per_member (value x members). A list
  of values gives one value per deadline, the last repeated. ``min`` floors the target.
* **Calendar**: seasonal months (holidays | budget | peak | low) come from the settings
  and the template; sales and marketing activities falling in a holidays / low month are
  moved to the next month that is not (dropped when the same activity is already
  there); budget months get "commercial offers for next year's budget"; releases get a
  warm-up ``lead_months.release`` before, an offer in the month and a ROMI checkpoint
  ``romi_lag_months.release`` after; a law gets an awareness campaign from
  ``lead_months.law`` months ahead, an offer in the month and ROMI later; a conference
  gets invitations ahead and attendance in the month (and anchors ``when: {event:
  conference}`` items, e.g. the key account presenting a case).

Example
-------
>>> templates = load_map_templates(TEMPLATES_DIR / "maps")          # doctest: +SKIP
>>> res = draft_maps(segments, ledger, settings["maps"], "2026-12", templates)  # doctest: +SKIP
>>> res.checkpoints.columns.tolist() == list(CHECKPOINT_COLUMNS)    # doctest: +SKIP
True
"""
from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.errors import ConfigError
from workbench.i18n import LANGUAGES, t
from workbench.kpis import KPIS, compute_kpi, has_data, member_lines

TRACKS = ("product", "marketing", "sales", "success")
ROLES = ("hunter", "closer", "farmer", "kam", "presale", "marketing")
COMMITTEE = ("champion", "decision_maker", "blockers", "influencers")
RULES = ("growth", "hold", "add", "absolute", "share", "reach", "per_member")
KINDS = ("group", "individual")
SEASONAL_KINDS = ("holidays", "budget", "peak", "low")
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


# =====================================================================================
# small helpers
# =====================================================================================

def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


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


def plan_months(settings: Mapping[str, Any], report_month: str) -> list[str]:
    """The months of the planning year, ``'YYYY-MM'``.

    ``settings['start_month']`` ('' = the month after ``report_month``), ``settings['months']`` long.
    """
    start = settings.get("start_month") or _add_months(report_month, 1)
    return [_add_months(start, i) for i in range(int(settings.get("months", 12)))]


# =====================================================================================
# templates: validation
# =====================================================================================

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


_TEMPLATE_KEYS = ("name", "kind", "description", "members", "exclude", "priority", "owner",
                  "committee", "calendar", "calendar_targets", "activities", "checkpoints")
_ITEM_KEYS = ("id", "track", "owner", "text", "when", "kpi", "target")
_TARGET_KEYS = ("rule", "value", "baseline", "min")


def validate_template(code: str, data: Any, source: str, lang: str = "ru") -> dict[str, Any]:
    """Validate one map template; return it normalised.

    Raises ConfigError naming ``source``, the key path, the bad value and the allowed values
    (every problem of the file at once).
    """
    problems = _Problems(lang)
    out = _check_template(code, data, source, problems)
    problems.raise_if_any()
    return out


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


def _check_filter(value: Any, key: str, file: str, p: _Problems) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        p.add(file, key, "config.expected_mapping", value=_show(value))
        return {}
    out: dict[str, list[str]] = {}
    for k, v in value.items():
        if k not in MEMBER_FIELDS:
            p.add(file, f"{key}.{k}", "config.unknown_key", allowed=", ".join(MEMBER_FIELDS))
            continue
        vals = v if isinstance(v, list) else [v]
        if not vals or not all(isinstance(x, str) and x for x in vals):
            p.add(file, f"{key}.{k}", "config.expected_texts", value=_show(v))
            continue
        out[str(k)] = [str(x) for x in vals]
    return out


def _check_when(value: Any, key: str, file: str, p: _Problems, nested: bool = False) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        p.add(file, key, "config.expected_mapping", value=_show(value))
        return {"at": []}
    allowed = WHEN_KINDS + ("start",) + (() if nested else ("else",))
    _check_keys(value, allowed, key, file, p)
    kinds = [k for k in WHEN_KINDS if k in value]
    if len(kinds) != 1:
        p.add(file, key, "maps.err_when_one", value=_show(dict(value)), allowed=", ".join(WHEN_KINDS))
        return {"at": []}
    kind = kinds[0]
    v = value[kind]
    out: dict[str, Any] = {kind: v}
    if kind == "every":
        if not _is_int(v) or not 1 <= v <= 36:
            p.add(file, f"{key}.every", "config.out_of_range", value=_show(v), lo=1, hi=36)
            return {"at": []}
        start = value.get("start", v)
        if not _is_int(start) or not 1 <= start <= 36:
            p.add(file, f"{key}.start", "config.out_of_range", value=_show(start), lo=1, hi=36)
            start = v
        out = {"every": int(v), "start": int(start)}
    elif kind in ("at", "months_of_year"):
        hi = 36 if kind == "at" else 12
        if not isinstance(v, list) or not v or not all(_is_int(x) and 1 <= x <= hi for x in v):
            p.add(file, f"{key}.{kind}", "maps.err_int_list", value=_show(v), lo=1, hi=hi)
            return {"at": []}
        out = {kind: sorted({int(x) for x in v})}
    elif kind == "from_month_of_year":
        if not _is_int(v) or not 1 <= v <= 12:
            p.add(file, f"{key}.{kind}", "config.out_of_range", value=_show(v), lo=1, hi=12)
            return {"at": []}
        out = {kind: int(v)}
    elif kind == "event":
        _check_enum(v, EVENT_KINDS, f"{key}.event", file, p)
        fallback = value.get("else")
        out = {"event": v, "else": _check_when(fallback, f"{key}.else", file, p, nested=True)
               if fallback is not None else {"at": []}}
    if "start" in value and kind != "every":
        p.add(file, f"{key}.start", "config.unknown_key", allowed=", ".join(k for k in allowed if k != "start"))
    return out


def _check_target(value: Any, kpi: str, key: str, file: str, p: _Problems) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        p.add(file, key, "config.expected_mapping", value=_show(value))
        return None
    _check_keys(value, _TARGET_KEYS, key, file, p)
    rule = value.get("rule")
    if not _check_enum(rule, RULES, f"{key}.rule", file, p):
        return None
    out: dict[str, Any] = {"rule": rule}
    vals = value.get("value")
    if rule == "hold":
        vals = 0.0 if vals is None else vals
    listed = vals if isinstance(vals, list) else [vals]
    if not listed or not all(_is_number(x) for x in listed):
        p.add(file, f"{key}.value", "maps.err_value", value=_show(vals))
        return None
    if rule in ("share", "reach") and not all(0 <= x <= 1 for x in listed):
        p.add(file, f"{key}.value", "config.out_of_range", value=_show(vals), lo=0, hi=1)
    if any(x < 0 for x in listed) and rule != "add":
        p.add(file, f"{key}.value", "config.out_of_range", value=_show(vals), lo=0, hi="∞")
    unit = KPIS[kpi].unit if kpi in KPIS else ""
    if rule == "share" and unit != "share":
        p.add(file, f"{key}.rule", "maps.err_rule_unit", value=rule, kpi=kpi, unit=unit, allowed="share")
    if rule in ("reach", "per_member") and unit != "count":
        p.add(file, f"{key}.rule", "maps.err_rule_unit", value=rule, kpi=kpi, unit=unit, allowed="count")
    out["value"] = [float(x) for x in listed]
    if "baseline" in value:
        if kpi in KPIS and KPIS[kpi].source == "computed":
            p.add(file, f"{key}.baseline", "maps.err_baseline_computed", kpi=kpi)
        elif not _is_number(value["baseline"]):
            p.add(file, f"{key}.baseline", "config.expected_number", value=_show(value["baseline"]))
    out["baseline"] = float(value["baseline"]) if _is_number(value.get("baseline")) else 0.0
    if "min" in value and not _is_number(value["min"]):
        p.add(file, f"{key}.min", "config.expected_number", value=_show(value["min"]))
    out["min"] = float(value["min"]) if _is_number(value.get("min")) else None
    return out


def _check_calendar(value: Any, key: str, file: str, p: _Problems) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"seasonal": [], "events": []}
    if value is None:
        return out
    if not isinstance(value, Mapping):
        p.add(file, key, "config.expected_mapping", value=_show(value))
        return out
    _check_keys(value, ("seasonal", "events"), key, file, p)
    for i, item in enumerate(value.get("seasonal") or []):
        k = f"{key}.seasonal[{i}]"
        if not isinstance(item, Mapping):
            p.add(file, k, "config.expected_mapping", value=_show(item))
            continue
        _check_keys(item, ("month", "kind", "note"), k, file, p)
        ok = _is_int(item.get("month")) and 1 <= item["month"] <= 12
        if not ok:
            p.add(file, f"{k}.month", "config.out_of_range", value=_show(item.get("month")), lo=1, hi=12)
        if _check_enum(item.get("kind"), SEASONAL_KINDS, f"{k}.kind", file, p) and ok:
            out["seasonal"].append({"month": int(item["month"]), "kind": item["kind"]})
    for i, item in enumerate(value.get("events") or []):
        k = f"{key}.events[{i}]"
        if not isinstance(item, Mapping):
            p.add(file, k, "config.expected_mapping", value=_show(item))
            continue
        _check_keys(item, ("month", "kind", "name"), k, file, p)
        m = item.get("month")
        ok = _is_month(m) or (_is_int(m) and 1 <= m <= 12)
        if not ok:
            p.add(file, f"{k}.month", "maps.err_event_month", value=_show(m))
        name = item.get("name")
        if isinstance(name, Mapping):
            name = _check_text(name, f"{k}.name", file, p)
        elif not isinstance(name, str) or not name.strip():
            p.add(file, f"{k}.name", "config.expected_text", value=_show(name))
            ok = False
        if _check_enum(item.get("kind"), EVENT_KINDS, f"{k}.kind", file, p) and ok:
            out["events"].append({"month": m if isinstance(m, str) else int(m), "kind": item["kind"],
                                  "name": name})
    return out


def _check_item(item: Any, key: str, file: str, p: _Problems, section: str) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        p.add(file, key, "config.expected_mapping", value=_show(item))
        return None
    _check_keys(item, _ITEM_KEYS, key, file, p)
    iid = item.get("id")
    if not isinstance(iid, str) or not _ID_RE.match(iid) or iid.startswith("cal-"):
        p.add(file, f"{key}.id", "maps.err_id", value=_show(iid))
    _check_enum(item.get("track"), TRACKS, f"{key}.track", file, p)
    _check_enum(item.get("owner"), ROLES, f"{key}.owner", file, p)
    text = _check_text(item.get("text"), f"{key}.text", file, p)
    when = _check_when(item.get("when"), f"{key}.when", file, p)
    kpi = item.get("kpi")
    target = None
    if kpi is None and section == "checkpoints":
        p.add(file, f"{key}.kpi", "maps.err_kpi_required", allowed=", ".join(KPIS))
    if kpi is not None:
        if _check_enum(kpi, tuple(KPIS), f"{key}.kpi", file, p):
            if "target" not in item:
                p.add(file, f"{key}.target", "maps.err_target_required", allowed=", ".join(RULES))
            else:
                target = _check_target(item["target"], kpi, f"{key}.target", file, p)
    elif "target" in item:
        p.add(file, f"{key}.target", "maps.err_target_without_kpi")
    return {"id": str(iid), "section": "activity" if section == "activities" else "checkpoint",
            "track": item.get("track"), "owner": item.get("owner"), "text": text, "when": when,
            "kpi": kpi if kpi in KPIS else None, "target": target}


def _check_template(code: str, data: Any, file: str, p: _Problems) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "source": file}
    if not isinstance(data, Mapping):
        p.add(file, "/", "config.expected_mapping", value=_show(data))
        return out
    _check_keys(data, _TEMPLATE_KEYS, "", file, p)
    for req in ("name", "kind", "owner"):
        if req not in data:
            p.add(file, req, "config.missing_key")
    out["name"] = _check_text(data.get("name"), "name", file, p)
    out["description"] = _check_text(data.get("description"), "description", file, p, required=False)
    kind = data.get("kind")
    if "kind" in data:
        _check_enum(kind, KINDS, "kind", file, p)
    out["kind"] = kind
    if "owner" in data:
        _check_enum(data.get("owner"), ROLES, "owner", file, p)
    out["owner"] = data.get("owner")
    out["members"] = _check_filter(data.get("members"), "members", file, p)
    out["exclude"] = _check_filter(data.get("exclude"), "exclude", file, p)
    if kind == "group" and not out["members"]:
        p.add(file, "members", "maps.err_members", allowed=", ".join(MEMBER_FIELDS))
    prio = data.get("priority", 100)
    if not _is_int(prio):
        p.add(file, "priority", "config.expected_integer", value=_show(prio))
        prio = 100
    out["priority"] = int(prio)
    committee = data.get("committee", list(COMMITTEE) if kind == "individual" else [])
    if not isinstance(committee, list):
        p.add(file, "committee", "config.expected_list", value=_show(committee))
        committee = []
    for i, slot in enumerate(committee):
        _check_enum(slot, COMMITTEE, f"committee[{i}]", file, p)
    out["committee"] = [s for s in committee if s in COMMITTEE]
    out["calendar"] = _check_calendar(data.get("calendar"), "calendar", file, p)
    cal_t = data.get("calendar_targets") or {}
    out["calendar_targets"] = dict(DEFAULT_CAL_TARGETS)
    if not isinstance(cal_t, Mapping):
        p.add(file, "calendar_targets", "config.expected_mapping", value=_show(cal_t))
    else:
        _check_keys(cal_t, CAL_TARGETS, "calendar_targets", file, p)
        for k, v in cal_t.items():
            if k in CAL_TARGETS:
                kpi = _CAL_KPI[k]
                tgt = _check_target(v, kpi, f"calendar_targets.{k}", file, p)
                if tgt:
                    out["calendar_targets"][k] = tgt
    for k, v in list(out["calendar_targets"].items()):
        if "min" not in v:  # the defaults, normalised
            out["calendar_targets"][k] = {"rule": v["rule"], "value": [float(v["value"])],
                                          "baseline": 0.0, "min": None}
    items: list[dict[str, Any]] = []
    for section in ("activities", "checkpoints"):
        raw = data.get(section) or []
        if not isinstance(raw, list):
            p.add(file, section, "config.expected_list", value=_show(raw))
            continue
        for i, item in enumerate(raw):
            checked = _check_item(item, f"{section}[{i}]", file, p, section)
            if checked:
                items.append(checked)
    seen: set[str] = set()
    for it in items:
        if it["id"] in seen:
            p.add(file, f"id {it['id']}", "maps.err_duplicate_id", value=_show(it["id"]))
        seen.add(it["id"])
    if not any(it["kpi"] for it in items):
        p.add(file, "checkpoints", "maps.err_no_checkpoints")
    out["items"] = items
    return out


# calendar-generated items: target key -> KPI
_CAL_KPI = {"budget_offers": "offers_sent", "warmup": "customers_warmed", "release_sales": "offer_accepted",
            "romi": "romi", "awareness": "customers_informed", "law_sales": "offer_accepted",
            "invite": "customers_invited", "event": "event_attendees"}


def load_map_templates(templates_dir: Path, extra_dir: Path | None = None,
                       lang: str = "ru") -> dict[str, dict[str, Any]]:
    """Read and validate the map templates: ``{code: template}`` (code = file name without .yaml).

    Parameters
    ----------
    templates_dir : the shipped templates (``templates/maps``)
    extra_dir : an engagement's own templates; a file there replaces the shipped one of the
        same name (copy, then edit)
    lang : language of the error messages

    Raises ConfigError listing every problem of every file (file, key path, bad value,
    allowed values).
    """
    from workbench.io.yamlfiles import read_yaml_dir

    raw = dict(read_yaml_dir(Path(templates_dir), lang))
    if extra_dir is not None:
        raw.update(read_yaml_dir(Path(extra_dir), lang))
    problems = _Problems(lang)
    out = {code: _check_template(code, data, source, problems) for code, (source, data) in raw.items()}
    problems.raise_if_any()
    return out


# =====================================================================================
# settings
# =====================================================================================

def _settings(settings: Mapping[str, Any] | None, templates: Mapping[str, Any], lang: str) -> dict[str, Any]:
    s = copy.deepcopy(DEFAULT_SETTINGS)
    for k, v in (settings or {}).items():
        if isinstance(v, Mapping) and isinstance(s.get(k), dict):
            s[k] = {**s[k], **copy.deepcopy(dict(v))}
        else:
            s[k] = copy.deepcopy(v)
    p = _Problems(lang)
    f = ENGAGEMENT_FILE
    if s["start_month"] and not _is_month(s["start_month"]):
        p.add(f, "maps.start_month", "config.expected_month", value=_show(s["start_month"]))
    if not _is_int(s["months"]) or not 1 <= s["months"] <= 36:
        p.add(f, "maps.months", "config.out_of_range", value=_show(s["months"]), lo=1, hi=36)
        s["months"] = 12
    groups = [c for c, tpl in templates.items() if tpl.get("kind") == "group"]
    indiv = [c for c, tpl in templates.items() if tpl.get("kind") == "individual"]
    for i, code in enumerate(s["group_templates"] or []):
        _check_enum(code, groups, f"maps.group_templates[{i}]", f, p)
    if s["individual_template"]:
        _check_enum(s["individual_template"], indiv, "maps.individual_template", f, p)
    for k, lo, hi in (("lead_months", 0, 12), ("romi_lag_months", 1, 24)):
        for kind, v in s[k].items():
            if not _is_int(v) or not lo <= v <= hi:
                p.add(f, f"maps.{k}.{kind}", "config.out_of_range", value=_show(v), lo=lo, hi=hi)
    cal = _check_calendar(s.get("calendar"), "maps.calendar", f, p)
    for i, ev in enumerate(cal["events"]):
        if not isinstance(ev["month"], str):
            p.add(f, f"maps.calendar.events[{i}].month", "config.expected_month", value=_show(ev["month"]))
    s["calendar"] = cal
    p.raise_if_any()
    return s


# =====================================================================================
# drafting
# =====================================================================================

@dataclass(frozen=True)
class MapsResult:
    """The drafted maps.

    maps : list of map dicts (see :func:`draft_maps`)
    checkpoints : tidy DataFrame, columns exactly ``CHECKPOINT_COLUMNS``
    candidates : customers who deserve an individual map but are over the per-salesperson
        limit (customer_id, customer_name, manager, tier, ka_grade, revenue, revenue_share, potential)
    months : the planning year, ``'YYYY-MM'``
    report_month : the reporting month the baselines end at
    empty : codes of group templates whose segment is empty (no map drafted)
    template_names : template code -> its name in ``lang``
    unmapped_lost : number of lost customers in no map
    lang : language of the texts
    """

    maps: list[dict[str, Any]]
    checkpoints: pd.DataFrame
    candidates: pd.DataFrame
    months: list[str]
    report_month: str
    empty: list[str] = field(default_factory=list)
    unmapped_lost: int = 0
    lang: str = "ru"
    template_names: dict[str, str] = field(default_factory=dict)

    def map(self, map_id: str) -> dict[str, Any]:
        """The map with id ``map_id`` (KeyError listing the ids)."""
        for m in self.maps:
            if m["id"] == map_id:
                return m
        raise KeyError(f"map {map_id!r} unknown; known: {', '.join(m['id'] for m in self.maps)}")


def draft_maps(segments: pd.DataFrame, ledger: pd.DataFrame, settings: Mapping[str, Any] | None,
               month: str, templates: Mapping[str, dict[str, Any]], lang: str = "ru",
               overrides: Mapping[str, Any] | None = None,
               overrides_source: str = OVERRIDES_FILE) -> MapsResult:
    """Draft group maps per segment and individual maps for key accounts.

    Parameters
    ----------
    segments : one row per customer (segmentation output): customer_id, customer_name,
        tier, lifecycle, map ('individual' | 'group'), map_candidate, manager, revenue, ...
    ledger : the transactions ledger (``LEDGER_COLUMNS``); used for baselines only
    settings : the ``maps`` section of engagement.yaml (missing keys take the defaults)
    month : the reporting month ``'YYYY-MM'``; baselines end here
    templates : from :func:`load_map_templates`
    lang : language of the texts (``ru`` | ``en``)
    overrides : the consultant's edits (``overrides/maps.yaml``), applied last; invalid
        edits raise ConfigError and nothing is drafted

    Returns
    -------
    MapsResult. Each map dict: id ('group:vip' | 'individual:<customer_id>'), kind,
    template, segment, customer_id, customer_name, manager, name, description, owner,
    members (customer ids), committee (list of {role, label, name, note} to fill),
    months, flags ({month: [{kind, name}]}), activities (list of {key, month, track,
    activity, owner, kpi, kpi_name, unit, baseline, target, deadline, kpi_source,
    section, origin, shifted_from, value_index}) and notes (list of {code, month, to,
    activity}).
    """
    if lang not in LANGUAGES:
        raise ConfigError(t("config.unknown_value", "ru", key="language", value=_show(lang),
                            allowed=", ".join(LANGUAGES)))
    if not _is_month(month):
        raise ConfigError(t("config.expected_month", lang, key="month", value=_show(month)))
    s = _settings(settings, templates, lang)
    months = plan_months(s, month)
    seg = segments
    ids = seg[C.CUSTOMER_ID].astype("string")
    is_indiv = (seg[C.MAP].astype("string") == "individual").fillna(False) if C.MAP in seg.columns \
        else pd.Series(False, index=seg.index)
    claimed = pd.Series(is_indiv.to_numpy(dtype=bool), index=seg.index)
    ctx = _Context(ledger=ledger, report_month=month, months=months, settings=s, lang=lang)

    group_codes = list(s["group_templates"] or [])
    order = sorted(range(len(group_codes)), key=lambda i: (templates[group_codes[i]]["priority"], i))
    members_by_code: dict[str, list[str]] = {}
    in_individual: set[str] = set()  # segments whose every customer follows an individual map
    for i in order:
        code = group_codes[i]
        tpl = templates[code]
        mask = _filter_mask(seg, tpl["members"], default=True)
        if tpl["exclude"]:
            mask &= ~_filter_mask(seg, tpl["exclude"], default=False)
        if bool((mask & is_indiv).any()) and not bool((mask & ~is_indiv).any()):
            in_individual.add(code)
        mask &= ~claimed
        members_by_code[code] = ids[mask].tolist()
        claimed |= mask

    maps: list[dict[str, Any]] = []
    empty: list[str] = []
    for code in group_codes:
        members = members_by_code[code]
        if not members:
            if code not in in_individual:  # not empty: its customers all have individual maps
                empty.append(code)
            continue
        maps.append(_draft_one(templates[code], members, ctx, customer=None))
    indiv_code = s["individual_template"]
    if indiv_code:
        rows = seg[is_indiv.to_numpy(dtype=bool)]
        if C.REVENUE in rows.columns:
            rows = rows.sort_values(C.REVENUE, ascending=False, kind="stable")
        for rec in rows.to_dict("records"):
            maps.append(_draft_one(templates[indiv_code], [str(rec[C.CUSTOMER_ID])], ctx, customer=rec))

    lost = 0
    if C.LIFECYCLE in seg.columns:
        lost = int(((seg[C.LIFECYCLE].astype("string") == "lost").fillna(False) & ~claimed).sum())
    result = MapsResult(maps=maps, checkpoints=checkpoints_frame(maps, lang),
                        candidates=_candidates(seg), months=months, report_month=month,
                        empty=empty, unmapped_lost=lost, lang=lang,
                        template_names={c: _text(tpl["name"], lang) for c, tpl in templates.items()})
    if overrides:
        result = apply_overrides(result, overrides, lang=lang, source=overrides_source, ledger=ledger)
    return result


@dataclass
class _Context:
    ledger: pd.DataFrame
    report_month: str
    months: list[str]
    settings: dict[str, Any]
    lang: str
    cache: dict[tuple[Any, ...], float] = field(default_factory=dict)


def _filter_mask(seg: pd.DataFrame, filt: Mapping[str, list[str]], default: bool) -> pd.Series:
    if not filt:
        return pd.Series(default, index=seg.index)
    mask = pd.Series(True, index=seg.index)
    for col, values in filt.items():
        if col not in seg.columns:
            return pd.Series(False, index=seg.index)
        mask &= seg[col].astype("string").isin(values).fillna(False)
    return mask


def _candidates(seg: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in (C.CUSTOMER_ID, C.CUSTOMER_NAME, C.MANAGER, C.TIER, C.KA_GRADE, C.REVENUE,
                        C.REVENUE_SHARE, C.POTENTIAL) if c in seg.columns]
    if C.MAP_CANDIDATE not in seg.columns:
        return seg[cols].iloc[0:0].reset_index(drop=True)
    mask = seg[C.MAP_CANDIDATE].astype("boolean").fillna(False)
    if C.MAP in seg.columns:
        mask &= (seg[C.MAP].astype("string") != "individual").fillna(True)
    out = seg.loc[mask.to_numpy(dtype=bool), cols]
    if C.REVENUE in out.columns:
        out = out.sort_values(C.REVENUE, ascending=False, kind="stable")
    return out.reset_index(drop=True)


# --- months of an item --------------------------------------------------------------

def _resolve_when(when: Mapping[str, Any], months: list[str], events: list[dict[str, Any]]) -> list[str]:
    n = len(months)
    if "every" in when:
        return [months[i - 1] for i in range(when["start"], n + 1, when["every"])]
    if "at" in when:
        return [months[i - 1] for i in when["at"] if i <= n]
    if "months_of_year" in when:
        return [m for m in months if int(m[5:]) in when["months_of_year"]]
    if "from_month_of_year" in when:
        first = next((i for i, m in enumerate(months) if int(m[5:]) == when["from_month_of_year"]), None)
        return [] if first is None else months[first:]
    if "event" in when:
        hits = sorted({e["month"] for e in events if e["kind"] == when["event"] and e["month"] in months})
        return hits or _resolve_when(when["else"], months, events)
    return []


def _events(cal_lists: Sequence[Mapping[str, Any]], months: list[str], lang: str) -> list[dict[str, Any]]:
    """Events of the settings' and the template's calendars with absolute months."""
    out = []
    for cal in cal_lists:
        for ev in cal.get("events", []):
            m = ev["month"]
            if isinstance(m, int):
                hit = next((x for x in months if int(x[5:]) == m), None)
                if hit is None:
                    continue
                m = hit
            out.append({"month": m, "kind": ev["kind"], "name": _text(ev["name"], lang)})
    return out


# --- targets -------------------------------------------------------------------------

def _round(value: float, unit: str) -> float:
    if unit == "count":
        return float(math.ceil(round(value, 6)))
    if unit == "currency":
        return float(round(value, 2))
    return float(round(value, 4))


def compute_target(target: Mapping[str, Any], baseline: float, n_members: int, index: int, unit: str) -> float:
    """Apply a target rule to a baseline.

    target : normalised ``{rule, value: [..], min}``; ``value[index]`` is used (last repeated)
    baseline : in the KPI's unit
    n_members : customers served by the map (1 for an individual map)
    Returns the target in the KPI's unit (counts rounded up, money to cents).
    """
    values = target["value"]
    v = values[min(index, len(values) - 1)]
    rule = target["rule"]
    if rule == "growth":
        out = baseline * (1.0 + v)
    elif rule == "hold":
        out = baseline
    elif rule == "add":
        out = baseline + v
    elif rule in ("absolute", "share"):
        out = v
    elif rule == "reach":
        out = math.ceil(round(v * n_members, 6))
    elif rule == "per_member":
        out = v * n_members
    else:  # pragma: no cover - validated
        raise ValueError(rule)
    if target.get("min") is not None:
        out = max(out, float(target["min"]))
    return _round(float(out), unit)


def baseline_window(plan_start: str, deadline: str, report_month: str) -> tuple[str, str]:
    """The past window a checkpoint's baseline is measured over.

    The checkpoint window is ``plan_start .. deadline``; the baseline takes the same calendar
    months whole years earlier, the latest such window ending at or before ``report_month``.
    """
    gap = (pd.Period(deadline, "M") - pd.Period(report_month, "M")).n
    years = max(1, math.ceil(gap / 12))
    return _add_months(plan_start, -12 * years), _add_months(deadline, -12 * years)


def _baseline(kpi: str, target: Mapping[str, Any], members: list[str], deadline: str,
              ctx: _Context, lines: pd.DataFrame) -> float:
    spec = KPIS[kpi]
    if spec.source == "entered":
        return float(target.get("baseline") or 0.0)
    if spec.baseline == "zero":
        return 0.0
    lo, hi = baseline_window(ctx.months[0], deadline, ctx.report_month)
    key = (kpi, tuple(members), lo, hi)
    if key not in ctx.cache:
        ctx.cache[key] = _round(compute_kpi(kpi, lines, members, lo, hi), spec.unit)
    return ctx.cache[key]


# --- one map -------------------------------------------------------------------------

def _draft_one(tpl: dict[str, Any], members: list[str], ctx: _Context,
               customer: Mapping[str, Any] | None) -> dict[str, Any]:
    lang, months = ctx.lang, ctx.months
    cals = [ctx.settings["calendar"], tpl["calendar"]]
    events = _events(cals, months, lang)
    flags: dict[str, list[dict[str, str]]] = {m: [] for m in months}
    for cal in cals:
        for sea in cal.get("seasonal", []):
            for m in months:
                if int(m[5:]) == sea["month"] and sea["kind"] not in [f["kind"] for f in flags[m]]:
                    flags[m].append({"kind": sea["kind"], "name": ""})
    for ev in events:
        if ev["month"] in flags:
            flags[ev["month"]].append({"kind": ev["kind"], "name": ev["name"]})
    lines = member_lines(ctx.ledger, members)
    n = len(members)
    notes: list[dict[str, str]] = []
    raw: list[dict[str, Any]] = []  # occurrences before shifting

    for item in tpl["items"]:
        if item["kpi"] and not has_data(item["kpi"], ctx.ledger):
            notes.append({"code": "no_data", "month": "", "to": "", "activity": _text(item["text"], lang),
                          "kpi": item["kpi"]})
            continue
        for idx, m in enumerate(_resolve_when(item["when"], months, events)):
            raw.append({"key": item["id"], "month": m, "track": item["track"], "owner": item["owner"],
                        "activity": _text(item["text"], lang), "kpi": item["kpi"] or "",
                        "target_spec": item["target"], "section": item["section"], "origin": "template",
                        "value_index": idx})
    raw.extend(_calendar_items(tpl, months, flags, events, ctx, notes))

    # move sales / marketing activities out of holidays / low months
    def blocked(m: str) -> bool:
        return any(f["kind"] in SHIFT_KINDS for f in flags.get(m, []))

    placed: list[dict[str, Any]] = []
    taken = {(r["key"], r["month"]) for r in raw}
    for r in raw:
        r = dict(r, shifted_from="")
        if r["section"] == "activity" and r["track"] in SHIFT_TRACKS and blocked(r["month"]):
            i = months.index(r["month"])
            to = next((m for m in months[i + 1:] if not blocked(m)), None)
            if to is None:
                notes.append({"code": "not_shifted", "month": r["month"], "to": "", "activity": r["activity"]})
            elif (r["key"], to) in taken:
                notes.append({"code": "merged", "month": r["month"], "to": to, "activity": r["activity"]})
                continue
            else:
                notes.append({"code": "shifted", "month": r["month"], "to": to, "activity": r["activity"]})
                taken.add((r["key"], to))
                r["shifted_from"], r["month"] = r["month"], to
        placed.append(r)

    activities = []
    for r in placed:
        spec = r.pop("target_spec")
        kpi = r["kpi"]
        row = dict(r, deadline="", kpi_name="", unit="", baseline=None, target=None, kpi_source="")
        if kpi:
            unit = KPIS[kpi].unit
            base = _baseline(kpi, spec, members, r["month"], ctx, lines)
            tgt = compute_target(spec, base, n, r["value_index"], unit)
            row.update(deadline=r["month"], kpi_name=label("kpi", kpi, lang), unit=unit, baseline=base,
                       target=tgt, kpi_source=KPIS[kpi].source)
            if spec["rule"] == "growth" and base == 0 and tgt == 0:
                notes.append({"code": "zero_baseline", "month": r["month"], "to": "", "activity": r["activity"],
                              "kpi": kpi})
        activities.append(row)
    activities.sort(key=lambda a: (a["month"], TRACKS.index(a["track"]), a["key"]))

    if customer is None:
        map_id, kind, segment, cid, cname, manager = f"group:{tpl['code']}", "group", tpl["code"], "", "", ""
        name = _text(tpl["name"], lang)
    else:
        cid = str(customer[C.CUSTOMER_ID])
        cname = "" if pd.isna(customer.get(C.CUSTOMER_NAME)) else str(customer.get(C.CUSTOMER_NAME, ""))
        manager = customer.get(C.MANAGER, "")
        manager = "" if manager is None or pd.isna(manager) else str(manager)
        map_id, kind, segment = f"individual:{cid}", "individual", ""
        name = f"{_text(tpl['name'], lang)}: {cname or cid}"
    return {
        "id": map_id, "kind": kind, "template": tpl["code"], "segment": segment, "customer_id": cid,
        "customer_name": cname, "manager": manager, "name": name,
        "description": _text(tpl["description"], lang), "owner": tpl["owner"], "members": list(members),
        "committee": [{"role": r, "label": label("committee", r, lang), "name": "", "note": ""}
                      for r in tpl["committee"]] if kind == "individual" else [],
        "months": list(months), "flags": flags, "activities": activities, "notes": notes,
    }


def _calendar_items(tpl: dict[str, Any], months: list[str], flags: dict[str, list[dict[str, str]]],
                    events: list[dict[str, Any]], ctx: _Context,
                    notes: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Activities and checkpoints the calendar brings: budget offers, warm-ups, ROMI, ..."""
    lang, s = ctx.lang, ctx.settings
    targets = tpl["calendar_targets"]
    owner = tpl["owner"]
    out: list[dict[str, Any]] = []

    def add(key: str, month: str, track: str, role: str, text: str, target: str, section: str = "activity",
            event_in_plan: bool = True) -> None:
        if month not in months:
            if event_in_plan:
                notes.append({"code": "outside", "month": month, "to": "", "activity": text})
            return
        out.append({"key": key, "month": month, "track": track, "owner": role, "activity": text,
                    "kpi": _CAL_KPI[target], "target_spec": targets[target], "section": section,
                    "origin": "calendar", "value_index": 0})

    for m in months:
        if any(f["kind"] == "budget" for f in flags[m]):
            add("cal-budget", m, "sales", owner, t("maps.gen_budget", lang, year=int(m[:4]) + 1), "budget_offers")
    for ev in events:
        m, name, slug = ev["month"], ev["name"], _slug(ev["name"])
        inside = m in months
        lead = int(s["lead_months"].get(ev["kind"], 1))
        if ev["kind"] == "release":
            lag = int(s["romi_lag_months"].get("release", 6))
            add(f"cal-warmup-{slug}", _add_months(m, -lead), "sales", owner,
                t("maps.gen_warmup", lang, name=name), "warmup", event_in_plan=inside)
            add(f"cal-release-{slug}", m, "product", "presale", t("maps.gen_release", lang, name=name),
                "release_sales", event_in_plan=inside)
            add(f"cal-romi-{slug}", _add_months(m, lag), "marketing", "marketing",
                t("maps.gen_romi", lang, name=name), "romi", section="checkpoint", event_in_plan=inside)
        elif ev["kind"] == "law":
            lag = int(s["romi_lag_months"].get("law", 4))
            for k in range(lead, 0, -1):
                add(f"cal-awareness-{slug}", _add_months(m, -k), "marketing", "marketing",
                    t("maps.gen_awareness", lang, name=name), "awareness", event_in_plan=inside)
            add(f"cal-law-{slug}", m, "sales", owner, t("maps.gen_law_sales", lang, name=name), "law_sales",
                event_in_plan=inside)
            add(f"cal-romi-{slug}", _add_months(m, lag), "marketing", "marketing",
                t("maps.gen_romi", lang, name=name), "romi", section="checkpoint", event_in_plan=inside)
        elif ev["kind"] == "conference":
            add(f"cal-invite-{slug}", _add_months(m, -max(lead, 1)), "marketing", "marketing",
                t("maps.gen_invite", lang, name=name), "invite", event_in_plan=inside)
            add(f"cal-conf-{slug}", m, "marketing", "marketing", t("maps.gen_conference", lang, name=name),
                "event", section="checkpoint", event_in_plan=inside)
    return out


# =====================================================================================
# the tidy checkpoints table
# =====================================================================================

def checkpoints_frame(maps: Sequence[Mapping[str, Any]], lang: str = "ru") -> pd.DataFrame:
    """The tidy checkpoints table (columns exactly ``CHECKPOINT_COLUMNS``) of the maps:
    one row per activity or checkpoint that has a KPI. Baseline and target are floats in
    the KPI's unit; month and deadline ``'YYYY-MM'``."""
    rows = []
    for m in maps:
        for a in m["activities"]:
            if not a["kpi"]:
                continue
            rows.append({
                C.MAP_ID: m["id"], C.MAP_KIND: m["kind"], C.SEGMENT: m["segment"],
                C.CUSTOMER_ID: m["customer_id"], C.MONTH: a["month"], C.TRACK: a["track"],
                C.ACTIVITY: a["activity"], C.OWNER: a["owner"], C.KPI: a["kpi"],
                C.KPI_NAME: label("kpi", a["kpi"], lang), C.UNIT: a["unit"],
                C.BASELINE: float(a["baseline"]), C.TARGET: float(a["target"]),
                C.DEADLINE: a["deadline"], C.KPI_SOURCE: a["kpi_source"],
            })
    df = pd.DataFrame(rows, columns=list(C.CHECKPOINT_COLUMNS))
    for col in C.CHECKPOINT_COLUMNS:
        df[col] = df[col].astype("float64") if col in (C.BASELINE, C.TARGET) else df[col].astype("string")
    return df


# =====================================================================================
# overrides
# =====================================================================================

_EDIT_KEYS = {
    "set": ("map", "action", "item", "month", "target", "deadline", "owner", "activity", "baseline"),
    "remove": ("map", "action", "item", "month"),
    "add": ("map", "action", "item", "month", "track", "owner", "activity", "kpi", "target", "baseline",
            "deadline"),
}


def validate_map_overrides(overrides: Mapping[str, Any] | None, maps: MapsResult | Sequence[Mapping[str, Any]],
                           lang: str = "ru", source: str = OVERRIDES_FILE) -> None:
    """Check the consultant's edits against drafted maps; raise ConfigError listing every problem.

    The file format (``overrides/maps.yaml``)::

        edits:
          - {map: "group:vip", action: set, item: revenue, month: "2027-03", target: 1500000}
          - {map: "group:vip", action: set, item: qbr, owner: farmer}        # every month of the item
          - {map: "group:vip", action: remove, item: webinar, month: "2027-05"}
          - {map: "individual:7701", action: add, item: visit, month: "2027-02", track: sales,
             owner: kam, activity: "Визит к ЛПР", kpi: meetings_held, target: 1}

    Messages name the file, the edit (``edits[i].key``), the bad value and the allowed values
    (unknown map id, item, track, owner or KPI; a month outside the planning year).
    """
    _, problems = _run_edits(maps, overrides, lang, source, ledger=None, report_month=None)
    problems.raise_if_any()


def apply_overrides(result: MapsResult, overrides: Mapping[str, Any] | None, lang: str | None = None,
                    source: str = OVERRIDES_FILE, ledger: pd.DataFrame | None = None) -> MapsResult:
    """Return a new MapsResult with the edits applied (pure; ``result`` is left as it was).

    All edits are validated first; any problem raises ConfigError and nothing is applied.
    With ``ledger``, a computed KPI whose deadline moves (or which is added) gets its
    baseline recomputed; without it the baseline stays (an added computed KPI takes
    ``baseline`` from the edit, else 0).
    """
    lang = lang or result.lang
    new_maps, problems = _run_edits(result, overrides, lang, source, ledger=ledger,
                                    report_month=result.report_month)
    problems.raise_if_any()
    return replace(result, maps=new_maps, checkpoints=checkpoints_frame(new_maps, lang))


def _run_edits(maps: MapsResult | Sequence[Mapping[str, Any]], overrides: Mapping[str, Any] | None, lang: str,
               source: str, ledger: pd.DataFrame | None,
               report_month: str | None) -> tuple[list[dict[str, Any]], _Problems]:
    p = _Problems(lang)
    base = maps.maps if isinstance(maps, MapsResult) else list(maps)
    work = copy.deepcopy(list(base))
    if not overrides:
        return work, p
    if not isinstance(overrides, Mapping):
        p.add(source, "/", "config.expected_mapping", value=_show(overrides))
        return work, p
    _check_keys(overrides, ("edits",), "", source, p)
    edits = overrides.get("edits") or []
    if not isinstance(edits, list):
        p.add(source, "edits", "config.expected_list", value=_show(edits))
        return work, p
    by_id = {m["id"]: m for m in work}
    for i, e in enumerate(edits):
        _one_edit(e, f"edits[{i}]", by_id, p, source, lang, ledger, report_month)
    return work, p


def _one_edit(e: Any, key: str, by_id: dict[str, dict[str, Any]], p: _Problems, f: str, lang: str,
              ledger: pd.DataFrame | None, report_month: str | None) -> None:
    before = len(p.items)
    if not isinstance(e, Mapping):
        p.add(f, key, "config.expected_mapping", value=_show(e))
        return
    action = e.get("action")
    if not _check_enum(action, EDIT_ACTIONS, f"{key}.action", f, p):
        return
    _check_keys(e, _EDIT_KEYS[action], key, f, p)
    m = by_id.get(e.get("map"))
    if m is None:
        p.add(f, f"{key}.map", "config.unknown_value", value=_show(e.get("map")),
              allowed=", ".join(by_id) or "—")
        return
    months = m["months"]
    month_range = f"{months[0]} … {months[-1]}"
    item = e.get("item")
    keys = sorted({a["key"] for a in m["activities"]})
    if not isinstance(item, str) or not _ID_RE.match(item):
        p.add(f, f"{key}.item", "maps.err_id", value=_show(item))
        return
    month = e.get("month")
    if month is not None and (not _is_month(month) or month not in months):
        p.add(f, f"{key}.month", "maps.err_month_outside", value=_show(month), allowed=month_range)
        return
    for k, allowed in (("track", TRACKS), ("owner", ROLES), ("kpi", tuple(KPIS))):
        if k in e:
            _check_enum(e[k], allowed, f"{key}.{k}", f, p)
    for k in ("target", "baseline"):
        if k in e and not _is_number(e[k]):
            p.add(f, f"{key}.{k}", "config.expected_number", value=_show(e[k]))
    if "activity" in e and (not isinstance(e["activity"], str) or not e["activity"].strip()):
        p.add(f, f"{key}.activity", "config.expected_text", value=_show(e["activity"]))
    deadline = e.get("deadline")
    if deadline is not None and (not _is_month(deadline) or deadline not in months):
        p.add(f, f"{key}.deadline", "maps.err_month_outside", value=_show(deadline), allowed=month_range)
    if len(p.items) > before:
        return

    if action == "add":
        for req in ("month", "track", "owner", "activity"):
            if req not in e:
                p.add(f, f"{key}.{req}", "config.missing_key")
        kpi = e.get("kpi")
        if kpi and "target" not in e:
            p.add(f, f"{key}.target", "config.missing_key")
        if not kpi and any(k in e for k in ("target", "baseline", "deadline")):
            p.add(f, f"{key}.kpi", "maps.err_target_without_kpi")
        if "baseline" in e and kpi and KPIS[kpi].source == "computed" and ledger is not None:
            p.add(f, f"{key}.baseline", "maps.err_baseline_computed", kpi=kpi)
        if any(a["key"] == item and a["month"] == month for a in m["activities"]):
            p.add(f, f"{key}.item", "maps.err_item_exists", value=_show(item), month=month)
        dl = deadline or month
        if month and dl and dl < month:
            p.add(f, f"{key}.deadline", "maps.err_deadline_before", value=_show(dl), month=month)
        if len(p.items) > before:
            return
        row = {"key": item, "month": month, "track": e["track"], "owner": e["owner"], "activity": e["activity"],
               "kpi": kpi or "", "section": "activity", "origin": "override", "value_index": 0, "shifted_from": "",
               "deadline": "", "kpi_name": "", "unit": "", "baseline": None, "target": None, "kpi_source": ""}
        if kpi:
            base = float(e.get("baseline", 0.0))
            if KPIS[kpi].source == "computed" and ledger is not None and report_month:
                base = _recompute_baseline(kpi, m, dl, ledger, report_month)
            row.update(deadline=dl, kpi_name=label("kpi", kpi, lang), unit=KPIS[kpi].unit, baseline=base,
                       target=float(e["target"]), kpi_source=KPIS[kpi].source)
        m["activities"].append(row)
        m["activities"].sort(key=lambda a: (a["month"], TRACKS.index(a["track"]), a["key"]))
        return

    if item not in keys:
        p.add(f, f"{key}.item", "config.unknown_value", value=_show(item), allowed=", ".join(keys))
        return
    hits = [a for a in m["activities"] if a["key"] == item and (month is None or a["month"] == month)]
    if not hits:
        allowed = ", ".join(a["month"] for a in m["activities"] if a["key"] == item)
        p.add(f, f"{key}.month", "maps.err_item_month", value=_show(month), item=item, allowed=allowed)
        return
    if action == "remove":
        m["activities"] = [a for a in m["activities"] if not any(a is h for h in hits)]
        return
    changes = [k for k in ("target", "deadline", "owner", "activity", "baseline") if k in e]
    if not changes:
        p.add(f, key, "maps.err_nothing_to_set", allowed="target, deadline, owner, activity, baseline")
        return
    for h in hits:
        if any(k in e for k in ("target", "deadline", "baseline")) and not h["kpi"]:
            p.add(f, f"{key}.item", "maps.err_target_without_kpi")
            return
        if "baseline" in e and h["kpi_source"] == "computed":
            p.add(f, f"{key}.baseline", "maps.err_baseline_computed", kpi=h["kpi"])
            return
        if deadline is not None and deadline < h["month"]:
            p.add(f, f"{key}.deadline", "maps.err_deadline_before", value=_show(deadline), month=h["month"])
            return
    for h in hits:
        if "owner" in e:
            h["owner"] = e["owner"]
        if "activity" in e:
            h["activity"] = e["activity"]
        if "target" in e:
            h["target"] = float(e["target"])
        if "baseline" in e:
            h["baseline"] = float(e["baseline"])
        if deadline is not None:
            h["deadline"] = deadline
            if h["kpi_source"] == "computed" and ledger is not None and report_month:
                h["baseline"] = _recompute_baseline(h["kpi"], m, deadline, ledger, report_month)
        h["origin"] = "override" if h["origin"] != "override" else h["origin"]


def _recompute_baseline(kpi: str, m: Mapping[str, Any], deadline: str, ledger: pd.DataFrame,
                        report_month: str) -> float:
    spec = KPIS[kpi]
    if spec.baseline == "zero":
        return 0.0
    lo, hi = baseline_window(m["months"][0], deadline, report_month)
    return _round(compute_kpi(kpi, ledger, m["members"], lo, hi), spec.unit)


__all__ = [
    "COMMITTEE",
    "DEFAULT_SETTINGS",
    "ROLES",
    "RULES",
    "TRACKS",
    "MapsResult",
    "apply_overrides",
    "baseline_window",
    "checkpoints_frame",
    "compute_target",
    "draft_maps",
    "label",
    "load_map_templates",
    "plan_months",
    "validate_map_overrides",
    "validate_template",
]
