"""The engagement's history: an embedded SQLite database of monthly snapshots.

``<engagement>/history.sqlite`` holds, per reporting month, the segments of every
customer (ids only: names come from the current customers table), the checkpoint plan
with its pro-rated target, actual and status, the frozen map members, and the run's
metadata. It is what traction compares a month with.

Durability
----------
* Rollback journal (``journal_mode=DELETE``) with ``synchronous=FULL``: one file plus a
  short-lived ``-journal``; a process killed at any instant leaves the database as of the
  last COMMIT (SQLite rolls the hot journal back on the next open).
* A month is stored in ONE transaction: ``BEGIN IMMEDIATE``; delete that month's rows;
  insert the new ones; ``COMMIT``. Other months are never touched; any failure rolls
  back and leaves the database as it was.

Backups
-------
Before every change (a month committed or dropped, the plan start moved) the database is
copied with SQLite's backup API to ``<engagement>/backups/history-<UTC time>-<why>.sqlite``;
the last ``BACKUPS_KEPT`` are kept. ``workbench history restore`` puts the newest sound one
back (the replaced file is kept beside it).

The plan start
--------------
The first month of the planning year is pinned in the ``settings`` table by the first
commit and moves only by ``workbench history plan-start`` (or ``maps.start_month`` in
engagement.yaml, which wins): a month run later, even an earlier one, never moves it.

Errors
------
Every failure is a ``HistoryError`` in the engagement's language naming the file and the
way out: damaged (restore a backup), locked by another program (close it; waited
``LOCK_TIMEOUT`` seconds), not a file, written by a newer workbench.

Schema versions
---------------
``PRAGMA user_version`` is the schema version. ``MIGRATIONS[i]`` takes the database from
version ``i`` to ``i + 1``; every migration pending on open runs in one transaction with
the new version number. A database newer than this code is refused.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import re
import sqlite3
import stat
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.i18n import t

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
LOCK_TIMEOUT = 5.0  # seconds to wait for another program's lock on the database
BACKUPS_DIR = "backups"  # beside the database, inside the engagement folder
BACKUPS_KEPT = 5
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# Test hook: seconds to sleep inside the write transaction (crash-safety test only).
PAUSE_ENV = "WORKBENCH_HISTORY_PAUSE"

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the first schema
    """
    CREATE TABLE runs (
        month TEXT PRIMARY KEY,             -- reporting month YYYY-MM
        committed_at TEXT NOT NULL,         -- UTC ISO timestamp
        lang TEXT NOT NULL DEFAULT '',
        plan_start TEXT NOT NULL DEFAULT '',
        customers INTEGER NOT NULL DEFAULT 0,
        checkpoints INTEGER NOT NULL DEFAULT 0,
        meta TEXT NOT NULL DEFAULT '{}'     -- JSON: counts by status, timings, ...
    );
    CREATE TABLE segments (
        month TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        tier TEXT, abc TEXT, xyz TEXT, lifecycle TEXT,
        revenue REAL,                        -- currency, the analysis window
        key_account INTEGER,                 -- 0 / 1
        map TEXT,
        PRIMARY KEY (month, customer_id)
    );
    CREATE TABLE checkpoints (
        month TEXT NOT NULL,
        key TEXT NOT NULL,                   -- map_id|kpi|month|deadline|n
        map_id TEXT, map_kind TEXT, segment TEXT, customer_id TEXT,
        cp_month TEXT, track TEXT, owner TEXT, activity TEXT,
        kpi TEXT, kpi_name TEXT, unit TEXT, kpi_source TEXT,
        baseline REAL, target REAL, deadline TEXT,
        target_to_date REAL, actual REAL, status TEXT,
        PRIMARY KEY (month, key)
    );
    CREATE TABLE members (
        month TEXT NOT NULL,
        map_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        PRIMARY KEY (month, map_id, customer_id)
    );
    CREATE INDEX checkpoints_key ON checkpoints (key, month);
    """,
    # 1 -> 2: the plan start pinned once (it was re-derived from the earliest month stored,
    # so a month run before it moved the whole plan)
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,                -- plan_start
        value TEXT NOT NULL
    );
    INSERT INTO settings (key, value)
        SELECT 'plan_start', plan_start FROM runs WHERE plan_start != '' ORDER BY month LIMIT 1;
    """,
)

SEGMENT_FIELDS = ("customer_id", "tier", "abc", "xyz", "lifecycle", "revenue", "key_account", "map")
CHECKPOINT_FIELDS = ("key", "map_id", "map_kind", "segment", "customer_id", "cp_month", "track", "owner",
                     "activity", "kpi", "kpi_name", "unit", "kpi_source", "baseline", "target", "deadline",
                     "target_to_date", "actual", "status")
MEMBER_FIELDS = ("map_id", "customer_id")
RUN_FIELDS = ("month", "committed_at", "lang", "plan_start", "customers", "checkpoints", "meta")
TABLES = {"runs": RUN_FIELDS, "segments": ("month",) + SEGMENT_FIELDS,
          "checkpoints": ("month",) + CHECKPOINT_FIELDS, "members": ("month",) + MEMBER_FIELDS}
NUMERIC = {"revenue", "baseline", "target", "target_to_date", "actual"}
INTEGER = {"key_account", "customers", "checkpoints"}

# step_dir files written by the traction step for commit_snapshot
TRACTION_CHECKPOINTS = "traction_checkpoints.parquet"
TRACTION_MEMBERS = "traction_members.parquet"
TRACTION_RUN = "traction_run.json"
# step_dir file written by the run: the sales files (file, first, last, rows) the month was built from
SALES_FILES = "sales_files.json"
FUNNEL_KPIS = "funnel_kpis.json"  # written by the funnel step (workbench.steps.funnel_step)


class HistoryError(WorkbenchError):
    """The history database cannot be opened or written; the message names it and the way out."""


def _msg(key: str, lang: str, **kwargs: Any) -> str:
    return str(t(f"history.{key}", lang, **kwargs))


def _way_out(path: Path, lang: str) -> str:
    found = backups(path)
    if not found:
        return _msg("way_out_no_backup", lang)
    return _msg("way_out_restore", lang, engagement=str(path.parent), n=len(found), folder=str(found[0].parent))


def _failure(path: Path, exc: BaseException, lang: str) -> HistoryError:
    """The HistoryError for an sqlite3 error on ``path``: damaged, locked, or not written."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return HistoryError(_msg("locked", lang, file=str(path)))
    if any(word in low for word in ("not a database", "malformed", "corrupt", "disk image")):
        return HistoryError(_msg("damaged", lang, file=str(path)) + " " + _way_out(path, lang))
    if "disk is full" in low:
        text = _msg("disk_full", lang)
    elif "readonly" in low or "read-only" in low or "unable to open" in low:
        text = _msg("read_only", lang)
    return HistoryError(_msg("write_failed", lang, file=str(path), reason=text))


def check_file(path: str | Path, lang: str = "ru") -> bool:
    """True when the database file exists, False when it does not; HistoryError when something
    else (a folder, a pipe) stands in its place."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise HistoryError(_msg("write_failed", lang, file=str(path), reason=exc.strerror or str(exc))) from exc
    if stat.S_ISREG(mode):
        return True
    kind = "dir" if stat.S_ISDIR(mode) else "fifo" if stat.S_ISFIFO(mode) else "other"
    raise HistoryError(_msg("not_a_file", lang, file=str(path), kind=t(f"config.kind_{kind}", lang))
                       + " " + _way_out(path, lang))


def connect(path: str | Path, lang: str = "ru") -> sqlite3.Connection:
    """Open (creating if needed) the history database and apply pending migrations."""
    path = Path(path)
    check_file(path, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = sqlite3.connect(str(path), timeout=LOCK_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise _failure(path, exc, lang) from exc
    try:
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("PRAGMA foreign_keys=ON")
        _migrate(con, path, lang)
    except sqlite3.Error as exc:
        con.close()
        raise _failure(path, exc, lang) from exc
    except BaseException:
        con.close()
        raise
    return con


@contextlib.contextmanager
def _session(path: str | Path, lang: str) -> Iterator[sqlite3.Connection]:
    """An open connection; any sqlite3 error inside becomes the HistoryError naming the file."""
    con = connect(path, lang)
    try:
        yield con
    except sqlite3.Error as exc:
        raise _failure(Path(path), exc, lang) from exc
    finally:
        con.close()


def _migrate(con: sqlite3.Connection, path: Path, lang: str = "ru") -> None:
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise HistoryError(_msg("newer", lang, file=str(path), version=version, known=len(MIGRATIONS)))
    if version == len(MIGRATIONS):
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        version = int(con.execute("PRAGMA user_version").fetchone()[0])  # another process may have migrated
        for i in range(version, len(MIGRATIONS)):
            for statement in _statements(MIGRATIONS[i]):
                con.execute(statement)
        con.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def schema_version(path: str | Path, lang: str = "ru") -> int:
    with _session(path, lang) as con:
        return int(con.execute("PRAGMA user_version").fetchone()[0])


# --------------------------------------------------------------------------- write
def _records(frame: pd.DataFrame | None, fields: tuple[str, ...], month: str) -> list[tuple[Any, ...]]:
    if frame is None or frame.empty:
        return []
    out = pd.DataFrame(index=frame.index)
    for f in fields:
        col = frame[f] if f in frame.columns else pd.Series(None, index=frame.index, dtype="object")
        if f in NUMERIC:
            col = pd.to_numeric(col, errors="coerce").astype("float64").astype(object)
        elif f in INTEGER:
            col = col.fillna(0).astype(bool if f == "key_account" else "int64").astype("int64").astype(object)
        else:
            col = col.astype("string").astype(object)
        out[f] = col.where(pd.notna(col), None)
    return [(month, *row) for row in out.itertuples(index=False, name=None)]


def commit_frames(path: str | Path, month: str, segments: pd.DataFrame | None, checkpoints: pd.DataFrame | None = None,
                  members: pd.DataFrame | None = None, run: Mapping[str, Any] | None = None,
                  lang: str = "ru") -> None:
    """Store one month's snapshot, replacing that month only, in one transaction.

    segments : one row per customer (``SEGMENT_FIELDS``; others ignored)
    checkpoints : traction's measured checkpoints (``CHECKPOINT_FIELDS``; ``month`` of the
        checkpoint may be given as ``cp_month`` or ``month``) or None
    members : ``map_id, customer_id`` or None
    run : run metadata: lang, plan_start, meta (dict, stored as JSON; ``meta.run_id``
        identifies the run for ``workbench.io.rununit``)

    The database is backed up first. The first commit pins ``run["plan_start"]`` as the
    engagement's plan start; later ones leave it.
    """
    path = Path(path)
    run = dict(run or {})
    if checkpoints is not None and "cp_month" not in checkpoints.columns and "month" in checkpoints.columns:
        checkpoints = checkpoints.rename(columns={"month": "cp_month"})
    seg_rows = _records(segments, SEGMENT_FIELDS, month)
    cp_rows = _records(checkpoints, CHECKPOINT_FIELDS, month)
    mem_rows = _records(members, MEMBER_FIELDS, month)
    start = str(run.get("plan_start", ""))
    run_row = (month, _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), str(run.get("lang", "")),
               start, len(seg_rows), len(cp_rows), json.dumps(run.get("meta", {}), ensure_ascii=False, default=str))
    backup(path, f"before-{month}", lang)
    with _session(path, lang) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            for table in ("segments", "checkpoints", "members", "runs"):
                con.execute(f"DELETE FROM {table} WHERE month = ?", (month,))
            _insert(con, "segments", seg_rows)
            _insert(con, "checkpoints", cp_rows)
            _insert(con, "members", mem_rows)
            _insert(con, "runs", [run_row])
            if start:
                con.execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('plan_start', ?)", (start,))
            pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
            if pause > 0:
                time.sleep(pause)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise
    log.info("history month=%s segments=%d checkpoints=%d members=%d", month, len(seg_rows), len(cp_rows),
             len(mem_rows))


def _insert(con: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    fields = TABLES[table]
    marks = ", ".join("?" * len(fields))
    con.executemany(f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({marks})", rows)


def read_snapshot(step_dir: str | Path) -> dict[str, Any]:
    """What ``commit_frames`` stores for a month, from the files of a run's ``step_dir``.

    ``segments.parquet`` (segment step) and, when the traction step ran,
    ``traction_checkpoints.parquet``, ``traction_members.parquet`` and ``traction_run.json``;
    ``sales_files.json`` (the run's sales files) goes into the run's metadata;
    with a deal export, ``funnel_kpis.json`` (kept as the run's ``meta["funnel"]``).
    Returns the keyword arguments ``segments, checkpoints, members, run`` (None / {} when absent).
    """
    from workbench.io import tables

    step_dir = Path(step_dir)

    def frame(name: str) -> pd.DataFrame | None:
        path = step_dir / name
        return tables.read_parquet(path) if path.is_file() else None

    run_path, files_path = step_dir / TRACTION_RUN, step_dir / SALES_FILES
    run = tables.read_json(run_path) if run_path.is_file() else {}
    if files_path.is_file():  # the sales files the run was built from: later corrections are told apart
        run["meta"] = {**run.get("meta", {}), "sales_files": tables.read_json(files_path)}
    funnel_path = step_dir / FUNNEL_KPIS  # a deal export's funnel KPIs of the month, kept in the run's meta
    if funnel_path.is_file():
        run["meta"] = {**run.get("meta", {}), "funnel": tables.read_json(funnel_path)}
    return {"segments": frame("segments.parquet"), "checkpoints": frame(TRACTION_CHECKPOINTS),
            "members": frame(TRACTION_MEMBERS), "run": run}


def commit_snapshot(eng: Any, month: str, step_dir: str | Path, run_id: str = "") -> None:
    """Store the month's snapshot from the files of this run's ``step_dir`` (``read_snapshot``)
    in ``eng.history_path``; ``run_id`` is kept in the run's metadata."""
    snapshot = read_snapshot(step_dir)
    if run_id:
        snapshot["run"]["meta"] = {**snapshot["run"].get("meta", {}), "run_id": run_id}
    commit_frames(eng.history_path, month, lang=eng.lang, **snapshot)


# --------------------------------------------------------------------------- read
def load_history(path: str | Path, lang: str = "ru") -> dict[str, pd.DataFrame]:
    """All snapshots: ``{"runs", "segments", "checkpoints", "members"}`` as DataFrames.

    A missing database gives empty frames with the right columns (nothing is created).
    Text columns are strings, numbers float64, ``key_account`` bool.
    """
    path = Path(path)
    if not check_file(path, lang):
        return {name: _typed(pd.DataFrame({f: [] for f in fields})) for name, fields in TABLES.items()}
    with _session(path, lang) as con:
        out = {}
        for name, fields in TABLES.items():
            cur = con.execute(f"SELECT {', '.join(fields)} FROM {name} ORDER BY {', '.join(fields[:2])}")
            out[name] = _typed(pd.DataFrame(cur.fetchall(), columns=list(fields)))
        return out


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    conv: dict[str, Any] = {}
    for col in frame.columns:
        if col in NUMERIC:
            conv[col] = "float64"
        elif col in INTEGER:
            conv[col] = "bool" if col == "key_account" else "int64"
        else:
            conv[col] = "string"
    return frame.astype(conv)


def load_runs(path: str | Path, lang: str = "ru") -> pd.DataFrame:
    """The ``runs`` table alone (month, committed_at, lang, plan_start, customers,
    checkpoints, meta), oldest month first; empty when the database is missing."""
    path = Path(path)
    if not check_file(path, lang):
        return _typed(pd.DataFrame({f: [] for f in RUN_FIELDS}))
    with _session(path, lang) as con:
        cur = con.execute(f"SELECT {', '.join(RUN_FIELDS)} FROM runs ORDER BY month")
        return _typed(pd.DataFrame(cur.fetchall(), columns=list(RUN_FIELDS)))


def months(path: str | Path, lang: str = "ru") -> list[str]:
    """The months stored, oldest first."""
    return sorted(load_history(path, lang)["runs"]["month"].tolist())


def integrity_ok(path: str | Path) -> bool:
    """``PRAGMA integrity_check`` returns ok."""
    con = sqlite3.connect(str(path))
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        return False
    finally:
        con.close()


def run_committed(path: str | Path, month: str, run_id: str, lang: str = "ru") -> bool:
    """True when the history holds ``month`` as stored by the run ``run_id``."""
    if not check_file(path, lang):
        return False
    with _session(path, lang) as con:
        row = con.execute("SELECT meta FROM runs WHERE month = ?", (month,)).fetchone()
    if row is None:
        return False
    try:
        return json.loads(row[0]).get("run_id") == run_id
    except (ValueError, AttributeError):
        return False


# --------------------------------------------------------------------------- the plan start
def plan_start(path: str | Path, lang: str = "ru") -> str:
    """The engagement's pinned plan start ('YYYY-MM'), or '' before the first commit.

    Raises HistoryError naming the file and the command that fixes it when the stored value
    is not a month.
    """
    path = Path(path)
    if not check_file(path, lang):
        return ""
    with _session(path, lang) as con:
        row = con.execute("SELECT value FROM settings WHERE key = 'plan_start'").fetchone()
    value = "" if row is None else str(row[0])
    if value and not _MONTH_RE.match(value):
        raise HistoryError(_msg("bad_plan_start", lang, file=str(path), value=value, engagement=str(path.parent)))
    return value


def set_plan_start(path: str | Path, month: str, lang: str = "ru") -> Path | None:
    """Move the plan start to ``month`` (the explicit command); return the backup taken before."""
    path = Path(path)
    if not _MONTH_RE.match(month or ""):
        raise HistoryError(_msg("bad_month", lang, value=month))
    saved = backup(path, "before-plan-start", lang)
    with _session(path, lang) as con:
        con.execute("INSERT INTO settings (key, value) VALUES ('plan_start', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (month,))
    return saved


# --------------------------------------------------------------------------- maintenance
def drop_month(path: str | Path, month: str, lang: str = "ru") -> Path | None:
    """Remove ``month`` from every table in one transaction; return the backup taken before.

    Raises HistoryError listing the months stored when ``month`` is not one of them.
    """
    path = Path(path)
    stored = months(path, lang)
    if month not in stored:
        raise HistoryError(_msg("no_month", lang, file=str(path), month=month,
                                months=", ".join(stored) or _msg("no_months", lang)))
    saved = backup(path, f"before-drop-{month}", lang)
    with _session(path, lang) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            for table in ("segments", "checkpoints", "members", "runs"):
                con.execute(f"DELETE FROM {table} WHERE month = ?", (month,))
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise
    log.info("history month=%s dropped", month)
    return saved


def check(path: str | Path, lang: str = "ru") -> dict[str, Any]:
    """Check the database whole; return ``{"months": [...], "plan_start": str}``.

    Raises HistoryError (damaged, not a file, newer schema, bad plan start) naming the file
    and the way out.
    """
    path = Path(path)
    if not check_file(path, lang):
        return {"months": [], "plan_start": ""}
    with _session(path, lang) as con:
        result = str(con.execute("PRAGMA integrity_check").fetchone()[0])
    if result != "ok":
        log.info("history integrity_check: %s", result.splitlines()[0][:200])
        raise HistoryError(_msg("damaged", lang, file=str(path)) + " " + _way_out(path, lang))
    return {"months": months(path, lang), "plan_start": plan_start(path, lang)}


def verify(path: str | Path, lang: str = "ru") -> None:
    """Quick check before a run: a missing database is fine; one that is not a file, damaged,
    locked, newer or holding a malformed plan start raises HistoryError with the way out."""
    path = Path(path)
    if not check_file(path, lang):
        return
    with _session(path, lang) as con:
        result = str(con.execute("PRAGMA quick_check").fetchone()[0])
    if result != "ok":
        log.info("history quick_check: %s", result.splitlines()[0][:200])
        raise HistoryError(_msg("damaged", lang, file=str(path)) + " " + _way_out(path, lang))
    plan_start(path, lang)


def backups(path: str | Path) -> list[Path]:
    """The backups of the database ``path``, oldest first."""
    path = Path(path)
    folder = path.parent / BACKUPS_DIR
    return sorted(folder.glob(f"{path.stem}-*.sqlite")) if folder.is_dir() else []


def backup(path: str | Path, why: str, lang: str = "ru") -> Path | None:
    """Copy the database to ``backups/<stem>-<UTC time>-<why>.sqlite`` (SQLite's backup API,
    consistent even while others read it); keep the last ``BACKUPS_KEPT``. None when there is
    no database yet."""
    from workbench.io import atomic

    path = Path(path)
    if not check_file(path, lang):
        return None
    folder = path.parent / BACKUPS_DIR
    folder.mkdir(exist_ok=True)
    atomic.clean_leftovers(folder)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{path.stem}-{stamp}-{why}.sqlite"
    tmp = folder / f"{atomic.TMP_PREFIX}{target.name}"
    with _session(path, lang) as src:
        dst = sqlite3.connect(str(tmp))
        try:
            src.backup(dst)
        finally:
            dst.close()
    os.replace(tmp, target)
    for old in backups(path)[:-BACKUPS_KEPT]:
        old.unlink(missing_ok=True)
    return target


def restore(path: str | Path, lang: str = "ru", source: str | Path | None = None) -> tuple[Path, Path | None]:
    """Put the newest sound backup (or ``source``) in place of the database.

    The file replaced (and its journal) is kept beside it as ``<name>.replaced-<UTC time>``.
    Returns (the backup used, where the replaced file went or None).
    Raises HistoryError when no sound backup exists.
    """
    import shutil

    path = Path(path)
    candidates = [Path(source)] if source else list(reversed(backups(path)))
    chosen = next((c for c in candidates if c.is_file() and integrity_ok(c)), None)
    if chosen is None:
        raise HistoryError(_msg("no_backups", lang, file=str(path), folder=str(path.parent / BACKUPS_DIR)))
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = None
    if path.exists() or path.is_symlink():
        aside = path.with_name(f"{path.name}.replaced-{stamp}")
        os.replace(path, aside)
    journal = path.with_name(path.name + "-journal")
    if journal.exists():  # a hot journal belongs to the file replaced, never to the backup
        os.replace(journal, journal.with_name(f"{journal.name}.replaced-{stamp}"))
    tmp = path.with_name(f".tmp-{path.name}.restore")
    shutil.copyfile(chosen, tmp)
    os.replace(tmp, path)
    log.info("history restored from a backup")
    return chosen, aside


__all__ = [
    "BACKUPS_KEPT",
    "MIGRATIONS",
    "PAUSE_ENV",
    "SCHEMA_VERSION",
    "HistoryError",
    "backup",
    "backups",
    "check",
    "check_file",
    "commit_frames",
    "commit_snapshot",
    "connect",
    "drop_month",
    "integrity_ok",
    "load_history",
    "load_runs",
    "months",
    "plan_start",
    "read_snapshot",
    "restore",
    "run_committed",
    "schema_version",
    "set_plan_start",
    "verify",
]
