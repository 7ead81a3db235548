"""The segmentation's findings for the executive summary.

Each finding is a dict: step, severity ('risk' | 'warn' | 'info' | 'ok'), headline, number
(formatted text), action, weight (bigger = more important), and where it means something
at_stake (money in the engagement's currency, per year), owner (a sales role code:
director, kam, farmer, hunter, marketing), due (ISO date to act by), audience
('management', or 'consultant' for notes that stay out of the client's summary) and lead
(True: the finding opens the summary; only the revenue bridge).

A verdict that changes when new or lost customers are counted differently is never a
management headline: the tier mix carries its own check (``tier_mix.robust``), the
concentration and KAM verdicts theirs (``res.robust``); such findings go to the
consultant.
"""
from __future__ import annotations

import datetime as _dt

from typing import Any

import numpy as np
import pandas as pd

from workbench.i18n import t
from workbench.report import fmt
from workbench.report.segment_charts import money_short
from workbench.segment import SegmentationResult, count_of

BRIDGE_RISK = -0.05   # revenue down 5 % or more (as shown): the bridge is a risk, not a warning


def _month_end(month: str, months_ahead: int = 0) -> pd.Timestamp:
    return (pd.Period(month, "M") + months_ahead).to_timestamp(how="end").normalize()


def segment_findings(res: SegmentationResult, lang: str = "ru", currency: str = "RUB",
                     produced: _dt.date | None = None) -> list[dict[str, Any]]:
    """Findings for the executive summary, most important first (see the module docstring).

    produced: the day the report is produced; no finding falls due before it (the sleeping
    customers' date, the day the first of them counts as lost, may already have passed when
    the month is reported weeks after its end: then they are due at once).
    """
    out: list[dict[str, Any]] = []
    c, k, counts = res.customers, res.concentration, res.counts
    money = lambda v: fmt.money(v, lang, currency)
    pct = lambda v: fmt.pct(v, lang)
    next_month_end = _month_end(res.month, 1).date().isoformat()

    def add(severity: str, code: str, number: str, weight: float, *, action: str = "", audience: str = "management",
            owner: str = "", at_stake: float | None = None, due: str = "", lead: bool = False, **kw: Any) -> None:
        f: dict[str, Any] = {"severity": severity, "headline": t(f"segment.f_{code}_headline", lang, **kw),
                             "number": number, "action": action or t(f"segment.f_{code}_action", lang),
                             "weight": float(weight), "audience": audience, "kind": code}
        if owner:
            f["owner"] = owner
        if at_stake is not None and np.isfinite(at_stake):
            f["at_stake"] = float(at_stake)
        if due:
            f["due"] = due
        if lead:
            f["lead"] = True
        out.append(f)

    if not len(c):
        return out

    # 1. The revenue bridge opens the summary.
    b = res.bridge
    change = dict(zip(b["groups"]["group"], b["groups"]["change"]))
    shown = round(float(b["change_share"]) * 1000) / 1000 if np.isfinite(b["change_share"]) else 0.0
    months = res.thresholds["window_months"]
    top = b["top"]
    top_text = ""
    if len(top):
        first = top.iloc[0]
        delta = pct(first["change_share"]) if np.isfinite(first["change_share"]) else money(first["change"])
        top_text = t("segment.f_bridge_top", lang, name=first["customer_name"], change=delta)
    short = lambda v, signed=True: money_short(v, lang, currency, signed)
    action = t("segment.f_bridge_action", lang, lost=short(change["lost"]), shrunk=short(change["shrunk"]),
               gained=short(change["new"] + change["returned"]), top=top_text)
    losses = -(change["lost"] + change["shrunk"])
    kind = ("bridge_first" if b["prev"] <= 0 else "bridge_down" if b["change"] < 0 else
            "bridge_up" if b["change"] > 0 else "bridge_flat")
    severity = "risk" if shown <= BRIDGE_RISK + 1e-12 else ("warn" if shown < 0 else "ok")
    add(severity, kind, short(b["change"]), 1000, action=action, owner="director", at_stake=losses,
        due=next_month_end, lead=True, months=months, pct=fmt.pct(abs(b["change_share"]), lang)
        if np.isfinite(b["change_share"]) else "", prev=short(b["prev"], False), now=short(b["now"], False))

    # 2. Concentration: the strongest verdict that holds.
    robust = res.robust
    value = t(f"segment.value_gen_short.{res.totals['grade_basis']}", lang)
    if k["mono_client"]:
        add("risk", "mono", pct(k["mono_share"]), 200 + 100 * k["mono_share"], owner="director",
            audience="management" if robust.get("mono_client", True) else "consultant", value=value)
    else:
        for n, weight in ((1, 90), (5, 70), (10, 60)):
            if k[f"top{n}_high"]:
                add("warn", f"top{n}", pct(k[f"top{n}_share"]), weight + 40 * k[f"top{n}_share"], owner="director",
                    audience="management" if robust.get(f"top{n}_high", True) else "consultant",
                    share=pct(k[f"top{n}_share"]))
                break

    # 3. The tier mix: robust verdicts only; the others are a note for the consultant.
    mix = res.tier_mix.set_index("tier")
    problems = [("vip", "above", "vip", 70), ("ballast", "above", "ballast", 50), ("strategic", "below", "strategic", 45),
                ("strategic", "above", "strategic_above", 40)]
    mix_problem = False
    unsure = []
    for tier, status, key, weight in problems:
        if mix.loc[tier, "status"] != status:
            continue
        if not bool(mix.loc[tier, "robust"]):
            unsure.append(tier)
            continue
        mix_problem = True
        owner = {"vip": "director", "ballast": "marketing", "strategic": "director",
                 "strategic_above": "director"}[key]
        add("warn", key, pct(mix.loc[tier, "share"]), weight + 50 * float(mix.loc[tier, "share"]), owner=owner)
    for tier in ("vip", "strategic", "typical", "ballast"):   # an "ok" that flips is no verdict either
        if not bool(mix.loc[tier, "robust"]) and tier not in unsure:
            unsure.append(tier)
    if unsure:
        names = t("segment.tier_one", lang)
        add("info", "mix_unsure", "", 20, audience="consultant", tiers=", ".join(names[x] for x in unsure))

    # 4. Sleeping customers worth waking.
    sleeping = res.lists["sleeping_to_wake"]
    if len(sleeping):
        monthly = float(sleeping["wake_value"].clip(lower=0).sum())
        near = sleeping[sleeping["near_lost"]]
        due = ""
        if len(near):
            first_lost = (_month_end(res.month) + pd.Timedelta(days=int(near["days_to_lost"].min()))).date()
            due = max(first_lost, produced or first_lost).isoformat()
        add("warn", "sleeping", t("segment.f_sleeping_number", lang, money=money(monthly)),
            40 + min(40.0, 100 * len(sleeping) / max(len(c), 1)), owner="farmer", at_stake=12 * monthly, due=due,
            count=fmt.number(count_of(counts, "sleeping"), lang), near=fmt.number(count_of(counts, "near_lost"), lang))

    # 5. Key accounts and the KAM load.
    key_n = count_of(counts, "key_accounts")
    if key_n:
        ka = c[c["key_account"]]
        share = float(ka["ka_value_share"].clip(lower=0).sum())
        kam_args = {"key": fmt.number(key_n, lang), "managers": fmt.number(count_of(counts, "kam.managers"), lang),
                    "short": fmt.number(count_of(counts, "kam.kam_shortfall"), lang),
                    "managers_over": fmt.number(count_of(counts, "kam.managers_over"), lang),
                    "kam_max": res.thresholds["key_accounts.kam_max"]}
        audience = "management" if robust.get("kam_short", True) else "consultant"
        if count_of(counts, "kam.kam_shortfall"):
            add("warn", "kam", fmt.number(count_of(counts, "kam.kams_needed"), lang), 35, action=t(
                "segment.f_kam_action", lang), owner="director", audience=audience, **kam_args)
        elif count_of(counts, "kam.managers_over"):
            add("warn", "kam_over", fmt.number(count_of(counts, "kam.over_limit"), lang), 33,
                action=t("segment.f_kam_action", lang), owner="director", audience=audience, **kam_args)
        add("info", "ka", pct(share), 30, owner="kam", count=fmt.number(key_n, lang), share=pct(share),
            value=t(f"segment.value_name.{res.totals['grade_basis']}", lang))

    # 6. State customers among the key accounts: tenders, not calls, decide their purchases.
    if count_of(counts, "key_state"):
        pos = float(c.loc[c["revenue"] > 0, "revenue"].sum())
        share = float(c.loc[c["state_customer"] & (c["revenue"] > 0), "revenue"].sum()) / pos if pos > 0 else 0.0
        add("info", "state", pct(share), 25, owner="kam", count=fmt.number(count_of(counts, "state"), lang),
            share=pct(share), key=fmt.number(count_of(counts, "key_state"), lang))

    # 7. Housekeeping for the consultant: an XYZ rule that separates little.
    if len(res.xyz_dominance):
        add("info", "xyz", "", 15, audience="consultant", rows=", ".join(res.xyz_dominance["abc"]))

    if not mix_problem and not unsure and (mix["status"] == "ok").all():
        add("ok", "ok", "", 10)
    return sorted(out, key=lambda f: -f["weight"])
