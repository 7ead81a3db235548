"""The sales funnel section of the report (anchor ``funnel``), its workbook sheets and findings.

Render only: strings, figures drawn into ``<img>`` tags, sheets added to a ``Book``. Words
come from the ``deals`` catalogue; client text (stages, managers, deals, customers) is
escaped by ``workbench.report.html`` and written as text cells by ``workbench.report.xlsx``.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.funnel import DIMENSIONS, FIGURES, NEEDS_HISTORY, FunnelResult, stage_measures
from workbench.i18n import t
from workbench.report import fmt
from workbench.report import html as H
from workbench.report.xlsx import Book

LIST_TOP = 10          # stalled deals shown in the report (all in the workbook), as the other action lists
MANAGER_MIN_CLOSED = 5  # a manager's win rate is compared with the team's from this many closed deals


def _tr(key: str, lang: str) -> Any:
    return t(f"deals.{key}", lang)


def _where(pipeline: str, lang: str) -> str:
    return str(_tr("pipeline_where", lang)).format(pipeline=pipeline) if pipeline else ""


def _value_label(dimension: str, value: Any, lang: str) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    if dimension == C.SEGMENT:
        return str(_tr("segment_name", lang).get(text, text))
    return text or str(_tr("empty_value", lang))


def _pct(x: Any, lang: str) -> str:
    return "" if x is None or pd.isna(x) else fmt.pct(float(x), lang, 0)


def _days(x: Any, lang: str) -> str:
    return "" if x is None or pd.isna(x) else fmt.number(float(x), lang, 0)


def _money(x: Any, lang: str, currency: str) -> str:
    return "" if x is None or pd.isna(x) else fmt.money(float(x), lang, currency)


# --------------------------------------------------------------------------- HTML
def render_funnel_html(res: FunnelResult | None, lang: str, currency: str) -> str:
    """The report section ``<section id="funnel">`` ("" when the engagement has no deal export)."""
    if res is None:
        return ""
    tot = res.totals
    closed = int(tot["won"] + tot["lost"])
    parts = [H.para(str(_tr("funnel_intro", lang)).format(
        crm=res.crm, as_of=fmt.day(res.as_of, lang), start=fmt.month(res.window_start, lang),
        end=fmt.month(res.month, lang)))]
    parts.append(H.kpi_tiles([
        (_tr("tile_open", lang), fmt.number(tot["open"], lang),
         str(_tr("tile_open_note", lang)).format(amount=fmt.money(tot["open_amount"], lang, currency))),
        (_tr("tile_win_rate", lang), _pct(tot["win_rate"], lang),
         str(_tr("tile_win_rate_note", lang)).format(won=fmt.number(tot["won"], lang),
                                                     closed=fmt.number(closed, lang))),
        (_tr("tile_avg_won", lang), _money(tot["avg_won"], lang, currency), ""),
        (_tr("tile_cycle", lang), _days(tot["cycle_days"], lang), ""),
        (_tr("tile_stalled", lang), fmt.number(tot["stalled"], lang),
         str(_tr("tile_stalled_note", lang)).format(amount=fmt.money(tot["stalled_amount"], lang, currency))),
    ]))
    if not res.has_history:
        parts.append(H.callout(_tr("supports_current_only", lang), "info"))
    if len(res.stages):  # the stage table below says the same in figures: the chart is the notebook's
        parts.append(H.notebook_only(stages_chart(res, lang)))
    # the section holds what management acts on (the main pipeline, managers, lost reasons,
    # stalled deals); reference tables go to the report's appendix (H.appendix)
    stage_tables = _stage_tables(res, lang, currency)
    parts.extend(stage_tables[:1])
    win_tables = _win_tables(res, lang, currency)
    parts.extend(tbl for dim, tbl in win_tables if dim == C.MANAGER)
    parts.append(_lost_table(res, lang, currency))
    # the stalled deals: one line here (the executive page has their finding), the list in the appendix
    if len(res.stalled):
        parts.append(H.para(str(_tr("stalled_where", lang)).format(
            n=fmt.number(len(res.stalled), lang), amount=fmt.money(res.stalled[C.AMOUNT].sum(), lang, currency))))
    parts.append(H.appendix("".join([_stalled_table(res, lang, currency)] + stage_tables[1:]
                                    + [tbl for dim, tbl in win_tables if dim != C.MANAGER]
                                    + [_kpi_table(res, lang, currency), _supports_table(res, lang)])))
    return H.section("funnel", str(_tr("funnel_title", lang)), "".join(p for p in parts if p))


def stages_chart(res: FunnelResult, lang: str) -> str:
    """Horizontal bars: open deals' amount per stage of the main pipeline, deals labelled."""
    from workbench.report import charts

    main = res.stages[res.stages[C.PIPELINE] == res.main_pipeline].sort_values(C.STAGE_ORDER)
    if not len(main):
        return ""
    labels = [charts.short_label(s, 30) for s in main[C.STAGE]]
    fig, ax = charts.figure(8.0, 0.45 * len(main) + 1.0)
    y = list(range(len(main)))[::-1]
    ax.barh(y, main["amount"].tolist(), color=charts.PALETTE["strategic"])
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.grid(axis="y", visible=False)
    top = float(main["amount"].max() or 1.0)
    for yi, amount, n in zip(y, main["amount"].tolist(), main["deals"].tolist()):
        ax.text(amount + top * 0.01, yi, f"{fmt.number(n, lang)} {_tr('chart_deals', lang)}", va="center",
                fontsize=9, color=charts.PALETTE["muted"])
    ax.set_xlim(0, top * 1.2)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(_money_axis(lang))
    alt = str(_tr("chart_alt", lang)).format(where=_where(res.main_pipeline, lang))
    return charts.to_img(fig, alt)


def _money_axis(lang: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: fmt.number(v, lang))


def _stage_tables(res: FunnelResult, lang: str, currency: str) -> list[str]:
    col = _tr("col", lang)
    out = []
    # the main pipeline first
    groups = sorted(res.stages.groupby(C.PIPELINE, sort=False), key=lambda g: g[0] != res.main_pipeline)
    for pipeline, group in groups:
        frame = group.sort_values(C.STAGE_ORDER)[[C.STAGE, "deals", "amount", "no_amount"]]
        if res.has_history and len(res.conversion):
            conv = res.conversion[res.conversion[C.PIPELINE] == pipeline][
                [C.STAGE, "reached", "conversion", "median_days"]]
            frame = conv.merge(frame, on=C.STAGE, how="left").fillna({"deals": 0, "amount": 0.0, "no_amount": 0})
            frame = frame[[C.STAGE, "deals", "amount", "no_amount", "reached", "conversion", "median_days"]]
        frame = frame.assign(no_amount=frame["no_amount"].where(frame["no_amount"] > 0))  # column left out when 0
        caption = str(_tr("stages_caption", lang)).format(where=_where(str(pipeline), lang))
        out.append(H.table(frame, headers=col, caption=caption,
                           formats={"amount": lambda v: _money(v, lang, currency),
                                    "deals": lambda v: fmt.number(v, lang),
                                    "no_amount": lambda v: fmt.number(v, lang) if v else "",
                                    "reached": lambda v: fmt.number(v, lang),
                                    "conversion": lambda v: _pct(v, lang),
                                    "median_days": lambda v: _days(v, lang)},
                           numeric=("deals", "amount", "no_amount", "reached", "conversion", "median_days")))
    return out


def _win_tables(res: FunnelResult, lang: str, currency: str) -> list[tuple[str, str]]:
    """(dimension, table) per dimension the export has."""
    col = _tr("col", lang)
    out = []
    for dim in DIMENSIONS:
        part = res.win_rates[res.win_rates["dimension"] == dim]
        if not len(part) or (len(part) == 1 and str(part["value"].iloc[0]) == ""):
            continue  # the export has no such column
        frame = part.assign(value=[_value_label(dim, v, lang) for v in part["value"]])[
            ["value", "closed", "won", "win_rate", "won_amount", "avg_won"]]
        out.append((dim, H.table(frame, headers={**col, "value": _tr("dimension", lang)[dim]},
                           caption=_tr("win_caption", lang)[dim],
                           formats={"closed": lambda v: fmt.number(v, lang), "won": lambda v: fmt.number(v, lang),
                                    "win_rate": lambda v: _pct(v, lang),
                                    "won_amount": lambda v: _money(v, lang, currency),
                                    "avg_won": lambda v: _money(v, lang, currency)},
                           numeric=("closed", "won", "win_rate", "won_amount", "avg_won"), max_rows=20)))
    return out


def _lost_table(res: FunnelResult, lang: str, currency: str) -> str:
    if not len(res.lost_reasons) or not res.supports.get("lost_reasons"):
        return ""
    frame = res.lost_reasons.assign(**{C.LOST_REASON: [_value_label("", v, lang)
                                                       for v in res.lost_reasons[C.LOST_REASON]]})
    return H.table(frame, headers=_tr("col", lang), caption=_tr("lost_caption", lang),
                   formats={"deals": lambda v: fmt.number(v, lang), "amount": lambda v: _money(v, lang, currency),
                            "share": lambda v: _pct(v, lang)},
                   numeric=("deals", "amount", "share"), max_rows=15)


def _stalled_table(res: FunnelResult, lang: str, currency: str) -> str:
    factor = fmt.number(res.stalled_factor, lang, 1 if res.stalled_factor % 1 else 0)
    caption = str(_tr("stalled_caption", lang)).format(factor=factor)
    if not len(res.stalled):
        return f"<h3>{H.esc(caption)}</h3>" + H.para(_tr("no_stalled", lang))
    frame = res.stalled[[C.MANAGER, C.DEAL_NAME, C.CUSTOMER_NAME, C.STAGE, C.AMOUNT, "days_in_stage",
                         "usual_days"]]
    note = str(_tr("stalled_from", lang).get(res.time_in_stage_from, ""))
    if len(res.stalled) > LIST_TOP:
        note += " " + str(_tr("stalled_more", lang)).format(shown=LIST_TOP, n=len(res.stalled))
    return (H.table(frame, headers=_tr("col", lang), caption=caption,
                    formats={C.AMOUNT: lambda v: _money(v, lang, currency),
                             "days_in_stage": lambda v: _days(v, lang), "usual_days": lambda v: _days(v, lang)},
                    numeric=(C.AMOUNT, "days_in_stage", "usual_days"), max_rows=LIST_TOP)
            + H.para(note, "wb-muted"))


def _kpi_table(res: FunnelResult, lang: str, currency: str) -> str:
    if not len(res.monthly):
        return ""
    frame = res.monthly.assign(segment=[_value_label(C.SEGMENT, v, lang) if v != "all" else "∑"
                                        for v in res.monthly[C.SEGMENT]])
    frame = frame[[C.SEGMENT, "new_deals", "won", "lost", "win_rate", "won_amount", "conversion", "pipeline_deals",
                   "pipeline_amount"]]
    return H.table(frame, headers=_tr("col", lang),
                   caption=str(_tr("kpis_caption", lang)).format(month=fmt.month(res.month, lang)),
                   formats={"win_rate": lambda v: _pct(v, lang), "conversion": lambda v: _pct(v, lang),
                            "won_amount": lambda v: _money(v, lang, currency),
                            "pipeline_amount": lambda v: _money(v, lang, currency),
                            "new_deals": lambda v: fmt.number(v, lang), "won": lambda v: fmt.number(v, lang),
                            "lost": lambda v: fmt.number(v, lang), "pipeline_deals": lambda v: fmt.number(v, lang)},
                   numeric=("new_deals", "won", "lost", "win_rate", "won_amount", "conversion", "pipeline_deals",
                            "pipeline_amount"))


def supports_frame(res: FunnelResult, lang: str) -> pd.DataFrame:
    """figure, supported (yes / no in ``lang``), why: which figures this export supports."""
    rows = []
    for f in FIGURES:
        ok = bool(res.supports.get(f))
        if ok:
            why = "available"
        elif f in NEEDS_HISTORY:
            why = "history"
        elif f == "lost_reasons":
            why = "no_reasons"
        else:
            why = "no_closed"
        rows.append({"figure": _tr("figure", lang)[f], "supported": fmt.yes_no(ok, lang),
                     "why": _tr("why", lang)[why]})
    return pd.DataFrame(rows)


def _supports_table(res: FunnelResult, lang: str) -> str:
    return H.table(supports_frame(res, lang), headers=_tr("col", lang), caption=_tr("supports_title", lang))


def cjm_measured(res: FunnelResult, lang: str, currency: str, prefix: str = "deal:") -> dict[str, str]:
    """CJM stage code -> what the client's deals show there, for the stage rules: the
    conversion to the next stage and the days in stage (with a stage history), the deals and
    amount in the stage now."""
    out = {}
    for rec in stage_measures(res).to_dict("records"):
        parts = []
        if not pd.isna(rec["conversion"]):
            parts.append(str(_tr("cjm_measured", lang)).format(conversion=_pct(rec["conversion"], lang),
                                                               days=_days(rec["median_days"], lang)))
        parts.append(str(_tr("cjm_measured_now", lang)).format(deals=fmt.number(rec["deals"], lang),
                                                               amount=fmt.money(rec["amount"], lang, currency)))
        out[f"{prefix}{rec[C.STAGE]}"] = "; ".join(parts)
    return out


# --------------------------------------------------------------------------- workbook
def add_funnel_sheets(book: Book, res: FunnelResult, lang: str) -> None:
    """The funnel's sheets: open stages, stage conversion (with a history), win rates, lost
    reasons, stalled deals, the month's funnel KPIs."""
    col = dict(_tr("col", lang))
    stages = res.stages[[C.PIPELINE, C.STAGE_ORDER, C.STAGE, "deals", "amount", "no_amount"]]
    book.add_table(_tr("sheet_stages", lang), stages,
                   title=str(_tr("sheet_stages_title", lang)).format(as_of=fmt.day(res.as_of, lang)),
                   headers={**col, C.STAGE_ORDER: "№"},
                   kinds={"deals": "number", "amount": "money", "no_amount": "number", C.STAGE_ORDER: "int"})
    if res.has_history:
        conv = res.conversion[[C.PIPELINE, C.STAGE_ORDER, C.STAGE, "next_stage", "reached", "moved_on",
                               "conversion", "median_days", "left"]]
        book.add_table(_tr("sheet_conversion", lang), conv, title=_tr("sheet_conversion_title", lang),
                       headers={**col, C.STAGE_ORDER: "№"},
                       kinds={"reached": "number", "moved_on": "number", "conversion": "share",
                              "median_days": "decimal", "left": "number", C.STAGE_ORDER: "int"})
    win = res.win_rates.assign(dimension=[_tr("dimension", lang)[d] for d in res.win_rates["dimension"]],
                               value=[_value_label(d, v, lang) for d, v in zip(res.win_rates["dimension"],
                                                                                 res.win_rates["value"])])
    book.add_table(_tr("sheet_win", lang), win, title=_tr("sheet_win_title", lang),
                   headers={**col, "dimension": _tr("col", lang)["figure"]},
                   kinds={"closed": "number", "won": "number", "lost": "number", "win_rate": "share",
                          "won_amount": "money", "avg_won": "money"})
    lost = res.lost_reasons.assign(**{C.LOST_REASON: [_value_label("", v, lang)
                                                      for v in res.lost_reasons[C.LOST_REASON]]})
    book.add_table(_tr("sheet_lost", lang), lost, title=_tr("sheet_lost_title", lang), headers=col,
                   kinds={"deals": "number", "amount": "money", "share": "share"})
    stalled = res.stalled.assign(since=pd.to_datetime(res.stalled["since"]))
    book.add_table(_tr("sheet_stalled", lang), stalled, title=_tr("sheet_stalled_title", lang), headers=col,
                   kinds={C.AMOUNT: "money", "days_in_stage": "decimal", "usual_days": "decimal", "since": "date"},
                   description=str(_tr("stalled_from", lang).get(res.time_in_stage_from, "")))
    monthly = res.monthly.assign(segment=[_value_label(C.SEGMENT, v, lang) if v != "all" else "∑"
                                          for v in res.monthly[C.SEGMENT]])
    book.add_table(_tr("sheet_kpis", lang), monthly, title=_tr("sheet_kpis_title", lang), headers=col,
                   kinds={"new_deals": "number", "won": "number", "lost": "number", "win_rate": "share",
                          "won_amount": "money", "conversion": "share", "pipeline_deals": "number",
                          "pipeline_amount": "money"})


# --------------------------------------------------------------------------- findings
def funnel_findings(res: FunnelResult | None, lang: str, currency: str) -> list[dict[str, Any]]:
    """Findings for the executive summary (``workbench.report.summary.finding``): stalled deals
    (at stake: their amount; owner: the manager with most of it; due: the next month's end),
    the main lost reason, the win rate and a manager far below the team's (the sales
    director's, due the same day); the missing stage history is the consultant's note."""
    from workbench.report.summary import finding

    if res is None:
        return []
    out: list[dict[str, Any]] = []
    tot = res.totals
    due = (pd.Period(res.month, "M") + 1).end_time.date().isoformat()
    if len(res.stalled):
        by_manager = res.stalled.groupby(C.MANAGER)[C.AMOUNT].sum().sort_values(ascending=False)
        manager = str(by_manager.index[0]) if len(by_manager) else ""
        factor = fmt.number(res.stalled_factor, lang, 1 if res.stalled_factor % 1 else 0)
        out.append(finding(
            "funnel", "warn", str(_tr("finding_stalled_headline", lang)).format(
                n=fmt.number(len(res.stalled), lang), amount=fmt.money(tot["stalled_amount"], lang, currency),
                factor=factor),
            number=fmt.money(tot["stalled_amount"], lang, currency),
            action=str(_tr("finding_stalled_action", lang)).format(manager=manager or "—"), weight=6.0,
            at_stake=float(tot["stalled_amount"]), owner=manager or "director", due=due))
    if len(res.lost_reasons) and res.supports.get("lost_reasons"):
        top = res.lost_reasons.iloc[0]
        if str(top[C.LOST_REASON]):
            out.append(finding(
                "funnel", "info", str(_tr("finding_lost_headline", lang)).format(
                    reason=top[C.LOST_REASON], share=_pct(top["share"], lang)),
                number=fmt.money(float(top["amount"]), lang, currency), action=str(_tr("finding_lost_action", lang)),
                weight=4.0, owner="director", due=due))
    closed = int(tot["won"] + tot["lost"])
    if closed:
        out.append(finding(
            "funnel", "info", str(_tr("finding_win_headline", lang)).format(
                win_rate=_pct(tot["win_rate"], lang), won=fmt.number(tot["won"], lang),
                closed=fmt.number(closed, lang)),
            number=_pct(tot["win_rate"], lang), action=str(_tr("finding_win_action", lang)), weight=3.0,
            owner="director", due=due))
        managers = res.win_rates[(res.win_rates["dimension"] == C.MANAGER)
                                 & (res.win_rates["closed"] >= MANAGER_MIN_CLOSED)]
        if len(managers) > 1:
            low = managers.sort_values("win_rate").iloc[0]
            if float(low["win_rate"]) < 0.5 * float(tot["win_rate"]):
                out.append(finding(
                    "funnel", "warn", str(_tr("finding_manager_headline", lang)).format(
                        manager=low["value"], rate=_pct(low["win_rate"], lang),
                        team=_pct(tot["win_rate"], lang), closed=fmt.number(low["closed"], lang)),
                    number=_pct(low["win_rate"], lang), action=str(_tr("finding_manager_action", lang)),
                    weight=5.0, owner="director", due=due))
    if not res.has_history:
        out.append(finding("funnel", "info", str(_tr("finding_no_history_headline", lang)),
                           action=str(_tr("finding_no_history_action", lang)), weight=0.5, audience="consultant"))
    return out


__all__ = ["add_funnel_sheets", "cjm_measured", "funnel_findings", "render_funnel_html", "stages_chart", "supports_frame"]
