"""A workload the team can carry: checkpoints per salesperson and month, within a cap.

The source (000) warns against handing salespeople thirty maps at once: start with two or
three per salesperson. A plan is executable only if each person's checkpoints in a month fit
into their month. Every checkpoint of the development maps and every CJM task is counted
for the people it concerns. Two kinds are told apart: **tasks** (what someone does and
reports: meetings, calls, offers, CJM tasks; entered KPIs) and **results** (revenue, orders,
average check: measured from the ledger, they need no work of their own and are the outcome
of the tasks). The cap applies to tasks; results are counted and shown beside them.

* a task owned by a sales role (hunter, closer, farmer, KAM) belongs to the salespeople
  (``segments.manager``) of the customers it serves: a group map's or a group CJM's task to
  each manager with customers in it, an individual one to the customer's manager (a task
  with no known manager to its role, marked unassigned);
* a task owned by marketing or pre-sale belongs to that team: counted and shown, not capped;
* the dossier reviews (every 3 months) of the key accounts a KAM carries without an individual
  map are the KAM's tasks too (an individual map holds its own review checkpoint).

Above ``maps.max_tasks_per_person_month`` tasks a salesperson keeps the highest-value ones of the
month (value: the revenue of that person's customers the task serves, in the analysis
window) and the rest move to the next month where every person of the task has room; a task
whose next occurrence is already there merges into it; one that finds no room inside the
plan is deferred past it. Nothing moves into a holiday or low month of the calendar. The consultant's own edits stay where they are. Every move is
listed with its reason.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.maps.common import OVERRIDES_FILE, SHIFT_KINDS

SALES_ROLES = ("hunter", "closer", "farmer", "kam")
LOAD_COLUMNS = ("person", "team", "month", "before", "after", "results")
MOVE_COLUMNS = ("source", "map_id", "activity", "owner", "persons", "month", "to", "value", "how")
UNASSIGNED = "{role}?"   # a sales task whose customers have no manager: the role, marked unassigned


@dataclass(frozen=True)
class Workload:
    """The team's load and the moves that keep it within the cap.

    cap : checkpoints a salesperson carries in one month
    months : the planning months
    load : ``LOAD_COLUMNS``: person (a manager's name, a team role code, or an unassigned
        role ``"kam?"``), team (True for marketing / pre-sale), month, tasks before and after
        the moves, results (checkpoints measured from the ledger, not capped)
    moves : ``MOVE_COLUMNS``: each task moved (``how``: later | merged | past_plan), from
        ``month`` to ``to`` ("" past the plan), the persons over the cap and its value
    over_before / over_after : (person, month) pairs above the cap before and after
    """

    cap: int
    months: list[str]
    load: pd.DataFrame
    moves: pd.DataFrame
    over_before: list[tuple[str, str]] = field(default_factory=list)
    over_after: list[tuple[str, str]] = field(default_factory=list)


def _persons(owner: str, members: Sequence[str], manager: Mapping[str, str]) -> list[str]:
    if owner not in SALES_ROLES:
        return [owner]
    found = sorted({manager.get(c, "") for c in members} - {""})
    if len({manager.get(c, "") for c in members}) > len(found) or not found:
        found.append(UNASSIGNED.format(role=owner))
    return found


def task_table(maps_result: Any, cjm_result: Any, segments: pd.DataFrame) -> pd.DataFrame:
    """Every checkpoint of the maps and every CJM task, one row each: uid (where it lives),
    source, map_id, key, activity, owner, month, deadline, persons (list), value (person ->
    revenue served), kind (``task`` | ``result``: computed from the ledger), fixed (edited
    by the consultant: stays where it is)."""
    seg_ids = segments[C.CUSTOMER_ID].astype(str)
    manager = dict(zip(seg_ids, segments[C.MANAGER].astype("string").fillna("").astype(str))) \
        if C.MANAGER in segments.columns else {}
    revenue = dict(zip(seg_ids, pd.to_numeric(segments.get(C.REVENUE, 0.0), errors="coerce").fillna(0.0)
                       .clip(lower=0.0))) if C.REVENUE in segments.columns else {}
    rows: list[dict[str, Any]] = []

    def value_by_person(persons: list[str], members: Sequence[str]) -> dict[str, float]:
        out = {p: 0.0 for p in persons}
        for c in members:
            p = manager.get(c, "")
            key = p if p in out else next((x for x in persons if x.endswith("?")), None)
            if key is not None:
                out[key] += float(revenue.get(c, 0.0))
        if len(persons) == 1 and persons[0] not in manager.values():
            out[persons[0]] = float(sum(revenue.get(c, 0.0) for c in members))
        return out

    for i, m in enumerate(getattr(maps_result, "maps", None) or []):
        for j, a in enumerate(m["activities"]):
            if not a["kpi"]:
                continue
            persons = _persons(a["owner"], m["members"], manager)
            rows.append({"uid": ("maps", i, j), "source": "maps", "map_id": m["id"], "key": a["key"],
                         "activity": a["activity"], "owner": a["owner"], "month": a["month"],
                         "deadline": a["deadline"] or a["month"], "persons": persons,
                         "value": value_by_person(persons, m["members"]),
                         "kind": "result" if a["kpi_source"] == "computed" else "task",
                         "fixed": a.get("origin") == "override"})
    # dossier reviews of the key accounts a KAM carries without an individual map (an individual
    # map holds its own review checkpoint): the KAM's work as much as any checkpoint
    with_map = {m["customer_id"] for m in getattr(maps_result, "maps", None) or [] if m["kind"] == "individual"}
    for i, d in enumerate(getattr(maps_result, "dossiers", None) or []):
        cid = str(d["customer_id"])
        if cid in with_map:
            continue
        persons = _persons("kam", [cid], manager)
        for j, month in enumerate(d["reviews"]):
            rows.append({"uid": ("dossier", i, j), "source": "dossier", "map_id": f"dossier:{cid}", "key": "review",
                         "activity": d["activity"], "owner": "kam", "month": month, "deadline": month,
                         "persons": persons, "value": value_by_person(persons, [cid]), "kind": "task",
                         "fixed": False})
    tasks = getattr(cjm_result, "tasks", None)
    meta = getattr(cjm_result, "meta", None) or {}
    if tasks is not None and len(tasks):
        from workbench.cjm.build import group_members

        members_of = group_members(segments, meta)
        for j, r in enumerate(tasks.to_dict("records")):
            members = members_of.get(str(r[C.MAP_ID]), [])
            persons = _persons(str(r[C.OWNER]), members, manager)
            rows.append({"uid": ("cjm", j), "source": "cjm", "map_id": str(r[C.MAP_ID]),
                         "key": f"{r[C.KPI]}|{r[C.ACTIVITY]}", "activity": str(r[C.ACTIVITY]), "owner": str(r[C.OWNER]),
                         "month": str(r[C.MONTH]), "deadline": str(r[C.DEADLINE]), "persons": persons,
                         "value": value_by_person(persons, members), "kind": "task", "fixed": False})
    return pd.DataFrame(rows, columns=["uid", "source", "map_id", "key", "activity", "owner", "month", "deadline",
                                       "persons", "value", "kind", "fixed"])


def balance(tasks: pd.DataFrame, months: Sequence[str], cap: int,
            blocked: Sequence[str] = ()) -> tuple[dict[Any, str], pd.DataFrame]:
    """Keep each salesperson within ``cap`` tasks a month (see the module docstring).

    ``blocked``: holiday and low months of the calendar; no task is moved into one.

    Returns (uid -> its new month, "" when it leaves the plan), and the moves
    (``MOVE_COLUMNS``). Deterministic: persons in name order, ties by the task's place.
    Results (``kind == "result"``) are neither counted nor moved.
    """
    where, moves, _ = _balance(tasks, months, cap, blocked)
    return where, moves


def _balance(tasks: pd.DataFrame, months: Sequence[str], cap: int,
             blocked: Sequence[str]) -> tuple[dict[Any, str], pd.DataFrame, dict[Any, str]]:
    """:func:`balance`, plus uid -> the month of the occurrence a merged task joined (its map
    note names it)."""
    merged_into: dict[Any, str] = {}
    months = list(months)
    results = {uid: m for uid, m, k in zip(tasks["uid"], tasks["month"], tasks["kind"]) if k == "result"}
    tasks = tasks[tasks["kind"] != "result"]
    where = {uid: m for uid, m in zip(tasks["uid"], tasks["month"])}
    persons = {uid: p for uid, p in zip(tasks["uid"], tasks["persons"])}
    values = {uid: v for uid, v in zip(tasks["uid"], tasks["value"])}
    fixed = {uid: f for uid, f in zip(tasks["uid"], tasks["fixed"])}
    keys = {uid: (mid, k) for uid, mid, k in zip(tasks["uid"], tasks["map_id"], tasks["key"])}
    info = {uid: (s, mid, a, o) for uid, s, mid, a, o in zip(tasks["uid"], tasks["source"], tasks["map_id"],
                                                              tasks["activity"], tasks["owner"])}
    count: dict[tuple[str, str], int] = {}
    at: dict[tuple[Any, str], int] = {}
    for uid, m in where.items():
        for p in persons[uid]:
            count[(p, m)] = count.get((p, m), 0) + 1
        at[(keys[uid], m)] = at.get((keys[uid], m), 0) + 1
    capped = sorted({p for ps in persons.values() for p in ps if p not in ("marketing", "presale")})
    moves: list[dict[str, Any]] = []
    for month in months:
        for person in capped:
            excess = count.get((person, month), 0) - cap
            if excess <= 0:
                continue
            mine = [uid for uid, m in where.items() if m == month and person in persons[uid] and not fixed[uid]]
            mine.sort(key=lambda u: (values[u].get(person, 0.0), u))
            for uid in mine[:excess]:
                later = [m for m in months[months.index(month) + 1:] if m not in blocked]
                merged = next((m for m in later if at.get((keys[uid], m), 0)), None)
                room = next((m for m in later if all(count.get((p, m), 0) < cap for p in persons[uid]
                                                     if p in capped)), None)
                if merged is not None and (room is None or merged <= room):
                    to, how, shown = "", "merged", merged    # its next occurrence covers it
                elif room is not None:
                    to, how, shown = room, "later", room
                else:
                    to, how, shown = "", "past_plan", ""
                for p in persons[uid]:
                    count[(p, month)] -= 1
                    if to:
                        count[(p, to)] = count.get((p, to), 0) + 1
                at[(keys[uid], month)] -= 1
                if to:
                    at[(keys[uid], to)] = at.get((keys[uid], to), 0) + 1
                where[uid] = to
                if how == "merged":
                    merged_into[uid] = shown
                source, map_id, activity, owner = info[uid]
                moves.append({"source": source, "map_id": map_id, "activity": activity, "owner": owner,
                              "persons": ", ".join(persons[uid]), "month": month, "to": shown,
                              "value": float(values[uid].get(person, 0.0)), "how": how})
    return {**where, **results}, pd.DataFrame(moves, columns=list(MOVE_COLUMNS)), merged_into


def load_table(tasks: pd.DataFrame, where: Mapping[Any, str], months: Sequence[str]) -> pd.DataFrame:
    """Tasks per person and month before and after the moves (``LOAD_COLUMNS``)."""
    if not len(tasks):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in LOAD_COLUMNS})
    long = tasks[["uid", "month", "persons", "kind"]].explode("persons").rename(columns={"persons": "person"})
    long["after"] = long["uid"].map(where)
    work = long[long["kind"] != "result"]
    before = work.groupby(["person", "month"]).size().rename("before")
    after = work[work["after"] != ""].groupby(["person", "after"]).size().rename("after")
    after.index = after.index.set_names(["person", "month"])
    results = long[long["kind"] == "result"].groupby(["person", "month"]).size().rename("results")
    grid = pd.MultiIndex.from_product([sorted(long["person"].unique()), list(months)], names=["person", "month"])
    out = pd.concat([before, after, results], axis=1).reindex(grid, fill_value=0).fillna(0).astype(int).reset_index()
    out.insert(1, "team", out["person"].isin(["marketing", "presale"]))
    return out[list(LOAD_COLUMNS)]


def plan_workload(maps_result: Any, cjm_result: Any, segments: pd.DataFrame, cap: int,
                  lang: str = "ru", overrides_source: str = OVERRIDES_FILE) -> tuple[Any, Any, Workload]:
    """Count the load, move what is over the cap, and return the updated maps result, CJM
    result and the :class:`Workload`. Pure: the inputs are not modified.

    A moved map checkpoint keeps its target and baseline (only entered KPIs move) and gets a
    note; a moved CJM task moves its month and deadline by the same number of months. The
    consultant's edits (``overrides/maps.yaml``) are not moved: when they alone keep a
    salesperson over the cap, the edits are refused (ConfigError naming the file, each
    checkpoint of the edits in that month and the rule).
    """
    months = list(getattr(maps_result, "months", None) or [])
    if not months and cjm_result is not None and len(cjm_result.tasks):
        months = sorted(set(cjm_result.tasks[C.MONTH].astype(str)))
    tasks = task_table(maps_result, cjm_result, segments)
    before_where = dict(zip(tasks["uid"], tasks["month"]))
    blocked = sorted({mo for m in getattr(maps_result, "maps", None) or [] for mo, fl in m["flags"].items()
                      if any(f["kind"] in SHIFT_KINDS for f in fl)})
    where, moves, merged = _balance(tasks, months, cap, blocked)
    load = load_table(tasks, where, months)
    team = load["team"].astype(bool)
    over = lambda col: [(p, m) for p, m, n, tm in zip(load["person"], load["month"], load[col], team)
                        if n > cap and not tm]
    workload = Workload(cap=int(cap), months=months, load=load, moves=moves, over_before=over("before"),
                        over_after=over("after"))
    if workload.over_after:
        _refuse(tasks, where, workload, lang, overrides_source)
    changed = {uid: m for uid, m in where.items() if m != before_where[uid]}
    maps_out = _apply_maps(maps_result, changed, merged)
    if maps_out is not None:  # kept as plain data: a result is stored as JSON and Parquet
        maps_out = replace(maps_out, workload=dataclasses.asdict(workload))
    return maps_out, _apply_cjm(cjm_result, changed), workload


def workload_of(maps_result: Any) -> Workload | None:
    """The :class:`Workload` a maps result carries (None before :func:`plan_workload`)."""
    data = getattr(maps_result, "workload", None)
    if data is None or isinstance(data, Workload):
        return data
    return Workload(cap=int(data["cap"]), months=list(data["months"]), load=data["load"], moves=data["moves"],
                    over_before=[tuple(x) for x in data.get("over_before") or []],
                    over_after=[tuple(x) for x in data.get("over_after") or []])


def _refuse(tasks: pd.DataFrame, where: Mapping[Any, str], w: Workload, lang: str, source: str) -> None:
    from workbench.errors import ConfigError
    from workbench.i18n import t

    lines = [t("maps.err_header", lang, file=source)]
    load = w.load.set_index(["person", "month"])
    for person, month in w.over_after:
        mine = tasks[[bool(f) and where[u] == month and person in ps
                      for u, f, ps in zip(tasks["uid"], tasks["fixed"], tasks["persons"])]]
        for rec in mine.to_dict("records"):
            lines.append("  - " + t("maps.err_rule", lang, key=month, checkpoint=f"{rec['map_id']} · {rec['key']} · "
                                                                             f"{rec['month']}",
                                    problem=t("maps.rule_problem.over_cap", lang, person=person,
                                              n=int(load.loc[(person, month), "after"]), cap=w.cap),
                                    rule=t("maps.rule.over_cap", lang)))
    raise ConfigError("\n".join(lines))


def _shift(month: str, old: str, new: str) -> str:
    delta = (pd.Period(new, "M") - pd.Period(old, "M")).n
    return str(pd.Period(month, "M") + delta)


def _apply_maps(maps_result: Any, changed: Mapping[Any, str], merged: Mapping[Any, str] | None = None) -> Any:
    from workbench.maps.draft import checkpoints_frame

    if maps_result is None:
        return maps_result
    maps_result = _apply_dossiers(maps_result, changed)
    hits = {(u[1], u[2]): m for u, m in changed.items() if u[0] == "maps"}
    joined = {(u[1], u[2]): m for u, m in (merged or {}).items() if u[0] == "maps"}
    if not hits:
        return maps_result
    maps = []
    for i, m in enumerate(maps_result.maps):
        acts, notes = [], list(m["notes"])
        for j, a in enumerate(m["activities"]):
            if (i, j) not in hits:
                acts.append(a)
                continue
            to = hits[(i, j)]
            code = "deferred" if to else "deferred_merged" if (i, j) in joined else "deferred_out"
            notes.append({"code": code, "month": a["month"], "to": to or joined.get((i, j), ""),
                          "activity": a["activity"]})
            if to:
                acts.append(dict(a, month=to, deadline=_shift(a["deadline"] or a["month"], a["month"], to),
                                 deferred_from=a["month"]))
        acts.sort(key=lambda a: (a["month"], a["track"], a["key"]))
        maps.append(dict(m, activities=acts, notes=notes))
    return replace(maps_result, maps=maps, checkpoints=checkpoints_frame(maps, maps_result.lang))


def _apply_dossiers(maps_result: Any, changed: Mapping[Any, str]) -> Any:
    """A moved dossier review takes its new month; one deferred past the plan leaves the list
    (``deferred`` names it)."""
    hits = {(u[1], u[2]): m for u, m in changed.items() if u[0] == "dossier"}
    if not hits:
        return maps_result
    out = []
    for i, d in enumerate(maps_result.dossiers):
        moved = {j: hits[(i, j)] for j in range(len(d["reviews"])) if (i, j) in hits}
        if not moved:
            out.append(d)
            continue
        reviews = sorted({moved.get(j, m) for j, m in enumerate(d["reviews"])} - {""})
        deferred = [{"month": d["reviews"][j], "to": to} for j, to in moved.items()]
        out.append(dict(d, reviews=reviews, next_review=reviews[0] if reviews else "",
                        deferred=list(d.get("deferred") or []) + deferred))
    return replace(maps_result, dossiers=out)


def _apply_cjm(cjm_result: Any, changed: Mapping[Any, str]) -> Any:
    hits = {u[1]: m for u, m in changed.items() if u[0] == "cjm"}
    if cjm_result is None or not hits:
        return cjm_result
    tasks = cjm_result.tasks.reset_index(drop=True).copy()
    idx = np.array(sorted(hits))
    to = np.array([hits[i] for i in idx], dtype=object)
    old = tasks.loc[idx, C.MONTH].astype(str).to_numpy()
    tasks.loc[idx, C.DEADLINE] = [_shift(d, o, n) if n else d for d, o, n in
                                  zip(tasks.loc[idx, C.DEADLINE].astype(str), old, to)]
    tasks.loc[idx, C.MONTH] = [n or o for o, n in zip(old, to)]
    keep = np.ones(len(tasks), dtype=bool)
    keep[idx[to == ""]] = False
    return replace(cjm_result, tasks=tasks[keep].reset_index(drop=True))


__all__ = [
    "LOAD_COLUMNS",
    "MOVE_COLUMNS",
    "SALES_ROLES",
    "Workload",
    "balance",
    "load_table",
    "plan_workload",
    "task_table",
    "workload_of",
]
