"""Expected figures of every corpus file, worked out with plain pandas, independently of workbench.

One function per corpus folder (``figures_<slug with _ for ->``), each taking the file's path and
returning a dict of figures. Each folder's README.md shows its function verbatim (a test checks
that), and ``manifest.yaml`` holds the numbers these functions return (a test checks that too),
so the README, the manifest and the files cannot drift apart.

Money is rounded to 2 decimals, dates are ISO strings. Nothing here imports workbench.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook


def _money_ru(series: pd.Series) -> pd.Series:
    """'1 234 567,50' (NBSP or space thousands, decimal comma) -> float."""
    text = series.astype(str).str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    return pd.to_numeric(text.str.replace(",", ".", regex=False))


def _r(x: float) -> float:
    return round(float(x), 2)


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


# ------------------------------------------------------------------ genuine files

def figures_bitrix24_rest_leasing_deals(path: Path) -> dict:
    d = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    amount = pd.to_numeric(d["OPPORTUNITY"].replace("", "0"))
    # «Сделка провалена» is Bitrix24's own name of the lost stage. «Выдано» (leasing issued) and
    # «Отложенные» (postponed) are the client's names of closed stages (CLOSED=Y): only the
    # consultant can say which is won; the figures take «Выдано» as won, «Отложенные» as not won.
    won = d["STAGE_ID"].eq("Выдано")
    lost = d["STAGE_ID"].eq("Сделка провалена")
    closed = d["CLOSED"].eq("Y")
    close = pd.to_datetime(d.loc[won, "CLOSEDATE"].str[:10], format="%Y-%m-%d")
    return {
        "rows": len(d),
        "won_deals": int(won.sum()),
        "revenue": _r(amount[won].sum()),
        "lost_deals": int(lost.sum()),
        "lost_amount": _r(amount[lost].sum()),
        "open_deals": int((~closed).sum()),
        "closed_unclassified": {k: int(v) for k, v in d.loc[closed & ~lost, "STAGE_ID"]
                                .value_counts().sort_index().items()},
        "budget_sum_all_deals": _r(amount.sum()),
        "empty_opportunity": int(d["OPPORTUNITY"].eq("").sum()),
        "date_min": _iso(close.min()),
        "date_max": _iso(close.max()),
    }


def figures_bitrix24_rest_demo_deals(path: Path) -> dict:
    d = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp1251")
    amount = pd.to_numeric(d["OPPORTUNITY"])
    return {
        "rows": len(d),
        "won_deals": int(d["STAGE_SEMANTIC_ID"].eq("S").sum()),
        "revenue": _r(amount[d["STAGE_SEMANTIC_ID"].eq("S")].sum()),
        "open_deals": int(d["STAGE_SEMANTIC_ID"].eq("P").sum()),
        "pipeline_amount": _r(amount[d["STAGE_SEMANTIC_ID"].eq("P")].sum()),
        "customers": int(d.loc[d["COMPANY_ID"].ne("0"), "COMPANY_ID"].nunique()),
    }


def figures_amocrm_leads_test_fixture(path: Path) -> dict:
    rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    d = rows[rows["ID"].ne("")]                                # the last row repeats a deal without its ID
    budget = pd.to_numeric(d["Бюджет "].replace("", "0"))     # the header has a trailing space
    won = d["Этап сделки"].eq("Успешно реализовано")
    lost = d["Этап сделки"].eq("Закрыто и не реализовано")
    dated = d["Дата закрытия"].ne("не закрыта")
    close = pd.to_datetime(d.loc[dated, "Дата закрытия"], format="%d.%m.%Y %H:%M:%S")
    return {
        "rows": len(rows),
        "rows_without_id": int(rows["ID"].eq("").sum()),
        "deals": int(d["ID"].nunique()),
        "won_deals": int(won.sum()),
        "revenue": _r(budget[won].sum()),
        "lost_deals": int(lost.sum()),
        "open_deals": int((~won & ~lost).sum()),
        "open_not_closed_text": int((~dated).sum()),
        "empty_budget": int(d["Бюджет "].eq("").sum()),
        "rows_with_company": int(d["Компания"].ne("").sum()),
        "customers": int(d.loc[won, "Полное имя контакта"].nunique()),
        "duplicate_header_names": int(len(rows.columns) - len({c.split(".")[0] for c in rows.columns})),
        "date_min": _iso(close.min()),
        "date_max": _iso(close.max()),
    }


def figures_1c_kontragenty_catalogue(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")
    return {
        "rows": len(d),
        "customers": int(d["Наименование"].nunique()),
        "legal_entities": int(d["ВидКонтрагента"].eq("ЮрЛицо").sum()),
        "individuals": int(d["ВидКонтрагента"].eq("ФизЛицо").sum()),
    }


def figures_uci_online_retail_head(path: Path) -> dict:
    text = path.read_text(encoding="ascii")
    records = list(csv.reader(io.StringIO(text)))
    header, body = records[0], records[1:]
    bad_lines = [i + 2 for i, rec in enumerate(body) if len(rec) != len(header)]
    good = pd.DataFrame([rec for rec in body if len(rec) == len(header)], columns=header)
    amount = pd.to_numeric(good["Quantity"]) * pd.to_numeric(good["UnitPrice"])
    # UCI documents InvoiceDate as month-first; «12/1/10» is 1 December 2010 (two-digit year).
    when = pd.to_datetime(good["InvoiceDate"], format="%m/%d/%y %H:%M")
    return {
        "rows": len(body),
        "malformed_lines": bad_lines,
        "rows_well_formed": len(good),
        "customers": int(good["CustomerID"].replace("", pd.NA).dropna().nunique()),
        "revenue": _r(amount.sum()),
        "cancellation_rows": int(good["InvoiceNo"].str.startswith("C").sum()),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


def figures_superstore_ru_prodazhi(path: Path) -> dict:
    d = pd.read_csv(path, dtype=str, encoding="utf-8")
    revenue = pd.to_numeric(d["Выручка"].str.replace("\u00a0", "", regex=False))
    profit = pd.to_numeric(d["Прибыль"].str.replace("\u00a0", "", regex=False))
    return {
        "rows": len(d),
        "customers": int(d["Покупатель"].nunique()),
        "revenue": _r(revenue.sum()),
        "profit": _r(profit.sum()),
        "rows_with_nbsp_thousands": int(d["Выручка"].str.contains("\u00a0").sum()),
    }


def figures_sibdev_test_deals(path: Path) -> dict:
    d = pd.read_csv(path, dtype={"customer": str}, encoding="utf-8-sig")
    when = pd.to_datetime(d["date"], format="%Y-%m-%d %H:%M:%S.%f")
    return {
        "rows": len(d),
        "customers": int(d["customer"].nunique()),
        "revenue": _r(d["total"].sum()),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


# ------------------------------------------------------------------ built files

def figures_built_1c_bp_sales_vat(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, encoding="cp1251")
    when = pd.to_datetime(d["Дата"], format="%d.%m.%Y")
    return {
        "rows": len(d),
        "customers": int(d["Контрагент"].nunique()),
        "sellers": int(d["Организация"].nunique()),
        "revenue": _r(_money_ru(d["Сумма без НДС"]).sum()),
        "revenue_gross": _r(_money_ru(d["Сумма с НДС"]).sum()),
        "vat": _r(_money_ru(d["Сумма НДС"]).sum()),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


def figures_built_1c_ut11_partner_registrator(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")
    when = pd.to_datetime(d["Регистратор"].str.extract(r" от (\d\d\.\d\d\.\d{4})")[0], format="%d.%m.%Y")
    return {
        "rows": len(d),
        "customers": int(d["Партнер"].nunique()),
        "legal_entities": int(d["Контрагент"].nunique()),
        "sellers": int(d["Организация"].nunique()),
        "revenue": _r(_money_ru(d["Сумма без НДС"]).sum()),
        "revenue_gross": _r(_money_ru(d["Сумма с НДС"]).sum()),
        "vat": _r(_money_ru(d["НДС"]).sum()),
        "cost": _r(_money_ru(d["Себестоимость"]).sum()),
        "gross_profit": _r(_money_ru(d["Валовая прибыль"]).sum()),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


def figures_built_zakazchik_itogo_xlsx(path: Path) -> dict:
    raw = pd.read_excel(path, header=None, dtype=object)
    header_row = raw.index[raw[0].eq("Дата")][0]
    d = raw.iloc[header_row + 1:].set_axis(list(raw.iloc[header_row]), axis=1)
    total = d[d["Дата"].eq("Итого")]
    d = d[~d["Дата"].eq("Итого")]
    when = pd.to_datetime(d["Дата"])
    return {
        "title_rows": int(header_row),
        "rows": len(d),
        "customers": int(d["Заказчик"].nunique()),
        "revenue": _r(d["Сумма"].astype(float).sum()),
        "itogo": _r(total["Сумма"].astype(float).iloc[0]),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


def figures_built_1c_grouped_outline_xlsx(path: Path) -> dict:
    ws = load_workbook(path).active
    rows = [(ws.row_dimensions[r[0].row].outline_level, [c.value for c in r]) for r in ws.iter_rows()]
    numeric = [(lvl, vals) for lvl, vals in rows if isinstance(vals[2], (int, float))]
    deepest = max(lvl for lvl, _ in numeric)
    leaves = [vals for lvl, vals in numeric if lvl == deepest]
    parents = [vals for lvl, vals in numeric if lvl == deepest - 1]
    itogo = next(vals for _, vals in numeric if vals[0] == "Итого")
    dates = pd.to_datetime(pd.Series([v[0] for v in leaves]).str.extract(r" от (\d\d\.\d\d\.\d{4})")[0],
                           format="%d.%m.%Y")
    return {
        "rows": len(leaves),
        "customers": len(parents),
        "revenue": _r(sum(v[2] for v in leaves)),
        "itogo": _r(itogo[2]),
        "sum_of_every_numeric_row": _r(sum(v[2] for _, v in numeric)),
        "cost": _r(sum(v[3] for v in leaves)),
        "date_min": _iso(dates.min()),
        "date_max": _iso(dates.max()),
    }


_MONTHS = {"Январь": 1, "Февраль": 2, "Март": 3, "Апрель": 4, "Май": 5, "Июнь": 6, "Июль": 7,
           "Август": 8, "Сентябрь": 9, "Октябрь": 10, "Ноябрь": 11, "Декабрь": 12}


def figures_built_1c_periods_months(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, encoding="cp1251")
    parts = d["Период"].str.extract(r"^(\w+) (\d{4}) г\.$")
    month = pd.to_datetime({"year": parts[1].astype(int), "month": parts[0].map(_MONTHS), "day": 1})
    return {
        "rows": len(d),
        "customers": int(d["Контрагент"].nunique()),
        "revenue": _r(_money_ru(d["Сумма"]).sum()),
        "date_min": _iso(month.min()),
        "date_max": _iso(month.max()),
    }


_LATIN_LOOKALIKES = str.maketrans("aceopxykmtbhPAEKMHOCTBX", "асеорхукмтвнРАЕКМНОСТВХ")


def _name_key(name: str) -> str:
    s = name.translate(_LATIN_LOOKALIKES).lower().replace("ё", "е")
    s = re.sub(r"[«»\"'“”„]", " ", s)
    s = re.sub(r"\b(ооо|ао|пао|зао|ип)\b", " ", s)
    s = re.sub(r"[.\s]+", " ", s).strip()
    words = s.split()
    # An entrepreneur's full name and its initials are one person: «петров иван сергеевич» ~ «петров и с».
    if len(words) == 3 and all(w.isalpha() for w in words):
        words = [words[0]] + [w[0] for w in words[1:]]
    return " ".join(words)


def figures_built_identity_traps(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="cp1251")
    amount = _money_ru(d["Сумма"])
    anonymous = d["Контрагент"].eq("") & d["ИНН"].eq("")
    named = d[~anonymous].copy()
    named["inn"] = named["ИНН"].where(named["ИНН"].str.len() != 9, "0" + named["ИНН"])
    named["key"] = named["Контрагент"].map(_name_key)
    inn_of_key = named[named["inn"].ne("")].groupby("key")["inn"].first()
    named["customer"] = named["inn"].where(named["inn"].ne(""), named["key"].map(inn_of_key))
    named["customer"] = named["customer"].fillna(named["key"])
    names_per_inn = named[named["inn"].ne("")].groupby("inn")["key"].nunique()
    return {
        "rows": len(d),
        "anonymous_rows": int(anonymous.sum()),
        "anonymous_revenue": _r(amount[anonymous].sum()),
        "distinct_names_as_typed": int(named["Контрагент"].nunique()),
        "customers": int(named["customer"].nunique()),
        "revenue": _r(amount[~anonymous].sum()),
        "inns_without_leading_zero": int(named["ИНН"].str.len().eq(9).sum()),
        "inns_under_two_names": sorted(names_per_inn[names_per_inn > 1].index.tolist()),
    }


def figures_built_1c_kontragenty_master(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="cp1251")
    lengths = d["ИНН"].str.len()
    return {
        "rows": len(d),
        "customers": int(d["Наименование"].nunique()),
        "inn_10_digits": int(lengths.eq(10).sum()),
        "inn_12_digits": int(lengths.eq(12).sum()),
        "inn_9_digits": int(lengths.eq(9).sum()),
        "industries": int(d["Отрасль"].nunique()),
        "regions": int(d["Регион"].nunique()),
    }


def figures_built_first_row_header_word(path: Path) -> dict:
    d = pd.read_csv(path, dtype=str)
    when = pd.to_datetime(d["Date"], format="%Y-%m-%d")
    return {
        "rows": len(d),
        "first_row_department": d["Department"].iloc[0],
        "customers": int(d["Customer"].nunique()),
        "revenue": _r(pd.to_numeric(d["Amount"]).sum()),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


def figures_built_far_future_date(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, encoding="cp1251")
    when = pd.to_datetime(d["Дата"], format="%d.%m.%Y")
    amount = _money_ru(d["Сумма"])
    future = when > pd.Timestamp("2030-01-01")
    return {
        "rows": len(d),
        "far_future_lines": [int(i) + 2 for i in d.index[future]],
        "customers": int(d["Контрагент"].nunique()),
        "revenue": _r(amount.sum()),
        "revenue_without_far_future": _r(amount[~future].sum()),
        "date_min": _iso(when.min()),
        "date_max": _iso(when[~future].max()),
    }


def figures_built_moysklad_otgruzki(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")
    shipped = d["Статус"].eq("Отгружено")
    amount = pd.to_numeric(d["Сумма"].str.replace(",", ".", regex=False))
    when = pd.to_datetime(d.loc[shipped, "Время"], format="%d.%m.%Y %H:%M")
    return {
        "rows": len(d),
        "rows_shipped": int(shipped.sum()),
        "customers": int(d.loc[shipped, "Контрагент"].nunique()),
        "sellers": int(d["Организация"].nunique()),
        "revenue": _r(amount[shipped].sum()),
        "amount_all_rows": _r(amount.sum()),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


def figures_built_amocrm_deals(path: Path) -> dict:
    d = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    budget = pd.to_numeric(d["Бюджет "])                       # the header has a trailing space
    won = d["Этап сделки"].eq("Успешно реализовано")
    lost = d["Этап сделки"].eq("Закрыто и не реализовано")
    close = pd.to_datetime(d.loc[won, "Дата закрытия"], format="%d.%m.%Y %H:%M:%S")
    return {
        "rows": len(d),
        "won_deals": int(won.sum()),
        "revenue": _r(budget[won].sum()),
        "customers": int(d.loc[won & d["Компания"].ne(""), "Компания"].nunique()),
        "won_without_company": int((won & d["Компания"].eq("")).sum()),
        "lost_deals": int(lost.sum()),
        "lost_amount": _r(budget[lost].sum()),
        "open_deals": int((~won & ~lost).sum()),
        "open_not_closed_text": int(d["Дата закрытия"].eq("не закрыта").sum()),
        "pipeline_amount": _r(budget[~won & ~lost].sum()),
        "budget_sum_all_deals": _r(budget.sum()),
        "pipelines": int(d["Воронка"].nunique()),
        "date_min": _iso(close.min()),
        "date_max": _iso(close.max()),
    }


def figures_built_bitrix24_ui_deals(path: Path) -> dict:
    d = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    amount = pd.to_numeric(d["Сумма"])
    won = d["Стадия сделки"].eq("Сделка успешна")
    lost = d["Стадия сделки"].eq("Сделка провалена")
    closed = d["Сделка закрыта"].eq("Да")
    close = pd.to_datetime(d.loc[won, "Предполагаемая дата закрытия"], format="%d.%m.%Y")
    return {
        "rows": len(d),
        "won_deals": int(won.sum()),
        "revenue": _r(amount[won].sum()),
        "customers": int(d.loc[won, "Компания"].nunique()),
        "lost_deals": int(lost.sum()),
        "lost_amount": _r(amount[lost].sum()),
        "open_deals": int((~closed).sum()),
        "closed_unclassified": {k: int(v) for k, v in d.loc[closed & ~won & ~lost, "Стадия сделки"]
                                .value_counts().sort_index().items()},
        "budget_sum_all_deals": _r(amount.sum()),
        "date_min": _iso(close.min()),
        "date_max": _iso(close.max()),
    }


def figures_built_bitrix24_rest_deals(path: Path) -> dict:
    d = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    amount = pd.to_numeric(d["OPPORTUNITY"])
    won = d["STAGE_SEMANTIC_ID"].eq("S")
    client = d["COMPANY_ID"].where(d["COMPANY_ID"].ne("0"), "contact " + d["CONTACT_ID"])
    close = pd.to_datetime(d.loc[won, "CLOSEDATE"].str[:10], format="%Y-%m-%d")
    return {
        "rows": len(d),
        "won_deals": int(won.sum()),
        "revenue": _r(amount[won].sum()),
        "customers": int(client[won].nunique()),
        "won_contact_only": int((won & d["COMPANY_ID"].eq("0")).sum()),
        "lost_deals": int(d["STAGE_SEMANTIC_ID"].eq("F").sum()),
        "lost_amount": _r(amount[d["STAGE_SEMANTIC_ID"].eq("F")].sum()),
        "open_deals": int(d["STAGE_SEMANTIC_ID"].eq("P").sum()),
        "pipeline_amount": _r(amount[d["STAGE_SEMANTIC_ID"].eq("P")].sum()),
        "pipelines": int(d["CATEGORY_ID"].nunique()),
        "date_min": _iso(close.min()),
        "date_max": _iso(close.max()),
    }


def figures_built_english_online_retail_layout(path: Path) -> dict:
    d = pd.read_csv(path, dtype={"CustomerID": str, "InvoiceNo": str})
    amount = d["Quantity"] * d["UnitPrice"]
    anonymous = d["CustomerID"].isna()
    when = pd.to_datetime(d["InvoiceDate"], format="%m/%d/%Y %H:%M")
    return {
        "rows": len(d),
        "customers": int(d["CustomerID"].dropna().nunique()),
        "revenue": _r(amount[~anonymous].sum()),
        "anonymous_rows": int(anonymous.sum()),
        "anonymous_revenue": _r(amount[anonymous].sum()),
        "cancellation_rows": int(d["InvoiceNo"].str.startswith("C").sum()),
        "cancellation_amount": _r(amount[d["InvoiceNo"].str.startswith("C")].sum()),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


def figures_built_english_b2b_orders(path: Path) -> dict:
    d = pd.read_csv(path, dtype=str)
    total = pd.to_numeric(d["total"])
    shipped = d["status"].eq("Shipped")
    when = pd.to_datetime(d["order_date"], format="%m/%d/%Y")
    return {
        "rows": len(d),
        "customers": int(d["client"].nunique()),
        "accounts": int(d["account"].nunique()),
        "revenue": _r(total[shipped].sum()),
        "total_all_rows": _r(total.sum()),
        "currency": d["currency"].unique().tolist(),
        "date_min": _iso(when.min()),
        "date_max": _iso(when.max()),
    }


def function_for(slug: str):
    """The figures function of a corpus folder."""
    return globals()["figures_" + slug.replace("-", "_")]
