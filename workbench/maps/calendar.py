"""The planning calendar: the months of the plan, when items fall, seasonal flags and events,
moving activities out of holiday months and the activities the calendar brings."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.i18n import t
from workbench.maps.common import _CAL_KPI, _add_months, _Context, _slug, _text


def plan_months(settings: Mapping[str, Any], report_month: str) -> list[str]:
    """The months of the planning year, ``'YYYY-MM'``.

    ``settings['start_month']`` ('' = the month after ``report_month``), ``settings['months']`` long.
    """
    start = settings.get("start_month") or _add_months(report_month, 1)
    return [_add_months(start, i) for i in range(int(settings.get("months", 12)))]



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


# --- targets -------------------------------------------------------------------------


def _calendar_items(tpl: dict[str, Any], months: list[str], flags: dict[str, list[dict[str, str]]],
                    events: list[dict[str, Any]], ctx: _Context,
                    notes: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Activities and checkpoints the calendar brings: budget offers, warm-ups, ROMI, ..."""
    lang, s = ctx.lang, ctx.settings
    targets = tpl["calendar_targets"]
    owner = tpl["owner"]
    out: list[dict[str, Any]] = []

    def add(key: str, month: str, track: str, role: str, text: str, target: str, section: str = "activity",
            event_in_plan: bool = True) -> None:
        if month not in months:
            if event_in_plan:
                notes.append({"code": "outside", "month": month, "to": "", "activity": text})
            return
        out.append({"key": key, "month": month, "track": track, "owner": role, "activity": text,
                    "kpi": _CAL_KPI[target], "target_spec": targets[target], "section": section,
                    "origin": "calendar", "value_index": 0})

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
                t("maps.gen_warmup", lang, name=name), "warmup", event_in_plan=inside)
            add(f"cal-release-{slug}", m, "product", "presale", t("maps.gen_release", lang, name=name),
                "release_sales", event_in_plan=inside)
            add(f"cal-romi-{slug}", _add_months(m, lag), "marketing", "marketing",
                t("maps.gen_romi", lang, name=name), "romi", section="checkpoint", event_in_plan=inside)
        elif ev["kind"] == "law":
            lag = int(s["romi_lag_months"].get("law", 4))
            for k in range(lead, 0, -1):
                add(f"cal-awareness-{slug}", _add_months(m, -k), "marketing", "marketing",
                    t("maps.gen_awareness", lang, name=name), "awareness", event_in_plan=inside)
            add(f"cal-law-{slug}", m, "sales", owner, t("maps.gen_law_sales", lang, name=name), "law_sales",
                event_in_plan=inside)
            add(f"cal-romi-{slug}", _add_months(m, lag), "marketing", "marketing",
                t("maps.gen_romi", lang, name=name), "romi", section="checkpoint", event_in_plan=inside)
        elif ev["kind"] == "conference":
            add(f"cal-invite-{slug}", _add_months(m, -max(lead, 1)), "marketing", "marketing",
                t("maps.gen_invite", lang, name=name), "invite", event_in_plan=inside)
            add(f"cal-conf-{slug}", m, "marketing", "marketing", t("maps.gen_conference", lang, name=name),
                "event", section="checkpoint", event_in_plan=inside)
    return out

