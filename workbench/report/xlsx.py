"""The workbook builder: one coherent ``workbook.xlsx`` with consistent styles.

Every sheet is a table with a title row, bold frozen headers, filters, number
formats, column widths and print setup; a contents sheet links to them all. Client
text is always written as a string cell (never a formula) with control characters
removed.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from workbench.i18n import t

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14, color="1F4E79")
THIN = Side(style="thin", color="D0D0D0")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")

# Number formats by kind; Excel shows them in the user's locale.
FORMATS = {
    "money": "#,##0",
    "money2": "#,##0.00",
    "number": "#,##0",
    "decimal": "#,##0.00",
    "share": "0.0%",
    "int": "0",
    "date": "DD.MM.YYYY",
    "text": "@",
}


def clean_text(value: Any) -> str:
    """Client text made safe for a cell: control characters removed."""
    return _CONTROL.sub("", str(value))


def set_value(cell: Cell, value: Any, kind: str | None = None) -> None:
    """Write one value; strings are forced to be strings (never formulas)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        cell.value = None
        return
    if isinstance(value, str):
        cell.value = clean_text(value)
        cell.data_type = "s"  # a leading "=" stays text
        return
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, bool):
        cell.value = value
        return
    cell.value = value
    if kind:
        cell.number_format = FORMATS[kind]


class Book:
    """A workbook under construction. ``add_table`` adds a sheet; ``workbook`` returns it.

    lang: language of the contents sheet.
    """

    def __init__(self, lang: str = "ru", title: str = "") -> None:
        self.lang = lang
        self.wb = Workbook()
        self.contents = self.wb.active
        self.contents.title = str(t("workbook.contents", lang))[:31]
        self._entries: list[tuple[str, str]] = []
        self.title = title

    def _unique_name(self, name: str) -> str:
        base = re.sub(r"[\[\]\*\?/\\:]", " ", clean_text(name)).strip()[:31] or "Sheet"
        candidate, n = base, 2
        existing = {ws.title.lower() for ws in self.wb.worksheets}
        while candidate.lower() in existing:
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)] + suffix
            n += 1
        return candidate

    def add_table(self, name: str, df: pd.DataFrame, title: str = "",
                  headers: Mapping[str, str] | None = None,
                  kinds: Mapping[str, str] | None = None,
                  widths: Mapping[str, float] | None = None,
                  description: str = "", landscape: bool = False, wrap: Sequence[str] = ()) -> Worksheet:
        """Add a sheet holding ``df`` as a table.

        name: sheet name (cut to 31 characters, made unique)
        headers: column -> displayed header
        kinds: column -> number format kind (keys of FORMATS)
        widths: column -> width in characters (otherwise estimated from the content)
        wrap: columns whose text wraps
        Returns the worksheet for extra styling.
        """
        headers, kinds, widths = headers or {}, kinds or {}, widths or {}
        ws = self.wb.create_sheet(self._unique_name(name))
        set_value(ws.cell(row=1, column=1), title or name)
        ws.cell(row=1, column=1).font = TITLE_FONT
        header_row = 2
        if description:
            set_value(ws.cell(row=2, column=1), description)
            ws.cell(row=2, column=1).font = Font(italic=True, color="555555")
            header_row = 3
        cols = list(df.columns)
        for j, col in enumerate(cols, start=1):
            cell = ws.cell(row=header_row, column=j)
            set_value(cell, headers.get(col, col))
            cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        values = {c: df[c].tolist() for c in cols}
        for i in range(len(df)):
            r = header_row + 1 + i
            for j, col in enumerate(cols, start=1):
                cell = ws.cell(row=r, column=j)
                set_value(cell, values[col][i], kinds.get(col))
                if col in wrap:
                    cell.alignment = WRAP
        for j, col in enumerate(cols, start=1):
            letter = get_column_letter(j)
            if col in widths:
                ws.column_dimensions[letter].width = widths[col]
            else:
                sample = [str(headers.get(col, col))] + [str(v) for v in values[col][:200]]
                ws.column_dimensions[letter].width = max(8, min(48, max(len(s) for s in sample) + 2))
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        if cols:
            ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(cols))}{header_row + max(len(df), 1)}"
        self.print_setup(ws, landscape=landscape, header_row=header_row)
        self._entries.append((ws.title, title or name))
        return ws

    def add_sheet(self, name: str, title: str = "") -> Worksheet:
        """Add an empty sheet listed in the contents (for grids drawn by the caller)."""
        ws = self.wb.create_sheet(self._unique_name(name))
        self._entries.append((ws.title, title or name))
        return ws

    @staticmethod
    def print_setup(ws: Worksheet, landscape: bool = False, header_row: int | None = None,
                    paper: str = "A4") -> None:
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.page_setup.paperSize = ws.PAPERSIZE_A3 if paper == "A3" else ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        if header_row:
            ws.print_title_rows = f"{header_row}:{header_row}"

    def workbook(self) -> Workbook:
        """Finish the contents sheet and return the openpyxl Workbook."""
        ws = self.contents
        for row in ws.iter_rows():
            for cell in row:
                cell.value = None
        set_value(ws.cell(row=1, column=1), self.title or t("workbook.contents", self.lang))
        ws.cell(row=1, column=1).font = TITLE_FONT
        set_value(ws.cell(row=2, column=1), t("workbook.sheet", self.lang))
        set_value(ws.cell(row=2, column=2), t("workbook.what", self.lang))
        for c in (ws.cell(row=2, column=1), ws.cell(row=2, column=2)):
            c.font, c.fill = HEADER_FONT, HEADER_FILL
        for i, (sheet, label) in enumerate(self._entries, start=3):
            cell = ws.cell(row=i, column=1)
            set_value(cell, sheet)
            cell.hyperlink = f"#'{sheet}'!A1"
            cell.font = Font(color="0563C1", underline="single")
            set_value(ws.cell(row=i, column=2), label)
        ws.column_dimensions["A"].width = 34
        ws.column_dimensions["B"].width = 70
        ws.freeze_panes = "A3"
        self.print_setup(ws)
        return self.wb
