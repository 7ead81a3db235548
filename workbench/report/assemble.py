"""report.html and consultant-notes.html: the executed notebooks' outputs in our own
nbconvert template.

Only outputs of code cells reach the report (no code, prompts, streams, tracebacks,
markdown or parameters); the executive page comes first, then the sections, then the
appendix (other findings, terms, the import of the data). Blocks a section marked for the
consultant (``workbench.report.html.consultant``) are taken out of the client's report and
gathered, with the consultant's findings, into ``consultant-notes.html``. Each result is one
self-contained HTML file: our CSS inline, charts as inline SVG, no scripts.
"""
from __future__ import annotations

import base64
import copy
import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from workbench.config import TEMPLATES_DIR
from workbench.i18n import t
from workbench.report import fmt
from workbench.report.html import (
    APPENDIX_CLOSE,
    APPENDIX_OPEN,
    CONSULTANT_CLOSE,
    CONSULTANT_OPEN,
    NOTEBOOK_CLOSE,
    NOTEBOOK_OPEN,
    esc,
    section,
)

_H2 = re.compile(r'<h2 id="h-([A-Za-z0-9_-]+)">(.*?)</h2>', re.DOTALL)
_CONSULTANT = re.compile(re.escape(CONSULTANT_OPEN) + r"(.*?)" + re.escape(CONSULTANT_CLOSE), re.DOTALL)
_APPENDIX = re.compile(re.escape(APPENDIX_OPEN) + r"(.*?)" + re.escape(APPENDIX_CLOSE), re.DOTALL)
_NOTEBOOK = re.compile(re.escape(NOTEBOOK_OPEN) + r"(.*?)" + re.escape(NOTEBOOK_CLOSE), re.DOTALL)
# A heading followed by a chart: kept on one page (a chart cannot break, and Chromium leaves the
# heading behind when the chart moves on to the next page).
_HEADED_CHART = re.compile(r'(<h[2-4][^>]*>(?:(?!</h[2-4]>).)*</h[2-4]>\s*<figure class="wb-chart">.*?</figure>)',
                           re.DOTALL)
REMOVE_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove-output"}
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def _html_text(output: Mapping[str, Any]) -> str:
    """An output's HTML, without the blocks meant for the notebook only."""
    value = output.get("data", {}).get("text/html", "")
    return _NOTEBOOK.sub("", value if isinstance(value, str) else "".join(value))


def _rich_outputs(cell: Any) -> list[Any]:
    if cell.cell_type != "code" or REMOVE_TAGS & set(cell.metadata.get("tags", [])):
        return []
    return [o for o in cell.get("outputs", [])
            if o.get("output_type") in ("display_data", "execute_result")
            and ("text/html" in o.get("data", {}) or "image/png" in o.get("data", {}))]


def report_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Code cells of an executed notebook that carry report output (HTML or images only),
    with the consultant's blocks and the appendix's blocks taken out (see ``appendix_blocks``).
    The notebook itself is not changed."""
    cells = []
    for cell in notebook.cells:
        outputs = []
        for o in _rich_outputs(cell):
            data = {k: v for k, v in o["data"].items() if k in ("text/html", "image/png")}
            if "text/html" in data:
                data["text/html"] = _HEADED_CHART.sub(r'<div class="wb-keep">\1</div>',
                                                      _APPENDIX.sub("", _CONSULTANT.sub("", _html_text(o))))
            out = copy.deepcopy(o)
            out["data"] = data
            outputs.append(out)
        if outputs:
            cells.append(nbformat.v4.new_code_cell(source="", outputs=outputs))
    return cells


def _blocks(notebook: nbformat.NotebookNode, pattern: re.Pattern[str]) -> list[tuple[str, str, str]]:
    out = []
    for cell in notebook.cells:
        for o in _rich_outputs(cell):
            text = _html_text(o)
            heading = _H2.search(text)
            anchor, title = (heading.group(1), re.sub(r"<[^>]+>", "", heading.group(2))) if heading else ("", "")
            out.extend((anchor, title, block) for block in pattern.findall(text) if block.strip())
    return out


def consultant_blocks(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """The consultant's blocks of a notebook's report output: (section title, HTML)."""
    return [(title, block) for _, title, block in _blocks(notebook, _CONSULTANT)]


def appendix_blocks(notebooks: Sequence[nbformat.NotebookNode]) -> str:
    """The blocks sections marked for the appendix, under their sections' names (anchors
    ``appendix-<section>``), consultant blocks inside them taken out."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for nb in notebooks:
        for anchor, title, block in _blocks(nb, _APPENDIX):
            grouped.setdefault((anchor, title), []).append(_CONSULTANT.sub("", block))
    out = []
    for (anchor, title), blocks in grouped.items():
        html = section(f"appendix-{anchor or 'more'}", title, "".join(blocks), level=3)
        # the heading goes onto the landscape page with its grids, not alone before it
        wide = all(b.lstrip().startswith('<div class="wb-landscape">') for b in blocks)
        out.append(f'<div class="wb-landscape">{html}</div>' if wide else html)
    return "".join(out)


_FIGURE = re.compile(r'<figure class="wb-chart">.*?</figure>', re.DOTALL)


def drop_repeated_charts(cells: list[nbformat.NotebookNode], note: str) -> None:
    """A chart drawn twice (the same picture, e.g. the revenue bridge on the executive page and
    in its section) is kept where it first appears; later copies become ``note`` (our HTML)."""
    seen: set[str] = set()

    def once(m: re.Match[str]) -> str:
        if m.group(0) in seen:
            return note
        seen.add(m.group(0))
        return m.group(0)

    for cell in cells:
        for o in cell.get("outputs", []):
            if "text/html" in o.get("data", {}):
                o["data"]["text/html"] = _FIGURE.sub(once, _html_text(o))


def _html_cell(html: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source="", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": html})])


def merge_for_report(notebooks: Sequence[nbformat.NotebookNode], summary_html: str,
                     appendix_first: bool = True, appendix_html: str = "", lang: str = "ru") -> nbformat.NotebookNode:
    """One notebook for the report: the summary, each notebook's report cells, the appendix.

    The first notebook (the import) goes last, into the appendix, when ``appendix_first``;
    ``appendix_html`` (other findings, terms) opens the appendix. A chart shown twice is kept
    where it first appears (``drop_repeated_charts``).
    """
    body = list(notebooks[1:]) if appendix_first else list(notebooks)
    tail = list(notebooks[:1]) if appendix_first else []
    merged = nbformat.v4.new_notebook()
    merged.cells.append(_html_cell(summary_html))
    for nb in body:
        merged.cells.extend(report_cells(nb))
    if appendix_html:
        merged.cells.append(_html_cell(appendix_html))
    for nb in tail:
        merged.cells.extend(report_cells(nb))
    drop_repeated_charts(merged.cells, f'<p class="wb-muted">{esc(t("report.chart_above", lang))}</p>')
    return merged


def logo_data_uri(path: Path | None) -> str:
    """The logo as a data URI ("" when there is none or its type is not an image we embed)."""
    if path is None or not path.is_file():
        return ""
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        return ""
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def css_string(text: str) -> str:
    """``text`` as a CSS string literal: every character outside ASCII letters and digits is
    written as a six-digit hex escape, so a client name can never end the string or the style
    sheet (spaces too: CSS would swallow a space after an escape as its terminator)."""
    out = []
    for ch in str(text):
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'


def render_report(merged: nbformat.NotebookNode, context: Mapping[str, Any]) -> str:
    """Render the merged notebook to a self-contained HTML string.

    context: client, firm, logo_uri, month ('YYYY-MM'), lang, currency, today (date)
    """
    from nbconvert import HTMLExporter

    lang = str(context["lang"])
    html_parts = [_html_text(o) for c in merged.cells for o in c.get("outputs", [])]
    toc = [(anchor, title) for part in html_parts for anchor, title in _H2.findall(part)]
    month_text = fmt.month(str(context["month"]), lang)
    today = context.get("today") or _dt.date.today()
    wb = {
        "lang": lang,
        "client": context["client"],
        "firm": context.get("firm", ""),
        "logo_uri": context.get("logo_uri", ""),
        "title": t("report.title", lang, client=context["client"], month=month_text),
        "subtitle": t("report.subtitle", lang),
        "meta": t("report.meta", lang, month=month_text, date=fmt.day(today, lang)),
        "toc_title": t("report.toc_title", lang),
        "toc": [(f"h-{a}", title) for a, title in toc],
        "footer": t("report.footer", lang, client=context["client"],
                    firm=t("report.footer_firm", lang, firm=context["firm"]) if context.get("firm") else ""),
        "css": (TEMPLATES_DIR / "report" / "report.css").read_text(encoding="utf-8"),
        "running_header": css_string(t("report.running_header", lang, client=context["client"], month=month_text)),
        "page_label": css_string(t("report.page", lang)),
        "of_label": css_string(t("report.of", lang)),
    }
    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATES_DIR)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(merged, resources={"wb": wb})
    return body


# --------------------------------------------------------------------------- appendix
def glossary_html(lang: str) -> str:
    """The terms the report uses, one term per concept, in plain words (a table)."""
    rows = "".join(f"<tr><th scope=\"row\">{esc(e['term'])}</th><td>{esc(e['meaning'])}</td></tr>"
                   for e in t("report.glossary", lang))
    return (f'<div class="wb-table-wrap"><table class="wb-table wb-glossary"><thead><tr>'
            f'<th>{esc(t("report.glossary_term", lang))}</th><th>{esc(t("report.glossary_meaning", lang))}</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></div>")


def render_appendix_html(findings: Sequence[Mapping[str, Any]], lang: str, currency: str = "RUB",
                         rules: Mapping[str, Mapping[str, Any]] | None = None, extra_html: str = "") -> str:
    """The appendix's opening (anchor ``appendix``): the management findings that did not
    make the executive page, the sections' reference material (``extra_html``: see
    ``appendix_blocks``), the rules behind the numbers in plain words (``rules``: topic ->
    the values a step used, see ``workbench.report.rules``), and the terms."""
    from workbench.report.rules import rules_html
    from workbench.report.summary import remaining_findings, render_findings_list

    rest = remaining_findings(findings)
    parts = []
    if rest:
        parts.append(section("appendix-findings", t("report.appendix_findings", lang),
                             render_findings_list(rest, lang, currency), level=3))
    parts.append(extra_html)
    for topic, values in (rules or {}).items():
        table = rules_html(values, topic, lang)
        if table:
            parts.append(section(f"rules-{topic}", t("report.rules_title", lang)[topic], table, level=3))
    parts.append(section("glossary", t("report.glossary_title", lang), glossary_html(lang), level=3))
    return section("appendix", t("report.appendix_title", lang), "".join(parts))


# --------------------------------------------------------------------------- consultant's note
def render_consultant_note(notebooks: Sequence[nbformat.NotebookNode], findings: Sequence[Mapping[str, Any]],
                           context: Mapping[str, Any]) -> str:
    """consultant-notes.html: housekeeping findings and every block the sections kept for
    the consultant (setup instructions, tables to fill in, raw settings), by section.

    Self-contained like the report (same CSS, no scripts); never sent to the client.
    """
    from workbench.report.summary import consultant_findings, render_findings_list

    lang = str(context["lang"])
    currency = str(context.get("currency", "RUB"))
    month_text = fmt.month(str(context["month"]), lang)
    parts = [f'<p class="wb-callout wb-warn">{esc(t("report.notes_warning", lang))}</p>']
    mine = consultant_findings(findings)
    if mine:
        parts.append(f"<h2>{esc(t('report.notes_findings', lang))}</h2>" + render_findings_list(mine, lang, currency))
    blocks: dict[str, list[str]] = {}
    for nb in notebooks:
        for title, block in consultant_blocks(nb):
            blocks.setdefault(title, []).append(block)
    for title, items in blocks.items():
        parts.append(f"<h2>{esc(title or t('report.notes_other', lang))}</h2>" + "".join(items))
    if not mine and not blocks:
        parts.append(f"<p>{esc(t('report.notes_empty', lang))}</p>")
    css = (TEMPLATES_DIR / "report" / "report.css").read_text(encoding="utf-8")
    title = t("report.notes_title", lang, client=context["client"], month=month_text)
    return (f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f'<meta name="referrer" content="no-referrer"><title>{esc(title)}</title><style>{css}</style></head>'
            f'<body class="wb-notes"><main class="wb-main"><h1>{esc(title)}</h1>{"".join(parts)}</main></body></html>')


def build_report(notebooks: Sequence[nbformat.NotebookNode], findings: Sequence[Mapping[str, Any]],
                 context: Mapping[str, Any], lead_html: str = "",
                 rules: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[str, str]:
    """Both HTML deliverables of a run: (report.html, consultant-notes.html).

    notebooks: the executed notebooks in run order (the import first)
    findings: every step's findings (``workbench.report.summary.finding`` dicts)
    context: as for ``render_report``
    lead_html: our own HTML shown under the action title (e.g. the revenue bridge chart)
    rules: topic -> the values a step used, for the appendix's rules in plain words
    """
    from workbench.report.summary import render_summary_html

    lang = str(context["lang"])
    currency = str(context.get("currency", "RUB"))
    summary = render_summary_html(findings, lang, currency, lead_html)
    body = list(notebooks[1:])  # the import is the appendix's last part, whole
    merged = merge_for_report(notebooks, summary, appendix_html=render_appendix_html(
        findings, lang, currency, rules, extra_html=appendix_blocks(body)), lang=lang)
    return render_report(merged, context), render_consultant_note(notebooks, findings, context)
