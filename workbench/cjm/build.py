"""Building the CJMs for a client base: tidy tables, display grids, stage rules, task lists."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.cjm.common import (
    _MONTH_RE,
    DROPPED_COLUMNS,
    GRID_HEAD,
    INDIVIDUAL_TEMPLATE,
    RULE_COLUMNS,
    SEGMENT_TEMPLATES,
    TABLE_COLUMNS,
    TIERS,
)
from workbench.cjm.templates import _show, tender_cells
from workbench.errors import WorkbenchError
from workbench.i18n import LANGUAGES, t
from workbench.maps.nurturing import readiness, readiness_counts

STATE_CUSTOMER = "state_customer"  # segments column (issue 15): buys under 44-FZ / 223-FZ
CROSS_SELL_ROWS = ("requested_tech_info", "expanded_range", "requested_demo")
PROGRAMME_COLUMNS = ("segment", "weeks", "week", "stage", "stage_label", "role", "role_label", "content", "cta")


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
        One row per segment present: ``segment, customers`` and the customers in each
        readiness state (:data:`workbench.maps.nurturing.READINESS`; they sum to ``customers``).
        From the data, never from the 3 / 40 / 57 % market rule of thumb.
    tasks
        The task list, exactly ``workbench.columns.CHECKPOINT_COLUMNS``.
    meta
        cjm_id -> {kind "group"|"individual", segment, customer_id, customer_name, manager,
        title, customers, template, tender (bool: the cells of the tender rules), state (state
        buyers it serves)}.
    stages
        The columns: list of {code, label} in the result's language.
    dropped
        Cells and stage rules left out because the custom stage list lacks their stage
        (``DROPPED_COLUMNS``).
    readiness
        Each customer's readiness (:data:`workbench.maps.nurturing.READINESS_COLUMNS`).
    programmes
        The nurturing programme per segment (``PROGRAMME_COLUMNS``): its length, and per step
        the week, the stage, the committee role, the content and the call to action.
    no_content
        Customers meant for an individual map whose data give no individual content: no
        individual CJM, they follow their tier's CJM.
    state_customers
        Number of state buyers (``segments.state_customer``); their CJMs fit tender rules.
    lost
        Number of lost customers (``lifecycle == 'lost'``): in no CJM.
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
    readiness: pd.DataFrame = field(default_factory=pd.DataFrame)
    programmes: pd.DataFrame = field(default_factory=pd.DataFrame)
    no_content: list[str] = field(default_factory=list)
    state_customers: int = 0
    lost: int = 0


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
               plan_start: str | None = None, profiles: Mapping[str, Mapping[str, Any]] | None = None,
               deals: pd.DataFrame | None = None, individual_ids: Sequence[str] | None = None,
               measured: Mapping[str, str] | None = None) -> CJMResult:
    """Build the CJMs for a client base (pure: ``segments`` and ``templates`` are not modified).

    Parameters
    ----------
    segments
        One row per customer; columns used: customer_id, customer_name, tier
        ('vip'|'strategic'|'typical'|'ballast'), map ('individual'|'group'), manager,
        state_customer (bool; missing = False until the segmentation gives it), and for the
        nurturing readiness orders, median_gap_days, last_purchase, revenue, lifecycle.
    templates
        The result of :func:`load_cjm_templates`.
    month
        The reporting month, 'YYYY-MM'.
    lang
        'ru' | 'en': language of every label and action.
    plan_start
        First month of the plan 'YYYY-MM'; None = the month after ``month``. A task is due in
        ``plan_start + offset`` of its stage (+ ``months`` - 1 for the deadline).
    profiles
        customer_id -> the individual facts of the development maps
        (:func:`workbench.maps.individual.customer_profiles`): the buying committee and the
        cross-sell candidates personalise an individual CJM. None = none known.
    deals
        CRM deals (customer_id, status, created) for the nurturing readiness; None = none.
    measured
        Stage code -> what the client's deal export shows for that stage (conversion, days in
        stage, deals now), written beside the stage's qualification and hand-off rules.
    individual_ids
        The customers that may get an individual CJM (the development maps pass the key
        accounts a KAM carries, :mod:`workbench.maps.kam`); None = every customer with
        ``map == 'individual'``.

    Returns
    -------
    CJMResult
        One group CJM per tier present (``cjm:<tier>``; its customers are the tier's
        customers except the lost ones, see :func:`group_members`); when the tier's template
        has tender variants and the tier has state buyers, they get ``cjm:<tier>:tender``
        instead. Lost customers (silent for more than a year) are in no CJM, as in no
        development map: ``lost`` counts them. One individual CJM per customer with
        ``map == 'individual'`` and individual content: its own file
        ``overrides/cjm/customers/<customer_id>.yaml``, or the committee known from the contact
        log, or cross-sell candidates (``cjm:<customer_id>``; state buyers get the tender cells).
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
    state = state_buyers(segments)
    lost = lost_customers(segments)

    stages = [{"code": s["code"], "label": s[lang]} for s in templates["stages"]]
    plans: list[tuple[str, dict[str, Any], dict[str, Any], list[dict[str, Any]]]] = []
    for tier in TIERS:
        in_tier = (tiers == tier).to_numpy() & ~lost
        n = int(in_tier.sum())
        if n == 0:
            continue
        tpl = templates["segments"][tier]
        tender = tender_cells(tpl)
        state_in_tier = int((in_tier & state).sum())
        n_state = state_in_tier if tender != tpl["cells"] else 0
        # state: the state buyers this CJM serves as it is (its cells hold no gift or incentive)
        info = {"kind": "group", "segment": tier, "customer_id": "", "customer_name": "", "manager": "",
                "title": tpl["title"][lang], "customers": n - n_state, "template": tpl["name"], "tender": False,
                "people": {}, "products": [], "state": state_in_tier - n_state}
        if n - n_state:
            plans.append((f"cjm:{tier}", tpl, info, tpl["cells"]))
        if n_state:
            plans.append((f"cjm:{tier}:tender", tpl, dict(info, customers=n_state, tender=True, state=n_state, title=t(
                "cjm.tender_title", lang, title=tpl["title"][lang])), tender))
    indiv = (segments[C.MAP].astype("string").fillna("") == "individual").to_numpy()
    if individual_ids is not None:
        indiv &= segments[C.CUSTOMER_ID].astype(str).isin(list(individual_ids)).to_numpy()
    individual = segments[indiv]
    has_manager = C.MANAGER in segments.columns
    is_state = dict(zip(segments[C.CUSTOMER_ID].astype(str), state))
    no_content: list[str] = []
    for rec in individual.to_dict("records"):
        cid = str(rec[C.CUSTOMER_ID])
        profile = (profiles or {}).get(cid) or {}
        people = _people(profile.get("committee") or [], templates, lang)
        products = [x["product"] for x in profile.get("cross_sell") or []]
        if cid not in templates["customers"] and not people and not products:
            no_content.append(cid)
            continue
        name = "" if pd.isna(rec[C.CUSTOMER_NAME]) else str(rec[C.CUSTOMER_NAME])
        manager = rec.get(C.MANAGER) if has_manager else ""
        tpl = templates["customers"].get(cid, templates["segments"][INDIVIDUAL_TEMPLATE])
        plans.append((f"cjm:{cid}", tpl, {
            "kind": "individual", "segment": str(rec[C.TIER]), "customer_id": cid, "customer_name": name,
            "manager": "" if manager is None or pd.isna(manager) else str(manager),
            "title": t("cjm.individual_title", lang, title=tpl["title"][lang], name=name),
            "customers": 1, "template": tpl["name"], "tender": bool(is_state.get(cid)), "people": people,
            "products": products, "state": int(bool(is_state.get(cid)))}, tender_cells(tpl) if is_state.get(cid) else tpl["cells"]))

    tables, grids, rules, meta = {}, {}, {}, {}
    task_frames = []
    for cjm_id, tpl, info, cells in plans:
        meta[cjm_id] = info
        tables[cjm_id] = _tidy(cjm_id, tpl, cells, templates, lang, info["people"], info["products"])
        grids[cjm_id] = _grid(tables[cjm_id], tpl, templates, lang)
        rules[cjm_id] = _rules(cjm_id, tpl, templates, tables[cjm_id], start, lang, measured or {})
        task_frames.append(_tasks(cjm_id, tpl, templates, tables[cjm_id], rules[cjm_id], info, lang))
    tasks = pd.concat(task_frames, ignore_index=True) if task_frames else _empty(C.CHECKPOINT_COLUMNS)
    dropped = pd.DataFrame(templates["dropped"], columns=list(DROPPED_COLUMNS)).drop_duplicates(ignore_index=True)
    ready = readiness(segments, month, start, deals)
    return CJMResult(
        tables=tables, grids=grids, rules=rules, nurturing=readiness_counts(ready),
        tasks=tasks[list(C.CHECKPOINT_COLUMNS)], meta=meta, stages=stages, dropped=dropped,
        lang=lang, month=month, plan_start=start,
        levels={code: e["level"] for code, e in templates["elements"].items()},
        readiness=ready, programmes=_programmes(templates, sorted(set(tiers), key=TIERS.index), lang),
        no_content=no_content, state_customers=int(state.sum()), lost=int(lost.sum()))


def lost_customers(segments: pd.DataFrame) -> np.ndarray:
    """``segments.lifecycle == 'lost'`` as booleans (a missing column: none is lost). Lost
    customers keep the tier code ballast but are in no group CJM and no development map."""
    if C.LIFECYCLE not in segments.columns:
        return np.zeros(len(segments), dtype=bool)
    return (segments[C.LIFECYCLE].astype("string") == "lost").fillna(False).to_numpy(dtype=bool)


def group_members(segments: pd.DataFrame, meta: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """cjm_id -> the customer ids it serves: an individual CJM its customer; a group CJM the
    customers of its tier who are not lost, split between ``cjm:<tier>`` and
    ``cjm:<tier>:tender`` by ``state_customer`` where the tier has a tender variant."""
    ids = segments[C.CUSTOMER_ID].astype(str)
    tiers = segments[C.TIER].astype("string").fillna("")
    state, active = state_buyers(segments), ~lost_customers(segments)
    out: dict[str, list[str]] = {}
    for cjm_id, info in meta.items():
        if info["kind"] == "individual":
            out[cjm_id] = [str(info["customer_id"])]
            continue
        mask = (tiers == info["segment"]).to_numpy() & active
        if f"cjm:{info['segment']}:tender" in meta:
            mask &= state if info.get("tender") else ~state
        out[cjm_id] = ids[mask].tolist()
    return out


def state_buyers(segments: pd.DataFrame) -> np.ndarray:
    """``segments.state_customer`` as booleans (buying under 44-FZ / 223-FZ); a missing column
    or value is False (not known to be a state buyer)."""
    if STATE_CUSTOMER not in segments.columns:
        return np.zeros(len(segments), dtype=bool)
    return segments[STATE_CUSTOMER].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _people(committee: Sequence[Mapping[str, str]], templates: dict[str, Any], lang: str) -> dict[str, str]:
    """committee role -> the known people in it ("Смирнов С. (Директор)"), from a profile."""
    out: dict[str, list[str]] = {}
    for p in committee:
        if p.get("role") in templates["roles"] and p.get("contact"):
            out.setdefault(p["role"], []).append(p["contact"] + (f" ({p['position']})" if p.get("position") else ""))
    return {role: ", ".join(names) for role, names in out.items()}


def _programmes(templates: dict[str, Any], tiers: Sequence[str], lang: str) -> pd.DataFrame:
    stage_label = {s["code"]: s[lang] for s in templates["stages"]}
    hourglass = {s["code"]: s[lang] for s in templates.get("hourglass", templates["stages"])}
    rows = []
    for tier in tiers:
        prog = templates["segments"][tier].get("nurturing")
        if not prog:
            continue
        for step in prog["steps"]:
            rows.append({"segment": tier, "weeks": prog["weeks"], "week": step["week"], "stage": step["stage"],
                         "stage_label": stage_label.get(step["stage"], hourglass.get(step["stage"], step["stage"])),
                         "role": step["role"], "role_label": templates["roles"][step["role"]][lang],
                         "content": step["content"][lang], "cta": step["cta"][lang]})
    return pd.DataFrame(rows, columns=list(PROGRAMME_COLUMNS))


def _empty(cols: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})


def _tidy(cjm_id: str, tpl: dict[str, Any], cells: list[dict[str, Any]], templates: dict[str, Any], lang: str,
          people: Mapping[str, str], products: Sequence[str]) -> pd.DataFrame:
    """One row per cell; an individual CJM names the known person in the cell's role and, in
    the rows about a new line, the cross-sell products."""
    elements, progresses, roles = templates["elements"], templates["progresses"], templates["roles"]
    stage_label = {s["code"]: s[lang] for s in templates["stages"]}
    offer = t("cjm.cross_sell_products", lang, products=", ".join(f"«{p}»" if lang == "ru" else f"“{p}”"
                                                                  for p in products)) if products else ""
    rows = []
    for cell in cells:
        code = cell["row"]
        if cell["row_kind"] == "progress":
            level, subgroup, label = "", "", progresses[code][lang]
        else:
            el = elements[code]
            level, subgroup, label = el["level"], el["subgroup"], el[lang]
        rows.append({"cjm_id": cjm_id, "row_kind": cell["row_kind"], "level": level, "subgroup": subgroup,
                     "row": code, "row_label": label, "stage": cell["stage"],
                     "stage_label": stage_label[cell["stage"]], "role": cell["role"],
                     "role_label": roles[cell["role"]][lang],
                     "action": cell[lang] + (f" ({offer})" if offer and code in CROSS_SELL_ROWS else ""),
                     "person": people.get(cell["role"], ""),
                     "owner": cell["owner"] or _stage_owner(tpl, cell["stage"])})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS)) if rows else _empty(TABLE_COLUMNS)


def _stage_owner(tpl: dict[str, Any], stage: str) -> str:
    owners = tpl["stages"].get(stage, {}).get("owners") or [tpl["owner"]]
    return str(owners[0])


def _grid(tidy: pd.DataFrame, tpl: dict[str, Any], templates: dict[str, Any], lang: str) -> pd.DataFrame:
    elements, progresses = templates["elements"], templates["progresses"]
    columns = [s["code"] for s in templates["stages"]]
    text = {(r["row"], r["stage"]): f"{r['role_label']}{' — ' + r['person'] if r['person'] else ''}: {r['action']}"
            for r in tidy.to_dict("records")}
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
           lang: str, measured: Mapping[str, str]) -> pd.DataFrame:
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
            "measured": measured.get(st["code"], ""),
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
            C.ACTIVITY: r["action"] + (f" — {r['person']}" if r["person"] else ""),
            C.OWNER: owner, C.KPI: f"progress_{code}", C.KPI_NAME: kpi_name, C.UNIT: unit,
            C.BASELINE: 0.0, C.TARGET: float(check["target"]),
            C.DEADLINE: by_stage.at[r["stage"], "deadline"], C.KPI_SOURCE: "entered",
        })
    return pd.DataFrame(rows, columns=list(C.CHECKPOINT_COLUMNS)) if rows else _empty(C.CHECKPOINT_COLUMNS)

