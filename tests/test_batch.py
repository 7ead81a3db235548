"""workbench batch: every engagement rerun, each isolated; a failure does not stop the others."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from workbench.batch import render_table, run_batch

pytestmark = pytest.mark.slow


def test_batch_runs_all_and_reports_the_one_that_failed(demo_run, tmp_path):
    src, _ = demo_run
    root = tmp_path / "engagements"
    for name in ("alfa", "beta"):
        shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("deliverables", ".workbench.lock"))
    broken = root / "gamma"
    shutil.copytree(src, broken, ignore=shutil.ignore_patterns("deliverables", ".workbench.lock"))
    (broken / "data" / "sales_1c.csv").write_bytes(b"")
    (root / "not-an-engagement").mkdir()
    rows = run_batch(root, jobs=2, progress=False)
    assert [(r.engagement, r.status) for r in rows] == [("alfa", "ok"), ("beta", "ok"), ("gamma", "failed")]
    assert (root / "alfa" / "deliverables" / "2026-10" / "report.html").is_file()
    assert rows[2].detail.startswith("Входные файлы не приняты")
    table = render_table(rows, "en")
    assert table.splitlines()[0].split() == ["Engagement", "Status", "Duration", "Deliverables", "or", "reason"]
    assert table.splitlines()[-1] == "Total: 2 ok, 1 failed"


def test_batch_cli_exit_status(demo_run, tmp_path):
    src, _ = demo_run
    root = tmp_path / "engagements"
    shutil.copytree(src, root / "only", ignore=shutil.ignore_patterns("deliverables", ".workbench.lock"))
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "batch", str(root), "--jobs", "1", "--lang", "en"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "Total: 1 ok, 0 failed" in out.stdout
    empty = subprocess.run([sys.executable, "-m", "workbench.cli", "batch", str(tmp_path / "none")],
                           capture_output=True, text=True, timeout=60)
    assert empty.returncode == 1
