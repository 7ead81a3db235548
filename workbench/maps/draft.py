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
from workbench.maps.calendar import (
    _calendar_items,
    _events,
    _resolve_when,
    default_plan_start,
    month_flags,
    place_items,
    plan_months,
    season_factor,
)
from workbench.maps.common import (
    OVERRIDES_FILE,
    TRACKS,
    _Context,
    _is_month,
    _show,
    _text,
    label,
)
from workbench.maps.targets import _baseline, group_jump, make_target, rule_value, temper_growth
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
               overrides_source: str = OVERRIDES_FILE, produced: Any = None,
               jump_threshold: float = 0.30) -> MapsResult:
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
    produced : the day the report is produced (date or ISO text); with an empty
        ``start_month`` the plan starts in the first full month after it
        (:func:`workbench.maps.calendar.default_plan_start`). None: the month after ``month``
    jump_threshold : half-year trend at which a customer counts as picked for a jump
        (``segmentation.tiers.prospect_trend``); growth targets of groups made mostly of
        such customers are tempered (:mod:`workbench.maps.targets`)

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
    if not s["start_month"] and produced is not None:
        s["start_month"] = default_plan_start(month, produced)
    months = plan_months(s, month)
    seg = segments
    ids = seg[C.CUSTOMER_ID].astype("string")
    is_indiv = (seg[C.MAP].astype("string") == "individual").fillna(False) if C.MAP in seg.columns \
        else pd.Series(False, index=seg.index)
    claimed = pd.Series(is_indiv.to_numpy(dtype=bool), index=seg.index)
    ctx = _Context(ledger=ledger, report_month=month, months=months, settings=s, lang=lang, segments=seg,
                   jump_threshold=float(jump_threshold))

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
    flags = month_flags(cals, months, events)
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
    placed = place_items(raw, months, flags, notes)

    jump = None
    if customer is None and ctx.segments is not None:
        jump = group_jump(ctx.segments, members, lines, ctx.report_month, ctx.jump_threshold)
    factors = ctx.settings["seasonal_factors"]
    activities = []
    for r in placed:
        spec = r.pop("target_spec")
        kpi = r["kpi"]
        row = dict(r, deadline="", kpi_name="", unit="", baseline=None, target=None, kpi_source="",
                   target_exact=None, rounding="", growth=None, labels=[])
        if kpi:
            unit = KPIS[kpi].unit
            base, base_labels = _baseline(kpi, spec, members, r["month"], ctx, lines)
            growth = None
            if jump is not None and spec["rule"] == "growth" and KPIS[kpi].source == "computed":
                growth = temper_growth(rule_value(spec, r["value_index"]), jump["long"])
            season, factor = season_factor(flags.get(r["month"], []), factors)
            window = tuple(f["kind"] for m in months[:months.index(r["month"]) + 1] for f in flags.get(m, []))
            tgt = make_target(spec, base, n, r["value_index"], kpi, growth=growth, season=season,
                              season_factor=factor, window_flags=window)
            row.update(deadline=r["month"], kpi_name=label("kpi", kpi, lang), unit=unit, baseline=base,
                       target=tgt.value, kpi_source=KPIS[kpi].source, target_exact=tgt.exact,
                       rounding=tgt.rounding, growth=tgt.growth, labels=list(base_labels + tgt.labels),
                       season_factor=factor if set(tgt.labels) & {"peak", "holidays", "low"} else None,
                       template_growth=rule_value(spec, r["value_index"]) if spec["rule"] == "growth" else None)
            if spec["rule"] == "growth" and base == 0 and tgt.value == 0:
                notes.append({"code": "zero_baseline", "month": r["month"], "to": "", "activity": r["activity"],
                              "kpi": kpi})
        activities.append(row)
    activities.sort(key=lambda a: (a["month"], TRACKS.index(a["track"]), a["key"]))
    if jump is not None and any("tempered" in a["labels"] for a in activities):
        notes.append({"code": "tempered", "month": "", "to": "", "activity": "",
                      "share": jump["share"], "recent": jump["recent"], "long": jump["long"]})

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
        "jump": jump,
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

