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
from workbench.cli import main
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
    with pytest.raises(HistoryError, match=rf"^History {db} was written by a newer workbench \(schema 3; this "
                                           r"version knows 2\): update the workbench$"):
        history.connect(db, lang="en")


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


# =====================================================================================
# The plan start: pinned by the first commit, changed only by an explicit command
# =====================================================================================

def _engagement(tmp_path: Path, months: list[str] | None = None, lang: str = "ru") -> Path:
    """A minimal engagement folder: engagement.yaml and a history holding ``months``."""
    root = tmp_path / "engagements" / "alfa"
    root.mkdir(parents=True)
    (root / "engagement.yaml").write_text(f'client: "ООО «Альфа»"\nlanguage: {lang}\n'
                                          "inputs: {sales: {file: data/sales.csv}}\n", encoding="utf-8")
    if months:
        _fill(root / "history.sqlite", months)
    return root


def test_the_plan_start_is_pinned_by_the_first_commit_and_moved_only_on_purpose(tmp_path):
    from workbench import steps
    from workbench.config import load_engagement

    root = _engagement(tmp_path)
    db = root / "history.sqlite"
    commit_frames(db, "2026-10", _segments(3), run={"lang": "ru", "plan_start": "2026-11"})
    # a month before it, run later (a backfill, or a wrong --month): its own plan start is recorded,
    # the engagement's plan stays where it was
    commit_frames(db, "2026-05", _segments(3), run={"lang": "ru", "plan_start": "2026-06"})
    eng = load_engagement(root)
    ctx = steps.Context(eng, "2026-10", "ru", tmp_path, tmp_path)
    assert steps.plan_start(ctx) == "2026-11"
    assert history.plan_start(db) == "2026-11"
    assert steps.plan_start(steps.Context(eng, "2026-05", "ru", tmp_path, tmp_path)) == "2026-11"
    assert load_history(db)["runs"].set_index("month")["plan_start"].to_dict() == {"2026-05": "2026-06",
                                                                                    "2026-10": "2026-11"}
    # the explicit command
    assert main(["history", "plan-start", str(root), "2026-12"]) == 0
    assert history.plan_start(db) == "2026-12" and steps.plan_start(ctx) == "2026-12"


def test_a_version_1_history_is_migrated_keeping_its_plan_start(tmp_path):
    db = tmp_path / "history.sqlite"
    con = sqlite3.connect(db)
    for statement in history._statements(history.MIGRATIONS[0]):
        con.execute(statement)
    con.executemany("INSERT INTO runs (month, committed_at, plan_start) VALUES (?, ?, ?)",
                    [("2026-09", "2026-10-01T00:00:00+00:00", "2026-10"), ("2026-05", "x", "2026-06"),
                     ("2026-10", "2026-11-01T00:00:00+00:00", "2026-10")])
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    assert history.plan_start(db) == "2026-06"  # what the plan start of the earliest month was
    assert history.schema_version(db) == history.SCHEMA_VERSION


def test_a_bad_plan_start_in_the_history_is_blamed_on_the_history(tmp_path):
    from workbench import steps
    from workbench.config import load_engagement

    root = _engagement(tmp_path, ["2026-10"])
    db = root / "history.sqlite"
    con = sqlite3.connect(db)
    con.execute("UPDATE settings SET value = '2026-13' WHERE key = 'plan_start'")
    con.commit()
    con.close()
    ctx = steps.Context(load_engagement(root), "2026-10", "ru", tmp_path, tmp_path)
    with pytest.raises(HistoryError) as err:
        steps.plan_start(ctx)
    assert str(err.value) == (f"В истории {db} записано начало плана «2026-13» — это не месяц ГГГГ-ММ. "
                              f"Задайте его командой: workbench history plan-start {root} ГГГГ-ММ")


# =====================================================================================
# workbench history list | drop | check | restore, and the backups behind them
# =====================================================================================

def test_every_commit_keeps_a_backup_of_the_history_before_it(tmp_path):
    root = _engagement(tmp_path)
    db = root / "history.sqlite"
    _fill(db, ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"])
    backups = history.backups(db)
    assert [p.parent for p in backups] == [root / "backups"] * history.BACKUPS_KEPT
    # the newest backup is the history as it was before the last commit: six months
    assert history.months(backups[-1]) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert backups[-1].name.endswith("-before-2026-07.sqlite")
    assert history.months(backups[0]) == ["2026-01", "2026-02"]


def test_history_list_and_drop(tmp_path, capsys):
    root = _engagement(tmp_path, ["2026-07", "2026-08", "2026-09"])
    db = root / "history.sqlite"
    assert main(["history", "list", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"История {db}: месяцев 3, начало плана 2026-08"
    assert out[1].split() == ["месяц", "записан", "клиентов", "контрольных", "точек", "начало", "плана"]
    assert [line.split()[0] for line in out[2:5]] == ["2026-07", "2026-08", "2026-09"]
    assert out[2].split()[-3:] == ["5", "2", "2026-08"]
    assert out[5] == f"Резервных копий: 2, последняя: {history.backups(db)[-1]}"

    assert main(["history", "drop", str(root), "2026-08"]) == 0
    backup = history.backups(db)[-1]
    assert capsys.readouterr().out == (f"Месяц 2026-08 удалён из истории {db}. Копия до удаления: {backup}. "
                                       "Папки deliverables/2026-08 и work/2026-08 не тронуты\n")
    assert history.months(db) == ["2026-07", "2026-09"]
    assert history.months(backup) == ["2026-07", "2026-08", "2026-09"]
    h = load_history(db)
    assert not (h["segments"]["month"] == "2026-08").any() and not (h["checkpoints"]["month"] == "2026-08").any()
    assert main(["history", "drop", str(root), "2020-01"]) == 1
    assert capsys.readouterr().err == f"В истории {db} нет месяца 2020-01; есть: 2026-07, 2026-09\n"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "directory"])
def test_a_damaged_history_names_the_file_and_the_way_out(tmp_path, capsys, damage):
    import shutil

    root = _engagement(tmp_path, ["2026-07", "2026-08", "2026-09"])
    db = root / "history.sqlite"
    good = history.months(db)
    raw = db.read_bytes()
    if damage == "garbage":
        db.write_bytes(b"\x00garbage" * 512)
    elif damage == "truncated":
        db.write_bytes(raw[: len(raw) // 3])
    else:
        db.unlink()
        db.mkdir()
    with pytest.raises(HistoryError) as err:
        load_history(db, lang="ru")
    message = str(err.value)
    assert message.startswith(f"История {db} ")
    assert message.endswith(f"Восстановите последнюю резервную копию: workbench history restore {root} "
                            f"(копий: 2, в {root / 'backups'})")
    assert main(["history", "check", str(root)]) == 1
    assert capsys.readouterr().err == message + "\n"

    assert main(["history", "restore", str(root)]) == 0
    out = capsys.readouterr().out
    newest = history.backups(db)[-1]
    aside = next(root.glob("history.sqlite.replaced-*"))
    assert out == f"История {db} восстановлена из копии {newest}. Прежний файл сохранён как {aside}\n"
    assert history.months(db) == good[:-1]  # the backup taken before the last commit
    assert integrity_ok(db)
    assert main(["history", "check", str(root)]) == 0
    assert capsys.readouterr().out == f"История {db} в порядке: месяцев 2, начало плана 2026-08\n"
    if damage == "directory":
        assert aside.is_dir()
    else:
        shutil.rmtree(root / "backups")
        db.write_bytes(b"\x00garbage" * 512)
        with pytest.raises(HistoryError, match=r"Резервных копий нет: переименуйте файл, и следующий прогон "
                                               r"начнёт историю заново$"):
            load_history(db, lang="ru")


def test_a_locked_history_names_the_file_and_does_not_wait_long(tmp_path, monkeypatch):
    root = _engagement(tmp_path, ["2026-07"])
    db = root / "history.sqlite"
    monkeypatch.setattr(history, "LOCK_TIMEOUT", 0.5)
    other = sqlite3.connect(db, isolation_level=None)  # another program holding a write lock
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(HistoryError) as err:
            commit_frames(db, "2026-08", _segments(2), lang="en")
        assert time.monotonic() - started < 5
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert str(err.value) == (f"History {db} is locked by another program (a database viewer?). "
                              "Close it and run the command again; nothing was written")
    assert history.months(db) == ["2026-07"]
