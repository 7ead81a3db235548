"""Column roles, dates, currencies, statuses and identity on small files built as clients write them.

Each test writes a real file, imports it the way ``workbench import`` does and checks the
values; expected figures are worked out by hand in the test. The corpus
(tests/test_corpus_import.py) covers the layouts of real systems; these cover each rule alone.
"""
from __future__ import annotations

import pytest
from test_ingest import cp1251, csv_lines, run

from workbench import columns as C
from workbench.errors import InputError
from workbench.ingest import name_key
from workbench.ingest.identity import name_keys


def roles(res) -> dict[str, tuple[str, bool, str]]:
    return {r["column"]: (r["role"], r["used"], r["reason"]) for r in res.report["files"][0]["roles"]}


# --- roles from header and values ------------------------------------------------------------

def test_a_flag_is_never_a_date_and_a_column_of_dates_is_found_by_its_values(tmp_path):
    text = csv_lines("Контрагент;Сумма;Дата отгрузки;Время",
                     "А;100;Да;01.02.2024 10:00", "Б;200;Нет;03.02.2024 11:30", "А;50;Да;05.02.2024 09:15")
    res = run(tmp_path, cp1251(text))
    assert res.ledger[C.DATE].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-01", "2024-02-03", "2024-02-05"]
    r = roles(res)
    assert r["Дата отгрузки"] == ("", False, "flag")
    assert r["Время"] == ("date", True, "values_dates")


def test_a_country_is_never_a_quantity(tmp_path):
    text = csv_lines("Customer,Date,Amount,Country,Units", "Acme,2024-02-01,100,United Kingdom,3",
                     "Brill,2024-02-02,50,France,1")
    res = run(tmp_path, text.encode())
    assert res.ledger[C.QUANTITY].tolist() == [3.0, 1.0]
    assert roles(res)["Country"] == ("country", False, "country")


def test_a_customer_column_with_one_value_gives_way_to_one_that_varies(tmp_path):
    rows = [f"Торговый дом;ООО Клиент {i % 3};0{i + 1}.02.2024;{100 + i}" for i in range(6)]
    res = run(tmp_path, cp1251(csv_lines("Покупатель;Клиент;Дата;Сумма", *rows)))
    assert sorted(set(res.ledger[C.CUSTOMER_NAME])) == ["ООО Клиент 0", "ООО Клиент 1", "ООО Клиент 2"]
    r = roles(res)
    assert r["Покупатель"] == ("", False, "constant") and r["Клиент"] == ("customer_name", True, "varies")


def test_an_inn_of_the_seller_is_not_the_customers(tmp_path):
    text = csv_lines("Организация;Организация.ИНН;Контрагент;Дата;Сумма",
                     "ООО Мы;7700000001;ООО Альфа;01.02.2024;100", "ООО Мы;7700000001;ООО Бета;02.02.2024;50")
    res = run(tmp_path, cp1251(text))
    assert res.ledger[C.INN].tolist() == ["", ""] and res.ledger[C.CUSTOMER_ID].tolist() == ["ооо альфа", "ооо бета"]
    assert roles(res)["Организация"][:2] == ("seller", False)


def test_amount_from_gross_minus_vat_and_margin_from_cost(tmp_path):
    text = csv_lines("Контрагент;Дата;Сумма с НДС;НДС;Себестоимость", "А;01.02.2024;1 200,00;200,00;700,00",
                     "Б;02.02.2024;600,00;;450,00")  # an empty VAT cell: sold without VAT
    res = run(tmp_path, cp1251(text))
    assert res.ledger[C.AMOUNT].tolist() == [1000.0, 600.0]
    assert res.ledger[C.MARGIN].tolist() == [300.0, 150.0]
    f = res.report["files"][0]
    assert f["amount"] == {"how": "net_from_gross", "basis": "net", "columns": ["Сумма с НДС", "НДС"]}
    assert res.report["totals"]["revenue_with_vat"] == 1800.0 and res.report["totals"]["vat"] == 200.0


def test_quantity_times_price_when_there_is_no_amount(tmp_path):
    res = run(tmp_path, csv_lines("Client,Date,Qty,Unit price", "A,2024-02-01,3,2.55", "B,2024-02-02,-1,10").encode())
    assert res.ledger[C.AMOUNT].tolist() == [7.65, -10.0]
    assert res.report["files"][0]["amount"]["how"] == "quantity_price"


def test_explicit_amount_keeps_the_basis_its_header_says(tmp_path):
    text = csv_lines("Контрагент;Дата;Итог;Сумма без НДС", "А;01.02.2024;120;100")
    res = run(tmp_path, text.encode(), extra='    columns: {amount: "Сумма без НДС"}\n')
    assert res.ledger[C.AMOUNT].tolist() == [100.0] and res.report["totals"]["basis"] == "net"


# --- dates -----------------------------------------------------------------------------------

def test_month_first_when_proven_day_first_when_not(tmp_path):
    proven = run(tmp_path / "a", csv_lines("Customer,Date,Amount", "A,10/2/2023,1", "B,10/13/2023,2").encode())
    assert proven.ledger[C.DATE].dt.strftime("%Y-%m-%d").tolist() == ["2023-10-02", "2023-10-13"]
    assert proven.report["files"][0]["date_order"] == {"order": "mdy", "proven": True, "ambiguous": False}
    unproven = run(tmp_path / "b", csv_lines("Customer,Date,Amount", "A,10/2/2023,1", "B,11/3/2023,2").encode())
    assert unproven.ledger[C.DATE].dt.strftime("%Y-%m-%d").tolist() == ["2023-02-10", "2023-03-11"]
    assert unproven.report["files"][0]["date_order"]["ambiguous"] is True
    said = run(tmp_path / "c", csv_lines("Customer,Date,Amount", "A,10/2/2023,1", "B,11/3/2023,2").encode(),
               extra="import:\n  date_order: mdy\n")
    assert said.ledger[C.DATE].dt.strftime("%Y-%m-%d").tolist() == ["2023-10-02", "2023-11-03"]


def test_periods_quarters_and_month_names(tmp_path):
    text = csv_lines("Период;Контрагент;Сумма", "Январь 2024 г.;А;1", "1 кв. 2024 г.;А;2", "15 марта 2024 г.;Б;3",
                     "2024-05;Б;4", "Q3 2024;Б;5")
    res = run(tmp_path, cp1251(text))
    assert res.ledger[C.DATE].dt.strftime("%Y-%m-%d").tolist() == \
        ["2024-01-01", "2024-01-01", "2024-03-15", "2024-05-01", "2024-07-01"]


def test_a_date_far_before_the_rest_is_refused_until_min_date_allows_it(tmp_path):
    rows = [f"А;{d:02d}.0{m}.2024;100" for m in range(1, 7) for d in (5, 20)] + ["Б;05.06.2014;7"]
    text = cp1251(csv_lines("Контрагент;Дата;Сумма", *rows))
    with pytest.raises(InputError, match=r"(?s)дата далеко от остальных дат файла.*строка 14, столбец «Дата»: "
                                         r"значение «05\.06\.2014».*min_date: \"2014-06-05\""):
        run(tmp_path, text)
    res = run(tmp_path, text, extra='import:\n  min_date: "2014-01-01"\n')
    assert len(res.ledger) == 13


# --- currency and status ---------------------------------------------------------------------

def test_several_currencies_are_refused_unless_rates_convert_them(tmp_path):
    text = cp1251(csv_lines("Контрагент;Дата;Сумма;Валюта", "А;01.02.2024;1000;руб.", "Б;02.02.2024;10;USD",
                            "В;03.02.2024;5;EUR"))
    with pytest.raises(InputError) as err:
        run(tmp_path, text)
    assert [(p.kind, p.row, p.value) for p in err.value.problems] == [
        ("foreign_currency", "строка 4", "EUR"), ("foreign_currency", "строка 3", "USD")]
    assert "в файле: EUR, RUB, USD" in str(err.value) and "rates:" in str(err.value)
    res = run(tmp_path, text, extra="import:\n  rates: {USD: 90.5, EUR: 100}\n")
    assert res.ledger[C.AMOUNT].tolist() == [1000.0, 905.0, 500.0]
    assert res.report["files"][0]["currency"]["converted"] == {"EUR": 100.0, "USD": 90.5}


def test_an_unknown_status_is_refused_with_the_line_that_settles_it(tmp_path):
    text = cp1251(csv_lines("Контрагент;Дата;Сумма;Статус", "А;01.02.2024;100;Отгружено", "Б;02.02.2024;50;Выдано",
                            "В;03.02.2024;70;Отменено"))
    with pytest.raises(InputError, match=r'(?s)статус не известен.*строка 3, столбец «Статус»: значение «Выдано»'
                                         r'.*import:\n      statuses:\n        "Выдано": sale'):
        run(tmp_path, text)
    res = run(tmp_path, text, extra='import:\n  statuses: {"Выдано": sale}\n')
    assert res.ledger[C.CUSTOMER_NAME].tolist() == ["А", "Б"] and res.report["totals"]["revenue"] == 150.0
    assert res.report["files"][0]["status"]["skipped"] == {"Отменено": {"rows": 1, "amount": 70.0}}


# --- identity -------------------------------------------------------------------------------

def test_name_keys_for_forms_anywhere_look_alikes_and_initials():
    same = [["ООО «Ромашка»", "Ромашка ООО", 'ООО "Pомашка"', "OOO Ромашка",
             "Общество с ограниченной ответственностью «Ромашка»"],
            ["ИП Петров Иван Сергеевич", "ИП Петров И.С.", "Петров И. С. ИП", "индивидуальный предприниматель Петров И.С."],
            ["Acme Industrial Ltd", "ACME Industrial Limited"]]
    for group in same:
        assert len({name_key(n) for n in group}) == 1, group
        assert name_keys(group) == [name_key(n) for n in group]
    assert name_key("ООО «Ромашка»") != name_key("АО «Ромашка»")  # two legal entities
    assert name_key("ИП Петров И.С.") != name_key("ИП Петров А.С.")
    assert name_key("ООО «Legrand»") == "ооо legrand"  # a Latin word stays Latin


def test_rows_without_a_customer_are_left_out_and_reported_never_one_customer(tmp_path):
    text = csv_lines("Customer,Date,Amount", "A,2024-02-01,100", ",2024-02-02,30", ",2024-02-03,20")
    res = run(tmp_path, text.encode())
    assert res.ledger[C.CUSTOMER_NAME].tolist() == ["A"] and len(res.customers) == 1
    assert res.report["files"][0]["anonymous"] == {"rows": 2, "amount": 50.0, "examples": ["строка 3", "строка 4"]}
    assert res.report["totals"]["anonymous_revenue"] == 50.0


def test_the_report_says_every_column_role_the_basis_and_the_possible_duplicates(tmp_path):
    from workbench.ingest import render_import_html, render_report_text

    text = csv_lines("Дата;Организация;Контрагент;ИНН;Сумма без НДС;Сумма НДС",
                     "01.02.2024;ООО Мы;ООО «Ромашка»;7702345678;1 000,00;200,00",
                     "02.02.2024;ООО Мы;ООО «Ромашка-Юг»;2301234567;500,00;100,00",
                     "03.02.2024;ООО Мы;ООО «Вектор»;5401234567;300,00;60,00",
                     "04.02.2024;ООО Мы;ООО «Вектор-Плюс»;5401234567;400,00;80,00")
    res = run(tmp_path, cp1251(text))
    ru = render_report_text(res.report, "ru")
    for line in (("«Организация» → продавец, не используется (собственная организация клиента, не покупатель: "
                  "во всех строках «ООО Мы»)"),
                 "«Сумма НДС» → НДС (налог (НДС), никогда не выручка)",
                 "Сумма продажи: «Сумма без НДС» — без НДС",
                 "5401234567: «ООО «Вектор-Плюс»» (400\u00a0₽), «ООО «Вектор»» (300\u00a0₽)",
                 "«ООО «Ромашка»» (1\u00a0000\u00a0₽) ~ «ООО «Ромашка-Юг»» (500\u00a0₽)",
                 "Выручка за вычетом возвратов (без НДС): 2\u00a0200\u00a0₽ (с НДС: 2\u00a0640\u00a0₽; НДС: 440\u00a0₽)"):
        assert line in ru, line
    html = render_import_html(res.report, "ru", "RUB")
    assert "Ромашка-Юг" in html and "без НДС" in html and "собственная организация клиента" in html


def test_zakazchik_and_itogo_headers_are_a_ledger(tmp_path):
    text = csv_lines("Заказчик;Дата;Итого", "ООО Альфа;01.02.2024;1 000,00", "ООО Бета;02.02.2024;500,00", "Итого;;1 500,00")
    res = run(tmp_path, cp1251(text))
    assert res.ledger[C.AMOUNT].tolist() == [1000.0, 500.0]
    assert res.report["files"][0]["total_check"] == {"file_total": 1500.0, "sum": 1500.0, "equal": True}


def test_a_plain_stage_column_in_a_ledger_is_not_a_deal_export(tmp_path):
    text = csv_lines("Контрагент;Дата;Сумма;Этап", "А;01.02.2024;100;2", "Б;02.02.2024;50;3")
    assert run(tmp_path, cp1251(text)).report["totals"]["revenue"] == 150.0


def test_several_sales_files_keep_their_roles_and_share_one_identity_report(tmp_path):
    from workbench.config import load_engagement
    from workbench.ingest import import_engagement
    from test_ingest import make_engagement

    jan = csv_lines("Дата;Контрагент;Сумма без НДС;Сумма НДС", "10.01.2024;ООО «Ромашка»;1 000,00;200,00",
                    "11.01.2024;;30,00;6,00")
    feb = csv_lines("Date,Customer,Net amount", "2024-02-10,ООО «Ромашка-Юг»,500", "2024-02-11,,20")
    root = make_engagement(tmp_path, cp1251(jan), "jan.csv")
    (root / "data" / "feb.csv").write_bytes(feb.encode())
    cfg = root / "engagement.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("    file: data/jan.csv\n",
                                                           "    files: [data/jan.csv, data/feb.csv]\n"), encoding="utf-8")
    res = import_engagement(load_engagement(root))
    tot = res.report["totals"]
    assert (tot["rows"], tot["revenue"], tot["basis"]) == (2, 1500.0, "net")
    assert (tot["anonymous_rows"], tot["anonymous_revenue"]) == (2, 50.0)
    assert tot["vat"] == 200.0 and tot["possible_duplicates"] == 1
    first = next(f for f in res.report["files"] if f["file"] == "jan.csv")
    assert first["possible_duplicates"]["items"][0]["name_b"] == "ООО «Ромашка-Юг»"
