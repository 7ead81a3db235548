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

Schema versions
---------------
``PRAGMA user_version`` is the schema version. ``MIGRATIONS[i]`` takes the database from
version ``i`` to ``i + 1``; every migration pending on open runs in one transaction with
the new version number. A database newer than this code is refused.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
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


class HistoryError(WorkbenchError):
    """The history database cannot be opened or written."""


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the history database and apply pending migrations."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("PRAGMA foreign_keys=ON")
        _migrate(con, path)
    except BaseException:
        con.close()
        raise
    return con


def _migrate(con: sqlite3.Connection, path: Path) -> None:
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise HistoryError(f"{path}: schema version {version} is newer than this workbench "
                           f"({len(MIGRATIONS)}); update the workbench")
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


def schema_version(path: str | Path) -> int:
    con = connect(path)
    try:
        return int(con.execute("PRAGMA user_version").fetchone()[0])
    finally:
        con.close()


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


def commit_frames(path: str | Path, month: str, segments: pd.DataFrame, checkpoints: pd.DataFrame | None = None,
                  members: pd.DataFrame | None = None, run: Mapping[str, Any] | None = None) -> None:
    """Store one month's snapshot, replacing that month only, in one transaction.

    segments : one row per customer (``SEGMENT_FIELDS``; others ignored)
    checkpoints : traction's measured checkpoints (``CHECKPOINT_FIELDS``; ``month`` of the
        checkpoint may be given as ``cp_month`` or ``month``) or None
    members : ``map_id, customer_id`` or None
    run : run metadata: lang, plan_start, meta (dict, stored as JSON)
    """
    run = dict(run or {})
    if checkpoints is not None and "cp_month" not in checkpoints.columns and "month" in checkpoints.columns:
        checkpoints = checkpoints.rename(columns={"month": "cp_month"})
    seg_rows = _records(segments, SEGMENT_FIELDS, month)
    cp_rows = _records(checkpoints, CHECKPOINT_FIELDS, month)
    mem_rows = _records(members, MEMBER_FIELDS, month)
    run_row = (month, _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), str(run.get("lang", "")),
               str(run.get("plan_start", "")), len(seg_rows), len(cp_rows),
               json.dumps(run.get("meta", {}), ensure_ascii=False, default=str))
    con = connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            for table in ("segments", "checkpoints", "members", "runs"):
                con.execute(f"DELETE FROM {table} WHERE month = ?", (month,))
            _insert(con, "segments", seg_rows)
            _insert(con, "checkpoints", cp_rows)
            _insert(con, "members", mem_rows)
            _insert(con, "runs", [run_row])
            pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
            if pause > 0:
                time.sleep(pause)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: {exc}") from exc
    finally:
        con.close()
    log.info("history month=%s segments=%d checkpoints=%d members=%d", month, len(seg_rows), len(cp_rows),
             len(mem_rows))


def _insert(con: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    fields = TABLES[table]
    marks = ", ".join("?" * len(fields))
    con.executemany(f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({marks})", rows)


def commit_snapshot(eng: Any, month: str, step_dir: str | Path) -> None:
    """Store the month's snapshot from the files of this run's ``step_dir``.

    Reads ``segments.parquet`` (segment step) and, when the traction step ran,
    ``traction_checkpoints.parquet``, ``traction_members.parquet`` and ``traction_run.json``;
    writes ``eng.history_path``. Without ``segments.parquet`` nothing is stored.
    """
    from workbench.io import tables

    step_dir = Path(step_dir)
    seg_path = step_dir / "segments.parquet"
    if not seg_path.is_file():
        log.info("history month=%s skipped: no segments", month)
        return
    segments = tables.read_parquet(seg_path)
    cp_path, mem_path, run_path = (step_dir / TRACTION_CHECKPOINTS, step_dir / TRACTION_MEMBERS,
                                   step_dir / TRACTION_RUN)
    checkpoints = tables.read_parquet(cp_path) if cp_path.is_file() else None
    members = tables.read_parquet(mem_path) if mem_path.is_file() else None
    run = tables.read_json(run_path) if run_path.is_file() else {}
    commit_frames(eng.history_path, month, segments, checkpoints, members, run)


# --------------------------------------------------------------------------- read
def load_history(path: str | Path) -> dict[str, pd.DataFrame]:
    """All snapshots: ``{"runs", "segments", "checkpoints", "members"}`` as DataFrames.

    A missing database gives empty frames with the right columns (nothing is created).
    Text columns are strings, numbers float64, ``key_account`` bool.
    """
    path = Path(path)
    if not path.is_file():
        return {name: _typed(pd.DataFrame({f: [] for f in fields})) for name, fields in TABLES.items()}
    con = connect(path)
    try:
        out = {}
        for name, fields in TABLES.items():
            cur = con.execute(f"SELECT {', '.join(fields)} FROM {name} ORDER BY {', '.join(fields[:2])}")
            out[name] = _typed(pd.DataFrame(cur.fetchall(), columns=list(fields)))
        return out
    finally:
        con.close()


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


def months(path: str | Path) -> list[str]:
    """The months stored, oldest first."""
    return sorted(load_history(path)["runs"]["month"].tolist())


def integrity_ok(path: str | Path) -> bool:
    """``PRAGMA integrity_check`` returns ok."""
    con = sqlite3.connect(str(path))
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


__all__ = [
    "MIGRATIONS",
    "PAUSE_ENV",
    "SCHEMA_VERSION",
    "HistoryError",
    "commit_frames",
    "commit_snapshot",
    "connect",
    "integrity_ok",
    "load_history",
    "months",
    "schema_version",
]
