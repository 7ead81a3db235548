"""The planning calendar: the months of the plan, when items fall, seasonal flags and events,
moving activities out of holiday months and the activities the calendar brings.

* **Plan start**: ``maps.start_month`` when set; otherwise the first *full* month after the
  report is produced, and never before the month after the reporting month. A month that
  has already begun is not a planning month: October's report produced on 30 November
  starts the plan in December, so its first checkpoints are not due on delivery.
* **Moving out of holidays / low months**: sales and marketing activities move to the next
  month that is not one; warm-ups, awareness campaigns and invitations prepare an event and
  move *earlier*, never later (never into the event's month); when that month already holds
  the same activity the two merge.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from workbench.i18n import t
from workbench.maps.common import _CAL_KPI, SHIFT_KINDS, SHIFT_TRACKS, _add_months, _Context, _slug, _text

PREPARING = ("cal-warmup-", "cal-awareness-", "cal-invite-")   # keys of items that prepare an event


def plan_months(settings: Mapping[str, Any], report_month: str) -> list[str]:
    """The months of the planning year, ``'YYYY-MM'``.

    ``settings['start_month']`` ('' = the month after ``report_month``), ``settings['months']`` long.
    """
    start = settings.get("start_month") or _add_months(report_month, 1)
    return [_add_months(start, i) for i in range(int(settings.get("months", 12)))]


def default_plan_start(report_month: str, produced: _dt.date | str) -> str:
    """The first month of the plan when ``maps.start_month`` is empty.

    The first full month after ``produced`` (the day the report is produced; a month that has
    begun, even on its first day, is not a planning month), and never before the month after
    ``report_month``.

    >>> default_plan_start("2026-10", "2026-11-30")
    '2026-12'
    >>> default_plan_start("2026-10", "2026-10-31")
    '2026-11'
    """
    after_report = pd.Period(report_month, "M") + 1
    first_full = pd.Period(pd.Timestamp(produced), "M") + 1
    return str(max(after_report, first_full))


def month_flags(cals: Sequence[Mapping[str, Any]], months: list[str],
                events: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """``{month: [{kind, name}]}``: the seasonal kinds and events of each plan month."""
    flags: dict[str, list[dict[str, str]]] = {m: [] for m in months}
    for cal in cals:
        for sea in cal.get("seasonal", []):
            for m in months:
                if int(m[5:]) == sea["month"] and sea["kind"] not in [f["kind"] for f in flags[m]]:
                    flags[m].append({"kind": sea["kind"], "name": ""})
    for ev in events:
        if ev["month"] in flags:
            flags[ev["month"]].append({"kind": ev["kind"], "name": ev["name"]})
    return flags


def season_factor(flags: Sequence[Mapping[str, str]], factors: Mapping[str, float]) -> tuple[str, float]:
    """The seasonal kind of a month (peak, holidays, low; "" for none) and its factor
    (the product when a month is more than one, e.g. December: holidays and peak)."""
    kinds = [f["kind"] for f in flags if f["kind"] in factors]
    factor = 1.0
    for k in kinds:
        factor *= float(factors[k])
    return (kinds[0] if len(kinds) == 1 else "+".join(kinds)), factor


def place_items(raw: list[dict[str, Any]], months: list[str], flags: Mapping[str, list[dict[str, str]]],
                notes: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Move sales and marketing activities out of holidays / low months (see the module
    docstring); return the placed items (each with ``shifted_from``), notes appended."""
    def blocked(m: str) -> bool:
        return any(f["kind"] in SHIFT_KINDS for f in flags.get(m, []))

    placed: list[dict[str, Any]] = []
    taken = {(r["key"], r["month"]) for r in raw}
    for r in raw:
        r = dict(r, shifted_from="")
        if not (r["section"] == "activity" and r["track"] in SHIFT_TRACKS and blocked(r["month"])):
            placed.append(r)
            continue
        i = months.index(r["month"])
        earlier = r["key"].startswith(PREPARING)
        options = months[:i][::-1] if earlier else months[i + 1:]
        free = [m for m in options if not blocked(m)]
        to = next((m for m in free if (r["key"], m) not in taken), None)
        if to is None and free:
            notes.append({"code": "merged", "month": r["month"], "to": free[0], "activity": r["activity"]})
            continue
        if to is None:
            notes.append({"code": "not_shifted", "month": r["month"], "to": "", "activity": r["activity"]})
        else:
            notes.append({"code": "shifted_earlier" if earlier else "shifted", "month": r["month"], "to": to,
                          "activity": r["activity"]})
            taken.add((r["key"], to))
            r["shifted_from"], r["month"] = r["month"], to
        placed.append(r)
    return placed



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


def _calendar_items(tpl: dict[str, Any], months: list[str], flags: dict[str, list[dict[str, str]]],
                    events: list[dict[str, Any]], ctx: _Context,
                    notes: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Activities and checkpoints the calendar brings: budget offers, warm-ups, ROMI, ..."""
    lang, s = ctx.lang, ctx.settings
    targets = tpl["calendar_targets"]
    owner = tpl["owner"]
    out: list[dict[str, Any]] = []

    def add(key: str, month: str, track: str, role: str, text: str, target: str, section: str = "activity",
            event_in_plan: bool = True, event_month: str = "") -> None:
        if month not in months:
            if event_in_plan:
                notes.append({"code": "outside", "month": month, "to": "", "activity": text})
            return
        out.append({"key": key, "month": month, "track": track, "owner": role, "activity": text,
                    "kpi": _CAL_KPI[target], "target_spec": targets[target], "section": section,
                    "origin": "calendar", "value_index": 0,
                    "event_month": event_month if key.startswith(PREPARING) else ""})

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
                t("maps.gen_warmup", lang, name=name), "warmup", event_in_plan=inside, event_month=m)
            add(f"cal-release-{slug}", m, "product", "presale", t("maps.gen_release", lang, name=name),
                "release_sales", event_in_plan=inside)
            add(f"cal-romi-{slug}", _add_months(m, lag), "marketing", "marketing",
                t("maps.gen_romi", lang, name=name), "romi", section="checkpoint", event_in_plan=inside)
        elif ev["kind"] == "law":
            lag = int(s["romi_lag_months"].get("law", 4))
            for k in range(lead, 0, -1):
                add(f"cal-awareness-{slug}", _add_months(m, -k), "marketing", "marketing",
                    t("maps.gen_awareness", lang, name=name), "awareness", event_in_plan=inside,
                    event_month=m)
            add(f"cal-law-{slug}", m, "sales", owner, t("maps.gen_law_sales", lang, name=name), "law_sales",
                event_in_plan=inside)
            add(f"cal-romi-{slug}", _add_months(m, lag), "marketing", "marketing",
                t("maps.gen_romi", lang, name=name), "romi", section="checkpoint", event_in_plan=inside)
        elif ev["kind"] == "conference":
            add(f"cal-invite-{slug}", _add_months(m, -max(lead, 1)), "marketing", "marketing",
                t("maps.gen_invite", lang, name=name), "invite", event_in_plan=inside,
                event_month=m)
            add(f"cal-conf-{slug}", m, "marketing", "marketing", t("maps.gen_conference", lang, name=name),
                "event", section="checkpoint", event_in_plan=inside)
    return out

