"""The history database: versioned schema, one transaction per month, crash safety."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from workbench import history
from workbench.history import HistoryError, commit_frames, integrity_ok, load_history


def _segments(n: int, tier: str = "typical", shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"77{i:08d}" for i in range(n)],
        "customer_name": [f"ООО «Клиент {i}»" for i in range(n)],
        "tier": [tier] * n, "abc": ["A"] * n, "xyz": ["X"] * n, "lifecycle": ["active"] * n,
        "revenue": [1000.0 * i + shift for i in range(n)], "key_account": [i == 0 for i in range(n)],
        "map": ["group"] * n,
    })


def _checkpoints(month: str, actual: float) -> pd.DataFrame:
    return pd.DataFrame({
        "key": ["group:vip|revenue|2026-08|2026-10|0", "group:vip|meetings_held|2026-08|2026-08|0"],
        "map_id": ["group:vip"] * 2, "map_kind": ["group"] * 2, "segment": ["vip"] * 2, "customer_id": ["", ""],
        "month": ["2026-08", "2026-08"], "track": ["sales"] * 2, "owner": ["kam"] * 2,
        "activity": ["Рост выручки", "Встречи"], "kpi": ["revenue", "meetings_held"],
        "kpi_name": ["Выручка", "Встречи"], "unit": ["currency", "count"], "kpi_source": ["computed", "entered"],
        "baseline": [0.0, 0.0], "target": [300.0, 4.0], "deadline": ["2026-10", "2026-08"],
        "target_to_date": [100.0, 4.0], "actual": [actual, float("nan")], "status": ["on_track", "not_entered"],
    })


def _fill(db: Path, months: list[str]) -> None:
    for i, m in enumerate(months):
        commit_frames(db, m, _segments(5, shift=i), _checkpoints(m, 10.0 * i),
                      pd.DataFrame({"map_id": ["group:vip"], "customer_id": ["7700000000"]}),
                      {"lang": "ru", "plan_start": "2026-08", "meta": {"status": {"on_track": 1}}})


def test_schema_version_and_tables(tmp_path):
    db = tmp_path / "history.sqlite"
    assert history.schema_version(db) == history.SCHEMA_VERSION == len(history.MIGRATIONS)
    con = sqlite3.connect(db)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert {"runs", "segments", "checkpoints", "members"} <= names


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "history.sqlite"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version={history.SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(HistoryError, match="newer than this workbench"):
        history.connect(db)


def test_missing_database_gives_empty_frames(tmp_path):
    h = load_history(tmp_path / "none.sqlite")
    assert set(h) == {"runs", "segments", "checkpoints", "members"}
    assert all(f.empty for f in h.values())
    assert not (tmp_path / "none.sqlite").exists()
    assert "customer_id" in h["segments"].columns


def test_round_trip_no_names_stored(tmp_path):
    db = tmp_path / "history.sqlite"
    _fill(db, ["2026-07"])
    h = load_history(db)
    seg = h["segments"]
    assert len(seg) == 5 and seg["month"].eq("2026-07").all()
    assert "customer_name" not in seg.columns
    assert seg["key_account"].tolist() == [True, False, False, False, False]
    assert seg["revenue"].tolist() == [0.0, 1000.0, 2000.0, 3000.0, 4000.0]
    cp = h["checkpoints"]
    cp = cp.set_index("kpi")
    assert cp["cp_month"].tolist() == ["2026-08", "2026-08"]
    assert cp.at["revenue", "actual"] == 0.0 and pd.isna(cp.at["meetings_held", "actual"])
    assert cp.at["revenue", "status"] == "on_track"
    raw = db.read_bytes()
    assert "Клиент".encode() not in raw  # customer names never reach the database
    assert h["runs"]["plan_start"].tolist() == ["2026-08"]


def test_rerun_replaces_only_that_month(tmp_path):
    db = tmp_path / "history.sqlite"
    _fill(db, ["2026-07", "2026-08", "2026-09"])
    before = load_history(db)
    commit_frames(db, "2026-08", _segments(3, tier="vip", shift=0.5), _checkpoints("2026-08", 99.0), None,
                  {"lang": "en"})
    after = load_history(db)
    for name in ("segments", "checkpoints", "members", "runs"):
        for m in ("2026-07", "2026-09"):
            b = before[name][before[name]["month"] == m].reset_index(drop=True)
            a = after[name][after[name]["month"] == m].reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b)
    seg8 = after["segments"][after["segments"]["month"] == "2026-08"]
    assert len(seg8) == 3 and seg8["tier"].eq("vip").all()
    assert after["members"][after["members"]["month"] == "2026-08"].empty
    assert history.months(db) == ["2026-07", "2026-08", "2026-09"]


def test_failed_commit_leaves_database_as_it_was(tmp_path):
    db = tmp_path / "history.sqlite"
    _fill(db, ["2026-07", "2026-08"])
    before = load_history(db)
    bad = pd.concat([_segments(3), _segments(1)], ignore_index=True)  # duplicate customer: PK violation
    with pytest.raises(HistoryError, match="UNIQUE constraint failed"):
        commit_frames(db, "2026-08", bad)
    after = load_history(db)
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name])
    assert integrity_ok(db)


_CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_history import _segments, _checkpoints
    from workbench.history import commit_frames
    print("start", flush=True)
    for i in range({loops}):
        commit_frames({db!r}, "2026-08", _segments(400, tier="vip", shift=100 + i), _checkpoints("2026-08", 500.0 + i))
""")


def _child(db: Path, loops: int, pause: float) -> subprocess.Popen:
    env = dict(os.environ, **{history.PAUSE_ENV: str(pause)})
    code = _CHILD.format(tests=str(Path(__file__).parent), db=str(db), loops=loops)
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)


@pytest.mark.slow
def test_sigkill_inside_the_transaction_keeps_the_previous_snapshot(tmp_path):
    db = tmp_path / "history.sqlite"
    _fill(db, ["2026-07", "2026-08", "2026-09"])
    before = load_history(db)
    proc = _child(db, loops=1, pause=30)
    journal = db.with_name(db.name + "-journal")
    deadline = time.monotonic() + 20
    while not journal.exists():  # the write transaction has started changing pages
        assert proc.poll() is None, "child ended before its transaction"
        assert time.monotonic() < deadline, "child never opened its transaction"
        time.sleep(0.02)
    time.sleep(0.3)  # deep inside: rows deleted and inserted, COMMIT not reached
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert integrity_ok(db)
    after = load_history(db)
    for name in before:
        pd.testing.assert_frame_equal(after[name], before[name])


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_a_complete_snapshot(tmp_path):
    import random

    db = tmp_path / "history.sqlite"
    _fill(db, ["2026-07", "2026-08"])
    rng = random.Random(7)
    for _ in range(3):
        proc = _child(db, loops=200, pause=0)
        assert proc.stdout is not None
        proc.stdout.readline()  # imports done, commits under way
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert integrity_ok(db)
        h = load_history(db)
        seg = h["segments"][h["segments"]["month"] == "2026-08"]
        # either the original 5-customer snapshot or one complete 400-customer commit
        assert len(seg) in (5, 400)
        if len(seg) == 400:
            shift = seg["revenue"].iloc[0]
            assert (seg["revenue"] - shift).tolist() == [1000.0 * i for i in range(400)]
            cp = h["checkpoints"][h["checkpoints"]["month"] == "2026-08"]
            assert cp.set_index("kpi").at["revenue", "actual"] == 400.0 + shift
        assert sorted(h["runs"]["month"]) == ["2026-07", "2026-08"]
        assert len(h["segments"][h["segments"]["month"] == "2026-07"]) == 5
