"""The B2B CJM table: shipped templates, validation, build, task list, report, workbook."""
from __future__ import annotations

import copy
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from workbench import columns as C
from workbench.cjm import (
    COMMITTEE_ROLES,
    HOURGLASS,
    OWNER_ROLES,
    TIERS,
    build_cjms,
    load_cjm_templates,
)
from workbench.errors import ConfigError, WorkbenchError
from workbench.report.cjm_report import LEVEL_COLOURS, add_cjm_sheets, cjm_findings, render_cjm_html
from workbench.report.xlsx import Book

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CJM_DIR = TEMPLATES / "cjm"
SEGMENT_FILES = ("vip", "strategic", "typical", "ballast", "key_account")
HOSTILE = '<script>alert("x")</script>=SUM(A1)'


@pytest.fixture(scope="module")
def tpl():
    return load_cjm_templates(TEMPLATES, None, [])


def segments_frame(n_typical: int = 3) -> pd.DataFrame:
    rows = [
        ("7701", "Альфа", "vip", "individual", "Иванов"),
        ("7702", "Бета", "vip", "group", "Иванов"),
        ("7703", "Гамма", "strategic", "group", "Петров"),
        ("7704", HOSTILE, "strategic", "individual", ""),
        ("7705", "Дельта", "ballast", "group", "Сидоров"),
    ] + [(f"8{i:03d}", f"Типичный {i}", "typical", "group", "Петров") for i in range(n_typical)]
    df = pd.DataFrame(rows, columns=[C.CUSTOMER_ID, C.CUSTOMER_NAME, C.TIER, C.MAP, C.MANAGER])
    return df.assign(**{C.LIFECYCLE: "active", C.ABC_XYZ: "AX"})


# what the development maps know of the two individual-map customers (workbench.maps.individual):
# Альфа's decision maker from the contact log, the hostile one's cross-sell candidate
PROFILES = {
    "7701": {"committee": [{"contact": "Смирнов С.", "position": "Директор", "role": "decision_maker"}],
             "cross_sell": []},
    "7704": {"committee": [], "cross_sell": [{"product": "Стрейч-плёнка", "peer_share": 0.6, "peers": 5}]},
}


def write_override(eng: Path, name: str, data: dict) -> Path:
    path = eng / "overrides" / "cjm" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def raw(name: str) -> dict:
    return yaml.safe_load((CJM_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- shipped templates
def test_forty_elements_in_levels_and_subgroups(tpl):
    elements = tpl["elements"]
    assert len(elements) == 40
    assert Counter(e["level"] for e in elements.values()) == {
        "table_stakes": 4, "functional": 5, "ease_of_doing_business": 21, "individual": 7, "inspirational": 3}
    assert Counter((e["level"], e["subgroup"]) for e in elements.values()) == {
        ("table_stakes", ""): 4,
        ("functional", "economic"): 2, ("functional", "performance"): 3,
        ("ease_of_doing_business", "productivity"): 5, ("ease_of_doing_business", "operational"): 4,
        ("ease_of_doing_business", "access"): 3, ("ease_of_doing_business", "relationship"): 5,
        ("ease_of_doing_business", "strategic"): 4,
        ("individual", "career"): 3, ("individual", "personal"): 4,
        ("inspirational", "purpose"): 3,
    }
    assert list(elements)[:4] == ["meeting_specifications", "acceptable_price", "regulatory_compliance",
                                  "ethical_standards"]
    assert elements["fun_perks"]["ru"] == "Приятные бонусы" and elements["fun_perks"]["en"] == "Fun & perks"
    assert all(e["ru"].strip() and e["en"].strip() for e in elements.values())


def test_stages_and_roles_named_in_both_languages(tpl):
    assert [s["code"] for s in tpl["stages"]] == list(HOURGLASS)
    assert tpl["custom_stages"] is False
    assert tuple(tpl["roles"]) == COMMITTEE_ROLES
    for item in list(tpl["stages"]) + list(tpl["roles"].values()):
        assert item["ru"].strip() and item["en"].strip()
    assert {p["stage"] for p in tpl["progresses"].values()} == set(HOURGLASS)


def test_progresses_are_customer_actions(tpl):
    # Russian labels of progresses are the customer's past-tense verbs ("Запросил", "Подписал"),
    # never a manager's infinitive ("Отправить", "Договориться").
    for code, p in tpl["progresses"].items():
        words = p["ru"].split()
        assert any(w.endswith(("л", "лся")) for w in words), (code, p["ru"])
        assert not any(w.endswith(("ть", "ться")) for w in words), (code, p["ru"])
    for name in SEGMENT_FILES:
        data = raw(name)
        for row in data["cells"]:
            assert row in tpl["progresses"] or row in tpl["elements"], (name, row)


@pytest.mark.parametrize("name", SEGMENT_FILES)
def test_every_filled_cell_has_role_and_action_in_both_languages(tpl, name):
    data = raw(name)
    seg = tpl["segments"][name]
    assert seg["cells"], name
    n_raw = sum(len(by_stage) for by_stage in data["cells"].values())
    assert len(seg["cells"]) == n_raw
    for cell in seg["cells"]:
        assert cell["role"] in COMMITTEE_ROLES
        assert cell["ru"].strip() and cell["en"].strip()
    progress_rows = {c["row"] for c in seg["cells"] if c["row_kind"] == "progress"}
    assert progress_rows <= set(seg["checkpoints"])
    assert set(seg["stages"]) == set(HOURGLASS)
    for rule in seg["stages"].values():
        assert rule["owners"] and set(rule["owners"]) <= set(OWNER_ROLES)
    # every stage of the funnel has at least one task in the shipped templates
    assert {c["stage"] for c in seg["cells"]} == set(HOURGLASS)
    # the elements chosen for the segment exist and the cells use elements from the pyramid
    assert set(seg["elements"]) <= set(tpl["elements"])


def test_handoff_rule_from_the_article(tpl):
    handoff = tpl["segments"]["strategic"]["stages"]["trust"]["handoff"]
    assert "кейс" in handoff["ru"] and "вебинар" in handoff["ru"] and "трижды" in handoff["ru"]
    assert "webinar" in handoff["en"]


# ----------------------------------------------------------------------------- validation
def test_unknown_stage_role_element_listed_at_once(tmp_path):
    data = raw("vip")
    data["cells"]["read_case"] = {"atention": {"role": "boss", "ru": "x", "en": "y"}}
    data["cells"]["signed_contract"]["sale"]["role"] = "boss"
    data["elements"] = data["elements"] + ["happiness"]
    path = write_override(tmp_path, "vip", data)
    with pytest.raises(ConfigError) as err:
        load_cjm_templates(TEMPLATES, tmp_path, [], lang="en")
    msg = str(err.value)
    assert str(path) in msg
    assert ('cells.read_case.atention: stage "atention" is unknown; allowed stages: attention, trust, contact, '
            'warmup, sale, after_sales, referral') in msg
    assert ('cells.signed_contract.sale.role: committee role "boss" is unknown; allowed roles: '
            'champion, decision_maker, blocker, influencer, expert, user') in msg
    assert 'elements[15]: value element "happiness" is unknown; allowed elements: meeting_specifications, ' in msg
    # the contents of a cell under an unknown stage are checked too
    assert 'cells.read_case.atention.role: committee role "boss" is unknown' in msg


def test_unknown_role_pinned_wording_ru(tmp_path):
    data = raw("typical")
    data["cells"]["read_case"]["trust"]["role"] = "директор"
    write_override(tmp_path, "typical", data)
    with pytest.raises(ConfigError, match=r"typical\.yaml:\n  - cells\.read_case\.trust\.role: роль \"директор\" "
                                          r"в закупочном комитете неизвестна; допустимые роли: champion, "
                                          r"decision_maker, blocker, influencer, expert, user"):
        load_cjm_templates(TEMPLATES, tmp_path, [])


def test_unknown_stage_pinned_wording(tmp_path):
    data = raw("ballast")
    data["cells"]["repeat_order"] = {"repeat": {"role": "champion", "ru": "x", "en": "y"}}
    write_override(tmp_path, "ballast", data)
    with pytest.raises(ConfigError, match=r"cells\.repeat_order\.repeat: stage \"repeat\" is unknown; "
                                          r"allowed stages: attention, trust, contact, warmup, sale, "
                                          r"after_sales, referral"):
        load_cjm_templates(TEMPLATES, tmp_path, [], lang="en")


def test_unknown_row_and_owner_and_missing_checkpoint(tmp_path):
    data = raw("strategic")
    data["cells"]["called_customer"] = {"contact": {"role": "champion", "ru": "Позвонить", "en": "Call"}}
    data["stages"]["sale"]["owners"] = ["boss"]
    del data["checkpoints"]["read_case"]
    write_override(tmp_path, "strategic", data)
    with pytest.raises(ConfigError) as err:
        load_cjm_templates(TEMPLATES, tmp_path, [], lang="en")
    msg = str(err.value)
    assert 'cells.called_customer: row "called_customer" is neither a progress nor a value element; ' \
           "allowed progresses: requested_tech_info, " in msg
    assert 'stages.sale.owners[0]: responsible role "boss" is unknown; allowed roles: hunter, closer, farmer, ' \
           "kam, presale, marketing" in msg
    assert "checkpoints.read_case: the progress read_case has a cell but no checkpoint" in msg


def test_unknown_override_file_lists_allowed_names(tmp_path):
    write_override(tmp_path, "vipp", raw("vip"))
    with pytest.raises(ConfigError, match=r"vipp\.yaml: unknown CJM template file; allowed names: "
                                          r"elements\.yaml, stages\.yaml, roles\.yaml, progresses\.yaml, "
                                          r"vip\.yaml"):
        load_cjm_templates(TEMPLATES, tmp_path, [], lang="en")


def test_bad_yaml_names_the_file(tmp_path):
    path = tmp_path / "overrides" / "cjm" / "roles.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("roles: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"roles\.yaml is not valid YAML"):
        load_cjm_templates(TEMPLATES, tmp_path, [], lang="en")


def test_edited_copy_wins(tmp_path):
    data = raw("vip")
    data["cells"]["read_case"]["trust"]["ru"] = "Новое действие"
    write_override(tmp_path, "vip", data)
    tpl = load_cjm_templates(TEMPLATES, tmp_path, [])
    cell = next(c for c in tpl["segments"]["vip"]["cells"] if c["row"] == "read_case")
    assert cell["ru"] == "Новое действие"
    assert tpl["sources"]["vip"].endswith(str(Path("overrides") / "cjm" / "vip.yaml"))
    assert tpl["sources"]["typical"] == str(CJM_DIR / "typical.yaml")


CUSTOM = [{"code": "lead", "ru": "Лид", "en": "Lead"}, {"code": "deal", "ru": "Сделка", "en": "Deal"},
          {"code": "client", "ru": "Клиент", "en": "Client"}]


def test_custom_stages_replace_the_hourglass_and_report_left_out_cells(tmp_path):
    data = raw("vip")
    data["stages"] = {"lead": {"offset": 0, "owners": ["kam"]}, "deal": {"offset": 2, "owners": ["kam"]},
                      "client": {"offset": 4, "owners": ["farmer"]}}
    data["cells"] = {
        "read_case": {"lead": {"role": "champion", "ru": "Кейс", "en": "Case"}},
        "signed_contract": {"deal": {"role": "decision_maker", "ru": "Договор", "en": "Contract"},
                            "sale": {"role": "decision_maker", "ru": "Старый", "en": "Old"}},
        "repeat_order": {"client": {"role": "champion", "ru": "Повтор", "en": "Repeat"}},
        "acceptable_price": {"deal": {"role": "decision_maker", "ru": "Цена", "en": "Price"}},
    }
    write_override(tmp_path, "vip", data)
    tpl = load_cjm_templates(TEMPLATES, tmp_path, CUSTOM)
    assert [s["code"] for s in tpl["stages"]] == ["lead", "deal", "client"]
    res = build_cjms(segments_frame(), tpl, "2026-11", "ru")
    grid = res.grids["cjm:vip"]
    assert list(grid.columns)[5:] == ["lead", "deal", "client"]
    assert grid.set_index("row").at["signed_contract", "deal"] == "ЛПР: Договор"
    vip_dropped = res.dropped[res.dropped["template"] == "vip"]
    assert vip_dropped[["row", "stage"]].values.tolist() == [["signed_contract", "sale"]]
    # the other shipped templates still use the hourglass: their cells are all reported
    assert set(res.dropped["template"]) == set(SEGMENT_FILES)
    assert len(res.tables["cjm:typical"]) == 0
    findings = cjm_findings(res, "ru")
    assert any(f["severity"] == "warn" and "вне этапов" in f["headline"] for f in findings)
    # the element cell takes the KPI of the progress at its stage
    tasks = res.tasks[res.tasks[C.MAP_ID] == "cjm:vip"]
    assert tasks[C.KPI].tolist() == ["progress_read_case", "progress_signed_contract", "progress_repeat_order",
                                     "progress_signed_contract"]
    assert tasks[C.DEADLINE].tolist() == ["2026-12", "2027-02", "2027-04", "2027-02"]
    assert tasks[C.OWNER].tolist() == ["kam", "kam", "farmer", "kam"]


def test_custom_stages_still_refuse_a_typo(tmp_path):
    data = raw("vip")
    data["cells"]["read_case"] = {"laed": {"role": "champion", "ru": "x", "en": "y"}}
    write_override(tmp_path, "vip", data)
    with pytest.raises(ConfigError, match=r'stage "laed" is unknown; allowed stages: lead, deal, client'):
        load_cjm_templates(TEMPLATES, tmp_path, CUSTOM, lang="en")


def test_per_customer_override(tmp_path):
    data = raw("key_account")
    data["cells"] = {"requested_tech_info": {"attention": {"role": "expert", "ru": "Только для Альфы",
                                                           "en": "Alpha only"}}}
    path = tmp_path / "overrides" / "cjm" / "customers" / "7701.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    tpl = load_cjm_templates(TEMPLATES, tmp_path, [])
    # the customer's own file is individual content: its CJM is built without a profile
    res = build_cjms(segments_frame(), tpl, "2026-11", "ru")
    assert res.tables["cjm:7701"]["action"].tolist() == ["Только для Альфы"]
    assert "cjm:7704" not in res.tables and res.no_content == ["7704"]
    res = build_cjms(segments_frame(), tpl, "2026-11", "ru", profiles=PROFILES)
    assert len(res.tables["cjm:7704"]) == len(tpl["segments"]["key_account"]["cells"])


# ----------------------------------------------------------------------------- build
def test_build_ids_tables_and_grids(tpl):
    res = build_cjms(segments_frame(), tpl, "2026-11", "ru", profiles=PROFILES)
    assert list(res.tables) == ["cjm:vip", "cjm:strategic", "cjm:typical", "cjm:ballast", "cjm:7701", "cjm:7704"]
    assert res.meta["cjm:7701"]["title"] == "Индивидуальная CJM: Альфа"
    assert res.meta["cjm:7704"]["customer_name"] == HOSTILE
    vip = res.tables["cjm:vip"]
    assert {"row_kind", "level", "subgroup", "row", "row_label", "stage", "role", "action"} <= set(vip.columns)
    first = vip.iloc[0]
    assert (first["row_kind"], first["row"], first["stage"], first["role"]) == (
        "progress", "requested_tech_info", "attention", "expert")
    assert vip["row_kind"].tolist() == sorted(vip["row_kind"].tolist(), key=lambda k: k != "progress")
    spec = vip[vip["row"] == "meeting_specifications"].iloc[0]
    assert (spec["level"], spec["subgroup"], spec["action"]) == (
        "table_stakes", "", "Продемонстрировать эксперту соответствие техническим требованиям")
    grid = res.grids["cjm:vip"].set_index("row")
    assert grid.at["meeting_specifications", "attention"] == \
        "Эксперт: Продемонстрировать эксперту соответствие техническим требованиям"
    assert grid.at["meeting_specifications", "trust"] == ""
    # elements chosen for the segment are rows even where no cell is filled yet
    assert "product_quality" in grid.index
    en = build_cjms(segments_frame(), tpl, "2026-11", "en", profiles=PROFILES)
    assert en.grids["cjm:vip"].set_index("row").at["meeting_specifications", "attention"] == \
        "Expert: Show the expert that the specification is met"
    rules = res.rules["cjm:strategic"].set_index("stage")
    assert rules.at["trust", "owners"] == "marketing, kam"
    assert rules.at["trust", "owners_label"] == "Маркетинг, KAM"
    assert "трижды" in rules.at["trust", "handoff"]


def test_nurturing_readiness_comes_from_the_data(tpl):
    """Report month 2026-11, plan from 2026-12. Rhythms (last purchase + median gap):
    7702: 20 Nov + 30 = 20 Dec -> due in December; 7703: 1 Oct + 30 = 31 Oct, 30 days late at the
    end of November, not more than one gap -> due; 7705: 1 Aug + 20 = 21 Aug, 101 days late > 20 ->
    overdue; 8000: 15 Nov + 60 = 14 Jan -> later; 8001: two orders -> no rhythm; 8002: lost, left out."""
    seg = segments_frame(n_typical=3).assign(**{
        C.ORDERS: [12, 6, 5, 0, 3, 4, 2, 9],
        "median_gap_days": [30.0, 30.0, 30.0, None, 20.0, 60.0, 45.0, 30.0],
        C.LAST_PURCHASE: pd.to_datetime(["2026-11-20", "2026-11-20", "2026-10-01", None, "2026-08-01",
                                         "2026-11-15", "2026-11-01", "2025-01-10"]),
        C.REVENUE: [9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0],
        C.LIFECYCLE: ["active"] * 7 + ["lost"]})
    res = build_cjms(seg, tpl, "2026-11", "ru", plan_start="2026-12")
    state = dict(zip(res.readiness[C.CUSTOMER_ID], res.readiness["readiness"]))
    assert state == {"7701": "due", "7702": "due", "7703": "due", "7704": "no_rhythm", "7705": "overdue",
                     "8000": "later", "8001": "no_rhythm"}
    counts = res.nurturing.set_index("segment")
    assert counts.loc["vip", ["customers", "due", "overdue", "later", "no_rhythm"]].tolist() == [2, 2, 0, 0, 0]
    assert counts.loc["typical", ["customers", "later", "no_rhythm"]].tolist() == [2, 1, 1]   # 8002 is lost
    assert (counts[["due", "open_deal", "enquiry", "overdue", "later", "no_rhythm"]].sum(axis=1)
            == counts["customers"]).all()
    # deals arrive later (issue 14): an open deal or a deal created within 30 days makes a customer ready
    deals = pd.DataFrame({C.CUSTOMER_ID: ["8000", "8001", "7705"], "status": ["open", "lost", "won"],
                          "created": pd.to_datetime(["2026-06-01", "2026-11-20", "2026-01-01"])})
    res = build_cjms(seg, tpl, "2026-11", "ru", plan_start="2026-12", deals=deals)
    state = dict(zip(res.readiness[C.CUSTOMER_ID], res.readiness["readiness"]))
    assert (state["8000"], state["8001"], state["7705"]) == ("open_deal", "enquiry", "overdue")
    # the programme per segment: length, stage, committee role, content, call to action
    prog = res.programmes[res.programmes["segment"] == "typical"]
    assert prog["weeks"].unique().tolist() == [8] and prog["week"].tolist() == [1, 3, 6, 8]
    assert prog.iloc[0][["stage", "role", "cta"]].tolist() == ["contact", "user", "Подписаться на рассылку"]
    # 3 / 40 / 57 % is never multiplied onto the customers: no column of the result holds it
    assert not {"buy_now", "open_to_talk", "not_ready"} & set(res.nurturing.columns)


def test_task_list_in_checkpoint_format(tpl):
    res = build_cjms(segments_frame(), tpl, "2026-11", "ru", profiles=PROFILES)
    tasks = res.tasks
    assert tuple(tasks.columns) == C.CHECKPOINT_COLUMNS
    assert len(tasks) == sum(len(t) for t in res.tables.values())
    for col in (C.MAP_ID, C.MAP_KIND, C.MONTH, C.TRACK, C.ACTIVITY, C.OWNER, C.KPI, C.KPI_NAME, C.UNIT,
                C.DEADLINE, C.KPI_SOURCE):
        assert tasks[col].notna().all() and (tasks[col].astype(str).str.strip() != "").all(), col
    assert tasks[C.TARGET].notna().all() and (tasks[C.TARGET] > 0).all()
    assert (tasks[C.BASELINE] == 0).all()
    assert set(tasks[C.MAP_KIND]) == {"cjm"}
    assert set(tasks[C.TRACK]) <= {"sales", "marketing"} and "marketing" in set(tasks[C.TRACK])
    assert set(tasks[C.OWNER]) <= set(OWNER_ROLES)
    assert tasks[C.KPI].str.startswith("progress_").all()
    assert set(tasks[C.KPI_SOURCE]) == {"entered"}
    assert (tasks[C.DEADLINE] >= tasks[C.MONTH]).all()
    assert tasks[C.MONTH].min() == "2026-12"  # plan_start None -> the month after the reporting month
    first = tasks.iloc[0]
    assert (first[C.MAP_ID], first[C.SEGMENT], first[C.CUSTOMER_ID], first[C.OWNER], first[C.KPI], first[C.TARGET],
            first[C.UNIT], first[C.DEADLINE]) == ("cjm:vip", "vip", "", "kam", "progress_requested_tech_info", 0.6,
                                                  "share", "2026-12")
    assert first[C.ACTIVITY] == "Договориться, чтобы эксперт запросил техническую информацию по новому продукту"
    ind = tasks[tasks[C.MAP_ID] == "cjm:7701"]
    assert set(ind[C.CUSTOMER_ID]) == {"7701"} and set(ind[C.SEGMENT]) == {""}
    assert set(ind[C.UNIT]) == {"count"} and set(ind[C.TARGET]) == {1.0}
    later = build_cjms(segments_frame(), tpl, "2026-11", "ru", plan_start="2027-03", profiles=PROFILES)
    assert later.tasks[C.MONTH].min() == "2027-03"
    assert later.tasks[C.DEADLINE].max() == "2027-12"  # key account: referral at offset 9


def test_build_is_pure(tpl):
    seg = segments_frame()
    seg_before = seg.copy(deep=True)
    tpl_before = copy.deepcopy(tpl)
    build_cjms(seg, tpl, "2026-11", "ru")
    pd.testing.assert_frame_equal(seg, seg_before)
    assert tpl == tpl_before


def test_bad_inputs(tpl):
    seg = segments_frame()
    with pytest.raises(WorkbenchError, match=r"unknown tiers \"gold\"; allowed tiers: vip, strategic, typical, "
                                             r"ballast"):
        build_cjms(seg.assign(tier="gold"), tpl, "2026-11", "en")
    with pytest.raises(WorkbenchError, match=r"lacks the columns: map"):
        build_cjms(seg.drop(columns="map"), tpl, "2026-11", "en")
    with pytest.raises(WorkbenchError, match=r"month: expected a month as YYYY-MM"):
        build_cjms(seg, tpl, "2026-13", "en")


def test_empty_segments(tpl):
    res = build_cjms(segments_frame().head(0), tpl, "2026-11", "en")
    assert res.tables == {} and len(res.tasks) == 0
    assert tuple(res.tasks.columns) == C.CHECKPOINT_COLUMNS
    assert "No CJM" in render_cjm_html(res, "en")
    assert cjm_findings(res, "en") == []


# ----------------------------------------------------------------------------- report
def test_html_escapes_hostile_customer_name(tpl):
    res = build_cjms(segments_frame(), tpl, "2026-11", "en", profiles=PROFILES)
    out = render_cjm_html(res, "en")
    assert out.startswith('<section class="wb-section" id="cjm">')
    assert "<script>" not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;=SUM(A1)" in out
    assert "position:sticky" in out
    assert 'class="wb-cjm-group wb-cjm-g-table_stakes"' in out
    assert "Show the expert that the specification is met" in out
    assert "Nurturing programme" in out and "Qualification criteria" in out
    assert "rule of thumb about a market, not data about your customers" in out
    ru = render_cjm_html(build_cjms(segments_frame(), tpl, "2026-11", "ru", profiles=PROFILES), "ru")
    assert "Программа подогрева" in ru and "Nurturing" not in ru


def test_findings_shape(tpl):
    res = build_cjms(segments_frame(), tpl, "2026-11", "ru", profiles=PROFILES)
    findings = cjm_findings(res, "ru")
    assert findings
    for f in findings:
        assert {"severity", "headline", "number", "action", "weight"} <= set(f)
        assert set(f) <= {"severity", "headline", "number", "action", "weight", "owner", "due", "audience", "at_stake"}
        assert f["severity"] in ("risk", "warn", "info", "ok")
    assert [f["weight"] for f in findings] == sorted((f["weight"] for f in findings), reverse=True)
    # the hostile customer's individual CJM has no manager
    assert any("без ответственного менеджера: 1" in f["headline"] for f in findings)
    assert any(f["severity"] == "ok" for f in findings)  # the shipped templates cover every stage


def test_workbook_cells_and_styles(tpl, tmp_path):
    res = build_cjms(segments_frame(), tpl, "2026-11", "ru", profiles=PROFILES)
    book = Book("ru")
    add_cjm_sheets(book, res, "ru")
    path = tmp_path / "cjm.xlsx"
    book.workbook().save(path)
    wb = openpyxl.load_workbook(path)
    assert "CJM VIP" in wb.sheetnames and "Задачи CJM" in wb.sheetnames
    ws = wb["CJM VIP"]
    assert ws["A1"].value == "CJM: VIP-клиенты"
    assert ws["B3"].value == "Привлечение внимания («Узнать»)"
    assert ws.freeze_panes == "B4"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A3) == 8
    labels = {ws.cell(row=r, column=1).value: r for r in range(4, ws.max_row + 1)}
    assert labels["Прогрессы (действия клиента)"] == 4
    r = labels["Запросил техническую информацию"]
    cell = ws.cell(row=r, column=2)
    assert cell.value == "Эксперт: Договориться, чтобы эксперт запросил техническую информацию по новому продукту"
    assert cell.alignment.wrap_text is True
    assert cell.fill.fgColor.rgb.endswith(LEVEL_COLOURS["progress"][1])
    r = labels["Соответствие техническим требованиям"]
    cell = ws.cell(row=r, column=2)
    assert cell.value == "Эксперт: Продемонстрировать эксперту соответствие техническим требованиям"
    assert cell.fill.fgColor.rgb.endswith(LEVEL_COLOURS["table_stakes"][1])
    assert ws.cell(row=r - 1, column=1).value == "Базовые требования"
    assert ws.cell(row=r - 1, column=1).fill.fgColor.rgb.endswith(LEVEL_COLOURS["table_stakes"][0])
    r = labels["Экспертиза"]
    assert ws.cell(row=r, column=3).fill.fgColor.rgb.endswith(LEVEL_COLOURS["ease_of_doing_business"][1])
    assert ws.cell(row=r, column=2).value is None  # only the cells where the customer moves are filled
    assert "Квалификация, передача и ответственные" in labels
    # the hostile name stays text, never a formula
    hostile = next(wb[n] for n in wb.sheetnames if "script" in n)
    assert hostile["A1"].value == f"Индивидуальная CJM: {HOSTILE}"
    assert hostile["A1"].data_type == "s"
    tasks = wb["Задачи CJM"]
    header = [c.value for c in tasks[2]]
    assert header[:3] == ["CJM", "Сегмент", "Клиент"] and "Срок" in header
    assert {"Цель, %", "Цель, шт."} & set(header) and "Код KPI" not in header  # values in columns of their unit
    assert tasks.cell(row=3, column=header.index("Действие менеджера") + 1).value == \
        "Договориться, чтобы эксперт запросил техническую информацию по новому продукту"
    assert {"Готовность к покупке", "Программа подогрева"} <= set(wb.sheetnames)   # nobody due: no "ready" list
    prog = wb["Программа подогрева"]
    head = [c.value for c in prog[2]]
    assert head[:4] == ["Сегмент", "Длина программы, нед.", "Неделя", "Этап"]


def test_catalogues_hold_the_same_keys():
    def keys(lang: str) -> set[str]:
        data = yaml.safe_load((ROOT / "workbench" / "i18n" / lang / "cjm.yaml").read_text(encoding="utf-8"))
        out = set()
        for k, v in data.items():
            out.add(k)
            if isinstance(v, dict):
                out |= {f"{k}.{s}" for s in v}
        return out

    assert keys("ru") == keys("en")
    assert set(TIERS) <= {k.split(".")[1] for k in keys("en") if k.startswith("tier.")}


def test_unknown_keys_named_with_their_path_at_every_level(tmp_path):
    data = raw("vip")
    data["colour"] = "red"
    data["cells"]["signed_contract"]["sale"]["colour"] = "red"
    path = write_override(tmp_path, "vip", data)
    with pytest.raises(ConfigError) as err:
        load_cjm_templates(TEMPLATES, tmp_path, [], lang="en")
    msg = str(err.value)
    assert str(path) in msg
    assert ("key colour is unknown; allowed keys: segment, title, owner, elements, stages, cells, checkpoints, "
            "tender, nurturing") in msg
    assert "key cells.signed_contract.sale.colour is unknown; allowed keys: role, ru, en, owner" in msg


# ----------------------------------------------------------------------------- hourglass, owners, tender rules
def test_hourglass_labels_pair_each_stage_with_its_verb(tpl, tmp_path):
    """Source 001: attention makes the prospect know us; at "Формирование доверия" they come to
    trust us; at "Получение контакта" "our task is to be liked" and get the contact; warm-up lets
    them try, then buy, repeat (after-sales) and refer (word of mouth). Jantsch's verbs."""
    pairs = {"attention": ("Узнать", "know"), "trust": ("Доверять", "trust"), "contact": ("Понравиться", "like"),
             "warmup": ("Попробовать", "try"), "sale": ("Купить", "buy"), "after_sales": ("Повторить", "repeat"),
             "referral": ("Рекомендовать", "refer")}
    assert [s["code"] for s in tpl["stages"]] == list(pairs)
    for stage in tpl["stages"]:
        ru, en = pairs[stage["code"]]
        assert f"«{ru}»" in stage["ru"], stage
        assert f"({en})" in stage["en"], stage
        others = [w for code, (w, _) in pairs.items() if code != stage["code"]]
        assert not any(w.lower() in stage["ru"].lower() for w in others), stage
    # an edited copy that pairs a stage with another stage's verb is refused
    data = raw("stages")
    data["stages"][1]["ru"] = "Формирование доверия («Понравиться»)"
    path = write_override(tmp_path, "stages", data)
    with pytest.raises(ConfigError, match=rf"{path}:\n  - stages\[1\]\.ru: подпись \"Формирование доверия "
                                          r"\(«Понравиться»\)\" этапа trust должна называть его глагол «Доверять»"):
        load_cjm_templates(TEMPLATES, tmp_path, [])


def test_one_owner_for_a_segments_map_and_cjm(tpl, tmp_path):
    from workbench.cjm import check_owners
    from workbench.maps import load_map_templates

    maps = load_map_templates(TEMPLATES / "maps")
    check_owners(tpl, maps)   # shipped: strategic map and CJM both KAM, typical both farmer, ...
    assert tpl["segments"]["strategic"]["owner"] == maps["strategic"]["owner"] == "kam"
    assert tpl["segments"]["typical"]["owner"] == maps["typical"]["owner"] == "farmer"
    assert tpl["segments"]["key_account"]["owner"] == maps["key_account"]["owner"] == "kam"
    data = raw("strategic")
    data["owner"] = "farmer"
    path = write_override(tmp_path, "strategic", data)
    edited = load_cjm_templates(TEMPLATES, tmp_path, [])
    with pytest.raises(ConfigError, match=rf"{path}:\n  - owner: у CJM сегмента strategic ответственный «farmer», а у "
                                          r"его карты развития .*strategic\.yaml — «kam»; правило: карта и CJM сегмента"):
        check_owners(edited, maps)


# gifts, bonuses and informal incentives, worked out here independently of the catalogue
INCENTIVES = re.compile(r"(?i)(?<![а-яёa-z])(?:подар|бонус|вознагражд|угощ|сувенир|gift|bonus|perk|incentive|kickback"
                        r"|souvenir)")


def _state_buyer_actions(data: dict) -> list[tuple[str, str, str]]:
    """(row, stage, text) of every action a state buyer receives from a raw CJM template."""
    tender = data.get("tender") or {}
    replaced = {(row, stage): cell for row, by in (tender.get("cells") or {}).items() for stage, cell in by.items()}
    out = []
    for row, by in (data.get("cells") or {}).items():
        if row in (tender.get("drop") or []):
            continue
        for stage, cell in by.items():
            cell = replaced.get((row, stage), cell)
            out += [(row, stage, cell["ru"]), (row, stage, cell["en"])]
    out += [(row, stage, cell[lg]) for (row, stage), cell in replaced.items() for lg in ("ru", "en")]
    return out


def test_no_shipped_template_offers_state_buyers_a_gift_or_bonus():
    files = sorted(CJM_DIR.glob("*.yaml")) + sorted((TEMPLATES / "maps").glob("*.yaml"))
    assert len(files) >= 15
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "cells" in data:
            hits = [(r, s, x) for r, s, x in _state_buyer_actions(data) if INCENTIVES.search(x)]
        else:
            items = (data.get("activities") or []) + (data.get("checkpoints") or [])
            hits = [(i["id"], "", i["text"][lg]) for i in items for lg in ("ru", "en") if INCENTIVES.search(i["text"][lg])]
        assert not hits, (path.name, hits)
    # the key-account CJM has no perks for a state buyer at all
    ka = _state_buyer_actions(raw("key_account"))
    assert not [r for r, _, _ in ka if r == "fun_perks"]


def test_state_buyers_get_cjm_actions_that_fit_tender_rules(tpl, tmp_path):
    seg = segments_frame().assign(state_customer=[True, True, False, False, False, False, False, False])
    res = build_cjms(seg, tpl, "2026-11", "ru", profiles=PROFILES)
    # the VIP tier's two customers are both state buyers: they get the tender version of the VIP CJM
    assert "cjm:vip" not in res.tables and res.meta["cjm:vip:tender"]["customers"] == 2
    assert res.meta["cjm:vip:tender"]["title"] == "CJM: VIP-клиенты — госзаказчики (44-ФЗ / 223-ФЗ)"
    offer = res.tables["cjm:vip:tender"].set_index(["row", "stage"]).loc[("requested_offer", "sale"), "action"]
    assert "заявку на участие в закупке" in offer
    # Альфа's individual CJM: no perks row, the price only in the bid
    alfa = res.tables["cjm:7701"]
    assert "fun_perks" not in set(alfa["row"])
    assert "только в заявке" in alfa.set_index(["row", "stage"]).loc[("acceptable_price", "sale"), "action"]
    assert not alfa["action"].str.contains(INCENTIVES).any()
    assert res.state_customers == 2
    # without the column nobody is a state buyer (until the segmentation gives it)
    assert "cjm:vip" in build_cjms(segments_frame(), tpl, "2026-11", "ru").tables
    # a state buyer's own CJM file with a bonus is refused, naming the file, the cell and the rule
    data = raw("key_account")
    data["cells"]["repeat_order"]["after_sales"]["ru"] = "Обещать чемпиону бонус за повторный заказ"
    data["tender"]["cells"]["repeat_order"] = {"after_sales": dict(data["cells"]["repeat_order"]["after_sales"])}
    path = tmp_path / "overrides" / "cjm" / "customers" / "7701.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tender\.cells\.repeat_order\.after_sales: действие для госзаказчиков похоже "
                                          r"на подарок или неформальный стимул \(«бонус»\); по правилам торгов"):
        load_cjm_templates(TEMPLATES, tmp_path, [])
    # an edited segment template with an uncovered bonus is refused as well
    data = raw("vip")
    data["cells"]["repeat_order"]["after_sales"]["ru"] = "Подарить чемпиону подарок к повторному заказу"
    path = write_override(tmp_path / "e2", "vip", data)
    with pytest.raises(ConfigError, match=rf"{path}:\n  - cells\.repeat_order\.after_sales: действие похоже на подарок "
                                          r"или неформальный стимул \(«Подарить»\); госзаказчикам \(44-ФЗ / 223-ФЗ\)"):
        load_cjm_templates(TEMPLATES, tmp_path / "e2", [])


def test_individual_cjm_names_the_committee_and_the_new_line(tpl):
    res = build_cjms(segments_frame(), tpl, "2026-11", "ru", profiles=PROFILES)
    grid = res.grids["cjm:7701"].set_index("row")
    assert grid.at["agreed_meeting", "contact"].startswith("ЛПР — Смирнов С. (Директор): ")
    tasks = res.tasks[res.tasks[C.MAP_ID] == "cjm:7701"]
    assert tasks[C.ACTIVITY].str.endswith("— Смирнов С. (Директор)").sum() == \
        (res.tables["cjm:7701"]["role"] == "decision_maker").sum()
    hostile = res.tables["cjm:7704"].set_index("row")
    assert hostile.at["expanded_range", "action"].endswith("(новое направление: «Стрейч-плёнка»)")
    # two individual CJMs built from different facts differ in their content
    assert set(res.tasks.loc[res.tasks[C.MAP_ID] == "cjm:7701", C.ACTIVITY]) != \
        set(res.tasks.loc[res.tasks[C.MAP_ID] == "cjm:7704", C.ACTIVITY])


def test_lost_customers_are_in_no_cjm_and_the_maps_choose_the_individual_ones(tpl):
    from workbench.cjm import group_members
    from workbench.report.cjm_report import render_cjm_html

    # Дельта, the only ballast customer, and one typical customer are lost (silent over a year)
    seg = segments_frame().assign(**{C.LIFECYCLE: ["active"] * 4 + ["lost", "lost", "active", "active"]},
                                  state_customer=[True, False, False, False, False, False, False, True])
    res = build_cjms(seg, tpl, "2026-11", "ru", profiles=PROFILES, individual_ids=["7701"])
    assert "cjm:ballast" not in res.meta and res.meta["cjm:typical"]["customers"] == 2 and res.lost == 2
    # the VIP tier is split between the two VIP CJMs; the typical state buyer keeps the typical CJM
    # (it holds no gift), counted as served as it is
    assert (res.meta["cjm:vip"]["customers"], res.meta["cjm:vip:tender"]["customers"]) == (1, 1)
    assert res.meta["cjm:typical"]["state"] == 1 and res.meta["cjm:vip"]["state"] == 0
    assert group_members(seg, res.meta) == {
        "cjm:vip": ["7702"], "cjm:vip:tender": ["7701"], "cjm:strategic": ["7703", "7704"],
        "cjm:typical": ["8001", "8002"], "cjm:7701": ["7701"]}
    # 7704 is meant for an individual map, but the maps did not pass it (no KAM carries it)
    assert "cjm:7704" not in res.meta and res.no_content == []
    # the nurturing readiness leaves the lost out too
    assert int(res.nurturing["customers"].sum()) == 6
    html = render_cjm_html(res, "ru")
    assert ('В групповой CJM — клиенты своего уровня, кроме ушедших: ушедших (<span class="wb-count" '
            'data-count="cjm.lost">2</span>) нет ни в одной CJM') in html
    assert 'Клиентов: <span class="wb-count" data-count="cjm.vip.tender">1</span>' in html
    assert ("VIP — отдельная CJM по правилам торгов (клиентов: 1); индивидуальных CJM по правилам торгов: 1; "
            "CJM уровней «Типовые» без подарков и неформальных стимулов, госзаказчики этих уровней (1) идут по ним "
            "как есть.") in html
    assert "госзаказчик: ячейки по правилам торгов (44-ФЗ / 223-ФЗ)" in html
