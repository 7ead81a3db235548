"""The workbook builder: one coherent ``workbook.xlsx`` with consistent styles.

Every sheet is a table with a title row, bold frozen headers, filters, number
formats, column widths and print setup; a contents sheet links to them all. Client
text is always written as a string cell (never a formula) with control characters
removed.

A sales team works from this workbook, so: every number carries a number format (money
with the currency sign, shares as percentages, counts as whole numbers; a numeric column
without a stated kind gets one from its values), money, shares and counts never share a
column (``split_by_unit``), yes/no is written in the workbook's language, a column empty
in every row and a sheet without rows are left out, and sheet names are made safe from
any customer name (Excel's forbidden characters, a leading or trailing apostrophe, 31
characters, the reserved name "History", duplicates) with contents links that work.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from copy import copy
from functools import cache
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from workbench.i18n import t
from workbench.io import xlsxout

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14, color="1F4E79")
THIN = Side(style="thin", color="D0D0D0")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")


@cache
def solid_fill(rgb: str) -> PatternFill:
    """The one solid fill of colour ``rgb`` (RRGGBB): shared, so ``style`` reuses its style."""
    return PatternFill("solid", fgColor=rgb)


@cache
def font_of(bold: bool | None = None, italic: bool | None = None, color: str | None = None,
            size: float | None = None) -> Font:
    """The one font with these attributes (shared, see ``solid_fill``)."""
    return Font(bold=bold, italic=italic, color=color, size=size)


@cache
def alignment_of(horizontal: str | None = None, vertical: str | None = None,
                 wrap_text: bool | None = None) -> Alignment:
    """The one alignment with these attributes (shared, see ``solid_fill``)."""
    return Alignment(horizontal=horizontal, vertical=vertical, wrap_text=wrap_text)


def style(cell: Cell, font: Font | None = None, fill: PatternFill | None = None, border: Border | None = None,
          alignment: Alignment | None = None, number_format: str | None = None) -> None:
    """Give ``cell`` its whole style at once (a part not given is the default).

    openpyxl hashes a style object (every attribute, recursively) each time one is assigned:
    the grids of the maps and CJM sheets spent most of the workbook's second there. The style
    made once for the same objects (the same instances: this module's constants and cached
    factories) is copied instead, per workbook.
    """
    made: dict[tuple[Any, ...], tuple[Any, ...]] = cell.parent.parent.__dict__.setdefault("_workbench_styles", {})
    key = (id(font), id(fill), id(border), id(alignment), number_format)
    hit = made.get(key)
    if hit is not None:
        cell._style = copy(hit[-1])
        return
    cell._style = StyleArray()
    for name, value in (("font", font), ("fill", fill), ("border", border), ("alignment", alignment),
                        ("number_format", number_format)):
        if value is not None:
            setattr(cell, name, value)
    made[key] = (font, fill, border, alignment, copy(cell._style))  # the objects kept: their ids stay theirs

# Number formats by kind; Excel shows the grouping and decimal mark of the user's locale.
# "money" and "money2" get the currency sign of the workbook (see Book.format_of).
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
NUMBER_KINDS = ("money", "money2", "number", "decimal", "share", "int")
# Excel refuses these as sheet names (case-insensitive).
RESERVED_SHEET_NAMES = {"history"}


def money_format(lang: str, currency: str, decimals: int = 0) -> str:
    """The money number format with the currency sign: ``#,##0 "₽"`` (ru), ``"RUB "#,##0`` (en)."""
    sign = str(t("fmt.currency_sign", lang).get(currency, currency)).replace('"', "")
    body = "#,##0" + ("." + "0" * decimals if decimals else "")
    if lang == "ru":
        return f'{body}\\ "{sign}"'
    return f'"{sign}"{body}' if len(sign) == 1 else f'"{sign} "{body}'


def split_by_unit(df: pd.DataFrame, columns: Sequence[str], unit_column: str, headers: Mapping[str, str],
                  lang: str, currency: str = "RUB") -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """Money, shares and counts kept in their own columns.

    df: a table whose ``columns`` hold values in the unit named row by row in ``unit_column``
        ('currency', 'share', 'ratio', 'count' or anything else counted)
    headers: column -> header; the new columns are headed "<header>, ₽" / ", %" / ", шт."
    Returns (table with ``<column>_money``, ``<column>_share``, ``<column>_count`` in place of
    each of ``columns``, their headers, their number-format kinds). Columns of a unit no row
    uses are left out.
    """
    unit = df[unit_column].astype(str)
    groups = {"money": unit.eq("currency"), "share": unit.isin(["share", "ratio"])}
    groups["count"] = ~(groups["money"] | groups["share"])
    suffix = {"money": str(t("fmt.currency_sign", lang).get(currency, currency)), "share": "%",
              "count": str(t("workbook.unit_count", lang))}
    kinds = {"money": "money", "share": "share", "count": "decimal"}
    out = df.copy()
    new_headers: dict[str, str] = {}
    new_kinds: dict[str, str] = {}
    position = list(out.columns)
    for col in columns:
        at = position.index(col)
        made = []
        for kind, mask in groups.items():
            if not mask.any():
                continue
            name = f"{col}_{kind}"
            out[name] = df[col].where(mask)
            new_headers[name] = f"{headers.get(col, col)}, {suffix[kind]}"
            new_kinds[name] = kinds[kind]
            made.append(name)
        position[at:at + 1] = made
    return out[position], new_headers, new_kinds


def clean_text(value: Any) -> str:
    """Client text made safe for a cell: control characters removed."""
    return _CONTROL.sub("", str(value))


def set_value(cell: Cell, value: Any, kind: str | None = None) -> None:
    """Write one value; strings are forced to be strings (never formulas)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT or value is pd.NA:
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


def _empty(values: pd.Series) -> bool:
    """True when every value is missing (None, NaN, NaT, NA) or an empty text."""
    blank = values.isna()
    if not pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_datetime64_any_dtype(values.dtype):
        blank = blank | values.eq("").fillna(False).astype(bool)
    return bool(blank.all())


class Book:
    """A workbook under construction. ``add_table`` adds a sheet; ``workbook`` returns it.

    lang: language of the contents sheet.
    """

    def __init__(self, lang: str = "ru", title: str = "", currency: str = "RUB") -> None:
        self.lang = lang
        self.currency = currency
        self.wb = Workbook()
        self.contents = self.wb.active
        self.contents.title = str(t("workbook.contents", lang))[:31]
        self._entries: list[tuple[str, str]] = []
        self.columns: dict[str, list[str]] = {}  # sheet -> the frame columns written, in order
        self.title = title

    def format_of(self, kind: str) -> str:
        """The number format of a kind in this workbook (money with its currency sign)."""
        if kind in ("money", "money2"):
            return money_format(self.lang, self.currency, 2 if kind == "money2" else 0)
        if kind == "date" and self.lang != "ru":
            return "YYYY-MM-DD"
        return FORMATS[kind]

    def _unique_name(self, name: str) -> str:
        """A sheet name Excel accepts, unique in the workbook (case-insensitive)."""
        base = re.sub(r"[\[\]\*\?/\\:]", " ", clean_text(name))
        base = " ".join(base.split()).strip("'").strip()[:31].strip("'").strip()
        if not base or base.lower() in RESERVED_SHEET_NAMES:
            base = (base + " " if base else "") + str(t("workbook.sheet", self.lang))
        candidate, n = base, 2
        existing = {ws.title.lower() for ws in self.wb.worksheets}
        while candidate.lower() in existing:
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)].rstrip("'").rstrip() + suffix
            n += 1
        return candidate

    @staticmethod
    def link(sheet: str, cell: str = "A1") -> str:
        """An in-workbook hyperlink to a sheet (apostrophes in the name doubled, as Excel wants)."""
        return "#'" + sheet.replace("'", "''") + f"'!{cell}"

    def _kinds_for(self, df: pd.DataFrame, kinds: Mapping[str, str]) -> dict[str, str]:
        """The stated kinds, plus a kind for every other numeric column (whole numbers or decimals)."""
        out = dict(kinds)
        for col in df.columns:
            if col in out:
                continue
            series = df[col]
            if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
                continue
            values = series.dropna()
            whole = bool(len(values) == 0 or (values.astype(float) % 1 == 0).all())
            out[col] = "number" if whole else "decimal"
        return out

    def _yes_no(self, df: pd.DataFrame) -> pd.DataFrame:
        """Booleans in the workbook's language (Excel would show TRUE / FALSE)."""
        bools = [c for c in df.columns if pd.api.types.is_bool_dtype(df[c])
                 or (df[c].dtype == object and pd.api.types.infer_dtype(df[c], skipna=True) == "boolean")]
        if not bools:
            return df
        yes, no = str(t("fmt.yes", self.lang)), str(t("fmt.no", self.lang))
        out = df.copy()
        for c in bools:  # a missing flag stays an empty cell
            out[c] = df[c].astype(object).map({True: yes, False: no})
        return out

    def add_table(self, name: str, df: pd.DataFrame, title: str = "",
                  headers: Mapping[str, str] | None = None,
                  kinds: Mapping[str, str] | None = None,
                  widths: Mapping[str, float] | None = None,
                  description: str = "", landscape: bool = False, wrap: Sequence[str] = (),
                  keep_empty: Sequence[str] = ()) -> Worksheet | None:
        """Add a sheet holding ``df`` as a table.

        name: sheet name (made safe and unique, see ``_unique_name``)
        headers: column -> displayed header
        kinds: column -> number format kind (keys of FORMATS); other numeric columns get
            "number" (whole values) or "decimal"
        widths: column -> width in characters (otherwise estimated from the content)
        wrap: columns whose text wraps
        keep_empty: columns kept even when empty in every row (e.g. a column to fill in)
        Returns the worksheet for extra styling, or None when ``df`` has no rows (no sheet is
        added: a header-only sheet helps no one). ``self.columns[ws.title]`` lists the columns
        written, in order (columns empty in every row are left out).
        """
        headers, widths = headers or {}, widths or {}
        if len(df) == 0:
            return None
        empty = [c for c in df.columns if c not in keep_empty and _empty(df[c])]
        df = self._yes_no(df.drop(columns=empty))
        kinds = self._kinds_for(df, kinds or {})
        ws = self.wb.create_sheet(self._unique_name(name))
        self.columns[ws.title] = list(df.columns)
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

        def fill() -> None:
            values = {c: df[c].tolist() for c in cols}
            for i in range(len(df)):
                r = header_row + 1 + i
                for j, col in enumerate(cols, start=1):
                    cell = ws.cell(row=r, column=j)
                    set_value(cell, values[col][i])
                    kind = kinds.get(col)
                    if kind and cell.value is not None and not isinstance(cell.value, (str, bool)):
                        cell.number_format = self.format_of(kind)
                    if col in wrap:
                        cell.alignment = WRAP

        if len(df) > xlsxout.STREAMED_ROWS:  # written into the file by io.xlsxout, as fill() would
            xlsxout.defer_rows(ws, header_row + 1, df[cols], {c: self.format_of(kinds[c]) for c in cols if c in kinds},
                               {c: WRAP for c in cols if c in wrap}, fill)
        else:
            fill()
        values = {c: df[c].iloc[:200].tolist() for c in cols}  # the widths are estimated from these
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
            cell.hyperlink = self.link(sheet)
            cell.font = Font(color="0563C1", underline="single")
            set_value(ws.cell(row=i, column=2), label)
        ws.column_dimensions["A"].width = 34
        ws.column_dimensions["B"].width = 70
        ws.freeze_panes = "A3"
        self.print_setup(ws)
        return self.wb
