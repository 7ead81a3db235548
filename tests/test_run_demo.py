"""The demo engagement end to end: notebooks executed, deliverables opened and checked."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from workbench.errors import InputError, RunError
from workbench.run import run_engagement

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_deliverables_are_all_there(demo_run):
    path, res = demo_run
    assert res.month == "2026-10"  # the month of the latest sale in the demo
    out = res.deliverables
    assert out == path / "deliverables" / "2026-10"
    names = sorted(p.name for p in out.iterdir())
    assert {"report.html", "workbook.xlsx", "segments.csv", "notebooks"} <= set(names)
    executed = sorted(p.name for p in (out / "notebooks").iterdir())
    assert executed[:4] == ["01_import.ipynb", "02_segment.ipynb", "03_maps.ipynb", "04_cjm.ipynb"]
    assert not [p for p in path.rglob(".tmp-*")]  # nothing left half-built


def test_report_is_self_contained_and_has_no_code(demo_run):
    path, res = demo_run
    html = (res.deliverables / "report.html").read_text(encoding="utf-8")
    assert len(html.encode()) < 2 * 1024 * 1024
    assert "ООО «Демо-Дистрибуция»" in html
    for anchor in ("summary", "segmentation", "maps", "cjm", "import"):
        assert f'id="{anchor}"' in html, anchor
    assert html.index('id="summary"') < html.index('id="segmentation"') < html.index('id="import"')
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html, re.IGNORECASE)
    assert "@import" not in html and "url(http" not in html
    for leak in ("Traceback", "engagement_dir", "import workbench", "In [", str(path), "/tmp/"):
        assert leak not in html, leak
    assert html.count('<svg aria-label="') >= 5  # charts embedded as inline vector pictures


def test_workbook_opens_with_contents_and_segments(demo_run):
    _, res = demo_run
    wb = load_workbook(res.deliverables / "workbook.xlsx")
    assert wb.sheetnames[0] == "Содержание"
    contents = wb["Содержание"]
    linked = [c.value for c in contents["A"][2:] if c.hyperlink]
    assert set(linked) == set(wb.sheetnames[1:])
    assert len(wb.sheetnames) >= 5


def test_workbook_says_the_revenue_basis_and_lists_possible_duplicates(demo_run):
    path, res = demo_run
    wb = load_workbook(res.deliverables / "workbook.xlsx")
    facts = [[c.value for c in row] for row in wb["Импорт"].iter_rows(min_row=3)]
    revenue = next(r for r in facts if r[1] == "выручка")
    assert "с НДС или без — файл не говорит" in revenue[4]  # the demo's «Сумма» does not say
    assert any(r[1] == "Сумма" and r[2] == "сумма продажи" for r in facts)  # every column with its role
    pairs = [[c.value for c in row] for row in wb["Возможные дубли"].iter_rows(min_row=3)]
    ledger = pd.read_parquet(path / "work" / "ledger.parquet")
    revenue_of = ledger.groupby("customer_name")["amount"].sum()
    report = json.loads((path / "work" / "import_report.json").read_text(encoding="utf-8"))
    assert len(pairs) == report["files"][0]["possible_duplicates"]["count"] > 0
    for what, name_a, rev_a, name_b, rev_b, *_ in pairs[:5]:  # both spellings, each with its own revenue
        assert what == "похожие названия" and name_a != name_b
        assert abs(rev_a - revenue_of[name_a]) < 0.01 and abs(rev_b - revenue_of[name_b]) < 0.01


def test_segments_csv_opens_in_excel_and_keeps_ids_as_text(demo_run):
    _, res = demo_run
    raw = (res.deliverables / "segments.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(res.deliverables / "segments.csv", dtype=str, encoding="utf-8-sig")
    assert list(df.columns[:15]) == ["customer_id", "customer_name", "revenue", "revenue_share", "abc", "xyz",
                                     "abc_xyz", "rfm_r", "rfm_f", "rfm_m", "rfm_segment", "lifecycle", "tier",
                                     "key_account", "map"]
    assert "0274062111" in set(df["customer_id"])  # the leading zero survives
    assert set(df["tier"]) <= {"vip", "strategic", "typical", "ballast"}
    assert 350 <= len(df) <= 412  # 400 customers and 12 who came back after a year (demo.RETURNERS)


def test_a_failed_notebook_names_itself_and_keeps_the_previous_deliverables(demo_copy):
    # notebooks 01 and 02 run in the run's one kernel before 03 fails in it
    import psutil

    children = {p.pid for p in psutil.Process().children(recursive=True)}
    before = {p.name: p.read_bytes() for p in (demo_copy / "deliverables" / "2026-10").iterdir() if p.is_file()}
    cfg = demo_copy / "engagement.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "group_templates: [vip,", "group_templates: [no_such_template, vip,"), encoding="utf-8")
    with pytest.raises(RunError) as err:
        run_engagement(demo_copy, echo=lambda m: None)
    first = str(err.value).splitlines()[0]
    assert first.startswith("03_maps.ipynb: ошибка в ячейке ")
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in children and p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE]
    assert left == []  # the shared kernel is stopped after the failure, not left running
    after = {p.name: p.read_bytes() for p in (demo_copy / "deliverables" / "2026-10").iterdir() if p.is_file()}
    assert after == before
    assert not list((demo_copy / "deliverables").glob(".tmp-*"))
    assert not list((demo_copy / "work").glob(".tmp-*"))


def test_bad_input_stops_before_any_notebook(demo_copy):
    data = demo_copy / "data" / "sales_1c.csv"
    original = data.read_bytes()
    broken = original.replace("02.11.2024".encode("cp1251"), "31.02.2024".encode("cp1251"), 1)
    data.write_bytes(broken)
    mtime = (demo_copy / "deliverables" / "2026-10" / "report.html").stat().st_mtime_ns
    with pytest.raises(InputError, match=r"sales_1c.csv"):
        run_engagement(demo_copy, echo=lambda m: None)
    assert data.read_bytes() == broken  # never modified
    assert (demo_copy / "deliverables" / "2026-10" / "report.html").stat().st_mtime_ns == mtime


def test_cli_run_prints_the_deliverables_and_fails_in_one_line_and_runs_nothing_planted(demo_copy, tmp_path):
    from test_folder_is_data import plant

    marker = tmp_path / "ran.txt"
    plant(demo_copy, marker)  # crafted pickles and notebooks where results and notebooks used to be
    cmd = [sys.executable, "-m", "workbench.cli", "run", str(demo_copy), "--month", "2026-09"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert not marker.exists(), "a planted file ran"
    assert not list((demo_copy / "work" / "2026-09").rglob("*.pickle"))
    assert str(demo_copy / "deliverables" / "2026-09" / "report.html") in out.stdout
    bad = subprocess.run(cmd[:-1] + ["2031-01"], capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1] == (
        f"За 2031-01 нет данных: последняя продажа в файлах продаж — 2026-10. Добавьте выгрузку за этот месяц: "
        f"workbench add {demo_copy.resolve()} ФАЙЛ")
    assert "Traceback" not in bad.stderr


def test_notebooks_run_under_nbval(demo_run, tmp_path):
    """The notebooks execute as a user opens them (defaults point at ../engagements/demo)."""
    import shutil

    src, _ = demo_run
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copytree(src, tmp_path / "engagements" / "demo",
                    ignore=shutil.ignore_patterns("deliverables", ".workbench.lock"))
    nbs = sorted(str(p) for p in (tmp_path / "notebooks").glob("0[1-9]_*.ipynb"))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", *nbs],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:]


@pytest.mark.browser
def test_report_prints_to_pdf_with_headless_chromium(demo_run, tmp_path):
    import shutil as _shutil

    from workbench.run import print_pdf

    if not _shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    _, res = demo_run
    pdf = tmp_path / "report.pdf"
    print_pdf(res.deliverables / "report.html", pdf, "ru")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 5
