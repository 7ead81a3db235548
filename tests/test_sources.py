"""Several sales files: which files are read, what is said of the others, overlaps (issue 21)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli import main
from workbench.config import load_engagement
from workbench.demo import sales_1c_csv
from workbench.errors import ConfigError, InputError
from workbench.ingest import import_engagement, import_findings


def lines(rows: list[tuple[str, str, str, str, str, float]]) -> pd.DataFrame:
    """Sales lines (date dd.mm.yyyy, document, customer, INN, product, amount)."""
    df = pd.DataFrame(rows, columns=["date", "document", "customer_name", "inn", "product", "amount"])
    df["date"] = pd.to_datetime(df["date"], format="%d.%m.%Y")
    df["quantity"] = 1
    df["manager"] = "Петров Сергей"
    return df


BASE = lines([
    ("05.09.2026", "РН-1", "ООО «Альфа»", "7701000001", "Бумага", 1000.0),
    ("05.09.2026", "РН-1", "ООО «Альфа»", "7701000001", "Скотч", 200.0),
    ("12.09.2026", "РН-2", "ООО «Бета»", "7701000002", "Бумага", 3000.0),
    ("03.10.2026", "РН-3", "ООО «Альфа»", "7701000001", "Бумага", 1500.0),
    ("20.10.2026", "РН-4", "ООО «Гамма»", "7701000003", "Плёнка", 700.0),
])


def engagement(tmp_path: Path, files: dict[str, pd.DataFrame | bytes], extra: str = "") -> Path:
    """An engagement whose engagement.yaml names the first file; the others lie in data/."""
    root = tmp_path / "engagements" / "client"
    (root / "data").mkdir(parents=True)
    for name, content in files.items():
        (root / "data" / name).write_bytes(content if isinstance(content, bytes) else sales_1c_csv(content))
    first = next(iter(files))
    (root / "engagement.yaml").write_text(
        f'client: "ООО «Тест»"\nlanguage: ru\ninputs:\n  sales:\n    file: data/{first}\n{extra}', encoding="utf-8")
    return root


def by_month(ledger: pd.DataFrame) -> dict[str, float]:
    return ledger.groupby(ledger["date"].dt.strftime("%Y-%m"))["amount"].sum().round(2).to_dict()


# --- files of another layout ------------------------------------------------------------
def test_a_file_of_another_layout_is_named_with_the_line_to_add(tmp_path, capsys):
    """import, run and batch name a file of data/ that is read as no input, with the
    engagement.yaml line; the line, set as printed, makes it an input or leaves it out."""
    src = tmp_path / "продажи_2026-10.csv"
    src.write_bytes(sales_1c_csv(BASE))
    root = tmp_path / "engagements"
    assert main(["new", str(root / "alfa"), "--client", "ООО «Альфа»", "--data", str(src)]) == 0
    eng = root / "alfa"
    (eng / "data" / "прайс.csv").write_bytes("Артикул;Наименование;Цена;Остаток\r\n1;Бумага;100;5\r\n".encode("cp1251"))
    november = ("Дата;Контрагент;ИНН;Σ, руб.\r\n"
                "02.11.2026;ООО «Альфа»;7701000001;4 000,00\r\n"
                "16.11.2026;ООО «Бета»;7701000002;2 500,50\r\n").encode()  # UTF-8: another system
    (eng / "data" / "выручка_ноябрь.csv").write_bytes(november)
    capsys.readouterr()
    assert main(["import", str(eng)]) == 0
    out = capsys.readouterr().out
    sales_line = ('inputs.sales.files: ["data/*", {file: "data/выручка_ноябрь.csv", columns: {amount: "…"}}]')
    assert "Файлы в data/, не прочитанные как входные данные (2):" in out
    assert ("  data/выручка_ноябрь.csv: найден по шаблону, но это не журнал продаж; нет столбцов: сумма; "
            "заголовок: Дата | Контрагент | ИНН | Σ, руб.") in out
    assert f"      {sales_line}" in out
    assert '      inputs.ignore: ["data/выручка_ноябрь.csv"]' in out
    assert ("  data/прайс.csv: найден по шаблону, но это не журнал продаж; нет столбцов: контрагент, дата, сумма; "
            "заголовок: Артикул | Наименование | Цена | Остаток") in out
    assert '      inputs.ignore: ["data/прайс.csv"]' in out
    # run: November is in the file not read, so there is no November; the run names the files
    # and their lines first
    assert main(["run", str(eng), "--month", "2026-11"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Файлы в data/, не прочитанные как входные данные (2):"
    assert f"      {sales_line}" in err and '      inputs.ignore: ["data/прайс.csv"]' in err
    assert err[-1].startswith("За 2026-11 нет данных: последняя продажа в файлах продаж — 2026-10.")
    # batch: the same under its table; not a failure
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "batch", str(root), "--month", "2026-11",
                          "--jobs", "1"], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    table = out.stdout.splitlines()
    assert re.match(r"^alfa\s+нет данных\s.*последний месяц с продажами: 2026-10$", table[1])
    assert "alfa: Файлы в data/, не прочитанные как входные данные (2):" in table
    assert f"      {sales_line}" in table and '      inputs.ignore: ["data/прайс.csv"]' in table
    # the lines, set as printed (the header of the amount in place of «…»)
    cfg = eng / "engagement.yaml"
    text = cfg.read_text(encoding="utf-8")
    value = sales_line.split(": ", 1)[1].replace("…", "Σ, руб.")
    text = re.sub(r"(?m)^    files: .*$", f"    files: {value}", text, count=1)
    text = re.sub(r"(?m)^  ignore: .*$", '  ignore: ["data/прайс.csv"]', text, count=1)
    cfg.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(eng)]) == 0
    out = capsys.readouterr().out
    assert "не прочитанные" not in out and "прайс" not in out
    res = import_engagement(load_engagement(eng))
    assert by_month(res.ledger) == {"2026-09": 4200.0, "2026-10": 2200.0, "2026-11": 6500.5}
    assert set(res.ledger["source_file"]) == {"продажи_2026-10.csv", "выручка_ноябрь.csv"}


# --- overlaps -----------------------------------------------------------------------------
def test_newest_is_the_file_with_the_latest_sale_not_the_latest_on_disk(tmp_path):
    """A re-export of September-October (later sales) wins both months, even when the older
    export was copied later (newer modification time) and sorts after it by name."""
    reexport = pd.concat([BASE, lines([("04.11.2026", "РН-5", "ООО «Бета»", "7701000002", "Бумага", 900.0)])])
    reexport.loc[reexport["document"] == "РН-4", "amount"] = 650.0   # a corrected document
    reexport = reexport[reexport["document"] != "РН-2"]               # and a deleted one
    root = engagement(tmp_path, {"z_old.csv": BASE, "a_new.csv": reexport})
    os.utime(root / "data" / "a_new.csv", (1_000_000_000, 1_000_000_000))  # "older" on disk
    res = import_engagement(load_engagement(root))
    assert by_month(res.ledger) == {"2026-09": 1200.0, "2026-10": 2150.0, "2026-11": 900.0}
    assert set(res.ledger["source_file"]) == {"a_new.csv"}
    section = res.report["sales_files"]
    assert [f["file"] for f in section["files"]] == ["a_new.csv", "z_old.csv"]  # newest first
    assert section["files"][0]["found_by"] == "data/*"
    sep = next(m for m in section["months"] if m["month"] == "2026-09")
    assert sep["sources"] == [{"file": "a_new.csv", "rows": 2, "revenue": 1200.0}]
    assert sep["dropped"] == [{"file": "z_old.csv", "rows": 3, "amount": 4200.0}]
    rows = {r["document"]: r for r in section["corrections"]["rows"]}
    assert set(rows) == {"РН-2", "РН-4"}
    assert (rows["РН-2"]["change"], rows["РН-2"]["before"], rows["РН-2"]["after"]) == ("removed", 3000.0, None)
    assert (rows["РН-4"]["change"], rows["РН-4"]["before"], rows["РН-4"]["after"]) == ("changed", 700.0, 650.0)
    assert [(m["month"], m["difference"]) for m in section["corrections"]["months"]] == [
        ("2026-09", -3000.0), ("2026-10", -50.0)]
    finding = next(f for f in import_findings(res.report, "ru", "RUB") if "меняет прошлые месяцы" in f["headline"])
    assert finding["audience"] == "management" and finding["headline"].endswith("2026-09, 2026-10")


def test_dedupe_rows_keeps_files_split_by_branch_and_a_document_once(tmp_path):
    """import.overlap: dedupe_rows: two branches' files over the same months are both kept;
    a re-export of one branch replaces its documents (the corrected one listed), never doubles them."""
    south = lines([("07.09.2026", "ЮГ-1", "ООО «Дельта»", "7701000004", "Бумага", 500.0),
                   ("08.10.2026", "ЮГ-2", "ООО «Дельта»", "7701000004", "Бумага", 800.0)])
    again = BASE.copy()
    again.loc[again["document"] == "РН-3", "amount"] = 1600.0
    again = pd.concat([again, lines([("01.11.2026", "РН-6", "ООО «Альфа»", "7701000001", "Бумага", 300.0)])])
    root = engagement(tmp_path, {"north.csv": BASE, "south.csv": south, "north_again.csv": again},
                      "import:\n  overlap: dedupe_rows\n")
    res = import_engagement(load_engagement(root))
    assert by_month(res.ledger) == {"2026-09": 4200.0 + 500.0, "2026-10": 1600.0 + 700.0 + 800.0, "2026-11": 300.0}
    assert len(res.ledger) == len(again) + len(south)
    assert res.ledger.groupby("source_file").size().to_dict() == {"north_again.csv": 6, "south.csv": 2}
    corr = res.report["sales_files"]["corrections"]
    assert [(r["document"], r["before"], r["after"]) for r in corr["rows"]] == [("РН-3", 1500.0, 1600.0)]
    # the default policy would take each month from one file: the branch files must say dedupe_rows
    root2 = engagement(tmp_path / "default", {"north.csv": BASE, "south.csv": south})
    res2 = import_engagement(load_engagement(root2))
    assert set(res2.ledger["source_file"]) == {"north.csv"}  # the later sales: south's months replaced
    assert len(res2.report["sales_files"]["corrections"]["rows"]) == 6  # every document differs: visible


def test_a_broken_export_found_by_the_pattern_is_refused_naming_the_pattern(tmp_path):
    text = sales_1c_csv(BASE).decode("cp1251").replace("20.10.2026", "31.02.2026").encode("cp1251")
    root = engagement(tmp_path, {"sales.csv": BASE, "sales_new.csv": text})
    with pytest.raises(InputError) as err:
        import_engagement(load_engagement(root))
    message = str(err.value).splitlines()
    assert "sales_new.csv: дата не распознана (ожидалось дд.мм.гггг, дд.мм.гг, гггг-мм-дд, д/м/гггг или период «Январь 2024 г.») (1)" in message
    assert ("sales_new.csv: файл взят как продажи по шаблону из engagement.yaml; если это не продажи, исключите "
            "его строкой (1)") in message
    assert '  - inputs.ignore: ["data/sales_new.csv"]: значение «data/*»' in message


def test_only_files_of_data_with_no_input_are_listed(tmp_path):
    """Hidden files, Office lock files and the customers file are never sales nor listed;
    a file matching no item of a narrowed ``files`` is listed with the line to add it."""
    root = engagement(tmp_path, {"sales_2026-10.csv": BASE, "other_2026-11.csv": BASE},
                      '    files: ["data/sales_*.csv"]\n')
    (root / "data" / ".DS_Store").write_bytes(b"\x00\x01")
    (root / "data" / "~$sales.xlsx").write_bytes(b"lock")
    res = import_engagement(load_engagement(root))
    assert [(u["path"], u["reason"], [x["line"] for x in u["lines"]]) for u in res.report["sales_files"]["unmatched"]] \
        == [("data/other_2026-11.csv", "not_listed", ['["data/sales_*.csv", "data/other_2026-11.csv"]',
                                                      '["data/other_2026-11.csv"]'])]


@pytest.mark.parametrize("files, message", [
    ('[{file: data/a.csv, sheet: 1}]', 'inputs.sales.files[0].sheet: ожидалась строка, получено 1'),
    ('[{file: data/a.csv, colums: {}}]', ('ключ inputs.sales.files[0].colums неизвестен; допустимые ключи: '
                                          'file, sheet, columns')),
    ('[{file: data/a.csv, columns: {summa: X}}]', ('inputs.sales.files[0].columns.summa: значение "summa" '
                                                   'недопустимо')),
    ('[{sheet: X}]', 'inputs.sales.files[0].file: обязательный ключ не задан'),
    ('[3]', ('inputs.sales.files[0]: ожидался путь (шаблон вида data/*.csv) или {file: ..., sheet: ..., '
             'columns: {...}}, получено 3')),
    ('["../other/*.csv"]', 'inputs.sales.files[0]: путь ../other/*.csv выходит за пределы папки проекта'),
])
def test_files_items_are_validated_naming_the_key(tmp_path, files, message):
    root = engagement(tmp_path, {"a.csv": BASE}, f"    files: {files}\n")
    with pytest.raises(ConfigError) as err:
        load_engagement(root)
    assert message in str(err.value)


# --- workbench add ---------------------------------------------------------------------------
def test_add_never_overwrites_and_copies_the_same_bytes_once(tmp_path, capsys):
    root = engagement(tmp_path, {"sales.csv": BASE})
    before = (root / "data" / "sales.csv").read_bytes()
    new = tmp_path / "dl" / "sales.csv"
    new.parent.mkdir()
    new.write_bytes(sales_1c_csv(pd.concat([BASE, lines([("04.11.2026", "РН-5", "ООО «Бета»", "7701000002",
                                                           "Бумага", 900.0)])])))
    capsys.readouterr()
    assert main(["add", str(root), str(new)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (f"{new} → data/sales-2.csv (файл с таким именем в data/ уже есть, он не тронут)")
    assert "data/sales-2.csv: прочитан как продажи, 05.09.2026 — 04.11.2026, строк 6, использовано 6" in out
    assert (root / "data" / "sales.csv").read_bytes() == before
    assert (root / "data" / "sales-2.csv").read_bytes() == new.read_bytes()
    assert main(["add", str(root), str(new)]) == 0
    assert f"{new}: такой же файл уже есть в data/ (data/sales-2.csv), не скопирован" in capsys.readouterr().out
    assert sorted(p.name for p in (root / "data").iterdir()) == ["sales-2.csv", "sales.csv"]
    assert main(["add", str(root), str(tmp_path / "missing.csv")]) == 1
    assert "missing.csv не найден" in capsys.readouterr().err


def test_add_of_a_broken_export_keeps_it_and_says_what_to_fix(tmp_path, capsys):
    root = engagement(tmp_path, {"sales.csv": BASE})
    new = tmp_path / "sales_nov.csv"
    new.write_bytes(sales_1c_csv(BASE).decode("cp1251").replace("03.10.2026", "32.10.2026").encode("cp1251"))
    assert main(["add", str(root), str(new)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("Файлы скопированы в data/, но импорт их не принял — исправьте по сообщению ниже и запустите "
                      "workbench import.")
    assert "sales_nov.csv: дата не распознана (ожидалось дд.мм.гггг, дд.мм.гг, гггг-мм-дд, д/м/гггг или период «Январь 2024 г.») (1)" in err
    assert (root / "data" / "sales_nov.csv").read_bytes() == new.read_bytes()


def test_a_file_item_has_its_own_sheet_and_columns(tmp_path):
    """``inputs.sales.files`` items: an older workbook whose sales are on its second sheet,
    under headers of its own, read beside the 1C export."""
    from openpyxl import Workbook

    root = engagement(tmp_path, {"sales.csv": BASE}, '    files:\n      - "data/*.csv"\n'
                      '      - {file: data/2025.xlsx, sheet: "Продажи", columns: {amount: "Σ", customer_name: "Кто"}}\n')
    wb = Workbook()
    wb.active.title = "Справка"
    wb.active.append(["Выгрузка из старой учётной системы"])
    ws = wb.create_sheet("Продажи")
    ws.append(["Дата", "Кто", "ИНН", "Σ"])
    ws.append(["15.12.2025", "ООО «Альфа»", "7701000001", 1100.5])
    ws.append(["20.12.2025", "ООО «Бета»", "7701000002", 900])
    wb.save(root / "data" / "2025.xlsx")
    res = import_engagement(load_engagement(root))
    assert by_month(res.ledger) == {"2025-12": 2000.5, "2026-09": 4200.0, "2026-10": 2200.0}
    xlsx = next(f for f in res.report["files"] if f["file"] == "2025.xlsx")
    assert xlsx["sheet"] == "Продажи" and xlsx["columns"]["amount"] == "Σ"
    assert res.ledger.loc[res.ledger["source_file"] == "2025.xlsx", "source_row"].tolist() == ["Продажи!A2",
                                                                                               "Продажи!A3"]
    assert res.report["sales_files"]["unmatched"] == []
