"""A file whose header names nothing is refused before pandas loads (issue 20: a refused import
under 0.3 s), with exactly the problems the full import lists, and only when the full import
could do nothing else."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config import load_engagement
from workbench.errors import InputError
from workbench.ingest import import_engagement
from workbench.ingest.preflight import headerless_problems

ROOT = Path(__file__).resolve().parent.parent

# Files a client really sends that no import can read as a ledger: each is refused by the full
# import; the preflight must say the same, word for word.
BAD_FILES = {
    # a 1C report saved without its header row (cp1251, ';')
    "no_header_row": "12.01.2026;ООО «Ромашка»;7701234567;1 000,00\n13.01.2026;ООО «Лютик»;7707654321;2 500,50\n"
                     .encode("cp1251"),
    # the header is there, cut by a delimiter no reader uses
    "pipe_delimited": "Дата|Контрагент|Сумма\n12.01.2026|ООО Ромашка|1000\n".encode("utf-8"),
    # a text with no table in it
    "a_letter": "Добрый день!\nВысылаю выгрузку за октябрь.\nС уважением, бухгалтерия\n".encode("cp1251"),
    "empty": b"",
    "blank_lines": b"\n\n \n",
    # a UTF-8 header pasted above cp1251 rows (two encodings in one export)
    "mixed_encoding": "Контрагент;Дата;Сумма\n".encode("utf-8") + "ООО Ромашка;12.01.2026;100\n".encode("cp1251"),
    # bytes that are no text at all
    "binary": bytes(range(256)) * 4,
}


def _engagement(tmp_path: Path, name: str, data: bytes, extra: str = "") -> Path:
    folder = tmp_path / name
    assert main(["new", str(folder), "--client", "Acme"]) == 0
    (folder / "data" / "sales.csv").write_bytes(data)
    if extra:
        with (folder / "engagement.yaml").open("a", encoding="utf-8") as fh:
            fh.write(extra)
    return folder


def _full_import_problems(folder: Path) -> list[dict]:
    with pytest.raises(InputError) as caught:
        import_engagement(load_engagement(folder))
    return [vars(p) for p in caught.value.problems]


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_the_preflight_refuses_with_the_full_imports_own_problems(tmp_path, name):
    folder = _engagement(tmp_path, name, BAD_FILES[name])
    early = headerless_problems(load_engagement(folder))
    full = _full_import_problems(folder)
    assert early is not None, f"{name}: the preflight left it to the import"
    assert [vars(p) for p in early] == full


def test_a_headerless_file_is_refused_before_pandas_loads(tmp_path):
    folder = _engagement(tmp_path, "no_header_row", BAD_FILES["no_header_row"])
    probe = ("import sys, json; from workbench.cli import main; code = main(['import', '--json', sys.argv[1]]);"
             "print(json.dumps({'code': code, 'pandas': 'pandas' in sys.modules}), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", probe, str(folder)], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert json.loads(out.stderr.strip().splitlines()[-1]) == {"code": 1, "pandas": False}
    problems = json.loads(out.stdout)["problems"]
    assert [(p["code"], p["file"]) for p in problems] == [("no_header", "sales.csv")]
    assert "customer_name:" in problems[0]["suggestion"]  # the lines of engagement.yaml to add
    assert not (folder / "work").exists() and (folder / "data" / "sales.csv").read_bytes() == BAD_FILES["no_header_row"]


GOOD = "Дата;Контрагент;Сумма\n12.01.2026;ООО Ромашка;1000\n13.01.2026;ООО Лютик;2000\n".encode("cp1251")


@pytest.mark.parametrize("case", ["a_header", "customers_file_too", "deal_export", "found_by_pattern",
                                  "another_file_in_data", "a_workbook"])
def test_the_preflight_leaves_every_other_case_to_the_import(tmp_path, case):
    """It never decides what the import would read differently: a header found, another input
    to read (its problems belong in the same refusal), a CRM deal export, a file found by a
    pattern (read only when it is a ledger), a file of data/ the import reports on, a workbook
    (opening it twice would cost more than the refusal saves)."""
    data, extra = BAD_FILES["no_header_row"], ""
    if case == "a_header":
        data = GOOD
    folder = _engagement(tmp_path, case, data, extra)
    eng_yaml = folder / "engagement.yaml"
    text = eng_yaml.read_text(encoding="utf-8")
    if case == "customers_file_too":
        (folder / "data" / "customers.csv").write_bytes("ИНН;Отрасль\n".encode("cp1251"))
        eng_yaml.write_text(text.replace('    file: ""  # "" = none\n', '    file: "data/customers.csv"  # "" = none\n', 1),
                            encoding="utf-8")
    elif case == "deal_export":
        (folder / "data" / "sales.csv").write_bytes(
            "ID;Название сделки;Стадия сделки;Сумма;Компания\n1;Поставка;Сделка успешна;1000;ООО Ромашка\n".encode("cp1251"))
    elif case == "found_by_pattern":
        eng_yaml.write_text(text.replace('    file: "data/sales.csv"', '    file: ""', 1), encoding="utf-8")
    elif case == "another_file_in_data":
        (folder / "data" / "notes.txt").write_text("заметки", encoding="utf-8")
    elif case == "a_workbook":
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["12.01.2026", "ООО «Ромашка»", 1000])
        (folder / "data" / "sales.csv").unlink()
        book.save(folder / "data" / "sales.xlsx")
        eng_yaml.write_text(text.replace('    file: "data/sales.csv"', '    file: "data/sales.xlsx"', 1), encoding="utf-8")
    eng = load_engagement(folder)
    if case == "found_by_pattern":
        assert eng.input_path("sales") is None
    assert headerless_problems(eng) is None
