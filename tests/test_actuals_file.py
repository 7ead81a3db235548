"""The consultant's actuals file: no entry is ever lost silently.

A renamed sheet, an edited ID, a formula without a saved value: each either is read as the
consultant meant or stops the run naming the cell, with words about this file (not about
the client's export). ``workbench actuals`` never writes while a run holds the engagement.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from workbench import steps
from workbench.cli import main
from workbench.errors import InputError
from workbench.io.actuals import read_actuals

pytestmark = pytest.mark.slow
MONTH = "2026-11"


def _filled(root: Path, capsys) -> tuple[Path, pd.DataFrame, dict[str, float]]:
    """actuals/2026-11.xlsx as the command writes it, with the first three actuals entered."""
    assert main(["actuals", str(root), "--month", MONTH]) == 0
    capsys.readouterr()
    path = root / "actuals" / f"{MONTH}.xlsx"
    wb = load_workbook(path)
    ws = wb["Факт"]
    entered = {}
    for r, value in zip(range(5, 8), (3, 40, 2)):
        ws[f"F{r}"] = value
        entered[ws[f"A{r}"].value] = float(value)
    wb.save(path)
    return path, steps.load_checkpoints(root / "work" / "2026-10"), entered


def _entries(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["key"], frame["actual"]))


def test_a_renamed_actuals_sheet_behind_another_is_still_read(demo_copy, capsys):
    path, checkpoints, entered = _filled(demo_copy, capsys)
    assert _entries(read_actuals(path, checkpoints)) == entered
    wb = load_workbook(path)
    wb["Факт"].title = "Ноябрь"
    notes = wb.create_sheet("Заметки", 0)  # placed first
    notes["A5"] = "group:vip|revenue|2026-11|2026-11|0"
    wb.save(path)
    frame = read_actuals(path, checkpoints)
    assert _entries(frame) == entered
    assert frame["cell"].tolist() == ["Ноябрь!F5", "Ноябрь!F6", "Ноябрь!F7"]


def test_no_sheet_or_two_sheets_of_actuals_are_named(demo_copy, capsys):
    path, checkpoints, _ = _filled(demo_copy, capsys)
    wb = load_workbook(path)
    wb.copy_worksheet(wb["Факт"]).title = "Факт (2)"
    wb.save(path)
    with pytest.raises(InputError) as err:
        read_actuals(path, checkpoints)
    assert str(err.value).splitlines()[1:3] == [
        "actuals/2026-11.xlsx: в файле несколько листов факта; оставьте один (1)",
        "  - значение «Факт, Факт (2)»"]
    del wb["Факт"]
    del wb["Факт (2)"]
    wb.create_sheet("Лист1")
    wb.save(path)
    with pytest.raises(InputError) as err:
        read_actuals(path, checkpoints)
    assert str(err.value).splitlines()[1:3] == [
        "actuals/2026-11.xlsx: не найден лист факта (лист «Факт» или «Actuals» с заголовками в строке 4) (1)",
        "  - значение «Лист1»"]


def test_an_edited_id_and_a_formula_without_a_value_are_named(demo_copy, capsys):
    path, checkpoints, entered = _filled(demo_copy, capsys)
    wb = load_workbook(path)
    ws = wb["Факт"]
    ws["A6"] = "group:strategic|meetings_held|2026-11|2026-11|9"  # edited by hand
    ws["F7"] = "=F5*2"  # saved by a program that does not compute formulas
    ws["A8"] = "no-such-key"  # an edited ID on a row with nothing entered: nothing to lose
    wb.save(path)
    with pytest.raises(InputError) as err:
        read_actuals(path, checkpoints)
    assert str(err.value).splitlines() == [
        f"Файл факта {path} не принят: найдено проблем: 2. Исправьте эти ячейки и запустите workbench run снова.",
        "actuals/2026-11.xlsx: ID контрольной точки нет в плане месяца (ID в скрытом столбце A меняли?) (1)",
        "  - Факт!A6, столбец «ID»: значение «group:strategic|meetings_held|2026-11|2026-11|9»",
        "actuals/2026-11.xlsx: формула без сохранённого значения (откройте файл в Excel и сохраните его) (1)",
        "  - Факт!F7, столбец «Факт»: значение «=F5*2»",
        "Прогон остановлен: прежние отчёты и история не изменены.",
    ]


def test_workbench_actuals_waits_for_no_one_while_a_run_holds_the_engagement(demo_copy, capsys):
    from workbench.io.lock import EngagementLock

    with EngagementLock(demo_copy, "workbench run 2026-10", "ru"):
        assert main(["actuals", str(demo_copy), "--month", MONTH]) == 1
        err = capsys.readouterr().err
        assert err.startswith("Проект demo уже выполняется: процесс ") and "(workbench run 2026-10, с " in err
    assert not (demo_copy / "actuals").exists()
