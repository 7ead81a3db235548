"""Long tables written straight into the workbook file (io.xlsxout) hold what openpyxl's own
cells would have held: the same values, types, number formats, alignment and sheet setup,
cell by cell; whatever the writer cannot vouch for falls back to openpyxl (issue 20).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from workbench.io import xlsxout
from workbench.io.xlsxout import write_workbook
from workbench.report.xlsx import Book


def _frame(n: int) -> pd.DataFrame:
    """Every kind of value a sheet holds, the awkward ones included."""
    rng = np.random.default_rng(3)
    texts = ["ООО «Альфа»", "=1+1", " leading space", "trailing ", "a & b < c > d", "", None,
             "ctrl\x0bchar\x00", "   ", "+7 495", "x" * 40000, "'quoted'", "многострочный\nтекст"]
    amount = rng.gamma(2.0, 15_000.0, n).round(2)
    amount[::7] = np.nan
    dates = pd.Series(pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"))
    dates[::5] = pd.NaT
    return pd.DataFrame({
        "customer_name": [texts[i % len(texts)] for i in range(n)],
        "orders": rng.integers(0, 10**6, n),
        "big": np.full(n, 2**53 + 1, dtype="int64"),
        "revenue": amount,
        "share": np.tile([0.1 + 0.2, 1 / 3, 0.0, -0.25, 1e-12, 1e20], n // 6 + 1)[:n],
        "last_sale": dates,
        "key_account": np.tile([True, False, True], n // 3 + 1)[:n],
        "manager": pd.Series(["Иванова", None, "Петров"] * (n // 3 + 1))[:n].astype("string"),
        "reason": ["длинное объяснение, которое переносится"] * n,
    })


def _build(df: pd.DataFrame, streamed_rows: int, monkeypatch, path, lang: str = "ru"):
    monkeypatch.setattr(xlsxout, "STREAMED_ROWS", streamed_rows)
    book = Book(lang, title="Т", currency="RUB")
    ws = book.add_table("Клиенты", df, title="Клиенты", kinds={"revenue": "money", "share": "share"},
                        widths={"reason": 50}, wrap=("reason",), description="описание", landscape=True)
    small = book.add_table("Мало", df.head(3), title="Мало")
    write_workbook(book.workbook(), path)
    return ws, small


def _cells(ws):
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style:
                continue
            value = c.value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                # openpyxl writes 16 significant digits, the streamed writer the shortest exact
                # text; Excel keeps 15 either way
                value = float(f"{value:.15g}")
            out[c.coordinate] = (value, c.data_type, c.number_format, c.alignment.wrap_text,
                                 c.alignment.vertical, c.font.b, c.fill.fgColor.rgb)
    return out


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_streamed_table_holds_what_openpyxl_writes(tmp_path, monkeypatch, lang):
    df = _frame(60)
    _build(df, 10**9, monkeypatch, tmp_path / "openpyxl.xlsx", lang)
    ws, small = _build(df, 10, monkeypatch, tmp_path / "streamed.xlsx", lang)
    assert xlsxout.deferred(ws) is not None and xlsxout.deferred(small) is None  # only the long table
    plain, streamed = load_workbook(tmp_path / "openpyxl.xlsx"), load_workbook(tmp_path / "streamed.xlsx")
    assert plain.sheetnames == streamed.sheetnames
    for name in plain.sheetnames:
        a, b = plain[name], streamed[name]
        assert _cells(a) == _cells(b), name
        assert (a.dimensions, a.freeze_panes, a.auto_filter.ref, a.print_title_rows, a.page_setup.orientation) == \
               (b.dimensions, b.freeze_panes, b.auto_filter.ref, b.print_title_rows, b.page_setup.orientation)
        assert {k: v.width for k, v in a.column_dimensions.items()} == \
               {k: v.width for k, v in b.column_dimensions.items()}
    ws = streamed["Клиенты"]
    # worked out from the frame: header on row 3 (title, description), first data row 4
    headers = [c.value for c in ws[3]]
    row = {h: ws.cell(row=4 + 1, column=j + 1) for j, h in enumerate(headers)}  # the frame's row 1
    assert row["customer_name"].value == "=1+1" and row["customer_name"].data_type == "s"  # never a formula
    assert row["orders"].value == int(df["orders"][1]) and row["big"].value == 2**53 + 1
    assert row["revenue"].value == df["revenue"][1] and row["revenue"].number_format.endswith('"₽"') == (lang == "ru")
    assert row["share"].value == 1 / 3 and row["share"].number_format == "0.0%"
    assert row["last_sale"].value == df["last_sale"][1].to_pydatetime()
    assert row["key_account"].value == ("нет" if lang == "ru" else "no")
    assert row["reason"].alignment.wrap_text
    control = ws.cell(row=4 + 7, column=1).value
    assert control == "ctrlchar"  # control characters removed
    assert len(ws.cell(row=4 + 10, column=1).value) == 32767  # Excel's limit
    assert ws.cell(row=4, column=headers.index("revenue") + 1).value is None  # NaN: an empty cell
    back = pd.read_excel(tmp_path / "streamed.xlsx", sheet_name="Клиенты", header=2)
    assert len(back) == len(df) and back["revenue"].sum() == pytest.approx(df["revenue"].sum())


def test_a_table_appended_below_a_long_table_stays_below_it(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsxout, "STREAMED_ROWS", 10)
    book = Book("ru", title="Т")
    df = pd.DataFrame({"customer_name": [f"Клиент {i}" for i in range(30)], "revenue": np.arange(30) * 100.0})
    ws = book.add_table("Клиенты", df, kinds={"revenue": "money"})
    assert ws.max_row == 2 + 30  # the table counted although its cells are not made
    ws.cell(row=ws.max_row + 2, column=1, value="Итого")
    ws.cell(row=ws.max_row, column=2, value=float(df["revenue"].sum()))
    write_workbook(book.workbook(), tmp_path / "w.xlsx")
    sheet = load_workbook(tmp_path / "w.xlsx")["Клиенты"]
    assert [sheet.cell(row=3 + i, column=1).value for i in range(30)] == df["customer_name"].tolist()
    assert sheet.cell(row=3, column=2).number_format == '#,##0\\ "₽"'
    assert (sheet.cell(row=34, column=1).value, sheet.cell(row=34, column=2).value) == ("Итого", 43500.0)


def test_a_column_of_mixed_values_is_written_by_openpyxl(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsxout, "STREAMED_ROWS", 10)
    book = Book("ru", title="Т")
    mixed = pd.DataFrame({"value": [1, "два", dt.date(2025, 1, 3)] * 5})
    ws = book.add_table("Смесь", mixed)
    write_workbook(book.workbook(), tmp_path / "w.xlsx")
    assert xlsxout.deferred(ws) is None  # filled through openpyxl before saving
    sheet = load_workbook(tmp_path / "w.xlsx")["Смесь"]
    assert [sheet.cell(row=3 + i, column=1).value for i in range(3)] == [1, "два", dt.datetime(2025, 1, 3)]
