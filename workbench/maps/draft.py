"""Drafting the maps: membership, one map per group template and per key account, the tidy
checkpoints table."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.errors import ConfigError
from workbench.i18n import LANGUAGES, t
from workbench.kpis import KPIS, has_data, member_lines
from workbench.maps.calendar import _calendar_items, _events, _resolve_when, plan_months
from workbench.maps.common import (
    OVERRIDES_FILE,
    SHIFT_KINDS,
    SHIFT_TRACKS,
    TRACKS,
    _Context,
    _is_month,
    _show,
    _text,
    label,
)
from workbench.maps.targets import _baseline, compute_target
from workbench.maps.templates import _settings


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
        from workbench.maps.overrides import apply_overrides

        result = apply_overrides(result, overrides, lang=lang, source=overrides_source, ledger=ledger)
    return result


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

