"""Rendering of the B2B CJM tables: an HTML section (anchor ``cjm``), workbook sheets and
findings. Render only: nothing here touches the disk. Every client string is escaped
(HTML) or written as a text cell (Excel)."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from workbench import columns as C
from workbench.cjm import DEAL_STAGE_PREFIX, CJMResult
from workbench.i18n import t
from workbench.report import fmt
from workbench.report import html as H
from workbench.report.xlsx import (
    BORDER,
    FORMATS,
    HEADER_FILL,
    HEADER_FONT,
    TITLE_FONT,
    WRAP,
    Book,
    font_of,
    set_value,
    solid_fill,
    style,
)

# Colours by row group: (group header, row / filled cell). Pyramid of the elements of value.
LEVEL_COLOURS: dict[str, tuple[str, str]] = {
    "progress": ("BF9000", "FFF2CC"),
    "table_stakes": ("7F7F7F", "EDEDED"),
    "functional": ("2F75B5", "DDEBF7"),
    "ease_of_doing_business": ("548235", "E2EFDA"),
    "individual": ("C55A11", "FCE4D6"),
    "inspirational": ("7030A0", "EADCF4"),
}

_CSS = """<style>
.wb-cjm-wrap{max-height:78vh;overflow:auto;border:1px solid #d0d0d0;margin:.5em 0 1em}
table.wb-cjm-grid{border-collapse:separate;border-spacing:0;font-size:12px;line-height:1.25;table-layout:fixed}
table.wb-cjm-grid th,table.wb-cjm-grid td{border-right:1px solid #e0e0e0;border-bottom:1px solid #e0e0e0;
 padding:3px 5px;vertical-align:top;width:9.5em;overflow-wrap:anywhere}
table.wb-cjm-grid thead th{position:sticky;top:0;z-index:2;background:#1F4E79;color:#fff;font-weight:600}
table.wb-cjm-grid .wb-cjm-row{position:sticky;left:0;z-index:1;width:13em;text-align:left;font-weight:600}
table.wb-cjm-grid thead th.wb-cjm-row{z-index:3}
table.wb-cjm-grid tr.wb-cjm-group th{color:#fff;text-align:left;font-weight:700}
table.wb-cjm-grid td:empty{background:#fff}
.wb-cjm-role{display:block;font-size:11px;font-weight:700;opacity:.8}
.wb-cjm-note{color:#555;font-size:90%}
""" + "".join(
    f".wb-cjm-grid tr.wb-cjm-g-{k} th{{background:#{dark}}}"
    f".wb-cjm-grid tr.wb-cjm-{k} .wb-cjm-row,.wb-cjm-grid tr.wb-cjm-{k} td.wb-cjm-on{{background:#{light}}}\n"
    for k, (dark, light) in LEVEL_COLOURS.items()) + "</style>"


def _group_key(rec: dict[str, Any]) -> str:
    return "progress" if rec["row_kind"] == "progress" else str(rec["level"])


def _group_label(rec: dict[str, Any], lang: str) -> str:
    if rec["row_kind"] == "progress":
        return str(t("cjm.level", lang)["progress"])
    label = str(t("cjm.level", lang)[rec["level"]])
    if rec["subgroup"]:
        label += " — " + str(t("cjm.subgroup", lang)[rec["subgroup"]])
    return label


def _groups(grid: pd.DataFrame) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Rows grouped by (progress | level, subgroup), in order: [(key, first record, records)]."""
    out: list[tuple[str, Any, list[dict[str, Any]]]] = []
    for rec in grid.to_dict("records"):
        key = (rec["row_kind"], rec["level"], rec["subgroup"])
        if not out or out[-1][0] != key:
            out.append((key, rec, []))
        out[-1][2].append(rec)
    return [(_group_key(first), first, recs) for _, first, recs in out]


def _note(res: CJMResult, cjm_id: str, lang: str, html: bool = True, legend: bool = True) -> str:
    """The line under a CJM's title: a group CJM's customers (tagged for the count
    reconciliation in HTML), an individual CJM's manager and, for a state buyer, the tender
    rules, and the legend unless ``legend=False``. ``html=False``: plain text (the workbook)."""
    info = res.meta[cjm_id]
    esc = H.esc if html else str
    parts = []
    if info["kind"] == "group":
        key = f"cjm.{info['segment']}" + (".tender" if info.get("tender") else "")
        parts.append(H.counted(lambda **x: str(t("cjm.customers_note", lang, **x)),
                               {"n": (key, fmt.number(info["customers"], lang))}) if html
                     else str(t("cjm.customers_note", lang, n=info["customers"])))
    if info["kind"] == "individual" and info["manager"]:
        parts.append(esc(t("cjm.manager_note", lang, manager=info["manager"])))
    if info["kind"] == "individual" and info.get("tender"):
        parts.append(esc(t("cjm.tender_individual", lang)))
    if legend:
        parts.append(esc(t("cjm.legend", lang)))
    return " · ".join(parts)


def _who(res: CJMResult, cjm_id: str, lang: str) -> str:
    """An individual CJM's customer, with its salesperson when known."""
    info = res.meta[cjm_id]
    name = str(info.get("customer_name") or info.get("customer_id") or "")
    return f"{name} ({info['manager']})" if info.get("manager") else name


def population_note(res: CJMResult, lang: str) -> str:
    """Who the CJMs serve (HTML): the lost are in none; the state buyers get tender rules where a
    template has them and the other CJMs as they are (no gift or incentive in them)."""
    lost = H.counted(lambda **x: str(t("cjm.population", lang, **x)),
                     {"lost": ("cjm.lost", fmt.number(res.lost, lang))})
    out = f"<p>{lost}</p>"
    if not res.state_customers:
        return out
    groups = [m for m in res.meta.values() if m["kind"] == "group"]
    tier = t("cjm.tier", lang)
    pieces = [t("cjm.state_variant", lang, tier=tier.get(m["segment"], m["segment"]), n=m["customers"])
              for m in groups if m.get("tender")]
    n_ind = sum(1 for m in res.meta.values() if m["kind"] == "individual" and m.get("tender"))
    if n_ind:
        pieces.append(t("cjm.state_individual", lang, n=n_ind))
    as_is = [m for m in groups if not m.get("tender") and m.get("state")]
    if as_is:
        names = [tier.get(m["segment"], m["segment"]) for m in as_is]
        pieces.append(t("cjm.state_as_is", lang, n=sum(int(m["state"]) for m in as_is),
                        tiers=", ".join(f"«{x}»" if lang == "ru" else f"“{x}”" for x in names)))
    outside = res.state_customers - sum(int(m.get("state") or 0) for m in groups)
    if outside > 0:    # the lost ones: in no CJM
        pieces.append(t("cjm.state_lost", lang, n=outside))
    state = H.counted(lambda **x: str(t("cjm.state_note", lang, **x)),
                      {"n": ("cjm.state", fmt.number(res.state_customers, lang))})
    return out + f"<p>{state} {H.esc('; '.join(str(p) for p in pieces))}.</p>"


def render_cjm_html(cjm_result: CJMResult, lang: str) -> str:
    """The report section ``<section id="cjm">``: per CJM its stage rules (who, when, how a
    customer is qualified and handed on); its grid (only the filled rows, on a landscape page)
    goes to the appendix and the workbook; an individual CJM is told as its difference from the
    closest CJM shown (its segment's or another individual one); then the nurturing mix."""
    res = cjm_result
    if not res.tables:
        return H.section("cjm", t("cjm.title", lang), H.para(t("cjm.empty", lang)))
    parts = [_CSS, H.para(t("cjm.intro", lang)), population_note(res, lang)]
    shown: list[str] = []  # CJMs drawn in full so far: an individual CJM is told as its difference
    same: dict[str, list[str]] = {}  # reference -> the individual CJMs identical to it
    individual_ids: list[str] = []
    for cjm_id, grid in res.grids.items():
        reference, diff = _closest(res, cjm_id, shown, lang)
        if reference is not None and diff.empty:
            same.setdefault(reference, []).append(cjm_id)
            continue
        individual = res.meta[cjm_id]["kind"] == "individual"
        if reference is not None and len(diff) <= DIFF_MAX:
            table = (H.para(t("cjm.differs_from", lang, title=res.meta[reference]["title"], n=len(diff)), "wb-cjm-note")
                     + H.table(diff, headers=t("cjm.diff_headers", lang)))
        else:
            shown.append(cjm_id)
            sheet = _sheet_name(res, cjm_id, lang)[:31]
            grid_html = H.landscape(f"<h4>{H.esc(res.meta[cjm_id]['title'])}</h4>"
                                    + H.para(t("cjm.legend", lang), "wb-cjm-note") + _grid_html(res, cjm_id, grid, lang))
            # an individual CJM goes to the appendix whole (blocks are not nested)
            table = H.para(t("cjm.grid_where", lang, sheet=sheet), "wb-cjm-note") + (
                grid_html if individual else H.appendix(grid_html))
        rules = res.rules[cjm_id]
        headers = t("cjm.rules_headers", lang)
        same_rules = reference is not None and rules[list(headers)].reset_index(drop=True).equals(
            res.rules[reference][list(headers)].reset_index(drop=True))
        rules_html = "" if same_rules else H.table(
            rules[list(headers)], headers=headers, numeric=("cells",), caption=t("cjm.rules_title", lang),
            formats={"month": lambda m: fmt.month(m, lang, short=True),
                     "deadline": lambda m: fmt.month(m, lang, short=True)})
        block = (f'<h3 id="{H.esc(_anchor(cjm_id))}">{H.esc(res.meta[cjm_id]["title"])}</h3>'
                 f'<p class="wb-cjm-note">{_note(res, cjm_id, lang, legend=False)}</p>{table}{rules_html}')
        if individual:
            individual_ids.append(cjm_id)
        elif rules_html:  # the stage rules are the team's reference: the appendix, under the CJM's title
            block = block.replace(rules_html, H.appendix(f"<h4>{H.esc(res.meta[cjm_id]['title'])}</h4>" + rules_html))
        # an individual CJM is reference: the section names them in one line, the appendix holds each
        parts.append(H.appendix(block) if individual else block)
    if individual_ids:
        parts.append(H.para(t("cjm.individual_list", lang, n=len(individual_ids),
                              names=", ".join(_who(res, x, lang) for x in individual_ids))))
    for reference, ids in same.items():
        names = ", ".join(_who(res, x, lang) for x in ids)
        parts.append(H.para(t("cjm.same_as", lang, n=len(ids), title=res.meta[reference]["title"], names=names)))
    parts.append(render_nurturing(res, lang))
    return H.section("cjm", t("cjm.title", lang), '<div class="wb-cjm">' + "".join(parts) + "</div>")


DIFF_MAX = 12  # cells: an individual CJM differing in more is shown in full


def _grid_html(res: CJMResult, cjm_id: str, grid: pd.DataFrame, lang: str) -> str:
    """The CJM as a grid: stages across, only the rows with a filled cell, grouped and
    coloured by level (an empty row says nothing and costs a line)."""
    stages = [s["code"] for s in res.stages]
    grid = grid[(grid[stages] != "").any(axis=1)]
    cells = {(r["row"], r["stage"]): r for r in res.tables[cjm_id].to_dict("records")}
    n_cols = len(res.stages) + 1
    body = []
    for key, first, recs in _groups(grid):
        body.append(f'<tr class="wb-cjm-group wb-cjm-g-{key}"><th colspan="{n_cols}">'
                    f"{H.esc(_group_label(first, lang))}</th></tr>")
        for rec in recs:
            tds = []
            for s in res.stages:
                c = cells.get((rec["row"], s["code"]))
                if c is None:
                    tds.append("<td></td>")
                else:
                    tds.append(f'<td class="wb-cjm-on"><span class="wb-cjm-role">{H.esc(c["role_label"])}'
                               f'</span>{H.esc(c["action"])}</td>')
            body.append(f'<tr class="wb-cjm-{key}"><th class="wb-cjm-row" scope="row">'
                        f'{H.esc(rec["row_label"])}</th>{"".join(tds)}</tr>')
    stage_head = "".join(f"<th>{H.esc(s['label'])}</th>" for s in res.stages)
    return (f'<div class="wb-cjm-wrap"><table class="wb-cjm-grid"><thead><tr>'
            f'<th class="wb-cjm-row">{H.esc(t("cjm.row_header", lang))}</th>{stage_head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _cell_texts(res: CJMResult, cjm_id: str) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r["row"], r["stage"]): (str(r["row_label"]), f'{r["role_label"]}: {r["action"]}')
            for r in res.tables[cjm_id].to_dict("records")}


def _closest(res: CJMResult, cjm_id: str, shown: list[str], lang: str) -> tuple[str | None, pd.DataFrame]:
    """For an individual CJM: the CJM already shown that it differs least from (its segment's
    group CJM or an individual CJM drawn before) and the cells that differ (stage, row, here,
    there). (None, empty) for a group CJM or when nothing was shown yet."""
    info = res.meta[cjm_id]
    cols = ["stage", "row", "here", "there"]
    if info["kind"] != "individual":
        return None, pd.DataFrame(columns=cols)
    candidates = [c for c in shown if res.meta[c]["kind"] == "individual"
                  or res.meta[c].get("segment") == info.get("segment")]
    labels = {s["code"]: s["label"] for s in res.stages}
    mine = _cell_texts(res, cjm_id)
    best: tuple[str | None, pd.DataFrame] = (None, pd.DataFrame(columns=cols))
    for other in candidates:
        theirs = _cell_texts(res, other)
        keys = sorted(set(mine) | set(theirs), key=lambda k: (list(labels).index(k[1]) if k[1] in labels else 99, k[0]))
        rows = [{"stage": labels.get(k[1], k[1]), "row": (mine.get(k) or theirs.get(k))[0],
                 "here": mine.get(k, ("", "—"))[1], "there": theirs.get(k, ("", "—"))[1]}
                for k in keys if mine.get(k, ("", ""))[1] != theirs.get(k, ("", ""))[1]]
        if best[0] is None or len(rows) < len(best[1]):
            best = (other, pd.DataFrame(rows, columns=cols))
    return best


READY_SHOWN = 10  # customers ready now listed in the report (the workbook has them all)


def _ready_frame(res: CJMResult, lang: str) -> pd.DataFrame:
    """Customers ready now (order due by rhythm, open deal, recent enquiry), biggest revenue first."""
    from workbench.maps.nurturing import READY

    r = res.readiness
    if r is None or not len(r):
        return pd.DataFrame(columns=["customer_name", "segment", "manager", "readiness", "due_date"])
    r = r[r["readiness"].isin(list(READY))].sort_values(C.REVENUE, ascending=False, kind="stable")
    return pd.DataFrame({
        "customer_name": r[C.CUSTOMER_NAME].astype(str).tolist(),
        "segment": [t("cjm.tier", lang).get(x, x) for x in r[C.TIER]],
        "manager": r[C.MANAGER].astype(str).tolist(),
        "readiness": [t("cjm.readiness", lang)[x] for x in r["readiness"]],
        "due_date": [fmt.day(x, lang) if pd.notna(x) else "" for x in r["due_date"]],
    })


def render_nurturing(res: CJMResult, lang: str) -> str:
    """The nurturing programme: who is ready now (from the data), the programme per segment
    (weeks, stage, committee role, content, call to action), and the 3 / 40 / 57 % only as the
    market's rule of thumb it is."""
    if res.nurturing is None or not len(res.nurturing):
        return ""
    parts = [f"<h3>{H.esc(t('cjm.nurturing_title', lang))}</h3>", H.para(t("cjm.nurturing_intro", lang)),
             H.callout(str(t("cjm.nurturing_rule_of_thumb", lang)), "info")]
    headers = t("cjm.nurturing_headers", lang)
    counts = res.nurturing.assign(segment=[t("cjm.tier", lang).get(x, x) for x in res.nurturing["segment"]])
    parts.append(H.table(counts[list(headers)], headers=headers, numeric=[c for c in headers if c != "segment"]))
    ready = _ready_frame(res, lang)
    if len(ready):
        parts.append(f"<h4>{H.esc(t('cjm.ready_title', lang))}</h4>")
        parts.append(H.table(ready, headers=t("cjm.ready_headers", lang), max_rows=READY_SHOWN,
                             sheet=str(t("cjm.ready_sheet", lang)), lang=lang))
    prog = res.programmes
    programmes: list[str] = []
    for segment in res.nurturing["segment"]:
        label = t("cjm.tier", lang).get(segment, segment)
        steps = prog[prog["segment"] == segment] if prog is not None and len(prog) else prog
        if steps is None or not len(steps):
            programmes.append(H.para(t("cjm.programme_none", lang, segment=label), "wb-muted"))
            continue
        title = t("cjm.programme_title", lang, segment=label, weeks=int(steps["weeks"].iloc[0]))
        headers = t("cjm.programme_headers", lang)
        programmes.append(f"<h4>{H.esc(title)}</h4>" + H.table(steps[list(headers)], headers=headers, numeric=("week",)))
    # the programmes' week-by-week steps are reference: the appendix and the workbook hold them
    parts.append(H.para(t("cjm.programme_where", lang, sheet=t("cjm.programme_sheet", lang)), "wb-muted"))
    parts.append(H.appendix("".join(programmes)))
    return "".join(parts)


def _anchor(cjm_id: str) -> str:
    """An HTML id made of our own characters only (customer ids are hashed, never echoed)."""
    import hashlib

    _, _, rest = cjm_id.partition(":")
    if rest.isascii() and rest.replace("_", "").isalnum():
        return f"cjm-{rest}"
    return "cjm-" + hashlib.sha1(rest.encode("utf-8")).hexdigest()[:10]


# ----------------------------------------------------------------------------- workbook
GRID_FIRST_ROW = 4  # title, note, header


def _sheet_name(res: CJMResult, cjm_id: str, lang: str) -> str:
    info = res.meta[cjm_id]
    prefix = t("cjm.sheet_prefix", lang)
    if info["kind"] == "group":
        name = f"{prefix} {t('cjm.tier', lang).get(info['segment'], info['segment'])}"
        return name + " " + str(t("cjm.sheet_tender", lang)) if info.get("tender") else name
    return f"{prefix} {info['customer_name'] or info['customer_id']}"


def add_cjm_sheets(book: Book, cjm_result: CJMResult, lang: str) -> None:
    """Add one sheet per CJM (stages as columns; progresses then value elements, grouped and
    coloured by level; wrapped text; frozen headers; A3 landscape; the stage rules below the
    grid), then the task-list sheet and the nurturing sheet. Modifies ``book`` only."""
    res = cjm_result
    stage_width, label_width = 30.0, 34.0
    for cjm_id, grid in res.grids.items():
        info = res.meta[cjm_id]
        ws = book.add_sheet(_sheet_name(res, cjm_id, lang), title=info["title"])
        set_value(ws.cell(row=1, column=1), info["title"])
        ws.cell(row=1, column=1).font = TITLE_FONT
        set_value(ws.cell(row=2, column=1), _note(res, cjm_id, lang, html=False))
        ws.cell(row=2, column=1).font = Font(italic=True, color="555555")
        header = [t("cjm.row_header", lang)] + [s["label"] for s in res.stages]
        for j, text in enumerate(header, start=1):
            cell = ws.cell(row=3, column=j)
            set_value(cell, text)
            cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions["A"].width = label_width
        for j in range(2, len(header) + 1):
            ws.column_dimensions[get_column_letter(j)].width = stage_width
        r = GRID_FIRST_ROW
        for key, first, recs in _groups(grid):
            dark, light = LEVEL_COLOURS[key]
            for j in range(1, len(header) + 1):
                style(ws.cell(row=r, column=j), fill=solid_fill(dark), border=BORDER,
                      font=font_of(bold=True, color="FFFFFF") if j == 1 else None)
            set_value(ws.cell(row=r, column=1), _group_label(first, lang))
            r += 1
            for rec in recs:
                label = ws.cell(row=r, column=1)
                set_value(label, rec["row_label"])
                style(label, font=font_of(bold=True), fill=solid_fill(light), border=BORDER, alignment=WRAP)
                lines = math.ceil(len(str(rec["row_label"])) / label_width)
                for j, s in enumerate(res.stages, start=2):
                    text = rec[s["code"]]
                    cell = ws.cell(row=r, column=j)
                    style(cell, fill=solid_fill(light) if text else None, border=BORDER, alignment=WRAP)
                    if text:
                        set_value(cell, text)
                        lines = max(lines, math.ceil(len(text) / (stage_width - 2)))
                ws.row_dimensions[r].height = 15 * max(1, lines) + 2
                r += 1
        # stage rules below the grid
        r += 1
        rules = res.rules[cjm_id]
        headers = t("cjm.rules_headers", lang)
        set_value(ws.cell(row=r, column=1), t("cjm.rules_title", lang))
        ws.cell(row=r, column=1).font = Font(bold=True, size=12, color="1F4E79")
        r += 1
        for j, col in enumerate(headers, start=1):
            cell = ws.cell(row=r, column=j)
            set_value(cell, headers[col])
            cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for rec in rules.to_dict("records"):
            r += 1
            for j, col in enumerate(headers, start=1):
                value = rec[col]
                if col in ("month", "deadline"):
                    value = fmt.month(value, lang, short=True)
                cell = ws.cell(row=r, column=j)
                set_value(cell, value)
                whole = isinstance(value, (int, float)) and not isinstance(value, bool) and cell.value is not None
                style(cell, border=BORDER, alignment=WRAP, number_format=FORMATS["int"] if whole else None)
        ws.freeze_panes = ws.cell(row=GRID_FIRST_ROW, column=2)
        Book.print_setup(ws, landscape=True, paper="A3", header_row=3)

    tasks = res.tasks
    if len(tasks):
        from workbench.maps import label
        from workbench.report.xlsx import split_by_unit

        owner = t("cjm.owner", lang)
        names = {m: (info.get("customer_name") or "") for m, info in res.meta.items()}
        shown = tasks.assign(
            map_id=[res.meta[m]["title"] for m in tasks["map_id"]],
            segment=[t("cjm.tier", lang).get(s, s) for s in tasks["segment"]],
            customer_id=[names.get(m, "") for m in tasks["map_id"]],
            owner=[owner.get(o, o) for o in tasks["owner"]],
            track=[label("track", x, lang) for x in tasks["track"]],
            kpi_source=[label("source", x, lang) for x in tasks["kpi_source"]],
            month=[fmt.month(m, lang, short=True) if m else "" for m in tasks["month"]],
            deadline=[fmt.month(m, lang, short=True) if m else "" for m in tasks["deadline"]],
        )
        # the KPI's code is ours; its name says it; values stand in columns of their unit
        headers = {k: v for k, v in t("cjm.tasks_headers", lang).items() if k != "kpi"}
        shown, unit_headers, kinds = split_by_unit(shown[list(headers)], ["baseline", "target"], "unit", headers, lang,
                                                   getattr(book, "currency", "RUB"))
        book.add_table(t("cjm.tasks_sheet", lang), shown.drop(columns="unit"), title=t("cjm.tasks_title", lang),
                       headers={**headers, **unit_headers}, kinds=kinds,
                       widths={"activity": 50, "kpi_name": 40, "map_id": 28}, wrap=("activity", "kpi_name", "map_id"),
                       landscape=True)
    if len(res.nurturing):
        headers = t("cjm.nurturing_headers", lang)
        nurt = res.nurturing.assign(segment=[t("cjm.tier", lang).get(s, s) for s in res.nurturing["segment"]])
        book.add_table(t("cjm.readiness_sheet", lang), nurt[list(headers)], title=t("cjm.nurturing_title", lang),
                       headers=headers, kinds={c: "int" for c in headers if c != "segment"},
                       description=t("cjm.nurturing_rule_of_thumb", lang))
        ready = _ready_frame(res, lang)
        if len(ready):
            book.add_table(t("cjm.ready_sheet", lang), ready, title=t("cjm.ready_title", lang),
                           headers=t("cjm.ready_headers", lang), widths={"customer_name": 40})
        if res.programmes is not None and len(res.programmes):
            prog = res.programmes.assign(segment=[t("cjm.tier", lang).get(x, x) for x in res.programmes["segment"]])
            cols = ["segment", "weeks"] + list(t("cjm.programme_headers", lang))
            book.add_table(t("cjm.programme_sheet", lang), prog[cols], title=t("cjm.programme_sheet", lang),
                           headers={"segment": t("cjm.nurturing_headers", lang)["segment"],
                                    "weeks": t("cjm.programme_weeks", lang),
                                    **t("cjm.programme_headers", lang)},
                           kinds={"weeks": "int", "week": "int"}, widths={"content": 45, "cta": 35},
                           wrap=("content", "cta"), landscape=True)


# ----------------------------------------------------------------------------- findings
def cjm_findings(cjm_result: CJMResult, lang: str) -> list[dict[str, Any]]:
    """Findings for the summary: dicts with severity ('risk'|'warn'|'info'|'ok'), headline,
    number (display text), action, weight (higher = more important), most important first."""
    res = cjm_result
    out: list[dict[str, Any]] = []
    if not res.tables:
        return out
    out.append({"severity": "info", "weight": 1,
                "headline": t("cjm.f_built", lang, n=len(res.tables), tasks=len(res.tasks)),
                "number": fmt.number(len(res.tasks), lang), "action": t("cjm.f_built_action", lang)})
    if len(res.dropped):
        n = int((res.dropped["row"] != "").sum())
        # columns that are the client's CRM stages leave the hourglass's other cells out by
        # design: the consultant's note, not the client's
        deal_columns = any(str(s["code"]).startswith(DEAL_STAGE_PREFIX) for s in res.stages)
        out.append({"severity": "warn", "weight": 3, "headline": t("cjm.f_dropped", lang, n=n),
                    "number": fmt.number(n, lang),
                    "action": t("cjm.f_dropped_action", lang, stages=", ".join(s["code"] for s in res.stages)),
                    **({"audience": "consultant"} if deal_columns else {})})
    no_manager = [m for m in res.meta.values() if m["kind"] == "individual" and not m["manager"]]
    if no_manager:
        out.append({"severity": "warn", "weight": 3,
                    "headline": t("cjm.f_no_manager", lang, n=len(no_manager)),
                    "number": fmt.number(len(no_manager), lang), "action": t("cjm.f_no_manager_action", lang)})
    gaps = 0
    for cjm_id, rules in res.rules.items():
        empty = rules.loc[rules["cells"] == 0, "stage_label"].tolist()
        if empty:
            gaps += 1
            out.append({"severity": "warn", "weight": 2,
                        "headline": t("cjm.f_gaps", lang, title=res.meta[cjm_id]["title"], stages=", ".join(empty)),
                        "number": fmt.number(len(empty), lang), "action": t("cjm.f_gaps_action", lang)})
    if res.readiness is not None and len(res.readiness):
        due = int((res.readiness["readiness"] == "due").sum())
        if due:
            out.append({"severity": "info", "weight": 1, "headline": t("cjm.f_ready", lang, n=due),
                        "number": fmt.number(due, lang), "action": t("cjm.f_ready_action", lang),
                        "owner": "farmer", "due": f"{res.plan_start}-01" if res.plan_start else ""})
    if not gaps:
        out.append({"severity": "ok", "weight": 0, "headline": t("cjm.f_full", lang),
                    "number": fmt.number(len(res.tables), lang), "action": t("cjm.f_full_action", lang)})
    return sorted(out, key=lambda f: -f["weight"])
