"""One run = one unit: work/<month>, deliverables/<month> and the history change together or not at all.

Each step of the unit is made to fail in turn: a folder that cannot be written (really, as an
unprivileged user), a write failing as on a full disk, a process killed at each step. The
engagement must then be exactly the old one or exactly the new one. The failures are injected
around the notebooks (staged copies of the demo's month stand in for a run's output), so no
notebook is executed here.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from workbench import history
from workbench.config import load_engagement
from workbench.errors import RunError, WorkbenchError
from workbench.history import HistoryError
from workbench.io import rununit
from workbench.run import finish_run, run_engagement

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-10"
KEPT = "Прежние отчёты, папка work/ и история не изменены"


def hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def state(root: Path) -> dict[str, object]:
    """What a run changes: the month's folders, byte for byte, and every table of the history."""
    frames = history.load_history(root / "history.sqlite")
    return {"deliverables": hashes(root / "deliverables" / MONTH), "work": hashes(root / "work" / MONTH),
            "history": {name: frame.to_csv(index=False) for name, frame in frames.items()}}


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".tmp-") or p.name == rununit.INTENT_NAME]


def stage_new(root: Path, tag: str = "test") -> tuple[Path, Path]:
    """Staged folders as a run leaves them before its unit: this month again, with one customer
    fewer in the snapshot and a changed report."""
    stage_work = root / "work" / f".tmp-{MONTH}-{tag}"
    stage_out = root / "deliverables" / f".tmp-{MONTH}-{tag}"
    shutil.copytree(root / "work" / MONTH, stage_work)
    shutil.copytree(root / "deliverables" / MONTH, stage_out)
    seg = pd.read_parquet(stage_work / "segments.parquet")
    seg.iloc[:-1].to_parquet(stage_work / "segments.parquet", index=False)
    report = stage_out / "report.html"
    report.write_text(report.read_text(encoding="utf-8") + "<!-- the new run -->", encoding="utf-8")
    return stage_work, stage_out


def assert_new(root: Path, new_work: dict[str, str], new_out: dict[str, str], old: dict[str, object]) -> None:
    assert hashes(root / "work" / MONTH) == new_work
    assert hashes(root / "deliverables" / MONTH) == new_out
    h = history.load_history(root / "history.sqlite")
    old_count = old["history"]["segments"].count(f"\n{MONTH},")  # type: ignore[index, union-attr]
    assert (h["segments"]["month"] == MONTH).sum() == old_count - 1
    assert "run_id" in json.loads(h["runs"].set_index("month").at[MONTH, "meta"])
    assert not leftovers(root)


# =====================================================================================
# A step fails with an exception: the unit is undone, the engagement is the old one
# =====================================================================================

def _raise(exc: BaseException):
    def fail(*args, **kwargs):
        raise exc
    return fail


FAILURES = {
    # step: (what fails, the message)
    "intent_write_disk_full": ("{root}/.run-unit.json", "Не удалось записать {root}/.run-unit.json: диск заполнен. " + KEPT),
    "history_backup_disk_full": ("", "Не удалось записать {root}/backups/history.sqlite: диск заполнен. " + KEPT),
    "history_commit_disk_full": ("", "История {root}/history.sqlite не записана: диск заполнен. Она осталась как была"),
    "work_swap_no_permission": ("", "Не удалось записать {root}/work/2026-10: нет прав на запись. " + KEPT),
    "deliverables_swap_read_only": ("", "Не удалось записать {root}/deliverables/2026-10: диск доступен только "
                                        "для чтения. " + KEPT),
}


@pytest.mark.parametrize("step", sorted(FAILURES))
def test_a_failing_step_leaves_exactly_the_old_engagement(demo_copy, monkeypatch, step):
    root = demo_copy
    eng = load_engagement(root)
    old = state(root)
    stage_work, stage_out = stage_new(root)
    rename = rununit._rename
    if step == "intent_write_disk_full":
        monkeypatch.setattr(rununit.atomic, "write_text", _raise(OSError(errno.ENOSPC, "No space left on device",
                                                                         str(root / rununit.INTENT_NAME))))
    elif step == "history_backup_disk_full":
        monkeypatch.setattr(history, "backup", _raise(OSError(errno.ENOSPC, "No space left on device",
                                                              str(root / "backups" / "history.sqlite"))))
    elif step == "history_commit_disk_full":
        monkeypatch.setattr(history, "_insert", _raise(sqlite3.OperationalError("database or disk is full")))
    elif step == "work_swap_no_permission":
        def rename_work(src, dst):
            if Path(dst) == root / "work" / MONTH and Path(src) == stage_work:
                raise PermissionError(errno.EACCES, "Permission denied", str(dst))
            rename(src, dst)
        monkeypatch.setattr(rununit, "_rename", rename_work)
    else:
        def rename_out(src, dst):
            if Path(src) == stage_out:
                raise OSError(errno.EROFS, "Read-only file system", str(dst))
            rename(src, dst)
        monkeypatch.setattr(rununit, "_rename", rename_out)
    with pytest.raises(WorkbenchError) as err:
        finish_run(eng, MONTH, "ru", stage_work, stage_out)
    assert str(err.value) == FAILURES[step][1].format(root=root)
    assert isinstance(err.value, HistoryError if "commit" in step else RunError)
    assert state(root) == old
    assert not leftovers(root)
    # the next run goes through
    monkeypatch.undo()
    stage_work, stage_out = stage_new(root, "again")
    new_work, new_out = hashes(stage_work), hashes(stage_out)
    finish_run(eng, MONTH, "ru", stage_work, stage_out)
    assert_new(root, new_work, new_out, old)


# =====================================================================================
# The process is killed at each step: the next command completes or undoes the unit
# =====================================================================================

CHILD = ("import sys\nfrom pathlib import Path\nfrom workbench.config import load_engagement\n"
         "from workbench.run import finish_run\nroot, sw, so = map(Path, sys.argv[1:4])\n"
         "finish_run(load_engagement(root), '2026-10', 'ru', sw, so)\n")


def _intent_run_id(root: Path) -> str:
    try:
        return json.loads((root / rununit.INTENT_NAME).read_text(encoding="utf-8"))["run_id"]
    except (OSError, ValueError, KeyError):
        return ""


KILLS = {
    # pause: (env var, reached when, the engagement after recovery, the message of recovery)
    "before_promotion": (rununit.PAUSE_BEFORE_PROMOTE_ENV, lambda root, sw, so: bool(_intent_run_id(root)), "old"),
    "folders_swapped_history_not_committed": (
        rununit.PAUSE_BEFORE_COMMIT_ENV, lambda root, sw, so: bool(_intent_run_id(root)) and not sw.exists()
        and not so.exists(), "old"),
    "inside_the_history_transaction": (
        history.PAUSE_ENV, lambda root, sw, so: (root / "history.sqlite-journal").exists(), "old"),
    "committed_old_folders_not_removed": (
        rununit.PAUSE_AFTER_COMMIT_ENV, lambda root, sw, so: bool(_intent_run_id(root)) and history.run_committed(
            root / "history.sqlite", MONTH, _intent_run_id(root)), "new"),
}


@pytest.mark.parametrize("moment", list(KILLS))
def test_a_killed_run_is_completed_or_undone_by_the_next_command(demo_copy, moment):
    root = demo_copy
    old = state(root)
    stage_work, stage_out = stage_new(root)
    new_work, new_out = hashes(stage_work), hashes(stage_out)
    env_var, reached, outcome = KILLS[moment]
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(stage_work), str(stage_out)], cwd=ROOT,
                            env={**os.environ, env_var: "120"}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while not reached(root, stage_work, stage_out):
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, f"never reached: {moment}"
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert (root / rununit.INTENT_NAME).exists()  # the record the next command reads
    # the next command on the engagement (any of them) settles the unit first
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "history", "check", str(root)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    if outcome == "old":
        assert out.stderr == f"Прогон за {MONTH}, прерванный до записи в историю, отменён: отчёты и история прежние\n"
        assert state(root) == old
        assert not leftovers(root)
    else:
        assert out.stderr == (f"Прогон за {MONTH}, прерванный после записи в историю, завершён: его отчёты "
                              "поставлены на место\n")
        assert_new(root, new_work, new_out, old)
    assert history.integrity_ok(root / "history.sqlite")


# =====================================================================================
# Checked before any notebook: folders that cannot be written, a broken history, the month
# =====================================================================================

def _unprivileged() -> None:
    """Make the child obey file permissions: root ignores them unless it gives up
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (dropped from the bounding set before exec)."""
    if os.geteuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.parametrize("where", [".", "work", "deliverables", "deliverables/2026-10/notebooks"])
def test_a_folder_that_cannot_be_written_stops_the_run_before_any_notebook(demo_copy, where):
    root = demo_copy
    old = state(root)
    target = root / where
    target.chmod(0o555)
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "run", str(root)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, preexec_fn=_unprivileged)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr == (f"Папка {target.resolve()} недоступна для записи (нет прав на запись): прогон не начат. "
                          "Дайте права на запись (или освободите место) и повторите\n")
    assert time.monotonic() - started < 60  # no notebook ran
    target.chmod(0o755)
    assert state(root) == old
    assert not leftovers(root)


@pytest.mark.parametrize("damage", ["directory", "garbage"])
def test_a_broken_history_stops_the_run_before_any_notebook(demo_copy, monkeypatch, damage):
    import papermill

    db = demo_copy / "history.sqlite"
    if damage == "directory":
        db.unlink()
        db.mkdir()
    else:
        db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    before = hashes(demo_copy / "deliverables")
    monkeypatch.setattr(papermill, "execute_notebook", _raise(AssertionError("a notebook was started")))
    with pytest.raises(HistoryError) as err:
        run_engagement(demo_copy, echo=lambda m: None)
    way_out = "Резервных копий нет: переименуйте файл, и следующий прогон начнёт историю заново"  # one run so far
    what = "— не файл (папка)." if damage == "directory" else "повреждена (или это не база SQLite)."
    assert str(err.value) == f"История {db} {what} {way_out}"
    assert hashes(demo_copy / "deliverables") == before
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "run", str(demo_copy)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and out.stderr == str(err.value) + "\n"


def test_a_month_before_the_first_sale_is_refused_like_one_after_the_last(demo_copy, monkeypatch, capsys):
    import papermill

    from workbench.cli import main

    old = state(demo_copy)
    monkeypatch.setattr(papermill, "execute_notebook", _raise(AssertionError("a notebook was started")))
    with pytest.raises(WorkbenchError, match=r"^За 2020-01 нет данных: первая продажа в файле — 2024-05$"):
        run_engagement(demo_copy, month="2020-01", echo=lambda m: None)
    with pytest.raises(WorkbenchError, match=r"^За 2031-01 нет данных: последняя продажа в файлах продаж — 2026-10\. "
                                             r"Добавьте выгрузку за этот месяц: workbench add .*demo ФАЙЛ$"):
        run_engagement(demo_copy, month="2031-01", echo=lambda m: None)
    assert main(["segment", str(demo_copy), "--month", "2020-01"]) == 1
    assert capsys.readouterr().err == "За 2020-01 нет данных: первая продажа в файле — 2024-05\n"
    assert not (demo_copy / "deliverables" / "2020-01").exists()
    assert state(demo_copy) == old


# =====================================================================================
# The workbook is written by the run's kernel while the run renders the report
# =====================================================================================

def test_the_kernel_writes_the_workbook_and_the_run_does_when_the_kernel_cannot(demo_copy, tmp_path, monkeypatch):
    """The kernel, idle after the notebooks, writes workbook.xlsx while this process renders the
    report (issue 20: 1 s of the demo's 10); a kernel that cannot (dead, or the code failed
    there) leaves it to this process, and the workbook is the same."""
    from openpyxl import load_workbook

    import workbench.run as run
    from workbench.kernels import SharedKernel

    eng = load_engagement(demo_copy)
    step = demo_copy / "work" / "2026-10"
    executed = sorted((demo_copy / "deliverables" / "2026-10" / "notebooks").glob("*.ipynb"))
    written_here = []
    real = run._write_workbook
    monkeypatch.setattr(run, "_write_workbook", lambda *a: (written_here.append(a), real(*a)))
    with SharedKernel(Path(run.__file__).resolve().parent.parent / "notebooks") as kernel:
        timings: dict[str, float] = {}
        run.build_deliverables(eng, "2026-10", "ru", step, tmp_path / "by_kernel", executed, timings, kernel)
    assert written_here == [] and timings["workbook"] > 0

    class DeadKernel:
        def start_job(self, code):
            class Job:
                def error(self, timeout):
                    return "the kernel died"
            return Job()

    (tmp_path / "here").mkdir()
    run.build_deliverables(eng, "2026-10", "ru", step, tmp_path / "here", executed, None, DeadKernel())
    assert len(written_here) == 1
    by_kernel, here = (load_workbook(tmp_path / d / "workbook.xlsx") for d in ("by_kernel", "here"))
    assert by_kernel.sheetnames == here.sheetnames and len(here.sheetnames) > 20
    for a, b in zip(by_kernel.worksheets, here.worksheets):
        assert [[c.value for c in r] for r in a.iter_rows()] == [[c.value for c in r] for r in b.iter_rows()]
