"""The team's workload in the report: tasks per person and month against the cap, as a table
and a chart, the tasks moved to keep within it, a workbook sheet and findings.

Render only; manager names are client text and are escaped (HTML) or written as text cells.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.i18n import t
from workbench.maps.workload import Workload
from workbench.report import fmt
from workbench.report import html as H
from workbench.report.xlsx import Book


def person_label(person: str, lang: str) -> str:
    """A manager's name as it is; a team or an unassigned role in words."""
    if person in ("marketing", "presale"):
        return str(t("maps.owner", lang)[person])
    if person.endswith("?") and person[:-1] in t("maps.owner", lang):
        return str(t("maps.workload_unassigned", lang, role=t("maps.owner", lang)[person[:-1]]))
    return person


def load_frame(w: Workload, lang: str) -> pd.DataFrame:
    """Person x month table of tasks after the moves ("before → after" where they differ), then
    the results measured from sales, per person over the whole plan."""
    load = w.load
    rows = []
    for person, grp in load.groupby("person", sort=False):
        row: dict[str, Any] = {"person": person_label(str(person), lang)}
        for rec in grp.to_dict("records"):
            before, after = int(rec["before"]), int(rec["after"])
            row[rec["month"]] = f"{before} → {after}" if before != after else str(after)
        row["results"] = int(grp["results"].sum())
        row["team"] = bool(grp["team"].iloc[0])
        rows.append(row)
    rows.sort(key=lambda r: (r["team"], r["person"]))
    cols = ["person"] + list(w.months) + ["results"]
    return pd.DataFrame(rows, columns=cols + ["team"])[cols]


def load_chart(w: Workload, lang: str) -> str:
    """Tasks per salesperson and month after the moves, one line each, the cap as a red line."""
    from workbench.report import charts

    sales = w.load[~w.load["team"].astype(bool)]
    with charts.style():
        fig, ax = charts.figure(8.0, 3.0)
        x = range(len(w.months))
        for person, grp in sales.groupby("person", sort=True):
            ax.plot(list(x), grp.set_index("month").reindex(w.months)["after"].tolist(), marker="o", linewidth=1.6,
                    markersize=3.5, label=charts.short_label(person_label(str(person), lang), 24))
        ax.axhline(w.cap, color=charts.PALETTE["risk"], linewidth=1.4, linestyle="--",
                   label=t("maps.workload_cap_label", lang, cap=w.cap))
        ax.set_xticks(list(x))
        ax.set_xticklabels([fmt.month(m, lang, short=True).replace(" ", "\n") for m in w.months], fontsize=8)
        ax.set_ylabel(t("maps.workload_axis", lang))
        ax.set_ylim(0, max(w.cap + 2, int(sales["after"].max() if len(sales) else 0) + 2))
        ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
        ax.set_title(t("maps.workload_chart_title", lang))
    return charts.to_img(fig, t("maps.workload_chart_alt", lang, cap=w.cap))


def moves_frame(w: Workload, lang: str) -> pd.DataFrame:
    m = w.moves
    how = t("maps.workload_how", lang)
    return pd.DataFrame({
        "activity": m["activity"].astype(str).tolist(),
        "persons": [", ".join(person_label(p.strip(), lang) for p in x.split(",")) for x in m["persons"]],
        "month": [fmt.month(x, lang, short=True) for x in m["month"]],
        "how": [how[h].format(to=fmt.month(to, lang, short=True) if to else "") for h, to in zip(m["how"], m["to"])],
    }, columns=["activity", "persons", "month", "how"])


def render_workload_html(w: Workload | None, lang: str) -> str:
    """The section ``maps-workload``: the rule and the chart of the load per person; the
    person x month table and the tasks moved go to the appendix (and the workbook)."""
    if w is None or not len(w.load):
        return ""
    parts = [H.para(t("maps.workload_intro", lang, cap=w.cap))]
    if w.over_before:
        parts.append(H.callout(str(t("maps.workload_moved", lang, n=len(w.moves),
                                     pairs=len(w.over_before))), "warn" if w.over_after else "info"))
    else:
        parts.append(H.callout(str(t("maps.workload_within", lang, cap=w.cap)), "ok"))
    frame = load_frame(w, lang)
    headers = {"person": t("maps.workload_person", lang), "results": t("maps.workload_results", lang),
               **{m: fmt.month(m, lang, short=True) for m in w.months}}
    parts.append(load_chart(w, lang))
    # the month-by-month table is wide (a landscape page) and the moves a long list: reference
    # for the appendix; the chart above carries the message
    parts.append(H.appendix(H.landscape(
        f"<h4>{H.esc(t('maps.workload_title', lang))}</h4>"
        + H.table(frame, headers=headers, numeric=list(w.months) + ["results"], drop_empty=False))))
    if len(w.moves):
        parts.append(H.appendix(f"<h4>{H.esc(t('maps.workload_moves_title', lang))} ({len(w.moves)})</h4>"
                                + H.table(moves_frame(w, lang), headers=t("maps.workload_moves_headers", lang))))
    return H.section("maps-workload", str(t("maps.workload_title", lang)), "".join(parts), level=3)


def add_workload_sheet(book: Book, w: Workload | None, lang: str) -> None:
    """The load per person and month (tasks before and after the moves, results) and the moves."""
    if w is None or not len(w.load):
        return
    load = w.load.assign(person=[person_label(str(p), lang) for p in w.load["person"]],
                         month=[fmt.month(m, lang, short=True) for m in w.load["month"]])
    headers = {k: str(v) for k, v in t("maps.workload_sheet_headers", lang).items()}
    book.add_table(str(t("maps.workload_sheet", lang)), load[list(headers)], title=str(t("maps.workload_title", lang)),
                   headers=headers, kinds={"before": "int", "after": "int", "results": "int"},
                   description=str(t("maps.workload_intro", lang, cap=w.cap)))
    if len(w.moves):
        book.add_table(str(t("maps.workload_moves_sheet", lang)), moves_frame(w, lang),
                       title=str(t("maps.workload_moves_title", lang)), headers=t("maps.workload_moves_headers", lang),
                       widths={"activity": 60}, wrap=("activity",))


def workload_findings(w: Workload | None, lang: str, currency: str = "RUB", waiting: pd.DataFrame | None = None,
                      kam_max: int | None = None) -> list[dict[str, Any]]:
    """Findings on what the team can carry (owner: the sales director). When managers were over
    the cap: how many, the busiest person and month, how many tasks moved and how many were
    deferred past the plan (due: the first month over the cap; a warning when someone stays
    over it). When key accounts wait for a KAM (``waiting``, :mod:`workbench.maps.kam`): a
    finding of its own, how many (at stake: their revenue)."""
    n_wait = 0 if waiting is None else len(waiting)
    out: list[dict[str, Any]] = []
    if w is not None and w.over_before:
        load = w.load.set_index(["person", "month"])
        person, month = max(w.over_before, key=lambda pm: (int(load.loc[pm, "before"]), pm[0]))
        people = sorted({p for p, _ in w.over_before})
        parts = [str(t("maps.f_workload", lang, n_people=len(people), person=person_label(person, lang),
                       month=fmt.month(month, lang), peak=int(load.loc[(person, month), "before"]), cap=w.cap,
                       moved=len(w.moves)))]
        past = int((w.moves["how"] == "past_plan").sum()) if len(w.moves) else 0
        if past:
            parts.append(str(t("maps.f_workload_past", lang, n=past)))
        out.append({"severity": "warn" if w.over_after else "info", "weight": 42, "owner": "director",
                    "audience": "management", "headline": ". ".join(p.rstrip(".") for p in parts),
                    "number": fmt.number(len(w.moves), lang), "action": str(t("maps.f_workload_action", lang)),
                    "due": f"{min(m for _, m in w.over_before)}-01"})
    if n_wait:
        # its own finding: who carries the key accounts is a decision apart from the schedule
        out.append({"severity": "warn", "weight": 40, "owner": "director", "audience": "management",
                    "headline": str(t("maps.f_waiting", lang, n=n_wait, kam_max=kam_max)),
                    "number": fmt.number(n_wait, lang), "action": str(t("maps.f_waiting_action", lang)),
                    "at_stake": float(pd.to_numeric(waiting["revenue"], errors="coerce").fillna(0.0).sum())})
    return out


__all__ = ["add_workload_sheet", "load_chart", "load_frame", "render_workload_html", "workload_findings"]
