"""Traction in the report: one page for management, the maps checkpoint by checkpoint,
plan against actual over the months, ROMI, and the segment migration with names.

Render only: ``render_traction_html`` returns an HTML string, ``add_traction_sheets``
adds sheets to a workbook under construction, ``traction_findings`` returns findings.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.i18n import t
from workbench.report import fmt
from workbench.report.html import bullets, callout, consultant, esc, kpi_tiles, para, section, table
from workbench.traction import MOVES, STATUSES, TIERS, TractionResult

STATUS_COLORS = {"done": "#ebf6ef", "on_track": "#eef5fb", "at_risk": "#fdf3e8", "missed": "#fbecea",
                 "not_entered": "#f2f2f2", "no_data": "#f2f2f2", "planned": "#ffffff"}
STATUS_XLSX = {k: v.lstrip("#").upper() for k, v in STATUS_COLORS.items()}
MAX_LIST = 8          # items per list on the management page
MAX_NAMES = 3         # names quoted per move on the management page
MAX_CHARTS = 12       # plan-against-actual charts (one per map, busiest maps first)
MAX_MOVES_ROWS = 200  # rows of the moves table in HTML

_STYLE = "".join(
    f".wb-traction tr.st-{k} td{{background:{v}}}" for k, v in STATUS_COLORS.items()
) + ".wb-traction .wb-mgmt{border:1px solid #d0d7de;border-radius:8px;padding:4px 16px 8px;margin-bottom:18px}"


def value_text(x: Any, unit: str, lang: str, currency: str) -> str:
    """A KPI value in its unit: money, percentage (share, ratio) or number."""
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return ""
    if unit == "currency":
        return fmt.money(float(x), lang, currency)
    if unit in ("share", "ratio"):
        return fmt.pct(float(x), lang, 0)
    return fmt.number(float(x), lang, 0 if float(x).is_integer() else 1)


def _status(code: str, lang: str) -> str:
    return str(t("traction.status", lang).get(code, code))


def _title(res: TractionResult, map_id: str) -> str:
    row = res.maps[res.maps[C.MAP_ID] == map_id]
    return str(row["title"].iloc[0]) if len(row) else map_id


def _cp_line(rec: dict[str, Any], res: TractionResult, lang: str, currency: str) -> str:
    return str(t("traction.cp_line", lang, map=_title(res, str(rec[C.MAP_ID])), kpi=rec[C.KPI_NAME],
                 activity=rec[C.ACTIVITY],
                 actual=value_text(rec["actual"], rec[C.UNIT], lang, currency) or "—",
                 target=value_text(rec["target_to_date"], rec[C.UNIT], lang, currency),
                 deadline=fmt.month(rec[C.DEADLINE], lang, short=True)))


def _counts(res: TractionResult) -> dict[str, int]:
    vc = res.checkpoints["status"].value_counts()
    return {s: int(vc.get(s, 0)) for s in STATUSES}


# --------------------------------------------------------------------------- management page
def management_html(res: TractionResult, lang: str, currency: str) -> str:
    """The one page for management: what changed, what is late, what needs a decision."""
    n = _counts(res)
    due = sum(v for k, v in n.items() if k != "planned")
    parts = [f"<h3>{esc(t('traction.mgmt_title', lang, month=fmt.month(res.month, lang)))}</h3>"]
    parts.append(kpi_tiles([
        (t("traction.tile_due", lang), fmt.number(due, lang), t("traction.tile_due_note", lang, n=n["planned"])),
        (_status("done", lang), fmt.number(n["done"], lang), ""),
        (_status("on_track", lang), fmt.number(n["on_track"], lang), ""),
        (_status("at_risk", lang), fmt.number(n["at_risk"], lang), ""),
        (_status("missed", lang), fmt.number(n["missed"], lang), ""),
        (_status("not_entered", lang), fmt.number(n["not_entered"], lang), ""),
    ]))
    # what changed
    parts.append(f"<h4>{esc(t('traction.mgmt_changed', lang))}</h4>")
    if res.first_month:
        parts.append(callout(t("traction.first_month", lang), "info"))
        tiers = t("segment.tier", lang)
        life = t("segment.lifecycle", lang)
        parts.append(para(t("traction.baseline_line", lang,
                            tiers=", ".join(f"{tiers[k]} {v}" for k, v in res.baseline["tier"].items()),
                            lifecycle=", ".join(f"{life[k]} {v}" for k, v in res.baseline["lifecycle"].items()))))
    else:
        items = []
        for move in MOVES:
            count = res.move_counts.get(move, 0)
            if not count:
                continue
            names = res.moves[res.moves["move"] == move][C.CUSTOMER_NAME].head(MAX_NAMES).tolist()
            more = count - len(names)
            items.append(t("traction.move_line", lang, what=t("traction.move", lang)[move], n=count,
                           names=", ".join(str(x) for x in names) + (t("traction.and_more", lang, n=more)
                                                                       if more > 0 else "")))
        items.append(t("traction.done_line", lang, n=n["done"], due=due))
        parts.append(para(t("traction.compared_with", lang, month=fmt.month(res.previous_month, lang))))
        parts.append(bullets(items) if items else para(t("traction.no_moves", lang)))
    start = fmt.month(res.plan_start, lang) if res.plan_start else "—"
    if not due:  # nothing is due yet: nothing can be late and nothing needs a decision
        parts.append(para(t("traction.plan_not_started", lang, start=start)))
    else:
        parts.append(f"<h4>{esc(t('traction.mgmt_late', lang))}</h4>")
        late = res.checkpoints[res.checkpoints["status"].isin(["missed", "at_risk"])]
        late = late.assign(_o=late["status"].map({"missed": 0, "at_risk": 1})).sort_values(
            ["_o", C.DEADLINE], kind="stable")
        if late.empty:
            parts.append(para(t("traction.nothing_late", lang)))
        else:
            lines = [f"{_status(r['status'], lang)}: {_cp_line(r, res, lang, currency)}"
                     for r in late.head(MAX_LIST).to_dict("records")]
            if len(late) > MAX_LIST:
                lines.append(t("traction.and_more_items", lang, n=len(late) - MAX_LIST))
            parts.append(bullets(lines))
        parts.append(f"<h4>{esc(t('traction.mgmt_decide', lang))}</h4>")
        decisions = []
        if n["missed"]:
            decisions.append(t("traction.decide_missed", lang, n=n["missed"]))
        if n["at_risk"]:
            decisions.append(t("traction.decide_at_risk", lang, n=n["at_risk"]))
        if n["not_entered"]:
            decisions.append(t("traction.decide_not_entered", lang, n=n["not_entered"]))
        if res.move_counts.get("fell_asleep"):
            decisions.append(t("traction.decide_asleep", lang, n=res.move_counts["fell_asleep"]))
        if res.move_counts.get("tier_down"):
            decisions.append(t("traction.decide_down", lang, n=res.move_counts["tier_down"]))
        parts.append(bullets(decisions) if decisions else para(t("traction.nothing_to_decide", lang)))
    # how to keep the plan in place and where the facts go: the consultant's business
    notes = []
    if not due:
        notes.append(t("traction.note_start_month", lang, start=start))
    if n["not_entered"]:
        notes.append(t("traction.note_enter_actuals", lang, n=n["not_entered"], month=res.month))
    parts.append(consultant(bullets(notes)) if notes else "")
    return f'<div class="wb-mgmt">{"".join(parts)}</div>'


# --------------------------------------------------------------------------- per map
def _checkpoint_table(cps: pd.DataFrame, lang: str, currency: str) -> str:
    shown = pd.DataFrame({
        "activity": cps[C.ACTIVITY], "kpi": cps[C.KPI_NAME],
        "deadline": cps[C.DEADLINE].map(lambda m: fmt.month(m, lang, short=True) if m else ""),
        "target": [value_text(v, u, lang, currency) for v, u in zip(cps[C.TARGET], cps[C.UNIT])],
        "to_date": [value_text(v, u, lang, currency) for v, u in zip(cps["target_to_date"], cps[C.UNIT])],
        "actual": [value_text(v, u, lang, currency) for v, u in zip(cps["actual"], cps[C.UNIT])],
        "status": cps["status"].map(lambda s: _status(s, lang)),
        "comment": cps["comment"].fillna(""),
    })
    if not shown["comment"].astype(bool).any():
        shown = shown.drop(columns="comment")
    return table(shown, headers=t("traction.cp_headers", lang), numeric=("target", "to_date", "actual"),
                 row_classes=[f"st-{s}" for s in cps["status"]])


def plan_actual_chart(res: TractionResult, map_id: str, lang: str) -> str:
    """Progress of each checkpoint of a map over the months so far: actual / pro-rated
    target (100 % = on plan; the dashed line is the at-risk threshold)."""
    from workbench.report import charts

    s = res.series[res.series[C.MAP_ID] == map_id]
    s = s[(s["target_to_date"].fillna(0) > 0) & s["actual"].notna()]
    if s.empty:
        return ""
    s = s.assign(progress=(s["actual"] / s["target_to_date"]).clip(upper=2.0) * 100)
    months = sorted(s["month"].unique())
    fig, ax = charts.figure(8.0, 3.2)
    with charts.style():
        keys = s.groupby("key")["month"].count().sort_values(ascending=False).index[:6]
        x = {m: i for i, m in enumerate(months)}
        for key in keys:
            one = s[s["key"] == key].sort_values("month")
            label = charts.short_label(f"{one[C.KPI_NAME].iloc[0]} · {fmt.month(str(key).split('|')[3] or res.month, lang, short=True)}", 40)
            ax.plot([x[m] for m in one["month"]], one["progress"], marker="o", label=label)
        ax.axhline(100, color=charts.PALETTE["ok"], linewidth=1.5, label=t("traction.chart_plan", lang))
        ax.axhline(res.at_risk_ratio * 100, color=charts.PALETTE["risk"], linewidth=1, linestyle="--",
                   label=t("traction.chart_risk", lang))
        ax.set_xticks(range(len(months)), [fmt.month(m, lang, short=True) for m in months])
        ax.set_ylabel(t("traction.chart_y", lang))
        ax.set_ylim(bottom=0)
        if len(months) == 1:
            ax.set_xlim(-0.5, 0.5)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title(charts.short_label(_title(res, map_id), 60))
    return charts.to_img(fig, t("traction.chart_alt", lang, map=_title(res, map_id)))


def maps_html(res: TractionResult, lang: str, currency: str, charts_on: bool = True) -> str:
    due = res.checkpoints[res.checkpoints["status"] != "planned"]
    if due.empty:
        return para(t("traction.no_due", lang, start=fmt.month(res.plan_start, lang) if res.plan_start else "—"))
    order = res.maps[res.maps["due"] > 0].sort_values(["missed", "at_risk", "due"], ascending=False, kind="stable")
    parts = []
    charted = 0
    for rec in order.to_dict("records"):
        cps = due[due[C.MAP_ID] == rec[C.MAP_ID]]
        head = t("traction.map_head", lang, title=rec["title"], members=rec["members"], due=rec["due"],
                 done=rec["done"], missed=rec["missed"], at_risk=rec["at_risk"])
        parts.append(f"<h4>{esc(head)}</h4>")
        parts.append(_checkpoint_table(cps, lang, currency))
        if charts_on and charted < MAX_CHARTS:
            img = plan_actual_chart(res, rec[C.MAP_ID], lang)
            if img:
                parts.append(img)
                charted += 1
    if charts_on and len(order) > MAX_CHARTS:
        parts.append(para(t("traction.charts_cut", lang, n=MAX_CHARTS), "wb-muted"))
    return "".join(parts)


def romi_html(res: TractionResult, lang: str, currency: str) -> str:
    if res.romi.empty:
        return para(t("traction.romi_none", lang), "wb-muted")
    df = pd.DataFrame({
        "map": res.romi["map_id"].map(lambda m: _title(res, m)),
        "source": res.romi["source"].map(lambda s: t("traction.romi_source", lang)[s]),
        "cost": res.romi["cost_to_date"].map(lambda v: fmt.money(v, lang, currency)),
        "growth": res.romi["revenue_growth"].map(lambda v: fmt.money(v, lang, currency)),
        "romi": res.romi["romi"].map(lambda v: fmt.pct(v, lang, 0)),
    })
    return para(t("traction.romi_rule", lang), "wb-muted") + table(
        df, headers=t("traction.romi_headers", lang), numeric=("cost", "growth", "romi"))


def matrix_frame(res: TractionResult, lang: str) -> pd.DataFrame:
    """The migration matrix with labels: first column 'from', then one column per tier."""
    tiers = t("segment.tier", lang)
    labels = {**tiers, "new": t("traction.move", lang)["new"]}
    m = res.matrix.reset_index()
    m["from"] = m["from"].map(lambda x: labels.get(x, x))
    return m.rename(columns={k: tiers[k] for k in TIERS}).rename(columns={"from": t("traction.matrix_from", lang)})


def moves_frame(res: TractionResult, lang: str) -> pd.DataFrame:
    tiers, life, moves = t("segment.tier", lang), t("segment.lifecycle", lang), t("traction.move", lang)
    labels = {**tiers, **life}
    return pd.DataFrame({
        "customer": res.moves[C.CUSTOMER_NAME].where(res.moves[C.CUSTOMER_NAME] != "", res.moves[C.CUSTOMER_ID]),
        "move": res.moves["move"].map(lambda m: moves[m]),
        "from": res.moves["from_value"].map(lambda v: labels.get(v, v or "—")),
        "to": res.moves["to_value"].map(lambda v: labels.get(v, v)),
        "revenue": res.moves["revenue"],
    })


def migration_html(res: TractionResult, lang: str, currency: str) -> str:
    if res.first_month:
        return para(t("traction.migration_first", lang))
    parts = [para(t("traction.migration_intro", lang, month=fmt.month(res.previous_month, lang))),
             table(matrix_frame(res, lang), numeric=[t("segment.tier", lang)[k] for k in TIERS])]
    mv = moves_frame(res, lang)
    if len(mv):
        cap = t("traction.moves_cut", lang, n=MAX_MOVES_ROWS, total=len(mv)) if len(mv) > MAX_MOVES_ROWS else ""
        parts.append(table(mv, headers=t("traction.moves_headers", lang), numeric=("revenue",),
                           formats={"revenue": lambda v: fmt.money(v, lang, currency)},
                           max_rows=MAX_MOVES_ROWS, caption=cap))
    return "".join(parts)


def render_traction_html(res: TractionResult, lang: str, currency: str = "RUB", charts_on: bool = True) -> str:
    """The traction section (anchor ``traction``): management page, maps, ROMI, migration.

    Subsections with nothing to show yet (no checkpoint due, no ROMI, no previous month) are
    left out of the client's report: the management page already says when the plan starts;
    the missing ROMI is a note for the consultant.
    """
    due = bool((res.checkpoints["status"] != "planned").any())
    body = [f"<style>{_STYLE}</style>", '<div class="wb-traction">', management_html(res, lang, currency)]
    if due:
        body += [f"<h3>{esc(t('traction.sec_maps', lang))}</h3>",
                 para(t("traction.rules", lang, ratio=fmt.pct(res.at_risk_ratio, lang, 0)), "wb-muted"),
                 maps_html(res, lang, currency, charts_on)]
    romi = f"<h3>{esc(t('traction.sec_romi', lang))}</h3>" + romi_html(res, lang, currency)
    body.append(consultant(romi) if res.romi.empty else romi)
    if not res.first_month:
        body += [f"<h3>{esc(t('traction.sec_migration', lang))}</h3>", migration_html(res, lang, currency)]
    body.append("</div>")
    return section("traction", t("traction.title", lang, month=fmt.month(res.month, lang)), "".join(body))


# --------------------------------------------------------------------------- workbook
def _colour_status(book: Any, ws: Any, column: str, codes: pd.Series, header_row: int) -> None:
    from openpyxl.styles import PatternFill

    if ws is None or column not in book.columns.get(ws.title, []):
        return
    j = book.columns[ws.title].index(column) + 1
    for i, code in enumerate(codes.tolist()):
        color = STATUS_XLSX.get(str(code))
        if color and color != "FFFFFF":
            ws.cell(row=header_row + 1 + i, column=j).fill = PatternFill("solid", fgColor=color)


def add_traction_sheets(book: Any, res: TractionResult, lang: str) -> None:
    """Sheets: traction (checkpoint, target, actual, status), migration matrix, moves, history.

    Targets and actuals stand in columns of their unit (money, percent, count: see
    ``workbench.report.xlsx.split_by_unit``); months by name; sheets without rows are left out.
    """
    from workbench.report.xlsx import split_by_unit

    currency = getattr(book, "currency", "RUB")
    cps = res.checkpoints[res.checkpoints["status"] != "planned"]
    titles = res.maps.set_index(C.MAP_ID)["title"]
    h = dict(t("traction.sheet_headers", lang))
    df = pd.DataFrame({
        "map": cps[C.MAP_ID].map(titles), "activity": cps[C.ACTIVITY], "kpi": cps[C.KPI_NAME],
        "unit": cps[C.UNIT], "deadline": cps[C.DEADLINE].map(lambda m: fmt.month(m, lang, short=True) if m else ""),
        "target": cps[C.TARGET], "target_to_date": cps["target_to_date"], "actual": cps["actual"],
        "status": cps["status"].map(lambda s: _status(s, lang)), "comment": cps["comment"],
    })
    df, unit_headers, kinds = split_by_unit(df, ["target", "target_to_date", "actual"], "unit", h, lang, currency)
    ws = book.add_table(t("traction.sheet_traction", lang), df.drop(columns="unit"),
                        title=t("traction.sheet_traction_title", lang, month=fmt.month(res.month, lang)),
                        headers={**h, **unit_headers}, kinds=kinds,
                        description=t("traction.rules", lang, ratio=fmt.pct(res.at_risk_ratio, lang, 0)),
                        wrap=("activity",), widths={"activity": 48}, landscape=True)
    _colour_status(book, ws, "status", cps["status"], 3)
    if not res.first_month:
        book.add_table(t("traction.sheet_matrix", lang), matrix_frame(res, lang),
                       title=t("traction.migration_intro", lang, month=fmt.month(res.previous_month, lang)))
        mv = moves_frame(res, lang)
        book.add_table(t("traction.sheet_moves", lang), mv, headers=t("traction.moves_headers", lang),
                       kinds={"revenue": "money"}, title=t("traction.sheet_moves", lang))
    hh = dict(t("traction.history_headers", lang))
    hist = res.series.assign(map=res.series[C.MAP_ID].map(titles),
                             month=res.series["month"].map(lambda m: fmt.month(str(m), lang, short=True)),
                             status=res.series["status"].map(lambda s: _status(str(s), lang)))
    hist = hist[["month", "map", C.KPI_NAME, C.UNIT, C.TARGET, "target_to_date", "actual", "status"]]
    hist, unit_headers, kinds = split_by_unit(hist, [C.TARGET, "target_to_date", "actual"], C.UNIT, hh, lang,
                                              currency)
    book.add_table(t("traction.sheet_history", lang), hist.drop(columns=C.UNIT), headers={**hh, **unit_headers},
                   kinds=kinds, title=t("traction.sheet_history_title", lang))


# --------------------------------------------------------------------------- findings
def _shortfall(cps: pd.DataFrame) -> float:
    """Money the checkpoints are behind their plan to date (currency checkpoints only)."""
    money = cps[cps[C.UNIT] == "currency"]
    return float((money["target_to_date"].fillna(0) - money["actual"].fillna(0)).clip(lower=0).sum())


def traction_findings(res: TractionResult, lang: str, currency: str = "RUB") -> list[dict[str, Any]]:
    """Findings for the executive summary (``workbench.report.summary.finding`` dicts).

    Late checkpoints are the director's to decide by the end of the next month, with the
    revenue they are behind plan at stake; customers who fell asleep are the farmers', with
    their revenue over the window at stake. The first month, a plan not started yet and
    actuals not entered are notes for the consultant.
    """
    from workbench.report.summary import finding

    n = _counts(res)
    due = sum(v for k, v in n.items() if k != "planned")
    by = (pd.Period(res.month, "M") + 1).to_timestamp(how="end").date().isoformat()
    out: list[dict[str, Any]] = []
    if res.first_month:
        out.append(finding("traction", "info", t("traction.f_first", lang), action=t("traction.f_first_action", lang),
                           weight=0.3, audience="consultant"))
    if not due:
        out.append(finding("traction", "info", t("traction.f_not_started", lang, start=fmt.month(res.plan_start, lang)
                                                  if res.plan_start else "—"), weight=0.2, audience="consultant"))
        return out
    cps = res.checkpoints
    if n["missed"]:
        missed = cps[cps["status"] == "missed"]
        late = missed.head(1).to_dict("records")[0]
        out.append(finding("traction", "risk", t("traction.f_missed", lang, n=n["missed"], due=due),
                           number=_cp_line(late, res, lang, currency),
                           action=t("traction.decide_missed", lang, n=n["missed"]), weight=0.9 + n["missed"] / 1000,
                           at_stake=_shortfall(missed) or None, owner="director", due=by))
    if n["at_risk"]:
        out.append(finding("traction", "warn", t("traction.f_at_risk", lang, n=n["at_risk"], due=due),
                           number=fmt.pct(n["at_risk"] / due, lang, 0),
                           action=t("traction.decide_at_risk", lang, n=n["at_risk"]), weight=0.7,
                           at_stake=_shortfall(cps[cps["status"] == "at_risk"]) or None, owner="director", due=by))
    if n["not_entered"]:
        out.append(finding("traction", "warn", t("traction.f_not_entered", lang, n=n["not_entered"]),
                           action=t("traction.note_enter_actuals", lang, n=n["not_entered"], month=res.month),
                           weight=0.5, audience="consultant"))
    asleep = res.move_counts.get("fell_asleep", 0)
    if asleep:
        revenue = float(res.moves.loc[res.moves["move"] == "fell_asleep", "revenue"].clip(lower=0).sum())
        out.append(finding("traction", "warn", t("traction.f_asleep", lang, n=asleep),
                           action=t("traction.decide_asleep", lang, n=asleep), weight=0.6,
                           at_stake=revenue or None, owner="farmer", due=by))
    if n["done"]:
        out.append(finding("traction", "ok" if not n["missed"] and not n["at_risk"] else "info",
                           t("traction.f_done", lang, n=n["done"], due=due), number=fmt.pct(n["done"] / due, lang, 0),
                           weight=0.4 if not n["missed"] and not n["at_risk"] else 0.3))
    return out


__all__ = [
    "add_traction_sheets",
    "management_html",
    "matrix_frame",
    "moves_frame",
    "plan_actual_chart",
    "render_traction_html",
    "traction_findings",
    "value_text",
]
