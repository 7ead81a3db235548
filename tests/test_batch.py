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


def test_a_run_over_its_time_limit_is_stopped_and_reported_like_a_failure(tmp_path, monkeypatch):
    import time

    from workbench.io.lock import EngagementLock
    from workbench.run import PAUSE_AFTER_LOCK_ENV

    root = tmp_path / "engagements"
    for name in ("slow", "stuck"):
        (root / name).mkdir(parents=True)
        (root / name / "engagement.yaml").write_text(
            f'client: "X"\nlanguage: {"en" if name == "slow" else "ru"}\ninputs: {{sales: {{file: data/s.csv}}}}\n',
            encoding="utf-8")
    monkeypatch.setenv(PAUSE_AFTER_LOCK_ENV, "300")  # both runs hang right after taking their lock
    started = time.monotonic()
    rows = run_batch(root, jobs=1, progress=False, timeout=4)
    assert time.monotonic() - started < 60  # one after the other: each stopped at its limit
    assert [(r.engagement, r.status) for r in rows] == [("slow", "failed"), ("stuck", "failed")]
    assert rows[0].detail == "Stopped after 4 s (batch --timeout 4); the previous deliverables and history are kept"
    assert rows[1].detail == "Остановлен через 4 с (batch --timeout 4); прежние отчёты и история сохранены"
    assert all(4 <= r.seconds < 30 for r in rows)
    assert render_table(rows, "en").splitlines()[-1] == "Total: 0 ok, 2 failed"
    for name in ("slow", "stuck"):  # the stopped run and all it started are gone: its lock is free
        with EngagementLock(root / name, "test", "en"):
            pass


def test_batch_timeout_option():
    from workbench.batch import DEFAULT_TIMEOUT
    from workbench.cli import build_parser

    assert DEFAULT_TIMEOUT == 1800
    assert build_parser().parse_args(["batch", "engagements"]).timeout == DEFAULT_TIMEOUT
    assert build_parser().parse_args(["batch", "engagements", "--timeout", "90"]).timeout == 90.0
    assert build_parser().parse_args(["batch", "engagements", "--timeout", "0"]).timeout == 0.0  # no limit
