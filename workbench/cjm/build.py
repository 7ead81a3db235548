"""Building the CJMs for a client base: tidy tables, display grids, stage rules, task lists."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.cjm.common import (
    _MONTH_RE,
    DROPPED_COLUMNS,
    GRID_HEAD,
    INDIVIDUAL_TEMPLATE,
    NURTURING,
    RULE_COLUMNS,
    SEGMENT_TEMPLATES,
    TABLE_COLUMNS,
    TIERS,
)
from workbench.cjm.templates import _show
from workbench.errors import WorkbenchError
from workbench.i18n import LANGUAGES, t


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

