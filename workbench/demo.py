"""The demo client: a fictional Russian B2B distributor, generated deterministically.

About 400 customers over 24 months: a few dominant customers, steady and sporadic
buyers, customers who bought regularly and then stopped, one-off buyers, newcomers,
and returns. Delivered the way a real client sends it: a 1C-style cp1251 ``;`` CSV
with decimal commas and no-break-space thousands, and a customers workbook (.xlsx)
with a title row, industry, headcount and manager; and a CRM activity export (the contacts
with the largest customers over the last three months) for the key-account rules;
beside them the client's CRM: a Bitrix24 deal export and its stage history
(``workbench.demo_deals``), the funnel.

What the segmentation's rules need is added from a second random stream, so the 24
months of the original demo stay as they were:

* six earlier months of history for the customers who were already buying, and a few
  customers who bought then, went silent for more than a year and came back (the
  revenue bridge's *returned* group needs purchases before the previous window);
* a gross margin per line (1C's «Валовая прибыль»), lower for the dominant customers,
  who negotiate prices, so that grading by profit and by revenue differ;
* two products launched inside the last twelve months, whose first buyers are the
  pioneers;
* state customers come from the industry «Госзаказчик» of the customers file.

``generate(seed, margin=False)`` with another seed gives a second client for tests that
must hold on more than one base (no margin: the key accounts are graded by revenue).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261
LAST_MONTH = "2026-10"   # the demo's latest month of sales
MONTHS = 24
CLIENT = "ООО «Демо-Дистрибуция»"
FIRM = "Консалтинговая группа «Вектор»"

_PREFIX = ["ООО", "ООО", "ООО", "АО", "ПАО"]
_ROOT = ["Север", "Юг", "Восток", "Урал", "Волга", "Сибирь", "Балт", "Дон", "Нева", "Ока",
         "Кама", "Приморье", "Тайга", "Степь", "Альфа", "Вега", "Орион", "Меридиан", "Гранит", "Исток"]
_SUFFIX = ["Трейд", "Снаб", "Торг", "Логистик", "Маркет", "Опт", "Ресурс", "Комплект", "Пром",
           "Фуд", "Агро", "Строй", "Сервис", "Профи", "Инвест", "Техно", "Склад", "Дистрибуция"]
_INDUSTRY = ["Розничная торговля", "HoReCa", "Производство", "Строительство", "Логистика",
             "Оптовая торговля", "Общепит", "Госзаказчик"]
_MANAGERS = ["Иванова Анна", "Петров Сергей", "Смирнова Ольга", "Кузнецов Дмитрий",
             "Попова Мария", "Соколов Игорь"]
EARLY_MONTHS = 6        # months of history before the 24, for customers already buying then
RETURNERS = 12          # customers silent through the previous window who came back
# Products launched inside the last twelve months: (name, month index of the launch).
NEW_PRODUCTS = (("Эко-пакеты крафтовые", 16), ("Перчатки виниловые с напылением", 19))
NEW_PRODUCT_SHARE = 0.10  # share of lines after a launch that go to the new product
_PRODUCTS = ["Бумага офисная А4", "Картриджи лазерные", "Канцелярский набор", "Упаковочная плёнка",
             "Коробки гофрированные", "Перчатки нитриловые", "Моющие средства", "Салфетки бумажные",
             "Стрейч-плёнка", "Скотч упаковочный", "Мешки для мусора", "Бахилы", "Полотенца бумажные",
             "Антисептик", "Чистящие средства", "Губки и ветошь", "Контейнеры пищевые",
             "Одноразовая посуда", "Этикетки термо", "Кассовая лента"]


@dataclass(frozen=True)
class DemoFiles:
    sales_csv: Path
    customers_xlsx: Path
    activities_xlsx: Path | None = None
    deals_csv: Path | None = None
    deal_history_csv: Path | None = None


def _month_starts() -> pd.DatetimeIndex:
    end = pd.Period(LAST_MONTH, "M")
    return pd.period_range(end - (MONTHS - 1), end, freq="M").to_timestamp()


def generate(rng_seed: int = SEED, margin: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (sales lines, customers) of the demo client as DataFrames.

    sales: date, customer_name, inn, document, product, quantity, amount (RUB), manager,
        and margin (RUB, gross profit of the line; returns negative) when ``margin``
    customers: customer_name, inn, industry, headcount, manager
    """
    rng = np.random.default_rng(rng_seed)
    months = _month_starts()
    n = 400
    # archetype -> count; ordered so the dominant customers come first.
    kinds = (["dominant"] * 4 + ["steady"] * 36 + ["regular"] * 120 + ["sporadic"] * 100
             + ["sleeper"] * 40 + ["oneoff"] * 64 + ["newcomer"] * 36)
    assert len(kinds) == n
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = f"{rng.choice(_PREFIX)} «{rng.choice(_ROOT)}{rng.choice(['', '-'])}{rng.choice(_SUFFIX)}»"
        if rng.random() < 0.25:
            name = name[:-1] + f"-{int(rng.integers(2, 99))}»"
        if name not in seen:
            seen.add(name)
            names.append(name)
    inns = [f"{int(rng.integers(100_000_000, 9_999_999_999)):010d}" for _ in range(n)]
    inns[7] = "0274062111"  # a real-looking INN with a leading zero
    managers = [_MANAGERS[i % len(_MANAGERS)] for i in rng.permutation(n)]
    headcount = np.round(np.exp(rng.normal(3.0, 1.0, n))).astype(int) + 3
    scale = {"dominant": 2_600_000, "steady": 180_000, "regular": 90_000, "sporadic": 60_000,
             "sleeper": 120_000, "oneoff": 50_000, "newcomer": 110_000}
    rows = []
    doc = 1000
    for i, kind in enumerate(kinds):
        base = scale[kind] * float(np.exp(rng.normal(0, 0.35)))
        if kind == "dominant":
            base *= [1.6, 1.0, 0.8, 0.6][i]
            headcount[i] = int(rng.integers(300, 2500))
        if kind == "steady":
            active = np.ones(MONTHS, bool)
            noise = 0.06
        elif kind == "dominant":
            active = np.ones(MONTHS, bool)
            noise = 0.15
        elif kind == "regular":
            active = rng.random(MONTHS) < rng.uniform(0.5, 0.9)
            noise = 0.3
        elif kind == "sporadic":
            active = rng.random(MONTHS) < rng.uniform(0.08, 0.25)
            noise = 0.6
        elif kind == "sleeper":
            stop = int(rng.integers(10, 19))
            active = np.zeros(MONTHS, bool)
            active[:stop] = rng.random(stop) < 0.85
            noise = 0.3
        elif kind == "oneoff":
            active = np.zeros(MONTHS, bool)
            active[int(rng.integers(0, MONTHS))] = True
            noise = 0.5
        else:  # newcomer: started within the last 5 months
            start = MONTHS - int(rng.integers(1, 6))
            active = np.zeros(MONTHS, bool)
            active[start:] = rng.random(MONTHS - start) < 0.9
            active[start] = True
            noise = 0.3
        # some regular customers grow (a trend signal for strategic prospects)
        growth = 1.0 + (0.04 if (kind == "regular" and i % 5 == 0) else 0.0)
        for m in np.flatnonzero(active):
            month_total = base * growth ** m * float(np.exp(rng.normal(0, noise)))
            if kind in ("regular", "sporadic", "sleeper") and int(m) % 12 == 11:
                month_total *= 1.3  # the December peak
            day = int(rng.integers(1, 28))
            date = months[m] + pd.Timedelta(days=day)
            n_lines = int(rng.integers(1, 5))
            weights = rng.dirichlet(np.ones(n_lines))
            doc += 1
            for w in weights:
                product = _PRODUCTS[int(rng.integers(0, len(_PRODUCTS)))]
                price = float(rng.choice([85.5, 120.0, 349.9, 990.0, 1450.0, 2300.0]))
                amount = round(month_total * w, 2)
                qty = max(1, round(amount / price))
                rows.append((date, names[i], inns[i], f"РН-{doc:06d}", product, qty, amount, managers[i]))
    sales = pd.DataFrame(rows, columns=["date", "customer_name", "inn", "document", "product",
                                        "quantity", "amount", "manager"])
    # returns: about 1.5 % of lines come back later as a negative line
    ret = sales.sample(frac=0.015, random_state=rng_seed).copy()
    ret["amount"] = -(ret["amount"] * rng.uniform(0.2, 1.0, len(ret))).round(2)
    ret["quantity"] = -ret["quantity"]
    ret["date"] = ret["date"] + pd.Timedelta(days=9)
    ret["document"] = "ВЗ-" + ret["document"].str[3:]
    last_day = (pd.Period(LAST_MONTH, "M").to_timestamp(how="end")).normalize()
    ret = ret[ret["date"] <= last_day]
    sales = pd.concat([sales, ret], ignore_index=True)
    customers = pd.DataFrame({
        "customer_name": names, "inn": inns,
        "industry": [_INDUSTRY[int(k)] for k in rng.integers(0, len(_INDUSTRY), n)],
        "headcount": headcount, "manager": managers,
    })
    sales, customers = _extend(sales, customers, kinds, scale, np.random.default_rng(rng_seed + 1), doc, margin)
    sales = sales.sort_values(["date", "document"], kind="stable")
    return sales.reset_index(drop=True), customers


def _extend(sales: pd.DataFrame, customers: pd.DataFrame, kinds: list[str], scale: dict[str, float],
            rng: np.random.Generator, doc: int, margin: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier history, returners, new products and margins, drawn from their own stream."""
    months = _month_starts()
    early = pd.period_range(pd.Period(months[0], "M") - EARLY_MONTHS, periods=EARLY_MONTHS, freq="M").to_timestamp()
    rows = []

    def buy(name: str, inn: str, manager: str, when: pd.Timestamp, total: float) -> None:
        nonlocal doc
        doc += 1
        n_lines = int(rng.integers(1, 4))
        for w in rng.dirichlet(np.ones(n_lines)):
            product = _PRODUCTS[int(rng.integers(0, len(_PRODUCTS)))]
            amount = round(total * float(w), 2)
            qty = max(1, round(amount / float(rng.choice([120.0, 349.9, 990.0]))))
            rows.append((when + pd.Timedelta(days=int(rng.integers(1, 28))), name, inn, f"РН-{doc:06d}",
                         product, qty, amount, manager))

    # six months before the 24 for the customers already buying at the start
    started = {"dominant", "steady", "regular", "sporadic", "sleeper"}
    first = sales.groupby("customer_name")["amount"].sum()
    for i, kind in enumerate(kinds):
        if kind not in started:
            continue
        rec = customers.iloc[i]
        base = float(first.get(rec["customer_name"], 0.0)) / 24 if kind != "sporadic" else scale[kind]
        chance = {"dominant": 1.0, "steady": 1.0, "regular": 0.7, "sporadic": 0.15, "sleeper": 0.85}[kind]
        for m in np.flatnonzero(rng.random(EARLY_MONTHS) < chance):
            buy(rec["customer_name"], rec["inn"], rec["manager"], early[m], base * float(np.exp(rng.normal(0, 0.3))))

    # returners: bought in the early months, silent through the previous window, back in this one
    taken = set(customers["customer_name"])
    new_rows = []
    while len(new_rows) < RETURNERS:
        name = f"{rng.choice(_PREFIX)} «{rng.choice(_ROOT)}-{rng.choice(_SUFFIX)}-{int(rng.integers(100, 999))}»"
        if name in taken:
            continue
        taken.add(name)
        inn = f"{int(rng.integers(100_000_000, 9_999_999_999)):010d}"
        manager = _MANAGERS[int(rng.integers(0, len(_MANAGERS)))]
        base = scale["regular"] * float(np.exp(rng.normal(0, 0.4)))
        for m in np.flatnonzero(rng.random(EARLY_MONTHS) < 0.8):
            buy(name, inn, manager, early[m], base)
        back = int(rng.integers(13, 21))
        for m in range(back, len(months)):
            if rng.random() < 0.7:
                buy(name, inn, manager, months[m], base * float(np.exp(rng.normal(0, 0.3))))
        new_rows.append({"customer_name": name, "inn": inn,
                         "industry": _INDUSTRY[int(rng.integers(0, len(_INDUSTRY)))],
                         "headcount": int(np.round(np.exp(rng.normal(3.0, 1.0)))) + 3, "manager": manager})
    extra = pd.DataFrame(rows, columns=list(sales.columns))
    sales = pd.concat([sales, extra], ignore_index=True)
    customers = pd.concat([customers, pd.DataFrame(new_rows)], ignore_index=True)

    # products launched inside the last twelve months: a few innovators buy them in the first
    # three months (the pioneers), the rest of the base follows later
    innovators = set(customers["customer_name"].sample(frac=0.04, random_state=int(rng.integers(1 << 30))))
    is_innovator = sales["customer_name"].isin(innovators).to_numpy()
    for product, launch in NEW_PRODUCTS:
        free = (sales["amount"] > 0) & ~sales["product"].isin([p for p, _ in NEW_PRODUCTS])
        early_lines = free & (sales["date"] >= months[launch]) & is_innovator
        later_lines = free & (sales["date"] >= months[min(launch + 4, len(months) - 1)])
        draw = rng.random(len(sales))
        sales.loc[(early_lines & (draw < 0.4)) | (later_lines & (draw < NEW_PRODUCT_SHARE)), "product"] = product
    if margin:
        # gross margin: dominant customers negotiate lower prices; each product has its own markup
        rate_of = dict(zip(customers["customer_name"], np.clip(rng.normal(0.22, 0.05, len(customers)), 0.08, 0.40)))
        for i, kind in enumerate(kinds):
            if kind == "dominant":
                rate_of[customers.at[i, "customer_name"]] = float(rng.uniform(0.10, 0.14))
        markup = dict(zip(_PRODUCTS + [p for p, _ in NEW_PRODUCTS],
                          rng.normal(1.0, 0.15, len(_PRODUCTS) + len(NEW_PRODUCTS))))
        rate = sales["customer_name"].map(rate_of) * sales["product"].map(markup)
        sales["margin"] = (sales["amount"] * rate).round(2)
    return sales, customers


_POSITIONS = [("Генеральный директор", "ЛПР"), ("Руководитель закупок", "Чемпион"), ("Финансовый директор", "Блокер"),
              ("Главный инженер", "Эксперт"), ("Коммерческий директор", "Влиятель"), ("Менеджер склада", "")]
_FIRST = ["Алексей", "Елена", "Михаил", "Наталья", "Андрей", "Ирина", "Павел", "Светлана"]
_LAST = ["Орлов", "Белова", "Зайцев", "Морозова", "Волков", "Лебедева", "Новиков", "Козлова"]
_RESULTS = ["Позитивный", "Позитивный", "Позитивный", "Нейтральный", "Негативный"]
_KINDS = ["Звонок", "Встреча", "Письмо"]


def activities(sales: pd.DataFrame, rng_seed: int = SEED, top: int = 20) -> pd.DataFrame:
    """A CRM activity export (Bitrix24-style «Дела») for the ``top`` customers by revenue over the
    last three months: date, company, INN, manager, result, contact person, position, role in the
    buying committee, kind of contact. Some accounts are called often, some only at the start of a
    month, some get a call right after a negative contact: the contact rules have something to find,
    and the accounts called every few days keep them.
    Its own random stream: the ledger and the customers file do not change.
    """
    rng = np.random.default_rng(rng_seed + 7)
    totals = sales.groupby(["customer_name", "inn", "manager"], sort=False)["amount"].sum()
    chosen = totals.sort_values(ascending=False, kind="stable").head(top).reset_index()
    end = pd.Period(LAST_MONTH, "M").to_timestamp(how="end").normalize()
    start = (pd.Period(LAST_MONTH, "M") - 2).to_timestamp()
    rows = []
    for k, rec in enumerate(chosen.itertuples(index=False)):
        n_people = int(rng.integers(0, 4))
        people = []
        for j in rng.permutation(len(_POSITIONS))[:n_people]:
            position, role = _POSITIONS[int(j)]
            name = f"{_LAST[int(rng.integers(0, len(_LAST)))]} {_FIRST[int(rng.integers(0, len(_FIRST)))][0]}."
            people.append((name, position, role))
        style = k % 3   # 0: every ~8 days, 1: bunched at the start of each month, 2: sparse
        day = start + pd.Timedelta(days=int(rng.integers(0, 5)))
        while day <= end:
            person = people[int(rng.integers(0, len(people)))] if people else ("", "", "")
            result = "Позитивный" if style == 0 and rng.random() < 0.85 else _RESULTS[int(rng.integers(0, len(_RESULTS)))]
            rows.append((day, rec.customer_name, rec.inn, rec.manager, result, *person,
                         _KINDS[int(rng.integers(0, len(_KINDS)))]))
            if result == "Негативный" and rng.random() < 0.5:   # the manager calls again too soon
                rows.append((day + pd.Timedelta(days=int(rng.integers(2, 8))), rec.customer_name, rec.inn, rec.manager,
                             "Нейтральный", *person, "Звонок"))
            if style == 0:
                day += pd.Timedelta(days=int(rng.integers(3, 7)))
            elif style == 1:
                nxt = day + pd.Timedelta(days=1)
                day = nxt if nxt.day <= 3 else (nxt + pd.offsets.MonthBegin(1)).normalize()
            else:
                day += pd.Timedelta(days=int(rng.integers(12, 25)))
    out = pd.DataFrame(rows, columns=["date", "company", "inn", "manager", "result", "contact", "position", "role",
                                      "kind"])
    return out[out["date"] <= end].sort_values(["date", "company"], kind="stable").reset_index(drop=True)


def _ru_number(values: pd.Series, decimals: int) -> pd.Series:
    """Numbers as 1C writes them: no-break-space thousands, decimal comma."""
    text = values.map(lambda v: f"{v:,.{decimals}f}")
    return text.str.replace(",", "\u00a0", regex=False).str.replace(".", ",", regex=False)


def sales_1c_csv(sales: pd.DataFrame) -> bytes:
    """Sales lines (as ``generate`` returns them) as 1C exports them: cp1251, ``;``, CRLF,
    ``dd.mm.yyyy`` dates, decimal commas and no-break-space thousands."""
    out = pd.DataFrame({
        "Дата": sales["date"].dt.strftime("%d.%m.%Y"),
        "Документ": sales["document"],
        "Контрагент": sales["customer_name"],
        "ИНН": sales["inn"],
        "Номенклатура": sales["product"],
        "Количество": _ru_number(sales["quantity"].astype(float), 0),
        "Сумма": _ru_number(sales["amount"], 2),
        "Менеджер": sales["manager"],
    })
    if "margin" in sales.columns:
        out.insert(7, "Валовая прибыль", _ru_number(sales["margin"], 2))
    return out.to_csv(sep=";", index=False, lineterminator="\r\n").encode("cp1251")


def write_files(data_dir: Path, seed: int = SEED, margin: bool = True) -> DemoFiles:
    """Write the demo client's exports into ``data_dir``; return their paths."""
    from openpyxl import Workbook

    sales, customers = generate(seed, margin)
    data_dir.mkdir(parents=True, exist_ok=True)
    sales_path = data_dir / "sales_1c.csv"
    sales_path.write_bytes(sales_1c_csv(sales))

    wb = Workbook()
    ws = wb.active
    ws.title = "Контрагенты"
    ws.append(["Справочник контрагентов"])
    ws.append([])
    ws.append(["Контрагент", "ИНН", "Отрасль", "Численность сотрудников", "Ответственный менеджер"])
    for rec in customers.itertuples(index=False):
        ws.append([rec.customer_name, rec.inn, rec.industry, int(rec.headcount), rec.manager])
    for row in ws.iter_rows(min_row=4, min_col=2, max_col=2):
        for cell in row:
            cell.data_type = "s"
            cell.number_format = "@"
    customers_path = data_dir / "customers.xlsx"
    wb.save(customers_path)
    wb = Workbook()
    ws = wb.active
    ws.title = "Дела"
    ws.append(["Дела за период"])
    ws.append(["Дата", "Компания", "ИНН компании", "Ответственный", "Результат", "Контактное лицо", "Должность",
               "Роль в закупке", "Тип дела"])
    for rec in activities(sales, seed).itertuples(index=False):
        ws.append([rec.date.strftime("%d.%m.%Y"), rec.company, rec.inn, rec.manager, rec.result, rec.contact,
                   rec.position, rec.role, rec.kind])
    for row in ws.iter_rows(min_row=3, min_col=3, max_col=3):
        for cell in row:
            cell.data_type = "s"
    activities_path = data_dir / "activities.xlsx"
    wb.save(activities_path)
    from workbench.demo_deals import write_deal_files

    deals_path, history_path = write_deal_files(data_dir, customers, _MANAGERS, LAST_MONTH, MONTHS, seed + 1)
    return DemoFiles(sales_path, customers_path, activities_path, deals_path, history_path)


def logo_svg() -> str:
    """The fictional consulting firm's logo (SVG text)."""
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40">'
            '<rect width="40" height="40" rx="8" fill="#1f4e79"/>'
            '<path d="M8 10 L20 30 L32 10" stroke="#fff" stroke-width="5" fill="none"/>'
            '<text x="48" y="27" font-family="DejaVu Sans, Arial" font-size="18" fill="#1f4e79">ВЕКТОР</text>'
            "</svg>")


DEMO_CALENDAR = """    seasonal:                 # the source's FMCG example: May holidays, October budgets, December peak
      - {month: 5, kind: holidays}
      - {month: 10, kind: budget}
      - {month: 12, kind: peak}
    events:
      - {month: "2027-02", kind: release, name: "Новый каталог расходных материалов"}
      - {month: "2027-06", kind: law, name: "Маркировка упаковки"}"""


SECOND_CLIENT = {"seed": 7, "client": "ООО «Второй клиент»", "margin": False}


def create_demo(path: Path, seed: int = SEED, client: str = CLIENT, margin: bool = True) -> Path:
    """Create (or refresh) the demo engagement at ``path`` and return it.

    The client's files and engagement.yaml are regenerated deterministically; the
    consultant's overrides, actuals and history in the folder are kept. Another ``seed``
    (and ``margin=False``) gives a different client, e.g. ``create_demo(p, **SECOND_CLIENT)``.
    """
    from workbench.config import render_template
    from workbench.io import atomic

    path = Path(path)
    files = write_files(path / "data", seed, margin)
    text = render_template(client, "ru", f"data/{files.sales_csv.name}", f"data/{files.customers_xlsx.name}",
                           f"data/{files.deals_csv.name}" if files.deals_csv else "")
    if files.deal_history_csv is not None:  # the CRM's stage history beside its deal export
        text = text.replace('  deal_history:', '  deal_history:', 1).replace(
            '    file: ""\n    sheet: ""\n    columns: {}               # canonical names: deal_id, stage, date, pipeline',
            f'    file: "data/{files.deal_history_csv.name}"\n    sheet: ""\n'
            '    columns: {}               # canonical names: deal_id, stage, date, pipeline', 1)
    text = text.replace('  firm: ""   ', f'  firm: "{FIRM}"', 1).replace('  logo: ""   ', '  logo: "logo.svg"', 1)
    if files.activities_xlsx is not None:  # the contact log: the key-account rules are checked on it
        text = text.replace('    file: ""                  # "" = none, e.g. data/activities.xlsx',
                            f'    file: "data/{files.activities_xlsx.name}"  # "" = none', 1)
    lines = text.splitlines()
    out = []
    skip = False
    for line in lines:
        if line.strip().startswith("seasonal: []"):
            out.append(DEMO_CALENDAR)
            skip = True
            continue
        if skip and line.strip().startswith("events: []"):
            skip = False
            continue
        out.append(line)
    atomic.write_text(path / "engagement.yaml", "\n".join(out) + "\n")
    atomic.write_text(path / "logo.svg", logo_svg())
    return path
