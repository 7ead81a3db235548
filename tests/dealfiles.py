"""Deal exports built with each CRM's real headers, and engagements around them, for the tests.

The headers are those of the genuine exports in ``tests/corpus/`` (amoCRM's interface
export, Bitrix24's ``crm.deal.list``) and of Bitrix24's ``crm.stagehistory.list`` (fields
ID, TYPE_ID, OWNER_ID, CREATED_TIME, CATEGORY_ID, STAGE_SEMANTIC_ID, STAGE_ID: the REST
documentation, ``bitrix-tools/b24-rest-docs``, ``api-reference/crm/crm-stage-history-list.md``
at commit 063be2b827e8f10473f0548219d009a437bc1ba6, MIT licence).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

AMO_HEADER = ["ID", "Название сделки", "Бюджет ", "Ответственный", "Дата создания сделки", "Кем создана сделка",
              "Дата редактирования", "Кем редактирована", "Дата закрытия", "Теги", "Этап сделки", "Воронка",
              "Полное имя контакта", "Компания контакта", "Компания", "Причина отказа"]
B24_REST_HEADER = ["ID", "TITLE", "STAGE_ID", "CATEGORY_ID", "STAGE_SEMANTIC_ID", "CLOSED", "OPPORTUNITY",
                   "CURRENCY_ID", "COMPANY_ID", "CONTACT_ID", "ASSIGNED_BY_ID", "SOURCE_ID", "BEGINDATE",
                   "CLOSEDATE", "DATE_CREATE", "DATE_MODIFY"]
B24_HISTORY_HEADER = ["ID", "TYPE_ID", "OWNER_ID", "CREATED_TIME", "CATEGORY_ID", "STAGE_SEMANTIC_ID", "STAGE_ID"]
B24_OPEN = ("NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE")
AMO_FMT = "%d.%m.%Y %H:%M:%S"


def amo_row(deal_id: int, stage: str, budget: str, created: dt.datetime, closed: dt.datetime | None, *,
            company: str = "", contact: str = "", manager: str = "Анна Смирнова", pipeline: str = "Продажи",
            edited: dt.datetime | None = None, reason: str = "", name: str = "") -> list[str]:
    """One deal of an amoCRM export: «не закрыта» in «Дата закрытия» of an open deal."""
    edited = edited or closed or created + dt.timedelta(days=1)
    return [str(deal_id) if deal_id else "", name or f"Сделка #{deal_id}", budget, manager, created.strftime(AMO_FMT),
            manager, edited.strftime(AMO_FMT), manager, closed.strftime(AMO_FMT) if closed else "не закрыта", "",
            stage, pipeline, contact, company, company, reason]


def csv_bytes(header: list[str], rows: list[list[str]], *, delimiter: str = ",", newline: str = "\n",
              encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def iso(t: dt.datetime) -> str:
    """Bitrix24 REST date-time: ISO with the portal's +03:00 offset."""
    return t.strftime("%Y-%m-%dT%H:%M:%S+03:00")


def make_engagement(tmp_path: Path, files: dict[str, tuple[str, bytes]], extra: str = "",
                    lang: str = "ru", name: str = "eng") -> Path:
    """An engagement folder: ``files`` input name (sales, customers, deals, deal_history) ->
    (file name, bytes); ``extra`` YAML appended (e.g. a ``deals:`` block)."""
    root = tmp_path / name
    (root / "data").mkdir(parents=True, exist_ok=True)
    text = f'client: "ООО «Тест»"\nlanguage: {lang}\ninputs:\n'
    for key, (file, data) in files.items():
        (root / "data" / file).write_bytes(data)
        text += f"  {key}:\n    file: data/{file}\n"
    (root / "engagement.yaml").write_text(text + extra, encoding="utf-8")
    return root


def corpus_engagement(tmp_path: Path, slug: str, file: str, key: str = "sales", extra: str = "",
                      lang: str = "ru", also: dict[str, tuple[str, bytes]] | None = None) -> Path:
    """An engagement around a corpus file, given as input ``key`` (its bytes as they are)."""
    data = (CORPUS / slug / file).read_bytes()
    return make_engagement(tmp_path, {key: (file, data), **(also or {})}, extra, lang)


def ledger_csv(rows: list[tuple[str, str, str, float]]) -> bytes:
    """A 1C-style ledger: (date dd.mm.yyyy, customer, INN, amount) rows; cp1251, ';', decimal comma."""
    lines = ["Дата;Контрагент;ИНН;Сумма"]
    lines += [f"{d};{c};{inn};" + f"{a:.2f}".replace(".", ",") for d, c, inn, a in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def bitrix_funnel(seed: int = 14, n: int = 400, start: dt.datetime = dt.datetime(2024, 1, 3, 10, 0),
                  as_of: dt.datetime = dt.datetime(2024, 12, 28, 18, 0)) -> tuple[bytes, bytes]:
    """A Bitrix24 ``crm.deal.list`` dump and its ``crm.stagehistory.list`` dump: ``n`` deals in
    pipeline 0 (default stages) and pipeline 1 («C1:» codes), each moving through the open stages
    (sometimes skipping one) until won, lost or the export's date; managers, sources and
    companies (COMPANY_ID, or a CONTACT_ID alone) vary. Deterministic for a ``seed``."""
    rng = random.Random(seed)
    deals, history = [], []
    hid = 1
    for i in range(n):
        deal_id = 1000 + i
        pipeline = 1 if i % 5 == 0 else 0
        prefix = f"C{pipeline}:" if pipeline else ""
        created = start + dt.timedelta(days=rng.randrange(340), minutes=rng.randrange(600))
        when, k = created, 0
        history.append([str(hid), "1", str(deal_id), iso(when), str(pipeline), "P", prefix + B24_OPEN[0]])
        hid += 1
        outcome = "open"
        last = len(B24_OPEN) - 1 if pipeline == 0 else 2
        stuck = i % 37 == 0  # a deal nobody moves on: it stalls in its first stage
        while True:
            nxt = when + dt.timedelta(days=rng.randrange(1, 25), hours=rng.randrange(24))
            if nxt > as_of or stuck:
                break
            when = nxt
            roll = rng.random()
            if roll < 0.22:
                outcome = "lost"
                stage, sem = (prefix + ("APOLOGY" if rng.random() < 0.2 else "LOSE")), "F"
            elif k == last:
                outcome, stage, sem = "won", prefix + "WON", "S"
            else:
                k = min(last, k + (2 if rng.random() < 0.1 else 1))  # a skipped stage now and then
                stage, sem = prefix + B24_OPEN[k], "P"
            history.append([str(hid), "3" if sem != "P" else "2", str(deal_id), iso(when), str(pipeline), sem,
                            stage])
            hid += 1
            if outcome != "open":
                break
        stage = history[-1][6]
        sem = {"won": "S", "lost": "F", "open": "P"}[outcome]
        company = str(rng.randrange(1, 40)) if rng.random() < 0.9 else "0"
        contact = "0" if company != "0" else str(rng.randrange(100, 120))
        planned = when + dt.timedelta(days=30)
        modified = when + dt.timedelta(hours=rng.randrange(1, 48)) if outcome == "open" else when
        modified = min(modified, as_of)
        deals.append([str(deal_id), f"Сделка #{deal_id}", stage, str(pipeline), sem,
                      "N" if outcome == "open" else "Y", f"{rng.randrange(10, 900) * 1000}.00", "RUB", company,
                      contact, str(rng.choice((1, 3, 5))), rng.choice(("CALL", "WEB", "EMAIL", "")),
                      iso(created.replace(hour=0, minute=0)), iso(planned if outcome == "open" else when),
                      iso(created), iso(modified)])
    return csv_bytes(B24_REST_HEADER, deals), csv_bytes(B24_HISTORY_HEADER, history)
