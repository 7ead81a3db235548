"""One run, one unit: a month's folders and its history change together or not at all.

A run builds ``work/<month>`` and ``deliverables/<month>`` aside (``.tmp-*`` folders), then
``promote_and_commit`` makes them current and stores the month in the history:

1. the intent ``<engagement>/.run-unit.json`` is written (atomically): the run's id, the
   month, and for each folder its staged, final and set-aside names;
2. each current folder is renamed aside (``.tmp-<month>.old-<run>``) and the staged one
   renamed into its place;
3. the history commit, one SQLite transaction carrying the run's id: **the commit point**;
4. the folders set aside are removed, then the intent.

An exception before the commit point undoes every rename (renames need no disk space), so
the engagement is exactly the old one; after it, the run is done (a failure to tidy up
leaves ``.tmp-*`` folders the next run removes). A process killed at any instant leaves the
intent: ``recover``, called by every command before it touches the engagement, completes the
unit when the history holds the run's id and undoes it otherwise.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import RunError, WorkbenchError, os_reason
from workbench.i18n import t
from workbench.io import atomic

log = logging.getLogger(__name__)

INTENT_NAME = ".run-unit.json"
HISTORY_NAME = "history.sqlite"
# Test hooks (crash-safety tests only): seconds to sleep at a step of the unit.
PAUSE_BEFORE_PROMOTE_ENV = "WORKBENCH_TEST_PAUSE_BEFORE_PROMOTE"  # intent written, nothing renamed
PAUSE_BEFORE_COMMIT_ENV = "WORKBENCH_TEST_PAUSE_BEFORE_COMMIT"    # folders swapped, history not committed
PAUSE_AFTER_COMMIT_ENV = "WORKBENCH_TEST_PAUSE_AFTER_COMMIT"      # committed, old folders not yet removed

_rename = os.replace  # one name for every rename of the unit (the failure tests replace it)


@dataclass(frozen=True)
class Swap:
    """One folder of the unit: the staged one replaces the final one; the old one waits aside."""

    stage: Path
    final: Path
    old: Path
    had_old: bool

    def to_json(self, root: Path) -> dict[str, object]:
        return {"stage": _rel(self.stage, root), "final": _rel(self.final, root), "old": _rel(self.old, root),
                "had_old": self.had_old}

    @classmethod
    def from_json(cls, data: dict[str, object], root: Path) -> Swap:
        return cls(_inside(root, str(data["stage"])), _inside(root, str(data["final"])),
                   _inside(root, str(data["old"])), bool(data["had_old"]))


def promote_and_commit(root: Path, month: str, pairs: list[tuple[Path, Path]], commit: Callable[[str], None],
                       lang: str = "ru") -> str:
    """Make the staged folders current and call ``commit(run_id)`` as one unit; return the run id.

    pairs : (staged folder, final folder) inside ``root``
    commit : stores the month in the history with the run id (the commit point)
    Raises RunError naming the path and the reason when a step before the commit point fails;
    the engagement is then as it was.
    """
    root = Path(root)
    run_id = uuid.uuid4().hex[:16]
    swaps = [Swap(stage, final, final.with_name(f"{atomic.TMP_PREFIX}{final.name}.old-{run_id}"), final.exists())
             for stage, final in pairs]
    intent = root / INTENT_NAME
    try:
        atomic.write_text(intent, json.dumps({"run_id": run_id, "month": month, "pid": os.getpid(),
                                              "swaps": [s.to_json(root) for s in swaps]}))
        _pause(PAUSE_BEFORE_PROMOTE_ENV)
        for s in swaps:
            _swap_in(s)
        _pause(PAUSE_BEFORE_COMMIT_ENV)
        commit(run_id)
    except BaseException as exc:
        committed = _committed(root, month, run_id, lang)
        if committed:  # interrupted right after the commit point: finish instead
            _finish(root, swaps)
            raise
        _undo(root, swaps)
        if isinstance(exc, OSError):
            raise RunError(t("run.os_error", lang, path=str(exc.filename or root), reason=os_reason(exc, lang))
                           + " " + t("run.kept_previous", lang)) from exc
        raise
    _pause(PAUSE_AFTER_COMMIT_ENV)
    _finish(root, swaps)
    return run_id


def recover(root: Path, lang: str = "ru") -> str:
    """Complete or undo a unit a killed process left behind; return what was done ('' if nothing).

    Call it holding the engagement lock (the process that wrote the intent is then gone),
    before anything else touches ``work/``, ``deliverables/`` or the history.
    """
    root = Path(root)
    intent = root / INTENT_NAME
    if not intent.is_file():
        return ""
    try:
        data = json.loads(intent.read_text(encoding="utf-8"))
        month, run_id = str(data["month"]), str(data["run_id"])
        swaps = [Swap.from_json(s, root) for s in data["swaps"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkbenchError(t("run.unit_intent_bad", lang, path=str(intent))) from exc
    if _committed(root, month, run_id, lang, strict=True):
        _finish(root, swaps)
        log.info("interrupted run month=%s completed", month)
        return t("run.unit_completed", lang, month=month)
    _undo(root, swaps)
    log.info("interrupted run month=%s undone", month)
    return t("run.unit_undone", lang, month=month)


def _swap_in(s: Swap) -> None:
    s.final.parent.mkdir(parents=True, exist_ok=True)
    if s.had_old and s.final.exists():
        _rename(s.final, s.old)
    _rename(s.stage, s.final)
    atomic.fsync_dir(s.final.parent)


def _undo(root: Path, swaps: list[Swap]) -> None:
    """Put every folder back as it was before the unit, then drop the intent and the staged copies.

    Each step is checked against what is on disk, so an undo interrupted itself can be rerun.
    """
    for s in reversed(swaps):
        if not s.stage.exists() and s.final.exists() and (s.old.exists() or not s.had_old):
            _rename(s.final, s.stage)  # the new one back where it was built
        if s.old.exists() and not s.final.exists():
            _rename(s.old, s.final)
        atomic.fsync_dir(s.final.parent)
    (root / INTENT_NAME).unlink(missing_ok=True)
    for s in swaps:
        shutil.rmtree(s.stage, ignore_errors=True)


def _finish(root: Path, swaps: list[Swap]) -> None:
    """The commit point is passed: make sure every new folder is in place, remove the old ones."""
    for s in swaps:
        if s.stage.exists():  # (only if the commit came before a swap: never in promote_and_commit)
            _swap_in(s)
    with contextlib.suppress(OSError):  # left, it is completed again by the next command: harmless
        (root / INTENT_NAME).unlink(missing_ok=True)
    for s in swaps:
        shutil.rmtree(s.old, ignore_errors=True)  # a leftover is removed by the next run


def _committed(root: Path, month: str, run_id: str, lang: str, strict: bool = False) -> bool:
    from workbench.history import run_committed

    try:
        return run_committed(root / HISTORY_NAME, month, run_id, lang)
    except WorkbenchError:
        if strict:  # recover cannot decide on a damaged history: the message says how to restore it
            raise
        return False


def _rel(path: Path, root: Path) -> str:
    return Path(path).resolve().relative_to(root.resolve()).as_posix()


def _inside(root: Path, rel: str) -> Path:
    """``root / rel``, refusing anything that would lead outside (the intent is read from the folder)."""
    path = (root / rel).resolve()
    path.relative_to(root.resolve())  # ValueError outside
    if not Path(rel).name.startswith(atomic.TMP_PREFIX) and Path(rel).parent.name not in ("work", "deliverables"):
        raise ValueError(rel)
    return path


def _pause(name: str) -> None:
    with contextlib.suppress(ValueError):
        seconds = float(os.environ.get(name, "0") or 0)
        if seconds > 0:
            time.sleep(seconds)


__all__ = ["INTENT_NAME", "PAUSE_AFTER_COMMIT_ENV", "PAUSE_BEFORE_COMMIT_ENV", "PAUSE_BEFORE_PROMOTE_ENV",
           "promote_and_commit", "recover"]
