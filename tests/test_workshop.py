"""The live workshop's panels, driven from Python (no browser): values typed into the fields,
the before/after tables read back, saves written and undone in a copy of the demo engagement."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workbench import columns as C
from workbench.config import TEMPLATES_DIR, load_engagement
from workbench.errors import ConfigError
from workbench.report.html import esc
from workbench.workshop import Workshop, activity_edits, changed_customers, merge_tree, monthly_revenue
from workbench.workshop import units
from workbench.workshop.compare import cell_counts, class_totals
from workbench.workshop.maps import read_target, target_text
from workbench.workshop.thresholds import threshold_problems


@pytest.fixture(scope="module")
def demo_imported(tmp_path_factory):
    """The demo engagement generated and imported once for this module."""
    from workbench.demo import create_demo
    from workbench.steps import import_step

    path = create_demo(tmp_path_factory.mktemp("ws") / "engagements" / "demo")
    import_step(load_engagement(path))
    return path


@pytest.fixture()
def demo(demo_imported, tmp_path):
    """A private copy the test may save into."""
    dst = tmp_path / "engagements" / "demo"
    shutil.copytree(demo_imported, dst)
    return dst


@pytest.fixture()
def ws(demo):
    w = Workshop(demo)
    w.show()
    return w


def _counts(w: Workshop) -> dict[str, int]:
    return dict(zip(w.result.tier_mix["tier"], w.result.tier_mix["customers"].astype(int)))


def _overrides(demo: Path) -> list[str]:
    folder = demo / "overrides"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _set(w: Workshop, key: str, value: float) -> None:
    """Move a threshold the way the slider does (settings units: shares as 0..1)."""
    w.thresholds.controls[key].value = value


# --- pure helpers -------------------------------------------------------------------------
def test_changed_customers_lists_each_changed_field_with_names():
    before = pd.DataFrame({C.CUSTOMER_ID: ["1", "2", "3"], C.CUSTOMER_NAME: ["Альфа", "Бета", "Гамма"],
                           C.REVENUE: [30.0, 20.0, 10.0], "tier": ["strategic", "typical", "ballast"],
                           "abc": ["A", "B", "C"], "xyz": ["X", "Y", "Z"], "lifecycle": ["active"] * 3})
    after = before.assign(tier=["vip", "typical", "ballast"], abc=["A", "A", "C"])
    snapshot = after.copy()
    out = changed_customers(before, after)
    assert out.to_dict("records") == [
        {"customer_id": "1", "customer_name": "Альфа", "revenue": 30.0, "field": "tier", "before": "strategic",
         "after": "vip"},
        {"customer_id": "2", "customer_name": "Бета", "revenue": 20.0, "field": "abc", "before": "B", "after": "A"},
    ]
    pd.testing.assert_frame_equal(after, snapshot)  # inputs untouched
    assert changed_customers(before, before).empty


def test_class_totals_and_cell_counts_before_and_after():
    before = pd.DataFrame({C.REVENUE: [50.0, 30.0, 15.0, 5.0], "tier": ["vip", "typical", "typical", "ballast"],
                           "abc": ["A", "A", "B", "C"], "xyz": ["X", "Z", "Z", "N"]})
    after = before.assign(tier=["vip", "vip", "typical", "ballast"], abc=["A", "B", "B", "C"])
    tiers = class_totals(before, after, "tier", ("vip", "strategic", "typical", "ballast"))
    assert tiers.to_dict("list") == {
        "class": ["vip", "strategic", "typical", "ballast"], "customers_before": [1, 0, 2, 1],
        "customers_after": [2, 0, 1, 1], "revenue_before": [50.0, 0.0, 45.0, 5.0],
        "revenue_after": [80.0, 0.0, 15.0, 5.0]}
    cells = cell_counts(before, after, ("A", "B", "C"), ("X", "Y", "Z", "N")).set_index(["row", "col"])
    assert (cells.at[("A", "Z"), "before"], cells.at[("A", "Z"), "after"]) == (1, 0)
    assert (cells.at[("B", "Z"), "before"], cells.at[("B", "Z"), "after"]) == (1, 2)
    assert int(cells["before"].sum()) == int(cells["after"].sum()) == 4


def test_room_numbers_read_and_shown_in_the_rooms_format():
    assert units.parse_number("3,5", "ru") == 3.5
    assert units.parse_number(" 3.5 % ", "ru") == 3.5
    assert units.parse_number("1\u00a0000", "ru") == 1000
    assert units.parse_number("12 017 024 ₽", "ru") == 12017024
    assert units.parse_number("\u22125", "ru") == -5
    assert units.parse_number("1,000", "en") == 1000
    with pytest.raises(units.NotANumber, match="«пять» — не число"):
        units.parse_number("пять", "ru")
    with pytest.raises(units.NotANumber, match="is not a number"):
        units.parse_number("nan", "en")
    assert units.from_display(3.5, "pct") == 0.035 and units.to_display(0.035, "pct") == 3.5
    assert units.money_short(12_345_678, "ru") == "12,3\u00a0млн\u00a0₽"
    assert units.money_short(450_000, "en", "USD") == "$\u00a0450K"
    assert [units.customers(n, "ru") for n in (1, 3, 11, 21, 40)] == [
        "1\u00a0клиент", "3\u00a0клиента", "11\u00a0клиентов", "21\u00a0клиент", "40\u00a0клиентов"]
    # a map target: shares as percent, money grouped; unchanged text reads back to the same value
    assert target_text(0.3, "share", "ru") == "30" and read_target("35", "share", "ru") == 0.35
    assert target_text(12017023.96, "currency", "ru") == "12\u00a0017\u00a0024"


def test_threshold_problems_are_said_in_the_rooms_words():
    ok = {"abc.a": 0.8, "abc.b": 0.15, "xyz.regular_x": 0.75, "xyz.regular_y": 0.5, "lifecycle.sleeping_factor": 3.0,
          "lifecycle.sleeping_min_days": 45, "tiers.vip_min_share": 0.03, "tiers.prospect_headcount": 100,
          "tiers.prospect_potential_ratio": 2.0, "tiers.prospect_trend": 0.3, "tiers.ballast_max_orders": 1}
    assert threshold_problems(ok, "ru") == []
    probs = threshold_problems({**ok, "abc.a": 0.9, "abc.b": 0.2, "xyz.regular_x": 0.4, "xyz.regular_y": 0.6}, "ru")
    assert [keys for keys, _ in probs] == [("abc.a", "abc.b"), ("xyz.regular_x", "xyz.regular_y")]
    assert probs[0][1] == ("Группы A и B вместе — 110\u00a0% выручки (90\u00a0% + 20\u00a0%), а больше 100\u00a0% "
                           "не бывает. Уменьшите одну из них.")
    (keys, text), = threshold_problems({**ok, "tiers.ballast_max_orders": 2.5}, "en")
    assert keys == ("tiers.ballast_max_orders",)
    assert text == '"Ballast: orders at most": needs a whole number from 0 to 12'


def test_monthly_revenue_fills_silent_months_with_zero():
    ledger = pd.DataFrame({C.CUSTOMER_ID: ["1", "1", "2"],
                           C.DATE: pd.to_datetime(["2026-01-05", "2026-03-10", "2026-03-11"]),
                           C.AMOUNT: [100.0, 50.0, 7.0]})
    out = monthly_revenue(ledger, "1", "2026-03", months=3)
    assert out.to_dict("list") == {"month": ["2026-01", "2026-02", "2026-03"], "revenue": [100.0, 0.0, 50.0]}


def test_activity_edits_set_move_delete_add():
    a = {"key": "qbr", "month": "2027-01", "track": "sales", "owner": "kam", "activity": "QBR", "kpi": "meetings_held",
         "target": 3.0, "baseline": 0.0, "kpi_source": "entered"}
    same = {"month": "2027-01", "track": "sales", "owner": "kam", "activity": "QBR", "kpi": "meetings_held",
            "target": 3.0, "delete": False}
    assert activity_edits("group:vip", a, same) == []
    assert activity_edits("group:vip", a, {**same, "owner": "farmer", "target": 5}) == [
        {"map": "group:vip", "action": "set", "item": "qbr", "month": "2027-01", "owner": "farmer", "target": 5.0}]
    moved = activity_edits("group:vip", a, {**same, "month": "2027-03"})
    assert [e["action"] for e in moved] == ["remove", "add"] and moved[1]["month"] == "2027-03"
    assert activity_edits("group:vip", a, {**same, "delete": True}) == [
        {"map": "group:vip", "action": "remove", "item": "qbr", "month": "2027-01"}]
    assert activity_edits("group:vip", None, {**same, "kpi": ""}, new_key="ws-1") == [
        {"map": "group:vip", "action": "add", "item": "ws-1", "month": "2027-01", "track": "sales", "owner": "kam",
         "activity": "QBR"}]


def test_merge_tree_does_not_modify_inputs():
    base = {"a": {"b": 1, "c": 2}}
    assert merge_tree(base, {"a": {"b": 5}}) == {"a": {"b": 5, "c": 2}}
    assert base == {"a": {"b": 1, "c": 2}}


# --- thresholds live ----------------------------------------------------------------------
def test_lower_vip_share_makes_more_vips_shown_before_and_after(ws):
    before = _counts(ws)
    th = ws.thresholds
    assert ws.changes.empty
    assert th.controls["tiers.vip_min_share"].field.value == "3,0"  # percent, decimal comma
    _set(ws, "tiers.vip_min_share", 0.005)
    assert th.controls["tiers.vip_min_share"].field.value == "0,5"
    after = _counts(ws)
    assert after["vip"] > before["vip"]
    assert sum(after.values()) == sum(before.values())
    moved = ws.changes[ws.changes["field"] == "tier"]
    assert (moved["after"] == "vip").sum() == after["vip"] - before["vip"]
    # the tier table carries both numbers; the revenue column agrees with own pandas sums
    assert f"data-tier='vip' data-before='{before['vip']}' data-after='{after['vip']}'" in th.tiers.value
    vip_revenue = ws.result.customers.loc[ws.result.customers["tier"] == "vip", C.REVENUE].sum()
    assert units.money_short(vip_revenue, "ru") in th.tiers.value
    cells = ws.result.customers.groupby(["abc", "xyz"]).size()
    assert f"data-cell='AX' data-before=" in th.cells.value
    assert f"data-after='{int(cells.get(('A', 'X'), 0))}'" in th.cells.value
    html = th.moved.value
    assert "wb-ws-changes" in html and esc(moved["customer_name"].iloc[0]) in html
    assert "Сменили класс: " in html
    # back to the agreed value: nobody moved
    _set(ws, "tiers.vip_min_share", ws.agreed_settings["tiers"]["vip_min_share"])
    assert ws.changes.empty and _counts(ws) == before


def test_slider_moves_the_field_and_recomputes(ws):
    th = ws.thresholds
    th.controls["tiers.vip_min_share"].slider.value = 0.5  # percent, as the room sees it
    assert th.controls["tiers.vip_min_share"].field.value == "0,5"
    assert ws.seg_settings["tiers"]["vip_min_share"] == 0.005


def test_typed_value_with_comma_is_read(ws):
    th = ws.thresholds
    th.controls["abc.a"].field.value = "75,5"
    assert ws.valid and ws.seg_settings["abc"]["a"] == 0.755
    assert th.controls["abc.a"].slider.value == 75.5
    assert (ws.changes["field"] == "abc").any()


def test_other_controls_recompute(ws):
    sleeping = int((ws.result.customers["lifecycle"] == "sleeping").sum())
    _set(ws, "lifecycle.sleeping_min_days", 365)
    assert ws.valid and ws.seg_settings["lifecycle"]["sleeping_min_days"] == 365
    assert isinstance(ws.seg_settings["lifecycle"]["sleeping_min_days"], int)
    assert int((ws.result.customers["lifecycle"] == "sleeping").sum()) < sleeping
    assert ((ws.changes["field"] == "lifecycle") & (ws.changes["before"] == "sleeping")).any()


def test_invalid_abc_greys_the_results_with_a_reason_and_no_path(ws, demo):
    th = ws.thresholds
    _set(ws, "abc.b", 0.2)
    kept = ws.result
    _set(ws, "abc.a", 0.9)  # 90 % + 20 % > 100 %
    assert not ws.valid
    assert ws.result is kept
    assert "wb-ws-stale" in th.results._dom_classes and "wb-ws-stale" in th.moved._dom_classes
    assert "wb-ws-invalid" in th.controls["abc.a"].row._dom_classes
    assert "wb-ws-invalid" not in th.controls["xyz.regular_x"].row._dom_classes
    assert th.controls["abc.a"].slider.value == 90  # the slider follows what was typed, refused or not
    assert "Группы A и B вместе — 110\u00a0% выручки" in th.message.value and "wb-ws-error" in th.message.value
    assert "/" not in th.message.value.replace("</", "") and "a + b" not in th.message.value
    assert ws.save() is False
    assert "Группы A и B вместе" in ws.saving.last_message
    assert _overrides(demo) == []
    _set(ws, "abc.a", 0.8)  # fixed: fresh again
    assert ws.valid and "wb-ws-stale" not in th.results._dom_classes


def test_text_that_is_not_a_number_is_refused_in_the_rooms_words(ws):
    th = ws.thresholds
    th.controls["xyz.regular_y"].field.value = "двадцать"
    assert not ws.valid
    assert "С перерывами: покупки не реже, чем в: «двадцать» — не число" in th.message.value
    th.controls["tiers.ballast_max_orders"].field.value = "2,5"
    assert "«Балласт: заказов не больше»: нужно целое число от 0 до 12" in th.message.value
    th.reset()
    assert ws.valid and ws.changes.empty


def test_invalid_xyz_refused_with_reason(ws, demo):
    _set(ws, "xyz.regular_x", 0.4)   # X would buy less regularly than Y (50 %)
    assert not ws.valid
    assert "Граница «регулярных» (40\u00a0%) ниже границы «с перерывами» (50\u00a0%)" in ws.thresholds.message.value
    assert ws.save() is False and _overrides(demo) == []


def test_reset_controls_back_to_agreed(ws):
    _set(ws, "tiers.ballast_max_orders", 5)
    assert not ws.changes.empty
    ws.thresholds.reset()
    assert ws.changes.empty and ws.valid


# --- save, undo, next run -----------------------------------------------------------------
def test_save_lists_what_will_be_written_then_writes_and_undo_restores(ws, demo):
    _set(ws, "tiers.vip_min_share", 0.01)
    _set(ws, "tiers.ballast_max_orders", 2)
    vips = _counts(ws)["vip"]
    plan = ws.saving.refresh()
    assert plan.lines == {"settings.yaml": ["VIP: доля выручки от: 3,0 % → 1,0 %",
                                            "Балласт: заказов не больше: 1 → 2"]}
    assert "VIP: доля выручки от: 3,0 % → 1,0 %" in ws.saving.summary.value
    assert _overrides(demo) == []  # listing writes nothing
    assert ws.save() is True
    data = yaml.safe_load((demo / "overrides" / "settings.yaml").read_text(encoding="utf-8"))
    assert data == {"segmentation": {"tiers": {"vip_min_share": 0.01, "ballast_max_orders": 2}}}
    eng = load_engagement(demo)
    assert eng.settings["segmentation"]["tiers"]["vip_min_share"] == 0.01
    assert eng.settings["segmentation"]["tiers"]["ballast_max_orders"] == 2
    assert yaml.safe_load((demo / "engagement.yaml").read_text(encoding="utf-8"))["segmentation"]["tiers"][
        "vip_min_share"] == 0.03  # the consultant's file is untouched
    assert not list((demo / "data").glob("*.yaml"))
    assert str(demo) not in ws.saving.message.value
    # the saved version is now the agreed one
    assert ws.changes.empty and _counts(ws)["vip"] == vips
    assert ws.agreed_settings["tiers"]["vip_min_share"] == 0.01

    # a second save, then undo twice
    _set(ws, "tiers.vip_min_share", 0.02)
    assert ws.save() is True
    assert load_engagement(demo).settings["segmentation"]["tiers"]["vip_min_share"] == 0.02
    assert ws.undo() is True
    assert load_engagement(demo).settings["segmentation"]["tiers"]["vip_min_share"] == 0.01
    assert ws.thresholds.controls["tiers.vip_min_share"].value == 0.01
    assert ws.undo() is True
    assert not (demo / "overrides" / "settings.yaml").exists()
    assert load_engagement(demo).settings["segmentation"]["tiers"]["vip_min_share"] == 0.03
    assert ws.undo() is False


def test_save_and_undo_wait_for_a_running_run(ws, demo):
    from workbench.io.lock import EngagementLock

    _set(ws, "tiers.vip_min_share", 0.01)
    with EngagementLock(demo, "workbench run 2026-10"):  # a run reads overrides/ while it works
        assert ws.save() is False
        assert _overrides(demo) == []
        assert ws.saving.last_message.startswith("Ничего не сохранено:")
        assert "workbench run 2026-10" in ws.saving.last_message
    assert ws.save() is True
    with EngagementLock(demo, "workbench run 2026-10"):
        assert ws.undo() is False
        assert ws.saving.last_message.startswith("Ничего не отменено:")
    assert (demo / "overrides" / "settings.yaml").exists()
    assert ws.undo() is True and not (demo / "overrides" / "settings.yaml").exists()


def test_nothing_changed_nothing_saved(ws, demo):
    assert ws.save() is False
    assert ws.saving.last_message == "Сохранять нечего: ничего не изменено."
    assert _overrides(demo) == []


def test_load_engagement_names_the_overrides_file_when_invalid(demo):
    over = demo / "overrides" / "settings.yaml"
    over.parent.mkdir(parents=True, exist_ok=True)
    over.write_text("segmentation:\n  abc: {a: 0.9, b: 0.3}\n  nonsense: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"overrides/settings\.yaml") as err:
        load_engagement(demo)
    assert "segmentation.nonsense" in str(err.value)
    over.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"overrides/settings\.yaml"):
        load_engagement(demo)


def test_next_run_segments_with_saved_thresholds(ws, demo):
    from workbench import steps

    _set(ws, "tiers.vip_min_share", 0.01)
    expected = _counts(ws)
    assert ws.save()
    ctx = steps.context(str(demo))
    res = steps.segment_step(ctx)
    assert dict(zip(res.tier_mix["tier"], res.tier_mix["customers"].astype(int))) == expected


# --- explorer -----------------------------------------------------------------------------
def test_explorer_search_filters_and_card(ws):
    ex = ws.explorer
    name = ws.result.customers[C.CUSTOMER_NAME].iloc[0]
    ex.search.value = name[-6:].lower()
    assert any(cid == ws.result.customers[C.CUSTOMER_ID].iloc[0] for _, cid in ex.customer_list.options)
    ex.search.value = ""
    ex.filter_tier.value = "ballast"
    shown = ex.filtered_customers()
    assert len(shown) and set(shown["tier"]) == {"ballast"}
    ex.filter_lifecycle.value = "lost"
    assert set(ex.filtered_customers()["lifecycle"]) <= {"lost"}
    ex.filter_tier.value = ""
    ex.filter_lifecycle.value = ""
    ex.filter_cell.value = "AX"
    assert set(ex.filtered_customers()["abc_xyz"]) == {"AX"}
    cid = ex.customer_list.options[1][1]
    ex.customer_list.value = cid
    card = ex.card.value
    row = ws.result.customers.set_index(C.CUSTOMER_ID).loc[cid]
    assert esc(str(row["tier_reason"]).split(",")[0]) in card
    assert "individual:" not in card and "group:" not in card  # no internal ids
    # the history: 24 bars, the tallest one the customer's best month, labelled with money and «мес ГГГГ»
    hist = monthly_revenue(ws.ledger, cid, ws.month)
    assert card.count("class='wb-ws-bar'") == 24
    assert f"data-revenue='{hist['revenue'].max():.2f}'" in card
    assert units.money_short(hist["revenue"].max(), "ru") in card
    assert "e+0" not in card and "1e6" not in card


def test_explorer_follows_live_segmentation(ws):
    ws.explorer.filter_tier.value = "vip"
    n = len(ws.explorer.customer_list.options)
    _set(ws, "tiers.vip_min_share", 0.005)
    assert len(ws.explorer.customer_list.options) > n


# --- maps ---------------------------------------------------------------------------------
def test_map_edits_listed_saved_and_read_back_through_the_maps_reader(ws, demo):
    from workbench.io.yamlfiles import map_overrides_path, read_map_overrides
    from workbench.maps import draft_maps, load_map_templates

    mp = ws.maps
    map_id = mp.map_choice.value
    m = mp.map(map_id)
    rows = mp.rows(map_id)
    assert rows[0]["month"].options[0][0].split()[0] in ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг",
                                                         "сен", "окт", "ноя", "дек")
    i = next(k for k, a in enumerate(m["activities"]) if a["kpi"] and a["kpi_source"] == "entered")
    a = m["activities"][i]
    rows[i]["owner"].value = "hunter" if a["owner"] != "hunter" else "farmer"
    rows[i]["target"].value = target_text(a["target"] + 7, a["unit"], "ru")
    j = next(k for k, b in enumerate(m["activities"]) if k != i and b["month"] != m["months"][-1]
             and not any(c["key"] == b["key"] and c["month"] == m["months"][-1] for c in m["activities"]))
    b = m["activities"][j]
    rows[j]["month"].value = m["months"][-1]
    new = mp.add_row(map_id)
    new["activity"].value = "Семинар для закупщиков"
    new["kpi"].value = "meetings_held"
    new["target"].value = "4"
    plan = ws.saving.refresh()
    lines = plan.lines["maps.yaml"]
    assert len(lines) == 3
    assert any("перенесено" in x for x in lines) and any("добавлено «Семинар для закупщиков»" in x for x in lines)
    assert ws.save() is True, ws.saving.last_message

    over = read_map_overrides(map_overrides_path(demo / "overrides"))
    edits = over["edits"]
    assert {"map": map_id, "action": "set", "item": a["key"], "month": a["month"], "owner": rows[i]["owner"].value,
            "target": a["target"] + 7} in edits
    assert len(edits) == 4  # set; remove + add (the move); add (the new row): unchanged targets stay out
    templates = load_map_templates(TEMPLATES_DIR / "maps", None, "ru")
    redrafted = draft_maps(ws.agreed.customers, ws.ledger, ws.engagement.settings["maps"], ws.month, templates,
                           "ru", overrides=over)
    acts = redrafted.map(map_id)["activities"]
    hit = next(x for x in acts if x["key"] == a["key"] and x["month"] == a["month"])
    assert hit["owner"] == rows[i]["owner"].value and hit["target"] == a["target"] + 7
    assert any(x["key"] == b["key"] and x["month"] == m["months"][-1] for x in acts)
    assert not any(x["key"] == b["key"] and x["month"] == b["month"] for x in acts)
    added = [x for x in acts if x["activity"] == "Семинар для закупщиков"]
    assert len(added) == 1 and added[0]["target"] == 4.0 and added[0]["kpi"] == "meetings_held"
    # the grid now shows the saved map; undo removes the file
    assert ws.undo() is True
    assert not map_overrides_path(demo / "overrides").exists()


def test_money_and_share_targets_are_shown_formatted_and_unchanged_text_writes_nothing(ws, demo):
    mp = ws.maps
    for _, map_id in mp.map_choice.options:
        for a, w in zip(mp.map(map_id)["activities"], mp.rows(map_id)):
            if a["unit"] == "currency" and a["target"]:
                assert "." not in w["target"].value and w["unit"].value == "₽"
            if a["unit"] == "share" and a["target"] is not None:
                assert float(w["target"].value.replace(",", ".")) == pytest.approx(a["target"] * 100, abs=0.05)
    assert ws.saving.plan().empty
    assert ws.save() is False and _overrides(demo) == []


def test_invalid_map_edit_refused_and_nothing_saved(ws, demo):
    rows = ws.maps.rows()
    rows[0]["activity"].value = "   "
    rows[1]["target"].value = "много"
    assert ws.save() is False
    assert "у действия нет текста" in ws.saving.last_message
    assert "цель не прочитана — «много» — не число" in ws.saving.last_message
    assert _overrides(demo) == []


# --- CJM ----------------------------------------------------------------------------------
def test_cjm_cell_edit_saved_and_loaded_by_load_cjm_templates(ws, demo):
    from workbench.cjm import load_cjm_templates

    cj = ws.cjm
    cj.choice.value = "typical"
    rows = cj.rows()
    rows[0]["action"].value = "Позвонить закупщику и уточнить график"
    rows[0]["role"].value = "user"
    cj.new["row"].value = "read_case"
    cj.new["stage"].value = "trust"
    cj.new["role"].value = "champion"
    cj.new["action"].value = "Отправить кейс из отрасли"
    assert cj.add_cell() is not None
    chosen = cj.chosen_elements()
    cj.elements[chosen[-1]].value = False  # a checkbox, not a Ctrl-click list
    plan = ws.saving.refresh()
    assert plan.lines["cjm/typical.yaml"][:2] == [
        "CJM: типовые клиенты: элементы ценности: добавлено 0, снято 1",
        "CJM: типовые клиенты: ячейки: добавлено 1, изменено 1, удалено 0"]
    assert ws.save() is True, ws.saving.last_message
    assert (demo / "overrides" / "cjm" / "typical.yaml").is_file()
    v = load_cjm_templates(TEMPLATES_DIR / "cjm", demo, [], "ru")
    tpl = v["segments"]["typical"]
    cells = {(c["row"], c["stage"]): c for c in tpl["cells"]}
    assert cells[(rows[0]["row"], rows[0]["stage"])]["ru"] == "Позвонить закупщику и уточнить график"
    assert cells[(rows[0]["row"], rows[0]["stage"])]["role"] == "user"
    assert cells[("read_case", "trust")]["ru"] == "Отправить кейс из отрасли"
    assert tpl["elements"] == [c for c in v["elements"] if c in chosen[:-1]]
    assert ws.undo() is True
    assert not (demo / "overrides" / "cjm" / "typical.yaml").exists()


def test_cjm_ticking_back_changes_nothing(ws, demo):
    cj = ws.cjm
    code = cj.chosen_elements()[0]
    cj.elements[code].value = False
    cj.elements[code].value = True
    assert cj.pending() == {}
    assert ws.save() is False and _overrides(demo) == []


def test_cjm_empty_action_refused(ws, demo):
    cj = ws.cjm
    cj.choice.value = "vip"
    cj.new["action"].value = "  "
    assert cj.add_cell() is None
    assert "wb-ws-error" in cj.message.value
    rows = cj.rows()
    rows[0]["action"].value = ""
    assert ws.save() is False
    assert _overrides(demo) == []


def test_english_labels(demo):
    w = Workshop(demo, lang="en")
    th = w.thresholds
    assert th.controls["abc.a"].label == "Group A: share of revenue"
    assert th.controls["tiers.vip_min_share"].field.value == "3.0"
    assert "Customer tiers: before → after" in th.tiers.value


# --- the presentation view and its command ---------------------------------------------------
def test_presentation_view_opens_the_engagement_from_the_command_or_lists_them(demo, monkeypatch):
    import json

    from workbench.workshop import view

    monkeypatch.setenv(view.ENV, json.dumps({"engagement": str(demo)}))
    page = view.presentation()
    room = page.children[0]
    assert room.workshop.engagement.root == demo.resolve() or room.workshop.engagement.root == demo
    tabs = room.children[2]
    assert list(tabs.titles) == ["Пороги и уровни", "Клиенты", "Карты развития", "Путь клиента (CJM)", "Сохранить"]
    assert tabs.children[0].children and not tabs.children[3].children  # panels built when opened
    tabs.selected_index = 3
    assert tabs.children[3].children
    monkeypatch.setenv(view.ENV, json.dumps({"root": str(demo.parent)}))
    chooser = view.presentation().children[0]
    buttons = [c for c in chooser.children if hasattr(c, "on_click")]
    assert [b.description for b in buttons] == ["ООО «Демо-Дистрибуция» · demo"]


def test_workshop_command_refuses_a_broken_engagement_before_serving(tmp_path, capsys):
    from workbench.cli import main

    bad = tmp_path / "engagements" / "bad"
    bad.mkdir(parents=True)
    (bad / "engagement.yaml").write_text("client: X\nsegmentation: {abc: {a: 2}}\n", encoding="utf-8")
    assert main(["workshop", str(bad), "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "segmentation.abc.a" in err and "Traceback" not in err


def test_the_consultants_notebook_runs_and_shows_every_panel(demo, tmp_path):
    import nbformat
    import papermill

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "00_workshop.ipynb"
    papermill.execute_notebook(str(root / "notebooks" / "00_workshop.ipynb"), str(out), cwd=str(root / "notebooks"),
                               parameters={"engagement_dir": str(demo), "refresh_import": False},
                               progress_bar=False, kernel_name="python3")
    cells = nbformat.read(out, as_version=4).cells
    shown = [c for c in cells if c.cell_type == "code" and c.source.startswith("ws.")]
    assert [c.source for c in shown] == ["ws.thresholds", "ws.explorer", "ws.maps", "ws.cjm", "ws.saving"]
    for c in shown:
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in c.outputs), c.source
    assert not any(o.get("output_type") == "error" for c in cells for o in c.get("outputs", []))
