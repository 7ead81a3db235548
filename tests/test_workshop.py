"""The live workshop's widgets, driven from Python (no browser): values set on the widgets,
the recomputed tables read back, saves written and undone in a copy of the demo engagement."""
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


# --- segmentation live --------------------------------------------------------------------
def test_lower_vip_share_makes_more_vips_and_lists_who_moved(ws):
    before = _counts(ws)
    assert ws.changes.empty
    ws.controls["tiers.vip_min_share"].value = 0.005
    after = _counts(ws)
    assert after["vip"] > before["vip"]
    assert sum(after.values()) == sum(before.values())
    moved = ws.changes[ws.changes["field"] == "tier"]
    assert (moved["after"] == "vip").sum() == after["vip"] - before["vip"]
    names = set(ws.result.customers.loc[ws.result.customers["tier"] == "vip", C.CUSTOMER_NAME])
    assert set(moved["customer_name"]) <= names
    html = ws._changes.value
    assert "wb-ws-changes" in html and esc(moved["customer_name"].iloc[0]) in html
    assert f"<td class='wb-ws-count'>{after['vip']}</td>" in ws._mix.value
    assert ws.last_seconds < 1.0
    # back to the agreed value: nobody moved
    ws.controls["tiers.vip_min_share"].value = ws.agreed_settings["tiers"]["vip_min_share"]
    assert ws.changes.empty and _counts(ws) == before


def test_higher_vip_share_makes_fewer_vips(ws):
    before = _counts(ws)
    ws.controls["tiers.vip_min_share"].value = 0.2
    assert _counts(ws)["vip"] < before["vip"] or before["vip"] == 0


def test_other_controls_recompute(ws):
    ws.controls["abc.a"].value = 0.6
    assert ws.valid
    assert (ws.changes["field"] == "abc").any()
    sleeping = int((ws.result.customers["lifecycle"] == "sleeping").sum())
    ws.controls["lifecycle.sleeping_min_days"].value = 365
    assert ws.valid and ws.seg_settings["lifecycle"]["sleeping_min_days"] == 365
    assert int((ws.result.customers["lifecycle"] == "sleeping").sum()) < sleeping
    assert ((ws.changes["field"] == "lifecycle") & (ws.changes["before"] == "sleeping")).any()


def test_invalid_abc_refused_with_reason_and_not_recomputed(ws, demo):
    ws.controls["abc.b"].value = 0.2
    kept = ws.result
    ws.controls["abc.a"].value = 0.9  # 0.9 + 0.2 > 1
    assert not ws.valid
    assert ws.result is kept
    assert "a + b = 0.9 + 0.2" in ws.message.value and "wb-ws-error" in ws.message.value
    assert ws.save() is False
    assert "a + b" in ws.last_save_message
    assert _overrides(demo) == []


def test_invalid_xyz_refused_with_reason(ws, demo):
    ws.controls["xyz.x"].value = 0.9
    ws.controls["xyz.y"].value = 0.5
    assert not ws.valid
    assert "xyz" in ws.message.value
    assert ws.save() is False and _overrides(demo) == []


def test_reset_controls_back_to_agreed(ws):
    ws.controls["tiers.ballast_max_orders"].value = 5
    assert not ws.changes.empty
    ws.reset_controls()
    assert ws.changes.empty and ws.valid


# --- save, undo, next run -----------------------------------------------------------------
def test_save_writes_validated_thresholds_then_undo_restores(ws, demo):
    ws.controls["tiers.vip_min_share"].value = 0.01
    ws.controls["tiers.ballast_max_orders"].value = 2
    vips = _counts(ws)["vip"]
    assert ws.save() is True
    data = yaml.safe_load((demo / "overrides" / "settings.yaml").read_text(encoding="utf-8"))
    assert data == {"segmentation": {"tiers": {"vip_min_share": 0.01, "ballast_max_orders": 2}}}
    eng = load_engagement(demo)
    assert eng.settings["segmentation"]["tiers"]["vip_min_share"] == 0.01
    assert eng.settings["segmentation"]["tiers"]["ballast_max_orders"] == 2
    assert yaml.safe_load((demo / "engagement.yaml").read_text(encoding="utf-8"))["segmentation"]["tiers"][
        "vip_min_share"] == 0.03  # the consultant's file is untouched
    assert not list((demo / "data").glob("*.yaml"))
    # the saved version is now the agreed one
    assert ws.changes.empty and _counts(ws)["vip"] == vips
    assert ws.agreed_settings["tiers"]["vip_min_share"] == 0.01

    # a second save, then undo twice
    ws.controls["tiers.vip_min_share"].value = 0.02
    assert ws.save() is True
    assert load_engagement(demo).settings["segmentation"]["tiers"]["vip_min_share"] == 0.02
    assert ws.undo() is True
    assert load_engagement(demo).settings["segmentation"]["tiers"]["vip_min_share"] == 0.01
    assert ws.controls["tiers.vip_min_share"].value == 0.01
    assert ws.undo() is True
    assert not (demo / "overrides" / "settings.yaml").exists()
    assert load_engagement(demo).settings["segmentation"]["tiers"]["vip_min_share"] == 0.03
    assert ws.undo() is False


def test_nothing_changed_nothing_saved(ws, demo):
    assert ws.save() is False
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

    ws.controls["tiers.vip_min_share"].value = 0.01
    expected = _counts(ws)
    assert ws.save()
    ctx = steps.context(str(demo))
    res = steps.segment_step(ctx)
    assert dict(zip(res.tier_mix["tier"], res.tier_mix["customers"].astype(int))) == expected


# --- explorer -----------------------------------------------------------------------------
def test_explorer_search_filters_and_card(ws):
    name = ws.result.customers[C.CUSTOMER_NAME].iloc[0]
    ws.search.value = name[-6:].lower()
    assert any(cid == ws.result.customers[C.CUSTOMER_ID].iloc[0] for _, cid in ws.customer_list.options)
    ws.search.value = ""
    ws.filter_tier.value = "ballast"
    shown = ws.filtered_customers()
    assert len(shown) and set(shown["tier"]) == {"ballast"}
    ws.filter_lifecycle.value = "lost"
    assert set(ws.filtered_customers()["lifecycle"]) <= {"lost"}
    ws.filter_tier.value = ""
    ws.filter_lifecycle.value = ""
    ws.filter_cell.value = "AX"
    assert set(ws.filtered_customers()["abc_xyz"]) == {"AX"}
    cid = ws.customer_list.options[0][1]
    ws.customer_list.value = cid
    card = ws.card.value
    row = ws.result.customers.set_index(C.CUSTOMER_ID).loc[cid]
    assert "data:image/png;base64," in card  # the purchase history chart
    assert str(row["tier_reason"]).split(",")[0] in card
    assert ("individual:" + cid in card) or ("group:" in card)


def test_explorer_follows_live_segmentation(ws):
    ws.filter_tier.value = "vip"
    n = len(ws.customer_list.options)
    ws.controls["tiers.vip_min_share"].value = 0.005
    assert len(ws.customer_list.options) > n


# --- maps ---------------------------------------------------------------------------------
def test_map_edits_saved_and_read_back_through_the_maps_reader(ws, demo):
    from workbench.io.yamlfiles import map_overrides_path, read_map_overrides
    from workbench.maps import draft_maps, load_map_templates

    map_id = ws.map_choice.value
    m = ws._map(map_id)
    rows = ws.map_rows(map_id)
    i = next(k for k, a in enumerate(m["activities"]) if a["kpi"] and a["kpi_source"] == "entered")
    a = m["activities"][i]
    rows[i]["owner"].value = "hunter" if a["owner"] != "hunter" else "farmer"
    rows[i]["target"].value = a["target"] + 7
    j = next(k for k, b in enumerate(m["activities"]) if k != i and b["month"] != m["months"][-1]
             and not any(c["key"] == b["key"] and c["month"] == m["months"][-1] for c in m["activities"]))
    b = m["activities"][j]
    rows[j]["month"].value = m["months"][-1]
    new = ws.add_activity_row(map_id)
    new["activity"].value = "Семинар для закупщиков"
    new["kpi"].value = "meetings_held"
    new["target"].value = 4
    assert ws.save() is True, ws.last_save_message

    over = read_map_overrides(map_overrides_path(demo / "overrides"))
    edits = over["edits"]
    assert {"map": map_id, "action": "set", "item": a["key"], "month": a["month"], "owner": rows[i]["owner"].value,
            "target": a["target"] + 7} in edits
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


def test_invalid_map_edit_refused_and_nothing_saved(ws, demo):
    rows = ws.map_rows(ws.map_choice.value)
    rows[0]["activity"].value = "   "
    assert ws.save() is False
    assert "activity" in ws.last_save_message
    assert _overrides(demo) == []


# --- CJM ----------------------------------------------------------------------------------
def test_cjm_cell_edit_saved_and_loaded_by_load_cjm_templates(ws, demo):
    from workbench.cjm import load_cjm_templates

    ws.cjm_choice.value = "typical"
    rows = ws.cjm_rows()
    rows[0]["action"].value = "Позвонить закупщику и уточнить график"
    rows[0]["role"].value = "user"
    ws.cjm_new["row"].value = "read_case"
    ws.cjm_new["stage"].value = "trust"
    ws.cjm_new["role"].value = "champion"
    ws.cjm_new["action"].value = "Отправить кейс из отрасли"
    assert ws.add_cjm_cell() is not None
    chosen = list(ws.cjm_elements.value)
    ws.cjm_elements.value = tuple(chosen[:-1])
    assert ws.save() is True, ws.last_save_message
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


def test_cjm_empty_action_refused(ws, demo):
    ws.cjm_choice.value = "vip"
    ws.cjm_new["action"].value = "  "
    assert ws.add_cjm_cell() is None
    assert "wb-ws-error" in ws.cjm_message.value
    rows = ws.cjm_rows()
    rows[0]["action"].value = ""
    assert ws.save() is False
    assert _overrides(demo) == []


def test_english_labels(demo):
    w = Workshop(demo, lang="en")
    w.segmentation_panel()
    assert w.controls["abc.a"].description == "ABC: share A"
