"""Tests of workbench.kpis, workbench.maps, workbench.io.yamlfiles and workbench.report.maps_report."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.errors import ConfigError
from workbench.i18n import catalogue
from workbench.io.yamlfiles import map_overrides_path, read_map_overrides
from workbench.kpis import KPIS, compute_kpi, is_computed
from workbench.maps import (
    MapsResult,
    apply_overrides,
    baseline_window,
    draft_maps,
    load_map_templates,
    plan_months,
    validate_map_overrides,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates" / "maps"
SHIPPED = ("vip", "strategic", "typical", "ballast_reactivation", "sleeping_reactivation", "key_account",
           "fmcg_example")


# =====================================================================================
# fixtures
# =====================================================================================

@pytest.fixture(scope="module")
def templates() -> dict:
    return load_map_templates(TEMPLATES)


def small_ledger() -> pd.DataFrame:
    """Three customers; hand-computed values are in the tests' comments."""
    rows = [
        # customer, date, amount, document, margin
        ("A", "2026-01-10", 100.0, "D1", 10.0),
        ("A", "2026-01-10", 50.0, "D1", 5.0),     # same order D1 -> A's order 1 = 150
        ("A", "2026-02-05", 200.0, "", 20.0),     # no document: order (A, 2026-02-05)
        ("A", "2026-02-05", 100.0, None, 10.0),   # same (A, 2026-02-05) order -> 300
        ("A", "2026-03-01", -50.0, "R1", -5.0),   # a return: reduces revenue, not an order
        ("B", "2026-02-20", 400.0, "D3", 40.0),
        ("B", "2026-07-01", 600.0, "D4", 60.0),
        ("C", "2025-06-15", 1000.0, "D5", 100.0),  # before the 2026 windows
    ]
    df = pd.DataFrame(rows, columns=[C.CUSTOMER_ID, C.DATE, C.AMOUNT, C.DOCUMENT, C.MARGIN])
    df[C.DATE] = pd.to_datetime(df[C.DATE])
    df[C.DOCUMENT] = df[C.DOCUMENT].astype("string")
    df[C.CUSTOMER_NAME] = df[C.CUSTOMER_ID].map({"A": "ООО А", "B": "ООО Б", "C": "ООО В"})
    return df


def small_segments() -> pd.DataFrame:
    return pd.DataFrame({
        C.CUSTOMER_ID: ["A", "B", "C"], C.CUSTOMER_NAME: ["ООО А", "ООО Б", "ООО В"],
        C.TIER: ["typical", "typical", "typical"], C.LIFECYCLE: ["active", "active", "active"],
        C.MAP: ["group", "group", "group"], C.MAP_CANDIDATE: [False, False, False],
        C.MANAGER: ["Иванов", "Иванов", "Петров"], C.REVENUE: [400.0, 1000.0, 0.0],
    })


def synthetic(n: int = 50, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """~50 customers across tiers and lifecycles, two years of sales up to 2026-12."""
    rng = np.random.default_rng(seed)
    tiers = (["vip"] * 3 + ["strategic"] * 8 + ["typical"] * 27 + ["ballast"] * 12)[:n]
    life = ["active"] * n
    for i in (5, 15, 20, 45):
        life[i] = "sleeping"
    for i in (30, 48):
        life[i] = "lost"
    ids = [f"77{i:08d}" for i in range(n)]
    seg = pd.DataFrame({
        C.CUSTOMER_ID: ids, C.CUSTOMER_NAME: [f"ООО Клиент {i}" for i in range(n)],
        C.REVENUE: 0.0, C.REVENUE_SHARE: 0.0, C.ABC: "B", C.XYZ: "Y", C.ABC_XYZ: "BY", C.RFM_SEGMENT: "loyal",
        C.LIFECYCLE: life, C.TIER: tiers, C.KEY_ACCOUNT: [i < 6 for i in range(n)],
        C.KA_GRADE: ["gold" if i < 2 else "silver" if i < 4 else "bronze" if i < 6 else "" for i in range(n)],
        C.MAP: ["individual" if i in (0, 3) else "group" for i in range(n)],
        C.MAP_CANDIDATE: [i in (4, 6) for i in range(n)],
        C.MANAGER: [f"Менеджер {i % 4}" for i in range(n)], C.ORDERS: 0, "avg_check": 0.0, C.POTENTIAL: [float("nan")] * n, C.HEADCOUNT: 50.0,
    })
    rows = []
    for i in range(n):
        k = 40 if i < 3 else 12 if i < 11 else 6 if i < 38 else 1
        for j in range(k):
            day = pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(rng.integers(0, 700)))
            rows.append((ids[i], f"ООО Клиент {i}", day, float(rng.integers(1, 100)) * 1000.0,
                         f"D{i}-{j}" if j % 3 else ""))
    led = pd.DataFrame(rows, columns=[C.CUSTOMER_ID, C.CUSTOMER_NAME, C.DATE, C.AMOUNT, C.DOCUMENT])
    led[C.MARGIN] = led[C.AMOUNT] * 0.2
    rev = led.groupby(C.CUSTOMER_ID)[C.AMOUNT].sum()
    seg[C.REVENUE] = seg[C.CUSTOMER_ID].map(rev).fillna(0.0)
    seg[C.REVENUE_SHARE] = seg[C.REVENUE] / seg[C.REVENUE].sum()
    # the rhythm facts segmentation gives: orders, median gap between purchase days, last purchase
    days = led.groupby(C.CUSTOMER_ID)[C.DATE]
    seg[C.ORDERS] = seg[C.CUSTOMER_ID].map(days.nunique()).fillna(0).astype(int)
    seg["median_gap_days"] = seg[C.CUSTOMER_ID].map(
        days.apply(lambda d: float(np.median(np.diff(np.sort(d.unique())).astype("timedelta64[D]").astype(int)))
                   if d.nunique() > 1 else np.nan))
    seg[C.LAST_PURCHASE] = seg[C.CUSTOMER_ID].map(days.max())
    return seg, led


CAL = {"seasonal": [{"month": 5, "kind": "holidays"}, {"month": 10, "kind": "budget"},
                    {"month": 12, "kind": "peak"}],
       "events": [{"month": "2027-03", "kind": "release", "name": "Продукт X"},
                  {"month": "2027-09", "kind": "conference", "name": "Форум"}]}


@pytest.fixture(scope="module")
def drafted(templates: dict) -> MapsResult:
    seg, led = synthetic()
    return draft_maps(seg, led, {"calendar": CAL}, "2026-12", templates)


def write_template(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


HAND_TEMPLATE = """
name: {ru: "Ручная", en: "Hand"}
kind: group
members: {tier: [typical]}
owner: farmer
checkpoints:
  - id: revenue
    track: sales
    owner: farmer
    text: {ru: "Выручка", en: "Revenue"}
    when: {every: 3}
    kpi: revenue
    target: {rule: growth, value: 0.10}
  - id: check
    track: sales
    owner: farmer
    text: {ru: "Чек", en: "Check"}
    when: {at: [12]}
    kpi: avg_check
    target: {rule: growth, value: 0.10}
  - id: active
    track: sales
    owner: farmer
    text: {ru: "Активные", en: "Active"}
    when: {at: [3]}
    kpi: active_share
    target: {rule: hold}
  - id: calls
    track: sales
    owner: farmer
    text: {ru: "Звонки", en: "Calls"}
    when: {at: [1]}
    kpi: calls_made
    target: {rule: reach, value: 0.5, baseline: 2}
"""


# =====================================================================================
# KPIs
# =====================================================================================

def test_kpis_by_hand():
    led = small_ledger()
    ids = ["A", "B", "C"]
    # Q1 2026: revenue = 150 + 300 - 50 + 400 = 800
    assert compute_kpi("revenue", led, ids, "2026-01", "2026-03") == 800.0
    # orders: A's D1, A's (A, 2026-02-05) [two lines, empty / missing document], B's D3 = 3; the return is no order
    assert compute_kpi("orders", led, ids, "2026-01", "2026-03") == 3.0
    assert compute_kpi("avg_check", led, ids, "2026-01", "2026-03") == pytest.approx(800 / 3)
    assert compute_kpi("orders_per_customer", led, ids, "2026-01", "2026-03") == 1.0       # 3 orders / 3 members
    assert compute_kpi("active_share", led, ids, "2026-01", "2026-03") == pytest.approx(2 / 3)  # A and B
    assert compute_kpi("customers_buying", led, ids, "2026-01", "2026-03") == 2.0
    assert compute_kpi("sleeping_woken", led, ["C"], "2026-01", "2026-12") == 0.0            # C silent in 2026
    assert compute_kpi("margin", led, ids, "2026-01", "2026-03") == 80.0   # 10 + 5 + 20 + 10 - 5 + 40
    assert compute_kpi("revenue_per_customer", led, ids, "2026-01", "2026-03") == pytest.approx(800 / 3)
    # whole 2026: + B's July 600 -> 1400 over 4 orders
    assert compute_kpi("revenue", led, ids, "2026-01", "2026-12") == 1400.0
    assert compute_kpi("avg_check", led, ids, "2026-01", "2026-12") == 350.0
    # month bounds are inclusive: 2026-07 alone holds B's 600
    assert compute_kpi("revenue", led, ids, "2026-07", "2026-07") == 600.0
    # nobody bought: ratios are 0, never NaN
    assert compute_kpi("avg_check", led, ids, "2024-01", "2024-12") == 0.0
    assert compute_kpi("active_share", led, [], "2026-01", "2026-12") == 0.0


def test_kpi_registry():
    assert is_computed("revenue") and not is_computed("meetings_held")
    for code in ("revenue", "avg_check", "orders_per_customer", "active_share", "customers_buying",
                 "sleeping_woken", "margin", "revenue_per_customer"):
        assert KPIS[code].source == "computed"
    for code in ("meetings_held", "webinars_run", "answered_share", "known_roles", "case_presented",
                 "positive_contacts", "dossier_reviewed", "romi"):
        assert KPIS[code].source == "entered"
    with pytest.raises(KeyError, match="unknown; known: revenue"):
        is_computed("revenu")
    with pytest.raises(ValueError, match="entered by the consultant"):
        compute_kpi("meetings_held", small_ledger(), ["A"], "2026-01", "2026-02")


# =====================================================================================
# baselines and targets
# =====================================================================================

def test_plan_months_and_baseline_window():
    assert plan_months({"start_month": "", "months": 3}, "2026-12") == ["2027-01", "2027-02", "2027-03"]
    assert plan_months({"start_month": "2027-04", "months": 2}, "2026-12") == ["2027-04", "2027-05"]
    # the same calendar months a year earlier
    assert baseline_window("2027-01", "2027-03", "2026-12") == ("2026-01", "2026-03")
    assert baseline_window("2027-01", "2027-12", "2026-12") == ("2026-01", "2026-12")
    # a plan starting far ahead: whole years back until the window ends by the reporting month
    assert baseline_window("2028-01", "2028-06", "2026-12") == ("2026-01", "2026-06")


def test_baselines_by_hand(tmp_path: Path):
    tpl = load_map_templates(TEMPLATES, write_template(tmp_path, "hand", HAND_TEMPLATE).parent)
    res = draft_maps(small_segments(), small_ledger(), {"group_templates": ["hand"], "individual_template": ""},
                     "2026-12", tpl)
    cp = res.checkpoints.set_index(["kpi", "deadline"])
    # deadline 2027-03 -> baseline window 2026-01..2026-03: revenue 800 (see test_kpis_by_hand); +10 % = 880
    assert cp.loc[("revenue", "2027-03"), "baseline"] == 800.0
    assert cp.loc[("revenue", "2027-03"), "target"] == 880.0
    # 2027-06 -> 2026-01..2026-06: still 800 (B's 600 comes in July)
    assert cp.loc[("revenue", "2027-06"), "baseline"] == 800.0
    # 2027-09 -> 2026-01..2026-09: 800 + 600 = 1400 -> 1540
    assert cp.loc[("revenue", "2027-09"), "baseline"] == 1400.0
    assert cp.loc[("revenue", "2027-09"), "target"] == 1540.0
    assert cp.loc[("revenue", "2027-12"), "baseline"] == 1400.0
    # average check over 2026: 1400 / 4 orders = 350 -> 385
    assert cp.loc[("avg_check", "2027-12"), "baseline"] == 350.0
    assert cp.loc[("avg_check", "2027-12"), "target"] == 385.0
    # active share in 2026-01..03: A and B of A, B, C = 0.6667; hold
    assert cp.loc[("active_share", "2027-03"), "baseline"] == 0.6667
    assert cp.loc[("active_share", "2027-03"), "target"] == 0.6667
    # entered KPI: baseline from the template (2); reach 0.5 of 3 members = 1.5 -> 2 customers
    assert cp.loc[("calls_made", "2027-01"), "baseline"] == 2.0
    assert cp.loc[("calls_made", "2027-01"), "target"] == 2.0
    assert set(res.checkpoints[C.KPI_SOURCE]) == {"computed", "entered"}


def test_no_individual_map_without_individual_content(templates: dict):
    """A has two orders (no rhythm), no products, no potential, no contacts, no jump: nothing
    individual to plan, so it follows its group map and the result says so."""
    seg = small_segments().assign(**{C.MAP: ["individual", "group", "group"], C.ORDERS: [2, 2, 1]})
    res = draft_maps(seg, small_ledger(), {"group_templates": ["typical"]}, "2026-12", templates)
    assert [m["id"] for m in res.maps] == ["group:typical"]
    assert "A" in res.map("group:typical")["members"] and res.no_content == ["A"]
    assert res.profiles["A"]["content"] == []


def individual_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seven typical HoReCa customers. A buys P1 on the 15th of every month of 2026 (12 orders,
    a 30-day rhythm); its six peers buy P1, four of them P2, one P3."""
    ids = list("ABCDEFG")
    rows = [("A", f"2026-{m:02d}-15", 1000.0, "P1") for m in range(1, 13)]
    for i, cid in enumerate(ids[1:]):
        rows.append((cid, "2026-03-10", 500.0, "P1"))
        if i < 4:
            rows.append((cid, "2026-04-10", 300.0, "P2"))
        if i == 0:
            rows.append((cid, "2026-05-10", 200.0, "P3"))
    led = pd.DataFrame(rows, columns=[C.CUSTOMER_ID, C.DATE, C.AMOUNT, C.PRODUCT])
    led[C.DATE] = pd.to_datetime(led[C.DATE])
    led[C.DOCUMENT] = [f"D{i}" for i in range(len(led))]
    led[C.CUSTOMER_NAME] = "ООО " + led[C.CUSTOMER_ID]
    seg = pd.DataFrame({
        C.CUSTOMER_ID: ids, C.CUSTOMER_NAME: [f"ООО {c}" for c in ids], C.TIER: "typical",
        C.INDUSTRY: "HoReCa", C.LIFECYCLE: "active", C.MAP: ["individual"] + ["group"] * 6,
        C.MANAGER: "Иванова", C.REVENUE: [12000.0] + [800.0] * 6, C.ORDERS: [12] + [2] * 6,
        "median_gap_days": [30.0] + [31.0] * 6, C.LAST_PURCHASE: pd.Timestamp("2026-12-15"),
        C.KEY_ACCOUNT: [True] + [False] * 6,
    })
    return seg, led


def test_individual_map_from_the_customers_own_data(templates: dict):
    seg, led = individual_case()
    res = draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates)
    ind = res.map("individual:A")
    assert ind["members"] == ["A"] and "A" in res.map("group:typical")["members"]   # stays in its group map
    profile = res.profiles["A"]
    # cross-sell: P2 is bought by 4 of the 6 peers (67 % >= 30 %), A never bought it; P3 by 1 of 6 (17 %)
    assert [(x["product"], round(x["peer_share"], 4), x["peers"]) for x in profile["cross_sell"]] == \
        [("P2", 0.6667, 6)]
    assert profile["gap_days"] == 30.0 and profile["next_due"] == pd.Timestamp("2027-01-14")
    assert set(profile["content"]) == {"cross_sell", "rhythm"}
    acts = {a["key"]: a for a in ind["activities"]}
    assert acts["cross-sell-1"]["month"] == "2027-02" and "«P2»" in acts["cross-sell-1"]["activity"]
    assert "67 %" in acts["cross-sell-1"]["activity"]
    # rhythm: due 14 Jan, 13 Feb, 15 Mar, 14 Apr, 14 May, 13 Jun -> 6 by June; 12 by December;
    # last year's same months hold 6 and 12 orders: the rhythm target equals them
    rhythm = [(a["deadline"], a["baseline"], a["target"]) for a in ind["activities"] if a["key"] == "rhythm"]
    assert rhythm == [("2027-06", 6.0, 6.0), ("2027-12", 12.0, 12.0)]
    # the key-account template on A's own history: 2026-01..03 = 3 000, +15 % = 3 450
    revenue = {a["deadline"]: a for a in ind["activities"] if a["key"] == "revenue"}
    assert (revenue["2027-03"]["baseline"], revenue["2027-03"]["target"]) == (3000.0, 3450.0)
    # the dossier compiled in the first month, reviewed every quarter; no calendar items (the
    # group map's calendar reaches A)
    assert [a["month"] for a in ind["activities"] if a["key"] == "dossier"] == \
        ["2027-01", "2027-04", "2027-07", "2027-10"]
    assert not [a for a in ind["activities"] if a["key"].startswith("cal-")]
    # the difference from the group map: revenue changes the group's rule, the rest is added
    diff = {d["key"]: d for d in ind["difference"]}
    assert diff["revenue"]["kind"] == "changed" and diff["revenue"]["group"]["key"] == "revenue"
    assert diff["cross-sell-1"]["kind"] == "added" and diff["rhythm"]["kind"] == "added"
    assert diff["dossier"]["occurrences"] == 4
    assert ind["group_map"] == "group:typical"


# =====================================================================================
# every shipped template is measurable
# =====================================================================================

def test_shipped_templates_load(templates: dict):
    assert set(SHIPPED) <= set(templates)
    assert templates["key_account"]["kind"] == "individual"
    for code in SHIPPED:
        for item in templates[code]["items"]:
            assert item["text"]["ru"] and item["text"]["en"], (code, item["id"])


@pytest.mark.parametrize("code", [c for c in SHIPPED if c != "key_account"])
def test_every_checkpoint_measurable(code: str, templates: dict):
    seg, led = synthetic()
    res = draft_maps(seg, led, {"group_templates": [code], "calendar": CAL}, "2026-12", templates)
    assert [m["id"] for m in res.maps if m["kind"] == "group"] == [f"group:{code}"]
    cp = res.checkpoints
    assert tuple(cp.columns) == C.CHECKPOINT_COLUMNS
    assert len(cp) > 0
    for col in (C.KPI, C.UNIT, C.BASELINE, C.TARGET, C.DEADLINE, C.MONTH, C.TRACK, C.OWNER, C.KPI_NAME):
        assert cp[col].notna().all(), col
        if cp[col].dtype != "float64":
            assert (cp[col].astype(str).str.len() > 0).all(), col
    assert set(cp[C.MAP_KIND]) == {"group", "individual"}
    assert cp[C.DEADLINE].isin(res.months).all() and cp[C.MONTH].isin(res.months).all()
    assert (cp[C.DEADLINE] >= cp[C.MONTH]).all()
    group = cp[cp[C.MAP_KIND] == "group"]
    assert (group[C.SEGMENT] == code).all() and (group[C.CUSTOMER_ID] == "").all()
    ind = cp[cp[C.MAP_KIND] == "individual"]
    assert set(ind[C.CUSTOMER_ID]) == {"7700000000", "7700000003"} and (ind[C.SEGMENT] == "").all()
    assert np.isfinite(cp[C.BASELINE]).all() and np.isfinite(cp[C.TARGET]).all()


def test_membership_rules(drafted: MapsResult):
    seg, _ = synthetic()
    members = {m["id"]: set(m["members"]) for m in drafted.maps}
    all_members = [c for m in drafted.maps if m["kind"] == "group" for c in m["members"]]
    assert len(all_members) == len(set(all_members))                    # one group map per customer
    sleeping = set(seg.loc[seg[C.LIFECYCLE] == "sleeping", C.CUSTOMER_ID])
    lost = set(seg.loc[seg[C.LIFECYCLE] == "lost", C.CUSTOMER_ID])
    assert members["group:sleeping_reactivation"] == sleeping            # priority over the tier maps
    assert not (lost & set(all_members)) and drafted.unmapped_lost == 2
    # 0 has an individual map on top of its group map: it stays in the VIP map
    vip = set(seg.loc[seg[C.TIER] == "vip", C.CUSTOMER_ID])
    assert members["group:vip"] == vip and members["individual:7700000000"] == {"7700000000"}
    assert drafted.candidates[C.CUSTOMER_ID].tolist() == ["7700000004", "7700000006"]
    assert len(drafted.months) == 12 and drafted.months[0] == "2027-01"


def test_empty_segment_gives_no_map_and_a_finding(templates: dict):
    from workbench.report.maps_report import maps_findings

    seg, led = synthetic()
    seg = seg.assign(**{C.TIER: seg[C.TIER].replace("ballast", "typical")})
    res = draft_maps(seg, led, {}, "2026-12", templates)
    assert "group:ballast_reactivation" not in [m["id"] for m in res.maps]
    assert res.empty == ["ballast_reactivation"]
    found = [f for f in maps_findings(res, "ru") if "Пустой сегмент" in f["headline"]]
    assert found and "Балласт" in found[0]["headline"]


def test_inputs_unmodified(templates: dict):
    seg, led = synthetic()
    seg0, led0 = seg.copy(deep=True), led.copy(deep=True)
    settings = {"calendar": copy.deepcopy(CAL)}
    settings0, tpl0 = copy.deepcopy(settings), copy.deepcopy(templates)
    ov = {"edits": [{"map": "group:vip", "action": "set", "item": "revenue", "target": 1e9}]}
    ov0 = copy.deepcopy(ov)
    res = draft_maps(seg, led, settings, "2026-12", templates, overrides=ov)
    pd.testing.assert_frame_equal(seg, seg0)
    pd.testing.assert_frame_equal(led, led0)
    assert settings == settings0 and templates == tpl0 and ov == ov0
    before = res.checkpoints.copy()
    maps_before = copy.deepcopy(res.maps)
    apply_overrides(res, {"edits": [{"map": "group:vip", "action": "remove", "item": "qbr"}]})
    pd.testing.assert_frame_equal(res.checkpoints, before)
    assert res.maps == maps_before


# =====================================================================================
# calendar
# =====================================================================================

def _acts(m: dict, key: str) -> list[dict]:
    return [a for a in m["activities"] if a["key"] == key]


def test_calendar_shift_budget_release(drafted: MapsResult):
    vip = drafted.map("group:vip")
    assert [f["kind"] for f in vip["flags"]["2027-05"]] == ["holidays"]
    assert [f["kind"] for f in vip["flags"]["2027-10"]] == ["budget"]
    assert [f["kind"] for f in vip["flags"]["2027-12"]] == ["peak"]
    # no sales / marketing activity stays in the holiday month
    may = [a for a in vip["activities"] if a["month"] == "2027-05" and a["section"] == "activity"]
    assert all(a["track"] not in ("sales", "marketing") for a in may)
    moved = [a for a in _acts(vip, "upsell") if a["shifted_from"] == "2027-05"]
    assert [a["month"] for a in moved] == ["2027-06"]
    assert any(n["code"] == "shifted" and n["month"] == "2027-05" for n in vip["notes"])
    # budget month: commercial offers for next year's budget, to every VIP
    budget = _acts(vip, "cal-budget")
    assert [a["month"] for a in budget] == ["2027-10"] and "2028" in budget[0]["activity"]
    assert budget[0]["target"] == len(vip["members"])
    # release 2027-03: warm-up in February, offer in March, ROMI six months later (entered)
    assert [a["month"] for a in _acts(vip, "cal-warmup-продукт-x")] == ["2027-02"]
    assert [a["month"] for a in _acts(vip, "cal-release-продукт-x")] == ["2027-03"]
    romi = _acts(vip, "cal-romi-продукт-x")
    assert [a["month"] for a in romi] == ["2027-09"] and romi[0]["kpi_source"] == "entered"
    # the conference anchors the key account's case
    ind = drafted.map("individual:7700000000")
    assert [a["month"] for a in _acts(ind, "case")] == ["2027-09"]


def test_fmcg_example(templates: dict):
    """The source's FMCG example: the template and its calendar reproduce the article's map."""
    seg, led = synthetic()
    seg = seg.assign(**{C.MAP: "group"})
    res = draft_maps(seg, led, {"start_month": "2027-01", "months": 12, "group_templates": ["fmcg_example"]},
                     "2026-12", templates)
    (m,) = res.maps
    flags = {mo: [f["kind"] for f in fl] for mo, fl in m["flags"].items() if fl}
    assert flags == {"2027-02": ["release"], "2027-03": ["release"], "2027-05": ["holidays"],
                     "2027-06": ["law"], "2027-10": ["budget"], "2027-12": ["peak"]}
    months = {key: [a["month"] for a in _acts(m, key)] for key in {a["key"] for a in m["activities"]}}
    # product 1: warm-up in January, released in February, ROMI at the end of summer
    assert months["cal-warmup-продукт-1-обновление"] == ["2027-01"]
    assert months["cal-release-продукт-1-обновление"] == ["2027-02"]
    assert months["cal-romi-продукт-1-обновление"] == ["2027-08"]
    # product 2: warmed up in February, sold in March
    assert months["cal-warmup-продукт-2"] == ["2027-02"]
    assert months["cal-release-продукт-2"] == ["2027-03"]
    # the June law: awareness from February; May is a holiday month, and an awareness campaign
    # prepares the law, so May's session moves earlier (the nearest free month, January), never
    # into the law month; ROMI in autumn
    law = "федеральный-закон-продукт-3"
    assert months[f"cal-awareness-{law}"] == ["2027-01", "2027-02", "2027-03", "2027-04"]
    assert months[f"cal-law-{law}"] == ["2027-06"]
    assert months[f"cal-romi-{law}"] == ["2027-10"]
    # product 4 as an add-on from summer
    assert months["product4"] == [f"2027-{k:02d}" for k in range(6, 13)]
    # October: commercial offers for next year's budget
    assert months["cal-budget"] == ["2027-10"]
    # webinars every other month from January; May's moves to June
    assert months["webinar"] == ["2027-01", "2027-03", "2027-06", "2027-07", "2027-09", "2027-11"]
    assert not [a for a in m["activities"] if a["month"] == "2027-05" and a["track"] in ("sales", "marketing")
                and a["section"] == "activity"]
    # "% of customers who gave a concrete answer", a target per month
    ans = res.checkpoints[res.checkpoints[C.KPI] == "answered_share"]
    assert ans[C.DEADLINE].tolist() == res.months
    assert ans[C.TARGET].tolist() == [0.10, 0.15, 0.20, 0.25, 0.25, 0.30, 0.35, 0.35, 0.40, 0.40, 0.45, 0.45]
    assert (ans[C.UNIT] == "share").all()


def test_event_outside_plan_noted(templates: dict):
    seg, led = synthetic()
    cal = {"events": [{"month": "2027-11", "kind": "release", "name": "Поздний"}]}
    res = draft_maps(seg, led, {"calendar": cal, "group_templates": ["vip"]}, "2026-12", templates)
    vip = res.map("group:vip")
    assert not _acts(vip, "cal-romi-поздний")                   # 2028-05 is beyond the plan
    assert any(n["code"] == "outside" and n["month"] == "2028-05" for n in vip["notes"])


# =====================================================================================
# overrides
# =====================================================================================

def _target(res: MapsResult, map_id: str, kpi: str, deadline: str) -> float:
    cp = res.checkpoints
    row = cp[(cp[C.MAP_ID] == map_id) & (cp[C.KPI] == kpi) & (cp[C.DEADLINE] == deadline)]
    assert len(row) == 1
    return float(row[C.TARGET].iloc[0])


def test_override_survives_redraft(templates: dict, tmp_path: Path):
    seg, led = synthetic()
    path = map_overrides_path(tmp_path / "overrides")
    path.parent.mkdir()
    path.write_text(
        "edits:\n"
        "  - {map: \"group:vip\", action: set, item: check, month: \"2027-06\", target: 999999}\n"
        "  - {map: \"group:vip\", action: set, item: qbr, owner: farmer}\n"
        "  - {map: \"group:vip\", action: remove, item: club, month: \"2027-04\"}\n"
        "  - {map: \"individual:7700000000\", action: add, item: visit, month: \"2027-02\", track: sales,\n"
        "     owner: kam, activity: \"Визит к ЛПР\", kpi: meetings_held, target: 1}\n", encoding="utf-8")
    ov = read_map_overrides(path)
    first = draft_maps(seg, led, {}, "2026-12", templates, overrides=ov)
    # new data next month: baselines move, the consultant's edits stay
    led2 = led[led[C.DATE] < "2026-11-01"]
    second = draft_maps(seg, led2, {}, "2026-12", templates, overrides=ov)
    for res in (first, second):
        assert _target(res, "group:vip", "avg_check", "2027-06") == 999999.0
        assert {a["owner"] for a in _acts(res.map("group:vip"), "qbr")} == {"farmer"}
        assert [a["month"] for a in _acts(res.map("group:vip"), "club")] == ["2027-10"]
        visit = _acts(res.map("individual:7700000000"), "visit")
        assert [(a["month"], a["target"], a["origin"]) for a in visit] == [("2027-02", 1.0, "override")]
    base = draft_maps(seg, led, {}, "2026-12", templates)
    assert _target(base, "group:vip", "avg_check", "2027-06") != 999999.0


def test_override_deadline_recomputes_baseline(templates: dict):
    seg = small_segments()
    res = draft_maps(seg, small_ledger(), {"group_templates": ["typical"]}, "2026-12", templates)
    ov = {"edits": [{"map": "group:typical", "action": "set", "item": "revenue", "month": "2027-03",
                     "deadline": "2027-09"}]}
    # the hold target of March (800: A 150 + 300 - 50, B 400) would now sit below the September
    # baseline (1 400): refused, naming the file, the edit, the checkpoint and the rule
    with pytest.raises(ConfigError, match=r"overrides/maps\.yaml:\n  - edits\[0\]\.deadline: group:typical · revenue · "
                       r"2027-09: цель 800 ниже базы 1\u00a0400 — нарушено правило «цель никогда не ниже базы"):
        apply_overrides(res, ov, ledger=small_ledger())
    ov["edits"][0]["target"] = 1400
    new = apply_overrides(res, ov, ledger=small_ledger())
    row = new.checkpoints[(new.checkpoints[C.KPI] == "revenue") & (new.checkpoints[C.MONTH] == "2027-03")]
    assert row[C.DEADLINE].tolist() == ["2027-09"]
    assert row[C.BASELINE].tolist() == [1400.0]   # 2026-01..2026-09 (see test_baselines_by_hand)


@pytest.mark.parametrize("edit, pattern", [
    ({"map": "group:nope", "action": "set", "item": "revenue", "target": 1},
     (r"overrides/maps\.yaml.*\n.*edits\[0\]\.map: значение \"group:nope\" недопустимо; допустимые значения: "
      r"group:vip, group:strategic")),
    ({"map": "group:vip", "action": "set", "item": "qbr", "owner": "boss"},
     (r"edits\[0\]\.owner: значение \"boss\" недопустимо; допустимые значения: hunter, closer, farmer, kam, "
      r"presale, marketing")),
    ({"map": "group:vip", "action": "set", "item": "revenue", "month": "2030-01", "target": 1},
     r"edits\[0\]\.month: месяц \"2030-01\" вне года планирования; допустимо: 2027-01 … 2027-12"),
    ({"map": "group:vip", "action": "add", "item": "x", "month": "2027-02", "track": "legal", "owner": "kam",
      "activity": "x"},
     r"edits\[0\]\.track: значение \"legal\" недопустимо; допустимые значения: product, marketing, sales, success"),
    ({"map": "group:vip", "action": "add", "item": "x", "month": "2027-02", "track": "sales", "owner": "kam",
      "activity": "x", "kpi": "revenu", "target": 1},
     r"edits\[0\]\.kpi: значение \"revenu\" недопустимо; допустимые значения: revenue, orders"),
    ({"map": "group:vip", "action": "set", "item": "nothing", "target": 1},
     r"edits\[0\]\.item: значение \"nothing\" недопустимо; допустимые значения: .*qbr"),
    ({"map": "group:vip", "action": "move", "item": "qbr"},
     r"edits\[0\]\.action: значение \"move\" недопустимо; допустимые значения: set, add, remove"),
])
def test_invalid_override_changes_nothing(drafted: MapsResult, edit: dict, pattern: str):
    before = drafted.checkpoints.copy()
    maps_before = copy.deepcopy(drafted.maps)
    good = {"map": "group:vip", "action": "set", "item": "revenue", "month": "2027-03", "target": 5.0}
    ov = {"edits": [edit, good]}
    with pytest.raises(ConfigError, match=pattern):
        validate_map_overrides(ov, drafted, "ru")
    with pytest.raises(ConfigError, match=pattern):
        apply_overrides(drafted, ov)
    pd.testing.assert_frame_equal(drafted.checkpoints, before)
    assert drafted.maps == maps_before
    seg, led = synthetic()
    with pytest.raises(ConfigError, match=pattern):
        draft_maps(seg, led, {"calendar": CAL}, "2026-12", load_map_templates(TEMPLATES), overrides=ov)


def test_override_error_english(drafted: MapsResult):
    with pytest.raises(ConfigError, match=r"Error in overrides/maps\.yaml:\n  - edits\[0\]\.map: value "
                                          r"\"group:x\" is not allowed; allowed values: group:vip"):
        validate_map_overrides({"edits": [{"map": "group:x", "action": "remove", "item": "qbr"}]}, drafted, "en")


def test_read_map_overrides(tmp_path: Path):
    assert read_map_overrides(tmp_path / "missing.yaml") == {}
    bad = tmp_path / "maps.yaml"
    bad.write_text("edits: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(bad))):
        read_map_overrides(bad)


# =====================================================================================
# validation of templates and settings
# =====================================================================================

BAD_TEMPLATE = """
name: {ru: "Плохой", en: "Bad"}
kind: groupe
owner: kam
members: {tier: [vip]}
activities:
  - id: a1
    track: legal
    owner: boss
    text: {ru: "Текст"}
    when: {every: 1}
    kpi: revenu
    target: {rule: growth, value: 0.1}
checkpoints:
  - id: c1
    track: sales
    owner: kam
    text: {ru: "т", en: "t"}
    when: {at: [1], every: 2}
    kpi: answered_share
    target: {rule: grow, value: 0.1}
"""


def test_template_errors_name_file_key_allowed(tmp_path: Path):
    path = write_template(tmp_path / "extra", "bad", BAD_TEMPLATE)
    with pytest.raises(ConfigError) as info:
        load_map_templates(TEMPLATES, path.parent)
    msg = str(info.value)
    assert f"Ошибка в {path}:" in msg
    assert "kind: значение \"groupe\" недопустимо; допустимые значения: group, individual" in msg
    assert "activities[0].track: значение \"legal\" недопустимо; допустимые значения: product, marketing, " \
           "sales, success" in msg
    assert "activities[0].owner: значение \"boss\" недопустимо; допустимые значения: hunter, closer" in msg
    assert "activities[0].text.en: ожидалась строка" in msg
    assert "activities[0].kpi: значение \"revenu\" недопустимо; допустимые значения: revenue," in msg
    assert "checkpoints[0].when: укажите ровно одно правило сроков" in msg
    assert "checkpoints[0].target.rule: значение \"grow\" недопустимо; допустимые значения: growth, hold" in msg


def test_template_rule_unit_error(tmp_path: Path):
    text = HAND_TEMPLATE.replace("target: {rule: hold}", "target: {rule: share, value: 1.5}")
    path = write_template(tmp_path / "x", "hand", text)
    with pytest.raises(ConfigError, match=r"checkpoints\[2\]\.target\.value: значение 1\.5 вне допустимого "
                                          r"диапазона 0 … 1"):
        load_map_templates(path.parent)


def test_extra_dir_replaces_shipped(tmp_path: Path):
    text = (TEMPLATES / "vip.yaml").read_text(encoding="utf-8").replace("value: 0.10}", "value: 0.20}")
    write_template(tmp_path / "mine", "vip", text)
    tpl = load_map_templates(TEMPLATES, tmp_path / "mine")
    rev = next(i for i in tpl["vip"]["items"] if i["id"] == "revenue")
    assert rev["target"]["value"] == [0.2] and tpl["vip"]["source"].startswith(str(tmp_path))


def test_settings_errors(templates: dict):
    seg, led = synthetic()
    with pytest.raises(ConfigError, match=r"Ошибка в engagement\.yaml:\n  - maps\.group_templates\[0\]: "
                                          r"значение \"vipp\" недопустимо; допустимые значения: ballast_reactivation"):
        draft_maps(seg, led, {"group_templates": ["vipp"]}, "2026-12", templates)
    with pytest.raises(ConfigError, match=r"maps\.calendar\.seasonal\[0\]\.kind: значение \"rain\" недопустимо; "
                                          r"допустимые значения: holidays, budget, peak, low"):
        draft_maps(seg, led, {"calendar": {"seasonal": [{"month": 5, "kind": "rain"}]}}, "2026-12", templates)


# =====================================================================================
# report
# =====================================================================================

def test_html_escapes_hostile_name(templates: dict):
    from workbench.report.maps_report import render_maps_html

    seg, led = synthetic()
    hostile = '<script>alert("x")</script>'
    seg = seg.assign(**{C.CUSTOMER_NAME: seg[C.CUSTOMER_NAME].where(seg[C.CUSTOMER_ID] != "7700000000", hostile)})
    res = draft_maps(seg, led, {"group_templates": ["vip"], "calendar": CAL}, "2026-12", templates)
    html = render_maps_html(res, "ru", "RUB")
    assert '<section class="wb-section" id="maps">' in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    # a vector calendar per group map; an individual map is shown as its difference from it
    assert html.count('class="wb-svg"') == len([m for m in res.maps if m["kind"] == "group"])
    assert "individual:7700000000" in [m["id"] for m in res.maps]
    assert "Чем карта клиента отличается от групповой" in html
    assert "Чемпион" in html and "₽" in html
    en = render_maps_html(res, "en", "USD")
    assert "Client development maps" in en and "<script>" not in en


def test_workbook_sheets(templates: dict):
    from workbench.report.maps_report import add_maps_sheets
    from workbench.report.xlsx import Book

    seg, led = synthetic()
    seg = seg.assign(**{C.CUSTOMER_NAME: seg[C.CUSTOMER_NAME].where(seg[C.CUSTOMER_ID] != "7700000003",
                                                                     '=HYPERLINK("http://x")')})
    res = draft_maps(seg, led, {"calendar": CAL}, "2026-12", templates)
    book = Book("ru")
    add_maps_sheets(book, res, "ru")
    wb = book.workbook()
    assert "Контрольные точки" in wb.sheetnames and "checkpoints" not in wb.sheetnames
    assert "VIP-клиенты" in wb.sheetnames
    ws = wb["VIP-клиенты"]
    header = [ws.cell(row=3, column=j).value for j in range(1, 17)]
    assert header[:4] == ["Направление", "Активность", "Ответственный", "Показатель"]
    assert header[4:] == ["янв 2027", "фев 2027", "мар 2027", "апр 2027", "май 2027", "июн 2027", "июл 2027",
                          "авг 2027", "сен 2027", "окт 2027", "ноя 2027", "дек 2027"]
    assert ws.cell(row=4, column=9).value == "праздники"                 # the calendar row, May
    assert ws.page_setup.orientation == "landscape"
    rows = {ws.cell(row=r, column=2).value: r for r in range(5, ws.max_row + 1)}
    r = rows["Выручка VIP-сегмента: рост на 10 %"]
    expected = _target(res, "group:vip", "revenue", "2027-03")
    assert ws.cell(row=r, column=7).value == expected                      # March holds the target
    assert ws.cell(row=r, column=7).fill.fill_type == "solid"
    assert ws.cell(row=r, column=5).value is None                          # no checkpoint in January
    cp = wb["Контрольные точки"]
    head = [cp.cell(row=2, column=j).value for j in range(1, cp.max_column + 1)]
    # values in columns of their unit (money, share, count), maps and tiers by name, never a code
    assert head[:7] == ["Карта", "Сегмент или клиент", "Месяц", "Направление", "Активность", "Ответственный",
                        "Показатель"]
    assert [h for h in head if h.startswith("База")] == ["База, ₽", "База, %", "База, шт."]
    assert head[-2:] == ["Как получена цель", "Срок"]
    assert cp.max_row == 2 + len(res.checkpoints)
    maps_col = {cp.cell(row=r, column=1).value for r in range(3, cp.max_row + 1)}
    assert maps_col == {m["name"] for m in res.maps if any(a["kpi"] for a in m["activities"])}
    row = next(r for r in range(3, cp.max_row + 1) if cp.cell(row=r, column=5).value == "Выручка VIP-сегмента: рост на 10 %"
               and cp.cell(row=r, column=3).value == "мар 2027")
    assert cp.cell(row=row, column=2).value == "VIP-клиенты"   # the group map by its short name
    money_target = head.index("Цель, ₽") + 1
    assert cp.cell(row=row, column=money_target).value == expected
    assert "₽" in cp.cell(row=row, column=money_target).number_format
    hostile = [c for row in cp.iter_rows(min_row=3) for c in row if c.value == '=HYPERLINK("http://x")']
    assert hostile and all(c.data_type == "s" for c in hostile)


def test_findings_shape(drafted: MapsResult):
    from workbench.report.maps_report import maps_findings

    found = maps_findings(drafted, "ru")
    assert found and found == sorted(found, key=lambda f: -f["weight"])
    for f in found:
        assert {"severity", "headline", "number", "action", "weight", "audience"} <= set(f)
        assert set(f) <= {"severity", "headline", "number", "action", "weight", "audience", "owner", "due", "at_stake"}
        assert f["severity"] in ("risk", "warn", "info", "ok")
        assert f["audience"] in ("management", "consultant")
        if "due" in f:
            assert f["due"] == "2027-01-01"
    limit = next(f for f in found if f["severity"] == "warn" and "лимит" in f["headline"])
    assert limit["owner"] == "director" and limit["audience"] == "management"
    # the synthetic base has key accounts and no contact log: a note for the consultant, not a KPI
    assert any(f["audience"] == "consultant" and "журнала контактов" in f["headline"] for f in found)
    assert maps_findings(drafted, "en")[0]["headline"]


def test_catalogues_have_same_keys():
    def keys(d: dict, prefix: str = "") -> set[str]:
        out = set()
        for k, v in d.items():
            out.add(prefix + k)
            if isinstance(v, dict):
                out |= keys(v, prefix + k + ".")
        return out

    ru = {k: v for k, v in catalogue("ru").items() if k.startswith("maps.")}
    en = {k: v for k, v in catalogue("en").items() if k.startswith("maps.")}
    assert keys(ru) == keys(en)
    assert set(catalogue("ru")["maps.kpi"]) == set(KPIS)


def test_sleeping_baseline_zero_and_missing_margin(templates: dict):
    seg, led = synthetic()
    led = led.drop(columns=[C.MARGIN])
    res = draft_maps(seg, led, {}, "2026-12", templates)
    cp = res.checkpoints
    woken = cp[(cp[C.MAP_ID] == "group:sleeping_reactivation") & (cp[C.KPI] == "sleeping_woken")]
    # 4 sleeping customers: baseline 0 by definition; reach 20 % / 35 % / 50 % -> 1 / 2 / 2 customers
    assert woken[C.BASELINE].tolist() == [0.0, 0.0, 0.0]
    assert woken[C.TARGET].tolist() == [1.0, 2.0, 2.0]
    # no margin in the ledger: the margin checkpoint is left out, with a note
    assert "margin" not in set(cp[C.KPI])
    assert any(n["code"] == "no_data" for n in res.map("group:vip")["notes"])


def test_read_map_overrides_from_engagement(tmp_path: Path):
    from types import SimpleNamespace

    eng = SimpleNamespace(overrides_dir=tmp_path / "overrides", lang="ru")
    assert read_map_overrides(eng) == {}
    eng.overrides_dir.mkdir()
    (eng.overrides_dir / "maps.yaml").write_text("edits: []\n", encoding="utf-8")
    assert read_map_overrides(eng) == {"edits": []}


# =====================================================================================
# target rules: never below the baseline, exact targets, cumulative, tempered, seasons
# =====================================================================================

def test_default_plan_start_is_the_first_full_month_after_production(templates: dict):
    from workbench.maps.calendar import default_plan_start

    # October's report produced on 30 November: November has begun, the plan starts in December
    assert default_plan_start("2026-10", "2026-11-30") == "2026-12"
    assert default_plan_start("2026-10", "2026-11-01") == "2026-12"      # the 1st has begun too
    assert default_plan_start("2026-10", "2026-10-31") == "2026-11"      # produced within the month
    assert default_plan_start("2026-10", "2027-02-15") == "2027-03"
    assert default_plan_start("2026-10", __import__("datetime").date(2026, 11, 30)) == "2026-12"
    seg, led = synthetic()
    produced = draft_maps(seg, led, {}, "2026-10", templates, produced="2026-11-30")
    assert produced.months[0] == "2026-12" and len(produced.months) == 12
    # maps.start_month still wins
    fixed = draft_maps(seg, led, {"start_month": "2027-01"}, "2026-10", templates, produced="2026-11-30")
    assert fixed.months[0] == "2027-01"


def test_the_production_date_can_be_passed_in(monkeypatch):
    import datetime as dt

    from workbench.errors import WorkbenchError
    from workbench.steps import production_date

    monkeypatch.setenv("WORKBENCH_TODAY", "2026-11-30")
    assert production_date() == dt.date(2026, 11, 30)
    monkeypatch.setenv("WORKBENCH_TODAY", "30.11.2026")
    with pytest.raises(WorkbenchError, match=r"WORKBENCH_TODAY: ожидалась дата в виде ГГГГ-ММ-ДД, получено 30\.11\.2026"):
        production_date()
    monkeypatch.delenv("WORKBENCH_TODAY")
    assert production_date() == dt.date.today()


def test_targets_by_hand():
    from workbench.maps.targets import make_target

    growth5 = {"rule": "growth", "value": [0.05], "min": None}
    # +5 % on 8 orders: exactly 8.4, 9 in whole orders (rounded up, said), cumulative
    t = make_target(growth5, 8.0, 10, 0, "orders")
    assert (t.exact, t.value, t.rounding, t.growth) == (8.4, 9.0, "up", 0.05)
    assert "cumulative" in t.labels
    # orders per customer is not a whole number: 8 -> 8.4, no rounding into +12.5 %
    t = make_target(growth5, 8.0, 10, 0, "orders_per_customer")
    assert (t.exact, t.value, t.rounding) == (8.4, 8.4, "")
    # +20 % on 1 order: 1.2, i.e. 2 in whole orders, the exact value kept beside it
    t = make_target({"rule": "growth", "value": [0.20], "min": None}, 1.0, 10, 0, "orders")
    assert (t.exact, t.value, t.rounding) == (1.2, 2.0, "up")
    # a fixed share below what the members already do is lifted to the baseline and called a hold
    t = make_target({"rule": "share", "value": [0.10], "min": None}, 0.182, 10, 0, "active_share")
    assert t.value == 0.182 and {"lifted", "hold"} <= set(t.labels)
    # the hold rule is labelled
    assert "hold" in make_target({"rule": "hold", "value": [0.0], "min": None}, 100.0, 1, 0, "revenue").labels
    # any rule whose target comes out at its baseline is said to be a hold (an individual map's
    # orders in the customer's own rhythm: 6 -> 6); one above it is not
    assert "hold" in make_target({"rule": "absolute", "value": [6], "min": None}, 6.0, 1, 0, "orders").labels
    assert "hold" not in make_target({"rule": "absolute", "value": [7], "min": None}, 6.0, 1, 0, "orders").labels
    # reach 30 % of 4 customers: 1.2, i.e. 2 customers
    t = make_target({"rule": "reach", "value": [0.3], "min": None}, 0.0, 4, 0, "calls_made")
    assert (t.exact, t.value, t.rounding) == (1.2, 2.0, "up")
    # a peak month raises a target proportional to the customers: 3 x 4 x 1.2 = 14.4 -> 15
    t = make_target({"rule": "per_member", "value": [3], "min": None}, 0.0, 4, 0, "meetings_held",
                    season="peak", season_factor=1.2)
    assert (t.exact, t.value) == (14.4, 15.0) and "peak" in t.labels
    # a holiday month lowers it: 0.5 x 10 x 0.8 = 4
    t = make_target({"rule": "reach", "value": [0.5], "min": None}, 0.0, 10, 0, "calls_made",
                    season="holidays", season_factor=0.8)
    assert (t.exact, t.value) == (4.0, 4.0) and "holidays" in t.labels
    # a fixed number is not scaled by the season (one webinar stays one webinar)
    assert make_target({"rule": "absolute", "value": [1], "min": None}, 0.0, 10, 0, "webinars_run",
                       season="peak", season_factor=1.2).value == 1.0
    # an average over the period is not cumulative
    assert "period" in make_target(growth5, 350.0, 3, 0, "avg_check").labels
    # tempering: the growth applied is the smaller one, the label says so
    t = make_target({"rule": "growth", "value": [0.25], "min": None}, 1000.0, 3, 0, "revenue", growth=0.175)
    assert (t.value, t.growth) == (1175.0, 0.175) and "tempered" in t.labels


def test_template_target_below_baseline_is_refused(tmp_path: Path):
    bad = HAND_TEMPLATE.replace("target: {rule: growth, value: 0.10}\n  - id: check",
                                "target: {rule: growth, value: -0.10}\n  - id: check")
    write_template(tmp_path / "t", "hand", bad)
    with pytest.raises(ConfigError, match=r"hand\.yaml.*\n.*checkpoints\[0\]\.target\.value: значение -0\.1 "
                                          r"\(правило growth\) дало бы цель ниже базы"):
        load_map_templates(TEMPLATES, tmp_path / "t")


def test_no_drafted_target_below_its_baseline(drafted: MapsResult):
    from workbench.kpis import KPIS

    cp = drafted.checkpoints
    up = cp[C.KPI].map(lambda k: KPIS[k].direction == "up")
    assert (cp.loc[up, C.TARGET] >= cp.loc[up, C.BASELINE] - 1e-9).all()
    # the ballast map counts customers who come back from the plan start: baseline 0 by definition
    ballast = cp[(cp[C.MAP_ID] == "group:ballast_reactivation") & (cp[C.KPI] == "returned_share")]
    assert ballast[C.BASELINE].tolist() == [0.0, 0.0, 0.0]
    assert ballast[C.TARGET].tolist() == [0.10, 0.20, 0.30]


def _ledger(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    led = pd.DataFrame(rows, columns=[C.CUSTOMER_ID, C.DATE, C.AMOUNT])
    led[C.DATE] = pd.to_datetime(led[C.DATE])
    led[C.DOCUMENT] = [f"D{i}" for i in range(len(led))]
    led[C.CUSTOMER_NAME] = led[C.CUSTOMER_ID]
    return led


ONE_CHECKPOINT = """
name: {ru: "Проба", en: "Probe"}
kind: group
members: {tier: [typical]}
owner: farmer
checkpoints:
  - id: probe
    track: sales
    owner: farmer
    text: {ru: "Проба", en: "Probe"}
    when: {at: [%s]}
    kpi: %s
    target: %s
"""


def _probe(tmp_path: Path, at: str, kpi: str, target: str) -> dict:
    folder = tmp_path / f"probe-{kpi}-{at}".replace(",", "-").replace(" ", "")
    write_template(folder, "probe", ONE_CHECKPOINT % (at, kpi, target))
    return load_map_templates(TEMPLATES, folder)


def test_active_share_baseline_is_taken_before_the_selection(tmp_path: Path):
    """Typical customers were picked for buying in the last 12 months, so their share of buyers
    in those months is 100 % by construction; the baseline is measured a year earlier, over
    the members who were customers then."""
    tpl = _probe(tmp_path, "12", "active_share", "{rule: hold}")
    seg = pd.DataFrame({C.CUSTOMER_ID: ["A", "B", "C"], C.CUSTOMER_NAME: ["A", "B", "C"],
                        C.TIER: "typical", C.LIFECYCLE: "active", C.MAP: "group", C.REVENUE: 1.0})
    led = _ledger([
        ("A", "2024-03-10", 100.0), ("B", "2024-01-05", 100.0),   # customers two years back: A and B
        ("A", "2025-02-10", 100.0),                                # of them only A bought in 2025
        ("A", "2026-02-10", 100.0), ("B", "2026-03-10", 100.0), ("C", "2026-05-10", 100.0),  # all in 2026
    ])
    res = draft_maps(seg, led, {"group_templates": ["probe"], "individual_template": "", "start_month": "2027-01"},
                     "2026-12", tpl)
    (a,) = [x for x in res.maps[0]["activities"] if x["key"] == "probe"]
    # window 2027-01..12 -> a year earlier 2026 (A, B, C all bought: 100 %) -> before the selection 2025,
    # cohort: members with a purchase before 2025 (A, B); A bought in 2025 -> 1 / 2
    assert a["baseline"] == 0.5 and a["target"] == 0.5
    assert "before_selection" in a["labels"] and "hold" in a["labels"]


def test_growth_of_a_group_picked_for_a_jump_is_tempered(tmp_path: Path):
    tpl = _probe(tmp_path, "12", "revenue", "{rule: growth, value: 0.25}")
    months = pd.period_range("2024-01", "2025-12", freq="M")
    rows = []
    for i, p in enumerate(months):
        # 2024: 100 a month each; 2025 H1: 100; 2025 H2: 160 (a jump); A and B alike
        amount = 100.0 if i < 18 else 160.0
        rows += [("A", f"{p}-15", amount), ("B", f"{p}-15", amount)]
    led = _ledger(rows)
    seg = pd.DataFrame({C.CUSTOMER_ID: ["A", "B"], C.CUSTOMER_NAME: ["A", "B"], C.TIER: "typical",
                        C.LIFECYCLE: "active", C.MAP: "group", C.REVENUE: [2160.0, 2160.0],
                        "trend": [0.60, 0.60]})
    settings = {"group_templates": ["probe"], "individual_template": "", "start_month": "2026-01"}
    res = draft_maps(seg, led, settings, "2025-12", tpl)
    (m,) = res.maps
    (a,) = [x for x in m["activities"] if x["key"] == "probe"]
    # baseline: 2025 = 2 x (6 x 100 + 6 x 160) = 3120. The longer trend: 2025 on 2024 = 3120 / 2400 - 1 = 0.30,
    # so the template's +25 % stays (the trend is stronger)
    assert a["baseline"] == 3120.0 and a["target"] == 3900.0 and "tempered" not in a["labels"]
    # a flat year before the jump: 2024 at 130 a month -> 2025 on 2024 = 3120 / 3120 - 1 = 0 -> growth 12.5 %
    flat = _ledger([(c, d, 130.0 if d < "2025" else amt) for c, d, amt in rows])
    res = draft_maps(seg, flat, settings, "2025-12", tpl)
    (m,) = res.maps
    (a,) = [x for x in m["activities"] if x["key"] == "probe"]
    assert a["growth"] == 0.125 and a["target"] == 3510.0 and "tempered" in a["labels"]
    (note,) = [n for n in m["notes"] if n["code"] == "tempered"]
    assert note["share"] == 1.0 and note["long"] == 0.0
    # the same group without the jump signal is not tempered
    calm = draft_maps(seg.assign(trend=0.05), flat, settings, "2025-12", tpl)
    (a,) = [x for x in calm.maps[0]["activities"] if x["key"] == "probe"]
    assert a["growth"] == 0.25 and a["target"] == 3900.0
    # an override above the tempered target is refused, naming the checkpoint and the rule
    over = {"edits": [{"map": "group:probe", "action": "set", "item": "probe", "target": 3900}]}
    with pytest.raises(ConfigError, match=r"edits\[0\]\.target: group:probe · probe · 2026-12: цель 3\u00a0900 выше "
                                          r"смягчённой 3\u00a0510 .*нарушено правило «рост группы, отобранной по скачку"):
        apply_overrides(res, over)


def test_seasons_shape_targets(tmp_path: Path):
    tpl = _probe(tmp_path, "1, 5, 12", "meetings_held", "{rule: reach, value: 0.5}")
    seg, led = synthetic()
    seg = seg.assign(**{C.TIER: "typical", C.MAP: "group", C.LIFECYCLE: "active"})   # 50 members
    settings = {"group_templates": ["probe"], "individual_template": "", "start_month": "2027-01",
                "calendar": {"seasonal": [{"month": 5, "kind": "holidays"}, {"month": 12, "kind": "peak"}]}}
    res = draft_maps(seg, led, settings, "2026-12", tpl)
    got = {a["month"]: a["target"] for a in res.maps[0]["activities"] if a["key"] == "probe"}
    # 0.5 x 50 = 25; May (holidays) x 0.8 = 20; December (peak) x 1.2 = 30 (a checkpoint stays in its month)
    assert got == {"2027-01": 25.0, "2027-05": 20.0, "2027-12": 30.0}
    res = draft_maps(seg, led, {**settings, "seasonal_factors": {"peak": 1.5}}, "2026-12", tpl)
    # 0.5 x 50 x 1.5 = 37.5 -> 38 whole meetings, the exact value kept
    (dec,) = [a for a in res.maps[0]["activities"] if a["month"] == "2027-12"]
    assert (dec["target_exact"], dec["target"], dec["rounding"]) == (37.5, 38.0, "up")
    # a computed KPI over a window with the peak keeps last year's season in its baseline, and says so
    tpl = _probe(tmp_path, "12", "revenue", "{rule: growth, value: 0.1}")
    res = draft_maps(seg, led, settings, "2026-12", tpl)
    (a,) = [x for x in res.maps[0]["activities"] if x["key"] == "probe"]
    assert "season_in_baseline" in a["labels"] and "cumulative" in a["labels"]


def test_override_refusals_name_file_checkpoint_and_rule(templates: dict):
    seg, led = synthetic()
    res = draft_maps(seg, led, {"calendar": CAL}, "2026-12", templates)
    vip = res.map("group:vip")
    revenue = {a["deadline"]: a for a in vip["activities"] if a["key"] == "revenue"}
    march, june = revenue["2027-03"], revenue["2027-06"]

    def refused(edit: dict, pattern: str) -> None:
        with pytest.raises(ConfigError, match=pattern):
            apply_overrides(res, {"edits": [edit]})

    # below the baseline
    refused({"map": "group:vip", "action": "set", "item": "revenue", "month": "2027-03",
             "target": march["baseline"] - 1},
            r"overrides/maps\.yaml:\n  - edits\[0\]\.target: group:vip · revenue · 2027-03: цель .* ниже базы .* — "
            r"нарушено правило «цель никогда не ниже базы")
    # a count is a whole number
    refused({"map": "group:vip", "action": "set", "item": "qbr", "month": "2027-03", "target": 1.5},
            r"edits\[0\]\.target: group:vip · qbr · 2027-03: цель 1\.5 — не целое число, а показатель meetings_held "
            r"считается в штуках — нарушено правило «счётная цель — целое число")
    # a cumulative target never falls: March above June
    refused({"map": "group:vip", "action": "set", "item": "revenue", "month": "2027-03",
             "target": june["target"] + 1000},
            r"group:vip · revenue · 2027-03: цель .* больше цели .* к более позднему сроку 2027-06 — нарушено "
            r"правило «нарастающий итог не убывает")
    # preparing an event comes before it: the warm-up for the March release cannot be due in March
    warm = next(a for a in vip["activities"] if a["key"].startswith("cal-warmup-"))
    refused({"map": "group:vip", "action": "set", "item": warm["key"], "deadline": "2027-03"},
            r"group:vip · cal-warmup-продукт-x · 2027-03: срок 2027-03 не раньше месяца события 2027-03 — "
            r"нарушено правило «подготовка к событию — раньше события")
    # English wording
    with pytest.raises(ConfigError, match=r"target .* is below the baseline .* breaks the rule “a target is never "
                                          r"below its baseline"):
        apply_overrides(res, {"edits": [{"map": "group:vip", "action": "set", "item": "revenue",
                                          "month": "2027-03", "target": 1}]}, lang="en")
    # a target equal to its baseline is accepted and labelled a hold
    ok = apply_overrides(res, {"edits": [{"map": "group:vip", "action": "set", "item": "revenue", "month": "2027-03",
                                           "target": march["baseline"]}]})
    (a,) = [x for x in ok.map("group:vip")["activities"] if x["key"] == "revenue" and x["month"] == "2027-03"]
    assert a["target"] == a["baseline"] and "hold" in a["labels"] and a["origin"] == "override"


# =====================================================================================
# key accounts: the contact log, the contact rules, committees, dossiers
# =====================================================================================

LOG_ROWS = [
    # date, company, INN, manager, result, contact, position, role
    ("28.09.2026 10:00", "ООО Эл", "", "Петров", "позитивный", "", "", ""),
    ("01.10.2026 09:30", "ООО Кей", "7701000001", "Иванова", "Позитивный", "Смирнов С.", "Директор", "ЛПР"),
    ("02.10.2026 11:00", "ООО Кей", "7701000001", "Иванова", "позитивный", "", "", ""),
    ("03.10.2026 12:00", "ООО Кей", "7701000001", "Иванова", "позитивный", "Орлова О.", "Закупки", "блокер"),
    ("05.10.2026 10:00", "ООО Эл", "", "Петров", "негативный", "", "", ""),
    ("08.10.2026 10:00", "ООО Эл", "", "Петров", "позитивный", "", "", ""),
    ("10.10.2026 15:00", "ООО Кей", "7701000001", "Иванова", "отказ", "", "", ""),
    ("12.10.2026 15:00", "ООО Кей", "7701000001", "Сидоров", "нейтральный", "", "", ""),
    ("18.10.2026 10:00", "ООО Эл", "", "Петров", "позитивный", "", "", ""),
    ("25.10.2026 15:00", "ООО Кей", "7701000001", "Иванова", "нейтральный", "", "", ""),
    ("28.10.2026 10:00", "ООО Эл", "", "Петров", "позитивный", "", "", ""),
    ("31.10.2026 10:00", "ООО Неизвестная", "", "Петров", "позитивный", "", "", ""),
]
LOG_HEADER = ("Дата", "Компания", "ИНН", "Ответственный", "Результат", "Контактное лицо", "Должность", "Роль")


def log_segments() -> pd.DataFrame:
    return pd.DataFrame({C.CUSTOMER_ID: ["7701000001", "ООО ЭЛ"], C.CUSTOMER_NAME: ["ООО «Кей»", "ООО Эл"],
                         C.INN: ["7701000001", ""], C.KEY_ACCOUNT: [True, True], C.MANAGER: ["Иванова", "Петров"],
                         C.TIER: "vip", C.REVENUE: [5e6, 4e6], C.FIRST_PURCHASE: pd.Timestamp("2020-03-01")})


def write_log_csv(path: Path, rows: list[tuple[str, ...]] = LOG_ROWS) -> Path:
    """As a CRM exports it: cp1251, ';', a title row above the header."""
    lines = ["Отчёт по делам за период;;;;;;;", ";".join(LOG_HEADER)] + [";".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    return path


def test_contact_log_is_read_and_the_rules_are_checked_by_hand(tmp_path: Path):
    from workbench.io.activitylog import read_activity_log
    from workbench.maps.contacts import committees, contact_rule_check, parse_activity_log

    raw = read_activity_log(write_log_csv(tmp_path / "дела.csv"), "data/дела.csv")
    log = parse_activity_log(raw, log_segments())
    # matched by INN (Кей) and by the name (Эл, case and quotes aside); one company is not a customer
    assert log.unmatched == 1 and len(log.log) == 11 and log.dated
    assert log.end == pd.Timestamp("2026-10-31")    # the export's extent (days), every row counted
    checks = contact_rule_check(log, ["7701000001", "ООО ЭЛ"], "2026-10").set_index([C.CUSTOMER_ID, "month"])
    kei = checks.loc[("7701000001", "2026-10")]
    # three positive contacts on the 1st-3rd: the month still breaks the 10-day rule
    # (3 Oct -> the end of the month, 31 Oct: 28 days)
    assert (kei["positive"], kei["longest_gap_days"], kei["gap_ok"]) == (3, 28, False)
    # the negative of 10 Oct: Сидоров (another person) on the 12th, Иванова again only on the 25th: kept
    assert (kei["negative"], kei["pause_broken"], kei["pause_ok"]) == (1, 0, True)
    el = checks.loc[("ООО ЭЛ", "2026-10")]
    # 28 Sep -> 8 -> 18 -> 28 Oct: 10, 10, 10 days, then 3 to the month's end: kept
    assert (el["positive"], el["longest_gap_days"], el["gap_ok"]) == (3, 10, True)
    # the negative of 5 Oct is followed by Петров himself on the 8th: the pause is broken
    assert (el["negative"], el["pause_broken"], el["pause_ok"]) == (1, 1, False)
    # September: only the 28th, counted from the 1st: a 27-day gap
    assert checks.loc[("ООО ЭЛ", "2026-09"), "longest_gap_days"] == 27
    people = committees(log.log, ["7701000001"])
    assert people[["contact", "position", "role"]].values.tolist() == [
        ["Смирнов С.", "Директор", "decision_maker"], ["Орлова О.", "Закупки", "blocker"]]


def test_contact_log_from_a_workbook_with_explicit_columns(tmp_path: Path):
    from openpyxl import Workbook

    from workbench.io.activitylog import read_activity_log
    from workbench.maps.contacts import parse_activity_log

    wb = Workbook()
    ws = wb.active
    ws.title = "Дела"
    ws.append(["Когда", "Клиент", "Кто", "Оценка"])
    ws.append([__import__("datetime").datetime(2026, 10, 1, 9, 0), "ООО Эл", "Петров", "positive"])
    ws.append(["2026-10-20", "ООО Эл", "Петров", "negative"])
    wb.save(tmp_path / "log.xlsx")
    raw = read_activity_log(tmp_path / "log.xlsx", "data/log.xlsx", columns={"date": "Когда"})
    log = parse_activity_log(raw, log_segments(), "en")
    assert log.log["result"].tolist() == ["positive", "negative"]
    assert log.log["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-01", "2026-10-20"]


def test_contact_log_errors_name_file_row_and_column(tmp_path: Path):
    from workbench.errors import InputError
    from workbench.io.activitylog import read_activity_log
    from workbench.maps.contacts import parse_activity_log

    rows = [("31.02.2026 10:00", "ООО Эл", "", "Петров", "позитивный", "", "", ""),
            ("01.10.2026 10:00", "ООО Эл", "", "Петров", "так себе", "", "", ""),
            ("02.10.2026 10:00", "ООО Эл", "", "Петров", "позитивный", "Ким", "", "казначей")]
    raw = read_activity_log(write_log_csv(tmp_path / "bad.csv", rows), "data/bad.csv")
    with pytest.raises(InputError, match=r"(?s)data/bad\.csv: дата не распознана .*строка 3, столбец «Дата»: "
                                         r"значение «31\.02\.2026 10:00».*data/bad\.csv: результат контакта не "
                                         r"распознан .*строка 4, столбец «Результат»: значение «так себе».*роль в "
                                         r"закупочном комитете не распознана .*строка 5, столбец «Роль»"):
        parse_activity_log(raw, log_segments())
    (tmp_path / "none.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"data/none\.csv: не найдена строка заголовка журнала контактов"):
        read_activity_log(tmp_path / "none.csv", "data/none.csv")


def test_key_account_rules_without_a_log_are_rules_and_with_a_log_are_checked(templates: dict, tmp_path: Path):
    from workbench.io.activitylog import read_activity_log
    from workbench.maps.contacts import parse_activity_log

    seg, led = individual_case()
    # without a log: no contact KPI anywhere, nothing checked, the dossier still reviewed every 3 months
    res = draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates)
    assert not set(res.checkpoints[C.KPI]) & {"positive_contacts", "negative_pause_kept"}
    assert res.contact_checks.empty and res.contact_log == {}
    (dossier,) = res.dossiers
    assert dossier["customer_id"] == "A" and dossier["reviews"] == ["2027-01", "2027-04", "2027-07", "2027-10"]
    assert dossier["missing_roles"] == ["champion", "decision_maker", "blocker", "influencer"]
    # with a log naming A's decision maker: the committee slot is filled, the roles checkpoint
    # starts from one known role, the rules are checked for A's months
    rows = [("01.12.2026 10:00", "ООО A", "", "Иванова", "позитивный", "Ли А.", "Директор", "ЛПР"),
            ("20.12.2026 10:00", "ООО A", "", "Иванова", "позитивный", "", "", "")]
    raw = read_activity_log(write_log_csv(tmp_path / "a.csv", rows), "data/a.csv")
    res = draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates,
                     contacts=parse_activity_log(raw, seg))
    ind = res.map("individual:A")
    assert [(c["role"], c["name"], c["note"]) for c in ind["committee"] if c["name"]] == \
        [("decision_maker", "Ли А.", "Директор")]
    roles = [(a["baseline"], a["target"]) for a in ind["activities"] if a["kpi"] == "known_roles"]
    assert roles == [(1.0, 2.0), (1.0, 3.0), (1.0, 4.0)]          # towards the four roles
    (check,) = res.contact_checks.to_dict("records")
    assert (check["month"], check["positive"], check["longest_gap_days"], check["gap_ok"]) == ("2026-12", 2, 19, False)
    assert "committee" in res.profiles["A"]["content"]
    # the dossier sheet: the source's contents, the known decision maker, the roles to find, reviews
    from workbench.report.maps_report import add_maps_sheets
    from workbench.report.xlsx import Book

    book = Book("ru")
    add_maps_sheets(book, res, "ru")
    ws = book.workbook()["Досье ООО A"]
    cells = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r and r[0]}
    for section in ("Карточка", "История заказов и контактов", "Закупочный комитет и схема принятия решения",
                    "Потребности и задачи клиента", "Прямые конкуренты", "Пересмотр досье"):
        assert section in cells
    assert cells["ЛПР"] == "Ли А., Директор" and cells["Блокер"] == "не известен — найти"
    assert cells["Контакты по журналу"] == "всего 2: позитивных 2, негативных 0"
    assert [cells[f"Пересмотр {i}"] for i in range(1, 5)] == ["январь 2027", "апрель 2027", "июль 2027",
                                                               "октябрь 2027"]
    assert str(ws.cell(row=2, column=1).value).startswith("Доступ: менеджер (Иванова) и его непосредственный")
    # the summary: one finding for the key accounts that broke a rule in the last month checked
    from workbench.report.maps_report import maps_findings

    (f,) = [f for f in maps_findings(res, "ru") if "Правила контактов" in f["headline"]]
    assert f["headline"] == "Правила контактов нарушены у 1 из 1 ключевого клиента (декабрь 2026)"
    assert f["number"] == "1 / 1"   # the money is the finding's stake
    assert (f["owner"], f["at_stake"], f["due"], f["audience"]) == ("kam", 12000.0, "2027-01-01", "management")


# =====================================================================================
# workload: tasks per salesperson and month within the cap
# =====================================================================================

def _task(uid: str, month: str, persons: list[str], values: dict, key: str = "", kind: str = "task",
          fixed: bool = False) -> dict:
    return {"uid": uid, "source": "maps", "map_id": "group:x", "key": key or uid, "activity": uid, "owner": "kam",
            "month": month, "deadline": month, "persons": persons, "value": values, "kind": kind, "fixed": fixed}


def test_balance_keeps_the_most_valuable_tasks_and_moves_the_rest_by_hand():
    from workbench.maps.workload import balance, load_table

    months = ["2027-01", "2027-02", "2027-03"]
    A, B = "Анна", "Борис"
    tasks = pd.DataFrame([
        _task("T1", "2027-01", [A], {A: 300.0}), _task("T2", "2027-01", [A], {A: 100.0}),
        _task("T3", "2027-01", [A], {A: 200.0}), _task("T4", "2027-01", [A, B], {A: 50.0, B: 500.0}),
        _task("T8", "2027-01", [A], {A: 10.0}, key="qbr"), _task("F1", "2027-01", [A], {A: 5.0}, fixed=True),
        _task("R1", "2027-01", [A], {A: 999.0}, kind="result"),
        _task("T5", "2027-02", [A], {A: 80.0}), _task("T6", "2027-02", [A], {A: 70.0}),
        _task("T9", "2027-03", [A], {A: 10.0}, key="qbr"),
    ])
    where, moves = balance(tasks, months, cap=2)
    # January: 6 tasks for Анна (the result is not counted), cap 2: the consultant's edit stays and
    # the most valuable one (T1) is kept; the rest go, least valuable first:
    # T8 -> February is full, its next occurrence is in March: merged into it;
    # T4 -> needs room for Анна and Борис: February is full for Анна, March has room: moved;
    # T2, T3 -> no room left in the plan: deferred past it
    assert where == {"T1": "2027-01", "F1": "2027-01", "R1": "2027-01", "T8": "", "T4": "2027-03", "T2": "",
                     "T3": "", "T5": "2027-02", "T6": "2027-02", "T9": "2027-03"}
    assert moves[["activity", "how", "to"]].values.tolist() == [
        ["T8", "merged", "2027-03"], ["T4", "later", "2027-03"], ["T2", "past_plan", ""], ["T3", "past_plan", ""]]
    load = load_table(tasks, where, months).set_index(["person", "month"])
    assert load.loc[A, "before"].tolist() == [6, 2, 1] and load.loc[A, "after"].tolist() == [2, 2, 2]
    assert load.loc[A, "results"].tolist() == [1, 0, 0]
    assert load.loc[B, "before"].tolist() == [1, 0, 0] and load.loc[B, "after"].tolist() == [0, 0, 1]
    # a holiday month takes nothing: with March blocked, T4 has no room either
    where, _ = balance(tasks, months, cap=2, blocked=["2027-03"])
    assert where["T4"] == "" and where["T8"] == ""


def test_the_plan_fits_the_team(templates: dict):
    from workbench.cjm import build_cjms, load_cjm_templates
    from workbench.maps.workload import plan_workload, task_table

    seg, led = synthetic()
    res = draft_maps(seg, led, {"calendar": CAL}, "2026-12", templates)
    cjm = build_cjms(seg, load_cjm_templates(ROOT / "templates", None, []), "2026-12", "ru",
                     plan_start=res.months[0], profiles=res.profiles)
    before = task_table(res, cjm, seg)
    maps2, cjm2, w = plan_workload(res, cjm, seg, cap=6)
    assert w.over_before and not w.over_after                       # over the cap before, within it after
    sales = w.load[~w.load["team"]]
    assert (sales["after"] <= 6).all() and (sales["before"] > 6).any()
    # every salesperson of the data is there; the teams are counted, not capped
    assert set(sales["person"]) == set(seg[C.MANAGER]) and {"marketing"} <= set(w.load["person"])
    # what moved is said: a note in the map, and the checkpoints follow it
    moved = w.moves[(w.moves["source"] == "maps") & (w.moves["how"] == "later")]
    assert len(moved)
    notes = [n for m in maps2.maps for n in m["notes"] if n["code"] in ("deferred", "deferred_merged", "deferred_out")]
    assert len(notes) == len(w.moves[w.moves["source"] == "maps"])
    # a task merged into its next occurrence says so, and where (not "deferred past the plan")
    merged = w.moves[(w.moves["source"] == "maps") & (w.moves["how"] == "merged")]
    assert sorted((n["month"], n["to"]) for n in notes if n["code"] == "deferred_merged") == \
        sorted(zip(merged["month"], merged["to"]))
    assert len([n for n in notes if n["code"] == "deferred_out"]) == int(
        ((w.moves["source"] == "maps") & (w.moves["how"] == "past_plan")).sum())
    assert len(maps2.checkpoints) == len(res.checkpoints) - len(w.moves[(w.moves["source"] == "maps")
                                                                           & (w.moves["how"] != "later")])
    assert len(cjm2.tasks) == len(cjm.tasks) - len(w.moves[(w.moves["source"] == "cjm") & (w.moves["how"] != "later")])
    # nothing moved into May, a holiday month of the calendar
    assert "2027-05" not in set(w.moves["to"])
    # results measured from sales are never moved
    results = before[before["kind"] == "result"]
    assert len(results) and not set(w.moves["activity"]) & set(results["activity"]) - set(
        before.loc[before["kind"] == "task", "activity"])
    from workbench.maps.workload import workload_of

    assert workload_of(maps2).over_before == w.over_before and res.workload is None   # the input is left as it was


def kam_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    """individual_case with five key accounts: Иванова's A (individual map), B, C, D (values
    .40, .30, .20, .10 of the base), and E, the best of them by value (.50) and meant for an
    individual map, with no manager."""
    seg, led = individual_case()
    seg[C.KEY_ACCOUNT] = [True, True, True, True, True, False, False]
    seg["ka_value_share"] = [0.40, 0.30, 0.20, 0.10, 0.50, 0.0, 0.0]
    seg[C.MAP] = ["individual", "group", "group", "group", "individual", "group", "group"]
    seg[C.MANAGER] = ["Иванова"] * 4 + ["", "Иванова", "Иванова"]
    return seg, led


def test_key_accounts_a_kam_can_carry_and_those_waiting_for_one(templates: dict, tmp_path: Path):
    from workbench.io.activitylog import read_activity_log
    from workbench.maps import WAITING_COLUMNS, kam_capacity
    from workbench.maps.contacts import parse_activity_log
    from workbench.segment.key_accounts import kam_load

    seg, led = kam_case()
    # Иванова carries 3 (source 002: a KAM handles 1-3): A first (its individual map), then by value
    # B (.30) and C (.20); D (.10) waits. E has no manager: nobody carries it, however valuable.
    carried, waiting = kam_capacity(seg, 3)
    assert carried == ["A", "B", "C"]
    assert list(waiting.columns) == list(WAITING_COLUMNS)
    # most valuable first by revenue: E and D both 800; ties by customer_id
    assert waiting[[C.CUSTOMER_ID, "reason", "deserves_map"]].values.tolist() == [
        ["D", "over", False], ["E", "no_manager", True]]
    # as many as the segmentation counts over the KAM norm
    assert len(waiting) == kam_load(seg, 3)[1]["over_limit"] == 2
    assert kam_capacity(seg, 1)[0] == ["A"] and kam_capacity(seg, None)[0] == ["E", "A", "B", "C", "D"]
    # the maps: dossiers and contact checks only for the carried; E gets no individual map
    rows = [("01.12.2026 10:00", "ООО A", "", "Иванова", "позитивный", "", "", ""),
            ("02.12.2026 10:00", "ООО D", "", "Иванова", "позитивный", "", "", "")]
    log = parse_activity_log(read_activity_log(write_log_csv(tmp_path / "a.csv", rows), "data/a.csv"), seg)
    res = draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates, contacts=log, kam_max=3)
    assert res.key_accounts == ["A", "B", "C", "D", "E"] and res.kam_accounts == ["A", "B", "C"]
    assert [d["customer_id"] for d in res.dossiers] == ["A", "B", "C"]
    # every carried account is checked (B and C with no contact break the 10-day rule); D, which
    # waits, is not, though the log holds a contact with it
    assert set(res.contact_checks[C.CUSTOMER_ID]) == {"A", "B", "C"}
    assert [m["customer_id"] for m in res.maps if m["kind"] == "individual"] == ["A"]
    assert res.no_content == [] and res.waiting[C.CUSTOMER_ID].tolist() == ["D", "E"]
    # without the norm every key account is carried, as before: E is meant for an individual map
    # but its data hold nothing individual
    old = draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates)
    assert len(old.dossiers) == 5 and old.no_content == ["E"] and old.waiting.empty


def test_dossier_reviews_are_tasks_of_the_kam_and_move_with_the_load(templates: dict):
    from workbench.maps.workload import plan_workload, task_table, workload_of

    seg, led = kam_case()
    res = draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates, kam_max=3)
    tasks = task_table(res, None, seg)
    # B and C (no individual map) are reviewed in the plan's months 1, 4, 7, 10; A's review is a
    # checkpoint of its individual map
    reviews = tasks[tasks["source"] == "dossier"]
    assert reviews[["map_id", "month"]].values.tolist() == [
        [f"dossier:{c}", m] for c in "BC" for m in ("2027-01", "2027-04", "2027-07", "2027-10")]
    assert reviews["persons"].tolist() == [["Иванова"]] * 8 and reviews["value"].tolist() == [{"Иванова": 800.0}] * 8
    assert reviews["activity"].tolist()[0] == "Пересмотр досье: ООО B"
    # January, April, July and October for Иванова: A's dossier checkpoint, the two reviews and the
    # typical map's calls (16 000 of her customers' revenue) = 4 tasks each; with a cap of 3 the
    # least valuable goes: a review (800; B before C on the tie), to the next month, which holds 2
    # (February: A's offer and meeting) or 1 (May, August, November: A's meeting)
    mine = tasks[(tasks["kind"] == "task") & tasks["persons"].map(lambda p: "Иванова" in p)]
    assert mine.groupby("month").size()[["2027-01", "2027-04", "2027-07", "2027-10"]].tolist() == [4, 4, 4, 4]
    maps2, _, w = plan_workload(res, None, seg, cap=3)
    assert w.moves[["map_id", "month", "how", "to"]].values.tolist() == [
        ["dossier:B", m, "later", to] for m, to in (("2027-01", "2027-02"), ("2027-04", "2027-05"),
                                                    ("2027-07", "2027-08"), ("2027-10", "2027-11"))]
    b = next(d for d in maps2.dossiers if d["customer_id"] == "B")
    assert b["reviews"] == ["2027-02", "2027-05", "2027-08", "2027-11"] and b["next_review"] == "2027-02"
    assert b["deferred"][0] == {"month": "2027-01", "to": "2027-02"} and len(b["deferred"]) == 4
    assert next(d for d in res.dossiers if d["customer_id"] == "B")["reviews"][0] == "2027-01"   # input kept
    assert not workload_of(maps2).over_after


def test_waiting_key_accounts_in_the_report_and_the_workload_finding(templates: dict):
    from workbench.report.keyaccounts_report import render_key_accounts
    from workbench.report.workload_report import workload_findings

    seg, led = kam_case()
    res = draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates, kam_max=3)
    html = render_key_accounts(res, "ru", "RUB")
    assert re.search(r'Ключевых \(золотых\) клиентов: <span class="wb-count" data-count="kam.key_accounts">5</span>'
                     r'\. KAM ведёт 1–3 ключевых \(источник 002\), поэтому в плане — <span class="wb-count" '
                     r'data-count="kam.carried">3</span>', html)
    assert 'data-count="kam.over_limit">2</span> ждут KAM' in html
    assert "Ждут KAM" in html and "менеджер не назначен" in html and "у менеджера уже 3 ключевых" in html
    (f,) = workload_findings(None, "ru", "RUB", waiting=res.waiting, kam_max=3)
    assert f["headline"] == "Ждут KAM 2 ключевых клиента: у их менеджеров уже по 3 ключевых"
    assert f["at_stake"] == 1600.0 and f["owner"] == "director" and f["severity"] == "warn"
    en = render_key_accounts(draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates, "en",
                                        kam_max=3), "en", "RUB")
    assert "Waiting for a KAM" in en and "no manager assigned" in en


def test_the_sleeping_map_lists_whom_to_call_first(templates: dict):
    seg, led = synthetic()
    sleeping = seg[C.LIFECYCLE] == "sleeping"           # customers 5, 15, 20, 45
    seg["wake_value"] = 0.0
    seg.loc[sleeping, "wake_value"] = [500.0, 900.0, 100.0, 300.0]
    seg["near_lost"] = False
    seg.loc[seg.index[45], "near_lost"] = True           # close to the lost line: first, whatever it is worth
    seg["days_to_lost"] = 200
    res = draft_maps(seg, led, {}, "2026-12", templates)
    ranking = res.map("group:sleeping_reactivation")["ranking"]
    assert [r["customer_id"] for r in ranking] == [f"77{i:08d}" for i in (45, 15, 5, 20)]
    assert [r["first"] for r in ranking] == [True, False, False, False] and ranking[1]["value"] == 900.0
    assert res.map("group:typical")["ranking"] == []
    from workbench.report.maps_report import render_maps_html

    html = render_maps_html(res, "ru")
    assert 'сначала те, кто в шаге от ухода (<span class="wb-count" data-count="map.sleeping_reactivation.first">1' in html
    # a template's rank is checked like every key
    from workbench.maps import validate_template

    data = yaml_of("sleeping_reactivation")
    data["rank"] = {"by": "profit", "first": "lost"}
    with pytest.raises(ConfigError, match=r"(?s)rank\.by: значение \"profit\" недопустимо; допустимые значения: "
                                          r"wake_value, revenue.*rank\.first: значение \"lost\" недопустимо; "
                                          r"допустимые значения: near_lost"):
        validate_template("sleeping_reactivation", data, "templates/maps/sleeping_reactivation.yaml")


def yaml_of(name: str) -> dict:
    import yaml

    return yaml.safe_load((TEMPLATES / f"{name}.yaml").read_text(encoding="utf-8"))


# =====================================================================================
# the demo: a plan its team can carry out
# =====================================================================================

def test_demo_plan_is_executable(demo_run):
    """On the demo: no target below its baseline; every salesperson within the cap (counted
    again here from the checkpoint files); individual maps that differ from each other and from
    their group maps; no nurturing figure from 3 / 40 / 57 %; the contact rules checked on the
    demo's contact log."""
    from workbench.kpis import KPIS
    from workbench.steps import load_result

    path, _ = demo_run
    work = path / "work" / "2026-10"
    maps, cjm = load_result(work, "maps"), load_result(work, "cjm")
    seg = pd.read_parquet(work / "segments.parquet")
    cp = pd.read_parquet(work / "checkpoints_maps.parquet")
    tasks = pd.read_parquet(work / "checkpoints_cjm.parquet")
    # 1. targets: never below the baseline where more is better
    up = cp[C.KPI].map(lambda k: KPIS[k].direction == "up")
    assert len(cp) and (cp.loc[up, C.TARGET] >= cp.loc[up, C.BASELINE] - 1e-9).all()
    # 2. load: tasks (entered checkpoints and CJM tasks) per manager and month, counted with pandas
    from workbench.maps.workload import workload_of

    cap = workload_of(maps).cap
    manager = seg.set_index(C.CUSTOMER_ID)[C.MANAGER].astype(str)
    members = {m["id"]: m["members"] for m in maps.maps}
    # a group CJM serves its tier's customers but the lost; state customers of a tier with a
    # tender variant are served by that variant instead (the demo's VIPs: 3 of 4)
    served = seg[seg[C.LIFECYCLE] != "lost"]
    for cjm_id, info in cjm.meta.items():
        if info["kind"] == "individual":
            members[cjm_id] = [info["customer_id"]]
            continue
        mine = served[served[C.TIER] == info["segment"]]
        if f"cjm:{info['segment']}:tender" in cjm.meta:
            mine = mine[mine["state_customer"] == bool(info["tender"])]
        members[cjm_id] = mine[C.CUSTOMER_ID].tolist()
    assert "cjm:vip:tender" in cjm.meta and len(members["cjm:vip:tender"]) == 3
    both = pd.concat([cp, tasks], ignore_index=True)
    work_rows = both[(both[C.KPI_SOURCE] == "entered") & both[C.OWNER].isin(["hunter", "closer", "farmer", "kam"])]
    people = work_rows[C.MAP_ID].map(lambda mid: sorted(set(manager.reindex(members[mid]).dropna())))
    load = work_rows.assign(person=people).explode("person")[["person", C.MONTH]]
    # the dossier reviews of the carried key accounts without an individual map are the KAM's tasks too
    with_map = {m["customer_id"] for m in maps.maps if m["kind"] == "individual"}
    reviews = pd.DataFrame([(d["manager"], month) for d in maps.dossiers if d["customer_id"] not in with_map
                            for month in d["reviews"]], columns=["person", C.MONTH])
    assert len(reviews)
    load = pd.concat([load, reviews], ignore_index=True).groupby(["person", C.MONTH]).size()
    assert load.max() <= cap, load[load > cap]
    assert workload_of(maps).over_before and not workload_of(maps).over_after   # the demo needed moves, and got them
    # key accounts: a KAM carries at most 3 (source 002); the rest wait, as many as the
    # segmentation counts over the norm; dossiers, contact checks and individual maps only for the carried
    key = seg[seg[C.KEY_ACCOUNT]]
    per_manager = key.groupby(C.MANAGER).size()
    assert len(key) == 40 and (per_manager > 3).all()          # every manager of the demo is over the norm
    carried = set(maps.kam_accounts)
    assert len(carried) == int(per_manager.clip(upper=3).sum()) == 18
    assert key[key[C.CUSTOMER_ID].isin(carried)].groupby(C.MANAGER).size().max() == 3
    assert len(maps.waiting) == int((per_manager - 3).sum()) == 22
    assert set(maps.waiting[C.CUSTOMER_ID]) == set(key[C.CUSTOMER_ID]) - carried
    assert {d["customer_id"] for d in maps.dossiers} == carried
    assert set(maps.contact_checks[C.CUSTOMER_ID]) <= carried
    individual_ids = {m["customer_id"] for m in maps.maps if m["kind"] == "individual"}
    assert individual_ids <= carried and individual_ids == set(seg.loc[seg["map"] == "individual", C.CUSTOMER_ID])
    # within a manager, the carried ones are the individual-map ones, then the most valuable
    for name, grp in key.groupby(C.MANAGER):
        ranked = grp.assign(ind=grp["map"] == "individual").sort_values(
            ["ind", "ka_value_share", C.CUSTOMER_ID], ascending=[False, False, True])
        assert set(ranked[C.CUSTOMER_ID].head(3)) == set(grp[C.CUSTOMER_ID]) & carried, name
    # 3. individual maps: each its own content, none a copy of its group map
    individual = [m for m in maps.maps if m["kind"] == "individual"]
    assert len(individual) >= 3
    contents = [frozenset(a["activity"] for a in m["activities"]) for m in individual]
    assert len(set(contents)) == len(contents)
    by_id = {m["id"]: m for m in maps.maps}
    for m in individual:
        group = {a["activity"] for a in by_id[m["group_map"]]["activities"]}
        assert {a["activity"] for a in m["activities"]} - group and m["profile"]["content"]
    # 4. nurturing: readiness from each customer's own rhythm, recomputed here
    due = pd.to_datetime(seg[C.LAST_PURCHASE]) + pd.to_timedelta(seg["median_gap_days"], unit="D")
    first_end = pd.Period(cjm.plan_start, "M").end_time.normalize()
    late = (pd.Period("2026-10", "M").end_time.normalize() - due).dt.days
    ready = (seg[C.ORDERS] >= 3) & (seg["median_gap_days"] > 0) & (due <= first_end) & \
        (late <= seg["median_gap_days"]) & (seg[C.LIFECYCLE] != "lost")
    # a customer with an open deal in the demo's CRM export counts under the open deal, not the rhythm
    deals = pd.read_parquet(path / "work" / "deals.parquet")
    has_open = seg[C.CUSTOMER_ID].astype(str).isin(deals.loc[deals[C.OUTCOME] == "open", C.CUSTOMER_ID].astype(str))
    assert int(cjm.nurturing["due"].sum()) == int((ready & ~has_open).sum())
    assert int(cjm.nurturing["open_deal"].sum()) == int((has_open & (seg[C.LIFECYCLE] != "lost")).sum()) > 0
    assert not {"buy_now", "open_to_talk", "not_ready"} & set(cjm.nurturing.columns)
    report = (path / "deliverables" / "2026-10" / "report.html").read_text(encoding="utf-8")
    assert "Покупают сейчас (3 %)" not in report and "Ориентир рынка, а не данные о ваших клиентах" in report
    # 5. key accounts: the contact log is read and the rules are checked month by month
    assert maps.contact_log["dated"] and len(maps.contact_checks)
    assert "Правило 10 дней" in report and "Нагрузка: задачи на человека в месяц" in report
    assert "Ждут KAM 22 ключевых клиента" in report   # the finding of its own; the list is in the appendix
    appendix = report[report.index('id="appendix"'):]
    assert "Ждут KAM" in appendix and "Правило 10 дней" in appendix and "Досье ключевых клиентов" in appendix


def test_edits_that_keep_a_salesperson_over_the_cap_are_refused(templates: dict):
    from workbench.maps.workload import plan_workload

    seg, led = individual_case()
    # Иванова (every customer's manager) gets three added visits in February on top of her plan
    edits = [{"map": "individual:A", "action": "add", "item": f"visit{i}", "month": "2027-02", "track": "sales",
              "owner": "kam", "activity": f"Визит {i}", "kpi": "meetings_held", "target": 1} for i in range(3)]
    res = draft_maps(seg, led, {"group_templates": ["typical"]}, "2026-12", templates, overrides={"edits": edits})
    # February for Иванова: the decision-maker meeting (months 2, 5, ...), the P2 cross-sell offer
    # (month 2) and the three visits = 5 tasks. With a cap of 3 the two drafted ones move, the edits stay
    _, _, w = plan_workload(res, None, seg, cap=3)
    assert not w.over_after and w.moves["month"].tolist() == ["2027-02", "2027-02"]
    assert sorted(w.moves["activity"].str[:7]) == ["Встреча", "Предлож"]
    with pytest.raises(ConfigError, match=r"overrides/maps\.yaml:\n  - 2027-02: individual:A · visit0 · 2027-02: у "
                                          r"Иванова в этом месяце 3 задачи при лимите 2, и правки перенести нельзя — "
                                          r"нарушено правило «задач у менеджера в месяц — не больше лимита"):
        plan_workload(res, None, seg, cap=2)


def test_the_contact_log_is_an_input_never_a_sales_file(demo_run):
    from workbench.config import load_engagement
    from workbench.ingest.sources import plan_sales

    path, _ = demo_run
    eng = load_engagement(path)
    assert eng.input_path("activities") == path / "data" / "activities.xlsx"
    specs, others = plan_sales(eng)   # data/* finds it, yet it is neither read as sales nor listed as unknown
    assert [s.rel for s in specs] == ["data/sales_1c.csv"] and others == []
