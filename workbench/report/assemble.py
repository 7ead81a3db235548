"""report.html: the executed notebooks' outputs in our own nbconvert template.

Only outputs of code cells reach the report (no code, prompts, streams, tracebacks,
markdown or parameters); the executive summary comes first and the data appendix last.
The result is one self-contained HTML file: our CSS inline, images as data URIs, no
scripts.
"""
from __future__ import annotations

import base64
import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from workbench.config import TEMPLATES_DIR
from workbench.i18n import t
from workbench.report import fmt

_H2 = re.compile(r'<h2 id="h-([A-Za-z0-9_-]+)">(.*?)</h2>', re.DOTALL)
REMOVE_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove-output"}
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def report_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Code cells of an executed notebook that carry report output (HTML or images only)."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or REMOVE_TAGS & set(cell.metadata.get("tags", [])):
            continue
        outputs = [o for o in cell.get("outputs", [])
                   if o.get("output_type") in ("display_data", "execute_result")
                   and ("text/html" in o.get("data", {}) or "image/png" in o.get("data", {}))]
        for o in outputs:  # keep only the rich part we render
            o["data"] = {k: v for k, v in o["data"].items() if k in ("text/html", "image/png")}
        if outputs:
            new = nbformat.v4.new_code_cell(source="", outputs=outputs)
            cells.append(new)
    return cells


def merge_for_report(notebooks: Sequence[nbformat.NotebookNode], summary_html: str,
                     appendix_first: bool = True) -> nbformat.NotebookNode:
    """One notebook for the report: the summary, then each notebook's report cells.

    The first notebook (the import) goes last, as the data appendix, when ``appendix_first``.
    """
    ordered = list(notebooks[1:]) + list(notebooks[:1]) if appendix_first else list(notebooks)
    merged = nbformat.v4.new_notebook()
    merged.cells.append(nbformat.v4.new_code_cell(source="", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": summary_html})]))
    for nb in ordered:
        merged.cells.extend(report_cells(nb))
    return merged


def logo_data_uri(path: Path | None) -> str:
    """The logo as a data URI ("" when there is none or its type is not an image we embed)."""
    if path is None or not path.is_file():
        return ""
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        return ""
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def render_report(merged: nbformat.NotebookNode, context: Mapping[str, Any]) -> str:
    """Render the merged notebook to a self-contained HTML string.

    context: client, firm, logo_uri, month ('YYYY-MM'), lang, currency, today (date)
    """
    from nbconvert import HTMLExporter

    lang = str(context["lang"])
    html_parts = [o["data"].get("text/html", "") for c in merged.cells for o in c.get("outputs", [])]
    toc = [(anchor, title) for part in html_parts for anchor, title in _H2.findall(
        part if isinstance(part, str) else "".join(part))]
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
        "footer": t("report.footer", lang, client=context["client"]),
        "css": (TEMPLATES_DIR / "report" / "report.css").read_text(encoding="utf-8"),
    }
    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATES_DIR)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(merged, resources={"wb": wb})
    return body
