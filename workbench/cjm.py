"""The B2B CJM table (source 004) and the salesperson's task list (pure logic).

Columns are funnel stages (the seven stages of the marketing hourglass, source 001, or the
engagement's own ``cjm.stages``); rows are *progresses* — actions of the customer that move
the deal forward — followed by the B2B Elements of Value (HBR 2018). Each filled cell holds
the buying-committee role the manager works with and the manager's action. One CJM per tier
present in the segments (``cjm:vip`` …) and one per customer with an individual map
(``cjm:<customer_id>``, from ``key_account.yaml``).

The templates are read by :mod:`workbench.io.cjmfiles` and validated here
(:func:`validate_cjm_templates`); :func:`build_cjms` turns them and the segments table into
tidy tables, display grids, stage rules, the nurturing mix and checkpoints in the format of
``workbench.columns.CHECKPOINT_COLUMNS``.
"""
from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.errors import ConfigError, WorkbenchError
from workbench.i18n import LANGUAGES, t

HOURGLASS = ("attention", "trust", "contact", "warmup", "sale", "after_sales", "referral")
LEVELS = ("table_stakes", "functional", "ease_of_doing_business", "individual", "inspirational")
SUBGROUPS: dict[str, tuple[str, ...]] = {
    "table_stakes": ("",),
    "functional": ("economic", "performance"),
    "ease_of_doing_business": ("productivity", "operational", "access", "relationship", "strategic"),
    "individual": ("career", "personal"),
    "inspirational": ("purpose",),
}
COMMITTEE_ROLES = ("champion", "decision_maker", "blocker", "influencer", "expert", "user")
OWNER_ROLES = ("hunter", "closer", "farmer", "kam", "presale", "marketing")  # as in the development maps
TIERS = ("vip", "strategic", "typical", "ballast")
INDIVIDUAL_TEMPLATE = "key_account"
SEGMENT_TEMPLATES = TIERS + (INDIVIDUAL_TEMPLATE,)
UNITS = ("share", "count")
# At any moment 3 % of a market buy, 40 % are open to talk, 57 % are not ready (001, after Vorsight).
NURTURING: tuple[tuple[str, float], ...] = (("buy_now", 0.03), ("open_to_talk", 0.40), ("not_ready", 0.57))

TABLE_COLUMNS = ("cjm_id", "row_kind", "level", "subgroup", "row", "row_label", "stage", "stage_label",
                 "role", "role_label", "action", "owner")
GRID_HEAD = ("row_kind", "level", "subgroup", "row", "row_label")
RULE_COLUMNS = ("cjm_id", "stage", "stage_label", "month", "deadline", "owners", "owners_label",
                "qualification", "handoff", "cells")
NURTURING_COLUMNS = ("cjm_id", "segment", "customers") + tuple(k for k, _ in NURTURING)
DROPPED_COLUMNS = ("file", "template", "row", "stage")

_TEMPLATE_KEYS = ("segment", "title", "owner", "elements", "stages", "cells", "checkpoints")
_STAGE_KEYS = ("offset", "months", "owners", "qualification", "handoff")
_CELL_KEYS = ("role", "ru", "en", "owner")
_CHECKPOINT_KEYS = ("unit", "target")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# ----------------------------------------------------------------------------- templates
def load_cjm_templates(templates_dir: Path, engagement_dir: Path | None,
                       stages_override: list[dict] | None = None, lang: str = "ru") -> dict[str, Any]:
    """Read and validate the CJM templates; the engagement's edited copies win.

    Parameters
    ----------
    templates_dir
        ``templates/`` (or ``templates/cjm/``) of the project.
    engagement_dir
        The engagement folder; its ``overrides/cjm/*.yaml`` replace the shipped files and
        ``overrides/cjm/customers/<customer_id>.yaml`` give one customer its own CJM. None = none.
    stages_override
        engagement.yaml ``cjm.stages``: ``[{code, ru, en}, ...]``; empty = the hourglass.
    lang
        Language of error messages.

    Returns
    -------
    dict
        The validated templates (see :func:`validate_cjm_templates`).

    Raises
    ------
    ConfigError
        Listing every problem: file, key path, bad value, allowed values.
    """
    from workbench.io.cjmfiles import read_cjm_sources

    return validate_cjm_templates(read_cjm_sources(Path(templates_dir), engagement_dir, lang),
                                  stages_override or [], lang)


class _Problems:
    """Problems collected per file, raised together as one ConfigError."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.by_file: OrderedDict[str, list[str]] = OrderedDict()

    def add(self, source: str, message: str, /, **kwargs: Any) -> None:
        self.by_file.setdefault(source, []).append(str(t(message, self.lang, **kwargs)))

    def unknown_keys(self, source: str, data: Any, allowed: tuple[str, ...], path: str = "") -> None:
        """A problem for each key of the mapping ``data`` not in ``allowed`` (``path``: where
        ``data`` sits in the file, "" at the top)."""
        for key in data:
            if key not in allowed:
                self.add(source, "config.unknown_key", key=f"{path}.{key}" if path else str(key),
                         allowed=", ".join(allowed))

    def raise_if_any(self) -> None:
        if not self.by_file:
            return
        lines = []
        for source, items in self.by_file.items():
            lines.append(t("config.header", self.lang, file=source))
            lines.extend(f"  - {p}" for p in items)
        raise ConfigError("\n".join(lines))


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def _labelled_list(data: Any, list_key: str, source: str, pr: _Problems,
                   extra: tuple[str, ...]) -> OrderedDict[str, dict[str, Any]]:
    """Validate ``{list_key: [{code, ru, en, **extra}, ...]}``; return code -> item."""
    out: OrderedDict[str, dict[str, Any]] = OrderedDict()
    if not isinstance(data, dict) or not isinstance(data.get(list_key), list):
        pr.add(source, "config.expected_list", key=list_key, value=_show(data))
        return out
    allowed_keys = ("code", "ru", "en") + tuple(extra)
    for i, item in enumerate(data[list_key]):
        path = f"{list_key}[{i}]"
        if not isinstance(item, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(item))
            continue
        pr.unknown_keys(source, item, allowed_keys, path)
        ok = True
        for key in allowed_keys:
            value = item.get(key, "" if key == "subgroup" else None)
            if value is None:
                pr.add(source, "config.missing_key", key=f"{path}.{key}")
                ok = False
            elif not isinstance(value, str) or (key != "subgroup" and not value.strip()):
                pr.add(source, "config.expected_text", key=f"{path}.{key}", value=_show(value))
                ok = False
        if not ok:
            continue
        code = item["code"]
        if code in out:
            pr.add(source, "cjm.duplicate_code", key=f"{path}.code", value=_show(code))
            continue
        out[code] = {k: item.get(k, "") or "" for k in allowed_keys}
    return out


def _bilingual(value: Any, path: str, source: str, pr: _Problems) -> dict[str, str] | None:
    if not isinstance(value, dict):
        pr.add(source, "config.expected_mapping", key=path, value=_show(value))
        return None
    out = {}
    pr.unknown_keys(source, value, LANGUAGES, path)
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            pr.add(source, "cjm.missing_text", key=f"{path}.{lang}", value=_show(text))
            return None
        out[lang] = text
    return out


def validate_cjm_templates(sources: dict[str, dict[str, Any]], stages_override: list[dict],
                           lang: str = "ru") -> dict[str, Any]:
    """Validate parsed template files (pure); raise one ConfigError listing every problem.

    Parameters
    ----------
    sources
        name -> {"source": file name for messages, "data": parsed YAML}, as returned by
        :func:`workbench.io.cjmfiles.read_cjm_sources`.
    stages_override
        engagement.yaml ``cjm.stages`` (``[]`` = the hourglass from ``stages.yaml``).

    Returns
    -------
    dict
        ``stages`` (the columns: list of {code, ru, en}), ``custom_stages`` (bool),
        ``elements`` / ``roles`` / ``progresses`` (code -> item, in file order), ``segments``
        (template name -> normalised template), ``customers`` (customer_id -> normalised
        template), ``dropped`` (cells and stage rules keyed to hourglass stages that the custom
        stage list left out: list of {file, template, row, stage}), ``sources`` (name -> file).
    """
    pr = _Problems(lang)
    src = {name: entry["source"] for name, entry in sources.items()}
    elements = _labelled_list(sources["elements"]["data"], "elements", src["elements"], pr,
                              ("level", "subgroup"))
    for code, item in elements.items():
        if item["level"] not in LEVELS:
            pr.add(src["elements"], "config.unknown_value", key=f"elements.{code}.level",
                   value=_show(item["level"]), allowed=", ".join(LEVELS))
        elif item["subgroup"] not in SUBGROUPS[item["level"]]:
            pr.add(src["elements"], "config.unknown_value", key=f"elements.{code}.subgroup",
                   value=_show(item["subgroup"]), allowed=", ".join(map(_show, SUBGROUPS[item["level"]])))
    hourglass = _labelled_list(sources["stages"]["data"], "stages", src["stages"], pr, ())
    roles = _labelled_list(sources["roles"]["data"], "roles", src["roles"], pr, ())
    progresses = _labelled_list(sources["progresses"]["data"], "progresses", src["progresses"], pr,
                                ("stage",))
    for code, item in progresses.items():
        if item["stage"] not in hourglass:
            pr.add(src["progresses"], "cjm.unknown_stage", key=f"progresses.{code}.stage",
                   value=_show(item["stage"]), allowed=", ".join(hourglass))
    clash = sorted(set(elements) & set(progresses))
    if clash:
        pr.add(src["progresses"], "cjm.row_clash", value=", ".join(clash))

    custom = bool(stages_override)
    if custom:
        stages = []
        for i, st in enumerate(stages_override):
            if not isinstance(st, dict) or not all(isinstance(st.get(k), str) and st.get(k)
                                                   for k in ("code", "ru", "en")):
                pr.add("engagement.yaml", "config.expected_mapping", key=f"cjm.stages[{i}]", value=_show(st))
                continue
            stages.append({"code": st["code"], "ru": st["ru"], "en": st["en"]})
    else:
        stages = [dict(v) for v in hourglass.values()]
    columns = [s["code"] for s in stages]
    known_stages = list(dict.fromkeys(columns + list(hourglass)))
    dropped: list[dict[str, str]] = []

    ctx = {"elements": elements, "progresses": progresses, "roles": roles, "columns": columns,
           "known": known_stages, "hourglass": list(hourglass), "dropped": dropped}
    segments: dict[str, dict[str, Any]] = {}
    for name in SEGMENT_TEMPLATES:
        if name in sources:
            segments[name] = _segment_template(sources[name]["data"], name, name, src[name], pr, ctx)
    customers: dict[str, dict[str, Any]] = {}
    for name in sources:
        if name.startswith("customer:"):
            cid = name.split(":", 1)[1]
            customers[cid] = _segment_template(sources[name]["data"], INDIVIDUAL_TEMPLATE, name,
                                               src[name], pr, ctx)
    pr.raise_if_any()
    return {"stages": stages, "custom_stages": custom, "elements": dict(elements), "roles": dict(roles),
            "progresses": dict(progresses), "segments": segments, "customers": customers,
            "dropped": dropped, "sources": src}


def _segment_template(data: Any, expected: str, name: str, source: str, pr: _Problems,
                      ctx: dict[str, Any]) -> dict[str, Any]:
    """Validate one segment template; return it normalised (cells as a list, dropped cells removed)."""
    out: dict[str, Any] = {"name": name, "segment": expected, "source": source, "title": {"ru": "", "en": ""},
                           "owner": "", "elements": [], "stages": {}, "cells": [], "checkpoints": {}}
    if not isinstance(data, dict):
        pr.add(source, "config.expected_mapping", key="/", value=_show(data))
        return out
    pr.unknown_keys(source, data, _TEMPLATE_KEYS)
    if data.get("segment") != expected:
        pr.add(source, "config.unknown_value", key="segment", value=_show(data.get("segment")),
               allowed=expected)
    out["title"] = _bilingual(data.get("title"), "title", source, pr) or out["title"]
    owner = data.get("owner")
    if owner not in OWNER_ROLES:
        pr.add(source, "cjm.unknown_owner", key="owner", value=_show(owner), allowed=", ".join(OWNER_ROLES))
    else:
        out["owner"] = owner
    elements, progresses, roles = ctx["elements"], ctx["progresses"], ctx["roles"]
    chosen = data.get("elements") or []
    if not isinstance(chosen, list):
        pr.add(source, "config.expected_list", key="elements", value=_show(chosen))
        chosen = []
    for i, code in enumerate(chosen):
        if code not in elements:
            pr.add(source, "cjm.unknown_element", key=f"elements[{i}]", value=_show(code),
                   allowed=", ".join(elements))
    out["elements"] = [c for c in elements if c in chosen]

    def stage_ok(stage: Any, path: str, row: str) -> bool:
        if stage not in ctx["known"]:
            pr.add(source, "cjm.unknown_stage", key=path, value=_show(stage), allowed=", ".join(ctx["columns"]))
            return False
        if stage not in ctx["columns"]:
            ctx["dropped"].append({"file": source, "template": name, "row": row, "stage": str(stage)})
            return False
        return True

    stages_in = data.get("stages") or {}
    if not isinstance(stages_in, dict):
        pr.add(source, "config.expected_mapping", key="stages", value=_show(stages_in))
        stages_in = {}
    for stage, rule in stages_in.items():
        path = f"stages.{stage}"
        if not stage_ok(stage, path, ""):
            continue
        if not isinstance(rule, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(rule))
            continue
        pr.unknown_keys(source, rule, _STAGE_KEYS, path)
        norm: dict[str, Any] = {}
        for key, lo in (("offset", 0), ("months", 1)):
            if key in rule:
                value = rule[key]
                if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= 120:
                    pr.add(source, "config.out_of_range", key=f"{path}.{key}", value=_show(value), lo=lo, hi=120)
                else:
                    norm[key] = value
        owners = rule.get("owners", [])
        if not isinstance(owners, list) or not owners:
            pr.add(source, "config.expected_texts", key=f"{path}.owners", value=_show(owners))
            owners = []
        for i, o in enumerate(owners):
            if o not in OWNER_ROLES:
                pr.add(source, "cjm.unknown_owner", key=f"{path}.owners[{i}]", value=_show(o),
                       allowed=", ".join(OWNER_ROLES))
        norm["owners"] = [o for o in owners if o in OWNER_ROLES]
        for key in ("qualification", "handoff"):
            if key in rule:
                text = _bilingual(rule[key], f"{path}.{key}", source, pr)
                if text:
                    norm[key] = text
        out["stages"][stage] = norm

    cells_in = data.get("cells") or {}
    if not isinstance(cells_in, dict):
        pr.add(source, "config.expected_mapping", key="cells", value=_show(cells_in))
        cells_in = {}
    for row, by_stage in cells_in.items():
        path = f"cells.{row}"
        if row in progresses:
            kind = "progress"
        elif row in elements:
            kind = "element"
        else:
            pr.add(source, "cjm.unknown_row", key=path, value=_show(row),
                   progresses=", ".join(progresses), elements=", ".join(elements))
            continue
        if not isinstance(by_stage, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(by_stage))
            continue
        for stage, cell in by_stage.items():
            cpath = f"{path}.{stage}"
            in_columns = stage_ok(stage, cpath, str(row))
            if not isinstance(cell, dict):
                pr.add(source, "config.expected_mapping", key=cpath, value=_show(cell))
                continue
            pr.unknown_keys(source, cell, _CELL_KEYS, cpath)
            ok = True
            if cell.get("role") not in roles:
                pr.add(source, "cjm.unknown_role", key=f"{cpath}.role", value=_show(cell.get("role")),
                       allowed=", ".join(roles))
                ok = False
            for lang in LANGUAGES:
                if not isinstance(cell.get(lang), str) or not cell[lang].strip():
                    pr.add(source, "cjm.missing_text", key=f"{cpath}.{lang}", value=_show(cell.get(lang)))
                    ok = False
            if "owner" in cell and cell["owner"] not in OWNER_ROLES:
                pr.add(source, "cjm.unknown_owner", key=f"{cpath}.owner", value=_show(cell["owner"]),
                       allowed=", ".join(OWNER_ROLES))
                ok = False
            if ok and in_columns:
                out["cells"].append({"row": row, "row_kind": kind, "stage": stage, "role": cell["role"],
                                     "ru": cell["ru"], "en": cell["en"], "owner": cell.get("owner", "")})

    checks_in = data.get("checkpoints") or {}
    if not isinstance(checks_in, dict):
        pr.add(source, "config.expected_mapping", key="checkpoints", value=_show(checks_in))
        checks_in = {}
    for code, rule in checks_in.items():
        path = f"checkpoints.{code}"
        if code not in progresses:
            pr.add(source, "cjm.unknown_progress", key=path, value=_show(code), allowed=", ".join(progresses))
            continue
        if not isinstance(rule, dict):
            pr.add(source, "config.expected_mapping", key=path, value=_show(rule))
            continue
        pr.unknown_keys(source, rule, _CHECKPOINT_KEYS, path)
        unit, target = rule.get("unit"), rule.get("target")
        if unit not in UNITS:
            pr.add(source, "config.unknown_value", key=f"{path}.unit", value=_show(unit), allowed=", ".join(UNITS))
            continue
        hi = 1.0 if unit == "share" else 1_000_000.0
        if not isinstance(target, (int, float)) or isinstance(target, bool) or not 0 < target <= hi:
            pr.add(source, "config.out_of_range", key=f"{path}.target", value=_show(target), lo=0, hi=hi)
            continue
        out["checkpoints"][code] = {"unit": unit, "target": float(target)}
    for cell in out["cells"]:
        if cell["row_kind"] == "progress" and cell["row"] not in checks_in:
            pr.add(source, "cjm.no_checkpoint", key=f"checkpoints.{cell['row']}", row=cell["row"])
    if out["cells"] and not checks_in:
        pr.add(source, "cjm.no_checkpoints", key="checkpoints")
    # order cells: progresses, then elements (file order), each by stage column order
    row_order = {code: i for i, code in enumerate(list(progresses) + list(elements))}
    col_order = {code: i for i, code in enumerate(ctx["columns"])}
    out["cells"].sort(key=lambda c: (row_order[c["row"]], col_order[c["stage"]]))
    return out


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class CJMResult:
    """Everything :func:`build_cjms` produces; the report renders it, traction reads ``tasks``.

    Attributes
    ----------
    tables
        cjm_id -> tidy DataFrame, one row per filled cell (``TABLE_COLUMNS``).
    grids
        cjm_id -> wide DataFrame: ``GRID_HEAD`` columns, then one column per stage code; cell
        text ``"role: action"`` or ``""``. Rows: progresses with cells, then the segment's
        value elements (pyramid bottom first).
    rules
        cjm_id -> DataFrame per stage (``RULE_COLUMNS``): month, deadline, responsible roles,
        qualification criteria, hand-off rule, number of filled cells.
    nurturing
        One row per group CJM (``NURTURING_COLUMNS``): counts sum to the segment's customers.
    tasks
        The task list, exactly ``workbench.columns.CHECKPOINT_COLUMNS``.
    meta
        cjm_id -> {kind "group"|"individual", segment, customer_id, customer_name, manager,
        title, customers, template}.
    stages
        The columns: list of {code, label} in the result's language.
    dropped
        Cells and stage rules left out because the custom stage list lacks their stage
        (``DROPPED_COLUMNS``).
    """

    tables: dict[str, pd.DataFrame]
    grids: dict[str, pd.DataFrame]
    rules: dict[str, pd.DataFrame]
    nurturing: pd.DataFrame
    tasks: pd.DataFrame
    meta: dict[str, dict[str, Any]]
    stages: list[dict[str, str]]
    dropped: pd.DataFrame
    lang: str = "ru"
    month: str = ""
    plan_start: str = ""
    levels: dict[str, str] = field(default_factory=dict)  # element code -> level (for colouring)


def add_months(month: str, n: int) -> str:
    """``add_months("2026-12", 1) == "2027-01"``."""
    year, mon = int(month[:4]), int(month[5:7])
    total = year * 12 + (mon - 1) + n
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def largest_remainder(total: int, shares: list[float]) -> list[int]:
    """Split ``total`` by ``shares`` into whole numbers that sum to ``total`` (Hamilton's method).

    >>> largest_remainder(10, [0.03, 0.40, 0.57])
    [0, 4, 6]
    """
    if total <= 0:
        return [0] * len(shares)
    s = sum(shares)
    exact = [total * x / s for x in shares]
    floors = [int(e) for e in exact]
    rest = total - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:rest]:
        floors[i] += 1
    return floors


def build_cjms(segments: pd.DataFrame, templates: dict[str, Any], month: str, lang: str = "ru",
               plan_start: str | None = None,
               nurturing: tuple[tuple[str, float], ...] = NURTURING) -> CJMResult:
    """Build the CJMs for a client base (pure: ``segments`` and ``templates`` are not modified).

    Parameters
    ----------
    segments
        One row per customer; columns used: customer_id, customer_name, tier
        ('vip'|'strategic'|'typical'|'ballast'), map ('individual'|'group'), manager (optional).
    templates
        The result of :func:`load_cjm_templates`.
    month
        The reporting month, 'YYYY-MM'.
    lang
        'ru' | 'en': language of every label and action.
    plan_start
        First month of the plan 'YYYY-MM'; None = the month after ``month``. A task is due in
        ``plan_start + offset`` of its stage (+ ``months`` - 1 for the deadline).
    nurturing
        (key, share) pairs of the nurturing mix; default 3 % / 40 % / 57 %.

    Returns
    -------
    CJMResult
        One group CJM per tier present (``cjm:<tier>``; its customers are all the tier's
        customers) and one individual CJM per customer with ``map == 'individual'``
        (``cjm:<customer_id>``; ``overrides/cjm/customers/<customer_id>.yaml`` when present,
        else ``key_account.yaml``).
    """
    if lang not in LANGUAGES:
        raise WorkbenchError(t("config.unknown_value", "en", key="lang", value=_show(lang),
                               allowed=", ".join(LANGUAGES)))
    for key, value in (("month", month), ("plan_start", plan_start)):
        if value is not None and not _MONTH_RE.match(str(value)):
            raise WorkbenchError(t("config.expected_month", lang, key=key, value=_show(value)))
    start = plan_start or add_months(month, 1)
    missing = [c for c in (C.CUSTOMER_ID, C.CUSTOMER_NAME, C.TIER, C.MAP) if c not in segments.columns]
    if missing:
        raise WorkbenchError(t("cjm.missing_columns", lang, columns=", ".join(missing)))
    tiers = segments[C.TIER].astype("string").fillna("")
    unknown = sorted(set(tiers) - set(TIERS))
    if unknown:
        raise WorkbenchError(t("cjm.unknown_tier", lang, value=", ".join(map(_show, unknown)),
                               allowed=", ".join(TIERS)))
    missing_tpl = [x for x in SEGMENT_TEMPLATES if x not in templates["segments"]]
    if missing_tpl:
        raise WorkbenchError(t("cjm.missing_template", lang, value=", ".join(missing_tpl)))

    stages = [{"code": s["code"], "label": s[lang]} for s in templates["stages"]]
    plans: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for tier in TIERS:
        n = int((tiers == tier).sum())
        if n == 0:
            continue
        tpl = templates["segments"][tier]
        plans.append((f"cjm:{tier}", tpl, {
            "kind": "group", "segment": tier, "customer_id": "", "customer_name": "", "manager": "",
            "title": tpl["title"][lang], "customers": n, "template": tpl["name"]}))
    individual = segments[segments[C.MAP].astype("string").fillna("") == "individual"]
    has_manager = C.MANAGER in segments.columns
    for rec in individual.to_dict("records"):
        cid = str(rec[C.CUSTOMER_ID])
        name = "" if pd.isna(rec[C.CUSTOMER_NAME]) else str(rec[C.CUSTOMER_NAME])
        manager = rec.get(C.MANAGER) if has_manager else ""
        tpl = templates["customers"].get(cid, templates["segments"][INDIVIDUAL_TEMPLATE])
        plans.append((f"cjm:{cid}", tpl, {
            "kind": "individual", "segment": str(rec[C.TIER]), "customer_id": cid, "customer_name": name,
            "manager": "" if manager is None or pd.isna(manager) else str(manager),
            "title": t("cjm.individual_title", lang, title=tpl["title"][lang], name=name),
            "customers": 1, "template": tpl["name"]}))

    tables, grids, rules, meta = {}, {}, {}, {}
    task_frames = []
    nurt_rows = []
    for cjm_id, tpl, info in plans:
        meta[cjm_id] = info
        tables[cjm_id] = _tidy(cjm_id, tpl, templates, lang)
        grids[cjm_id] = _grid(tables[cjm_id], tpl, templates, lang)
        rules[cjm_id] = _rules(cjm_id, tpl, templates, tables[cjm_id], start, lang)
        task_frames.append(_tasks(cjm_id, tpl, templates, tables[cjm_id], rules[cjm_id], info, lang))
        if info["kind"] == "group":
            counts = largest_remainder(info["customers"], [s for _, s in nurturing])
            nurt_rows.append({"cjm_id": cjm_id, "segment": info["segment"], "customers": info["customers"],
                              **{k: c for (k, _), c in zip(nurturing, counts)}})
    nurt_cols = ("cjm_id", "segment", "customers") + tuple(k for k, _ in nurturing)
    tasks = pd.concat(task_frames, ignore_index=True) if task_frames else _empty(C.CHECKPOINT_COLUMNS)
    dropped = pd.DataFrame(templates["dropped"], columns=list(DROPPED_COLUMNS)).drop_duplicates(ignore_index=True)
    return CJMResult(
        tables=tables, grids=grids, rules=rules,
        nurturing=pd.DataFrame(nurt_rows, columns=list(nurt_cols)) if nurt_rows else _empty(nurt_cols),
        tasks=tasks[list(C.CHECKPOINT_COLUMNS)], meta=meta, stages=stages, dropped=dropped,
        lang=lang, month=month, plan_start=start,
        levels={code: e["level"] for code, e in templates["elements"].items()})


def _empty(cols: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})


def _tidy(cjm_id: str, tpl: dict[str, Any], templates: dict[str, Any], lang: str) -> pd.DataFrame:
    elements, progresses, roles = templates["elements"], templates["progresses"], templates["roles"]
    stage_label = {s["code"]: s[lang] for s in templates["stages"]}
    rows = []
    for cell in tpl["cells"]:
        code = cell["row"]
        if cell["row_kind"] == "progress":
            level, subgroup, label = "", "", progresses[code][lang]
        else:
            el = elements[code]
            level, subgroup, label = el["level"], el["subgroup"], el[lang]
        rows.append({"cjm_id": cjm_id, "row_kind": cell["row_kind"], "level": level, "subgroup": subgroup,
                     "row": code, "row_label": label, "stage": cell["stage"],
                     "stage_label": stage_label[cell["stage"]], "role": cell["role"],
                     "role_label": roles[cell["role"]][lang], "action": cell[lang],
                     "owner": cell["owner"] or _stage_owner(tpl, cell["stage"])})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS)) if rows else _empty(TABLE_COLUMNS)


def _stage_owner(tpl: dict[str, Any], stage: str) -> str:
    owners = tpl["stages"].get(stage, {}).get("owners") or [tpl["owner"]]
    return str(owners[0])


def _grid(tidy: pd.DataFrame, tpl: dict[str, Any], templates: dict[str, Any], lang: str) -> pd.DataFrame:
    elements, progresses = templates["elements"], templates["progresses"]
    columns = [s["code"] for s in templates["stages"]]
    text = {(r["row"], r["stage"]): f"{r['role_label']}: {r['action']}" for r in tidy.to_dict("records")}
    used = set(tidy["row"])
    rows = []
    for code, p in progresses.items():
        if code in used:
            rows.append({"row_kind": "progress", "level": "", "subgroup": "", "row": code, "row_label": p[lang]})
    for code, el in elements.items():
        if code in used or code in tpl["elements"]:
            rows.append({"row_kind": "element", "level": el["level"], "subgroup": el["subgroup"], "row": code,
                         "row_label": el[lang]})
    for r in rows:
        for st in columns:
            r[st] = text.get((r["row"], st), "")
    return pd.DataFrame(rows, columns=list(GRID_HEAD) + columns)


def _rules(cjm_id: str, tpl: dict[str, Any], templates: dict[str, Any], tidy: pd.DataFrame, start: str,
           lang: str) -> pd.DataFrame:
    rows = []
    counts = tidy["stage"].value_counts().to_dict() if len(tidy) else {}
    for i, st in enumerate(templates["stages"]):
        rule = tpl["stages"].get(st["code"], {})
        offset = rule.get("offset", i)
        owners = rule.get("owners") or [tpl["owner"]]
        rows.append({
            "cjm_id": cjm_id, "stage": st["code"], "stage_label": st[lang],
            "month": add_months(start, offset),
            "deadline": add_months(start, offset + rule.get("months", 1) - 1),
            "owners": ", ".join(owners),
            "owners_label": ", ".join(str(t("cjm.owner", lang)[o]) for o in owners),
            "qualification": rule.get("qualification", {}).get(lang, ""),
            "handoff": rule.get("handoff", {}).get(lang, ""),
            "cells": int(counts.get(st["code"], 0)),
        })
    return pd.DataFrame(rows, columns=list(RULE_COLUMNS))


def _tasks(cjm_id: str, tpl: dict[str, Any], templates: dict[str, Any], tidy: pd.DataFrame,
           rules: pd.DataFrame, info: dict[str, Any], lang: str) -> pd.DataFrame:
    """One checkpoint per filled cell: the manager's action, measured by a progress KPI."""
    progresses = templates["progresses"]
    checks = tpl["checkpoints"]
    columns = [s["code"] for s in templates["stages"]]
    # the KPI of a stage: its first progress (with a checkpoint) that has a cell in that stage
    stage_kpi: dict[str, str] = {}
    for r in tidy.to_dict("records"):
        if r["row_kind"] == "progress" and r["row"] in checks:
            stage_kpi.setdefault(r["stage"], r["row"])
    fallback = next((c for c in progresses if c in checks), "")

    def kpi_for(stage: str) -> str:
        if stage in stage_kpi:
            return stage_kpi[stage]
        i = columns.index(stage)
        for st in columns[i + 1:] + columns[:i][::-1]:
            if st in stage_kpi:
                return stage_kpi[st]
        return fallback

    by_stage = rules.set_index("stage")
    rows = []
    for r in tidy.to_dict("records"):
        code = r["row"] if r["row_kind"] == "progress" and r["row"] in checks else kpi_for(r["stage"])
        check = checks[code]
        unit = check["unit"]
        kpi_name = t(f"cjm.kpi_{unit}", lang, progress=progresses[code][lang])
        owner = r["owner"]
        rows.append({
            C.MAP_ID: cjm_id, C.MAP_KIND: "cjm",
            C.SEGMENT: info["segment"] if info["kind"] == "group" else "",
            C.CUSTOMER_ID: info["customer_id"],
            C.MONTH: by_stage.at[r["stage"], "month"],
            C.TRACK: "marketing" if owner == "marketing" else "sales",
            C.ACTIVITY: r["action"],
            C.OWNER: owner, C.KPI: f"progress_{code}", C.KPI_NAME: kpi_name, C.UNIT: unit,
            C.BASELINE: 0.0, C.TARGET: float(check["target"]),
            C.DEADLINE: by_stage.at[r["stage"], "deadline"], C.KPI_SOURCE: "entered",
        })
    return pd.DataFrame(rows, columns=list(C.CHECKPOINT_COLUMNS)) if rows else _empty(C.CHECKPOINT_COLUMNS)


__all__ = [
    "COMMITTEE_ROLES",
    "HOURGLASS",
    "LEVELS",
    "NURTURING",
    "OWNER_ROLES",
    "SUBGROUPS",
    "TIERS",
    "CJMResult",
    "add_months",
    "build_cjms",
    "largest_remainder",
    "load_cjm_templates",
    "validate_cjm_templates",
]
