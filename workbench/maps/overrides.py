"""The consultant's edits of drafted maps (``overrides/maps.yaml``): validation and application."""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

_EPS = 1e-9

from workbench.i18n import t
from workbench.kpis import KPIS
from workbench.maps.common import (
    _ID_RE,
    EDIT_ACTIONS,
    OVERRIDES_FILE,
    ROLES,
    TRACKS,
    _check_enum,
    _check_keys,
    _is_month,
    _is_number,
    _Problems,
    _show,
    label,
)
from workbench.maps.draft import MapsResult, checkpoints_frame
from workbench.maps.targets import _recompute_baseline

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
               "deadline": "", "kpi_name": "", "unit": "", "baseline": None, "target": None, "kpi_source": "",
               "target_exact": None, "rounding": "", "growth": None, "labels": []}
        if kpi:
            base = float(e.get("baseline", 0.0))
            if KPIS[kpi].source == "computed" and ledger is not None and report_month:
                base = _recompute_baseline(kpi, m, dl, ledger, report_month)
            row.update(deadline=dl, kpi_name=label("kpi", kpi, lang), unit=KPIS[kpi].unit, baseline=base,
                       target=float(e["target"]), kpi_source=KPIS[kpi].source)
            _relabel(row)
            _check_rules(row, m, key, f, p, lang)
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
        if "target" in e or "baseline" in e:
            _relabel(h)
    for h in hits:
        if h["kpi"]:
            _check_rules(h, m, f"{key}.{'target' if 'target' in e else changes[0]}", f, p, lang)


_DRAFT_ONLY_LABELS = ("tempered", "lifted", "peak", "holidays", "low", "hold")


def _relabel(a: dict[str, Any]) -> None:
    """An edited target is exact as written: drafting labels that no longer hold go, a
    target equal to its baseline is labelled a hold."""
    a["labels"] = [x for x in a.get("labels") or [] if x not in _DRAFT_ONLY_LABELS]
    a["target_exact"], a["rounding"] = a["target"], ""
    if a["baseline"] is not None and abs(float(a["target"]) - float(a["baseline"])) < 1e-9:
        a["labels"].append("hold")


def _check_rules(a: Mapping[str, Any], m: Mapping[str, Any], key: str, f: str, p: _Problems, lang: str) -> None:
    """The target rules of :mod:`workbench.maps.targets` on an edited checkpoint: each
    problem names the checkpoint (map · item · month) and the rule."""
    spec = KPIS[a["kpi"]]
    target, base = float(a["target"]), float(a["baseline"] or 0.0)
    where = f"{m['id']} · {a['key']} · {a['deadline'] or a['month']}"

    def refuse(rule: str, problem: str, **kw: Any) -> None:
        p.add(f, key, "maps.err_rule", checkpoint=where, problem=t(f"maps.rule_problem.{problem}", lang, **kw),
              rule=t(f"maps.rule.{rule}", lang))

    if spec.direction == "up" and target < base - _EPS:
        refuse("below_baseline", "below_baseline", target=_num(target), baseline=_num(base))
    if spec.whole and not float(target).is_integer():
        refuse("whole", "whole", target=_num(target), kpi=a["kpi"])
    cap = a.get("growth")
    if a.get("template_growth") is not None and cap is not None and cap < a["template_growth"] - _EPS:
        limit = base * (1.0 + float(cap))
        if target > limit + max(_EPS, abs(limit) * 1e-9):
            refuse("tempered", "tempered", target=_num(target), limit=_num(limit),
                   growth=_pct(cap), template=_pct(a["template_growth"]))
    if spec.cumulative and spec.source == "computed":
        same = sorted((x for x in m["activities"] if x["key"] == a["key"] and x is not a and x["kpi"]),
                      key=lambda x: x["deadline"])
        dl = a["deadline"]
        for x in same:
            if x["deadline"] < dl and float(x["target"]) > target + _EPS:
                refuse("cumulative", "cumulative_before", target=_num(target), other=_num(x["target"]),
                       month=x["deadline"])
            if x["deadline"] > dl and float(x["target"]) < target - _EPS:
                refuse("cumulative", "cumulative_after", target=_num(target), other=_num(x["target"]),
                       month=x["deadline"])
    event = a.get("event_month")
    if event and (a["deadline"] or a["month"]) >= event:
        refuse("before_event", "before_event", deadline=a["deadline"] or a["month"], event=event)


def _num(x: float) -> str:
    return f"{float(x):,.2f}".rstrip("0").rstrip(".").replace(",", "\u00a0")


def _pct(x: float) -> str:
    return f"{float(x) * 100:+.1f} %".replace(".0 %", " %")

