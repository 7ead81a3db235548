"""The workbench command: new, errors as one message with exit status 1."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workbench.cli import main
from workbench.config import load_engagement


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_new_creates_a_documented_engagement_and_copies_data(tmp_path, capsys):
    sales = tmp_path / "выгрузка.csv"
    sales.write_bytes("Контрагент;Дата;Сумма\r\n".encode("cp1251"))
    customers = tmp_path / "clients.xlsx"
    customers.write_bytes(b"PK-not-really")
    rc = main(["new", str(tmp_path / "engagements" / "alfa"), "--client", "ООО «Альфа»",
               "--data", str(sales), "--data", str(customers), "--lang", "en"])
    assert rc == 0
    eng = load_engagement(tmp_path / "engagements" / "alfa")
    assert eng.client == "ООО «Альфа»" and eng.lang == "en"
    assert eng.settings["inputs"]["sales"]["file"] == "data/выгрузка.csv"
    assert eng.settings["inputs"]["customers"]["file"] == "data/clients.xlsx"
    assert (eng.data_dir / "выгрузка.csv").read_bytes() == sales.read_bytes()
    text = eng.config_path.read_text(encoding="utf-8")
    assert "# A = customers making the first 80 % of revenue" in text  # documented defaults
    assert "window_months: 12" in text
    assert "Created engagement" in capsys.readouterr().out


@pytest.mark.parametrize("bad, message", [
    ("engagements/../outside", "leads outside the engagements/ folder"),
    ("engagements/../../etc", "leads outside the engagements/ folder"),
    ("engagements/.hidden", "is not allowed"),
    ("engagements/a b", "is not allowed"),
])
def test_new_refuses_a_slug_that_escapes(tmp_path, capsys, bad, message):
    rc = main(["new", str(tmp_path / bad) if not bad.startswith("engagements/..") else bad,
               "--client", "X", "--lang", "en"])
    assert rc == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "outside").exists()


def test_new_refuses_an_existing_folder_and_a_missing_file(tmp_path, capsys):
    target = tmp_path / "engagements" / "beta"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("x")
    assert main(["new", str(target), "--client", "X", "--lang", "en"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["new", str(tmp_path / "engagements" / "gamma"), "--client", "X", "--lang", "en",
                 "--data", str(tmp_path / "missing.csv")]) == 1
    assert "missing.csv not found" in capsys.readouterr().err


def test_new_stores_two_files_of_one_name_under_distinct_names(tmp_path, capsys):
    """Issue 13, 8: ``--data a/export.csv --data b/export.csv``: the second never overwrites the first."""
    a, b, c = tmp_path / "a" / "export.csv", tmp_path / "b" / "export.csv", tmp_path / "c" / "export.csv"
    for path, text in ((a, "Контрагент;Дата;Сумма\r\n"), (b, "Контрагент;ИНН\r\n"), (c, "Дата;Сумма\r\n")):
        path.parent.mkdir()
        path.write_bytes(text.encode("cp1251"))
    target = tmp_path / "engagements" / "alfa"
    assert main(["new", str(target), "--client", "X", "--lang", "en", "--data", str(a), "--data", str(b),
                 "--data", f"sales={c}"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [f"{b} stored as data/export-2.csv: a file named export.csv is already in data/",
                       f"{c} stored as data/export-3.csv: a file named export.csv is already in data/"]
    eng = load_engagement(target)
    assert eng.settings["inputs"]["sales"]["file"] == "data/export.csv"
    assert eng.settings["inputs"]["customers"]["file"] == "data/export-2.csv"
    assert [(target / "data" / n).read_bytes() for n in ("export.csv", "export-2.csv", "export-3.csv")] == \
        [a.read_bytes(), b.read_bytes(), c.read_bytes()]


def test_config_error_is_one_message_without_traceback(tmp_path):
    folder = tmp_path / "engagements" / "bad"
    folder.mkdir(parents=True)
    (folder / "engagement.yaml").write_text("client: X\nlanguage: en\ncurrency: GBR\ninputs: {sales: {file: s.csv}}\n")
    out = run_cli("import", str(folder), cwd=tmp_path)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert 'currency: expected an ISO 4217 currency code (RUB, USD, EUR, GBP, KZT...), got "GBR"' in out.stderr
    assert yaml.safe_load((folder / "engagement.yaml").read_text())["currency"] == "GBR"


def test_import_json_prints_the_problems_and_exits_1(tmp_path):
    folder = tmp_path / "engagements" / "refused"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "s.csv").write_bytes("Заказчик;Сумма\r\nООО Альфа;100\r\n".encode("cp1251"))
    (folder / "engagement.yaml").write_text("client: X\nlanguage: en\ninputs: {sales: {file: data/s.csv}}\n")
    out = run_cli("import", str(folder), "--json", cwd=tmp_path)
    assert out.returncode == 1
    problems = json.loads(out.stdout)
    assert problems == {"ok": False, "problems": [{
        "code": "missing_column", "file": "s.csv", "row": "line 1", "column": "",
        "value": "Заказчик | Сумма",
        "expected": 'a column holding the sale date (date); its header is usually "Date", "Period", '
                    '"Document date", "Order date"',
        "suggestion": 'add to engagement.yaml:\ninputs:\n  sales:\n    columns:\n      date: "HEADER FROM THE FILE"'
                      "  # write the header in; if there is no such column, export the report again with it"}]}
    assert "the file's headers: Заказчик | Сумма" in out.stderr and "Traceback" not in out.stderr
    assert not (folder / "work").exists()


def test_import_and_segment_wait_for_no_one_while_a_run_holds_the_engagement(tmp_path, capsys):
    from workbench.io.lock import EngagementLock

    folder = tmp_path / "engagements" / "busy"
    folder.mkdir(parents=True)
    (folder / "engagement.yaml").write_text("client: X\nlanguage: en\ninputs: {sales: {file: data/s.csv}}\n")
    with EngagementLock(folder, "workbench run 2026-10", "en"):
        for command in ("import", "segment"):
            assert main([command, str(folder)]) == 1
            err = capsys.readouterr().err
            assert "Engagement busy is already running" in err and "(workbench run 2026-10, since" in err
    assert not (folder / "work").exists()


def test_run_keeps_jsonschema_from_building_the_iri_grammar():
    """workbench.run blocks rfc3987_syntax (1.3 s to import); notebooks still validate."""
    code = ("import sys, workbench.run, nbformat; "
            "nb = nbformat.read('notebooks/01_import.ipynb', as_version=4); nbformat.validate(nb); "
            "assert sys.modules.get('rfc3987_syntax') is None; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_an_import_with_nothing_to_read_is_refused_before_the_readers_load(tmp_path):
    """A new engagement with no export yet: the refusal names the missing files, exactly as the
    full import would, without loading pandas (a user waits for it: issue 20's start-up goal)."""
    assert main(["new", str(tmp_path / "acme"), "--client", "Acme"]) == 0
    eng = tmp_path / "acme"
    text = (eng / "engagement.yaml").read_text(encoding="utf-8")
    (eng / "engagement.yaml").write_text(text.replace('    file: ""  # "" = none\n',
                                                      '    file: "data/customers.xlsx"  # "" = none\n', 1),
                                         encoding="utf-8")
    probe = ("import sys, json; from workbench.cli import main; code = main(['import', '--json', sys.argv[1]]);"
             "print(json.dumps({'code': code, 'pandas': 'pandas' in sys.modules}), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", probe, str(eng)], capture_output=True, text=True, timeout=60)
    assert json.loads(out.stderr.strip().splitlines()[-1]) == {"code": 1, "pandas": False}
    problems = json.loads(out.stdout)["problems"]
    assert [(p["code"], p["file"], p["value"]) for p in problems] == [
        ("not_found", "sales.csv", "sales.csv"), ("not_found", "customers.xlsx", "customers.xlsx")]
    # with a file in data/ the full import reads it (and says what is wrong with it)
    (eng / "data" / "notes.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", probe, str(eng)], capture_output=True, text=True, timeout=60)
    assert json.loads(out.stderr.strip().splitlines()[-1])["pandas"] is True
