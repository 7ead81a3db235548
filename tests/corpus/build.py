"""Build the corpus files for which no public file exists.

Each file is laid out with the column names and layout of the system it imitates, as
``/work/shared/EXPORTS.md`` (project copy: ``../shared/EXPORTS.md``) and the genuine files
beside it show them, and carries the traps of issue 13/14 on purpose. Every value is
fixed in this script; the two bulk files draw from ``random.Random(SEED)``, so a rebuild
gives the same rows. The expected figures of each file are written by hand into its
README and into ``manifest.yaml``; ``tests/test_corpus_manifest.py`` recomputes them from
the files with independent pandas code (``figures.py``).

Run from the repository root::

    .venv/bin/python tests/corpus/build.py

The genuine files (folders without ``built-``) are never touched by this script.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
SEED = 20240131
NBSP = "\u00a0"
FIXED_TIME = dt.datetime(2024, 4, 1, 9, 0, 0)


# ---------------------------------------------------------------- helpers

def money_ru(value: float) -> str:
    """1C style: NBSP thousands, decimal comma, two decimals ("1 234 567,50")."""
    whole, frac = f"{value:,.2f}".split(".")
    return whole.replace(",", NBSP) + "," + frac


def write_text(slug: str, name: str, lines: list[str], encoding: str, newline: str = "\r\n",
               bom: bool = False) -> Path:
    folder = HERE / slug
    folder.mkdir(exist_ok=True)
    text = newline.join(lines) + newline
    data = text.encode(encoding)
    if bom:
        data = "\ufeff".encode(encoding) + data
    path = folder / name
    path.write_bytes(data)
    return path


def save_workbook(wb: Workbook, slug: str, name: str) -> Path:
    """Save with fixed document times and zip entry dates, so a rebuild gives the same bytes."""
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "1C:Enterprise 8.3"
    folder = HERE / slug
    folder.mkdir(exist_ok=True)
    path = folder / name
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    # openpyxl stamps the zip entries with the current time; rewrite them with a fixed one.
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = _fixed_core_times(data)
            info = zipfile.ZipInfo(item.filename, date_time=(2024, 4, 1, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    tmp.unlink()
    return path


def _fixed_core_times(data: bytes) -> bytes:
    import re
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + stamp + rb"\g<3>", data)


def doc_1c(number: int, day: dt.date, prefix: str = "00ЦБ-", kind: str = "Реализация товаров и услуг",
           time: str = "12:00:00") -> str:
    return f"{kind} {prefix}{number:06d} от {day:%d.%m.%Y} {time}"


D = dt.date


# ---------------------------------------------------------------- 1C БП 3.0: VAT columns, seller, dotted INN

SELLER = "ООО «Торговый дом Север»"

BP_ROWS = [
    # date, doc no, customer, INN, item, qty, net
    (D(2024, 1, 15), 101, "ООО «Альфа-Трейд»", "7701234567", "Кабель ВВГнг 3х2,5", 500, 62_500.00),
    (D(2024, 1, 22), 108, "АО «Сибирские сети»", "5406123456", "Автомат ВА47-29 16А", 1_200, 174_000.00),
    (D(2024, 1, 29), 115, "ИП Кузнецов Андрей Викторович", "540123456789", "Щит ЩРН-12", 40, 38_400.00),
    (D(2024, 2, 5), 131, "ООО «Альфа-Трейд»", "7701234567", "Кабель ВВГнг 3х2,5", 800, 100_000.00),
    (D(2024, 2, 14), 142, "АО «Сибирские сети»", "5406123456", "Счетчик Меркурий 230", 60, 87_600.00),
    (D(2024, 2, 27), 157, "ООО «Альфа-Трейд»", "7701234567", "Розетка Legrand Valena", 900, 45_000.00),
    (D(2024, 3, 4), 166, "ИП Кузнецов Андрей Викторович", "540123456789", "Кабель-канал 40х25", 300, 12_600.00),
    (D(2024, 3, 12), 178, "АО «Сибирские сети»", "5406123456", "Автомат ВА47-29 16А", 400, 58_000.00),
    (D(2024, 3, 20), 189, "ООО «Альфа-Трейд»", "7701234567", "Щит ЩРН-12", 15, 14_400.00),
    (D(2024, 3, 28), 197, "ИП Кузнецов Андрей Викторович", "540123456789", "Счетчик Меркурий 230", 5, 7_000.00),
]


def build_bp_sales_vat() -> None:
    """БП 3.0 sales lines saved as CSV (cp1251, ';', CRLF): seller «Организация» with one value,
    «Сумма без НДС» | «Сумма НДС» | «Сумма с НДС», dotted «Контрагент.ИНН», NBSP thousands."""
    lines = ["Дата;Документ;Организация;Контрагент;Контрагент.ИНН;Номенклатура;Количество;"
             + "Сумма без НДС;Сумма НДС;Сумма с НДС"]
    for day, no, cust, inn, item, qty, net in BP_ROWS:
        vat = round(net * 0.20, 2)
        lines.append(";".join([
            f"{day:%d.%m.%Y}", doc_1c(no, day), SELLER, cust, inn, item, str(qty),
            money_ru(net), money_ru(vat), money_ru(net + vat)]))
    write_text("built-1c-bp-sales-vat", "Продажи_1кв2024.csv", lines, "cp1251")


# ---------------------------------------------------------------- УТ-11: Партнер, date only inside «Регистратор»

UT_ROWS = [
    # doc no, date, time, partner, legal entity (Контрагент), item, qty, gross, cost
    (1, D(2024, 4, 2), "10:15:32", "Группа компаний «Альфа»", "ООО «Альфа-Трейд»", "Профнастил С8", 120, 96_000.00, 61_200.00),
    (2, D(2024, 4, 3), "16:40:05", "Стройдвор", "ООО «Стройдвор»", "Саморез кровельный", 5_000, 18_000.00, 9_500.00),
    (3, D(2024, 4, 9), "09:05:11", "Группа компаний «Альфа»", "АО «Альфа-Логистик»", "Профнастил С20", 60, 57_600.00, 38_400.00),
    (4, D(2024, 4, 15), "11:22:48", "Петров Иван Сергеевич ИП", "ИП Петров Иван Сергеевич", "Водосток ПВХ", 40, 24_000.00, 15_600.00),
    (5, D(2024, 4, 18), "14:00:00", "Стройдвор", "ООО «Стройдвор»", "Профнастил С8", 200, 160_000.00, 102_000.00),
    (6, D(2024, 4, 24), "12:31:09", "ТехноПром", "ООО «ТехноПром»", "Утеплитель 100 мм", 80, 112_000.00, 84_000.00),
    (7, D(2024, 5, 6), "10:00:00", "Группа компаний «Альфа»", "ООО «Альфа-Трейд»", "Саморез кровельный", 10_000, 36_000.00, 19_000.00),
    (8, D(2024, 5, 13), "15:45:27", "ТехноПром", "ООО «ТехноПром»", "Профнастил С20", 30, 28_800.00, 19_200.00),
    (9, D(2024, 5, 20), "08:59:59", "Петров Иван Сергеевич ИП", "ИП Петров Иван Сергеевич", "Утеплитель 100 мм", 10, 14_000.00, 10_500.00),
    (10, D(2024, 5, 31), "17:10:00", "Стройдвор", "ООО «Стройдвор»", "Водосток ПВХ", 100, 60_000.00, 39_000.00),
]


def build_ut11_partner() -> None:
    """УТ-11 «Валовая прибыль предприятия» rows saved as CSV (UTF-8 with BOM, ';'): «Партнер» is the
    customer group, «Контрагент» its legal entity, the date lives only inside «Регистратор»."""
    org = "ООО «Кровля-Центр»"
    lines = ["Регистратор;Организация;Партнер;Контрагент;Номенклатура;Количество;"
             + "Сумма с НДС;НДС;Сумма без НДС;Себестоимость;Валовая прибыль"]
    for no, day, time, partner, entity, item, qty, gross, cost in UT_ROWS:
        net = round(gross / 1.2, 2)
        vat = round(gross - net, 2)
        lines.append(";".join([
            doc_1c(no, day, prefix="ЦБ00-", time=time), org, partner, entity, item, str(qty),
            money_ru(gross), money_ru(vat), money_ru(net), money_ru(cost), money_ru(net - cost)]))
    write_text("built-1c-ut11-partner-registrator", "Валовая_прибыль_апрель_май.csv", lines,
               "utf-8", bom=True)


# ---------------------------------------------------------------- «Заказчик» + title rows + «Итого», xlsx

ZAK_ROWS = [
    (D(2024, 1, 10), "ООО «Медтехника»", 84_000.00),
    (D(2024, 1, 17), "ГБУЗ «Городская больница № 3»", 312_500.00),
    (D(2024, 1, 30), "ООО «Медтехника»", 56_250.00),
    (D(2024, 2, 8), "ООО «Фарма-Логистик»", 129_900.00),
    (D(2024, 2, 21), "ГБУЗ «Городская больница № 3»", 198_000.00),
    (D(2024, 3, 1), "ООО «Медтехника»", 47_300.00),
    (D(2024, 3, 14), "ООО «Фарма-Логистик»", 88_800.00),
    (D(2024, 3, 29), "ГБУЗ «Городская больница № 3»", 240_000.00),
]


def build_zakazchik_itogo() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Лист1"
    ws.append(["Продажи по заказчикам за 1 квартал 2024 г."])
    ws.append(["Организация: ООО «МедСнаб»"])
    ws.append([])
    ws.append(["Дата", "Заказчик", "Сумма"])
    for day, cust, amount in ZAK_ROWS:
        ws.append([dt.datetime(day.year, day.month, day.day), cust, amount])
    ws.append(["Итого", None, round(sum(r[2] for r in ZAK_ROWS), 2)])
    for row in ws.iter_rows(min_row=5, max_row=4 + len(ZAK_ROWS), min_col=1, max_col=1):
        row[0].number_format = "DD.MM.YYYY"
    save_workbook(wb, "built-zakazchik-itogo-xlsx", "продажи_1кв.xlsx")


# ---------------------------------------------------------------- grouped 1C report: levels only in outline

GROUPED = [
    # counterparty, INN, [(doc no, date, qty, revenue, cost)]
    ("ООО «Альфа-Трейд»", "7701234567", [(12, D(2024, 1, 16), 10, 120_000.00, 84_000.00),
                                         (31, D(2024, 2, 6), 4, 48_000.00, 33_600.00),
                                         (58, D(2024, 3, 11), 7, 84_000.00, 58_800.00)]),
    ("АО «Сибирские сети»", "5406123456", [(19, D(2024, 1, 25), 20, 260_000.00, 190_000.00),
                                           (64, D(2024, 3, 19), 5, 65_000.00, 47_500.00)]),
    ("ИП Кузнецов Андрей Викторович", "540123456789", [(40, D(2024, 2, 20), 2, 18_500.00, 12_950.00)]),
    ("ООО «Ромашка»", "0274123456", [(27, D(2024, 2, 1), 3, 36_900.00, 25_830.00),
                                      (71, D(2024, 3, 27), 6, 73_800.00, 51_660.00)]),
]


def build_grouped_outline() -> None:
    """«Валовая прибыль» grouped Организация → Контрагент → Документ, saved to xlsx as 1C does:
    every label in column A, the level of a row only in its Excel outline level, a subtotal on
    every group row and a closing «Итого»."""
    org = "ООО «Торговый дом Север»"
    wb = Workbook()
    ws = wb.active
    ws.title = "TDSheet"
    ws.append(["Валовая прибыль"])
    ws.append(["Период: 1 квартал 2024 г."])
    ws.append(["Показатели: Количество, Выручка, Себестоимость, Валовая прибыль"])
    ws.append(["Группировки строк: Организация; Контрагент; Документ"])
    ws.append([])
    ws.append(["Организация", "Количество", "Выручка", "Себестоимость", "Валовая прибыль"])
    ws.append(["Контрагент"])
    ws.append(["Документ"])

    def add(label: str, qty: float, rev: float, cost: float, level: int) -> None:
        ws.append([label, qty, rev, cost, round(rev - cost, 2)])
        if level:
            ws.row_dimensions[ws.max_row].outline_level = level

    docs = [d for _, _, ds in GROUPED for d in ds]
    add(org, sum(d[2] for d in docs), sum(d[3] for d in docs), sum(d[4] for d in docs), 0)
    for name, inn, ds in GROUPED:
        add(f"{name}, {inn}", sum(d[2] for d in ds), sum(d[3] for d in ds), sum(d[4] for d in ds), 1)
        for no, day, qty, rev, cost in ds:
            add(doc_1c(no, day), qty, rev, cost, 2)
    add("Итого", sum(d[2] for d in docs), sum(d[3] for d in docs), sum(d[4] for d in docs), 0)
    ws.sheet_properties.outlinePr.summaryBelow = False
    save_workbook(wb, "built-1c-grouped-outline-xlsx", "Валовая_прибыль_1кв2024.xlsx")


# ---------------------------------------------------------------- periods «Январь 2024 г.»

PERIOD_ROWS = [
    ("Январь 2024 г.", "ООО «Альфа-Трейд»", 3, 150_000.00),
    ("Январь 2024 г.", "АО «Сибирские сети»", 1, 87_500.00),
    ("Февраль 2024 г.", "ООО «Альфа-Трейд»", 2, 99_000.00),
    ("Февраль 2024 г.", "ИП Кузнецов Андрей Викторович", 1, 12_300.00),
    ("Март 2024 г.", "ООО «Альфа-Трейд»", 4, 205_000.00),
    ("Март 2024 г.", "АО «Сибирские сети»", 2, 143_250.00),
    ("Март 2024 г.", "ИП Кузнецов Андрей Викторович", 1, 9_900.00),
]


def build_periods() -> None:
    """УНФ-style «Продажи» by Период (месяц) and Контрагент, saved as CSV (cp1251, ';'):
    periods instead of dates."""
    lines = ["Период;Контрагент;Количество документов;Сумма"]
    for period, cust, n, amount in PERIOD_ROWS:
        lines.append(";".join([period, cust, str(n), money_ru(amount)]))
    write_text("built-1c-periods-months", "Продажи_по_месяцам.csv", lines, "cp1251")


# ---------------------------------------------------------------- identity traps

IDENTITY_ROWS = [
    # date, customer as typed, INN as it reached the file, amount, true customer
    (D(2024, 1, 9), "ООО «Ромашка»", "7702345678", 45_000.00, "romashka"),
    (D(2024, 1, 23), "Ромашка ООО", "", 12_500.00, "romashka"),
    (D(2024, 2, 6), "ООО \"Pомашка\"", "", 30_000.00, "romashka"),          # Latin P
    (D(2024, 1, 12), "ООО «Уралснаб»", "0274123456", 81_000.00, "uralsnab"),
    (D(2024, 2, 15), "ООО «Уралснаб»", "274123456", 64_800.00, "uralsnab"),  # lost its leading zero
    (D(2024, 3, 18), "ООО Уралснаб", "274123456", 23_400.00, "uralsnab"),
    (D(2024, 1, 30), "ИП Петров Иван Сергеевич", "772812345678", 18_000.00, "petrov"),
    (D(2024, 3, 5), "ИП Петров И.С.", "", 9_600.00, "petrov"),
    (D(2024, 1, 16), "ООО «Вектор»", "5401234567", 150_000.00, "vektor"),
    (D(2024, 3, 21), "ООО «Вектор-Плюс»", "5401234567", 175_000.00, "vektor"),  # renamed, same INN
    (D(2024, 2, 19), "АО «Сибирь»", "5402345678", 220_000.00, "sibir"),
    (D(2024, 3, 26), "АО \u00abСибирь\u00bb", "5402345678", 110_000.00, "sibir"),
    (D(2024, 2, 28), "ООО «Ромашка-Юг»", "2301234567", 27_000.00, "romashka_yug"),  # similar, different
    (D(2024, 3, 11), "", "", 5_400.00, None),                                    # anonymous
]


def build_identity() -> None:
    lines = ["Дата;Контрагент;ИНН;Сумма"]
    for day, cust, inn, amount, _ in IDENTITY_ROWS:
        lines.append(";".join([f"{day:%d.%m.%Y}", cust, inn, money_ru(amount)]))
    write_text("built-identity-traps", "реализация_2024.csv", lines, "cp1251")


# ---------------------------------------------------------------- customers master (контрагенты)

CUSTOMERS = [
    ("ООО «Ромашка»", "ООО", "7702345678", "770201001", "Оптовая торговля", "Москва"),
    ("ООО «Уралснаб»", "ООО", "274123456", "027401001", "Строительство", "Республика Башкортостан"),
    ("ИП Петров Иван Сергеевич", "ИП", "772812345678", "", "Розничная торговля", "Москва"),
    ("ООО «Вектор-Плюс»", "ООО", "5401234567", "540101001", "Машиностроение", "Новосибирская область"),
    ("АО «Сибирь»", "АО", "5402345678", "540201001", "Энергетика", "Новосибирская область"),
    ("ООО «Ромашка-Юг»", "ООО", "2301234567", "230101001", "Оптовая торговля", "Краснодарский край"),
]


def build_customers_master() -> None:
    """Справочник «Контрагенты» list output saved as CSV (cp1251, ';'): ИНН/КПП, отрасль, регион.
    The Уралснаб INN lost its leading zero (a spreadsheet round trip); the ИП has a 12-digit INN
    and no КПП."""
    lines = ["Наименование;Вид;ИНН;КПП;Отрасль;Регион"]
    lines += [";".join(row) for row in CUSTOMERS]
    write_text("built-1c-kontragenty-master", "контрагенты.csv", lines, "cp1251")


# ---------------------------------------------------------------- first data row looks like a header word

FIRST_ROW = [
    ("2024-01-09", "Northwind Traders", "PRODUCTION", 1250.00),
    ("2024-01-15", "Contoso Ltd", "SALES", 980.50),
    ("2024-01-22", "Fabrikam Inc", "PRODUCTION", 2410.00),
    ("2024-02-02", "Northwind Traders", "SERVICE", 640.00),
    ("2024-02-12", "Adventure Works", "PRODUCTION", 3120.75),
    ("2024-02-26", "Contoso Ltd", "PRODUCTION", 1505.25),
    ("2024-03-04", "Fabrikam Inc", "SALES", 870.00),
    ("2024-03-18", "Adventure Works", "SERVICE", 455.00),
    ("2024-03-25", "Northwind Traders", "SALES", 2200.00),
    ("2024-04-08", "Wide World Importers", "PRODUCTION", 1990.00),
    ("2024-04-19", "Contoso Ltd", "SERVICE", 730.40),
    ("2024-04-30", "Wide World Importers", "SALES", 1115.60),
]


def build_first_row_header_word() -> None:
    lines = ["Date,Customer,Department,Amount"]
    lines += [f"{d},{c},{dep},{a:.2f}" for d, c, dep, a in FIRST_ROW]
    write_text("built-first-row-header-word", "orders.csv", lines, "utf-8", newline="\n")


# ---------------------------------------------------------------- one mistyped far-future date

def far_future_rows() -> list[tuple[dt.date, str, float]]:
    rng = random.Random(SEED)
    customers = [f"ООО «Клиент-{i:02d}»" for i in range(1, 31)]
    rows = []
    for _ in range(300):
        day = D(2024, 1, 1) + dt.timedelta(days=rng.randrange(366))
        rows.append((day, rng.choice(customers), round(rng.uniform(1_000, 250_000), 2)))
    rows.sort(key=lambda r: r[0])
    rows[137] = (D(2099, 12, 31), rows[137][1], rows[137][2])   # one typo in the middle of the file
    return rows


def build_far_future() -> None:
    lines = ["Дата;Контрагент;Сумма"]
    lines += [f"{d:%d.%m.%Y};{c};{money_ru(a)}" for d, c, a in far_future_rows()]
    write_text("built-far-future-date", "продажи_2024.csv", lines, "cp1251")


# ---------------------------------------------------------------- МойСклад «Отгрузки»

MS_ROWS = [
    ("00001", "10.01.2024 11:20", "ООО «Кофейня на Садовой»", 18_450.00, "Отгружено"),
    ("00002", "11.01.2024 09:05", "ИП Соколова Мария Андреевна", 7_200.00, "Отгружено"),
    ("00003", "16.01.2024 15:47", "ООО «Бариста Про»", 42_900.00, "Отгружено"),
    ("00004", "22.01.2024 10:10", "ООО «Кофейня на Садовой»", 21_300.00, "Отгружено"),
    ("00005", "29.01.2024 13:33", "ООО «Бариста Про»", 39_750.00, "Отменено"),
    ("00006", "05.02.2024 12:00", "ИП Соколова Мария Андреевна", 9_800.00, "Отгружено"),
    ("00007", "13.02.2024 16:25", "ООО «Кофейня на Садовой»", 16_900.00, "Отгружено"),
    ("00008", "20.02.2024 08:40", "ООО «Бариста Про»", 51_200.00, "Отгружено"),
    ("00009", "27.02.2024 17:55", "ООО «Зерно и Ко»", 12_600.00, "Новый"),
]


def build_moysklad() -> None:
    """МойСклад «Отгрузки» list exported to CSV (UTF-8, ';'): «Организация» is the seller,
    «Статус» holds the client's own statuses (a cancelled and a not yet shipped row)."""
    lines = ["№;Время;Контрагент;Организация;Склад;Сумма;Валюта;Статус;Комментарий"]
    for no, time, cust, amount, status in MS_ROWS:
        lines.append(";".join([no, time, cust, "ИП Волков Олег Павлович", "Основной склад",
                               f"{amount:.2f}".replace(".", ","), "руб", status, ""]))
    write_text("built-moysklad-otgruzki", "demand.csv", lines, "utf-8", newline="\n")


# ---------------------------------------------------------------- amoCRM deals

AMO_STAGES_OPEN = ["Первичный контакт", "Переговоры", "Принимают решение", "Согласование договора"]
AMO_WON, AMO_LOST = "Успешно реализовано", "Закрыто и не реализовано"
AMO_COMPANIES = ["ООО «Альфа-Трейд»", "АО «Сибирские сети»", "ООО «ТехноПром»", "ООО «Стройдвор»",
                 "ООО «Медтехника»", "ГБУЗ «Городская больница № 3»", ""]
AMO_MANAGERS = ["Анна Смирнова", "Игорь Белов", "Ольга Кравец"]
AMO_LOSS = ["Дорого", "Выбрали конкурента", "Нет бюджета", "Не вышли на связь"]


def amo_deals() -> list[dict]:
    rng = random.Random(SEED + 1)
    deals = []
    for i in range(60):
        created = dt.datetime(2024, 1, 3, 9, 0) + dt.timedelta(days=rng.randrange(150),
                                                               minutes=rng.randrange(600))
        roll = rng.random()
        stage = AMO_WON if roll < 0.3 else AMO_LOST if roll < 0.65 else rng.choice(AMO_STAGES_OPEN)
        closed = created + dt.timedelta(days=rng.randrange(5, 60)) if stage in (AMO_WON, AMO_LOST) else None
        company = AMO_COMPANIES[rng.randrange(len(AMO_COMPANIES))]
        deals.append({
            "id": 20_114_000 + i * 17,
            "name": f"Сделка #{20_114_000 + i * 17}" if i % 4 else f"Поставка оборудования {i}",
            "budget": rng.randrange(20, 900) * 1_000,
            "manager": rng.choice(AMO_MANAGERS),
            "created": created,
            "closed": closed,
            "stage": stage,
            "pipeline": "Продажи B2B" if i % 5 else "Тендеры",
            "contact": f"Контакт {i:02d}",
            "company": company,
            "loss": rng.choice(AMO_LOSS) if stage == AMO_LOST else "",
            "tags": "опт" if i % 3 == 0 else "",
        })
    return deals


def build_amocrm() -> None:
    """amoCRM «Экспорт» of deals (UTF-8, ',', quotes only where needed, LF), laid out like the genuine
    export in ../amocrm-leads-test-fixture: the header «Бюджет » with its trailing space, the text
    «не закрыта» in «Дата закрытия» of open deals, dates dd.mm.yyyy HH:MM:SS, «Бюджет» a plain integer."""
    header = ["ID", "Название сделки", "Бюджет ", "Ответственный", "Дата создания сделки",
              "Кем создана сделка", "Дата редактирования", "Кем редактирована", "Дата закрытия", "Теги",
              "Примечание", "Примечание 2", "Примечание 3", "Примечание 4", "Примечание 5",
              "Этап сделки", "Воронка", "Полное имя контакта", "Компания контакта",
              "Ответственный за контакт", "Компания", "Рабочий телефон", "Рабочий email",
              "Причина отказа"]
    fmt = "%d.%m.%Y %H:%M:%S"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for d in amo_deals():
        edited = d["closed"] or d["created"] + dt.timedelta(days=3)
        writer.writerow([
            d["id"], d["name"], d["budget"], d["manager"], d["created"].strftime(fmt), d["manager"],
            edited.strftime(fmt), d["manager"], d["closed"].strftime(fmt) if d["closed"] else "не закрыта",
            d["tags"], "", "", "", "", "", d["stage"], d["pipeline"], d["contact"], d["company"],
            d["manager"], d["company"], "", "", d["loss"]])
    write_text("built-amocrm-deals", "amocrm_export_leads_2024-06-03.csv", out.getvalue().splitlines(),
               "utf-8", newline="\n")


# ---------------------------------------------------------------- Bitrix24: interface export, Russian headers

B24_UI = [
    # id, title, stage, amount, company, manager, begin, planned close, closed flag, pipeline
    (101, "Поставка кабеля", "Сделка успешна", 420_000.00, "ООО «Альфа-Трейд»", "Смирнова Анна", "09.01.2024", "31.01.2024", "Да", "Общее"),
    (102, "Монтаж щитов", "Анализ и принятие решения", 1_150_000.00, "АО «Сибирские сети»", "Белов Игорь", "15.01.2024", "29.03.2024", "Нет", "Общее"),
    (103, "Счетчики", "Сделка провалена", 2_900_000.00, "ООО «ТехноПром»", "Смирнова Анна", "17.01.2024", "20.02.2024", "Да", "Общее"),
    (104, "Автоматы ВА47", "Сделка успешна", 186_500.00, "АО «Сибирские сети»", "Белов Игорь", "02.02.2024", "16.02.2024", "Да", "Общее"),
    (105, "Кабель-канал", "Подготовка документов", 64_000.00, "ИП Кузнецов А.В.", "Кравец Ольга", "12.02.2024", "12.03.2024", "Нет", "Общее"),
    (106, "Тендер 44-ФЗ освещение", "Сделка провалена", 7_800_000.00, "ГБУЗ «Городская больница № 3»", "Кравец Ольга", "19.02.2024", "05.04.2024", "Да", "Тендеры"),
    (107, "Светильники", "Сделка успешна", 312_000.00, "ГБУЗ «Городская больница № 3»", "Кравец Ольга", "01.03.2024", "22.03.2024", "Да", "Тендеры"),
    (108, "Щит ЩРН", "Новая", 48_000.00, "", "Белов Игорь", "18.03.2024", "18.04.2024", "Нет", "Общее"),
    (109, "Допродажа розеток", "Отложено", 95_000.00, "ООО «Альфа-Трейд»", "Смирнова Анна", "20.03.2024", "30.04.2024", "Да", "Общее"),
    (110, "Кабель ВВГ", "Счёт на предоплату", 230_000.00, "ООО «Стройдвор»", "Белов Игорь", "25.03.2024", "15.04.2024", "Нет", "Общее"),
]


def build_bitrix24_ui() -> None:
    """Bitrix24 deal list exported from the interface (CSV, UTF-8 with BOM, ';'): stage *names*,
    «Сделка закрыта» Да/Нет, and one closed custom stage («Отложено») that cannot be told won or
    lost without the consultant."""
    lines = ["ID;Название сделки;Стадия сделки;Сумма;Валюта;Компания;Ответственный;Дата начала;"
             + "Предполагаемая дата закрытия;Сделка закрыта;Направление"]
    for row in B24_UI:
        i, title, stage, amount, comp, man, begin, close, flag, pipe = row
        lines.append(";".join([str(i), title, stage, f"{amount:.2f}", "Российский рубль", comp, man,
                               begin, close, flag, pipe]))
    write_text("built-bitrix24-ui-deals", "DEAL_20240401.csv", lines, "utf-8", bom=True)


# ---------------------------------------------------------------- Bitrix24: REST crm.deal.list codes

B24_REST = [
    # ID, STAGE_ID, CATEGORY_ID, SEMANTIC, CLOSED, OPPORTUNITY, COMPANY_ID, CONTACT_ID, BEGINDATE, CLOSEDATE
    (201, "NEW", 0, "P", "N", 120_000.00, 11, 0, "2024-01-10", "2024-02-10"),
    (202, "PREPARATION", 0, "P", "N", 340_000.00, 12, 0, "2024-01-12", "2024-02-28"),
    (203, "WON", 0, "S", "Y", 410_000.00, 11, 0, "2024-01-15", "2024-02-02"),
    (204, "LOSE", 0, "F", "Y", 5_600_000.00, 13, 0, "2024-01-18", "2024-03-01"),
    (205, "APOLOGY", 0, "F", "Y", 75_000.00, 0, 31, "2024-01-22", "2024-01-25"),
    (206, "WON", 0, "S", "Y", 98_500.00, 14, 0, "2024-02-03", "2024-02-21"),
    (207, "EXECUTING", 0, "P", "N", 260_000.00, 12, 0, "2024-02-07", "2024-03-29"),
    (208, "C1:NEW", 1, "P", "N", 1_900_000.00, 15, 0, "2024-02-12", "2024-04-30"),
    (209, "C1:WON", 1, "S", "Y", 2_450_000.00, 15, 0, "2024-02-14", "2024-03-20"),
    (210, "C1:LOSE", 1, "F", "Y", 12_300_000.00, 16, 0, "2024-02-20", "2024-03-15"),
    (211, "C1:UC_7QK2ZT", 1, "P", "N", 640_000.00, 16, 0, "2024-03-01", "2024-04-15"),
    (212, "WON", 0, "S", "Y", 57_000.00, 0, 32, "2024-03-05", "2024-03-12"),
    (213, "LOSE", 0, "F", "Y", 215_000.00, 14, 0, "2024-03-11", "2024-03-29"),
    (214, "FINAL_INVOICE", 0, "P", "N", 89_000.00, 13, 0, "2024-03-20", "2024-04-10"),
]


def build_bitrix24_rest() -> None:
    """crm.deal.list dumped to CSV by a script (UTF-8, ','): codes, not names; ISO dates with
    the portal's offset; COMPANY_ID 0 where the client is a contact only."""
    lines = ["ID,TITLE,STAGE_ID,CATEGORY_ID,STAGE_SEMANTIC_ID,CLOSED,OPPORTUNITY,CURRENCY_ID,COMPANY_ID,"
             + "CONTACT_ID,ASSIGNED_BY_ID,BEGINDATE,CLOSEDATE,DATE_CREATE,DATE_MODIFY"]
    for i, stage, cat, sem, closed, opp, comp, cont, begin, close in B24_REST:
        lines.append(",".join([str(i), f"Сделка #{i}", stage, str(cat), sem, closed, f"{opp:.2f}", "RUB",
                               str(comp), str(cont), str(1 + i % 3), f"{begin}T03:00:00+03:00",
                               f"{close}T03:00:00+03:00", f"{begin}T10:12:00+03:00",
                               f"{close}T18:40:00+03:00"]))
    write_text("built-bitrix24-rest-deals", "crm_deal_list.csv", lines, "utf-8", newline="\n")


# ---------------------------------------------------------------- English: Online Retail layout, month-first proven

def uci_rows() -> list[tuple]:
    rng = random.Random(SEED + 2)
    items = [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55), ("71053", "WHITE METAL LANTERN", 3.39),
             ("22423", "REGENCY CAKESTAND 3 TIER", 12.75), ("47566", "PARTY BUNTING", 4.95),
             ("POST", "POSTAGE", 18.00)]
    customers = ["17850", "13047", "12583", "14688", "15311", ""]
    countries = {"17850": "United Kingdom", "13047": "United Kingdom", "12583": "France",
                 "14688": "United Kingdom", "15311": "United Kingdom", "": "United Kingdom"}
    rows = []
    invoice = 573_500
    moment = dt.datetime(2011, 10, 3, 8, 26)
    for _ in range(40):
        invoice += 1
        moment += dt.timedelta(hours=rng.randrange(3, 40), minutes=rng.randrange(60))
        cust = rng.choice(customers)
        cancel = rng.random() < 0.1 and cust != ""
        for _ in range(rng.randrange(1, 4)):
            code, desc, price = rng.choice(items)
            qty = rng.randrange(1, 25) * (-1 if cancel else 1)
            rows.append((("C" if cancel else "") + str(invoice), code, desc, qty, moment, price, cust,
                         countries[cust]))
    return rows


def build_uci_layout() -> None:
    """The UCI Online Retail layout (InvoiceNo … Country), no amount column, US dates m/d/yyyy H:MM
    where days above 12 prove month-first, empty CustomerID rows, cancellations «C…»."""
    lines = ["InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"]
    for inv, code, desc, qty, moment, price, cust, country in uci_rows():
        stamp = f"{moment.month}/{moment.day}/{moment.year} {moment.hour}:{moment.minute:02d}"
        lines.append(",".join([inv, code, desc, str(qty), stamp, f"{price:g}", cust, country]))
    write_text("built-english-online-retail-layout", "online_retail_oct2011.csv", lines, "utf-8",
               newline="\n")


# ---------------------------------------------------------------- English: B2B orders (total, client, account)

B2B = [
    ("SO-1001", "10/2/2023", "Acme Industrial Ltd", "ACC-001", "Shipped", 12_450.00),
    ("SO-1002", "10/13/2023", "Brightline Logistics", "ACC-014", "Shipped", 3_980.50),
    ("SO-1003", "10/31/2023", "Acme Industrial Ltd", "ACC-001", "Cancelled", 7_200.00),
    ("SO-1004", "11/7/2023", "Northgate Foods plc", "ACC-022", "Shipped", 21_075.25),
    ("SO-1005", "11/21/2023", "Brightline Logistics", "ACC-014", "Shipped", 5_640.00),
    ("SO-1006", "12/5/2023", "Kestrel Engineering", "ACC-031", "Shipped", 9_310.80),
    ("SO-1007", "12/19/2023", "Northgate Foods plc", "ACC-022", "Shipped", 18_900.00),
    ("SO-1008", "1/9/2024", "Acme Industrial Ltd", "ACC-001", "Shipped", 14_020.00),
    ("SO-1009", "1/23/2024", "Kestrel Engineering", "ACC-031", "On Hold", 2_250.00),
    ("SO-1010", "2/6/2024", "Brightline Logistics", "ACC-014", "Shipped", 4_415.60),
]


def build_b2b_orders() -> None:
    lines = ["order_id,order_date,client,account,status,currency,total"]
    lines += [f"{o},{d},{c},{a},{s},GBP,{t:.2f}" for o, d, c, a, s, t in B2B]
    write_text("built-english-b2b-orders", "orders_export.csv", lines, "utf-8", newline="\n")


BUILDERS = [build_bp_sales_vat, build_ut11_partner, build_zakazchik_itogo, build_grouped_outline,
            build_periods, build_identity, build_customers_master, build_first_row_header_word,
            build_far_future, build_moysklad, build_amocrm, build_bitrix24_ui, build_bitrix24_rest,
            build_uci_layout, build_b2b_orders]


def main() -> None:
    for build in BUILDERS:
        build()
    print(f"built {len(BUILDERS)} files under {HERE}")


if __name__ == "__main__":
    main()
