"""Every file of the import corpus, imported the way a consultant does it, against its figures.

For each entry of tests/corpus/manifest.yaml: ``workbench new`` makes the engagement with the
file (a customers file beside the ledger it pairs with), the consultant's edits of
engagement.yaml are made as text (currency GBP, ``import.max_date``), and ``workbench import
--json`` reads it. A ledger imports with the manifest's figures (worked out independently
by tests/corpus/figures.py with plain pandas: rows, customers, revenue, VAT basis, dates), or
is refused with its message pinned. A CRM deal export is read as deals: only its won deals are
revenue (checked against the same independent figures), an unclassified closed stage stops
the import until the consultant's ``deals.stages`` lines are added.
"""
from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import yaml

from workbench.cli import main

CORPUS = Path(__file__).resolve().parent / "corpus"
ENTRIES = {e["slug"]: e for e in yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))["entries"]}
DEALS = [slug for slug, e in ENTRIES.items() if e["kind"] == "deals"]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, abs_tol=0.005)


def engagement(tmp_path: Path, slug: str, customers: str = "", lang: str = "ru",
               edits: tuple[tuple[str, str], ...] = ()) -> Path:
    """``workbench new`` with the entry's file (and a customers file), then the consultant's edits."""
    root = tmp_path / "engagements" / slug.replace("_", "-")[:60]
    args = ["new", str(root), "--client", "Клиент", "--lang", lang,
            "--data", f"sales={CORPUS / slug / ENTRIES[slug]['file']}"]
    if customers:
        args += ["--data", f"customers={CORPUS / customers / ENTRIES[customers]['file']}"]
    assert main(args) == 0
    cfg = root / "engagement.yaml"
    text = cfg.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    cfg.write_text(text, encoding="utf-8")
    return root


def import_json(root: Path, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["import", str(root), "--json"])
    out = capsys.readouterr()
    return rc, json.loads(out.out)


def imported(tmp_path: Path, capsys, slug: str, **kw) -> dict:
    rc, report = import_json(engagement(tmp_path, slug, **kw), capsys)
    assert rc == 0, report
    return report


def refused(tmp_path: Path, capsys, slug: str, **kw) -> tuple[list[dict], str]:
    root = engagement(tmp_path, slug, **kw)
    capsys.readouterr()
    rc = main(["import", str(root), "--json"])
    out = capsys.readouterr()
    assert rc == 1
    problems = json.loads(out.out)
    assert problems["ok"] is False
    assert not (root / "work").exists()
    return problems["problems"], out.err


def check_totals(report: dict, e: dict, *, dates: str = "ledger") -> None:
    """rows, customers, revenue and the date range against the manifest's figures."""
    tot, f = report["totals"], report["files"][0]
    x = e["expected"]
    assert f["rows_read"] == x["rows"]
    assert tot["customers"] == x["customers"]
    assert close(tot["revenue"], x["revenue"])
    if "date_min" in x:
        got = (tot["date_from"], tot["date_to"]) if dates == "ledger" else (f["dates"]["min"], f["dates"]["max"])
        assert got == (x["date_min"], x["date_max"])


def role_of(report: dict, column: str) -> dict:
    return next(r for r in report["files"][0]["roles"] if r["column"] == column)


# --- genuine exports ------------------------------------------------------------------------

def test_sibdev_total_is_the_amount_and_iso_dates_with_microseconds(tmp_path, capsys):
    report = imported(tmp_path, capsys, "sibdev-test-deals")
    check_totals(report, ENTRIES["sibdev-test-deals"])
    assert role_of(report, "total")["role"] == "amount" and role_of(report, "customer")["role"] == "customer_name"
    assert report["totals"]["basis"] == "unknown"


def test_uci_head_is_refused_naming_its_malformed_lines(tmp_path, capsys):
    problems, err = refused(tmp_path, capsys, "uci-online-retail-head")
    lines = ENTRIES["uci-online-retail-head"]["expected"]["malformed_lines"]
    assert [(p["code"], p["row"], p["value"]) for p in problems] == [("ragged_row", f"строка {n}", "7 ≠ 8")
                                                                      for n in lines]
    assert "OnlineRetail.csv: в строке другое число полей, чем в заголовке (4)\n  - строка 121: значение «7 ≠ 8»" in err


def test_superstore_without_a_date_is_refused_with_its_own_headers_and_the_fix(tmp_path, capsys):
    problems, err = refused(tmp_path, capsys, "superstore-ru-prodazhi")
    assert ENTRIES["superstore-ru-prodazhi"]["expected"]["rows"] == 39  # refused: no figure can be checked
    assert [p["code"] for p in problems] == ["missing_column"]
    p = problems[0]
    assert p["value"] == ("Order_ID | Приоритет | Количество | Выручка | Метод доставки | Прибыль | Покупатель | "
                          "Регион | Продукт | Упаковка продукта")
    assert p["expected"].startswith("столбец с ролью «дата продажи» (date)")
    assert p["suggestion"] == ("добавьте в engagement.yaml:\ninputs:\n  sales:\n    columns:\n"
                               '      date: "ЗАГОЛОВОК ИЗ ФАЙЛА"  # впишите заголовок; если такого столбца нет, '
                               "выгрузите отчёт заново с ним")
    assert err.splitlines()[1:4] == [
        "Продажи.csv: нет обязательного столбца (1)",
        ("  - строка 1: заголовки файла: Order_ID | Приоритет | Количество | Выручка | Метод доставки | Прибыль | "
         "Покупатель | Регион | Продукт | Упаковка продукта"),
        ("  ожидалось: столбец с ролью «дата продажи» (date); обычно его заголовок: «Дата», «Период», "
         "«Дата документа», «Дата продажи»")]


def test_superstore_refusal_in_english(tmp_path, capsys):
    problems, err = refused(tmp_path, capsys, "superstore-ru-prodazhi", lang="en")
    assert problems[0]["expected"].startswith("a column holding the sale date (date)")
    assert 'date: "HEADER FROM THE FILE"' in problems[0]["suggestion"]
    assert "the file's headers: Order_ID | Приоритет" in err


# --- CRM deal exports (issue 14): deals, never a ledger; only won deals are revenue -----------

def check_deals(report: dict, x: dict) -> dict:
    """The deal export's counts and amounts against the manifest's figures; its block."""
    f, d = report["files"][0], report["deals"]
    assert f["kind"] == "deals" and f["rows_read"] == x["rows"]
    assert (d["won"], d["lost"], d["open"]) == (x["won_deals"], x["lost_deals"], x["open_deals"])
    assert close(d["won_amount"], x["revenue"]) and close(d["lost_amount"], x["lost_amount"])
    if "pipeline_amount" in x:
        assert close(d["open_amount"], x["pipeline_amount"])
    if "budget_sum_all_deals" in x:
        assert close(d["budget_all"], x["budget_sum_all_deals"])
    if "pipelines" in x:
        assert len(d["pipelines"]) == x["pipelines"]
    assert (report["totals"]["date_from"], report["totals"]["date_to"]) == (x["date_min"], x["date_max"])
    return d


def test_built_amocrm_deals_count_won_deals_only_and_open_close_dates_are_normal(tmp_path, capsys):
    x = ENTRIES["built-amocrm-deals"]["expected"]
    report = imported(tmp_path, capsys, "built-amocrm-deals")
    d = check_deals(report, x)
    assert d["open_close_text"] == x["open_not_closed_text"]          # «не закрыта»: normal, no error
    # the won deal without a company names its contact: the contact is the customer (said)
    assert (d["customers_company"], d["customers_contact"]) == (x["customers"], x["won_without_company"])
    assert report["totals"]["customers"] == x["customers"] + x["won_without_company"]
    assert close(report["totals"]["revenue"], x["revenue"])
    assert report["totals"]["revenue"] < x["budget_sum_all_deals"]


def test_built_bitrix24_rest_codes_and_semantics_and_a_contact_customer(tmp_path, capsys):
    x = ENTRIES["built-bitrix24-rest-deals"]["expected"]
    report = imported(tmp_path, capsys, "built-bitrix24-rest-deals")
    d = check_deals(report, x)
    assert d["crm"] == "bitrix24"
    assert close(report["totals"]["revenue"], x["revenue"]) and report["totals"]["customers"] == x["customers"]
    assert d["customers_contact"] == x["won_contact_only"]


def test_built_bitrix24_ui_custom_closed_stage_stops_the_import_until_classified(tmp_path, capsys):
    slug = "built-bitrix24-ui-deals"
    x = ENTRIES[slug]["expected"]
    problems, err = refused(tmp_path, capsys, slug)
    err = err.replace("\u00a0", " ")
    assert [(p["code"], p["value"]) for p in problems] == [("deal_stage_unknown", s) for s in x["closed_unclassified"]]
    assert "  - «Отложено», воронка «Общее», закрытая: сделок: 1, на сумму 95 000 ₽" in err
    assert '    "Общее":\n      "Новая": open\n' in err and '      "Отложено": ""\n' in err
    report = imported(tmp_path / "b", capsys, slug,
                      edits=(("  stages: {}", '  stages: {"*": {"Отложено": lost}}'),))
    check_deals(report, {**x, "lost_deals": x["lost_deals"] + 1, "lost_amount": x["lost_amount"] + 95_000})
    assert close(report["totals"]["revenue"], x["revenue"]) and report["totals"]["customers"] == x["customers"]


def test_genuine_bitrix24_leasing_refused_until_its_stages_and_customer_are_named(tmp_path, capsys):
    slug = "bitrix24-rest-leasing-deals"
    x = ENTRIES[slug]["expected"]
    problems, err = refused(tmp_path, capsys, slug)
    err = err.replace("\u00a0", " ")
    assert sorted(p["value"] for p in problems if p["code"] == "deal_stage_unknown") == sorted(x["closed_unclassified"])
    assert [p["code"] for p in problems if p["code"] != "deal_stage_unknown"] == ["deal_no_customer_column"]
    for stage, n in x["closed_unclassified"].items():
        assert f"  - «{stage}», закрытая: сделок: {n}, на сумму" in err
    report = imported(tmp_path / "b", capsys, slug, edits=(
        ("  stages: {}", '  stages: {"*": {"Выдано": won, "Отложенные": lost}}'),
        ("    columns: {}               # canonical names: deal_id", "    columns: {contact: TITLE}  # deal_id")))
    d = report["deals"]
    assert (d["won"], d["lost"]) == (x["won_deals"], x["lost_deals"] + x["closed_unclassified"]["Отложенные"])
    assert close(report["totals"]["revenue"], x["revenue"]) and close(d["budget_all"], x["budget_sum_all_deals"])


def test_genuine_amocrm_fixture_won_deal_without_amount_is_named_then_kept(tmp_path, capsys):
    slug = "amocrm-leads-test-fixture"
    x = ENTRIES[slug]["expected"]
    problems, err = refused(tmp_path, capsys, slug)
    assert [(p["code"], p["column"]) for p in problems] == [("deal_won_no_amount", "Бюджет")]
    assert "выигранная сделка без суммы" in err
    report = imported(tmp_path / "b", capsys, slug,
                      edits=(("  won_without_amount: refuse", "  won_without_amount: keep"),))
    d = report["deals"]
    assert (d["deals"], d["won"], d["lost"], d["open"]) == (x["deals"], x["won_deals"], x["lost_deals"], x["open_deals"])
    assert d["open_close_text"] == x["open_not_closed_text"] and len(d["rows_without_id"]) == x["rows_without_id"]
    assert d["customers_contact"] == x["customers"] and x["rows_with_company"] == 0
    assert close(report["totals"]["revenue"], x["revenue"])


def test_genuine_bitrix24_demo_with_open_deals_only_has_no_revenue_alone(tmp_path, capsys):
    slug = "bitrix24-rest-demo-deals"
    x = ENTRIES[slug]["expected"]
    assert (x["won_deals"], x["revenue"]) == (0, 0.0)
    problems, err = refused(tmp_path, capsys, slug)
    assert [p["code"] for p in problems] == ["deal_no_won"]
    assert "нет ни одной выигранной сделки с клиентом" in err
    problems, _ = refused(tmp_path / "en", capsys, slug, lang="en")
    assert [p["code"] for p in problems] == ["deal_no_won"]


def test_every_deal_export_of_the_corpus_is_tested():
    tested = {"built-amocrm-deals", "built-bitrix24-rest-deals", "built-bitrix24-ui-deals",
              "bitrix24-rest-leasing-deals", "amocrm-leads-test-fixture", "bitrix24-rest-demo-deals"}
    assert set(DEALS) == tested


# --- 1C, МойСклад, Excel --------------------------------------------------------------------

def test_1c_bp_customer_is_the_counterparty_and_revenue_is_net_of_vat(tmp_path, capsys):
    e = ENTRIES["built-1c-bp-sales-vat"]
    report = imported(tmp_path, capsys, e["slug"])
    check_totals(report, e)
    tot = report["totals"]
    assert tot["basis"] == "net"
    assert close(tot["revenue_with_vat"], e["expected"]["revenue_gross"]) and close(tot["vat"], e["expected"]["vat"])
    assert (role_of(report, "Организация")["role"], role_of(report, "Организация")["used"]) == ("seller", False)
    assert role_of(report, "Контрагент.ИНН") == {"index": 4, "column": "Контрагент.ИНН", "role": "inn", "used": True,
                                                 "reason": "attribute", "detail": "Контрагент"}
    assert role_of(report, "Сумма НДС")["reason"] == "tax"
    assert role_of(report, "Сумма с НДС")["reason"] == "other_basis"
    gross = imported(tmp_path / "gross", capsys, e["slug"], edits=(("  vat: net", "  vat: gross"),))
    assert close(gross["totals"]["revenue"], e["expected"]["revenue_gross"]) and gross["totals"]["basis"] == "gross"


def test_ut11_partner_is_the_customer_dates_from_the_registrator_margin_from_gross_profit(tmp_path, capsys):
    e = ENTRIES["built-1c-ut11-partner-registrator"]
    root = engagement(tmp_path, e["slug"])
    rc, report = import_json(root, capsys)
    assert rc == 0
    check_totals(report, e)
    f = report["files"][0]
    assert report["totals"]["basis"] == "net" and f["date_in_text"] is True
    assert role_of(report, "Контрагент")["reason"] == "outranked"
    assert role_of(report, "Организация")["role"] == "seller"
    import pandas as pd

    ledger = pd.read_parquet(root / "work" / "ledger.parquet")
    assert close(ledger["margin"].sum(), e["expected"]["gross_profit"])
    assert ledger["customer_name"].nunique() == e["expected"]["customers"]


def test_grouped_1c_report_is_read_from_its_outline(tmp_path, capsys):
    e = ENTRIES["built-1c-grouped-outline-xlsx"]
    root = engagement(tmp_path, e["slug"])
    rc, report = import_json(root, capsys)
    assert rc == 0
    tot, f, x = report["totals"], report["files"][0], e["expected"]
    assert (tot["rows"], tot["customers"]) == (x["rows"], x["customers"])
    assert close(tot["revenue"], x["revenue"]) and (tot["date_from"], tot["date_to"]) == (x["date_min"], x["date_max"])
    assert f["grouped"]["levels"] == ["Организация", "Контрагент", "Документ"]
    assert f["grouped"]["total_check"] == {"file_total": x["itogo"], "sum": x["revenue"], "equal": True}
    import pandas as pd

    ledger = pd.read_parquet(root / "work" / "ledger.parquet")
    assert "0274123456" in set(ledger["inn"])  # «ООО «Ромашка», 0274123456»: the zero kept
    assert close((ledger["amount"] - ledger["margin"]).sum(), x["cost"])


def test_zakazchik_xlsx_with_title_rows_and_its_total_checked(tmp_path, capsys):
    e = ENTRIES["built-zakazchik-itogo-xlsx"]
    report = imported(tmp_path, capsys, e["slug"])
    x = e["expected"]
    tot, f = report["totals"], report["files"][0]
    assert (tot["rows"], tot["customers"], f["header_row"]) == (x["rows"], x["customers"], "Лист1!A4")
    assert close(tot["revenue"], x["revenue"]) and (tot["date_from"], tot["date_to"]) == (x["date_min"], x["date_max"])
    assert f["rows_excluded"]["total"] == 1 and f["total_check"]["equal"] and close(f["total_check"]["file_total"],
                                                                                   x["itogo"])


def test_zakazchik_with_the_1c_catalogue_as_customers_file(tmp_path, capsys):
    e = ENTRIES["1c-kontragenty-catalogue"]
    report = imported(tmp_path, capsys, "built-zakazchik-itogo-xlsx", customers=e["slug"])
    cf = report["files"][1]
    assert cf["kind"] == "customers" and cf["rows_imported"] == e["expected"]["customers"]
    assert role_of({"files": [cf]}, "Наименование")["role"] == "customer_name"
    # the catalogue's three names are not the ledger's: three more customers, without purchases
    assert report["totals"]["customers"] == ENTRIES["built-zakazchik-itogo-xlsx"]["expected"]["customers"] + 3


def test_periods_become_months(tmp_path, capsys):
    e = ENTRIES["built-1c-periods-months"]
    report = imported(tmp_path, capsys, e["slug"])
    check_totals(report, e)
    assert report["files"][0]["date_formats"] == {"month": e["expected"]["rows"]}


def test_identity_traps(tmp_path, capsys):
    e = ENTRIES["built-identity-traps"]
    x = e["expected"]
    root = engagement(tmp_path, e["slug"], customers="built-1c-kontragenty-master")
    rc, report = import_json(root, capsys)
    assert rc == 0
    tot, f = report["totals"], report["files"][0]
    assert (f["rows_read"], tot["rows"], tot["customers"]) == (x["rows"], x["rows"] - x["anonymous_rows"], x["customers"])
    assert close(tot["revenue"], x["revenue"])
    assert (f["anonymous"]["rows"], f["anonymous"]["amount"]) == (x["anonymous_rows"], x["anonymous_revenue"])
    assert f["inn"]["padded"] == x["inns_without_leading_zero"]
    assert [i["inn"] for i in f["inn_names"]["items"]] == x["inns_under_two_names"]
    assert [n["name"] for n in f["inn_names"]["items"][0]["names"]] == ["ООО «Вектор-Плюс»", "ООО «Вектор»"]
    pairs = {(p["name_a"], p["name_b"]) for p in f["possible_duplicates"]["items"]}
    assert ("ООО «Ромашка»", "ООО «Ромашка-Юг»") in pairs
    import pandas as pd

    ledger = pd.read_parquet(root / "work" / "ledger.parquet")
    by_id = ledger.groupby("customer_id")["customer_name"].agg(lambda s: sorted(set(s)))
    assert len(by_id) == x["customers"]
    romashka = ledger.loc[ledger["inn"] == "7702345678"]
    assert len(romashka) == 3  # «ООО «Ромашка»», «Ромашка ООО», «ООО "Pомашка"» (Latin P): one customer
    assert len(ledger.loc[ledger["inn"] == "772812345678"]) == 2  # «ИП Петров И.С.» joins the full name
    customers = pd.read_parquet(root / "work" / "customers.parquet").set_index("customer_id")
    master = ENTRIES["built-1c-kontragenty-master"]["expected"]
    assert len(customers) == master["customers"] and customers["industry"].nunique() == master["industries"]
    assert customers.loc["0274123456", "region"] == "Республика Башкортостан"  # 274123456 padded in both files


def test_identity_settled_in_engagement_yaml(tmp_path, capsys):
    slug = "built-identity-traps"
    report = imported(tmp_path, capsys, slug, edits=(
        ("  merge: []", '  merge:\n    - ["ООО «Ромашка»", "ООО «Ромашка-Юг»"]'),
        ("  keep_apart: []", '  keep_apart:\n    - ["ООО «Вектор»", "ООО «Вектор-Плюс»"]')))
    f = report["files"][0]
    assert report["totals"]["customers"] == 6  # one merged, one split
    assert f["inn_names"]["count"] == 0 and f["possible_duplicates"]["count"] == 0
    problems, _ = refused(tmp_path / "bad", capsys, slug, edits=(
        ("  merge: []", '  merge:\n    - ["ООО «Ромашкка»", "ООО «Сибирь»"]'),))
    assert [(p["code"], p["column"], p["value"]) for p in problems] == [
        ("unknown_customer", "customers.merge[0][0]", "ООО «Ромашкка»"),
        ("unknown_customer", "customers.merge[0][1]", "ООО «Сибирь»")]
    assert problems[0]["suggestion"] == "похожее написание в файле: «ООО «Ромашка»»"


def test_moysklad_shipped_rows_only_and_the_seller_said(tmp_path, capsys):
    e = ENTRIES["built-moysklad-otgruzki"]
    report = imported(tmp_path, capsys, e["slug"])
    check_totals(report, e)
    f = report["files"][0]
    assert role_of(report, "Время") == {"index": 1, "column": "Время", "role": "date", "used": True,
                                        "reason": "values_dates", "detail": ""}
    assert role_of(report, "Организация")["detail"] == "ИП Волков Олег Павлович"
    assert f["rows_imported"] == e["expected"]["rows_shipped"]
    assert close(f["status"]["amount_all_rows"], e["expected"]["amount_all_rows"])
    assert set(f["status"]["skipped"]) == {"Отменено", "Новый"}


# --- English CSVs ---------------------------------------------------------------------------

GBP = (("currency: RUB", "currency: GBP"),)


def test_online_retail_layout_quantity_times_price_month_first_anonymous_left_out(tmp_path, capsys):
    e = ENTRIES["built-english-online-retail-layout"]
    x = e["expected"]
    report = imported(tmp_path, capsys, e["slug"], edits=GBP)
    check_totals(report, e, dates="file")
    tot, f = report["totals"], report["files"][0]
    assert report["currency"] == "GBP"
    assert f["amount"] == {"how": "quantity_price", "basis": "unknown", "columns": ["Quantity", "UnitPrice"]}
    assert f["date_order"] == {"order": "mdy", "proven": True, "ambiguous": False}
    assert (tot["anonymous_rows"], round(tot["anonymous_revenue"], 2)) == (x["anonymous_rows"], x["anonymous_revenue"])
    assert (f["returns"]["count"], round(f["returns"]["sum"], 2)) == (x["cancellation_rows"], x["cancellation_amount"])
    assert role_of(report, "Country")["role"] == "country" and not role_of(report, "Country")["used"]
    assert tot["rows"] == x["rows"] - x["anonymous_rows"]


def test_b2b_orders_in_gbp_shipped_only_month_first(tmp_path, capsys):
    e = ENTRIES["built-english-b2b-orders"]
    x = e["expected"]
    problems, _ = refused(tmp_path, capsys, e["slug"])
    assert {(p["code"], p["value"]) for p in problems} == {("foreign_currency", "GBP")}
    assert problems[0]["suggestion"] == "если значение верно, добавьте в engagement.yaml:\ncurrency: GBP"
    report = imported(tmp_path / "gbp", capsys, e["slug"], edits=GBP)
    check_totals(report, e)
    f = report["files"][0]
    assert role_of(report, "client")["role"] == "customer_name" and role_of(report, "account")["reason"] == "outranked"
    assert close(f["status"]["amount_all_rows"], x["total_all_rows"])
    assert f["date_order"]["order"] == "mdy" and f["date_order"]["proven"]


def test_first_data_row_with_a_header_word_stays_data(tmp_path, capsys):
    e = ENTRIES["built-first-row-header-word"]
    report = imported(tmp_path, capsys, e["slug"])
    check_totals(report, e)
    assert report["files"][0]["header_row"] == "строка 1" and report["totals"]["rows"] == 12


def test_far_future_date_is_refused_then_let_in_without_choosing_the_month(tmp_path, capsys):
    e = ENTRIES["built-far-future-date"]
    x = e["expected"]
    problems, _ = refused(tmp_path, capsys, e["slug"])
    assert [(p["code"], p["row"], p["value"]) for p in problems] == [("date_after_max", "строка 139", "31.12.2099")]
    assert problems[0]["suggestion"].endswith('import:\n  max_date: "2099-12-31"')
    root = engagement(tmp_path / "allowed", e["slug"], edits=(('  max_date: ""', '  max_date: "2099-12-31"'),))
    rc, report = import_json(root, capsys)
    assert rc == 0
    assert (report["totals"]["rows"], report["totals"]["customers"]) == (x["rows"], x["customers"])
    assert close(report["totals"]["revenue"], x["revenue"])
    from workbench.config import load_engagement
    from workbench.steps import latest_month

    assert latest_month(load_engagement(root)) == x["date_max"][:7]  # 2024-12, never 2099-12


def test_every_corpus_ledger_is_covered():
    tested = {m.group(1) for m in re.finditer(r'ENTRIES\["([^"]+)"\]', Path(__file__).read_text(encoding="utf-8"))}
    assert {s for s, e in ENTRIES.items() if e["kind"] != "deals"} <= tested


def test_corpus_files_are_untouched_by_the_import(tmp_path, capsys):
    slug = "built-1c-bp-sales-vat"
    before = (CORPUS / slug / ENTRIES[slug]["file"]).read_bytes()
    root = engagement(tmp_path, slug)
    assert import_json(root, capsys)[0] == 0
    assert (root / "data" / ENTRIES[slug]["file"]).read_bytes() == before == \
        (CORPUS / slug / ENTRIES[slug]["file"]).read_bytes()
    shutil.rmtree(root)
