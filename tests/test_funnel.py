"""The funnel (issue 14): figures from deal exports checked against our own plain computation.

A Bitrix24 ``crm.deal.list`` dump with its ``crm.stagehistory.list`` (built in
``tests/dealfiles.py`` with the real field names) is imported the way a user would; the
funnel's counts, conversions, days per stage, win rates and stalled deals are worked out
again here, deal by deal, from the two CSV files. The demo run (session fixture) shows the
funnel section, the workbook sheets, the CJM on the client's stages and the history; a
deals-only engagement runs end to end.
"""
from __future__ import annotations

import itertools
import json
import math
import sqlite3
from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from dealfiles import B24_OPEN, CORPUS, bitrix_funnel, corpus_engagement, ledger_csv, make_engagement
from openpyxl import load_workbook

from workbench import columns as C
from workbench.config import load_engagement
from workbench.funnel import funnel
from workbench.ingest import import_engagement
from workbench.kpis import compute_kpi, deals_context, has_data

MONTH, WINDOW = "2024-12", 12


@pytest.fixture(scope="module")
def b24(tmp_path_factory):
    """(deals csv, history csv, import result, funnel result) of a built Bitrix24 funnel."""
    deals_csv, history_csv = bitrix_funnel()
    ledger = ledger_csv([("10.12.2024", "ООО Альфа", "7701234567", 5000.0)])
    root = make_engagement(tmp_path_factory.mktemp("b24"), {
        "sales": ("sales.csv", ledger), "deals": ("crm_deal_list.csv", deals_csv),
        "deal_history": ("crm_stagehistory_list.csv", history_csv)})
    res = import_engagement(load_engagement(root))
    fun = funnel(res.deals, res.deal_stages, res.deal_history, None, MONTH, WINDOW, 2.0)
    raw = pd.read_csv(BytesIO(deals_csv), dtype=str, keep_default_na=False)
    hist = pd.read_csv(BytesIO(history_csv), dtype=str, keep_default_na=False)
    return raw, hist, res, fun


def _ts(text: str) -> pd.Timestamp:
    """A CRM date-time as the funnel counts it: to the day (the time of day is not used)."""
    return pd.Timestamp(text[:10])


def _position(stage: str) -> int:
    """1..5 for the open stages, 6 for won, 0 for lost (either pipeline's codes)."""
    code = stage.split(":")[-1]
    if code == "WON":
        return 6
    return B24_OPEN.index(code) + 1 if code in B24_OPEN else 0


def test_open_deals_now_per_stage(b24):
    raw, _, _, fun = b24
    open_ = raw[raw["STAGE_SEMANTIC_ID"] == "P"]
    expect = {(p, s): (len(g), pd.to_numeric(g["OPPORTUNITY"]).sum())
              for (p, s), g in open_.groupby(["CATEGORY_ID", "STAGE_ID"])}
    got = {(r[C.PIPELINE], r[C.STAGE]): (r["deals"], r["amount"]) for r in fun.stages.to_dict("records")}
    assert got == expect
    # in funnel order: the default order of Bitrix24's codes
    main = fun.stages[fun.stages[C.PIPELINE] == "0"]
    assert main.sort_values(C.STAGE_ORDER)[C.STAGE].tolist() == [s for s in B24_OPEN if s in set(main[C.STAGE])]
    assert fun.main_pipeline == "0"


def test_stage_to_stage_conversion_and_days_from_the_history(b24):
    raw, hist, _, fun = b24
    lo, hi = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-01-01")
    cohort = raw[(raw["DATE_CREATE"].map(_ts) >= lo) & (raw["DATE_CREATE"].map(_ts) < hi)]
    for pipeline, n_open in (("0", 5), ("1", 3)):
        mine = cohort[cohort["CATEGORY_ID"] == pipeline]
        furthest = []
        for rec in mine.to_dict("records"):
            steps = hist[hist["OWNER_ID"] == rec["ID"]]
            pos = [min(_position(s), n_open + 1) for s in steps["STAGE_ID"]] + [min(_position(rec["STAGE_ID"]),
                                                                                   n_open + 1)]
            furthest.append(max(max(pos), 1))
        reached = [sum(f >= k for f in furthest) for k in range(1, n_open + 2)]
        conv = fun.conversion[fun.conversion[C.PIPELINE] == pipeline].sort_values(C.STAGE_ORDER)
        assert conv["reached"].tolist() == reached[:-1]
        assert conv["moved_on"].tolist() == reached[1:]
        assert conv["conversion"].tolist() == pytest.approx([b / a for a, b in itertools.pairwise(reached)])
        # days in a stage: from entering it to the next move, for the cohort's deals that left it
        spent: dict[str, list[float]] = {}
        for deal_id in mine["ID"]:
            steps = hist[hist["OWNER_ID"] == deal_id].sort_values("CREATED_TIME")
            times = steps["CREATED_TIME"].map(_ts).tolist()
            per_stage: dict[str, float] = {}
            for (stage, t0), t1 in zip(zip(steps["STAGE_ID"], times), times[1:]):
                if _position(stage) in range(1, 6):
                    per_stage[stage] = per_stage.get(stage, 0.0) + (t1 - t0).total_seconds() / 86400
            for stage, days in per_stage.items():
                spent.setdefault(stage, []).append(days)
        for rec in conv.to_dict("records"):
            if rec[C.STAGE] in spent:
                assert rec["median_days"] == pytest.approx(float(np.median(spent[rec[C.STAGE]])))
                assert rec["left"] == len(spent[rec[C.STAGE]])
    assert fun.supports["conversion"] and fun.supports["stage_days"] and fun.has_history


def test_win_rate_and_average_won_deal_by_manager_and_source(b24):
    raw, _, _, fun = b24
    closed = raw[raw["STAGE_SEMANTIC_ID"].isin(["S", "F"])]
    closed = closed[closed["CLOSEDATE"].map(_ts).between(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31 23:59"))]
    for dim, column in (("manager", "ASSIGNED_BY_ID"), ("source", "SOURCE_ID")):
        got = fun.win_rates[fun.win_rates["dimension"] == dim].set_index("value")
        for value, g in closed.groupby(column):
            won = g[g["STAGE_SEMANTIC_ID"] == "S"]
            row = got.loc[value]
            assert row["closed"] == len(g) and row["won"] == len(won)
            assert row["win_rate"] == pytest.approx(len(won) / len(g))
            amount = pd.to_numeric(won["OPPORTUNITY"])
            assert row["avg_won"] == pytest.approx(amount.mean()) if len(won) else math.isnan(row["avg_won"])
    n_won = int((closed["STAGE_SEMANTIC_ID"] == "S").sum())
    assert fun.totals["won"] == n_won and fun.totals["win_rate"] == pytest.approx(n_won / len(closed))
    assert not fun.supports["lost_reasons"]            # the REST dump has no lost reasons


def test_stalled_deals_against_the_stage_usual_time(b24):
    raw, hist, _, fun = b24
    usual = {(r[C.PIPELINE], r[C.STAGE]): r["median_days"] for r in fun.conversion.to_dict("records")}
    as_of = max(raw["DATE_MODIFY"].map(_ts).max(), raw["DATE_CREATE"].map(_ts).max(),
                raw.loc[raw["CLOSED"] == "Y", "CLOSEDATE"].map(_ts).max())
    expect = set()
    for rec in raw[raw["STAGE_SEMANTIC_ID"] == "P"].to_dict("records"):
        entries = hist[(hist["OWNER_ID"] == rec["ID"]) & (hist["STAGE_ID"] == rec["STAGE_ID"])]
        since = entries["CREATED_TIME"].map(_ts).max()
        days = (as_of - since).total_seconds() / 86400
        typical = max(usual[(rec["CATEGORY_ID"], rec["STAGE_ID"])], 1.0)
        if days > 2.0 * typical:
            expect.add(rec["ID"])
    assert set(fun.stalled[C.DEAL_ID]) == expect and len(expect) > 0
    assert fun.stalled[C.AMOUNT].is_monotonic_decreasing
    assert fun.time_in_stage_from == "history"


def test_funnel_kpis_of_a_map_come_from_the_deal_export(b24):
    raw, _, res, _ = b24
    d = res.deals
    ids = sorted(set(d.loc[d[C.CUSTOMER_KIND] == "company", C.CUSTOMER_ID]))[:10]
    names = {f"Компания {x}" for x in raw["COMPANY_ID"]}
    assert all(i.replace("компания ", "Компания ") in names for i in ids)
    assert not has_data("new_deals", res.ledger)                    # no export laid out: no data
    with deals_context(d):
        assert has_data("new_deals", res.ledger)
        mine = raw[("компания " + raw["COMPANY_ID"]).isin(ids)]
        created = mine["DATE_CREATE"].map(_ts)
        in_q = mine[(created >= pd.Timestamp("2024-04-01")) & (created < pd.Timestamp("2024-07-01"))]
        assert compute_kpi("new_deals", res.ledger, ids, "2024-04", "2024-06") == len(in_q)
        closed = mine[mine["CLOSEDATE"].map(_ts).between(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31 23:59"))
                      & mine["STAGE_SEMANTIC_ID"].isin(["S", "F"])]
        assert compute_kpi("deal_win_rate", res.ledger, ids, "2024-01", "2024-12") == \
            pytest.approx((closed["STAGE_SEMANTIC_ID"] == "S").sum() / len(closed))
        open_ = mine[mine["STAGE_SEMANTIC_ID"] == "P"]
        assert compute_kpi("pipeline_amount", res.ledger, ids, "2024-12", "2024-12") == \
            pytest.approx(pd.to_numeric(open_["OPPORTUNITY"]).sum())


def test_a_current_stage_only_export_says_what_it_cannot_show(tmp_path):
    path = CORPUS / "built-amocrm-deals" / "amocrm_export_leads_2024-06-03.csv"
    res = import_engagement(load_engagement(corpus_engagement(tmp_path, "built-amocrm-deals", path.name)))
    fun = funnel(res.deals, res.deal_stages, None, None, "2024-06", 12)
    assert not fun.supports["conversion"] and not fun.supports["stage_days"] and fun.supports["lost_reasons"]
    assert fun.conversion.empty
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    lost = raw[raw["Этап сделки"].eq("Закрыто и не реализовано")]
    by_reason = lost.groupby("Причина отказа")["Бюджет "].apply(lambda x: pd.to_numeric(x).sum())
    assert fun.lost_reasons["lost_reason"].tolist() == by_reason.sort_values(ascending=False).index.tolist()
    assert fun.lost_reasons["amount"].tolist() == by_reason.sort_values(ascending=False).tolist()
    from workbench.report.funnel_report import render_funnel_html, supports_frame

    table = supports_frame(fun, "ru").set_index("figure")
    assert table.loc["Конверсия из стадии в стадию", "supported"] == "нет"
    assert table.loc["Конверсия из стадии в стадию", "why"] == "нужна история стадий: выгрузка переходов сделок по стадиям"
    assert table.loc["Причины проигрыша по сумме", "supported"] == "да"
    html = render_funnel_html(fun, "ru", "RUB")
    assert "В выгрузке только текущая стадия каждой сделки, истории переходов нет" in html


# --- the demo: funnel section, workbook, CJM on the client's stages, history ------------------

def test_demo_report_shows_the_funnel_and_the_cjm_takes_the_clients_stages(demo_run):
    path, result = demo_run
    html = (result.deliverables / "report.html").read_text(encoding="utf-8")
    assert '<section class="wb-section" id="funnel">' in html and "Воронка продаж" in html
    deals = pd.read_parquet(path / "work" / "deals.parquet")
    open_main = deals[(deals[C.OUTCOME] == "open") & (deals[C.PIPELINE] == "Общее")]
    section = html[html.index('id="funnel"'):html.index("</section>", html.index('id="funnel"'))]
    for stage, n in open_main.groupby(C.STAGE).size().items():
        assert f'<td class="">{stage}</td><td class="num">{n}</td>' in section
    assert "Зависшие сделки" in section and "Причины проигрыша" in section
    # the CJM's columns: the client's open stages, in funnel order (the history's), with measures; the
    # grid itself stands in the appendix, its stage rules in the CJM section
    cjm = html[html.index('id="cjm"'):]
    grid = cjm.index('<table class="wb-cjm-grid">')
    head = cjm[grid:cjm.index("</thead>", grid)]
    assert [h for h in ("Новая", "Подготовка документов", "Переговоры", "Счёт на предоплату", "Финальный счёт")
            if f"<th>{h}</th>" in head] == ["Новая", "Подготовка документов", "Переговоры", "Счёт на предоплату",
                                              "Финальный счёт"]
    assert "По сделкам клиента" in cjm and "дальше" in cjm and "дн. на стадии" in cjm
    book = load_workbook(result.deliverables / "workbook.xlsx", read_only=True)
    assert {"Воронка", "Конверсия стадий", "Выигрыш", "Причины проигрыша", "Зависшие сделки",
            "KPI воронки"} <= set(book.sheetnames)
    ws = book["Воронка"]
    rows = [r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] == "Общее"]
    assert {r[2]: r[3] for r in rows} == open_main.groupby(C.STAGE).size().to_dict()
    # the nurturing's readiness reads the same deal export: every customer with an open deal that
    # the ready list holds is there for that deal (the demo's report once said 0 open deals here)
    ready = [r for r in book["Готовы сейчас"].iter_rows(min_row=3, values_only=True) if r[0]]
    with_open = set(deals.loc[deals[C.OUTCOME] == "open", C.CUSTOMER_NAME])
    marked = {r[0] for r in ready if r[3] == "открытая сделка"}
    assert marked and marked == {r[0] for r in ready} & with_open


def test_demo_maps_target_funnel_kpis_measured_on_the_deals(demo_run):
    path, result = demo_run
    step = path / "work" / result.month
    cps = pd.read_parquet(step / "checkpoints_maps.parquet")
    members = pd.read_parquet(step / "traction_members.parquet")
    deals = pd.read_parquet(path / "work" / "deals.parquet")
    mine = deals[deals[C.CUSTOMER_ID].isin(members.loc[members["map_id"] == "group:strategic", "customer_id"])]
    pipeline = cps[(cps["map_id"] == "group:strategic") & (cps["kpi"] == "pipeline_amount")]
    assert len(pipeline) and (pipeline["baseline"] == mine.loc[mine[C.OUTCOME] == "open", C.AMOUNT].sum()).all()
    assert (pipeline["target"] == (pipeline["baseline"] * 1.2).round(2)).all()
    assert {"new_deals", "deal_win_rate"} <= set(cps["kpi"])


def test_demo_history_keeps_the_months_funnel_kpis(demo_run):
    path, result = demo_run
    con = sqlite3.connect(path / "history.sqlite")
    try:
        meta = json.loads(con.execute("SELECT meta FROM runs WHERE month = ?", (result.month,)).fetchone()[0])
    finally:
        con.close()
    kpis = {r["segment"]: r for r in meta["funnel"]}
    deals = pd.read_parquet(path / "work" / "deals.parquet")
    lo = pd.Period(result.month, "M").start_time
    hi = (pd.Period(result.month, "M") + 1).start_time
    assert kpis["all"]["new_deals"] == int(((deals[C.CREATED] >= lo) & (deals[C.CREATED] < hi)).sum())
    assert kpis["all"]["pipeline_amount"] == pytest.approx(deals.loc[deals[C.OUTCOME] == "open", C.AMOUNT].sum())
    assert {"vip", "strategic", "typical", "new"} <= set(kpis)


# --- a deals-only engagement, end to end --------------------------------------------------------

@pytest.mark.slow
def test_a_deals_only_engagement_runs_with_won_deals_as_revenue(tmp_path):
    from workbench.run import run_engagement

    path = CORPUS / "built-amocrm-deals" / "amocrm_export_leads_2024-06-03.csv"
    root = corpus_engagement(tmp_path / "engagements", "built-amocrm-deals", path.name, key="deals")
    result = run_engagement(root, echo=lambda m: None)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    won = raw["Этап сделки"].eq("Успешно реализовано")
    close = pd.to_datetime(raw["Дата закрытия"].where(won), format="%d.%m.%Y %H:%M:%S", errors="coerce")
    in_window = won & (close >= pd.Timestamp("2023-07-01")) & (close < pd.Timestamp("2024-07-01"))
    segments = pd.read_csv(result.deliverables / "segments.csv", encoding="utf-8-sig")
    assert segments["revenue"].sum() == pytest.approx(pd.to_numeric(raw["Бюджет "])[in_window].sum())
    html = (result.deliverables / "report.html").read_text(encoding="utf-8")
    assert 'id="funnel"' in html and "Выручка — только выигранные сделки" in html
    assert "нужна история стадий: выгрузка переходов сделок по стадиям" in html
