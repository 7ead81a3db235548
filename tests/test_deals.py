"""CRM deal exports (issue 14): recognised, classified, read right or refused with the exact fix.

Real exports from public repositories (``tests/corpus/``: a genuine Bitrix24 REST dump, a
genuine amoCRM fixture, a genuine cp1251 Bitrix24 demo dump) and files built with each CRM's
real headers (``tests/dealfiles.py`` and the corpus's built files). Every figure is worked out
again here with plain pandas from the file itself, never taken from the workbench.
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import yaml
from dealfiles import (
    AMO_HEADER,
    B24_REST_HEADER,
    CORPUS,
    amo_row,
    corpus_engagement,
    csv_bytes,
    iso,
    ledger_csv,
    make_engagement,
)

from workbench import columns as C
from workbench.cli import main
from workbench.config import load_engagement
from workbench.errors import ConfigError, InputError
from workbench.ingest import import_engagement, import_findings, render_import_html, render_report_text

MANIFEST = {e["slug"]: e for e in yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))["entries"]}


def imported(root):
    return import_engagement(load_engagement(root))


def plain(text: str) -> str:
    """Messages print money with no-break spaces («95 000 ₽»); compared here with plain ones."""
    return str(text).replace("\u00a0", " ")


def refused(root) -> InputError:
    with pytest.raises(InputError) as info:
        imported(root)
    return info.value


# --- the corpus: built amoCRM export, the only input ---------------------------------------

def test_amocrm_export_alone_is_recognised_and_only_won_deals_are_revenue(tmp_path):
    path = CORPUS / "built-amocrm-deals" / "amocrm_export_leads_2024-06-03.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    budget = pd.to_numeric(raw["Бюджет "])
    won = raw["Этап сделки"].eq("Успешно реализовано")
    lost = raw["Этап сделки"].eq("Закрыто и не реализовано")
    customer = raw["Компания"].where(raw["Компания"].ne(""), raw["Полное имя контакта"])

    res = imported(corpus_engagement(tmp_path, "built-amocrm-deals", path.name))
    files = res.report["files"]
    assert [f["kind"] for f in files] == ["deals"]
    assert res.report["deals"]["crm"] == "amocrm" and res.report["deals"]["role"] == "only"
    # revenue: the won deals only, at their close date; never the budget sum
    assert res.ledger[C.AMOUNT].sum() == pytest.approx(budget[won].sum()) == pytest.approx(7_848_000)
    assert res.report["totals"]["revenue"] == pytest.approx(budget[won].sum())
    assert res.report["deals"]["budget_all"] == pytest.approx(budget.sum())
    assert len(res.ledger) == int(won.sum()) == MANIFEST["built-amocrm-deals"]["expected"]["won_deals"]
    close = pd.to_datetime(raw.loc[won, "Дата закрытия"], format="%d.%m.%Y %H:%M:%S").dt.normalize()
    assert sorted(res.ledger[C.DATE].dt.normalize()) == sorted(close)
    # the company, else the contact (said); 6 companies + 1 contact
    assert len(res.customers) == customer[won].nunique() == 7
    assert res.report["deals"]["customers_company"] == raw.loc[won & raw["Компания"].ne(""), "Компания"].nunique()
    assert res.report["deals"]["customers_contact"] == 1
    # open deals with «не закрыта» are normal; every deal is in the deals table
    d = res.deals
    assert len(d) == len(raw) and (d[C.OUTCOME] == "open").sum() == int((~won & ~lost).sum())
    assert res.report["deals"]["open_close_text"] == int(raw["Дата закрытия"].eq("не закрыта").sum()) == 13
    assert d.loc[d[C.OUTCOME] == "lost", C.AMOUNT].sum() == pytest.approx(budget[lost].sum())
    assert set(d[C.PIPELINE]) == set(raw["Воронка"])
    text = plain(render_report_text(res.report, "ru"))
    assert "Распознана выгрузка сделок amoCRM: 60 сделок" in text
    assert "Выручка — выигранные сделки по дате закрытия: 7 848 000 ₽" in text
    assert "Сумма бюджетов всех сделок 25 971 000 ₽ — это не выручка" in text
    assert "если компании нет — контакт" in text
    assert "«не закрыта»): 13 — это норма" in text
    html = plain(render_import_html(res.report, "ru", "RUB"))
    assert "Сделки (выгрузка CRM)" in html and "Сумма бюджетов всех сделок" in html


def test_bitrix24_rest_dump_alone_codes_semantics_and_contacts(tmp_path):
    path = CORPUS / "built-bitrix24-rest-deals" / "crm_deal_list.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    amount = pd.to_numeric(raw["OPPORTUNITY"])
    won = raw["STAGE_SEMANTIC_ID"].eq("S")
    res = imported(corpus_engagement(tmp_path, "built-bitrix24-rest-deals", path.name))
    assert res.report["deals"]["crm"] == "bitrix24"
    assert res.ledger[C.AMOUNT].sum() == pytest.approx(amount[won].sum()) == pytest.approx(3_015_500)
    client = raw["COMPANY_ID"].where(raw["COMPANY_ID"].ne("0"), "contact " + raw["CONTACT_ID"])
    assert len(res.customers) == client[won].nunique() == 4
    assert sorted(res.customers[C.CUSTOMER_NAME]) == ["Компания 11", "Компания 14", "Компания 15", "Контакт 32"]
    d = res.deals.set_index(C.DEAL_ID)
    assert d.loc["211", C.OUTCOME] == "open"            # the client's C1:UC_… stage, by STAGE_SEMANTIC_ID
    assert d.loc["205", C.OUTCOME] == "lost"            # APOLOGY
    assert d.loc["209", C.PIPELINE] == "1"
    stages = res.deal_stages.set_index([C.PIPELINE, C.STAGE])
    assert stages.loc[("0", "WON"), C.STAGE_RULE] == "system"
    assert stages.loc[("1", "C1:UC_7QK2ZT"), C.STAGE_RULE] == "semantic"
    assert [s for s in stages.loc["0"].sort_values(C.STAGE_ORDER).index if stages.loc[("0", s), C.OUTCOME] == "open"] \
        == ["NEW", "PREPARATION", "EXECUTING", "FINAL_INVOICE"]
    assert res.report["deals"]["order_from"] == {"0": "default", "1": "age"}


# --- refusals worded exactly ------------------------------------------------------------------

UI_REFUSAL_RU = """\
Выгрузка сделок DEAL_20240401.csv, столбец «Стадия сделки»: стадии, которые нельзя отнести к выигранным (won), \
проигранным (lost) или открытым (open) без вашего решения:
  - «Отложено», воронка «Общее», закрытая: сделок: 1, на сумму 95 000 ₽
Добавьте в engagement.yaml эти строки, вписав вместо "" won (выиграна), lost (проиграна) или open (открыта), \
и проверьте порядок открытых стадий (сверху вниз — по ходу воронки):
deals:
  stages:
    "Общее":
      "Новая": open
      "Подготовка документов": open
      "Счёт на предоплату": open
      "Анализ и принятие решения": open
      "Отложено": ""
Ничего не записано; файлы в data/ не изменены."""

UI_REFUSAL_EN = """\
Deal export DEAL_20240401.csv, column "Стадия сделки": stages that cannot be classified as won, lost or open \
without your decision:
  - "Отложено", pipeline "Общее", closed: deals: 1, amount RUB 95,000
Add these lines to engagement.yaml, writing won, lost or open instead of "", and check the order of the open \
stages (top to bottom, as the funnel runs):
deals:
  stages:
    "Общее":
      "Новая": open
      "Подготовка документов": open
      "Счёт на предоплату": open
      "Анализ и принятие решения": open
      "Отложено": ""
Nothing was written; files in data/ are unchanged."""


@pytest.mark.parametrize("lang, message", [("ru", UI_REFUSAL_RU), ("en", UI_REFUSAL_EN)])
def test_a_closed_custom_stage_stops_the_import_with_the_lines_to_add(tmp_path, lang, message):
    root = corpus_engagement(tmp_path, "built-bitrix24-ui-deals", "DEAL_20240401.csv", lang=lang)
    err = refused(root)
    assert plain(err) == message
    assert [(p.kind, p.column, p.value) for p in err.problems] == [("deal_stage_unknown", "Стадия сделки", "Отложено")]
    # the consultant pastes the lines, decides "Отложено", and the import goes through
    lines = message.split("\n")
    block = "\n".join(lines[lines.index("deals:"):-1]).replace('"Отложено": ""', '"Отложено": lost')
    (root / "engagement.yaml").write_text((root / "engagement.yaml").read_text(encoding="utf-8") + block + "\n",
                                          encoding="utf-8")
    res = imported(root)
    raw = pd.read_csv(CORPUS / "built-bitrix24-ui-deals" / "DEAL_20240401.csv", sep=";", dtype=str,
                      keep_default_na=False, encoding="utf-8-sig")
    won = raw["Стадия сделки"].eq("Сделка успешна")
    assert res.ledger[C.AMOUNT].sum() == pytest.approx(pd.to_numeric(raw["Сумма"])[won].sum()) == 918_500
    assert len(res.customers) == raw.loc[won, "Компания"].nunique() == 3
    d = res.deals
    assert (d[C.OUTCOME] == "lost").sum() == 3 and (d[C.OUTCOME] == "open").sum() == 4
    assert res.report["deals"]["order_from"] == {"Общее": "config"}  # «Тендеры» has no open deal


def test_an_empty_outcome_in_deals_stages_is_refused_naming_the_key(tmp_path):
    root = corpus_engagement(tmp_path, "built-bitrix24-ui-deals", "DEAL_20240401.csv",
                             extra='deals:\n  stages:\n    "Общее": {"Отложено": ""}\n')
    with pytest.raises(ConfigError, match=r'deals\.stages\.Общее\.Отложено: значение "" недопустимо; '
                                          r"допустимые значения: won, lost, open"):
        load_engagement(root)


def test_genuine_bitrix24_leasing_dump_needs_the_consultant_and_then_counts_won_deals_only(tmp_path):
    slug, name = "bitrix24-rest-leasing-deals", "deals.csv"
    raw = pd.read_csv(CORPUS / slug / name, dtype=str, keep_default_na=False)
    err = refused(corpus_engagement(tmp_path / "a", slug, name, key="deals"))
    text = plain(err)
    assert "deals.csv: в выгрузке сделок нет столбца компании или контакта" in text
    assert "  - «Отложенные», закрытая: сделок: 7, на сумму 3 000 000 ₽\n" \
           "  - «Выдано», закрытая: сделок: 2, на сумму 9 875 000 ₽\n" in text
    assert '    "*":\n      "Квалификация и сбор потребностей": open\n      "Отложенные": ""\n      "Выдано": ""\n' in text
    # «Выдано» (leasing issued) is won, «Отложенные» lost; the customer is in TITLE
    root = corpus_engagement(tmp_path / "b", slug, name, key="deals",
                             extra='deals:\n  stages:\n    "*": {"Выдано": won, "Отложенные": lost}\n')
    cfg = root / "engagement.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("    file: data/deals.csv\n",
                                                           "    file: data/deals.csv\n    columns: {contact: TITLE}\n"),
                   encoding="utf-8")
    res = imported(root)
    amount = pd.to_numeric(raw["OPPORTUNITY"])
    won = raw["STAGE_ID"].eq("Выдано")
    assert res.report["totals"]["revenue"] == pytest.approx(amount[won].sum()) == MANIFEST[slug]["expected"]["revenue"]
    assert res.report["deals"]["budget_all"] == pytest.approx(amount.sum()) == 49_485_000
    assert sorted(res.ledger[C.DATE].dt.strftime("%Y-%m-%d")) == sorted(raw.loc[won, "CLOSEDATE"].str[:10])
    assert (res.deals[C.OUTCOME] == "lost").sum() == int(raw["STAGE_ID"].isin(["Сделка провалена", "Отложенные"]).sum())


def test_genuine_amocrm_fixture_won_deal_without_amount_and_the_row_without_id(tmp_path):
    slug, name = "amocrm-leads-test-fixture", "leads_test.csv"
    err = refused(corpus_engagement(tmp_path / "a", slug, name))
    assert plain(err) == (
        "Входные файлы не приняты: найдено проблем: 1. Исправьте выгрузку и запустите импорт снова.\n"
        "leads_test.csv: выигранная сделка без суммы (если так и есть — deals.won_without_amount: keep) (1)\n"
        "  - строка 2, столбец «Бюджет»: значение «0»\n"
        "Ничего не записано; файлы в data/ не изменены.")
    res = imported(corpus_engagement(tmp_path / "b", slug, name, extra="deals:\n  won_without_amount: keep\n"))
    raw = pd.read_csv(CORPUS / slug / name, dtype=str, keep_default_na=False)
    with_id = raw[raw["ID"].ne("")]
    d = res.deals
    assert len(d) == with_id["ID"].nunique() == 19
    won = with_id["Этап сделки"].eq("Успешно реализовано")
    lost = with_id["Этап сделки"].eq("Закрыто и не реализовано")
    assert ((d[C.OUTCOME] == "won").sum(), (d[C.OUTCOME] == "lost").sum(), (d[C.OUTCOME] == "open").sum()) \
        == (int(won.sum()), int(lost.sum()), int((~won & ~lost).sum())) == (1, 7, 11)
    rep = res.report["deals"]
    assert rep["won_no_amount"] == 1 and rep["open_close_text"] == 11
    assert rep["rows_without_id"] == [{"row": "строка 45", "deal_name": "Максим, Харьков, авт для секционных",
                                       "repeats": "27623739"}]
    assert set(d[C.CUSTOMER_KIND]) == {"contact"}           # no company anywhere: the contact, said
    assert res.customers[C.CUSTOMER_NAME].tolist() == with_id.loc[won, "Полное имя контакта"].tolist()
    text = plain(render_report_text(res.report, "ru"))
    assert "Строки без ID сделки пропущены: строка 45 (повторяет сделку 27623739)" in text
    assert "Выигранных сделок без суммы: 1 (deals.won_without_amount: keep" in text


def test_genuine_cp1251_demo_dump_has_no_revenue_alone_and_is_the_funnel_beside_a_ledger(tmp_path):
    slug, name = "bitrix24-rest-demo-deals", "deals.csv"
    err = refused(corpus_engagement(tmp_path / "a", slug, name))
    assert plain(err) == (
        "Входные файлы не приняты: найдено проблем: 1. Исправьте выгрузку и запустите импорт снова.\n"
        "deals.csv: в выгрузке сделок нет ни одной выигранной сделки с клиентом: выручку взять неоткуда "
        "(положите рядом журнал продаж — inputs.sales) (1)\n"
        "  - столбец «STAGE_ID»\n"
        "Ничего не записано; файлы в data/ не изменены.")
    ledger = ledger_csv([("10.02.2021", "ООО Альфа", "7701234567", 5000.0)])
    res = imported(corpus_engagement(tmp_path / "b", slug, name, key="deals",
                                     also={"sales": ("sales.csv", ledger)}))
    raw = pd.read_csv(CORPUS / slug / name, dtype=str, keep_default_na=False, encoding="cp1251")
    assert [f["kind"] for f in res.report["files"]] == ["sales", "deals"]
    assert res.report["totals"]["revenue"] == 5000.0                       # the ledger is the revenue
    assert res.report["deals"]["role"] == "beside"
    d = res.deals
    assert (d[C.OUTCOME] == "open").all() and len(d) == len(raw) == 3
    assert d[C.AMOUNT].sum() == pytest.approx(pd.to_numeric(raw["OPPORTUNITY"]).sum()) == 200_000
    assert d.loc[d[C.DEAL_ID] == "3", C.CUSTOMER_NAME].item() == "Контакт 7"   # COMPANY_ID 0, CONTACT_ID 7
    assert d.loc[d[C.DEAL_ID] == "1", C.CUSTOMER_KIND].item() == ""           # neither: counted apart
    assert res.report["deals"]["deals_no_customer"] == 2


# --- bad input: file, row, column, value; nothing written --------------------------------------

D = dt.datetime


def amo_file(rows):
    return csv_bytes(AMO_HEADER, rows)


GOOD = [amo_row(1, "Успешно реализовано", "100000", D(2024, 1, 10), D(2024, 2, 1), company="ООО «А»"),
        amo_row(2, "Переговоры", "50000", D(2024, 1, 12), None, company="ООО «Б»")]


@pytest.mark.parametrize("rows, kind, expected", [
    (GOOD + [amo_row(3, "WON", "7000", D(2024, 1, 5), D(2024, 1, 9), company="ООО «В»")],
     "в столбце стадий смешаны стадии amoCRM и Битрикс24",
     "  - строка 4, столбец «Этап сделки»: значение «WON»"),
    (GOOD + [amo_row(3, "Успешно реализовано", "", D(2024, 1, 5), D(2024, 1, 9), company="ООО «В»")],
     "выигранная сделка без суммы", "  - строка 4, столбец «Бюджет»"),
    (GOOD + [amo_row(3, "Закрыто и не реализовано", "-5000", D(2024, 1, 5), D(2024, 1, 9), company="ООО «В»")],
     "отрицательный бюджет сделки", "  - строка 4, столбец «Бюджет»: значение «-5000»"),
    (GOOD + [amo_row(3, "Успешно реализовано", "7000", D(2024, 1, 5), D(2024, 1, 9), company="ООО «В»"),
             amo_row(3, "Успешно реализовано", "9000", D(2024, 1, 5), D(2024, 1, 9), company="ООО «В»",
                     edited=D(2024, 1, 9))],
     "одна сделка записана несколько раз с разными значениями, и по дате изменения не понять",
     "  - строка 4, столбец «ID»: значение «3»"),
])
def test_bad_deal_exports_are_refused_naming_file_row_column_value(tmp_path, capsys, rows, kind, expected):
    root = make_engagement(tmp_path, {"sales": ("amocrm_export.csv", amo_file(rows))})
    assert main(["import", str(root)]) == 1
    out = capsys.readouterr()
    assert f"amocrm_export.csv: {kind}" in plain(out.err + out.out)
    assert expected in plain(out.err + out.out)
    assert "Traceback" not in out.err
    assert not (root / "work").exists() or not any((root / "work").iterdir())


def test_a_pipeline_column_the_stage_codes_contradict_is_refused(tmp_path):
    row = ["7", "Сделка #7", "C1:NEW", "0", "P", "N", "1000.00", "RUB", "5", "0", "1", "CALL",
           iso(D(2024, 1, 2)), iso(D(2024, 2, 2)), iso(D(2024, 1, 2)), iso(D(2024, 1, 3))]
    won = ["8", "Сделка #8", "WON", "0", "S", "Y", "2000.00", "RUB", "5", "0", "1", "CALL",
           iso(D(2024, 1, 2)), iso(D(2024, 1, 20)), iso(D(2024, 1, 2)), iso(D(2024, 1, 20))]
    root = make_engagement(tmp_path, {"sales": ("crm_deal_list.csv", csv_bytes(B24_REST_HEADER, [won, row]))})
    err = refused(root)
    assert "crm_deal_list.csv: воронка противоречит коду стадии (C<n>: — воронка n, код без префикса — воронка 0) (1)\n" \
           "  - строка 3, столбец «CATEGORY_ID»: значение «0 ≠ C1:NEW»" in plain(err)


def test_the_same_deal_twice_keeps_the_later_modification_and_says_so(tmp_path):
    rows = GOOD + [amo_row(3, "Переговоры", "7000", D(2024, 1, 5), None, company="ООО «В»", edited=D(2024, 1, 6)),
                   amo_row(3, "Успешно реализовано", "9000", D(2024, 1, 5), D(2024, 1, 20), company="ООО «В»",
                           edited=D(2024, 1, 20)),
                   amo_row(2, "Переговоры", "50000", D(2024, 1, 12), None, company="ООО «Б»")]  # exactly again
    res = imported(make_engagement(tmp_path, {"sales": ("amocrm_export.csv", amo_file(rows))}))
    d = res.deals.set_index(C.DEAL_ID)
    assert len(d) == 3 and d.loc["3", C.OUTCOME] == "won" and d.loc["3", C.AMOUNT] == 9000
    assert res.ledger[C.AMOUNT].sum() == 109_000
    rep = res.report["deals"]
    assert rep["duplicate_ids"] == [{"deal_id": "3", "kept": "строка 5", "dropped": ["строка 4"],
                                     "modified": "2024-01-20T00:00:00"}]
    assert rep["duplicates_identical"] == 1
    text = plain(render_report_text(res.report, "ru"))
    assert "Сделка 3 записана несколько раз с разными значениями: оставлена строка 5 (изменена позже всех, " \
           "20.01.2024), отброшены: строка 4" in text


def test_a_ledger_beside_stays_the_revenue_and_deals_meet_its_customers(tmp_path):
    rows = [amo_row(1, "Успешно реализовано", "100000", D(2024, 1, 10), D(2024, 2, 1), company="ООО «Альфа»"),
            amo_row(2, "Переговоры", "50000", D(2024, 1, 12), None, company="Ромашка ООО"),
            amo_row(3, "Закрыто и не реализовано", "30000", D(2024, 1, 12), D(2024, 1, 30), company="ООО Новый"),
            amo_row(4, "Первичный контакт", "1000", D(2024, 1, 15), None)]
    ledger = ledger_csv([("10.02.2024", "ООО «Альфа»", "7701234567", 1234.5),
                         ("11.02.2024", "Ромашка ООО", "", 100.0)])
    res = imported(make_engagement(tmp_path, {"sales": ("sales.csv", ledger),
                                              "deals": ("amocrm_export.csv", amo_file(rows))}))
    assert res.report["totals"]["revenue"] == 1334.5                       # the ledger's, not the deals'
    d = res.deals.set_index(C.DEAL_ID)
    assert d.loc["1", C.CUSTOMER_ID] == "7701234567"                        # the ledger's id (its INN)
    assert d.loc["2", C.CUSTOMER_ID] == res.customers.set_index(C.CUSTOMER_NAME).loc["Ромашка ООО", C.CUSTOMER_ID]
    assert d.loc["3", C.CUSTOMER_ID] == "ооо новый"                         # a prospect keeps its name key
    assert d.loc["4", C.CUSTOMER_KIND] == ""
    kinds = [f["kind"] for f in res.report["files"]]
    assert kinds == ["sales", "deals"]
    findings = import_findings(res.report, "ru", "RUB")
    assert any(f["headline"].startswith("Выгрузка сделок: выручка — только выигранные сделки") for f in findings)
    assert json.loads(json.dumps(res.report))["deals"]["won"] == 1         # the report stays JSON


def test_a_deal_export_in_the_data_folder_is_recognised_by_workbench_new_and_import(tmp_path, capsys):
    src = CORPUS / "built-bitrix24-rest-deals" / "crm_deal_list.csv"
    target = tmp_path / "engagements" / "crm"
    assert main(["new", str(target), "--client", "ООО «Ц»", "--data", f"deals={src}"]) == 0
    cfg = yaml.safe_load((target / "engagement.yaml").read_text(encoding="utf-8"))
    assert cfg["inputs"]["sales"]["file"] == "" and cfg["inputs"]["deals"]["file"] == "data/crm_deal_list.csv"
    capsys.readouterr()
    assert main(["import", str(target)]) == 0
    out = plain(capsys.readouterr().out)
    assert "Сделки (выгрузка CRM): crm_deal_list.csv" in out
    assert "Выручка — выигранные сделки по дате закрытия: 3 015 500 ₽" in out
    assert (target / "work" / "deals.parquet").is_file() and (target / "work" / "deal_stages.parquet").is_file()


def test_a_deal_export_and_its_history_found_in_data_are_the_funnel_never_sales(tmp_path):
    from dealfiles import bitrix_funnel

    deals_csv, history_csv = bitrix_funnel(n=60)
    ledger = ledger_csv([("10.12.2024", "ООО Альфа", "7701234567", 5000.0)])
    root = make_engagement(tmp_path, {"sales": ("sales.csv", ledger)})
    (root / "data" / "crm_deal_list.csv").write_bytes(deals_csv)          # only dropped into data/
    (root / "data" / "crm_stagehistory_list.csv").write_bytes(history_csv)
    res = imported(root)
    assert res.report["totals"]["revenue"] == 5000.0                        # the ledger alone is revenue
    assert [f["kind"] for f in res.report["files"]] == ["sales", "deals"]
    assert res.report["deals"]["role"] == "beside"
    assert res.report["deals"]["history"]["file"] == "crm_stagehistory_list.csv"
    assert res.report["sales_files"]["unmatched"] == []                     # neither is listed as unread
    assert len(res.deals) == 60 and res.deal_history is not None

