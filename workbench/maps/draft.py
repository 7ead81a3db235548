"""Drafting the maps: membership, one map per group template, an individual map per key
account with individual content, the key-account dossiers and contact checks, the tidy
checkpoints table.

Membership: a customer is in at most one *group* map (templates claim customers by
``priority``). A customer with ``segments.map == 'individual'`` stays in its group map and
gets an individual map on top, holding only what its own data and the key-account duties
add (:mod:`workbench.maps.individual`); without individual content it gets none.

Key accounts: with ``kam_max`` given, only those a KAM can carry (:mod:`workbench.maps.kam`)
get a dossier, the contact checks and an individual map; the rest are listed as waiting for
a KAM and follow their group map.
"""
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
from workbench.maps.contacts import ContactLog, committees, contact_rule_check, dossiers
from workbench.maps.individual import (
    COMMITTEE_SLOTS,
    customer_profiles,
    difference_rows,
    own_trend,
    rhythm_orders,
)
from workbench.maps.kam import kam_capacity
from workbench.maps.targets import _baseline, group_jump, make_target, rule_value, temper_growth
from workbench.maps.templates import _settings

# committee slots of a map template -> the role a contact log names
SLOT_ROLE = {"blockers": "blocker", "influencers": "influencer"}


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
    unmapped_other : number of customers, not lost, in no group map (none with the shipped
        group templates: a template left out of ``maps.group_templates`` leaves its customers out)
    lang : language of the texts
    profiles : customer_id -> the individual facts of each customer meant for an individual
        map (:func:`workbench.maps.individual.customer_profiles`)
    no_content : customer ids meant for an individual map whose data give no individual
        content (they follow their group map)
    key_accounts : customer ids of the key accounts (``segments.key_account``)
    kam_accounts : the key accounts a KAM carries in this plan (:mod:`workbench.maps.kam`): their
        dossiers, contact checks and individual maps are drafted
    waiting : key accounts waiting for a KAM (``workbench.maps.kam.WAITING_COLUMNS``): over
        ``kam_max`` per manager or without a manager; they follow their tier's group map
    kam_max : key accounts one manager carries (None: no limit was applied)
    contact_checks : the contact rules per carried key account and month
        (:data:`workbench.maps.contacts.CHECK_COLUMNS`); empty without a dated contact log
    dossiers : one dossier per carried key account (:func:`workbench.maps.contacts.dossiers`)
    contact_log : file name of the contact log ("" = none), its unmatched rows, and whether
        it has dates (the contact rules are checkable only then)
    produced : the day the report is produced, as given ("" = not given)
    workload : the team's load after :func:`workbench.maps.workload.plan_workload`, as plain data
        (None before; :func:`workbench.maps.workload.workload_of` gives the Workload)
    """

    maps: list[dict[str, Any]]
    checkpoints: pd.DataFrame
    candidates: pd.DataFrame
    months: list[str]
    report_month: str
    empty: list[str] = field(default_factory=list)
    unmapped_lost: int = 0
    unmapped_other: int = 0
    lang: str = "ru"
    template_names: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    no_content: list[str] = field(default_factory=list)
    key_accounts: list[str] = field(default_factory=list)
    kam_accounts: list[str] = field(default_factory=list)
    waiting: pd.DataFrame = field(default_factory=pd.DataFrame)
    kam_max: int | None = None
    contact_checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    dossiers: list[dict[str, Any]] = field(default_factory=list)
    contact_log: dict[str, Any] = field(default_factory=dict)
    produced: str = ""
    workload: Any = None

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
               jump_threshold: float = 0.30, contacts: ContactLog | None = None,
               window_months: int = 12, kam_max: int | None = None) -> MapsResult:
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
    contacts : the parsed contact log (:func:`workbench.maps.contacts.parse_activity_log`) or
        None: committees, the contact rules checked per key account and month, dossiers
    window_months : the segmentation's analysis window (cross-sell candidates)
    kam_max : key accounts one manager carries (``segmentation.key_accounts.kam_max``): dossiers,
        contact checks and individual maps only for those (:func:`workbench.maps.kam.kam_capacity`),
        the rest listed as waiting for a KAM. None: every key account is carried

    Returns
    -------
    MapsResult. Each map dict: id ('group:vip' | 'individual:<customer_id>'), kind,
    template, segment, customer_id, customer_name, manager, name, description, owner,
    new_one_off (members who are new customers with one order: onboarding), ranking and rank
    (:func:`member_ranking`),
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
    claimed = pd.Series(False, index=seg.index)
    ctx = _Context(ledger=ledger, report_month=month, months=months, settings=s, lang=lang, segments=seg,
                   jump_threshold=float(jump_threshold))

    group_codes = list(s["group_templates"] or [])
    order = sorted(range(len(group_codes)), key=lambda i: (templates[group_codes[i]]["priority"], i))
    members_by_code: dict[str, list[str]] = {}
    for i in order:
        code = group_codes[i]
        tpl = templates[code]
        mask = _filter_mask(seg, tpl["members"], default=True)
        if tpl["exclude"]:
            mask &= ~_filter_mask(seg, tpl["exclude"], default=False)
        mask &= ~claimed
        members_by_code[code] = ids[mask].tolist()
        claimed |= mask

    maps: list[dict[str, Any]] = []
    empty: list[str] = []
    group_of: dict[str, str] = {}
    for code in group_codes:
        members = members_by_code[code]
        if not members:
            empty.append(code)
            continue
        maps.append(_draft_one(templates[code], members, ctx, customer=None))
        group_of.update({cid: maps[-1]["id"] for cid in members})

    key_accounts = ids[(seg[C.KEY_ACCOUNT].astype("boolean").fillna(False)).to_numpy(dtype=bool)].tolist() \
        if C.KEY_ACCOUNT in seg.columns else []
    carried, waiting = kam_capacity(seg, kam_max)
    if kam_max is not None:   # an individual map needs a KAM to carry it
        is_indiv &= ids.isin(carried).fillna(False)
    log = contacts.log if contacts is not None else None
    people = committees(log, ids.tolist()) if log is not None else None
    rows = seg[is_indiv.to_numpy(dtype=bool)]
    if C.REVENUE in rows.columns:
        rows = rows.sort_values(C.REVENUE, ascending=False, kind="stable")
    indiv_ids = rows[C.CUSTOMER_ID].astype("string").tolist()
    profiles = customer_profiles(seg, ledger, indiv_ids, month, window_months, people, float(jump_threshold))
    no_content: list[str] = []
    indiv_code = s["individual_template"]
    if indiv_code:
        by_id = {m["id"]: m for m in maps}
        for rec in rows.to_dict("records"):
            cid = str(rec[C.CUSTOMER_ID])
            profile = profiles.get(cid)
            if profile is None or not profile["content"]:
                no_content.append(cid)
                continue
            maps.append(draft_individual(templates[indiv_code], rec, profile, ctx,
                                         by_id.get(group_of.get(cid, ""))))

    lost = 0
    is_lost = pd.Series(False, index=seg.index)
    if C.LIFECYCLE in seg.columns:
        is_lost = (seg[C.LIFECYCLE].astype("string") == "lost").fillna(False)
        lost = int((is_lost & ~claimed).sum())
    checks = contact_rule_check(contacts, carried, month) if contacts is not None \
        else contact_rule_check(ContactLog(log=pd.DataFrame()), [], month)
    result = MapsResult(maps=maps, checkpoints=checkpoints_frame(maps, lang),
                        candidates=_candidates(seg), months=months, report_month=month,
                        empty=empty, unmapped_lost=lost, unmapped_other=int((~is_lost & ~claimed).sum()),
                        lang=lang,
                        template_names={c: _text(tpl["name"], lang) for c, tpl in templates.items()},
                        profiles=profiles, no_content=no_content, key_accounts=key_accounts,
                        kam_accounts=carried, waiting=waiting, kam_max=kam_max,
                        contact_checks=checks, dossiers=dossiers(seg, carried, months, contacts, lang),
                        contact_log={"file": contacts.file, "unmatched": contacts.unmatched, "dated": contacts.dated,
                                     "rows": len(contacts.log)} if contacts is not None else {},
                        produced=str(produced or ""))
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
               customer: Mapping[str, Any] | None, with_calendar: bool = True,
               extra: Sequence[dict[str, Any]] = (), jump: Any = "auto") -> dict[str, Any]:
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
            if KPIS[item["kpi"]].table == "deals":
                continue  # a funnel checkpoint: only engagements with a CRM deal export have it
            notes.append({"code": "no_data", "month": "", "to": "", "activity": _text(item["text"], lang),
                          "kpi": item["kpi"]})
            continue
        for idx, m in enumerate(_resolve_when(item["when"], months, events)):
            raw.append({"key": item["id"], "month": m, "track": item["track"], "owner": item["owner"],
                        "activity": _text(item["text"], lang), "kpi": item["kpi"] or "",
                        "target_spec": item["target"], "section": item["section"], "origin": "template",
                        "value_index": idx})
    if with_calendar:
        raw.extend(_calendar_items(tpl, months, flags, events, ctx, notes))
    raw.extend(dict(x) for x in extra)
    placed = place_items(raw, months, flags, notes)

    if jump == "auto":
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
    ranking = member_ranking(ctx.segments, members, tpl.get("rank")) \
        if customer is None and ctx.segments is not None else []
    # new customers with one order (segmentation: onboarding, typical rather than ballast)
    onboarding = 0
    if customer is None and ctx.segments is not None and "new_one_off" in ctx.segments.columns:
        seg = ctx.segments
        onboarding = int((seg["new_one_off"].astype("boolean").fillna(False)
                          & seg[C.CUSTOMER_ID].astype("string").isin(list(members)).fillna(False)).sum())
    return {
        "id": map_id, "kind": kind, "template": tpl["code"], "segment": segment, "customer_id": cid,
        "customer_name": cname, "manager": manager, "name": name, "ranking": ranking, "new_one_off": onboarding,
        "rank": dict(tpl.get("rank") or {}),
        "description": _text(tpl["description"], lang), "owner": tpl["owner"], "members": list(members),
        "committee": [{"role": r, "label": label("committee", r, lang), "name": "", "note": ""}
                      for r in tpl["committee"]] if kind == "individual" else [],
        "months": list(months), "flags": flags, "activities": activities, "notes": notes,
        "jump": jump,
    }


def member_ranking(segments: pd.DataFrame, members: Sequence[str], rank: Mapping[str, str] | None
                   ) -> list[dict[str, Any]]:
    """A group map's members in the order to work them (template key ``rank``): those flagged
    ``rank.first`` (e.g. near_lost: silent close to the lost line) first, then by ``rank.by``
    (e.g. wake_value: what can realistically come back per month) desc, then customer_id.
    Each: customer_id, customer_name, manager, value, first (bool), recency_days, days_to_lost
    (None where the segmentation has no such column). Empty without ``rank`` or its column."""
    if not rank or rank.get("by") not in segments.columns:
        return []
    seg = segments[segments[C.CUSTOMER_ID].astype("string").isin(list(members)).to_numpy(dtype=bool)]

    def col(name: str, default: Any) -> pd.Series:
        return seg[name] if name in seg.columns else pd.Series(default, index=seg.index)

    first = col(rank.get("first") or "_none", False).astype("boolean").fillna(False).astype(bool)
    frame = pd.DataFrame({
        "customer_id": seg[C.CUSTOMER_ID].astype(str), "customer_name": col(C.CUSTOMER_NAME, "").astype("string")
        .fillna("").astype(str), "manager": col(C.MANAGER, "").astype("string").fillna("").astype(str),
        "value": pd.to_numeric(seg[rank["by"]], errors="coerce").fillna(0.0).astype(float), "first": first,
        "recency_days": pd.to_numeric(col("recency_days", None), errors="coerce"),
        "days_to_lost": pd.to_numeric(col("days_to_lost", None), errors="coerce"),
    }).sort_values(["first", "value", "customer_id"], ascending=[False, False, True], kind="stable")
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def draft_individual(tpl: dict[str, Any], customer: Mapping[str, Any], profile: Mapping[str, Any],
                     ctx: _Context, group: Mapping[str, Any] | None) -> dict[str, Any]:
    """One customer's individual map: the key-account template's duties (no calendar items:
    the group map's calendar reaches the customer already) and what its own data add.

    * the buying-committee checkpoint starts from the roles known in the contact log and is
      left out when all four slots are known;
    * growth is tempered toward the customer's own year-on-year trend when it was picked
      for a jump;
    * order rhythm: the orders its own rhythm gives by months 6 and 12 (never below the
      baseline), and a call in the first month when an order was due by the end of the
      reporting month and has not come;
    * cross-sell: an offer of each candidate product, in months 2, 4 and 6.
    """
    lang, months = ctx.lang, ctx.months
    cid = profile["customer_id"]
    items = []
    slots = [r for r in COMMITTEE_SLOTS if r not in profile["missing_roles"]]
    for item in tpl["items"]:
        if item["kpi"] == "known_roles" and profile["committee"]:
            if not profile["missing_roles"]:
                continue  # the four roles are known: nothing to find
            known = float(len(slots))
            steps = [min(known + k, float(len(COMMITTEE_SLOTS))) for k in (1, 2, 3)]
            item = dict(item, target={"rule": "absolute", "value": steps, "baseline": known, "min": None},
                        text={lg: t("maps.ind_roles", lg, missing=", ".join(
                            label("committee_role", r, lg) for r in profile["missing_roles"]))
                            for lg in LANGUAGES})
        items.append(item)
    tpl = dict(tpl, items=items)
    extra: list[dict[str, Any]] = []
    owner = tpl["owner"]

    def add(key: str, month_index: int, kpi: str, text: str, spec: dict[str, Any], section: str = "checkpoint",
            track: str = "sales", index: int = 0) -> None:
        if month_index < len(months):
            extra.append({"key": key, "month": months[month_index], "track": track, "owner": owner,
                          "activity": text, "kpi": kpi, "target_spec": spec, "section": section,
                          "origin": "individual", "value_index": index})

    gap = profile.get("gap_days")
    if gap:
        text = t("maps.ind_rhythm", lang, days=f"{float(gap):.0f}")
        for index, at in enumerate((6, 12)):
            expected = rhythm_orders(profile["last_purchase"], float(gap), months[0],
                                     months[min(at, len(months)) - 1])
            add("rhythm", min(at, len(months)) - 1, "orders", text,
                {"rule": "absolute", "value": [float(expected)], "baseline": 0.0, "min": None}, index=index)
        due = profile.get("next_due")
        if due is not None and pd.Period(due, "M") <= pd.Period(ctx.report_month, "M"):  # overdue by the data's end
            add("overdue", 0, "calls_made", t("maps.ind_overdue", lang, date=pd.Timestamp(due).strftime("%d.%m.%Y")),
                {"rule": "absolute", "value": [1.0], "baseline": 0.0, "min": None}, section="activity")
    for i, offer in enumerate(profile.get("cross_sell") or []):
        add(f"cross-sell-{i + 1}", 1 + 2 * i, "offer_accepted",
            t("maps.ind_cross_sell", lang, product=offer["product"], share=f"{offer['peer_share'] * 100:.0f}"),
            {"rule": "absolute", "value": [1.0], "baseline": 0.0, "min": None}, section="activity")
    jump = None
    if profile.get("jump"):
        lines = member_lines(ctx.ledger, [cid])
        jump = {"share": 1.0, "recent": profile.get("trend"), "long": own_trend(lines, ctx.report_month)}
    m = _draft_one(tpl, [cid], ctx, customer=customer, with_calendar=False, extra=extra, jump=jump)
    m["profile"] = dict(profile)
    m["group_map"] = group["id"] if group else ""
    m["difference"] = difference_rows(m, group)
    if profile["committee"]:
        named = {p["role"]: p for p in profile["committee"] if p["role"]}
        filled = []
        for slot in m["committee"]:
            person = named.get(SLOT_ROLE.get(slot["role"], slot["role"]))
            filled.append(dict(slot, name=person["contact"], note=person["position"]) if person else slot)
        shown = {SLOT_ROLE.get(x["role"], x["role"]) for x in m["committee"]}
        filled += [{"role": p["role"], "label": label("committee_role", p["role"], lang) if p["role"] else "",
                    "name": p["contact"], "note": p["position"]}
                   for p in profile["committee"] if p["role"] not in shown]
        m["committee"] = filled
    return m


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

