"""workbook.xlsx as a sales team opens it: every number formatted (money, percent, count in
their own columns), every header in the workbook's language, no internal code, no empty
column or row-less sheet, sheet names safe from any customer name, contents links that work.
"""
from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from workbench.report.xlsx import HEADER_FILL, Book, split_by_unit

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
# Abbreviations and units a header may hold in either language.
ABBREVIATIONS = re.compile(r"\b(ABC|XYZ|RFM|VIP|KAM|CJM|KPI|ROMI|HHI|CRM|B2B|R|F|M|A|B|C|X|Y|Z|N|ID|INN)\b")
CODE = re.compile(r"^[a-z]+(?:[_:][a-z0-9]+)+$|^(?:group|individual):")
LOWER_WORD = re.compile(r"^[a-z][a-z0-9]*$")  # "sales", "share": a code in a Russian workbook
MONTH_HEADER = re.compile(r"^\w{3} \d{4}$")     # a calendar's month column may be empty


def _header_cells(ws):
    """The header cells of a sheet: the cells drawn in the header fill."""
    color = HEADER_FILL.fgColor.rgb[-6:]
    return [c for row in ws.iter_rows() for c in row
            if c.fill is not None and c.fill.fgColor is not None and isinstance(c.fill.fgColor.rgb, str)
            and c.fill.fgColor.rgb[-6:] == color and c.value not in (None, "")]


def _check_workbook(path, lang, client_names=frozenset()):
    """``client_names``: the client's own words a header may be (its CRM's stage names as CJM
    columns stay as the CRM writes them, in any language)."""
    wb = load_workbook(path)
    problems: list[str] = []
    names = wb.sheetnames
    contents = wb[names[0]]
    linked = []
    for cell in contents["A"]:
        if cell.hyperlink:
            target = cell.hyperlink.location or cell.hyperlink.target or ""
            m = re.fullmatch(r"#?'((?:[^']|'')+)'!A1", target)
            if not m or m.group(1).replace("''", "'") not in names:
                problems.append(f"contents link {target!r} leads nowhere")
            else:
                linked.append(m.group(1).replace("''", "'"))
    if set(linked) != set(names[1:]):
        problems.append(f"sheets without a contents link: {sorted(set(names[1:]) - set(linked))}")
    for ws in wb.worksheets:
        headers = _header_cells(ws)
        if ws.title != names[0] and not headers:
            problems.append(f"{ws.title}: no header row")
        for c in headers:
            text = str(c.value)
            if lang == "ru" and not CYRILLIC.search(text) and ABBREVIATIONS.sub("", text).strip(" -,.%()/№") \
                    and not re.fullmatch(r"[\d\s.,%-]+", text):
                problems.append(f"{ws.title}!{c.coordinate}: header {text!r} is not Russian")
            if lang == "en" and CYRILLIC.search(text) and text not in client_names:
                problems.append(f"{ws.title}!{c.coordinate}: header {text!r} is not English")
        header_rows = {c.row for c in headers}
        last_header = max(header_rows, default=1)
        data_rows = 0
        for row in ws.iter_rows(min_row=1):
            for c in row:
                v = c.value
                if isinstance(v, bool):
                    problems.append(f"{ws.title}!{c.coordinate}: TRUE/FALSE instead of a word")
                elif isinstance(v, (int, float)) and c.number_format == "General":
                    problems.append(f"{ws.title}!{c.coordinate}: {v!r} without a number format")
                elif isinstance(v, str) and (CODE.match(v.strip()) or (lang == "ru" and LOWER_WORD.match(v.strip()))):
                    problems.append(f"{ws.title}!{c.coordinate}: internal code {v!r}")
            if row and row[0].row > last_header and any(c.value not in (None, "") for c in row):
                data_rows += 1
        if ws.title != names[0] and data_rows == 0:
            problems.append(f"{ws.title}: a header without rows")
        # a table column whose header stands over no value at all
        if headers and len(header_rows) == 1:
            r = headers[0].row
            for c in headers:
                if MONTH_HEADER.match(str(c.value)):
                    continue
                values = [ws.cell(row=i, column=c.column).value for i in range(r + 1, ws.max_row + 1)]
                if all(v in (None, "") for v in values):
                    problems.append(f"{ws.title}: column {c.value!r} is empty")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_workbook_is_formatted_and_speaks_its_language(demo_run, demo_run_en, lang):
    root, res = demo_run if lang == "ru" else demo_run_en
    import pandas as pd

    stages = set(pd.read_parquet(root / "work" / "deal_stages.parquet")["stage"].astype(str))
    problems = _check_workbook(res.deliverables / "workbook.xlsx", lang, frozenset(stages))
    assert problems[:30] == []


def test_sheet_names_survive_any_customer_name_and_links_work(tmp_path):
    names = ["'Альфа", "ООО 'Бета'", "History", "A" * 40, "'", "", "x:y/z?", "ООО «Гамма»", "ооо «гамма»",
             "[Дельта]*", "Клиент\x0bс табуляцией"]
    book = Book("ru", title="Т")
    for i, name in enumerate(names):
        book.add_table(name, pd.DataFrame({"Клиент": [name or "—"], "Выручка": [1000.0 * (i + 1)]}),
                       kinds={"Выручка": "money"})
    path = tmp_path / "w.xlsx"
    book.workbook().save(path)
    wb = load_workbook(path)
    titles = wb.sheetnames[1:]
    assert len(titles) == len(names) and len({t.lower() for t in titles}) == len(titles)
    for title in titles:
        assert 0 < len(title) <= 31 and not title.startswith("'") and not title.endswith("'")
        assert not re.search(r"[\[\]*?/\\:\x00-\x1f]", title) and title.lower() != "history"
    assert _check_workbook(path, "ru") == []
    assert wb[titles[0]]["B3"].number_format == '#,##0\\ "₽"'


def test_money_shares_and_counts_get_their_own_columns():
    df = pd.DataFrame({"kpi": ["Выручка", "Доля", "Заказы"], "unit": ["currency", "share", "count"],
                       "baseline": [1200.5, 0.3, 8.0], "target": [1500.0, 0.35, 9.0]})
    out, headers, kinds = split_by_unit(df, ["baseline", "target"], "unit", {"baseline": "База", "target": "Цель"},
                                        "ru")
    assert list(out.columns) == ["kpi", "unit", "baseline_money", "baseline_share", "baseline_count",
                                 "target_money", "target_share", "target_count"]
    assert headers["baseline_money"] == "База, ₽" and headers["target_share"] == "Цель, %"
    assert headers["baseline_count"] == "База, шт."
    assert kinds == {"baseline_money": "money", "baseline_share": "share", "baseline_count": "decimal",
                     "target_money": "money", "target_share": "share", "target_count": "decimal"}
    assert out["baseline_money"].tolist()[0] == 1200.5 and pd.isna(out["baseline_money"].tolist()[1])
    assert out["target_share"].dropna().tolist() == [0.35]


def test_empty_columns_and_rowless_tables_are_left_out_and_numbers_formatted():
    book = Book("en", title="T", currency="USD")
    assert book.add_table("Nothing", pd.DataFrame({"a": []})) is None
    ws = book.add_table("Data", pd.DataFrame({"Customer": ["x", "y"], "Empty": [None, None], "Orders": [3, 4],
                                              "Ratio": [0.5, 1.25], "Key": [True, False]}))
    assert book.columns[ws.title] == ["Customer", "Orders", "Ratio", "Key"]
    buf = io.BytesIO()
    book.workbook().save(buf)
    ws = load_workbook(io.BytesIO(buf.getvalue()))["Data"]
    assert [c.value for c in ws[2]] == ["Customer", "Orders", "Ratio", "Key"]
    assert ws["B3"].number_format == "#,##0" and ws["C4"].number_format == "#,##0.00"
    assert [ws["D3"].value, ws["D4"].value] == ["yes", "no"]
    assert load_workbook(io.BytesIO(buf.getvalue())).sheetnames == ["Contents", "Data"]
