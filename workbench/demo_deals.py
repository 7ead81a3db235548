"""The demo client's CRM: a Bitrix24 deal export and its stage history, generated deterministically.

Beside the 1C ledger (``workbench.demo``) the demo client keeps its sales in Bitrix24. The
consultant gets what a CRM admin clicks out: the deal list from the interface (UTF-8 with
BOM, ``;``, CRLF, Russian headers and stage names, «Сделка закрыта» Да/Нет) and the history
of stage moves of those deals (deal id, stage, date). About 700 deals over the demo's 24
months in two pipelines («Общее» and «Тендеры»), most with the ledger's customers, some with
prospects the ledger does not know; the default Bitrix24 stages plus the client's own
«Переговоры» (its place in the funnel comes from the history); won, lost (with a reason) and
open deals, a few of them stalled. Managers, sources and segments win at different rates, so
the funnel has something to say.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20262
# The open stages in funnel order; the client's own «Переговоры» sits between two defaults.
OPEN = ("Новая", "Подготовка документов", "Переговоры", "Счёт на предоплату", "Финальный счёт")
WON, LOST, APOLOGY = "Сделка успешна", "Сделка провалена", "Анализ причины провала"
# chance of moving on from each open stage, and the mean days spent there
MOVE_ON = (0.80, 0.72, 0.62, 0.78, 0.90)
MEAN_DAYS = (4.0, 9.0, 14.0, 7.0, 5.0)
SOURCES = ("Звонок", "Веб-сайт", "Выставка", "Рекомендация", "Email-рассылка")
SOURCE_EDGE = (0.0, -0.05, 0.05, 0.12, -0.10)
REASONS = ("Дорого", "Выбрали конкурента", "Нет бюджета", "Не вышли на связь", "Отложили закупку")
REASON_WEIGHTS = (0.30, 0.25, 0.20, 0.15, 0.10)
PROSPECT_PREFIX = ("ООО", "АО", "ИП")
PROSPECT_ROOT = ("Полюс", "Каскад", "Ладога", "Енисей", "Алмаз", "Берег", "Зенит", "Лотос", "Маяк", "Рубин")
PROSPECT_SUFFIX = ("Групп", "Сервис", "Трейд", "Холдинг", "Логистика")


def generate_deals(customers: pd.DataFrame, managers: list[str], last_month: str, months: int,
                   seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(deals, stage history) of the demo client.

    customers: the ledger's customers (customer_name, industry); managers: the salespeople.
    deals: id, title, stage, amount, company, manager, created, close (planned for open deals),
    closed (bool), pipeline, source, modified, reason. history: deal id, stage, date entered.
    """
    rng = np.random.default_rng(seed)
    end = pd.Period(last_month, "M")
    start = (end - (months - 1)).start_time
    as_of = end.end_time.normalize()
    span = (as_of - start).days
    n = 700
    names = customers["customer_name"].tolist()
    state = set(customers.loc[customers["industry"] == "Госзаказчик", "customer_name"])
    prospects = [f"{rng.choice(PROSPECT_PREFIX)} «{r}-{s}»" for r in PROSPECT_ROOT for s in PROSPECT_SUFFIX]
    manager_edge = {m: (-0.12 if i == len(managers) - 1 else 0.03 * (i % 3)) for i, m in enumerate(managers)}
    deals, history = [], []
    for i in range(n):
        deal_id = 4001 + i
        # creation days skewed to the recent past: the CRM was adopted gradually
        created = start + pd.Timedelta(days=int(span * (1 - rng.random() ** 1.6)))
        created += pd.Timedelta(hours=int(rng.integers(9, 18)), minutes=int(rng.integers(0, 60)))
        company = (str(rng.choice(prospects)) if rng.random() < 0.18 else str(names[int(rng.integers(0, len(names)))]))
        if rng.random() < 0.03:
            company = ""  # a deal without a company: counted apart
        pipeline = "Тендеры" if company in state or rng.random() < 0.05 else "Общее"
        manager = managers[int(rng.integers(0, len(managers)))]
        k = int(rng.integers(0, len(SOURCES)))
        amount = round(float(np.exp(rng.normal(11.8, 0.8))) / 500) * 500
        if pipeline == "Тендеры":
            amount *= 3
        edge = SOURCE_EDGE[k] + manager_edge[manager]
        when = created
        stage_idx, outcome = 0, "open"
        path = [(OPEN[0], when)]
        while True:
            days = float(rng.exponential(MEAN_DAYS[stage_idx])) + 1.0
            nxt = when + pd.Timedelta(days=days)
            if nxt > as_of:
                break  # still in this stage at the export
            when = nxt
            if rng.random() < min(0.97, MOVE_ON[stage_idx] + edge):
                if stage_idx == len(OPEN) - 1:
                    outcome = "won"
                    path.append((WON, when))
                    break
                stage_idx += 1
                path.append((OPEN[stage_idx], when))
            else:
                outcome = "lost"
                path.append((APOLOGY if rng.random() < 0.1 else LOST, when))
                break
        stage = path[-1][0]
        closed = outcome != "open"
        modified = when if closed else path[-1][1] + pd.Timedelta(days=float(rng.uniform(0, 3)))
        if not closed and rng.random() < 0.05:
            modified = path[-1][1]  # untouched since it entered its stage: stalls first
        modified = min(modified, as_of)
        planned = when if closed else modified + pd.Timedelta(days=int(rng.integers(10, 60)))
        reason = str(rng.choice(REASONS, p=REASON_WEIGHTS)) if outcome == "lost" else ""
        deals.append({"id": deal_id, "title": f"Поставка для {company or 'клиента'} №{deal_id}", "stage": stage,
                      "amount": float(amount), "company": company, "manager": manager, "created": created,
                      "close": planned, "closed": closed, "pipeline": pipeline, "source": SOURCES[k],
                      "modified": modified, "reason": reason})
        history.extend({"deal": deal_id, "stage": s, "date": d} for s, d in path)
    return pd.DataFrame(deals), pd.DataFrame(history)


def deals_csv(deals: pd.DataFrame) -> bytes:
    """The deal list as Bitrix24's interface exports it: UTF-8 with BOM, ``;``, CRLF."""
    out = pd.DataFrame({
        "ID": deals["id"], "Название сделки": deals["title"], "Стадия сделки": deals["stage"],
        "Сумма": deals["amount"].map(lambda v: f"{v:.2f}"), "Валюта": "Российский рубль",
        "Компания": deals["company"], "Ответственный": deals["manager"],
        "Дата начала": deals["created"].dt.strftime("%d.%m.%Y"),
        "Предполагаемая дата закрытия": deals["close"].dt.strftime("%d.%m.%Y"),
        "Сделка закрыта": deals["closed"].map({True: "Да", False: "Нет"}), "Направление": deals["pipeline"],
        "Источник": deals["source"], "Дата изменения": deals["modified"].dt.strftime("%d.%m.%Y %H:%M:%S"),
        "Причина отказа": deals["reason"],
    })
    return out.to_csv(sep=";", index=False, lineterminator="\r\n").encode("utf-8-sig")


def history_csv(history: pd.DataFrame) -> bytes:
    """The stage history: one row per stage a deal entered (deal id, stage, date and time)."""
    out = pd.DataFrame({"ID сделки": history["deal"], "Стадия": history["stage"],
                        "Дата изменения": history["date"].dt.strftime("%d.%m.%Y %H:%M:%S")})
    return out.to_csv(sep=";", index=False, lineterminator="\r\n").encode("utf-8-sig")


def write_deal_files(data_dir: Path, customers: pd.DataFrame, managers: list[str], last_month: str,
                     months: int, seed: int = SEED) -> tuple[Path, Path]:
    """Write ``crm_deals.csv`` and ``crm_stage_history.csv`` into ``data_dir``; return their paths."""
    deals, history = generate_deals(customers, managers, last_month, months, seed)
    deals_path, history_path = data_dir / "crm_deals.csv", data_dir / "crm_stage_history.csv"
    deals_path.write_bytes(deals_csv(deals))
    history_path.write_bytes(history_csv(history))
    return deals_path, history_path


__all__ = ["deals_csv", "generate_deals", "history_csv", "write_deal_files"]
