"""Key accounts in the report: individual maps as a difference from the group map, the
contact rules (checked against the contact log, or stated as rules), and the dossiers.

Render only; every client string (names, products, contacts) is escaped by
``workbench.report.html`` or written as a text cell by ``workbench.report.xlsx``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.styles import Font

from workbench import columns as C
from workbench.i18n import t
from workbench.maps import MapsResult, label
from workbench.report import fmt
from workbench.report import html as H
from workbench.report.xlsx import BORDER, HEADER_FILL, HEADER_FONT, TITLE_FONT, WRAP, Book, set_value, style

CHECK_MONTHS = 3  # months of contact checks shown in the report (the workbook has them all)


def _value(v: Any, unit: str, lang: str, currency: str) -> str:
    from workbench.report.maps_report import _value as value

    return value(v, unit, lang, currency)


def _item_text(a: Mapping[str, Any], months: Sequence[str], lang: str, currency: str) -> str:
    """One checkpoint in a sentence: 'март 2027: 3 000 ₽ → 3 450 ₽ (+15 % к базе; ...)'."""
    from workbench.report.maps_report import target_basis

    when = fmt.month(a.get("deadline") or a["month"], lang, short=True)
    if not a.get("kpi"):
        return when
    basis = target_basis(a, list(months), lang, currency)
    text = (f"{when}: {_value(a['baseline'], a['unit'], lang, currency)} → "
            f"{_value(a['target'], a['unit'], lang, currency)}")
    return f"{text} ({basis})" if basis else text


def profile_lines(p: Mapping[str, Any], lang: str, currency: str) -> list[str]:
    """The customer's own facts, one line each (only those the data hold)."""
    def tr(key: str, **kw: Any) -> str:  # catalogue lines with plural forms
        return str(t(f"maps.profile.{key}", lang, **kw))

    out = [tr("revenue", revenue=fmt.money(p["revenue"], lang, currency))]
    if p.get("trend") is not None:
        sign = "+" if p["trend"] >= 0 else ""
        out.append(tr("trend", trend=sign + fmt.pct(p["trend"], lang, 0)))
    if p.get("gap_days"):
        out.append(tr("rhythm", orders=p["orders"], days=fmt.number(p["gap_days"], lang),
                      last=fmt.day(p["last_purchase"], lang), due=fmt.day(p["next_due"], lang)))
    if p.get("potential_share") is not None:
        out.append(tr("potential", potential=fmt.money(p["potential"], lang, currency),
                      share=fmt.pct(p["potential_share"], lang, 0)))
    if p.get("cross_sell"):
        products = ", ".join(f"«{x['product']}» ({fmt.pct(x['peer_share'], lang, 0)})" for x in p["cross_sell"])
        out.append(tr("cross_sell", products=products, peers=p["cross_sell"][0]["peers"]))
    if p.get("committee"):
        people = ", ".join(f"{label('committee_role', x['role'], lang) + ': ' if x['role'] else ''}{x['contact']}"
                           for x in p["committee"])
        out.append(tr("committee", people=people))
    roles = ", ".join(label("committee_role", r, lang) for r in p.get("missing_roles") or [])
    if roles:  # whom to find; the committee form itself is the dossier's, in the workbook
        out.append(tr("missing" if p.get("committee") else "committee_none", roles=roles))
    return out


def difference_frame(m: Mapping[str, Any], maps_result: MapsResult, lang: str, currency: str) -> pd.DataFrame:
    """The short difference table of an individual map: item, the group map's rule, this customer's."""
    group = next((g for g in maps_result.maps if g["id"] == m.get("group_map")), None)
    rows = []
    for d in m.get("difference", []):
        first = d["first"]
        mine = [a for a in m["activities"] if a["key"] == d["key"]]
        client = _item_text(first, m["months"], lang, currency) if first.get("kpi") else ""
        if len(mine) > 1:
            client += " " + t("maps.diff_more", lang, n=len(mine) - 1,
                              months=", ".join(fmt.month(a["month"], lang, short=True) for a in mine[1:]))
        grp = ""
        if d["group"] is not None and group is not None:
            grp = f"{d['group']['activity']}: {_item_text(d['group'], group['months'], lang, currency)}"
        rows.append({"what": first["activity"], "kind": t(f"maps.diff_kind.{d['kind']}", lang),
                     "group": grp or "—", "client": client})
    return pd.DataFrame(rows, columns=["what", "kind", "group", "client"])


def render_individual(m: Mapping[str, Any], maps_result: MapsResult, lang: str, currency: str) -> str:
    """The body of an individual map: the customer's facts (the buying committee known from the
    contact log and the roles to find among them), the difference from its group map. The
    committee form to fill in is the dossier's, in the workbook: the report holds no empty table."""
    p = m.get("profile") or {}
    group = next((g for g in maps_result.maps if g["id"] == m.get("group_map")), None)
    parts = [H.bullets(profile_lines(p, lang, currency))] if p else []
    note = t("maps.diff_intro", lang, group=group["name"] if group else "—")
    parts.append(f"<h4>{H.esc(t('maps.sec_difference', lang))}</h4>" + H.para(note, "wb-muted"))
    hd = {k: str(v) for k, v in t("maps.diff_headers", lang).items()}
    parts.append(H.table(difference_frame(m, maps_result, lang, currency), headers=hd))
    return "".join(parts)


def render_key_accounts(maps_result: MapsResult, lang: str, currency: str) -> str:
    """The key-account section: the three rules, checked against the contact log per account
    and month, or stated as rules without one; then the dossiers with their review dates."""
    res = maps_result
    if not res.key_accounts:
        return ""
    names = {d["customer_id"]: d["customer_name"] for d in res.dossiers}
    parts = [f"<p>{ka_intro(res, lang)}</p>", H.bullets([str(x) for x in t("maps.ka_rules", lang)])]
    log = res.contact_log or {}
    if log.get("dated") and len(res.contact_checks):
        checks = res.contact_checks
        shown_months = sorted(set(checks["month"]))[-CHECK_MONTHS:]
        view = checks[checks["month"].isin(shown_months)]
        yes, no = str(t("maps.ok_mark", lang)), str(t("maps.broken_mark", lang))
        frame = pd.DataFrame({
            "customer": [names.get(c, c) for c in view[C.CUSTOMER_ID]],
            "month": [fmt.month(x, lang, short=True) for x in view["month"]],
            "positive": view["positive"].astype(int).tolist(),
            "gap": view["longest_gap_days"].astype(int).tolist(),
            "gap_ok": [yes if ok else no for ok in view["gap_ok"]],
            "negative": view["negative"].astype(int).tolist(),
            "pause_ok": [yes if ok else no for ok in view["pause_ok"]],
        })
        parts.append(H.para(t("maps.ka_checked", lang, file=Path(str(log.get("file", ""))).name, rows=log.get("rows", 0),
                              unmatched=log.get("unmatched", 0))))
        # one row per account and month: collapsed, the finding in the summary says who broke a rule
        # one row per account and month: reference for the appendix; the summary's finding says
        # who broke a rule in the last month
        parts.append(H.appendix(f"<h4>{H.esc(t('maps.check_title', lang, n=view[C.CUSTOMER_ID].nunique(), months=len(shown_months)))}</h4>"
                                + H.table(frame, headers={k: str(v) for k, v in t("maps.check_headers", lang).items()},
                                          numeric=("positive", "gap", "negative"))))
    else:
        parts.append(H.callout(str(t("maps.ka_no_log", lang)), "info"))
    rows = []
    for d in res.dossiers:
        known = [c for c in d["committee"] if c.get("role")]
        rows.append({"customer": d["customer_name"], "manager": d["manager"],
                     "committee": ", ".join(f"{label('committee_role', c['role'], lang)}: {c['contact']}"
                                            for c in known) or "—",
                     "missing": ", ".join(label("committee_role", r, lang) for r in d["missing_roles"]),
                     "reviews": ", ".join(fmt.month(x, lang, short=True) for x in d["reviews"])})
    parts.append(H.para(t("maps.dossier_intro", lang), "wb-muted"))
    parts.append(H.appendix(f"<h4>{H.esc(t('maps.sec_dossiers', lang))}</h4>" + H.table(
        pd.DataFrame(rows, columns=["customer", "manager", "committee", "missing", "reviews"]),
        headers={k: str(v) for k, v in t("maps.dossier_headers", lang).items()})))
    if len(res.waiting):
        parts.append(H.para(t("maps.waiting_intro", lang, kam_max=res.kam_max), "wb-muted"))
        parts.append(H.appendix(f"<h4>{H.esc(t('maps.sec_waiting', lang))}</h4>" + H.table(
            waiting_frame(res, lang, currency), headers=dict(t("maps.waiting_headers", lang)), numeric=("revenue",))))
    return H.section("maps-key-accounts", str(t("maps.sec_key_accounts", lang)), "".join(parts), level=3)


def ka_intro(res: MapsResult, lang: str) -> str:
    """The section's first sentence (HTML): how many key accounts, how many a KAM carries in the
    plan and how many wait for one, the counts tagged for the reconciliation test."""
    counts = {"n": ("kam.key_accounts", fmt.number(len(res.key_accounts), lang))}
    if res.kam_max is None:
        return H.counted(lambda **x: str(t("maps.ka_intro", lang, **x)), counts)
    counts.update(carried=("kam.carried", fmt.number(len(res.kam_accounts), lang)),
                  waiting=("kam.over_limit", fmt.number(len(res.waiting), lang)))
    key = "maps.ka_intro_carried" if len(res.waiting) else "maps.ka_intro_all"
    return H.counted(lambda **x: str(t(key, lang, kam_max=res.kam_max, **x)), counts)


def waiting_frame(res: MapsResult, lang: str, currency: str) -> pd.DataFrame:
    """The key accounts waiting for a KAM as shown: customer, manager, tier, revenue, why they
    wait, whether an individual map is due once a KAM takes them, state customer."""
    w = res.waiting
    yes = str(t("maps.mark_yes", lang))
    from workbench.report.maps_report import _tier

    return pd.DataFrame({
        "customer": w[C.CUSTOMER_NAME].where(w[C.CUSTOMER_NAME] != "", w[C.CUSTOMER_ID]).astype(str).tolist(),
        "manager": w[C.MANAGER].replace("", "—").astype(str).tolist(),
        "tier": [_tier(x, lang) for x in w[C.TIER]],
        "revenue": [fmt.money(v, lang, currency) for v in w[C.REVENUE]],
        "reason": [str(t(f"maps.waiting_reason.{r}", lang, kam_max=res.kam_max)) for r in w["reason"]],
        "map": [yes if x else "" for x in w["deserves_map"]],
        "state": [yes if x else "" for x in w["state_customer"]],
    }, columns=["customer", "manager", "tier", "revenue", "reason", "map", "state"])


def add_waiting_sheet(book: Book, maps_result: MapsResult, lang: str = "ru", currency: str = "RUB") -> None:
    """The key accounts waiting for a KAM, one row each (nothing when none waits)."""
    if not len(maps_result.waiting):
        return
    frame = waiting_frame(maps_result, lang, currency).assign(revenue=maps_result.waiting[C.REVENUE].astype(float))
    book.add_table(str(t("maps.waiting_sheet", lang)), frame, kinds={"revenue": "money"},
                   title=str(t("maps.sec_waiting", lang)), headers=dict(t("maps.waiting_headers", lang)),
                   description=str(t("maps.waiting_intro", lang, kam_max=maps_result.kam_max)),
                   widths={"customer": 40, "reason": 40}, wrap=("reason",))


# --------------------------------------------------------------------------- workbook
def _card_value(code: str, value: Any, lang: str, currency: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if code in (C.REVENUE, C.POTENTIAL):
        return fmt.money(value, lang, currency)
    if code in (C.REVENUE_SHARE, "potential_share"):
        return fmt.pct(value, lang, 1)
    if code in (C.FIRST_PURCHASE, C.LAST_PURCHASE):
        return fmt.day(value, lang)
    if code in (C.HEADCOUNT, C.ORDERS, "median_gap_days"):
        return fmt.number(value, lang)
    if code in (C.TIER, C.LIFECYCLE, C.KA_GRADE):  # codes in the segmentation's words
        from workbench.i18n import has

        table = t(f"segment.{code}", lang) if has(f"segment.{code}", lang) else {}
        return str(table.get(value, value)) if isinstance(table, dict) else str(value)
    return str(value)


def add_dossier_sheets(book: Book, maps_result: MapsResult, lang: str = "ru", currency: str = "RUB") -> None:
    """One dossier sheet per key account: the card, orders and contacts, budget, the buying
    committee (known people and the roles to find), the customer's needs and direct
    competitors (to fill), who may read it, and the review dates."""
    card_labels = t("maps.dossier_card", lang)
    for d in maps_result.dossiers:
        ws = book.add_sheet(t("maps.dossier_sheet", lang, name=d["customer_name"] or d["customer_id"]),
                            str(t("maps.dossier_title", lang, name=d["customer_name"])))
        r = 1
        set_value(ws.cell(row=r, column=1), t("maps.dossier_title", lang, name=d["customer_name"]))
        ws.cell(row=r, column=1).font = TITLE_FONT
        r += 1
        set_value(ws.cell(row=r, column=1), t("maps.dossier_access", lang, manager=d["manager"] or "—"))
        ws.cell(row=r, column=1).font = Font(italic=True, color="555555")

        def heading(text: str, ws: Any = ws) -> None:
            nonlocal r
            r += 2
            cell = ws.cell(row=r, column=1)
            set_value(cell, text)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL

        def pair(key: str, value: Any, ws: Any = ws) -> None:
            nonlocal r
            r += 1
            set_value(ws.cell(row=r, column=1), key)
            set_value(ws.cell(row=r, column=2), value)
            for c in (1, 2):
                style(ws.cell(row=r, column=c), border=BORDER, alignment=WRAP)

        heading(t("maps.dossier_sec.card", lang))
        pair(card_labels["manager"], d["manager"])
        for code, value in d["card"]:
            if code in card_labels:
                pair(card_labels[code], _card_value(code, value, lang, currency))
        heading(t("maps.dossier_sec.history", lang))
        hist = d.get("contacts")
        if hist is None:
            pair(card_labels["contacts"], t("maps.dossier_no_log", lang))
        else:
            pair(card_labels["contacts"], t("maps.dossier_contacts", lang, total=hist["total"],
                                            positive=hist["positive"], negative=hist["negative"]))
            pair(card_labels["last_positive"], fmt.day(hist["last_positive"], lang))
            pair(card_labels["last_negative"], fmt.day(hist["last_negative"], lang))
        heading(t("maps.dossier_sec.committee", lang))
        for c in d["committee"]:
            pair(label("committee_role", c["role"], lang) if c.get("role") else "—",
                 ", ".join(x for x in (c["contact"], c["position"]) if x))
        for role in d["missing_roles"]:
            pair(label("committee_role", role, lang), t("maps.dossier_to_find", lang))
        for sec in ("needs", "competitors"):
            heading(t(f"maps.dossier_sec.{sec}", lang))
            pair(t(f"maps.dossier_fill.{sec}", lang), "")
        heading(t("maps.dossier_sec.reviews", lang))
        for i, month in enumerate(d["reviews"]):
            pair(t("maps.dossier_review", lang, n=i + 1), fmt.month(month, lang))
        ws.column_dimensions["A"].width = 34
        ws.column_dimensions["B"].width = 70
        Book.print_setup(ws, landscape=False)


def key_account_findings(maps_result: MapsResult, lang: str, currency: str) -> list[dict[str, Any]]:
    """Findings on the contact rules: the key accounts that broke a rule in the latest checked
    month, most valuable first (owner: the KAMs; at stake: their revenue), or one note for the
    consultant when there is no contact log."""
    res = maps_result
    out: list[dict[str, Any]] = []
    if not res.key_accounts:
        return out
    start = res.months[0] if res.months else ""
    due = f"{start}-01" if start else ""
    if not (res.contact_log or {}).get("dated") or not len(res.contact_checks):
        out.append({"severity": "info", "weight": 4, "headline": str(t("maps.f_no_log", lang, n=len(res.key_accounts))),
                    "number": fmt.number(len(res.key_accounts), lang), "action": str(t("maps.f_no_log_action", lang)),
                    "audience": "consultant", "owner": "kam"})
        return out
    checks = res.contact_checks
    month = checks["month"].max()
    last = checks[checks["month"] == month]
    broken = last[~(last["gap_ok"].astype(bool) & last["pause_ok"].astype(bool))]
    if not len(broken):
        return out
    info = {d["customer_id"]: d for d in res.dossiers}

    def revenue(cid: str) -> float:
        return float(next((v for k, v in info.get(cid, {}).get("card", []) if k == C.REVENUE), 0.0) or 0.0)

    ids = sorted(broken[C.CUSTOMER_ID], key=lambda c: -revenue(c))
    at_stake = sum(revenue(c) for c in ids)
    names = ", ".join(info.get(c, {}).get("customer_name", c) for c in ids[:3])
    out.append({"severity": "warn", "weight": 41,
                "headline": str(t("maps.f_contact_rules", lang, n=len(ids), total=len(last),
                                  month=fmt.month(month, lang), gap=int((~broken["gap_ok"].astype(bool)).sum()),
                                  pause=int((~broken["pause_ok"].astype(bool)).sum()), names=names)),
                "number": f"{fmt.number(len(ids), lang)} / {fmt.number(len(last), lang)}",  # at stake shows the money
                "action": str(t("maps.f_contact_rules_action", lang)),
                "at_stake": at_stake, "owner": "kam", "due": due, "audience": "management"})
    return out


__all__ = ["add_dossier_sheets", "add_waiting_sheet", "difference_frame", "ka_intro", "key_account_findings",
           "profile_lines", "render_individual", "render_key_accounts", "waiting_frame"]
