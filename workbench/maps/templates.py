"""Map templates (``templates/maps/*.yaml``) and the ``maps`` settings: validation.

Every problem of a file is collected and raised at once, naming the file, the key path,
the bad value and the allowed values.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.kpis import KPIS
from workbench.maps.common import (
    _CAL_KPI,
    _ID_RE,
    CAL_TARGETS,
    COMMITTEE,
    DEFAULT_CAL_TARGETS,
    DEFAULT_SETTINGS,
    ENGAGEMENT_FILE,
    EVENT_KINDS,
    KINDS,
    MEMBER_FIELDS,
    ROLES,
    RULES,
    SEASONAL_FACTOR_KINDS,
    SEASONAL_KINDS,
    TRACKS,
    WHEN_KINDS,
    _check_enum,
    _check_keys,
    _check_text,
    _is_int,
    _is_month,
    _is_number,
    _Problems,
    _show,
)

_TEMPLATE_KEYS = ("name", "kind", "description", "members", "exclude", "priority", "owner",
                  "committee", "calendar", "calendar_targets", "activities", "checkpoints", "rank")
# a group map's members in the order to work them: by a segmentation column, some flagged first
RANK_BY = ("wake_value", "revenue")
RANK_FIRST = ("near_lost",)
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


def _check_rank(value: Any, file: str, p: _Problems) -> dict[str, str] | None:
    """``rank: {by: wake_value, first: near_lost}``: the members in the order to work them."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        p.add(file, "rank", "config.expected_mapping", value=_show(value))
        return None
    _check_keys(value, ("by", "first"), "rank", file, p)
    if "by" not in value:
        p.add(file, "rank.by", "config.missing_key")
        return None
    ok = _check_enum(value["by"], RANK_BY, "rank.by", file, p)
    first = value.get("first", "")
    if first != "":
        ok = _check_enum(first, RANK_FIRST, "rank.first", file, p) and ok
    return {"by": str(value["by"]), "first": str(first or "")} if ok else None


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
    up = KPIS[kpi].direction == "up" if kpi in KPIS else True
    if any(x < 0 for x in listed) and (rule != "add" or up):
        # a target is never below its baseline: no negative growth or addition for a KPI where more is better
        p.add(file, f"{key}.value", "maps.err_below_baseline_rule", value=_show(vals), rule=rule)
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
    out["rank"] = _check_rank(data.get("rank"), file, p)
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
    for kind, v in s["seasonal_factors"].items():
        if kind not in SEASONAL_FACTOR_KINDS:
            p.add(f, f"maps.seasonal_factors.{kind}", "config.unknown_key", allowed=", ".join(SEASONAL_FACTOR_KINDS))
        elif not _is_number(v) or not 0.1 <= v <= 5:
            p.add(f, f"maps.seasonal_factors.{kind}", "config.out_of_range", value=_show(v), lo=0.1, hi=5)
    cap = s["max_tasks_per_person_month"]
    if not _is_int(cap) or not 1 <= cap <= 500:
        p.add(f, "maps.max_tasks_per_person_month", "config.out_of_range", value=_show(cap), lo=1, hi=500)
    cal = _check_calendar(s.get("calendar"), "maps.calendar", f, p)
    for i, ev in enumerate(cal["events"]):
        if not isinstance(ev["month"], str):
            p.add(f, f"maps.calendar.events[{i}].month", "config.expected_month", value=_show(ev["month"]))
    s["calendar"] = cal
    p.raise_if_any()
    return s

