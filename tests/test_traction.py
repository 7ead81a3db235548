"""Traction: statuses, pro-rating, migration, ROMI, actuals workbook, report, and a
three-month walk of a small engagement (history, rerun of the middle month)."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench import kpis
from workbench.errors import InputError, WorkbenchError
from workbench.traction import (
    checkpoint_keys,
    due_for_entry,
    freeze_members,
    members_from_segments,
    migration,
    traction,
)


# ----------------------------------------------------------------------------- hand-made frames
def cp(map_id, month, kpi, unit, target, deadline, src, baseline=0.0, seg="vip", cid="", kind="group",
       activity="a"):
    return {C.MAP_ID: map_id, C.MAP_KIND: kind, C.SEGMENT: seg, C.CUSTOMER_ID: cid, C.MONTH: month,
            C.TRACK: "sales", C.ACTIVITY: activity, C.OWNER: "kam", C.KPI: kpi, C.KPI_NAME: kpi, C.UNIT: unit,
            C.BASELINE: baseline, C.TARGET: target, C.DEADLINE: deadline, C.KPI_SOURCE: src}


@pytest.fixture()
def frames():
    cps = pd.DataFrame([
        # 0: revenue 300 over Aug..Oct; at Sep the plan to date is 200; actual 160 -> at risk (< 180)
        cp("group:vip", "2026-08", "revenue", "currency", 300.0, "2026-10", "computed"),
        # 1: orders 2 by Oct; actual 2 -> done before the deadline
        cp("group:vip", "2026-08", "orders", "count", 2.0, "2026-10", "computed"),
        # 2: entered meetings, deadline Sep, 2 of 4 -> missed
        cp("group:vip", "2026-08", "meetings_held", "count", 4.0, "2026-09", "entered"),
        # 3: entered share, level: baseline 0.2 -> 0.6 by Oct; to date 0.4; 0.38 -> on track (>= 0.36)
        cp("group:vip", "2026-09", "answered_share", "share", 0.6, "2026-10", "entered", baseline=0.2),
        # 4: entered calls, nothing entered -> not entered
        cp("group:vip", "2026-09", "calls_made", "count", 5.0, "2026-09", "entered"),
        # 5: starts in November -> planned
        cp("group:vip", "2026-11", "orders", "count", 4.0, "2026-11", "computed"),
        # 6: margin without a margin column -> no data
        cp("group:vip", "2026-08", "margin", "currency", 10.0, "2026-10", "computed"),
        # 7: individual map, revenue 50 by Aug; 20 -> missed
        cp("individual:c3", "2026-08", "revenue", "currency", 50.0, "2026-08", "computed", seg="", cid="c3",
           kind="individual"),
        # 8: average check, level: baseline 40 -> 130 by Oct; to date 40 + 90 * 2 / 3 = 100; actual 80 -> at risk
        cp("group:vip", "2026-08", "avg_check", "currency", 130.0, "2026-10", "computed", baseline=40.0),
    ])
    seg = pd.DataFrame({
        C.CUSTOMER_ID: ["c1", "c2", "c3"], C.CUSTOMER_NAME: ["ООО «Альфа»", "ООО «Бета»", "АО «Гамма»"],
        C.TIER: ["vip", "vip", "typical"], C.LIFECYCLE: ["active", "sleeping", "active"],
        C.REVENUE: [100.0, 60.0, 20.0], C.ABC: ["A", "A", "C"], C.XYZ: ["X", "Y", "Z"],
        C.KEY_ACCOUNT: [True, False, False], C.MAP: ["group", "group", "individual"]})
    led = pd.DataFrame({
        C.CUSTOMER_ID: ["c1", "c2", "c3", "c1"],
        C.DATE: pd.to_datetime(["2026-08-03", "2026-09-10", "2026-08-05", "2026-07-01"]),
        C.AMOUNT: [100.0, 60.0, 20.0, 999.0], C.DOCUMENT: ["d1", "d2", "d3", "d0"]})
    keys = checkpoint_keys(cps)
    ent = pd.DataFrame({"key": [keys[2], keys[3]], "actual": [2.0, 0.38], "comment": ["две встречи", ""]})
    return cps, seg, led, ent


def test_statuses_and_prorating(frames):
    cps, seg, led, ent = frames
    res = traction(cps, seg, led, None, "2026-09", {"at_risk_ratio": 0.9}, "ru", entered=ent, plan_start="2026-08")
    out = res.checkpoints
    assert out["status"].tolist() == ["at_risk", "done", "missed", "on_track", "not_entered", "planned",
                                      "no_data", "missed", "at_risk"]
    np.testing.assert_allclose(out["target_to_date"].tolist(), [200.0, 4 / 3, 4.0, 0.4, 5.0, 2.0, 20 / 3, 50.0, 100.0])
    np.testing.assert_allclose(out["actual"].iloc[[0, 1, 2, 3, 7, 8]].tolist(), [160.0, 2.0, 2.0, 0.38, 20.0, 80.0])
    assert out["actual"].iloc[[4, 5, 6]].isna().all()
    assert out["comment"].iloc[2] == "две встречи"
    assert out["members"].tolist() == [2] * 7 + [1, 2]
    assert res.first_month and res.previous_month == ""
    assert res.maps.set_index(C.MAP_ID).loc["group:vip", ["done", "missed", "at_risk", "planned", "due"]].tolist() \
        == [1, 1, 2, 1, 7]


def test_computed_actuals_use_the_kpi_registry(frames):
    cps, seg, led, ent = frames
    res = traction(cps, seg, led, None, "2026-09", {"at_risk_ratio": 0.9}, "ru", entered=ent, plan_start="2026-08")
    expected = kpis.compute_kpi("revenue", led, ["c1", "c2"], "2026-08", "2026-09")
    assert res.checkpoints["actual"].iloc[0] == expected == 160.0


def test_at_risk_ratio_is_read_from_settings(frames):
    cps, seg, led, ent = frames
    res = traction(cps, seg, led, None, "2026-09", {"at_risk_ratio": 0.75}, "ru", entered=ent, plan_start="2026-08")
    assert res.checkpoints["status"].iloc[0] == "on_track"  # 160 >= 0.75 * 200


def test_inputs_are_not_modified(frames):
    cps, seg, led, ent = frames
    hist = {"segments": seg.assign(month="2026-08"), "members": pd.DataFrame(
        {"month": ["2026-07"], "map_id": ["group:vip"], "customer_id": ["c1"]})}
    copies = [copy.deepcopy(x) for x in (cps, seg, led, ent)]
    hist_copy = {k: v.copy(deep=True) for k, v in hist.items()}
    traction(cps, seg, led, hist, "2026-09", {"at_risk_ratio": 0.9}, "ru", entered=ent, plan_start="2026-08")
    for before, after in zip(copies, (cps, seg, led, ent)):
        pd.testing.assert_frame_equal(before, after)
    for k, frame in hist.items():
        pd.testing.assert_frame_equal(frame, hist_copy[k])


def test_entered_value_is_carried_past_the_deadline_only(frames):
    cps, seg, led, _ = frames
    keys = checkpoint_keys(cps)
    hist_cp = pd.DataFrame({"month": ["2026-08", "2026-08"], "key": [keys[2], keys[4]], "actual": [4.0, 3.0],
                            "status": ["done", "on_track"]})
    res = traction(cps, seg, led, {"checkpoints": hist_cp}, "2026-10", {"at_risk_ratio": 0.9}, "ru",
                   plan_start="2026-08")
    st = res.checkpoints["status"]
    assert st.iloc[2] == "done" and res.checkpoints["actual"].iloc[2] == 4.0   # deadline Sep < Oct: carried
    assert st.iloc[3] == "not_entered"                                          # deadline Oct: needs an entry
    assert st.iloc[4] == "missed"                                               # carried 3 of 5, deadline passed


def test_checkpoint_keys_number_duplicates():
    cps = pd.DataFrame([cp("cjm:vip", "2026-08", "progress_x", "count", 1, "2026-09", "entered", activity=a)
                        for a in ("one", "two")])
    assert checkpoint_keys(cps).tolist() == ["cjm:vip|progress_x|2026-08|2026-09|0",
                                             "cjm:vip|progress_x|2026-08|2026-09|1"]


def test_members_from_segments_and_freezing(frames):
    cps, seg, _, _ = frames
    extra = pd.DataFrame([cp("group:sleeping_reactivation", "2026-08", "sleeping_woken", "count", 1, "2026-09",
                             "computed", seg="sleeping_reactivation")])
    m = members_from_segments(pd.concat([cps, extra]), seg)
    got = m.sort_values(["map_id", "customer_id"]).values.tolist()
    assert got == [["group:sleeping_reactivation", "c2"], ["group:vip", "c1"], ["group:vip", "c2"],
                   ["individual:c3", "c3"]]
    hist = pd.DataFrame({"month": ["2026-06", "2026-07", "2026-07", "2026-08"],
                         "map_id": ["group:sleeping_reactivation"] * 4, "customer_id": ["x", "c2", "c9", "zz"]})
    frozen = freeze_members(m, hist, "2026-08", "2026-09")
    sleeping = frozen[frozen["map_id"] == "group:sleeping_reactivation"]["customer_id"].tolist()
    assert sorted(sleeping) == ["c2", "c9"]  # members of July, the month before the plan started
    assert sorted(frozen[frozen["map_id"] == "group:vip"]["customer_id"]) == ["c1", "c2"]


def test_migration_matrix_and_moves_with_names():
    prev = pd.DataFrame({C.CUSTOMER_ID: ["a", "b", "c", "d"], C.TIER: ["typical", "vip", "strategic", "ballast"],
                         C.LIFECYCLE: ["active", "active", "sleeping", "active"]})
    cur = pd.DataFrame({C.CUSTOMER_ID: ["a", "b", "c", "d", "e"],
                        C.CUSTOMER_NAME: ["Альфа", "Бета", "Вега", "Гамма", "Дельта"],
                        C.TIER: ["strategic", "vip", "strategic", "ballast", "typical"],
                        C.LIFECYCLE: ["active", "sleeping", "active", "lost", "new"],
                        C.REVENUE: [5.0, 50.0, 7.0, 0.0, 1.0]})
    matrix, moves = migration(prev, cur)
    assert matrix.loc["typical", "strategic"] == 1 and matrix.loc["new", "typical"] == 1
    assert matrix.loc["vip", "vip"] == 1 and int(matrix.to_numpy().sum()) == 5
    got = moves[["customer_name", "move", "from_value", "to_value"]].values.tolist()
    assert got == [["Альфа", "tier_up", "typical", "strategic"], ["Бета", "fell_asleep", "active", "sleeping"],
                   ["Вега", "woken", "sleeping", "active"], ["Гамма", "lost", "active", "lost"],
                   ["Дельта", "new", "", "new"]]


def test_romi_entered_and_computed():
    cps = pd.DataFrame([cp("group:vip", "2026-09", "romi", "ratio", 1.0, "2026-09", "entered"),
                        cp("group:typical", "2026-08", "revenue", "currency", 10.0, "2026-09", "computed",
                           seg="typical")])
    seg = pd.DataFrame({C.CUSTOMER_ID: ["c1", "c2"], C.CUSTOMER_NAME: ["A", "B"], C.TIER: ["vip", "typical"],
                        C.LIFECYCLE: ["active", "active"], C.REVENUE: [1.0, 1.0]})
    led = pd.DataFrame({C.CUSTOMER_ID: ["c2", "c2"], C.DATE: pd.to_datetime(["2025-08-10", "2026-08-10"]),
                        C.AMOUNT: [100.0, 400.0], C.DOCUMENT: ["x", "y"]})
    ent = pd.DataFrame({"key": [checkpoint_keys(cps)[0]], "actual": [1.5], "comment": [""]})
    res = traction(cps, seg, led, None, "2026-09", {}, "ru", entered=ent, plan_start="2026-08", plan_months=12,
                   costs={"group:typical": 600.0})
    r = res.romi.set_index("map_id")
    assert r.at["group:vip", "source"] == "entered" and r.at["group:vip", "romi"] == 1.5
    # growth 400 - 100 = 300; cost to date 600 * 2 / 12 = 100; ROMI (300 - 100) / 100 = 2
    assert r.at["group:typical", "source"] == "computed"
    assert r.at["group:typical", "cost_to_date"] == 100.0 and r.at["group:typical", "romi"] == 2.0


def test_due_for_entry(frames):
    cps, *_ = frames
    keys = checkpoint_keys(cps)
    hist = pd.DataFrame({"month": ["2026-09"], "key": [keys[2]], "actual": [4.0], "status": ["done"]})
    due = due_for_entry(cps, "2026-10", hist)
    # entered ones started by Oct: meetings (deadline Sep, done -> out), share (Oct), calls (Sep, never done -> overdue)
    assert due["key"].tolist() == [keys[3], keys[4]]
    due9 = due_for_entry(cps, "2026-09")
    assert due9["key"].tolist() == [keys[2], keys[3], keys[4]]
    assert due9["previous"].isna().all()


# ----------------------------------------------------------------------------- report
def test_report_first_month_and_sections(frames):
    from workbench.report.traction_report import render_traction_html, traction_findings

    cps, seg, led, ent = frames
    res = traction(cps, seg, led, None, "2026-09", {"at_risk_ratio": 0.9}, "ru", entered=ent, plan_start="2026-08")
    html = render_traction_html(res, "ru", "RUB")
    assert 'id="traction"' in html
    assert "первый месяц трекшна" in html and "Исходная точка. Уровни: VIP 2" in html
    assert 'class="st-missed"' in html and 'class="st-done"' in html and 'class="wb-svg"' in html
    assert "Что опаздывает" in html and "Что требует решения" in html
    f = traction_findings(res, "ru", "RUB")
    assert {x["severity"] for x in f} <= {"risk", "warn", "info", "ok"}
    assert any(x["headline"] == "Пропущено контрольных точек: 2 из 8" for x in f)
    html_en = render_traction_html(res, "en", "RUB", charts_on=False)
    assert "first month of traction" in html_en


def test_workbook_sheets(frames):
    from workbench.report.traction_report import add_traction_sheets
    from workbench.report.xlsx import Book

    cps, seg, led, ent = frames
    hist = {"segments": seg.assign(month="2026-08", tier=["typical", "vip", "vip"])}
    res = traction(cps, seg, led, hist, "2026-09", {"at_risk_ratio": 0.9}, "ru", entered=ent, plan_start="2026-08")
    book = Book("ru")
    add_traction_sheets(book, res, "ru")
    wb = book.workbook()
    assert wb.sheetnames[1:] == ["Трекшн", "Миграция", "Переходы клиентов", "История трекшна"]
    ws = wb["Трекшн"]
    header = [c.value for c in ws[3]]
    col = header.index("Статус") + 1
    statuses = [ws.cell(row=r, column=col).value for r in range(4, ws.max_row + 1)]
    assert statuses[:3] == ["под угрозой", "выполнено", "пропущено"]
    assert ws.cell(row=4, column=col).fill.fgColor.rgb.endswith("FDF3E8")  # the status colour follows its column
    money = [h for h in header if h and h.endswith(", ₽")]
    assert money and all(ws.cell(row=r, column=header.index(h) + 1).number_format.endswith('"₽"')
                         for h in money for r in range(4, ws.max_row + 1)
                         if ws.cell(row=r, column=header.index(h) + 1).value is not None)


# ----------------------------------------------------------------------------- actuals workbook
@pytest.fixture()
def actuals_file(frames, tmp_path):
    from workbench.io.actuals import render_actuals_workbook

    cps, *_ = frames
    due = due_for_entry(cps, "2026-09")
    path = tmp_path / "actuals" / "2026-09.xlsx"
    path.parent.mkdir()
    render_actuals_workbook(due, "2026-09", "ru", {"group:vip": "VIP"}, "ООО «Клиент»").save(path)
    return path, cps, due


def test_actuals_validation_present(actuals_file):
    from openpyxl import load_workbook

    path, _, due = actuals_file
    ws = load_workbook(path)["Факт"]
    rules = {str(dv.sqref): (dv.type, dv.operator, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation}
    # rows 5.. : meetings (count), answered share, calls (count)
    assert rules["F5 F7"] == ("whole", "greaterThanOrEqual", "0", None)
    assert rules["F6"] == ("decimal", "between", "0", "1")
    assert ws.protection.sheet and not ws["F5"].protection.locked and not ws["G5"].protection.locked
    assert ws["H5"].protection.locked
    assert [ws[f"A{r}"].value for r in (5, 6, 7)] == due["key"].tolist()
    assert ws["F4"].value == "Факт" and ws["B5"].value == "VIP"


def _set(path: Path, cells: dict[str, object]) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    for ref, value in cells.items():
        ws[ref] = value
    wb.save(path)


def test_actuals_errors_name_the_cell(actuals_file):
    from workbench.io.actuals import read_actuals

    path, cps, _ = actuals_file
    _set(path, {"F5": "много", "F6": 1.5, "F7": 2.5})
    with pytest.raises(InputError) as err:
        read_actuals(path, cps, "ru")
    text = str(err.value)
    assert "actuals/2026-09.xlsx: ожидалось число" not in text  # a count says it must be whole
    assert "actuals/2026-09.xlsx: ожидалось целое число ≥ 0 (количество) (2)" in text
    assert "  - Факт!F5, столбец «Факт»: значение «много»" in text
    assert "  - Факт!F7, столбец «Факт»: значение «2.5»" in text
    assert "actuals/2026-09.xlsx: ожидалась доля от 0 до 1 (например 0,45 или 45 %) (1)" in text
    assert "  - Факт!F6, столбец «Факт»: значение «1.5»" in text
    with pytest.raises(InputError, match='Факт!F5, column "Actual": value "-3"'):
        _set(path, {"F5": -3, "F6": None, "F7": None})
        read_actuals(path, cps, "en")


def test_actuals_number_error_wording(tmp_path):
    from workbench.io.actuals import read_actuals, render_actuals_workbook

    cps = pd.DataFrame([cp("group:vip", "2026-09", "romi", "ratio", 1.0, "2026-09", "entered")])
    path = tmp_path / "actuals" / "2026-11.xlsx"
    path.parent.mkdir()
    render_actuals_workbook(due_for_entry(cps, "2026-11"), "2026-11", "ru").save(path)
    _set(path, {"F5": "много"})
    with pytest.raises(InputError, match=r"actuals/2026-11\.xlsx: ожидалось число ≥ 0 \(1\)\n  - Факт!F5, "
                                         r"столбец «Факт»: значение «много»"):
        read_actuals(path, cps, "ru")


def test_actuals_read_accepts_russian_text_numbers(actuals_file):
    from workbench.io.actuals import read_actuals

    path, cps, due = actuals_file
    _set(path, {"F5": "3", "F6": "45 %", "G7": "звонки перенесены"})
    got = read_actuals(path, cps, "ru")
    assert got["key"].tolist() == due["key"].tolist()
    assert got["actual"].iloc[0] == 3.0 and got["actual"].iloc[1] == pytest.approx(0.45)
    assert pd.isna(got["actual"].iloc[2]) and got["comment"].iloc[2] == "звонки перенесены"
    assert got["cell"].tolist() == ["Факт!F5", "Факт!F6", "Факт!F7"]


# ----------------------------------------------------------------------------- the command
def _engagement(root: Path, start: str = "2026-08") -> Path:
    from workbench.config import render_template

    root.mkdir(parents=True, exist_ok=True)
    text = render_template("ООО «Тест»", "ru", "data/sales.csv", "")
    text = text.replace('start_month: ""', f'start_month: "{start}"')
    (root / "engagement.yaml").write_text(text, encoding="utf-8")
    return root


def test_cli_refuses_an_engagement_never_run(tmp_path, capsys):
    from workbench.cli import main

    path = _engagement(tmp_path / "engagements" / "acme")
    assert main(["actuals", str(path), "--month", "2026-09"]) == 1
    err = capsys.readouterr().err
    assert "нет контрольных точек за 2026-09 и ранее. Сначала запустите месяц" in err
    assert main(["actuals", str(path), "--month", "2026-13"]) == 1
    assert "Месяц «2026-13» не распознан" in capsys.readouterr().err


def test_write_actuals_never_overwrites_entries(frames, tmp_path):
    from workbench.config import load_engagement
    from workbench.io.actuals import raw_rows, write_actuals

    cps, *_ = frames
    eng = load_engagement(_engagement(tmp_path / "acme"))
    due = due_for_entry(cps, "2026-09")
    path = write_actuals(eng, "2026-09", due, {})
    write_actuals(eng, "2026-09", due, {})  # no entries yet: rewritten freely
    _set(path, {"F5": 3, "G6": "позже"})
    with pytest.raises(WorkbenchError, match="уже внесены значения \\(2 строк\\)"):
        write_actuals(eng, "2026-09", due, {})
    write_actuals(eng, "2026-09", due.iloc[1:], {}, force=True)  # the meetings row is no longer due
    rows = {r["key"]: r for r in raw_rows(path)}
    assert rows[due["key"][0]]["actual"] == 3 and rows[due["key"][1]]["comment"] == "позже"
    assert len(rows) == 3


# ----------------------------------------------------------------------------- three months
CUSTOMERS = [  # (inn, name, kind, base amount)
    ("7701000001", "ООО «Альфа»", "monthly", 210_000.5), ("7701000002", "АО «Бета»", "monthly", 160_000.25),
    ("7701000003", "ООО «Вега»", "monthly", 90_000.0), ("7701000004", "ООО «Гранит»", "monthly", 40_000.0),
    ("7701000005", "ООО «Дон»", "monthly", 30_000.0), ("7701000006", "ООО «Ель»", "monthly", 25_000.0),
    ("7701000007", "ООО «Жасмин»", "monthly", 20_000.0), ("0274062111", "ООО «Заря»", "sleeper", 35_000.0),
    ("7701000009", "ООО «Ива»", "quarterly", 15_000.0), ("7701000010", "ООО «Кедр»", "quarterly", 12_000.0),
    ("7701000011", "ООО «Луч»", "oneoff", 9_000.0), ("7701000012", "ООО «Мир»", "newcomer", 50_000.0),
    ("7701000013", "ООО «Нива»", "monthly", 18_000.0), ("7701000014", "ООО «Орёл»", "monthly", 16_000.0),
]


def _ledger_lines() -> pd.DataFrame:
    months = pd.period_range("2025-07", "2026-09", freq="M")
    rows, doc = [], 100
    for k, (inn, name, kind, base) in enumerate(CUSTOMERS):
        for i, m in enumerate(months):
            buys = {"monthly": True, "sleeper": str(m) <= "2026-06", "quarterly": i % 3 == k % 3,
                    "oneoff": str(m) == "2025-09", "newcomer": str(m) == "2026-09"}[kind]
            if not buys:
                continue
            doc += 1
            amount = round(base * (1 + 0.03 * ((i + k) % 4)), 2)
            rows.append((m.start_time + pd.Timedelta(days=(k % 20) + 3), f"РН-{doc}", name, inn, amount))
    return pd.DataFrame(rows, columns=["date", "document", "name", "inn", "amount"])


def _write_sales(root: Path, lines: pd.DataFrame, month: str) -> None:
    upto = lines[lines["date"] <= pd.Period(month, "M").end_time]
    amount = upto["amount"].map(lambda v: f"{v:,.2f}".replace(",", "\u00a0").replace(".", ","))
    out = pd.DataFrame({"Дата": upto["date"].dt.strftime("%d.%m.%Y"), "Документ": upto["document"],
                        "Контрагент": upto["name"], "ИНН": upto["inn"], "Сумма": amount})
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "sales.csv").write_bytes(out.to_csv(sep=";", index=False, lineterminator="\r\n")
                                              .encode("cp1251"))


def _maps_step(ctx):
    from workbench import steps

    try:
        return steps.maps_step(ctx)
    except ModuleNotFoundError:  # steps.maps_step and the maps module may be out of step while both evolve
        from workbench.config import TEMPLATES_DIR
        from workbench.io import tables
        from workbench.maps import draft_maps, load_map_templates

        res = draft_maps(steps.load_segments(ctx), steps.load_ledger(ctx), ctx.settings["maps"], ctx.month,
                         load_map_templates(TEMPLATES_DIR / "maps"), ctx.lang)
        tables.write_parquet(res.checkpoints, ctx.step_dir / "checkpoints_maps.parquet")
        steps.save_result(ctx, "maps", res)
        return res


def _run_month(root: Path, month: str):
    """What the notebooks of ``workbench run`` do for one month, then the history commit."""
    import shutil

    from workbench import history, steps

    work = root / "work" / month
    shutil.rmtree(work, ignore_errors=True)
    ctx = steps.context(str(root), month, "ru", str(work), str(work / "preview"), refresh_import=True)
    steps.segment_step(ctx)
    _maps_step(ctx)
    steps.cjm_step(ctx)
    res = steps.traction_step(ctx)
    history.commit_snapshot(ctx.engagement, month, work)
    return res


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    pytest.importorskip("workbench.ingest")
    from openpyxl import load_workbook

    from workbench.cli import main
    from workbench.history import load_history

    root = _engagement(tmp_path_factory.mktemp("walk") / "engagements" / "acme")
    lines = _ledger_lines()
    out: dict[str, object] = {"root": root}
    _write_sales(root, lines, "2026-07")
    out["r07"] = _run_month(root, "2026-07")
    _write_sales(root, lines, "2026-08")
    assert main(["actuals", str(root), "--month", "2026-08"]) == 0
    path = root / "actuals" / "2026-08.xlsx"
    wb = load_workbook(path)
    ws = wb["Факт"]
    keys, targets = [], []
    for r in range(5, ws.max_row + 1):
        if ws[f"A{r}"].value:
            keys.append(ws[f"A{r}"].value)
            targets.append(ws[f"H{r}"].value)
    ws["F5"] = targets[0]   # first activity: done
    ws["F6"] = 0            # second: nothing happened
    wb.save(path)
    out["entered_keys"] = keys
    out["r08"] = _run_month(root, "2026-08")
    _write_sales(root, lines, "2026-09")
    out["r09"] = _run_month(root, "2026-09")
    out["hist_before"] = load_history(root / "history.sqlite")
    out["r08b"] = _run_month(root, "2026-08")
    out["hist_after"] = load_history(root / "history.sqlite")
    return out


def test_walk_first_month_is_the_baseline(walk):
    from workbench.report.traction_report import render_traction_html

    r07 = walk["r07"]
    assert r07.first_month and r07.plan_start == "2026-08"
    assert set(r07.checkpoints["status"]) == {"planned"}  # the plan starts next month
    html = render_traction_html(r07, "ru", "RUB")
    assert "Это первый месяц трекшна" in html and "Начало плана — август 2026" in html


def test_walk_statuses_of_entered_and_computed(walk):
    r08 = walk["r08"]
    cps = r08.checkpoints.set_index("key")
    k0, k1 = walk["entered_keys"][:2]
    assert cps.at[k0, "status"] == "done"
    assert cps.at[k1, "status"] in ("missed", "at_risk")
    assert cps.at[k1, "status"] == ("missed" if cps.at[k1, C.DEADLINE] <= "2026-08" else "at_risk")
    others = cps[(cps[C.KPI_SOURCE] == "entered") & (cps[C.MONTH] <= "2026-08") & ~cps.index.isin([k0, k1])]
    assert len(others) and set(others["status"]) == {"not_entered"}
    assert r08.previous_month == "2026-07" and not r08.first_month


def test_walk_computed_actual_matches_the_registry_on_frozen_members(walk):
    from workbench.io import tables

    root, r09 = walk["root"], walk["r09"]
    ledger = tables.read_parquet(root / "work" / "ledger.parquet")
    comp = r09.checkpoints[(r09.checkpoints[C.KPI_SOURCE] == "computed") & (r09.checkpoints["status"] != "planned")
                           & r09.checkpoints[C.KPI].isin(list(kpis.KPIS))]
    assert len(comp)
    hist = walk["hist_before"]["members"]
    for rec in comp.head(5).to_dict("records"):
        members = hist[(hist["month"] == "2026-07") & (hist["map_id"] == rec[C.MAP_ID])]["customer_id"].tolist()
        assert members, rec[C.MAP_ID]  # frozen at July, the month before the plan
        end = min(rec[C.DEADLINE], "2026-09")
        expected = kpis.compute_kpi(rec[C.KPI], ledger, members, "2026-08", end)
        assert rec["actual"] == pytest.approx(expected), rec["key"]


def test_walk_migration_names_the_customers(walk):
    r09 = walk["r09"]
    assert r09.previous_month == "2026-08"
    moves = r09.moves.set_index("customer_name")["move"]
    assert moves["ООО «Заря»"] == "fell_asleep"  # monthly until June, silent since
    assert moves["ООО «Мир»"] == "new"
    assert int(r09.matrix.to_numpy().sum()) == len(CUSTOMERS)  # every known customer once (Луч too)
    assert r09.matrix.loc["new"].sum() == 1


def test_walk_history_and_rerun_of_the_middle_month(walk):
    before, after = walk["hist_before"], walk["hist_after"]
    assert sorted(after["runs"]["month"]) == ["2026-07", "2026-08", "2026-09"]
    for name in ("segments", "checkpoints", "members"):
        for m in ("2026-07", "2026-09"):
            b = before[name][before[name]["month"] == m].reset_index(drop=True)
            a = after[name][after[name]["month"] == m].reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b)
        b8 = before[name][before[name]["month"] == "2026-08"].reset_index(drop=True)
        a8 = after[name][after[name]["month"] == "2026-08"].reset_index(drop=True)
        pd.testing.assert_frame_equal(a8, b8)  # same inputs, same snapshot
    runs = before["runs"].set_index("month")
    assert runs.loc[["2026-07", "2026-09"], "committed_at"].tolist() == \
        after["runs"].set_index("month").loc[["2026-07", "2026-09"], "committed_at"].tolist()
    cp9 = after["checkpoints"][after["checkpoints"]["month"] == "2026-09"].set_index("key")["status"]
    r9 = walk["r09"].checkpoints.set_index("key")["status"]
    assert cp9.sort_index().tolist() == r9.sort_index().tolist()
    assert "customer_name" not in after["segments"].columns


def test_walk_actuals_for_next_month_lists_overdue_and_previous(walk, tmp_path):
    from workbench.cli import main
    from workbench.io.actuals import raw_rows

    root = walk["root"]
    assert main(["actuals", str(root), "--month", "2026-09"]) == 0
    rows = raw_rows(root / "actuals" / "2026-09.xlsx")
    keys = [r["key"] for r in rows]
    k0, k1 = walk["entered_keys"][:2]
    assert k0 not in keys                 # done in August: not asked again
    assert k1 in keys                     # not met: still open
    assert next(r for r in rows if r["key"] == k1)["previous"] == 0


@pytest.mark.slow
def test_walk_through_workbench_run_matches_the_steps(walk):
    """The notebooks (papermill) give the same month as the steps called directly; the run
    commits the history and the workbook carries the traction sheets."""
    from openpyxl import load_workbook

    from workbench.history import load_history
    from workbench.run import run_engagement

    root = walk["root"]
    before = load_history(root / "history.sqlite")
    res = run_engagement(root, month="2026-09", echo=lambda m: None)
    after = load_history(root / "history.sqlite")
    for name in ("segments", "checkpoints", "members"):
        for m in ("2026-07", "2026-08", "2026-09"):
            b = before[name][before[name]["month"] == m].reset_index(drop=True)
            a = after[name][after[name]["month"] == m].reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b)
    sheets = load_workbook(res.deliverables / "workbook.xlsx", read_only=True).sheetnames
    assert {"Трекшн", "Миграция", "Переходы клиентов", "История трекшна"} <= set(sheets)
    html = (res.deliverables / "report.html").read_text(encoding="utf-8")
    assert 'id="traction"' in html and "Коротко для руководства: сентябрь 2026" in html
