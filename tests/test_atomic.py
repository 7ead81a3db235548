"""Atomic writes, promotion of a built folder, leftovers of killed runs, the engagement lock."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from workbench.errors import LockError
from workbench.io import atomic
from workbench.io.lock import EngagementLock


def test_write_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "report.html"
    atomic.write_text(target, "old")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_promote_replaces_the_folder_and_leftovers_are_cleaned(tmp_path):
    final = tmp_path / "2026-10"
    final.mkdir()
    (final / "report.html").write_text("old")
    staging = tmp_path / ".tmp-2026-10-1"
    staging.mkdir()
    (staging / "report.html").write_text("new")
    atomic.promote_dir(staging, final)
    assert (final / "report.html").read_text() == "new"
    (tmp_path / ".tmp-2026-11-99").mkdir()
    (tmp_path / ".tmp-x.json.abc").write_text("partial")
    assert atomic.clean_leftovers(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-10"]


def test_a_kill_between_the_two_renames_keeps_the_old_folder(tmp_path):
    # The state promote_dir leaves if killed right after moving the old folder aside.
    old = tmp_path / ".tmp-2026-10.old-123"
    old.mkdir()
    (old / "report.html").write_text("old")
    atomic.clean_leftovers(tmp_path)
    assert (tmp_path / "2026-10" / "report.html").read_text() == "old"


def test_second_holder_is_refused_naming_the_first(tmp_path):
    with EngagementLock(tmp_path, "workbench run 2026-10", "en"):
        with pytest.raises(LockError, match=r"already running: process \d+ on .* \(workbench run 2026-10, since"):
            with EngagementLock(tmp_path, "workbench run", "en"):
                pass
    with EngagementLock(tmp_path, "again", "en"):  # released after use
        pass


def test_lock_of_a_killed_process_is_free(tmp_path):
    code = textwrap.dedent(f"""
        import os, signal
        from workbench.io.lock import EngagementLock
        with EngagementLock({str(tmp_path)!r}, "victim"):
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code])
    assert proc.returncode == -9
    with EngagementLock(tmp_path, "after"):
        assert os.path.exists(tmp_path / ".workbench.lock")
