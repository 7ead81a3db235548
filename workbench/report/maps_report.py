"""Development maps in the report: calendar pictures, checkpoint tables, workbook sheets, findings.

Render only: returns HTML strings and adds sheets to a :class:`workbench.report.xlsx.Book`.
Every client string (customer names, consultant-edited activity texts) is escaped by
``workbench.report.html`` or written as a text cell by ``workbench.report.xlsx``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill

from workbench import columns as C
from workbench.i18n import t
from workbench.maps import TRACKS, MapsResult, label
from workbench.maps.workload import workload_of
from workbench.report import fmt
from workbench.report import html as H
from workbench.report.xlsx import (
    BORDER,
    HEADER_FILL,
    HEADER_FONT,
    TITLE_FONT,
    WRAP,
    Book,
    alignment_of,
    font_of,
    set_value,
    solid_fill,
    style,
)

FLAG_COLORS = {"holidays": "#f4cccc", "low": "#eeeeee", "budget": "#fff2cc", "peak": "#d9ead3"}
UNIT_FORMATS = {"currency": "#,##0", "count": "#,##0", "share": "0%", "ratio": "0%"}


# --------------------------------------------------------------------------- helpers
def _value(v: Any, unit: str, lang: str, currency: str) -> str:
    """A KPI value as text in its unit."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if unit == "currency":
        return fmt.money(v, lang, currency)
    if unit in ("share", "ratio"):
        return fmt.pct(v, lang, decimals=0 if abs(float(v) * 100 - round(float(v) * 100)) < 1e-9 else 1)
    if float(v).is_integer():
        return fmt.number(v, lang, 0)
    return fmt.number(v, lang, 1 if abs(float(v) * 10 - round(float(v) * 10)) < 1e-9 else 2)


def _light(hex_color: str, amount: float = 0.6) -> str:
    """``hex_color`` blended with white (``amount`` of white), as RRGGBB."""
    h = hex_color.lstrip("#")
    rgb = [int(h[i:i + 2], 16) for i in (0, 2, 4)]
    return "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


def _rows(m: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per activity key (first occurrence's text), ordered by track then first month."""
    first: dict[str, dict[str, Any]] = {}
    for a in m["activities"]:
        if a["key"] not in first:
            first[a["key"]] = a
    return sorted(first.values(), key=lambda a: (TRACKS.index(a["track"]), a["month"], a["key"]))


def _flags_text(m: Mapping[str, Any], month: str, lang: str) -> str:
    parts = []
    for f in m["flags"].get(month, []):
        name = label("flag", f["kind"], lang)
        parts.append(f"{name}: {f['name']}" if f.get("name") else name)
    return "; ".join(parts)


def _signed_pct(x: float | None, lang: str) -> str:
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return ""
    text = fmt.pct(x, lang, decimals=0 if abs(float(x) * 100 - round(float(x) * 100)) < 1e-9 else 1)
    return text if float(x) < 0 else "+" + text


def _note_text(note: Mapping[str, Any], lang: str) -> str:
    table = t("maps.note", lang)
    month = fmt.month(note["month"], lang) if note.get("month") else ""
    to = fmt.month(note["to"], lang) if note.get("to") else ""
    code = note["code"]
    extra: dict[str, str] = {}
    if code == "tempered":
        extra = {"share": fmt.pct(note["share"], lang, 0), "recent": _signed_pct(note.get("recent"), lang),
                 "long": _signed_pct(note.get("long"), lang)}
        if note.get("long") is None:
            code = "tempered_short"
    return str(table[code]).format(activity=note.get("activity", ""), month=month, to=to, **extra)


def target_basis(a: Mapping[str, Any], months: list[str], lang: str, currency: str) -> str:
    """How a checkpoint's target was set, in words: the growth applied, the exact value and
    the rounding, hold, cumulative or period window, tempering, season."""
    if not a.get("kpi"):
        return ""
    unit = a["unit"]
    labels = list(a.get("labels") or [])
    parts: list[str] = []
    lab = t("maps.label", lang)
    if a.get("growth") is not None and "hold" not in labels:
        parts.append(lab["growth"].format(growth=_signed_pct(a["growth"], lang)))
    if "tempered" in labels and a.get("template_growth") is not None:
        parts.append(lab["tempered"].format(template=_signed_pct(a["template_growth"], lang),
                                            applied=_signed_pct(a["growth"], lang)))
    for code in ("hold", "lifted", "before_selection", "selection_bias"):
        if code in labels:
            parts.append(lab[code])
    for code in ("peak", "holidays", "low"):
        if code in labels:
            parts.append(lab[code].format(factor=fmt.number(a.get("season_factor") or 1.0, lang, 1)))
    if a.get("rounding") == "up" and a.get("target_exact") is not None:
        parts.append(lab["rounded"].format(exact=_value(a["target_exact"], "decimal", lang, currency),
                                           value=_value(a["target"], unit, lang, currency)))
    start = fmt.month(months[0], lang, short=True) if months else ""
    end = fmt.month(a.get("deadline") or a["month"], lang, short=True)
    if "cumulative" in labels:
        parts.append(lab["cumulative"].format(start=start))
    elif "period" in labels:
        parts.append(lab["period"].format(start=start, end=end))
    if "season_in_baseline" in labels:
        parts.append(lab["season_in_baseline"])
    return "; ".join(parts)


# --------------------------------------------------------------------------- chart
def calendar_chart(m: Mapping[str, Any], lang: str = "ru") -> str:
    """The map as a calendar picture: months across, one row per activity, bars coloured by
    track, checkpoints marked with a diamond in their deadline month, flagged months shaded.
    Returns an ``<img>`` (embedded PNG)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from workbench.report import charts

    months: list[str] = m["months"]
    rows = _rows(m)
    index = {r["key"]: i for i, r in enumerate(rows)}
    col = {mo: j for j, mo in enumerate(months)}
    height = 1.6 + 0.32 * max(len(rows), 1)
    width = max(8.0, 2.6 + 0.62 * len(months))
    with charts.style():
        fig, ax = charts.figure(width, height)
        for mo, j in col.items():
            kinds = [f["kind"] for f in m["flags"].get(mo, [])]
            shade = next((FLAG_COLORS[k] for k in kinds if k in FLAG_COLORS), None)
            if shade:
                ax.axvspan(j - 0.5, j + 0.5, color=shade, zorder=0)
            if kinds:
                ax.text(j, -0.75, "\n".join(charts.short_label(label("flag", k, lang), 9) for k in kinds),
                        ha="center", va="bottom", fontsize=6.5, color=charts.PALETTE["muted"])
        # One bar container and one marker collection per track: drawing hundreds of separate
        # artists made each calendar cost a quarter of a second.
        bars: dict[str, tuple[list[float], list[float]]] = {}
        diamonds: dict[str, tuple[list[float], list[float]]] = {}
        small: tuple[list[float], list[float]] = ([], [])
        for a in m["activities"]:
            if a["month"] not in col:
                continue
            y, x = index[a["key"]], col[a["month"]]
            if a.get("section") == "checkpoint":
                dl = col.get(a.get("deadline") or a["month"], x)
                diamonds.setdefault(a["track"], ([], []))[0].append(dl)
                diamonds[a["track"]][1].append(y)
            else:
                bars.setdefault(a["track"], ([], []))[0].append(x - 0.43)
                bars[a["track"]][1].append(y)
                if a["kpi"]:
                    small[0].append(x + 0.3)
                    small[1].append(y)
        for track, (lefts, ys) in bars.items():
            ax.barh(ys, 0.86, left=lefts, height=0.6, color=charts.TRACK_COLORS[track], zorder=2)
        for track, (xs, ys) in diamonds.items():
            ax.scatter(xs, ys, marker="D", s=64, color=charts.TRACK_COLORS[track], edgecolors="black", zorder=3)
        if small[0]:
            ax.scatter(small[0], small[1], marker="D", s=16, color="white", edgecolors="black", zorder=3)
        ax.set_xlim(-0.5, len(months) - 0.5)
        ax.set_ylim(len(rows) - 0.5, -1.2)
        ax.set_xticks(range(len(months)))
        ax.set_xticklabels([fmt.month(mo, lang, short=True).replace(" ", "\n") for mo in months], rotation=0,
                           fontsize=8)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([charts.short_label(r["activity"], 44) for r in rows], fontsize=8)
        ax.grid(axis="y", visible=False)
        handles = [Patch(color=charts.TRACK_COLORS[tr], label=label("track", tr, lang)) for tr in TRACKS]
        handles.append(Line2D([], [], marker="D", linestyle="", color="grey", markeredgecolor="black",
                              label=t("maps.legend_checkpoint", lang)))
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.05 / height), ncol=5, fontsize=8,
                  frameon=False)
        ax.set_title(charts.short_label(m["name"], 80))
        # fixed margins (inches): activity labels are cut to 44 characters at 8 pt
        fig.subplots_adjust(left=3.3 / width, right=1 - 0.2 / width, top=1 - 0.45 / height,
                            bottom=1.25 / height)
    return charts.to_img(fig, t("maps.chart_alt", lang, name=m["name"]), tight=False)


# --------------------------------------------------------------------------- HTML
def _checkpoint_display(m: Mapping[str, Any], lang: str, currency: str) -> pd.DataFrame:
    rows = []
    for a in m["activities"]:
        if not a["kpi"]:
            continue
        rows.append({
            "basis": target_basis(a, m["months"], lang, currency),
            "month": fmt.month(a["month"], lang, short=True),
            "track": label("track", a["track"], lang),
            "activity": a["activity"],
            "owner": label("owner", a["owner"], lang),
            "kpi": label("kpi", a["kpi"], lang),
            "baseline": _value(a["baseline"], a["unit"], lang, currency),
            "target": _value(a["target"], a["unit"], lang, currency),
            "deadline": fmt.month(a["deadline"], lang, short=True),
            "source": label("source", a["kpi_source"], lang),
        })
    return pd.DataFrame(rows, columns=["month", "track", "activity", "owner", "kpi", "baseline", "target",
                                       "basis", "deadline", "source"])


def _headers(lang: str) -> dict[str, str]:
    keys = ("month", "track", "activity", "owner", "kpi", "unit", "baseline", "target", "deadline", "source",
            "map", "who", "customer", "manager", "tier", "revenue", "potential", "slot", "name", "note", "basis",
            "target_exact")
    return {k: str(t(f"maps.col_{k}", lang)) for k in keys}


def render_maps_html(maps_result: MapsResult, lang: str = "ru", currency: str = "RUB") -> str:
    """The report section ``maps``: overview tiles, then per map its calendar picture,
    buying committee (individual maps), checkpoints table and calendar adjustments, then the
    candidates for an individual map over the per-salesperson limit."""
    res = maps_result
    hd = _headers(lang)
    parts = [H.para(str(t("maps.intro", lang)))]
    tiles = [(str(t("maps.tile_maps", lang)), fmt.number(len(res.maps), lang), ""),
             (str(t("maps.tile_checkpoints", lang)), fmt.number(len(res.checkpoints), lang), "")]
    if len(res.candidates):  # a zero tile says nothing
        tiles.append((str(t("maps.tile_candidates", lang)), fmt.number(len(res.candidates), lang), ""))
    parts.append(H.kpi_tiles(tiles))
    if not res.maps:
        parts.append(H.callout(str(t("maps.no_maps", lang)), "warn"))
    else:
        counts = {"lost": ("maps.lost", fmt.number(res.unmapped_lost, lang))}
        key = "maps.population"
        if res.unmapped_other:   # a group template left out of maps.group_templates
            key, counts["other"] = "maps.population_gaps", ("maps.unmapped", fmt.number(res.unmapped_other, lang))
        parts.append(f"<p>{H.counted(lambda **x: str(t(key, lang, **x)), counts)}</p>")
    from workbench.report.keyaccounts_report import render_individual, render_key_accounts

    sheet = str(t("maps.sheet_checkpoints", lang))
    for i, m in enumerate(res.maps):
        # a group map's member count is tagged: tests reconcile it with the segmentation's counts
        members = H.counted(lambda **x: str(t("maps.members", lang, **x)),
                            {"n": (f"map.{m['template']}", fmt.number(len(m["members"]), lang))}) \
            if m["kind"] == "group" else H.esc(t("maps.members", lang, n=len(m["members"])))
        if m.get("new_one_off"):
            members += " · " + H.counted(lambda **x: str(t("maps.members_onboarding", lang, **x)),
                                         {"n": (f"map.{m['template']}.new_one_off", fmt.number(m["new_one_off"], lang))})
        head = H.esc(label("kind", m["kind"], lang)) + " · " + members + " · " + H.esc(
            t("maps.owner_line", lang, owner=label("owner", m["owner"], lang))
            + (" · " + t("maps.manager_line", lang, manager=m["manager"]) if m["manager"] else ""))
        body = [f"<p>{head}</p>"]
        if m["kind"] == "individual":
            body.append(render_individual(m, res, lang, currency))
        else:
            if m["description"]:
                body.append(H.para(m["description"], "wb-muted"))
            if m.get("ranking"):
                body.append(H.appendix(render_ranking(m, lang, currency)))
            body.append(calendar_chart(m, lang))
        cp = _checkpoint_display(m, lang, currency)
        # the checkpoints are the team's working list: the notebook shows them, the workbook holds
        # them all; the report says where (its calendar picture is the plan at a glance)
        body.append(H.para(t("maps.checkpoints_where", lang, n=len(cp), sheet=sheet), "wb-muted"))
        body.append(H.notebook_only(H.details(f"{t('maps.sec_checkpoints', lang)} ({len(cp)})",
                                              H.table(cp, headers=hd, numeric=("baseline", "target")))))
        if m["notes"]:
            notes = f"<h4>{H.esc(t('maps.sec_notes', lang))}</h4>" + H.bullets([_note_text(n, lang) for n in m["notes"]])
            # the calendar's moves are reference; an individual map goes to the appendix whole
            body.append(notes if m["kind"] == "individual" else H.appendix(
                f"<h4>{H.esc(t('maps.sec_notes', lang))}: {H.esc(m['name'])}</h4>"
                + H.bullets([_note_text(n, lang) for n in m["notes"]])))
        block = H.section(f"maps-{i + 1}", m["name"], "".join(body), level=3)
        # an individual map in full is reference: the section lists them in one table
        parts.append(H.appendix(block) if m["kind"] == "individual" else block)
        if m["kind"] == "individual" and not any(x["kind"] == "individual" for x in res.maps[:i]):
            parts.append(render_individual_overview(res, lang, currency))
    if res.no_content:
        names = {p["customer_id"]: p["customer_name"] for p in res.profiles.values()}
        parts.append(H.callout(str(t("maps.no_content_note", lang, names=", ".join(
            names.get(c, c) for c in res.no_content))), "info"))
    parts.append(render_key_accounts(res, lang, currency))
    from workbench.report.workload_report import render_workload_html

    parts.append(render_workload_html(workload_of(res), lang))
    if len(res.candidates):
        cand = res.candidates
        show = pd.DataFrame({
            "customer": cand.get(C.CUSTOMER_NAME, cand[C.CUSTOMER_ID]),
            "manager": cand.get(C.MANAGER, ""),
            "tier": cand[C.TIER].map(lambda x: _tier(x, lang)) if C.TIER in cand else "",
            "revenue": cand[C.REVENUE].map(lambda v: fmt.money(v, lang, currency)) if C.REVENUE in cand else "",
            "potential": cand[C.POTENTIAL].map(lambda v: fmt.money(v, lang, currency) if pd.notna(v) else "")
            if C.POTENTIAL in cand else "",
        })
        parts.append(H.section("maps-candidates", str(t("maps.sec_candidates", lang)),
                               H.table(show, headers=hd, numeric=("revenue", "potential")), level=3))
    return H.section("maps", str(t("maps.title", lang)), "".join(parts))


def render_individual_overview(res: MapsResult, lang: str, currency: str) -> str:
    """The individual maps in one table (customer, manager, revenue, trend, next order by the
    customer's rhythm, buying committee known, what the map adds to its group map); each map
    in full is in the appendix and on its own workbook sheet."""
    rows = []
    for m in res.maps:
        if m["kind"] != "individual":
            continue
        p = m.get("profile") or {}
        known = [x for x in p.get("committee") or [] if x.get("role")]
        trend = p.get("trend")
        rows.append({
            "customer": m["customer_name"] or m["customer_id"], "manager": m["manager"] or "—",
            "revenue": fmt.money(p["revenue"], lang, currency) if p.get("revenue") is not None else "—",
            "trend": ("+" if trend >= 0 else "") + fmt.pct(trend, lang, 0) if trend is not None else "—",
            "next": fmt.day(p["next_due"], lang) if p.get("next_due") else "—",
            "committee": fmt.number(len(known), lang) + " / " + fmt.number(len(known) + len(p.get("missing_roles") or []), lang),
            # what the map adds: counts by kind (the items themselves are in the appendix)
            "own": " · ".join(str(t(f"maps.own_count.{k}", lang, n=n)) for k, n in sorted(
                Counter(d["kind"] for d in m.get("difference", [])).items(), key=lambda kn: kn[0] != "added")) or "—",
        })
    headers = {k: str(v) for k, v in t("maps.overview_headers", lang).items()}
    frame = pd.DataFrame(rows, columns=list(headers))
    return (f"<h3>{H.esc(t('maps.overview_title', lang, n=len(rows)))}</h3>"
            + H.para(t("maps.overview_intro", lang), "wb-muted")
            + H.table(frame, headers=headers, numeric=("revenue", "trend")))


RANK_SHOWN = 15  # members of a ranked group map listed in the report


def render_ranking(m: Mapping[str, Any], lang: str, currency: str) -> str:
    """A ranked group map's members in the order to work them (template key ``rank``): the
    flagged ones first (their number tagged for the count reconciliation), then by value; the
    first ``RANK_SHOWN``."""
    ranking, rank = m["ranking"], m.get("rank") or {}
    by, first = rank.get("by", ""), rank.get("first", "")
    n_first = sum(1 for r in ranking if r["first"])
    lead = ""
    if first and n_first:
        lead = H.counted(lambda **x: str(t(f"maps.ranking_first.{first}", lang, **x)),
                         {"n": (f"map.{m['template']}.first", fmt.number(n_first, lang))})
    intro = H.esc(t(f"maps.ranking_intro.{by}", lang, shown=min(RANK_SHOWN, len(ranking)),
                    n=len(ranking))).replace("\x01", lead)
    yes = str(t("maps.mark_yes", lang))
    shown = ranking[:RANK_SHOWN]
    frame = pd.DataFrame({
        "customer": [r["customer_name"] or r["customer_id"] for r in shown],
        "manager": [r["manager"] for r in shown],
        "value": [fmt.money(r["value"], lang, currency) for r in shown],
        "first": [yes if r["first"] else "" for r in shown],
        "recency": [fmt.number(r["recency_days"], lang) if r["recency_days"] is not None else "" for r in shown],
        "to_lost": [fmt.number(r["days_to_lost"], lang) if r["days_to_lost"] is not None else "" for r in shown],
    }, columns=["customer", "manager", "value", "first", "recency", "to_lost"])
    headers = dict(t("maps.ranking_headers", lang))
    headers["value"] = headers[f"value_{by}"]
    headers["first"] = headers.get(f"first_{first}", "")
    return f"<p>{intro}</p>" + H.table(frame, headers=headers, numeric=("value", "recency", "to_lost"))


def _tier(code: Any, lang: str) -> str:
    from workbench.i18n import has

    if has("segment.tier", lang):
        table = t("segment.tier", lang)
        if isinstance(table, Mapping):
            return str(table.get(code, code))
    return "" if code is None or (isinstance(code, float) and pd.isna(code)) else str(code)


# --------------------------------------------------------------------------- workbook
def checkpoints_sheet_frame(maps_result: MapsResult, lang: str = "ru", currency: str = "RUB") -> pd.DataFrame:
    """The tidy ``checkpoints`` sheet: map, segment or customer, month, track, activity, owner,
    KPI, unit, baseline, target, the exact target before rounding, how the target was set,
    deadline (labels in ``lang``; baseline and target in the KPI's unit)."""
    rows = []
    for m in maps_result.maps:
        # names in the reader's words: the map's name, the tier or the customer (never a code)
        who = (m["customer_name"] or m["customer_id"]) if m["kind"] == "individual" else sheet_name(m)
        for a in m["activities"]:
            if not a["kpi"]:
                continue
            rows.append({
                "map": m["name"], "who": who, "month": fmt.month(a["month"], lang, short=True), "track": label("track", a["track"], lang),
                "activity": a["activity"], "owner": label("owner", a["owner"], lang),
                "kpi": label("kpi", a["kpi"], lang), "unit": label("unit", a["unit"], lang),
                "baseline": float(a["baseline"]), "target": float(a["target"]),
                "target_exact": float(a["target_exact"]) if a.get("target_exact") is not None else float(a["target"]),
                "basis": target_basis(a, m["months"], lang, currency),
                "deadline": fmt.month(a["deadline"], lang, short=True), "unit_code": a["unit"],
            })
    return pd.DataFrame(rows, columns=["map", "who", "month", "track", "activity", "owner", "kpi", "unit", "baseline",
                                       "target", "target_exact", "basis", "deadline", "unit_code"])


def sheet_name(m: Mapping[str, Any]) -> str:
    """A short sheet name: the customer's name for an individual map, the map's name up to
    its first colon for a group map (the Book cuts it to 31 characters and makes it unique)."""
    if m["kind"] == "individual":
        return str(m["customer_name"] or m["customer_id"])
    return str(m["name"]).split(":")[0].strip() or str(m["segment"])


def add_map_sheet(book: Book, m: Mapping[str, Any], lang: str = "ru") -> Any:
    """One map as a printable month grid: months as columns, activities as rows, cells filled
    with the track colour and holding the KPI target of that month (● without a KPI); a
    calendar row names the flagged months. Returns the worksheet."""
    months: list[str] = m["months"]
    ws = book.add_sheet(sheet_name(m), str(t("maps.sheet_map_title", lang, name=m["name"])))
    set_value(ws.cell(row=1, column=1), m["name"])
    ws.cell(row=1, column=1).font = TITLE_FONT
    set_value(ws.cell(row=2, column=1), t("maps.sheet_map_desc", lang, n=len(m["members"]),
                                          owner=label("owner", m["owner"], lang)))
    ws.cell(row=2, column=1).font = Font(italic=True, color="555555")
    header = 3
    fixed = [t("maps.col_track", lang), t("maps.col_activity", lang), t("maps.col_owner", lang),
             t("maps.col_kpi", lang)]
    for j, text in enumerate(fixed + [fmt.month(mo, lang, short=True) for mo in months], start=1):
        cell = ws.cell(row=header, column=j)
        set_value(cell, text)
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    first_month_col = len(fixed) + 1
    # calendar row
    set_value(ws.cell(row=header + 1, column=2), t("maps.col_calendar", lang))
    ws.cell(row=header + 1, column=2).font = Font(italic=True)
    for j, mo in enumerate(months, start=first_month_col):
        text = _flags_text(m, mo, lang)
        cell = ws.cell(row=header + 1, column=j)
        set_value(cell, text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="center")
        cell.font = Font(size=8, italic=True)
        kinds = [f["kind"] for f in m["flags"].get(mo, [])]
        shade = next((FLAG_COLORS[k] for k in kinds if k in FLAG_COLORS), None)
        if shade:
            cell.fill = PatternFill("solid", fgColor=shade.lstrip("#").upper())
    from workbench.report.charts import TRACK_COLORS

    rows = _rows(m)
    index = {r["key"]: header + 2 + i for i, r in enumerate(rows)}
    for r in rows:
        i = index[r["key"]]
        set_value(ws.cell(row=i, column=1), label("track", r["track"], lang))
        set_value(ws.cell(row=i, column=2), r["activity"])
        set_value(ws.cell(row=i, column=3), label("owner", r["owner"], lang))
        set_value(ws.cell(row=i, column=4), label("kpi", r["kpi"], lang) if r["kpi"] else "")
        style(ws.cell(row=i, column=1), font=font_of(bold=True, color="FFFFFF"),
              fill=solid_fill(TRACK_COLORS[r["track"]].lstrip("#").upper()), border=BORDER, alignment=WRAP)
        for j in range(2, first_month_col + len(months)):
            style(ws.cell(row=i, column=j), border=BORDER, alignment=WRAP if j < first_month_col else None)
    col = {mo: first_month_col + j for j, mo in enumerate(months)}
    for a in m["activities"]:
        if a["month"] not in col:
            continue
        cell = ws.cell(row=index[a["key"]], column=col[a["month"]])
        set_value(cell, float(a["target"]) if a["kpi"] else "●")
        style(cell, font=font_of(bold=True) if a["kpi"] and a.get("section") == "checkpoint" else None,
              fill=solid_fill(_light(TRACK_COLORS[a["track"]])), border=BORDER,
              alignment=alignment_of(horizontal="center", vertical="center"),
              number_format=UNIT_FORMATS.get(a["unit"], "#,##0.##") if a["kpi"] else None)
    widths = {1: 14, 2: 46, 3: 13, 4: 24}
    from openpyxl.utils import get_column_letter

    for j, w in widths.items():
        ws.column_dimensions[get_column_letter(j)].width = w
    for j in col.values():
        ws.column_dimensions[get_column_letter(j)].width = 11
    ws.freeze_panes = ws.cell(row=header + 2, column=first_month_col)
    Book.print_setup(ws, landscape=True, header_row=header)
    return ws


def add_maps_sheets(book: Book, maps_result: MapsResult, lang: str = "ru", currency: str = "RUB") -> None:
    """Add one month-grid sheet per map, the tidy ``checkpoints`` sheet, one dossier sheet per
    key account a KAM carries, the key accounts waiting for a KAM and the workload to ``book``."""
    from workbench.report.keyaccounts_report import add_dossier_sheets, add_waiting_sheet

    for m in maps_result.maps:
        add_map_sheet(book, m, lang)
    from workbench.report.xlsx import split_by_unit

    hd = _headers(lang)
    # values stand in columns of their unit (money, share, count), each formatted as such
    frame, unit_headers, kinds = split_by_unit(checkpoints_sheet_frame(maps_result, lang, currency),
                                               ["baseline", "target", "target_exact"], "unit_code", hd, lang, currency)
    book.add_table(str(t("maps.sheet_checkpoints", lang)), frame.drop(columns=["unit_code", "unit"]),
                   title=str(t("maps.sheet_checkpoints_title", lang)), headers={**hd, **unit_headers}, kinds=kinds,
                   widths={"map": 28, "activity": 50, "kpi": 30, "basis": 50}, wrap=("map", "activity", "basis"),
                   landscape=True)
    add_dossier_sheets(book, maps_result, lang, currency)
    add_waiting_sheet(book, maps_result, lang, currency)
    from workbench.report.workload_report import add_workload_sheet

    add_workload_sheet(book, workload_of(maps_result), lang)


# --------------------------------------------------------------------------- findings
def maps_findings(maps_result: MapsResult, lang: str = "ru", currency: str = "RUB") -> list[dict[str, Any]]:
    """Findings for the executive summary, most important first.

    Each: severity ('risk' | 'warn' | 'info' | 'ok'), headline, number (formatted text),
    action, weight (bigger = more important), and where known ``owner`` (a role code or a
    manager's name), ``due`` (ISO date), ``at_stake`` (money) and ``audience``
    (``consultant`` for notes on the draft itself, else the client's management).
    """
    from workbench.report.keyaccounts_report import key_account_findings

    res = maps_result
    out: list[dict[str, Any]] = []
    start = f"{res.months[0]}-01" if res.months else ""

    def add(severity: str, key: str, number: str, weight: float, audience: str = "management",
            owner: str = "", **kw: Any) -> None:
        f = {"severity": severity, "headline": str(t(f"maps.f_{key}", lang, **kw)), "number": number,
             "action": str(t(f"maps.f_{key}_action", lang)), "weight": float(weight), "audience": audience}
        if owner:
            f["owner"] = owner
        if start and audience == "management":
            f["due"] = start
        out.append(f)

    def count(code: str) -> int:
        return sum(1 for m in res.maps for n in m["notes"] if n["code"] == code)

    n_indiv = sum(1 for m in res.maps if m["kind"] == "individual")
    if len(res.candidates):
        add("warn", "candidates", fmt.number(len(res.candidates), lang), 55, owner="director", n=len(res.candidates))
    if res.maps and n_indiv == 0 and not res.no_content:
        add("warn", "no_individual", "0", 50, audience="consultant")
    if res.no_content:
        add("info", "no_content", fmt.number(len(res.no_content), lang), 20, audience="consultant",
            n=len(res.no_content))
    tempered = [m for m in res.maps if any(n["code"] == "tempered" for n in m["notes"])]
    for m in tempered:
        growth = [(a["template_growth"], a["growth"]) for a in m["activities"] if "tempered" in (a.get("labels") or [])]
        if growth:
            before, after = growth[0]
            add("info", "tempered", f"{_signed_pct(after, lang)}", 30, owner=m["owner"], name=m["name"],
                before=_signed_pct(before, lang), after=_signed_pct(after, lang))
    zero = count("zero_baseline")
    if zero:
        add("warn", "zero", fmt.number(zero, lang), 45, audience="consultant", n=zero)
    outside = count("outside")
    if outside:
        add("warn", "outside", fmt.number(outside, lang), 35, audience="consultant", n=outside)
    if res.empty:
        names = ", ".join(f"«{res.template_names.get(c, c)}»" if lang == "ru" else
                          f"“{res.template_names.get(c, c)}”" for c in res.empty)
        add("info", "empty", fmt.number(len(res.empty), lang), 30, audience="consultant", names=names)
    if res.unmapped_lost:
        add("info", "lost", fmt.number(res.unmapped_lost, lang), 25, owner="director", n=res.unmapped_lost)
    shifted = count("shifted") + count("shifted_earlier") + count("merged")
    if shifted:
        add("info", "shifted", fmt.number(shifted, lang), 3, audience="consultant", n=shifted)
    out.extend(key_account_findings(res, lang, currency))
    from workbench.report.workload_report import workload_findings

    out.extend(workload_findings(workload_of(res), lang, currency, waiting=res.waiting, kam_max=res.kam_max))
    if res.maps:
        add("ok", "summary", fmt.number(len(res.checkpoints), lang), 10, audience="consultant", maps=len(res.maps),
            checkpoints=len(res.checkpoints))
    return sorted(out, key=lambda f: -f["weight"])


__all__ = [
    "add_map_sheet",
    "add_maps_sheets",
    "calendar_chart",
    "checkpoints_sheet_frame",
    "maps_findings",
    "render_maps_html",
]
