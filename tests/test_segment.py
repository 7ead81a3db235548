"""Segmentation on small hand-made ledgers; every expected value is worked out by hand.

Reporting month 2026-06 unless said otherwise: the month end is 2026-06-30 and the default
window (12 months) runs 2025-07-01 .. 2026-06-30.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.config import defaults
from workbench.segment import SegmentationResult, abc_classes, segment, segments_csv_frame

MONTH = "2026-06"


def settings(**changes: dict) -> dict:
    s = copy.deepcopy(defaults()["segmentation"])
    for key, value in changes.items():
        s[key].update(value) if isinstance(value, dict) else s.__setitem__(key, value)
    return s


def make_ledger(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer_id, 'YYYY-MM-DD', amount[, document[, manager]])."""
    recs = []
    for i, r in enumerate(rows):
        cid, day, amount = r[0], r[1], float(r[2])
        doc = r[3] if len(r) > 3 else ""
        manager = r[4] if len(r) > 4 else ""
        recs.append({C.CUSTOMER_ID: cid, C.CUSTOMER_NAME: f"ООО {cid}", C.INN: "", C.DATE: pd.Timestamp(day),
                     C.AMOUNT: amount, C.QUANTITY: 1.0, C.PRODUCT: "p", C.MANAGER: manager,
                     C.MARGIN: np.nan, C.DOCUMENT: doc, C.IS_RETURN: amount < 0,
                     C.SOURCE_FILE: "sales.csv", C.SOURCE_ROW: f"line {i + 2}"})
    df = pd.DataFrame(recs, columns=list(C.LEDGER_COLUMNS))
    return df.astype({C.CUSTOMER_ID: "string", C.CUSTOMER_NAME: "string", C.INN: "string",
                      C.MANAGER: "string", C.DOCUMENT: "string"})


def make_customers(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in C.CUSTOMERS_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan if col in (C.HEADCOUNT, C.POTENTIAL) else ""
    return df[list(C.CUSTOMERS_COLUMNS)].astype({C.HEADCOUNT: float, C.POTENTIAL: float})


def monthly(cid: str, amounts: list[float], first: str = "2025-07-15") -> list[tuple]:
    start = pd.Timestamp(first)
    return [(cid, (start + pd.DateOffset(months=i)).strftime("%Y-%m-%d"), a)
            for i, a in enumerate(amounts) if a]


def by_id(res: SegmentationResult) -> pd.DataFrame:
    return res.customers.set_index("customer_id")


# ------------------------------------------------------------------------------ ABC
def test_abc_crossing_customer_stays_above_and_ties_break_by_id():
    # revenue: a 50, b 30, c 10, e 5, d 5 (total 100). Order: a, b, c, d, e (d before e: tie by id).
    # cum share before: a 0 -> A; b 0.50 -> A (crosses 80 % -> stays A); c 0.80 -> not < 0.80 -> B;
    # d 0.90 -> B; e 0.95 -> not < 0.95 -> C.
    led = make_ledger([("a", "2026-06-01", 50), ("b", "2026-06-01", 30), ("c", "2026-06-01", 10),
                       ("e", "2026-06-01", 5), ("d", "2026-06-01", 5)])
    res = segment(led, None, settings(), MONTH)
    assert res.customers["customer_id"].tolist() == ["a", "b", "c", "d", "e"]
    assert res.customers["abc"].tolist() == ["A", "A", "B", "B", "C"]
    assert res.customers["cum_share"].round(6).tolist() == [0.5, 0.8, 0.9, 0.95, 1.0]
    # the pure helper gives the same on unsorted input
    out = abc_classes(pd.Series([5.0, 50.0, 5.0]), pd.Series(["e", "a", "d"]), 0.80, 0.15)
    # a 50/60 before 0 -> A; d 5/60 before .833 -> B; e before .9167 -> B
    assert out["abc"].tolist() == ["B", "A", "B"]


def test_one_customer_is_a_and_a_mono_client():
    led = make_ledger([("solo", "2026-05-10", 1000), ("solo", "2026-06-10", 500)])
    res = segment(led, None, settings(), MONTH)
    row = by_id(res).loc["solo"]
    assert row["abc"] == "A" and row["revenue"] == 1500 and row["revenue_share"] == 1.0
    assert res.concentration == {"top1_share": 1.0, "top5_share": 1.0, "top10_share": 1.0, "hhi": 10000.0,
                                 "top1_high": True, "top5_high": True, "top10_high": True, "mono_client": True,
                                 "mono_share": 1.0, "top1_customer_id": "solo", "positive_customers": 1}
    # one customer = 100 % of the base: as A with share 1 >= 3 % and new -> VIP
    assert row["tier"] == "vip"
    assert res.tier_mix.set_index("tier").loc["vip", "status"] == "above"


def test_all_customers_equal():
    # 5 customers x 20: cum before 0, .2, .4, .6 -> A; .8 (a float sum of 0.2s) -> B.
    led = make_ledger([(c, "2026-06-10", 20) for c in "abcde"])
    res = segment(led, None, settings(), MONTH)
    assert res.customers["abc"].tolist() == ["A", "A", "A", "A", "B"]
    # RFM: all tied, average rank (5 + 1) / 2 = 3 -> score ceil(5 * 3 / 5) = 3 -> R3 F3: need_attention
    assert set(res.customers["rfm_r"]) == {3} and set(res.customers["rfm_f"]) == {3}
    assert set(res.customers["rfm_m"]) == {3}
    assert set(res.customers["rfm_segment"]) == {"need_attention"}
    # HHI = 5 x 20^2 = 2000; top 5 = 100 %
    assert res.concentration["hhi"] == pytest.approx(2000.0)
    assert res.concentration["top5_share"] == pytest.approx(1.0)
    assert not res.concentration["mono_client"]


# ------------------------------------------------------------------------------ XYZ
def test_xyz_by_coefficient_of_variation():
    # the stock-planning rule, kept as an option
    s = settings(window_months=6, xyz={"method": "cv"})  # window 2026-01-01 .. 2026-06-30, min_periods 6
    rows = (monthly("x_flat", [100] * 6, "2026-01-15")          # cv 0 -> X
            + monthly("x_edge", [90, 110] * 3, "2026-01-15")    # mean 100, std 10 -> cv 0.10 -> X (<=)
            + monthly("y", [80, 120] * 3, "2026-01-15")         # std 20 -> cv 0.20 -> Y
            + monthly("z", [100, 0] * 3, "2026-01-15")          # mean 50, std 50 -> cv 1.0 -> Z
            + monthly("n", [100] * 3, "2026-04-15"))            # first purchase April: 3 periods < 6 -> N
    res = segment(make_ledger(rows), None, s, MONTH)
    c = by_id(res)
    assert c.loc[["x_flat", "x_edge", "y", "z", "n"], "xyz"].tolist() == ["X", "X", "Y", "Z", "N"]
    assert c.loc["x_edge", "xyz_cv"] == pytest.approx(0.10)
    assert c.loc["y", "xyz_cv"] == pytest.approx(0.20)
    assert c.loc["z", "xyz_cv"] == pytest.approx(1.0)
    assert np.isnan(c.loc["n", "xyz_cv"]) and c.loc["n", "xyz_periods"] == 3
    # history before the window counts for the first purchase: periods are the window's 6
    assert c.loc["z", "xyz_periods"] == 6


def test_one_month_of_history_is_n_never_a_silent_x():
    led = make_ledger([("a", "2026-06-01", 100), ("a", "2026-06-20", 100), ("b", "2026-06-05", 50)])
    res = segment(led, None, settings(), MONTH)
    assert set(res.customers["xyz"]) == {"N"}
    # a 200 (cum before 0 -> A), b 50 (before 0.8 -> B)
    assert res.customers["abc_xyz"].tolist() == ["AN", "BN"]
    assert set(res.customers["lifecycle"]) == {"new"}
    # a one-month window: not enough periods for anyone (a CV needs two)
    res1 = segment(led, None, settings(window_months=1), MONTH)
    assert set(res1.customers["xyz"]) == {"N"}
    assert res1.thresholds["xyz.min_periods_used"] == 2


def test_quarters_are_counted_back_from_the_reporting_month():
    # window 12 months = 4 rolling quarters (Apr-Jun 26, Jan-Mar 26, Oct-Dec 25, Jul-Sep 25);
    # min_periods 6 is capped at the 4 the window holds. 100 per quarter -> cv 0 -> X.
    rows = [("q", d, 100) for d in ("2025-08-01", "2025-11-01", "2026-02-01", "2026-05-01")]
    res = segment(make_ledger(rows), None, settings(xyz={"period": "quarter"}), MONTH)
    assert by_id(res).loc["q", "xyz"] == "X"
    assert res.thresholds["xyz.min_periods_used"] == 4


# ------------------------------------------------------------------------------ returns and history
def test_return_to_zero_and_below():
    # zero: buys 100 and returns 100 in the window -> revenue 0 -> C, ballast "no revenue".
    # below: bought 150 before the window, returns 150 in it -> revenue -150 -> C.
    # keep: 300. Shares over positive revenue (300): zero 0, below -0.5 (shown as computed).
    led = make_ledger([("keep", "2026-03-01", 300), ("zero", "2026-02-01", 100), ("zero", "2026-02-15", -100),
                       ("below", "2025-01-10", 150), ("below", "2026-03-10", -150)])
    res = segment(led, None, settings(), MONTH)
    c = by_id(res)
    assert c.loc["zero", "revenue"] == 0 and c.loc["zero", "abc"] == "C"
    assert c.loc["below", "revenue"] == -150 and c.loc["below", "abc"] == "C"
    assert c.loc["below", "revenue_share"] == pytest.approx(-0.5)
    assert c.loc["keep", "revenue_share"] == 1.0 and c.loc["keep", "abc"] == "A"
    assert c.loc["zero", "tier"] == "ballast" and c.loc["below", "tier"] == "ballast"
    assert "нет выручки" in c.loc["zero", "tier_reason"]
    # the return is not an order: zero has 1 order, below none in the window
    assert c.loc["zero", "orders"] == 1 and c.loc["below", "orders"] == 0
    # sorted by revenue desc: keep, zero, below
    assert res.customers["customer_id"].tolist() == ["keep", "zero", "below"]
    assert res.concentration["positive_customers"] == 1


def test_purchases_only_before_the_window():
    s = settings(window_months=6)  # window 2026-01-01 .. 2026-06-30
    # once: one order 2025-03-10; silent 2025-03-10 -> 2026-06-30 = 365 + 92 + 20 = 477 days -> lost.
    # rhythm: monthly 2025-07-15 .. 2025-12-15 (6 orders, gaps 31, 31, 30, 31, 30 -> median 31);
    #   silent 2025-12-15 -> 2026-06-30 = 182 + 15 = 197 days > max(45, 3 x 31 = 93) -> sleeping.
    # now: keeps the window non-empty.
    rows = [("once", "2025-03-10", 500), ("now", "2026-06-01", 100)] + monthly("rhythm", [80] * 6)
    res = segment(make_ledger(rows), None, s, MONTH)
    c = by_id(res)
    assert c.loc["once", "recency_days"] == 477 and c.loc["once", "lifecycle"] == "lost"
    assert c.loc["rhythm", "recency_days"] == 197 and c.loc["rhythm", "median_gap_days"] == 31
    assert c.loc["rhythm", "lifecycle"] == "sleeping"
    for cid in ("once", "rhythm"):
        assert c.loc[cid, "revenue"] == 0 and c.loc[cid, "abc"] == "C" and c.loc[cid, "tier"] == "ballast"
        assert (c.loc[cid, "rfm_r"], c.loc[cid, "rfm_f"], c.loc[cid, "rfm_m"]) == (1, 1, 1)
        assert c.loc[cid, "rfm_segment"] == "lost"
    assert c.loc["rhythm", "xyz"] == "Z"  # six empty periods: mean 0 -> Z
    # the sleeping list ranks by what it used to bring: 480 over Jul..Dec = 6 months -> 80 a month
    wake = res.lists["sleeping_to_wake"]
    assert wake["customer_id"].tolist() == ["rhythm"]
    assert wake["revenue_per_month_before"].iloc[0] == pytest.approx(80.0)
    # revenue_prev is the window before (2025-07 .. 2025-12): rhythm 480, once 0
    assert c.loc["rhythm", "revenue_prev"] == 480 and c.loc["once", "revenue_prev"] == 0


def test_transactions_after_the_month_are_ignored_and_unknown_customers_absent():
    led = make_ledger([("a", "2026-06-30", 100), ("a", "2026-07-01", 999), ("later", "2026-07-02", 50)])
    res = segment(led, None, settings(), MONTH)
    assert res.customers["customer_id"].tolist() == ["a"]
    assert res.customers["revenue"].tolist() == [100.0]
    assert res.window == ("2025-07-01", "2026-06-30")


def test_sleeping_is_judged_by_the_customers_own_rhythm():
    # Both last bought 2026-05-01: silent 60 days at 2026-06-30.
    # weekly: every 7 days from 2026-03-06 -> median gap 7 -> limit max(45, 21) = 45 < 60 -> sleeping.
    # monthly: 1st of Jan..May -> gaps 31, 28, 31, 30 -> median 30.5 -> limit max(45, 91.5) = 91.5 > 60
    #   -> not sleeping; first purchase in January (5 months back >= new_months 3) -> active.
    weekly = [("weekly", (pd.Timestamp("2026-03-06") + pd.Timedelta(days=7 * i)).strftime("%Y-%m-%d"), 10)
              for i in range(9)]
    assert weekly[-1][1] == "2026-05-01"
    monthly_rows = [("monthly", f"2026-0{m}-01", 10) for m in range(1, 6)]
    res = segment(make_ledger(weekly + monthly_rows), None, settings(), MONTH)
    c = by_id(res)
    assert c.loc["weekly", "recency_days"] == c.loc["monthly", "recency_days"] == 60
    assert c.loc["weekly", "sleeping_after_days"] == 45 and c.loc["monthly", "sleeping_after_days"] == 91.5
    assert c.loc["weekly", "lifecycle"] == "sleeping"
    assert c.loc["monthly", "lifecycle"] == "active"


def test_orders_by_document_else_by_day():
    # doc rows: D1 twice (one order), D2; no-doc rows: 2026-06-03 twice (one order), 2026-06-04.
    led = make_ledger([("a", "2026-06-01", 10, "D1"), ("a", "2026-06-02", 10, "D1"), ("a", "2026-06-02", 10, "D2"),
                       ("a", "2026-06-03", 10), ("a", "2026-06-03", 10), ("a", "2026-06-04", 10),
                       ("b", "2026-06-03", 10, "D1")])  # the same number at another customer is another order
    res = segment(led, None, settings(), MONTH)
    c = by_id(res)
    assert c.loc["a", "orders"] == 4 and c.loc["b", "orders"] == 1
    assert c.loc["a", "avg_check"] == pytest.approx(60 / 4)


# ------------------------------------------------------------------------------ RFM
def test_rfm_scores_by_rank_with_ties_sharing_a_score():
    # recency (days to 2026-06-30): r1 0, r2 10, r3 20, r4 30, r5 40 -> R 5, 4, 3, 2, 1.
    # orders: r1 3, r2 3, others 1 -> ranks: the three 1s average 2 -> ceil(5*2/5) = 2;
    #   the two 3s average 4.5 -> ceil(4.5) = 5.
    rows = [("r1", "2026-06-30", 10, "1"), ("r1", "2026-06-29", 10, "2"), ("r1", "2026-06-28", 10, "3"),
            ("r2", "2026-06-20", 10, "4"), ("r2", "2026-06-19", 10, "5"), ("r2", "2026-06-18", 10, "6"),
            ("r3", "2026-06-10", 5), ("r4", "2026-05-31", 20), ("r5", "2026-05-21", 40)]
    res = segment(make_ledger(rows), None, settings(), MONTH)
    c = by_id(res)
    assert c.loc[["r1", "r2", "r3", "r4", "r5"], "rfm_r"].tolist() == [5, 4, 3, 2, 1]
    assert c.loc[["r1", "r2", "r3", "r4", "r5"], "rfm_f"].tolist() == [5, 5, 2, 2, 2]
    # M: r3 5 < r1 = r2 = r4 = 30? r1 30, r2 30, r4 20, r5 40 -> ranks r3 1, r4 2, r1/r2 3.5, r5 5
    #   -> ceil(1) 1, ceil(2) 2, ceil(3.5) 4, ceil(5) 5
    assert c.loc[["r1", "r2", "r3", "r4", "r5"], "rfm_m"].tolist() == [4, 4, 1, 2, 5]
    # segments from R x F: 55 champions, 45 loyal, 32 about_to_sleep, 22 hibernating, 12 hibernating
    assert c.loc[["r1", "r2", "r3", "r4", "r5"], "rfm_segment"].tolist() == [
        "champions", "loyal", "about_to_sleep", "hibernating", "hibernating"]


# ------------------------------------------------------------------------------ tiers, key accounts, maps
def tier_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    # revenue in the window (total 1000): big 600, mid 200, grow 100, one 40, flat 30, hc 20, potlow 10.
    # cum share before: big 0 A, mid .6 A, grow .8 B, one .9 B, flat .94 B, hc .97 C, potlow .99 C.
    rows = (monthly("big", [50] * 12)                                    # X: cv 0 -> AX
            + monthly("mid", [50, 0, 0] * 4)                             # Z -> AZ
            + [("grow", "2026-02-10", 50), ("grow", "2026-05-10", 50),   # first Feb: 5 periods -> N
               ("one", "2026-02-10", 40),                                # one order, not new (Feb)
               ("flat", "2025-08-10", 15), ("flat", "2025-09-10", 15),
               ("hc", "2026-03-05", 10), ("hc", "2026-06-05", 10),
               ("potlow", "2026-03-05", 5), ("potlow", "2026-06-05", 5)])
    customers = make_customers([
        {"customer_id": "grow", "potential": 1000.0},                    # 1000 >= 2 x 100 -> prospects
        {"customer_id": "hc", "headcount": 250.0},                       # no potential: 250 > 100 -> prospects
        {"customer_id": "potlow", "headcount": 500.0, "potential": 15.0},  # 15 < 2 x 10: potential decides
    ])
    return make_ledger(rows), customers


# The case was worked out with the stable cells AX, AY, BX, BY as prospect signals (the
# engagement.yaml default is BX, BY since the demo; a consultant may widen it like this).
TIER_SETTINGS = {"tiers": {"prospect_cells": ["AX", "AY", "BX", "BY"], "prospect_trend": 0.10}}


def test_tiers_and_reasons():
    led, cust = tier_case()
    res = segment(led, cust, settings(**TIER_SETTINGS), MONTH)
    c = by_id(res)
    assert c["abc"].to_dict() == {"big": "A", "mid": "A", "grow": "B", "one": "B", "flat": "B",
                                  "hc": "C", "potlow": "C"}
    assert c["tier"].to_dict() == {"big": "vip", "mid": "vip", "grow": "strategic", "one": "ballast",
                                   "flat": "typical", "hc": "strategic", "potlow": "typical"}
    assert c.loc["big", "tier_reason"] == "A, 60,0\u00a0% выручки, покупает регулярно"
    assert c.loc["mid", "tier_reason"] == "A, 20,0\u00a0% выручки, покупает нерегулярно"
    assert c.loc["grow", "tier_reason"] == ("B, 10,0\u00a0% выручки, истории покупок пока мало; перспективы: "
                                           "потенциал по оценке менеджера в 10,0 раза больше выручки")
    assert c.loc["hc", "tier_reason"].endswith("перспективы: больше 100 сотрудников")
    assert c.loc["one", "tier_reason"].startswith("разовый покупатель (заказов за период: 1)")
    assert c.loc["potlow", "prospect_source"] == "potential" and not c.loc["potlow", "prospects"]
    en = segment(led, cust, settings(**TIER_SETTINGS), MONTH, lang="en")
    assert by_id(en).loc["big", "tier_reason"] == "A, 60.0% of revenue, buys regularly"
    # healthy mix by count: vip 2/7, strategic 2/7, typical 2/7, ballast 1/7
    mix = res.tier_mix.set_index("tier")
    assert mix["customers"].tolist() == [2, 2, 2, 1]
    assert mix.loc["vip", "status"] == "above" and mix.loc["strategic", "status"] == "above"
    assert mix.loc["typical", "status"] == "below" and mix.loc["ballast", "status"] == "ok"
    assert "зависит" in mix.loc["vip", "explanation"]
    # concentration: top1 .6, top5 .6+.2+.1+.04+.03 = .97, HHI 3600+400+100+16+9+4+1 = 4130
    assert res.concentration["top1_share"] == pytest.approx(0.6)
    assert res.concentration["top5_share"] == pytest.approx(0.97)
    assert res.concentration["hhi"] == pytest.approx(4130.0)
    assert res.concentration["mono_client"] and res.concentration["top1_customer_id"] == "big"
    # grades over the whole base by revenue (no margin): gold while the share before < .5: big (0);
    # silver while before < .8: mid (.6); bronze: grow (.8) and the rest. Key accounts = gold.
    assert c.index[c["key_account"]].tolist() == ["big"]
    assert c["ka_grade"].to_dict() == {"big": "gold", "mid": "silver", "grow": "bronze", "one": "bronze",
                                       "flat": "bronze", "hc": "bronze", "potlow": "bronze"}
    # individual map: top ceil(.1 x 7) = 1 customer: big, with prospects (cell AX) -> individual
    assert c.loc["big", "map"] == "individual" and (c.drop("big")["map"] == "group").all()
    # ABC-XYZ matrix: AX 1 (600), AZ 1 (200), BN 2 (grow, one), BZ 1 (flat), CN 2 (hc, potlow)
    m = res.abc_xyz.set_index(["abc", "xyz"])
    assert len(m) == 12 and m["customers"].sum() == 7
    assert m.loc[("A", "X"), "customers"] == 1 and m.loc[("A", "X"), "revenue_share"] == pytest.approx(0.6)
    assert m.loc[("B", "N"), "customers"] == 2 and m.loc[("C", "N"), "revenue"] == 30
    assert m.loc[("B", "Z"), "customers"] == 1 and m.loc[("C", "X"), "customers"] == 0
    assert res.lists["strategic_to_grow"]["customer_id"].tolist() == ["grow", "hc"]  # headroom 900, unknown


def test_individual_maps_limited_per_manager():
    # k1..k4 (manager M) and k5 (manager N), 100 each; every one a key account in the top (settings).
    # headroom = potential - 100: k1 900, k2 400, k3 200, k4 800, k5 150.
    # M has 4 deserving, limit 3: k1, k4, k2 individual; k3 a candidate. N: k5 individual.
    rows = [(f"k{i}", "2026-06-10", 100, f"d{i}", "M" if i < 5 else "N") for i in range(1, 6)]
    cust = make_customers([{"customer_id": f"k{i}", "potential": p, "manager": "M" if i < 5 else "N"}
                           for i, p in zip(range(1, 6), (1000.0, 500.0, 300.0, 900.0, 250.0))])
    s = settings(key_accounts={"cum_share": 1.0, "individual_top": 1.0})
    res = segment(make_ledger(rows), cust, s, MONTH)
    c = by_id(res)
    assert c["key_account"].all()
    assert c["map"].to_dict() == {"k1": "individual", "k2": "individual", "k3": "group", "k4": "individual",
                                  "k5": "individual"}
    assert c.index[c["map_candidate"]].tolist() == ["k3"]


# ------------------------------------------------------------------------------ contracts
def test_inputs_are_not_modified():
    led, cust = tier_case()
    s = settings()
    led0, cust0, s0 = led.copy(deep=True), cust.copy(deep=True), copy.deepcopy(s)
    segment(led, cust, s, MONTH)
    pd.testing.assert_frame_equal(led, led0)
    pd.testing.assert_frame_equal(cust, cust0)
    assert s == s0


def test_segments_csv_frame_documented_columns_first():
    led, cust = tier_case()
    res = segment(led, cust, settings(), MONTH, lang="en")
    out = segments_csv_frame(res, "en")
    assert list(out.columns[:15]) == list(C.SEGMENTS_COLUMNS)
    assert set(out["tier"]) <= {"vip", "strategic", "typical", "ballast"}
    assert set(out["lifecycle"]) <= {"new", "active", "sleeping", "lost"}
    assert out["key_account"].dtype == bool


def test_empty_ledger_and_bad_month():
    from workbench.errors import WorkbenchError

    res = segment(make_ledger([("a", "2027-01-01", 10)]), None, settings(), MONTH)
    assert len(res.customers) == 0 and res.concentration["top1_share"] == 0.0
    assert res.abc_xyz["customers"].sum() == 0
    with pytest.raises(WorkbenchError, match="ГГГГ-ММ"):
        segment(make_ledger([("a", "2026-01-01", 10)]), None, settings(), "2026-13")


# ------------------------------------------------------------------------------ report
def hostile_result(lang: str = "ru") -> SegmentationResult:
    led, cust = tier_case()
    led[C.CUSTOMER_NAME] = led[C.CUSTOMER_NAME].mask(led[C.CUSTOMER_ID] == "big", "<script>alert(1)</script>")
    led[C.CUSTOMER_NAME] = led[C.CUSTOMER_NAME].mask(led[C.CUSTOMER_ID] == "mid", '=HYPERLINK("http://x","y")')
    return segment(led, cust, settings(), MONTH, lang=lang)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_html_escapes_hostile_names_and_has_the_anchors(lang):
    from workbench.report.segment_report import render_segment_html

    html = render_segment_html(hostile_result(lang), lang, "RUB")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for anchor in ("segmentation", "pareto", "abc-xyz", "tiers", "rfm", "concentration", "action-lists"):
        assert f'id="{anchor}"' in html
    assert ("1\u00a0000\u00a0₽" in html) if lang == "ru" else ("RUB\u00a01,000" in html or "₽" not in html)


def test_workbook_writes_formula_like_names_as_text():
    from workbench.report.segment_report import add_segment_sheets
    from workbench.report.xlsx import Book

    book = Book("ru")
    add_segment_sheets(book, hostile_result("ru"), "ru")
    wb = book.workbook()
    ws = wb.worksheets[1]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=HYPER")]
    assert cells and all(c.data_type == "s" for c in cells)
    # contents + customers + revenue bridge + tiers + ABC-XYZ + key accounts per manager, then the action
    # lists the report cuts, in full (an empty list makes no sheet)
    titles = [w.title for w in wb.worksheets]
    assert titles[:6] == ["Содержание", "Клиенты и сегменты", "Мост выручки", "Уровни и норма", "ABC-XYZ",
                          "Ключевые и KAM"]
    assert set(titles[6:]) <= {"Ключевые клиенты", "Спящие — разбудить", "Стратегические — вырастить"}
    money = [c for c in ws[4] if c.number_format == '#,##0\\ "₽"']
    assert money  # revenue written as a number with the money format


def test_findings_flag_mono_client_right_after_the_bridge():
    from workbench.report.segment_report import segment_findings

    found = segment_findings(hostile_result("ru"), "ru", "RUB")
    # the revenue bridge leads (no sales in the previous window here), the mono-client follows
    assert found[0]["kind"] == "bridge_first" and found[0]["lead"] is True and found[0]["owner"] == "director"
    assert found[1]["severity"] == "risk" and found[1]["number"] == "60,0\u00a0%"
    base = {"severity", "headline", "number", "action", "weight", "audience", "kind"}
    assert all(base <= set(f) <= base | {"owner", "at_stake", "due", "lead"} for f in found)
    assert all(f["audience"] in ("management", "consultant") for f in found)
    assert [f["weight"] for f in found] == sorted((f["weight"] for f in found), reverse=True)


def test_latest_non_empty_manager_and_name_from_the_ledger():
    # the latest row has no manager: the one before gives it; the name is the latest one.
    led = make_ledger([("a", "2026-05-01", 10, "", "Иванов"), ("a", "2026-06-01", 10, "", "")])
    led[C.CUSTOMER_NAME] = ["ООО Старое", "ООО Новое"]
    res = segment(led, None, settings(), MONTH)
    row = by_id(res).loc["a"]
    assert row["manager"] == "Иванов" and row["customer_name"] == "ООО Новое"
    # the customers file's manager (the one responsible) wins over the ledger's
    cust = make_customers([{"customer_id": "a", "manager": "Петров"}])
    assert by_id(segment(led, cust, settings(), MONTH)).loc["a", "manager"] == "Петров"
