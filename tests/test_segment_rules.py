"""The segmentation rules of issue 15 on small hand-made ledgers; every expected value worked out by hand.

Reporting month 2026-06 unless said otherwise: the month end is 2026-06-30, the default window
(12 months) runs 2025-07-01 .. 2026-06-30 and the previous window 2024-07-01 .. 2025-06-30.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.config import defaults
from workbench.segment import segment

MONTH = "2026-06"


def settings(**changes: dict) -> dict:
    s = copy.deepcopy(defaults()["segmentation"])
    for key, value in changes.items():
        s[key].update(value) if isinstance(value, dict) else s.__setitem__(key, value)
    return s


def ledger(rows: list[dict]) -> pd.DataFrame:
    """rows: dicts with id, day, amount and optionally margin, product, manager, doc."""
    recs = []
    for i, r in enumerate(rows):
        amount = float(r["amount"])
        recs.append({C.CUSTOMER_ID: r["id"], C.CUSTOMER_NAME: r.get("name", f"ООО {r['id']}"), C.INN: r.get("inn", ""),
                     C.DATE: pd.Timestamp(r["day"]), C.AMOUNT: amount, C.QUANTITY: 1.0,
                     C.PRODUCT: r.get("product", "p"), C.MANAGER: r.get("manager", ""),
                     C.MARGIN: float(r.get("margin", np.nan)), C.DOCUMENT: r.get("doc", ""),
                     C.IS_RETURN: amount < 0, C.SOURCE_FILE: "sales.csv", C.SOURCE_ROW: f"line {i + 2}"})
    df = pd.DataFrame(recs, columns=list(C.LEDGER_COLUMNS))
    return df.astype({C.CUSTOMER_ID: "string", C.CUSTOMER_NAME: "string", C.INN: "string",
                      C.MANAGER: "string", C.DOCUMENT: "string", C.PRODUCT: "string"})


def buys(cid: str, days: list[str], amount: float = 100.0, **extra) -> list[dict]:
    return [{"id": cid, "day": d, "amount": amount, **extra} for d in days]


def months(first: str, n: int, day: int = 15) -> list[str]:
    start = pd.Timestamp(first)
    return [(start + pd.DateOffset(months=i)).replace(day=day).strftime("%Y-%m-%d") for i in range(n)]


def customers(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in C.CUSTOMERS_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan if col in (C.HEADCOUNT, C.POTENTIAL) else ""
    return df[list(C.CUSTOMERS_COLUMNS)].astype({C.HEADCOUNT: float, C.POTENTIAL: float})


def by_id(res) -> pd.DataFrame:
    return res.customers.set_index("customer_id")


# ------------------------------------------------------------------------------ 2. XYZ by regularity
def test_xyz_by_regularity_of_purchases():
    # window 2026-01 .. 2026-06 (6 months, min_periods 6); X >= 75 %, Y >= 50 %.
    rows = (buys("all6", months("2026-01-10", 6))                    # 6/6 = 1.0 -> X
            + buys("five", months("2026-01-10", 5))                  # 5/6 = .833 -> X
            + buys("four", months("2026-01-10", 4))                  # 4/6 = .667 -> Y
            + buys("three", months("2026-02-10", 3))                 # first Feb: 5 periods < 6 -> N
            + buys("three_old", ["2025-03-10"] + months("2026-01-10", 3))  # 3/6 = .5 -> Y (at the line)
            + buys("two", ["2025-03-10", "2026-01-10", "2026-06-10"]))     # 2/6 = .333 -> Z
    res = segment(ledger(rows), None, settings(window_months=6), MONTH)
    c = by_id(res)
    assert c["xyz"].to_dict() == {"all6": "X", "five": "X", "four": "Y", "three": "N", "three_old": "Y", "two": "Z"}
    assert c.loc["five", "xyz_regularity"] == pytest.approx(5 / 6)
    assert c.loc["two", "xyz_regularity"] == pytest.approx(2 / 6)
    assert np.isnan(c.loc["three", "xyz_regularity"]) and c.loc["three", "xyz_periods"] == 5


def test_equal_amounts_in_eleven_of_twelve_months_are_x_by_regularity_and_z_by_the_cv_rule():
    # 100 in every month but June 2026: regularity 11/12 = .917 -> X; the CV of [100 x 11, 0] is
    # sqrt(p(1-p)) / p with p = 11/12, i.e. sqrt(1/11) = .3015 > .25 -> Z under the stock rule.
    rows = buys("steady", months("2025-07-10", 11))
    c = by_id(segment(ledger(rows), None, settings(), MONTH))
    assert c.loc["steady", "xyz"] == "X" and c.loc["steady", "xyz_regularity"] == pytest.approx(11 / 12)
    assert c.loc["steady", "xyz_cv"] == pytest.approx(np.sqrt(1 / 11))
    cv = by_id(segment(ledger(rows), None, settings(xyz={"method": "cv"}), MONTH))
    assert cv.loc["steady", "xyz"] == "Z"


def test_quarterly_regularity():
    # quarters counted back from June: Apr-Jun, Jan-Mar, Oct-Dec, Jul-Sep. Purchases in 3 of the 4 -> .75 -> X;
    # in 2 of 4 -> .5 -> Y.
    rows = (buys("q3", ["2025-08-10", "2025-11-10", "2026-05-10"])
            + buys("q2", ["2025-08-10", "2026-05-10"]))
    c = by_id(segment(ledger(rows), None, settings(xyz={"period": "quarter", "min_periods": 2}), MONTH))
    assert c.loc["q3", "xyz"] == "X" and c.loc["q2", "xyz"] == "Y"


# ------------------------------------------------------------------------------ 1. the mix
def ballast_flip_case() -> pd.DataFrame:
    """8 regular customers (100 a month for 12 months), 1 old one-off (Sep 2025), 3 new one-off
    customers (Apr-Jun 2026), 4 customers lost (last purchase Mar 2025, 477 days of silence)."""
    rows: list[dict] = []
    for i in range(1, 9):
        rows += buys(f"r{i}", months("2025-07-15", 12))
    rows += buys("o1", ["2025-09-10"], 50)
    rows += buys("n1", ["2026-05-10"], 50) + buys("n2", ["2026-06-01"], 50) + buys("n3", ["2026-04-20"], 50)
    for i in range(1, 5):
        rows += buys(f"l{i}", ["2024-09-10", "2025-03-10"])
    return ledger(rows)


# Nobody is VIP (no customer reaches 50 %) and no cell is a prospect signal: the case is about ballast.
FLIP = {"tiers": {"prospect_cells": [], "vip_min_share": 0.5}}


def test_new_one_off_customers_are_onboarding_and_lost_ones_are_counted_apart():
    res = segment(ballast_flip_case(), None, settings(**FLIP), MONTH)
    c = by_id(res)
    assert c.loc[["n1", "n2", "n3"], "lifecycle"].tolist() == ["new"] * 3
    assert c.loc[["n1", "n2", "n3"], "tier"].tolist() == ["typical"] * 3 and c.loc["n1", "new_one_off"]
    assert c.loc["n2", "tier_reason"] == ("новый клиент: первая покупка 01.06.2026, повторной ещё не было — идёт "
                                         "онбординг; балластом не считается, пока не было возможности купить снова")
    assert c.loc["o1", "tier"] == "ballast" and c.loc["o1", "lifecycle"] == "active"
    assert (c.loc[[f"l{i}" for i in range(1, 5)], "lifecycle"] == "lost").all()
    assert (c.loc[[f"l{i}" for i in range(1, 5)], "tier"] == "ballast").all()
    mix = res.tier_mix.set_index("tier")
    # in the mix: 12 who bought in the window: typical 8 + 3 new, ballast 1 (o1)
    assert mix["customers"].to_dict() == {"vip": 0, "strategic": 0, "typical": 11, "ballast": 1}
    assert mix.loc["ballast", "share"] == pytest.approx(1 / 12) and mix.loc["ballast", "status"] == "ok"
    assert mix.loc["typical", "new"] == 3 and mix.loc["typical", "new_one_off"] == 3
    assert mix.loc["ballast", "base"] == 5 and mix.loc["ballast", "outside"] == 4 and mix.loc["ballast", "lost"] == 4


def test_a_ballast_verdict_that_flips_with_new_or_lost_is_no_headline():
    from workbench.report.segment_findings import segment_findings

    res = segment(ballast_flip_case(), None, settings(**FLIP), MONTH)
    b = res.tier_mix.set_index("tier").loc["ballast"]
    # ballast share: default 1/12 ok; new one-offs as ballast 4/12 above; without new 1/9 ok; with the
    # lost 5/16 above; with the lost and new as ballast 8/16 above (the old count: "ballast above the
    # norm", 50 %); with the lost, without new 5/13 above.
    assert b["share_new_as_ballast"] == pytest.approx(4 / 12) and b["status_new_as_ballast"] == "above"
    assert b["share_without_new"] == pytest.approx(1 / 9) and b["status_without_new"] == "ok"
    assert b["share_with_lost"] == pytest.approx(5 / 16) and b["status_with_lost"] == "above"
    assert b["share_with_lost_new_as_ballast"] == pytest.approx(8 / 16)
    assert b["share_with_lost_without_new"] == pytest.approx(5 / 13)
    assert not b["robust"]
    found = segment_findings(res, "ru", "RUB")
    kinds = {f["kind"]: f for f in found}
    # no strategic customer in any count: that verdict holds and stays; ballast and typical flip
    assert "ballast" not in kinds and "ok" not in kinds and kinds["strategic"]["audience"] == "management"
    assert kinds["mix_unsure"]["audience"] == "consultant"
    assert kinds["mix_unsure"]["headline"].endswith("типовой, балласт")
    # and a ballast of 8 one-off customers out of 12 is a robust verdict: it stays a headline
    rows = ballast_flip_case()
    extra = ledger([{"id": f"b{i}", "day": "2025-10-10", "amount": 10} for i in range(1, 9)])
    res2 = segment(pd.concat([rows, extra], ignore_index=True), None, settings(**FLIP), MONTH)
    b2 = res2.tier_mix.set_index("tier").loc["ballast"]
    assert b2["customers"] == 9 and b2["status"] == "above" and b2["robust"]  # 9/20, 12/20, 9/17, 13/24 ...
    ballast = [f for f in segment_findings(res2, "ru", "RUB") if f["kind"] == "ballast"]
    assert ballast and ballast[0]["audience"] == "management" and ballast[0]["owner"] == "marketing"


# ------------------------------------------------------------------------------ 4. the revenue bridge
def bridge_case() -> pd.DataFrame:
    return ledger(
        buys("grow", ["2025-01-10"], 100) + buys("grow", ["2026-01-10", "2026-03-10"], 150)
        + buys("shrink", ["2025-02-10"], 500) + buys("shrink", ["2026-02-10", "2026-03-10"], 100)
        + buys("same", ["2025-03-10"], 100) + buys("same", ["2026-03-10", "2026-04-10"], 50)
        + buys("new", ["2026-05-10"], 400)
        + buys("back", ["2024-03-10"], 50) + buys("back", ["2026-04-10"], 150) + buys("back", ["2026-05-10"], 100)
        + buys("gone", ["2025-01-10"], 600)
        + buys("dozing", ["2025-04-30", "2025-05-30", "2025-06-30"], 100)
        + buys("late", ["2024-01-10"], 80) + [{"id": "late", "day": "2026-02-10", "amount": -20}])


def test_revenue_bridge_splits_the_change_into_groups_that_add_up():
    res = segment(bridge_case(), None, settings(tiers={"vip_min_share": 0.5}), MONTH)
    c = by_id(res)
    # previous window: grow 100, shrink 500, same 100, gone 600, dozing 300 = 1600
    # this window: grow 300, shrink 200, same 100, new 400, back 250, late -20 = 1230
    assert res.bridge["prev"] == 1600 and res.bridge["now"] == 1230 and res.bridge["change"] == -370
    assert res.bridge["change_share"] == pytest.approx(-370 / 1600)
    assert c["bridge"].to_dict() == {"new": "new", "grow": "grown", "back": "returned", "shrink": "shrunk",
                                     "same": "unchanged", "gone": "lost", "dozing": "shrunk", "late": "other"}
    # dozing bought in the previous window only and is not lost (365 days of silence is not more than 365):
    # it sleeps, so its fall to zero is shrinking; gone (536 days) is lost
    assert c.loc["dozing", "lifecycle"] == "sleeping" and c.loc["gone", "lifecycle"] == "lost"
    g = res.bridge["groups"].set_index("group")
    assert g["change"].to_dict() == {"new": 400, "returned": 250, "grown": 200, "shrunk": -600, "lost": -600,
                                     "other": -20, "unchanged": 0}
    assert g["customers"].to_dict() == {"new": 1, "returned": 1, "grown": 1, "shrunk": 2, "lost": 1, "other": 1,
                                        "unchanged": 1}
    assert res.bridge["prev"] + g["change"].sum() == res.bridge["now"]
    # by tier: typical = grow, shrink, same, new (onboarding), back; ballast = dozing (no revenue now);
    # lost customers on their own line: gone and late (lost: last purchase Jan 2024)
    t = res.bridge["by_tier"].set_index("row")
    assert t.loc["typical", ["customers", "prev", "new", "returned", "grown", "shrunk", "now"]].tolist() == \
        [5, 700, 400, 250, 200, -300, 1250]
    assert t.loc["ballast", ["customers", "prev", "shrunk", "now"]].tolist() == [1, 300, -300, 0]
    assert t.loc["lost", ["customers", "prev", "lost", "other", "now"]].tolist() == [2, 600, -600, -20, -20]
    assert (t["prev"] + t[["new", "returned", "grown", "shrunk", "lost", "other"]].sum(axis=1)
            == t["now"]).all()
    # the largest customers by the larger window: gone 600, shrink 500, new 400, dozing 300 and grow 300
    # (tie: by id), back 250, same 100; late never reached a positive window
    top = res.bridge["top"]
    assert top["customer_id"].tolist() == ["gone", "shrink", "new", "dozing", "grow", "back", "same"]
    assert top.loc[0, "change"] == -600 and top.loc[0, "change_share"] == -1.0
    assert top.loc[1, "change_share"] == pytest.approx(-0.6)


def test_the_bridge_finding_leads_with_the_money_that_changed():
    from workbench.report.segment_findings import segment_findings

    res = segment(bridge_case(), None, settings(tiers={"vip_min_share": 0.5}), MONTH)
    lead = segment_findings(res, "ru", "RUB")[0]
    # -370 / 1600 = -23.1 %: a fall of 5 % or more is a risk
    assert lead["lead"] and lead["severity"] == "risk" and lead["kind"] == "bridge_down"
    assert lead["headline"] == "Выручка за 12 мес. снизилась на 23,1\u00a0%: 1\u00a0600\u00a0₽ → 1\u00a0230\u00a0₽"
    assert lead["number"] == "\u2212370\u00a0₽"
    assert lead["at_stake"] == 1200  # lost 600 + shrunk 600
    assert lead["due"] == "2026-07-31" and lead["owner"] == "director"
    assert "крупнейший клиент, ООО gone: \u2212100,0\u00a0%" in lead["action"]


# ------------------------------------------------------------------------------ 6. sleeping worth waking
def test_sleeping_customers_are_ranked_by_what_can_realistically_come_back():
    # s_recent: 100 on the 1st of Jul 2025 .. Mar 2026 (9 months); median gap 31 days -> sleeps after
    #   max(45, 3 x 31) = 93 days; silent 121 days; chance (365 - 121) / (365 - 93) = 244 / 272;
    #   it used to bring 900 / 9 months = 100 a month -> 89.71 a month.
    # s_old: 300 on the 1st of Aug 2024 .. Aug 2025 (13 months), median gap 31 -> 93; silent 333 days;
    #   chance 32 / 272; 3900 / 13 = 300 a month -> 35.29; 32 days from the lost line -> flagged.
    rows = buys("s_recent", months("2025-07-01", 9, 1)) + buys("s_old", months("2024-08-01", 13, 1), 300)
    res = segment(ledger(rows), None, settings(), MONTH)
    c = by_id(res)
    assert c.loc[["s_recent", "s_old"], "lifecycle"].tolist() == ["sleeping", "sleeping"]
    assert c.loc["s_recent", "recency_days"] == 121 and c.loc["s_old", "recency_days"] == 333
    assert c.loc["s_recent", "sleeping_after_days"] == 93 and c.loc["s_old", "sleeping_after_days"] == 93
    assert c.loc["s_recent", "wake_chance"] == pytest.approx(244 / 272)
    assert c.loc["s_old", "wake_chance"] == pytest.approx(32 / 272)
    assert c.loc["s_recent", "wake_value"] == pytest.approx(100 * 244 / 272)
    assert c.loc["s_old", "wake_value"] == pytest.approx(300 * 32 / 272)
    assert c.loc["s_old", "days_to_lost"] == 32 and c.loc["s_old", "near_lost"]
    assert c.loc["s_recent", "days_to_lost"] == 244 and not c.loc["s_recent", "near_lost"]
    # ranked by what can come back, not by what they used to bring (s_old used to bring 3x more)
    assert res.lists["sleeping_to_wake"]["customer_id"].tolist() == ["s_recent", "s_old"]
    from workbench.report.segment_findings import segment_findings

    sl = next(f for f in segment_findings(res, "ru", "RUB") if f["kind"] == "sleeping")
    assert sl["headline"] == "Спящие клиенты: 2, из них 1 в шаге от ухода"
    assert sl["at_stake"] == pytest.approx(12 * (100 * 244 / 272 + 300 * 32 / 272))
    assert sl["due"] == "2026-08-01"  # 30.06 + 32 days: the day s_old counts as lost
    # reported after that day, they are due the day the report is produced, never in its past
    import datetime as dt

    def due_if_produced(day: str) -> str:
        return next(f for f in segment_findings(res, "ru", "RUB", dt.date.fromisoformat(day))
                    if f["kind"] == "sleeping")["due"]

    assert due_if_produced("2026-07-15") == "2026-08-01" and due_if_produced("2026-08-20") == "2026-08-20"
    # RFM keeps its own names, relative to the base: s_recent (R: 121 days, the fresher of two -> 5;
    # F: 9 orders -> 5) is an RFM "champion" while the lifecycle, against its own rhythm, says it sleeps
    assert c.loc["s_recent", "rfm_segment"] == "champions" and c.loc["s_old", "rfm_segment"] == "need_attention"


# ------------------------------------------------------------------------------ 3. gold / silver / bronze
def graded_case(margin_e: float = 40.0) -> pd.DataFrame:
    # revenue a 1000, b 500, c 300, d 200, e 100 (2100); profit a 100, b 250, c 150, d 60, e 40 (600)
    return ledger([{"id": "a", "day": "2026-03-10", "amount": 1000, "margin": 100, "manager": "M1"},
                   {"id": "b", "day": "2026-03-10", "amount": 500, "margin": 250, "manager": "M1"},
                   {"id": "c", "day": "2026-03-10", "amount": 300, "margin": 150, "manager": "M2"},
                   {"id": "d", "day": "2026-03-10", "amount": 200, "margin": 60, "manager": "M3"},
                   {"id": "e", "day": "2026-03-10", "amount": 100, "margin": margin_e, "manager": "M3"}])


def test_grades_rank_the_whole_base_by_profit_when_every_row_has_a_margin():
    # profit order b 250 (before 0), c 150 (.417), a 100 (.667), d 60 (.833), e 40 (.933):
    # gold while before < .5: b, c; silver while before < .8: a; bronze: d, e
    res = segment(graded_case(), None, settings(key_accounts={"kam_max": 1}), MONTH)
    c = by_id(res)
    assert res.totals["grade_basis"] == "profit" and res.totals["profit"] == 600
    assert c["ka_grade"].to_dict() == {"a": "silver", "b": "gold", "c": "gold", "d": "bronze", "e": "bronze"}
    assert c.index[c["key_account"]].tolist() == ["b", "c"]
    assert c.loc["b", "ka_value_share"] == pytest.approx(250 / 600)
    # KAM load, one key account per KAM: M1 has b, M2 has c -> 2 KAMs needed, 3 managers: no shortfall
    assert res.counts["kam.kams_needed"] == 2 and res.counts["kam.kam_shortfall"] == 0
    assert res.counts["kam.managers_over"] == 0


def test_grades_fall_back_to_revenue_when_the_margin_is_partial_and_say_why():
    # e has no margin: 4 of 5 rows -> revenue. Revenue order a 1000 (0), b 500 (.476), c 300 (.714),
    # d 200 (.857), e 100 (.952): gold a, b; silver c; bronze d, e.
    res = segment(graded_case(np.nan), None, settings(key_accounts={"kam_max": 1}), MONTH)
    c = by_id(res)
    assert res.totals["grade_basis"] == "revenue" and res.totals["margin_rows"] == 4
    assert c["ka_grade"].to_dict() == {"a": "gold", "b": "gold", "c": "silver", "d": "bronze", "e": "bronze"}
    # both gold customers are M1's: 2 KAMs needed, 3 managers, but M1 holds 1 over the norm of 1
    assert res.counts["kam.kam_shortfall"] == 0 and res.counts["kam.managers_over"] == 1
    assert res.counts["kam.over_limit"] == 1
    assert res.kam.to_dict("list") == {"manager": ["M1", "M2", "M3"], "key_accounts": [2, 0, 0], "over": [1, 0, 0]}
    from workbench.report.segment_report import render_segment_html

    html = render_segment_html(res, "ru", "RUB")
    assert "маржа заполнена не во всех строках окна (4 из 5)" in html
    # asked for revenue explicitly: revenue, and the report says it is the setting
    res2 = segment(graded_case(), None, settings(key_accounts={"grade_by": "revenue"}), MONTH)
    assert res2.totals["grade_basis"] == "revenue"
    assert "grade_by: revenue" in render_segment_html(res2, "ru", "RUB")


def test_kam_shortfall_is_stated():
    # gold up to 90 % of profit: b (0), c (.417), a (.667), d (.833) -> 4 key accounts, e (.933) silver.
    # One per KAM: 4 KAMs needed, 3 managers -> 1 short; M1 holds a and b -> 1 over.
    s = settings(key_accounts={"cum_share": 0.9, "silver_cum_share": 0.95, "kam_max": 1})
    res = segment(graded_case(), None, s, MONTH)
    assert res.counts["key_accounts"] == 4 and res.counts["kam.managers"] == 3
    assert res.counts["kam.kams_needed"] == 4 and res.counts["kam.kam_shortfall"] == 1
    assert res.counts["kam.over_limit"] == 1 and res.counts["kam.managers_over"] == 1
    from workbench.report.segment_findings import segment_findings

    kam = next(f for f in segment_findings(res, "ru", "RUB") if f["kind"] == "kam")
    assert kam["headline"] == "Ключевых клиентов — 4, менеджеров — 3: не хватает 1 KAM"
    assert kam["number"] == "4" and kam["owner"] == "director"


# ------------------------------------------------------------------------------ 7. concentration
def test_concentration_in_top_shares_judged_on_the_shown_number():
    # big 249, fifteen others 150 each (2499): top1 249/2499 = 9.96 % -> shown 10.0 % -> at the 10 % line;
    # top5 (249 + 4 x 150) / 2499 = 33.97 % < 40 %; top10 (249 + 9 x 150) / 2499 = 63.99 % >= 60 %.
    rows = buys("big", ["2026-03-10"], 249) + [r for i in range(15) for r in buys(f"o{i:02d}", ["2026-03-10"], 150)]
    k = segment(ledger(rows), None, settings(), MONTH).concentration
    assert k["top1_share"] == pytest.approx(249 / 2499) and k["top1_high"]
    assert k["top5_share"] == pytest.approx(849 / 2499) and not k["top5_high"]
    assert k["top10_share"] == pytest.approx(1599 / 2499) and k["top10_high"]
    assert k["hhi"] == pytest.approx((249 ** 2 + 15 * 150 ** 2) / 2499 ** 2 * 10_000)
    assert not k["mono_client"]
    # 248 of 2498 = 9.93 % -> shown 9.9 %: below the line
    rows[0]["amount"] = 248
    assert not segment(ledger(rows), None, settings(), MONTH).concentration["top1_high"]


def test_mono_client_is_judged_on_profit_when_the_base_is_graded_by_profit():
    # revenue a 1000 of 2100 (47.6 %) but profit a 400 of 700 (57.1 %) -> mono-client on profit
    rows = ledger([{"id": "a", "day": "2026-03-10", "amount": 1000, "margin": 400},
                   {"id": "b", "day": "2026-03-10", "amount": 1100, "margin": 300}])
    k = segment(rows, None, settings(), MONTH).concentration
    assert k["mono_client"] and k["mono_share"] == pytest.approx(400 / 700)
    assert k["top1_share"] == pytest.approx(1100 / 2100)  # the shares themselves are of revenue


# ------------------------------------------------------------------------------ 8. customer types
def test_state_customers_by_industry_name_or_inn():
    rows = [r for cid in ("ind", "gbuz", "mku", "admin", "inn", "plain") for r in buys(cid, ["2026-03-10"])]
    led = ledger(rows)
    led[C.CUSTOMER_NAME] = led[C.CUSTOMER_ID].map({
        "ind": "ООО «Альфа»", "gbuz": "ГБУЗ «Городская больница № 2»", "mku": "МКУ «Центр закупок»",
        "admin": "Администрация Заречного района", "inn": "ООО «Бета»", "plain": "ООО «Гранит»"}).astype("string")
    led[C.INN] = led[C.CUSTOMER_ID].map({"inn": "7701234567"}).fillna("").astype("string")
    cust = customers([{"customer_id": "ind", "industry": "Госзаказчик (44-ФЗ)"},
                      {"customer_id": "plain", "industry": "Оптовая торговля"}])
    s = settings(customer_types={"state_inns": ["7701234567"]})
    c = by_id(segment(led, cust, s, MONTH))
    assert c["state_source"].to_dict() == {"ind": "industry", "gbuz": "name", "mku": "name", "admin": "name",
                                           "inn": "inn", "plain": ""}
    assert c["state_customer"].sum() == 5


def test_pioneers_are_the_first_buyers_of_a_product_new_in_the_window_and_breadth_counts_products():
    # "old" sells since Jan 2025 (history of 90+ days before the window start 2025-07-01).
    # "novelty" first sold 2026-02-01 (p1); p2 buys it 73 days later (a pioneer), p3 93 days later (not);
    # "third" is first sold inside the window too, to p2: its first buyer.
    rows = (buys("p1", ["2025-01-10", "2026-01-10"], 100, product="old") + buys("p1", ["2026-02-01"], 100,
                                                                                product="novelty")
            + buys("p2", ["2026-03-10"], 100, product="old") + buys("p2", ["2026-04-15"], 100, product="novelty")
            + buys("p2", ["2026-04-20"], 100, product="third")
            + buys("p3", ["2026-05-05"], 100, product="novelty"))
    res = segment(ledger(rows), None, settings(), MONTH)
    c = by_id(res)
    assert c["pioneer_products"].to_dict() == {"p1": 1, "p2": 2, "p3": 0}
    assert res.totals["new_products"] == ["novelty", "third"]   # "third" first sold 2026-04-20
    assert c["products"].to_dict() == {"p1": 2, "p2": 3, "p3": 1}
    assert c["breadth"].to_dict() == {"p1": "2_3", "p2": "2_3", "p3": "1"}
    assert res.counts["pioneers"] == 2 and res.counts["breadth.2_3"] == 2 and res.counts["breadth.1"] == 1
    # a ledger that starts inside the window cannot tell new products from old ones: no pioneers
    short = [r for r in rows if r["day"] >= "2025-07-01"]
    assert segment(ledger(short), None, settings(), MONTH).counts["pioneers"] == 0


# ------------------------------------------------------------------------------ 5. one set of counts
def test_counts_are_the_ones_the_tables_hold():
    res = segment(bridge_case(), None, settings(tiers={"vip_min_share": 0.5}), MONTH)
    c, n = res.customers, res.counts
    assert n["customers"] == 8 and n["in_mix"] == 5 and n["not_in_mix"] == 3
    assert n["lifecycle.lost"] == 2 and n["lifecycle.sleeping"] == 1 and n["lifecycle.new"] == 1
    assert n["tier.ballast"] == 3 and n["mix.ballast"] == 0 and n["outside.ballast"] == 3
    assert n["bridge.shrunk"] == 2 and n["bridge.other"] == 1
    assert n["customers_file"] is None
    for tier in ("vip", "strategic", "typical", "ballast"):
        row = res.tier_mix.set_index("tier").loc[tier]
        assert n[f"mix.{tier}"] == row["customers"] == int(((c["tier"] == tier) & (c["orders"] > 0)).sum())
    assert sum(n[f"cell.{a}{x}"] for a in "ABC" for x in "XYZN") == n["customers"]
    # the customers file: ids without any sale are named, not silently dropped
    cust = customers([{"customer_id": "grow"}, {"customer_id": "ghost"}])
    n2 = segment(bridge_case(), cust, settings(), MONTH).counts
    assert n2["customers_file"] == 2 and n2["customers_file_no_sales"] == 1


# ------------------------------------------------------------------------------ the settings
def test_segmentation_settings_are_validated_naming_the_key():
    from workbench.config import validate
    from workbench.errors import ConfigError

    base = {"inputs": {"sales": {"file": "data/s.csv"}}}
    with pytest.raises(ConfigError) as err:
        validate({**base, "segmentation": {"xyz": {"method": "stock", "regular_x": 0.4},
                                           "key_accounts": {"grade_by": "margin", "cum_share": 0.9},
                                           "customer_types": {"state_name_pattern": "(ГБУ"}}}, "e/engagement.yaml")
    msg = str(err.value)
    assert 'segmentation.xyz.method: значение "stock" недопустимо; допустимые значения: regularity, cv' in msg
    assert 'segmentation.key_accounts.grade_by: значение "margin" недопустимо; допустимые значения: auto, profit, ' \
           'revenue' in msg
    # the cross-key rules run once the values themselves are valid
    with pytest.raises(ConfigError) as err:
        validate({**base, "segmentation": {"xyz": {"regular_x": 0.4}, "key_accounts": {"cum_share": 0.9},
                                           "customer_types": {"state_name_pattern": "(ГБУ"}}}, "e/engagement.yaml")
    msg = str(err.value)
    assert "segmentation.xyz: regular_x = 0.4 меньше regular_y = 0.5" in msg
    assert "segmentation.key_accounts: cum_share = 0.9 больше silver_cum_share = 0.8" in msg
    assert 'segmentation.customer_types.state_name_pattern: "(ГБУ" — не регулярное выражение' in msg
    # an engagement.yaml written before the grades covered the whole base still loads
    old = validate({**base, "segmentation": {"key_accounts": {"gold_share": 0.1, "silver_share": 0.05}}}, "e")
    assert "gold_share" not in old["segmentation"]["key_accounts"]
