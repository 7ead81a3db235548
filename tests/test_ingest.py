"""Import of real client files: build each export quirk as a real file, import, check values."""
from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.config import load_engagement
from workbench.errors import InputError
from workbench.ingest import (
    import_engagement,
    import_findings,
    name_key,
    recognise,
    render_import_html,
    render_report_text,
    write_import,
)

HEADER = "Контрагент;ИНН;Дата;Сумма;Менеджер"


def make_engagement(tmp_path: Path, sales: bytes | None, name: str = "sales.csv", *, lang: str = "ru",
                    customers: bytes | None = None, customers_name: str = "customers.csv",
                    extra: str = "") -> Path:
    """A minimal engagement folder with data/<name> holding ``sales`` (bytes as written)."""
    root = tmp_path / "eng"
    (root / "data").mkdir(parents=True, exist_ok=True)
    if sales is not None:
        (root / "data" / name).write_bytes(sales)
    text = f'client: "ООО «Тест»"\nlanguage: {lang}\ninputs:\n  sales:\n    file: data/{name}\n'
    if customers is not None:
        (root / "data" / customers_name).write_bytes(customers)
        text += f"  customers:\n    file: data/{customers_name}\n"
    (root / "engagement.yaml").write_text(text + extra, encoding="utf-8")
    return root


def run(tmp_path: Path, sales: bytes | None, name: str = "sales.csv", **kw):
    return import_engagement(load_engagement(make_engagement(tmp_path, sales, name, **kw)))


def cp1251(text: str) -> bytes:
    return text.encode("cp1251")


def csv_lines(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


# --- CSV: encodings, delimiters, quoting, numbers, dates ---------------------------------

ONE_C = csv_lines(
    HEADER,
    '"ООО ""Ромашка""";0274062111;01.02.2024;1\u00a0234,56;Иванов',
    "ООО Ромашка;;13.02.2024;-100,00 руб.;Иванов",
    "ИП Петров;;05.03.24;5 000;Петров",
    "ИП Петров;;2024-03-06 10:15:00;12,5 р.;Петров",
)


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "utf-8-sig", "utf-16"])
def test_csv_encodings_give_the_same_ledger(tmp_path, encoding):
    res = run(tmp_path, ONE_C.encode(encoding))
    led = res.ledger
    assert list(led.columns) == list(C.LEDGER_COLUMNS)
    assert led[C.CUSTOMER_NAME].tolist()[:2] == ['ООО "Ромашка"', 'ООО "Ромашка"']
    assert led[C.AMOUNT].tolist() == [1234.56, -100.0, 5000.0, 12.5]
    assert led[C.DATE].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-01", "2024-02-13", "2024-03-05",
                                                            "2024-03-06"]
    assert led[C.IS_RETURN].tolist() == [False, True, False, False]
    # the row without an INN gets it through the matching name: one customer, one id
    assert led[C.CUSTOMER_ID].tolist() == ["0274062111", "0274062111", "ип петров", "ип петров"]
    assert led[C.INN].tolist() == ["0274062111", "0274062111", "", ""]
    assert led[C.SOURCE_ROW].tolist() == ["строка 2", "строка 3", "строка 4", "строка 5"]
    assert set(led[C.SOURCE_FILE]) == {"sales.csv"}
    assert res.report["files"][0]["encoding"] == encoding


def test_dtypes(tmp_path):
    led = run(tmp_path, cp1251(ONE_C)).ledger
    for c in (C.CUSTOMER_ID, C.CUSTOMER_NAME, C.INN, C.PRODUCT, C.MANAGER, C.DOCUMENT, C.SOURCE_FILE,
              C.SOURCE_ROW):
        assert pd.api.types.is_string_dtype(led[c]), c
    assert str(led[C.DATE].dtype).startswith("datetime64")
    for c in (C.AMOUNT, C.QUANTITY, C.MARGIN):
        assert led[c].dtype == np.float64
    assert led[C.IS_RETURN].dtype == bool


def test_cp1251_with_cyrillic_only_in_the_header(tmp_path):
    data = cp1251(csv_lines("Клиент;Дата;Сумма", "ACME Ltd;01.02.2024;10", "Beta LLC;02.02.2024;20"))
    res = run(tmp_path, data)
    assert res.report["files"][0]["encoding"] == "cp1251"
    assert res.report["files"][0]["columns"] == {"customer_name": "Клиент", "date": "Дата", "amount": "Сумма"}
    assert res.ledger[C.CUSTOMER_NAME].tolist() == ["ACME Ltd", "Beta LLC"]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiters_with_quoted_fields(tmp_path, delimiter):
    d = delimiter
    lines = [f"Customer{d}Date{d}Amount{d}Product",
             f'"Smith{d} Jones ""and"" Co"{d}01.02.2024{d}"1 234,50"{d}Widget',
             f"Acme{d}02.02.2024{d}10{d}\"Gadget{d} large\""]
    res = run(tmp_path, csv_lines(*lines).encode("utf-8"), lang="en")
    led = res.ledger
    d_text = d.replace("\t", " ")  # tabs inside text become spaces (control characters)
    assert led[C.CUSTOMER_NAME].tolist() == [f'Smith{d_text} Jones "and" Co', "Acme"]
    assert led[C.PRODUCT].tolist() == ["Widget", f"Gadget{d_text} large"]
    assert led[C.AMOUNT].tolist() == [1234.5, 10.0]
    assert res.report["files"][0]["delimiter"] == d
    assert led[C.SOURCE_ROW].tolist() == ["line 2", "line 3"]


def test_thousands_separators_and_currency_marks(tmp_path):
    amounts = ["1 234 567,89", "1\u00a0234\u00a0567,89", "1\u202f234\u202f567,89", "1234567,89 ₽",
               "1 234 567,89 руб.", "1 234 567,89р.", "−1 234 567,89", "(1 234 567,89)", "1.234.567,89"]
    lines = ["Контрагент;Дата;Сумма"] + [f"К{i};01.02.2024;{a}" for i, a in enumerate(amounts)]
    led = run(tmp_path, csv_lines(*lines).encode("utf-8")).ledger
    assert led[C.AMOUNT].tolist() == [1234567.89] * 6 + [-1234567.89] * 2 + [1234567.89]


def test_decimal_point_file(tmp_path):
    lines = ["Customer,Date,Amount,Quantity", 'A,2024-02-01,"1,234.50",2', "B,2024-02-02,99.9,1.5"]
    res = run(tmp_path, csv_lines(*lines).encode("utf-8"), lang="en")
    assert res.ledger[C.AMOUNT].tolist() == [1234.5, 99.9]
    assert res.ledger[C.QUANTITY].tolist() == [2.0, 1.5]
    assert res.report["files"][0]["decimal_mark"] == "."


def test_dates_are_day_first_and_explicit(tmp_path):
    # pd.to_datetime guessing would read 01.02.2024 as 2 January
    lines = ["Контрагент;Дата;Сумма", "А;01.02.2024;1", "Б;13.02.2024;1", "В;01.02.24;1",
             "Г;2024-02-01;1", "Д;01.02.2024 23:59:59;1", "Е;01.02.2024 08:00;1", "Ж;2024-02-01T10:00:00;1"]
    res = run(tmp_path, csv_lines(*lines).encode("utf-8"))
    days = res.ledger[C.DATE].dt.strftime("%Y-%m-%d").tolist()
    assert days == ["2024-02-01", "2024-02-13", "2024-02-01", "2024-02-01", "2024-02-01", "2024-02-01",
                    "2024-02-01"]
    assert res.report["files"][0]["date_formats"] == {"dd.mm.yyyy": 4, "dd.mm.yy": 1, "yyyy-mm-dd": 2}


def test_inn_keeps_leading_zero_and_lost_zero_restored(tmp_path):
    lines = ["Контрагент;ИНН;Дата;Сумма", "А;0274062111;01.02.2024;1", "Б;274062112;01.02.2024;1",
             "В;не знаю;01.02.2024;1", "Г;770123456789;01.02.2024;1"]
    res = run(tmp_path, csv_lines(*lines).encode("utf-8"))
    assert res.ledger[C.INN].tolist() == ["0274062111", "0274062112", "", "770123456789"]
    assert res.ledger[C.CUSTOMER_ID].tolist() == ["0274062111", "0274062112", "в", "770123456789"]
    inn = res.report["files"][0]["inn"]
    assert inn == {"padded": 1, "invalid": 1, "invalid_examples": ["не знаю"]}


def test_title_rows_totals_and_blank_rows_in_csv(tmp_path):
    text = csv_lines("Отчёт по продажам за февраль 2024", "", "Контрагент;Дата;Сумма", "А;01.02.2024;100",
                     ";;", "Итого по А;;100", "Б;02.02.2024;50", "", "Всего:;;150")
    res = run(tmp_path, cp1251(text))
    f = res.report["files"][0]
    assert res.ledger[C.AMOUNT].tolist() == [100.0, 50.0]
    assert res.ledger[C.SOURCE_ROW].tolist() == ["строка 4", "строка 7"]
    assert f["header_row"] == "строка 3"
    assert f["rows_excluded"] == {"total": 2, "blank": 2}
    assert [e["text"] for e in f["total_examples"]] == ["Итого по А", "Всего:"]
    assert res.report["totals"]["revenue"] == 150.0


def test_quoted_line_break_keeps_physical_line_numbers(tmp_path):
    text = csv_lines("Контрагент;Дата;Сумма;Комментарий", 'А;01.02.2024;1;"две\nстроки"', "Б;02.02.2024;2;x")
    res = run(tmp_path, text.encode("utf-8"))
    assert res.ledger[C.SOURCE_ROW].tolist() == ["строка 2", "строка 4"]


def test_control_characters_removed(tmp_path):
    text = csv_lines("Контрагент;Дата;Сумма;Номенклатура;Документ",
                     "ООО\x0bРомашка\x01;01.02.2024;1;Товар\x07 1;Док\x1f-1")
    led = run(tmp_path, text.encode("utf-8")).ledger
    assert led[C.CUSTOMER_NAME].tolist() == ["ООО Ромашка"]
    assert led[C.PRODUCT].tolist() == ["Товар 1"]
    assert led[C.DOCUMENT].tolist() == ["Док-1"]


def test_english_and_russian_header_synonyms():
    from workbench.ingest.fields import SALES_ROLES
    from workbench.ingest.headers import label_role

    cases = {"Покупатель": "customer_name", "Заказчик": "customer_name", "Партнер": "customer_name",
             "Организация": "seller", "Собственная организация": "seller",
             "ИНН": "inn", "Tax ID": "inn", "Дата документа": "date", "Период": "date",
             "Сумма с НДС": "amount_gross", "Сумма без НДС": "amount_net", "Сумма НДС": "vat", "НДС": "vat",
             "Сумма": "amount", "Выручка": "amount", "Revenue": "amount", "total": "amount", "Кол-во": "quantity",
             "Себестоимость": "cost", "Цена": "price", "UnitPrice": "price", "Quantity": "quantity",
             "Country": "country", "CustomerID": "customer_name", "InvoiceDate": "date", "order_date": "date",
             "Номенклатура": "product", "Услуга": "product", "Ответственный менеджер": "manager",
             "Валовая прибыль": "margin", "Маржа": "margin", "Сделка": "document", "Invoice": "document",
             "Валюта": "currency", "Статус": "status", "Этап сделки": "stage", "STAGE_ID": "stage",
             "  CUSTOMER  ": "customer_name", "Сумма, руб.": "amount", "Наименование контрагента": "customer_name"}
    for label, canon in cases.items():
        assert recognise(label, SALES_ROLES)[0] == canon, label
    # a dotted 1C attribute is the attribute, with its owner: never the owner's role by its first word
    inn = label_role("Контрагент.ИНН", SALES_ROLES, "sales")
    assert (inn.role, inn.owner) == ("inn", "Контрагент")
    assert label_role("Контрагент.Наименование", SALES_ROLES, "sales").role == "customer_name"
    kpp = label_role("Контрагент.КПП", SALES_ROLES, "sales")
    assert (kpp.role, kpp.owner) == (None, "Контрагент")


def test_explicit_mapping_wins(tmp_path):
    text = csv_lines("Плательщик;Получатель;Дата;Сумма без НДС;Сумма с НДС",
                     "А;Б;01.02.2024;100;120")
    extra = ('    columns: {customer_name: "Получатель", amount: "Сумма без НДС"}\n')
    root = make_engagement(tmp_path, text.encode("utf-8"))
    cfg = root / "engagement.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + extra, encoding="utf-8")
    led = import_engagement(load_engagement(root)).ledger
    assert led[C.CUSTOMER_NAME].tolist() == ["Б"]
    assert led[C.AMOUNT].tolist() == [100.0]


@pytest.mark.parametrize("vat, amount, basis", [("net", 100.0, "net"), ("gross", 120.0, "gross")])
def test_money_family_read_on_the_vat_basis_asked_for(tmp_path, vat, amount, basis):
    text = csv_lines("Контрагент;Дата;Сумма без НДС;Сумма с НДС", "А;01.02.2024;100;120")
    res = run(tmp_path, text.encode("utf-8"), extra=f"import:\n  vat: {vat}\n")
    assert res.ledger[C.AMOUNT].tolist() == [amount]
    assert res.report["files"][0]["amount"]["basis"] == basis


# --- customers, ids, duplicates, returns ----------------------------------------------------

def test_customer_ids_names_and_customers_file(tmp_path):
    sales = csv_lines("Контрагент;ИНН;Дата;Сумма;Менеджер",
                      "ООО «Ромашка»;0274062111;01.02.2024;100;Иванов",
                      'ооо  "ромашка";;05.02.2024;50;Иванов',
                      "ООО «Ромашка»;0274062111;07.03.2024;10;Петров",
                      "ИП Сидоров;;01.03.2024;30;Петров")
    customers = csv_lines("Клиент;ИНН;Отрасль;Численность;Потенциал;Регион;Телефон",
                          "Ромашка ООО;0274062111;Розница;120;1 000 000;Москва;+7 495 000-00-00",
                          "Новый клиент;7701234567;Опт;10;500;Казань;")
    res = run(tmp_path, cp1251(sales), customers=cp1251(customers))
    led = res.ledger
    assert led[C.CUSTOMER_ID].tolist() == ["0274062111", "0274062111", "0274062111", "ип сидоров"]
    assert set(led.loc[led[C.CUSTOMER_ID] == "0274062111", C.CUSTOMER_NAME]) == {"ООО «Ромашка»"}
    cust = res.customers.set_index(C.CUSTOMER_ID)
    assert list(res.customers.columns) == list(C.CUSTOMERS_COLUMNS)
    assert len(res.customers) == 3 and res.customers[C.CUSTOMER_ID].is_unique
    r = cust.loc["0274062111"]
    assert (r[C.CUSTOMER_NAME], r[C.INDUSTRY], r[C.HEADCOUNT], r[C.POTENTIAL], r[C.REGION], r[C.MANAGER]) == \
        ("ООО «Ромашка»", "Розница", 120.0, 1_000_000.0, "Москва", "Иванов")
    assert r[C.FIRST_PURCHASE] == pd.Timestamp("2024-02-01")
    assert r[C.LAST_PURCHASE] == pd.Timestamp("2024-03-07")
    assert r[C.PHONE] == "+7 495 000-00-00"
    new = cust.loc["7701234567"]
    assert new[C.CUSTOMER_NAME] == "Новый клиент" and pd.isna(new[C.FIRST_PURCHASE])
    assert cust.loc["ип сидоров", C.INDUSTRY] == ""
    assert res.report["totals"]["customers"] == 3


def test_name_key():
    assert name_key(' ООО  «Ромашка» ') == name_key('ооо "ромашка"') == "ооо ромашка"
    assert name_key("Ёлка") == "елка"


@pytest.mark.parametrize("mode,revenue", [("net", 150.0), ("exclude", 200.0)])
def test_returns_net_or_exclude(tmp_path, mode, revenue):
    text = csv_lines("Контрагент;Дата;Сумма", "А;01.02.2024;200", "А;02.02.2024;-50")
    res = run(tmp_path, text.encode("utf-8"), extra=f"import:\n  returns: {mode}\n")
    assert len(res.ledger) == 2 and res.ledger[C.IS_RETURN].tolist() == [False, True]
    assert res.report["totals"]["revenue"] == revenue
    assert res.report["files"][0]["returns"] == {"count": 1, "sum": -50.0}


@pytest.mark.parametrize("mode,rows", [("keep", 3), ("drop", 2)])
def test_duplicates_counted_then_kept_or_dropped(tmp_path, mode, rows):
    text = csv_lines("Контрагент;Дата;Сумма", "А;01.02.2024;200", "А;01.02.2024;200", "А;01.02.2024;201")
    res = run(tmp_path, text.encode("utf-8"), extra=f"import:\n  duplicates: {mode}\n")
    assert len(res.ledger) == rows
    assert res.report["files"][0]["duplicates"] == {"count": 1, "action": mode}


def test_customer_key_name_and_inn(tmp_path):
    text = csv_lines("Контрагент;ИНН;Дата;Сумма", "А;0274062111;01.02.2024;1", "Б;;01.02.2024;1")
    res = run(tmp_path, text.encode("utf-8"), extra="import:\n  customer_key: name\n")
    assert res.ledger[C.CUSTOMER_ID].tolist() == ["а", "б"]
    with pytest.raises(InputError, match=r"(?s)нет ИНН.*строка 3"):
        run(tmp_path, text.encode("utf-8"), extra="import:\n  customer_key: inn\n")


# --- xlsx ----------------------------------------------------------------------------------

def xlsx_bytes(tmp_path: Path, build) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    build(wb.active)
    path = tmp_path / "build.xlsx"
    wb.save(path)
    return path.read_bytes()


def test_xlsx_like_1c(tmp_path):
    def build(ws):
        ws.title = "Лист1"
        ws["A1"] = "Отчёт по продажам"
        ws["A2"] = "Период: 2024"
        ws.append([])
        ws.append(["Контрагент", "ИНН", "Документ", None, "Сумма"])      # row 4: merged group
        ws.merge_cells("C4:D4")
        ws.append([None, None, "Дата", "Номер", None])                    # row 5: sub-headers
        ws.append(["ООО Ромашка", "0274062111", dt.datetime(2024, 2, 1), "РТУ-1", 1234.5])
        ws.append(["ООО Ромашка", 274062111, 45323, "РТУ-2", "1 000,50"])  # INN lost its zero, serial date
        ws.append(["Итого по ООО Ромашка", None, None, None, 2235])
        ws.append([None, None, None, None, None])
        ws.append(["ИП Петров", None, "05.03.2024", "РТУ-3", -10])
        ws.append(["Итого", None, None, None, 2225])

    res = run(tmp_path, xlsx_bytes(tmp_path, build), "sales.xlsx")
    led = res.ledger
    assert led[C.CUSTOMER_ID].tolist() == ["0274062111", "0274062111", "ип петров"]
    assert led[C.DATE].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-01", "2024-02-01", "2024-03-05"]
    assert led[C.AMOUNT].tolist() == [1234.5, 1000.5, -10.0]
    assert led[C.DOCUMENT].tolist() == ["РТУ-1", "РТУ-2", "РТУ-3"]
    assert led[C.SOURCE_ROW].tolist() == ["Лист1!A6", "Лист1!A7", "Лист1!A10"]
    f = res.report["files"][0]
    assert f["header_row"] == "Лист1!A4"
    assert f["columns"] == {"customer_name": "Контрагент", "inn": "ИНН", "date": "Документ / Дата",
                            "document": "Документ / Номер", "amount": "Сумма"}
    assert f["rows_excluded"] == {"total": 2, "blank": 1}
    assert set(f["date_formats"]) == {"excel_date", "excel_serial", "dd.mm.yyyy"}


def test_xlsx_named_sheet_and_missing_sheet(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Прочее"
    ws = wb.create_sheet("Продажи 2024")
    ws.append(["Customer", "Date", "Amount"])
    ws.append(["Acme", "2024-02-01", 5])
    path = tmp_path / "b.xlsx"
    wb.save(path)
    extra = '    sheet: "Продажи 2024"\n'
    root = make_engagement(tmp_path, path.read_bytes(), "sales.xlsx")
    cfg = root / "engagement.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + extra, encoding="utf-8")
    led = import_engagement(load_engagement(root)).ledger
    assert led[C.SOURCE_ROW].tolist() == ["'Продажи 2024'!A2"]
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("Продажи 2024", "Нет такого"), encoding="utf-8")
    with pytest.raises(InputError, match="лист не найден.*\n.*Нет такого"):
        import_engagement(load_engagement(root))


# --- bad input: one error listing every problem ------------------------------------------

def test_all_problems_in_one_error(tmp_path):
    text = csv_lines("Контрагент;Дата;Сумма", "А;31.02.2025;100", "Б;01.02.2024;сто рублей",
                     "В;01.02.2024;1e16", "Г;01.02.2024", "Д;99.99.9999;5", ";01.02.2024;1", "Е;;")
    with pytest.raises(InputError) as err:
        run(tmp_path, cp1251(text))
    msg = str(err.value)
    assert msg.startswith("Входные файлы не приняты: найдено проблем: 7.")
    assert "sales.csv: дата не распознана (ожидалось дд.мм.гггг, дд.мм.гг, гггг-мм-дд, д/м/гггг или период " \
           "«Январь 2024 г.») (2)" in msg
    assert "  - строка 2, столбец «Дата»: значение «31.02.2025»" in msg
    assert "  - строка 6, столбец «Дата»: значение «99.99.9999»" in msg
    assert "  - строка 3, столбец «Сумма»: значение «сто рублей»" in msg
    assert "  - строка 4, столбец «Сумма»: значение «1e16»" in msg
    assert "в строке другое число полей, чем в заголовке (1)\n  - строка 5: значение «2 ≠ 3»" in msg
    assert "пустое имя контрагента" not in msg  # a row without a customer is left out and reported
    assert "пустое значение в обязательном столбце (2)" in msg
    assert msg.endswith("Ничего не записано; файлы в data/ не изменены.")
    assert not (tmp_path / "eng" / "work").exists()


def test_error_in_english(tmp_path):
    text = csv_lines("Customer,Date,Amount", "A,2024-02-30,1")
    with pytest.raises(InputError, match=r'line 2, column "Date": value "2024-02-30"'):
        run(tmp_path, text.encode("utf-8"), lang="en")


def test_absurd_amount(tmp_path):
    text = csv_lines("Контрагент;Дата;Сумма", "А;01.02.2024;2 000 000 000 000 000,00")
    with pytest.raises(InputError, match=r"сумма неправдоподобно велика.*\n  - строка 2"):
        run(tmp_path, text.encode("utf-8"))


def test_more_than_twenty_examples(tmp_path):
    text = csv_lines("Контрагент;Дата;Сумма", *[f"А;32.01.2024;{i}" for i in range(25)])
    with pytest.raises(InputError, match=r"\(25\)") as err:
        run(tmp_path, text.encode("utf-8"))
    assert "…и ещё 5" in str(err.value)
    assert str(err.value).count("значение «32.01.2024»") == 20


@pytest.mark.parametrize("data,pattern", [
    (b"", "файл пуст"),
    (b"  \r\n\r\n", "файл пуст"),
    (cp1251(csv_lines("Контрагент;Дата;Сумма")), "в файле только заголовок"),
    (cp1251(csv_lines("Контрагент;Дата;Сумма", ";;", "Итого;;0")), "в файле только заголовок"),
    (cp1251(csv_lines("Контрагент;Дата;Менеджер", "А;01.02.2024;И")), r"(?s)нет обязательного столбца.*строка 1: заголовки файла: Контрагент \| Дата \| Менеджер\n.*«сумма продажи» \(amount\).*amount: \"ЗАГОЛОВОК ИЗ ФАЙЛА\""),
    (cp1251(csv_lines("foo;bar;baz", "1;2;3")), "не найдена строка заголовка"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "старый формат .xls"),
    (cp1251("Контрагент;Дата;Сумма\r\nА;01.02.2024;1\r\n") + "Б;01.02.2024;2\r\n".encode(),
     r"смешаны кодировки.*\n  - строка 3, столбец «Контрагент»: значение «Р‘»"),
    (cp1251("Контрагент;Дата;Сумма\r\nА;01.02.2024;1\r\n") + "ИП Б;01.02.2024;2\r\n".encode(),
     r"смешаны кодировки.*\n  - строка 3: значение «ИП Б;01.02.2024;2»"),
    ("Контрагент;Дата;Сумма\r\nА;01.02.2024;1\r\n".encode("utf-8-sig") + cp1251("Б;01.02.2024;2\r\n"),
     r"смешаны кодировки.*\n  - строка 3: значение «Б;01.02.2024;2»"),
    (b"\x00\x01\x02garbage\xff\xfe" * 50, "не найдена строка заголовка|кодировка не распознана|не читается"),
])
def test_bad_text_files(tmp_path, data, pattern):
    with pytest.raises(InputError, match=pattern):
        run(tmp_path, data)


def test_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(InputError, match="sales.csv: файл не найден"):
        run(tmp_path, None)
    with pytest.raises(InputError, match=r"тип файла не поддерживается.*\n.*\.pdf"):
        run(tmp_path, b"%PDF-1.4", "sales.pdf")


def test_encrypted_and_corrupt_xlsx(tmp_path):
    ole = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000)
    ole[600:600 + 32] = "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(InputError, match="файл защищён паролем"):
        run(tmp_path, bytes(ole), "sales.xlsx")
    with pytest.raises(InputError, match="старый формат .xls"):
        run(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000, "sales.xls")
    with pytest.raises(InputError, match="файл не читается"):
        run(tmp_path, b"PK\x03\x04 this is not a zip", "sales.xlsx")
    good = xlsx_bytes(tmp_path, lambda ws: ws.append(["Клиент", "Дата", "Сумма"]))
    with pytest.raises(InputError, match="файл не читается"):
        run(tmp_path, good[: len(good) // 2], "sales.xlsx")


def _rezip(tmp_path: Path, src: bytes, replace: dict[str, bytes]) -> bytes:
    """A copy of the xlsx ``src`` with members replaced or added."""
    (tmp_path / "src.xlsx").write_bytes(src)
    out = tmp_path / "rezip.xlsx"
    with zipfile.ZipFile(tmp_path / "src.xlsx") as zr, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zw:
        for info in zr.infolist():
            zw.writestr(info.filename, replace.get(info.filename, zr.read(info.filename)))
        for name, data in replace.items():
            if name not in zr.namelist():
                zw.writestr(name, data)
    return out.read_bytes()


def test_xlsx_entity_bomb_and_zip_bomb(tmp_path, monkeypatch):
    good = xlsx_bytes(tmp_path, lambda ws: (ws.append(["Клиент", "Дата", "Сумма"]),
                                            ws.append(["А", "01.02.2024", 1])))
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>&lol2;</t></is></c></row></sheetData>"
            b"</worksheet>")
    with pytest.raises(InputError, match=r"файл не читается.*\n.*DOCTYPE"):
        run(tmp_path, _rezip(tmp_path, good, {"xl/worksheets/sheet1.xml": bomb}), "sales.xlsx")
    from workbench.io import readers

    monkeypatch.setattr(readers, "MAX_UNPACKED_BYTES", 4 * 1024 * 1024)  # 500 MB in real use
    huge = b"<x>" + b" " * (8 * 1024 * 1024) + b"</x>"  # compresses to a few KB
    with pytest.raises(InputError, match="слишком велик"):
        run(tmp_path, _rezip(tmp_path, good, {"xl/media/pad.xml": huge}), "sales.xlsx")


def test_xlsx_formula_without_cached_value(tmp_path):
    def build(ws):
        ws.append(["Клиент", "Дата", "Сумма"])
        ws.append(["А", "01.02.2024", 5])
        ws.append(["Б", "01.02.2024", "=C2*2"])   # openpyxl saves formulas without a value

    with pytest.raises(InputError, match=r"формула без сохранённого значения.*\n  - Sheet!C3, столбец «Сумма»"):
        run(tmp_path, xlsx_bytes(tmp_path, build), "sales.xlsx")


def test_garbage_bytes_never_escape_as_other_exceptions(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(15):
        data = rng.integers(0, 256, int(rng.integers(1, 3000)), dtype=np.uint8).tobytes()
        for name in ("sales.csv", "sales.xlsx"):
            try:
                run(tmp_path, (b"PK\x03\x04" + data) if name.endswith("xlsx") and i % 2 else data, name)
            except InputError:
                pass


def test_data_files_are_not_modified(tmp_path):
    data = cp1251(ONE_C)
    root = make_engagement(tmp_path, data)
    res = import_engagement(load_engagement(root))
    assert (root / "data" / "sales.csv").read_bytes() == data
    assert not (root / "work").exists()
    write_import(load_engagement(root), res)
    back = pd.read_parquet(root / "work" / "ledger.parquet")
    assert back[C.INN].tolist() == ["0274062111", "0274062111", "", ""]
    assert list(pd.read_parquet(root / "work" / "customers.parquet").columns) == list(C.CUSTOMERS_COLUMNS)
    assert json.loads((root / "work" / "import_report.json").read_text(encoding="utf-8"))["totals"]["rows"] == 4
    assert (root / "data" / "sales.csv").read_bytes() == data


# --- report, rendering --------------------------------------------------------------------

def test_report_is_json_and_rendered(tmp_path):
    text = csv_lines("Контрагент;Дата;Сумма", "А;01.02.2024;200", "А;01.02.2024;200", "А;02.03.2024;-50",
                     "Итого;;350")
    res = run(tmp_path, cp1251(text))
    json.dumps(res.report)
    tot = res.report["totals"]
    assert (tot["date_from"], tot["date_to"], tot["customers"], tot["revenue"]) == \
        ("2024-02-01", "2024-03-02", 1, 350.0)
    ru = render_report_text(res.report, "ru")
    assert "Заголовок: строка 1: Контрагент | Дата | Сумма" in ru
    assert "исключено: итоговых 1, пустых 0" in ru
    assert "Точные дубликаты строк: 1 (оставлены" in ru
    assert "Период: 01.02.2024 — 02.03.2024" in ru
    assert "Выручка за вычетом возвратов (с НДС или без — файл не говорит): 350\u00a0₽" in ru
    en = render_report_text(res.report, "en")
    assert "Revenue net of returns (VAT in or not: the file does not say): RUB\u00a0350" in en
    html = render_import_html(res.report, "ru", "RUB")
    assert html.startswith('<section class="wb-section" id="import">')
    findings = import_findings(res.report, "ru", "RUB")
    assert {f["severity"] for f in findings} <= {"risk", "warn", "info", "ok"}
    assert findings == sorted(findings, key=lambda f: -f["weight"])
    heads = " ".join(f["headline"] for f in findings)
    assert "дубликаты" in heads and "Возвраты" in heads and "Данные за 2 мес." in heads


def test_catalogues_have_same_keys():
    import yaml

    base = Path(__file__).resolve().parent.parent / "workbench" / "i18n"
    ru = yaml.safe_load((base / "ru" / "ingest.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((base / "en" / "ingest.yaml").read_text(encoding="utf-8"))
    assert set(ru) == set(en)
    assert set(ru["headers"]) == set(en["headers"]) and set(ru["date_formats"]) == set(en["date_formats"])


def test_the_stripped_characters_are_those_python_strips():
    from workbench.ingest import _STRIPPED

    assert _STRIPPED == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
