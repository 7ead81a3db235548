"""Small HTML building blocks for report sections. Every client string is escaped here.

Sections are plain HTML strings styled by the report template's CSS
(``templates/report/``); notebooks ``display(HTML(...))`` them and nbconvert carries
them into ``report.html``.

Two audiences read these blocks: the client's management (``report.html``) and the
consultant (the notebooks and ``consultant-notes.html``). A block wrapped in
``consultant()`` (setup instructions, tables still to be filled in, raw settings, all-zero
tiles) shows in the notebook and the consultant's note and is taken out of the client's
report by ``workbench.report.assemble``.
"""
from __future__ import annotations

import html as _html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd


def esc(value: Any) -> str:
    """Escape any value for HTML text or attribute context."""
    return _html.escape("" if value is None else str(value), quote=True)


def section(anchor: str, title: str, body: str, level: int = 2) -> str:
    """A report section ``<section id=anchor><hN>title</hN>body</section>``.

    ``anchor`` must be our own identifier (letters, digits, dashes), never client text.
    """
    if not all(ch.isalnum() or ch in "-_" for ch in anchor):
        raise ValueError(f"section anchor {anchor!r}: letters, digits, - and _ only")
    return (f'<section class="wb-section" id="{anchor}"><h{level} id="h-{anchor}">{esc(title)}'
            f"</h{level}>{body}</section>")


def para(text: str, cls: str = "") -> str:
    """A paragraph of plain text (escaped)."""
    return f'<p class="{esc(cls)}">{esc(text)}</p>' if cls else f"<p>{esc(text)}</p>"


def counted(fill: Callable[..., str], counts: Mapping[str, tuple[str, str]]) -> str:
    """Text holding counts a test can find: ``fill(**marks)`` returns the message with a mark
    in place of each count; each becomes ``<span class="wb-count" data-count="key">shown</span>``
    (``counts``: name -> (count key, shown text)); everything else is escaped."""
    marks = {name: f"\x00{i}\x00" for i, name in enumerate(counts)}
    text = esc(fill(**marks))
    for name, (key, shown) in counts.items():
        text = text.replace(marks[name], f'<span class="wb-count" data-count="{esc(key)}">{esc(shown)}</span>')
    return text


def bullets(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def more_caption(shown: int, total: int, sheet: str, lang: str) -> str:
    """``Показаны первые 15 из 84; полный список — в книге Excel, лист «Ключевые клиенты».``
    ("" when nothing was cut)."""
    from workbench.i18n import t

    if total <= shown:
        return ""
    return str(t("report.more_in_sheet" if sheet else "report.more", lang, shown=shown, total=total, sheet=sheet))


def table(df: pd.DataFrame, headers: Mapping[str, str] | None = None,
          formats: Mapping[str, Callable[[Any], str]] | None = None,
          numeric: Sequence[str] = (), cls: str = "wb-table", max_rows: int | None = None,
          caption: str = "", row_classes: Sequence[str] | None = None, drop_empty: bool = True,
          sheet: str = "", lang: str = "ru") -> str:
    """Render a DataFrame as an escaped HTML table.

    headers: column -> displayed label (columns not listed are shown under their name)
    formats: column -> function turning a value into display text (escaped afterwards)
    numeric: columns aligned right
    max_rows: cut after this many rows; with ``sheet`` (the workbook sheet holding the whole
        list) the caption says so in ``lang`` («Показаны первые 10 из 84; полный список — в
        книге Excel, лист «…»»), otherwise the caller states the cut in ``caption``
    row_classes: one CSS class per row (our own codes, e.g. tier names)
    drop_empty: leave out columns with no value in any shown row (e.g. a potential the
        client's file does not have)
    Long text columns get the ``wide`` class so they are not squeezed into a narrow strip.
    """
    headers = headers or {}
    formats = formats or {}
    shown = df if max_rows is None else df.head(max_rows)
    if sheet and max_rows is not None and len(df) > max_rows:
        caption = " ".join(x for x in (caption, more_caption(max_rows, len(df), sheet, lang)) if x)
    cols = list(shown.columns)
    if drop_empty and len(shown):
        cols = [c for c in cols if not shown[c].map(lambda v: _missing(v) or v == "").all()]
    values = {c: shown[c].tolist() for c in cols}
    texts = {c: [formats[c](v) if c in formats else ("" if _missing(v) else v) for v in values[c]]
             for c in cols}
    klass = {c: "num" if c in numeric else
             ("wide" if any(len(str(x)) > 40 for x in texts[c]) else "") for c in cols}
    head = "".join(f'<th class="{klass[c]}">{esc(headers.get(c, c))}</th>' for c in cols)
    rows = []
    for i in range(len(shown)):
        cells = []
        for c in cols:
            cells.append(f'<td class="{klass[c]}">{esc(texts[c][i])}</td>')
        rc = f' class="{esc(row_classes[i])}"' if row_classes is not None else ""
        rows.append(f"<tr{rc}>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<div class="wb-table-wrap"><table class="{esc(cls)}">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def details(summary: str, body: str, open_: bool = False) -> str:
    """A collapsible block (native HTML, no script): long tables the reader opens when needed."""
    return (f'<details class="wb-details"{" open" if open_ else ""}><summary>{esc(summary)}</summary>'
            f"{body}</details>")


CONSULTANT_OPEN = "<!--wb:consultant-->"
CONSULTANT_CLOSE = "<!--/wb:consultant-->"


def consultant(body: str) -> str:
    """Mark a block as the consultant's only: kept in the notebook and the consultant's note,
    left out of the client's report. Blocks are not nested (client text is escaped and can
    never hold the markers)."""
    return f"{CONSULTANT_OPEN}{body}{CONSULTANT_CLOSE}" if body else ""


APPENDIX_OPEN = "<!--wb:appendix-->"
APPENDIX_CLOSE = "<!--/wb:appendix-->"


def appendix(body: str) -> str:
    """Mark a block as reference material: in the client's report it moves to the appendix,
    under its section's name (full CJM grids, long lists); the notebook shows it in place."""
    return f"{APPENDIX_OPEN}{body}{APPENDIX_CLOSE}" if body else ""


NOTEBOOK_OPEN = "<!--wb:notebook-->"
NOTEBOOK_CLOSE = "<!--/wb:notebook-->"


def notebook_only(body: str) -> str:
    """Mark a block as the working view's only: shown in the notebook, left out of the report
    and the consultant's note (a long list the workbook holds in full; the report says where)."""
    return f"{NOTEBOOK_OPEN}{body}{NOTEBOOK_CLOSE}" if body else ""


def landscape(body: str) -> str:
    """A block printed on landscape A4 pages (a wide grid or table); on screen it scrolls."""
    return f'<div class="wb-landscape">{body}</div>' if body else ""


def _zero(value: str) -> bool:
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return bool(digits) and set(digits) == {"0"}


def kpi_tiles(items: Sequence[tuple[str, str, str]]) -> str:
    """A row of headline numbers: (label, value, note).

    A row whose every value is zero tells management nothing: it goes to the consultant
    (see ``consultant``).
    """
    if items and all(_zero(v) for _, v, _ in items):
        return consultant(_tiles(items))
    return _tiles(items)


def _tiles(items: Sequence[tuple[str, str, str]]) -> str:
    tiles = "".join(
        f'<div class="wb-tile"><div class="wb-tile-value">{esc(v)}</div>'
        f'<div class="wb-tile-label">{esc(label)}</div>'
        + (f'<div class="wb-tile-note">{esc(note)}</div>' if note else "") + "</div>"
        for label, v, note in items)
    return f'<div class="wb-tiles">{tiles}</div>'


def callout(text: str, kind: str = "info") -> str:
    """A highlighted remark; kind is one of info, warn, risk, ok."""
    if kind not in ("info", "warn", "risk", "ok"):
        raise ValueError(f"callout kind {kind!r}: allowed info, warn, risk, ok")
    return f'<div class="wb-callout wb-{kind}">{esc(text)}</div>'


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
