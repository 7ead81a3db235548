"""Reuse of the canonical tables and of a month's segmentation while nothing changed (issue 20).

A second ``workbench import`` / ``workbench segment`` on unchanged exports and settings reads
nothing again and says so; any change to what the result was made from (a byte of an input,
a new file in data/, an import or segmentation setting, the history's reported months, the
code) or to what it wrote makes the command do the work again.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli import main
from workbench.config import load_engagement
from workbench.demo import sales_1c_csv
from workbench.i18n import t
from workbench.io import cache, tables
from workbench.steps import IMPORT_KEY, import_step

SALES = pd.DataFrame({
    "date": pd.to_datetime(["05.09.2026", "12.09.2026", "03.10.2026", "20.10.2026", "21.10.2026"],
                           format="%d.%m.%Y"),
    "document": ["РН-1", "РН-2", "РН-3", "РН-4", "РН-5"],
    "customer_name": ["ООО «Альфа»", "ООО «Бета»", "ООО «Альфа»", "ООО «Гамма»", "ООО «Бета»"],
    "inn": ["7701000001", "7701000002", "7701000001", "7701000003", "7701000002"],
    "product": ["Бумага", "Бумага", "Скотч", "Плёнка", "Бумага"],
    "quantity": [1, 2, 3, 4, 5],
    "amount": [1000.0, 3000.0, 1500.0, 700.0, 200.0],
    "manager": ["Петров Сергей"] * 5,
})


@pytest.fixture()
def client(tmp_path: Path) -> Path:
    root = tmp_path / "engagements" / "client"
    (root / "data").mkdir(parents=True)
    (root / "data" / "sales.csv").write_bytes(sales_1c_csv(SALES))
    (root / "engagement.yaml").write_text(
        'client: "ООО «Тест»"\nlanguage: ru\ninputs:\n  sales:\n    file: data/sales.csv\n', encoding="utf-8")
    tables.forget_tables()
    return root


def run(capsys, *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def imported_json(capsys, root: Path) -> dict:
    return json.loads(run(capsys, "import", str(root), "--json"))


def test_a_second_import_reuses_the_tables_and_says_so(client, capsys):
    first = run(capsys, "import", str(client))
    assert t("run.import_ok", "ru", path=str(client / "work")) in first
    ledger = client / "work" / "ledger.parquet"
    written = ledger.stat().st_mtime_ns
    second = run(capsys, "import", str(client))
    assert t("run.import_reused", "ru", path=str(client / "work")) in second
    assert ledger.stat().st_mtime_ns == written  # not written again
    assert first.splitlines()[:-1] == second.splitlines()[:-1]  # the same report
    assert imported_json(capsys, client)["reused"] is True


@pytest.mark.parametrize("change", ["a byte of the export", "a new file in data", "an import setting",
                                    "the reported months", "the code", "another day", "a table deleted", "a table edited"])
def test_any_change_imports_again(client, capsys, monkeypatch, change):
    run(capsys, "import", str(client))
    work = client / "work"
    if change == "a byte of the export":
        edited = SALES.assign(amount=SALES["amount"].where(SALES.index != 3, 701.0))
        (client / "data" / "sales.csv").write_bytes(sales_1c_csv(edited))
    elif change == "a new file in data":
        (client / "data" / "prices.csv").write_text("Товар;Цена\nБумага;10\n", encoding="utf-8")
    elif change == "an import setting":
        cfg = client / "engagement.yaml"
        cfg.write_text(cfg.read_text(encoding="utf-8") + "import:\n  returns: exclude\n", encoding="utf-8")
    elif change == "the reported months":
        from workbench import history

        history.commit_frames(client / "history.sqlite", "2026-10", None, run={"lang": "ru"})
    elif change == "the code":
        monkeypatch.setattr(cache, "code_version", lambda: "another version")
    elif change == "another day":  # without import.max_date, dates after today are refused
        from workbench import steps

        monkeypatch.setattr(steps, "today", lambda: "2099-01-01")
    elif change == "a table deleted":
        (work / "customers.parquet").unlink()
    else:
        tables.write_parquet(pd.DataFrame({"x": [1]}), work / "ledger.parquet")
    out = imported_json(capsys, client)
    assert out["reused"] is False
    ledger = pd.read_parquet(work / "ledger.parquet")
    assert len(ledger) == len(SALES) and (work / "customers.parquet").is_file()
    if change == "a byte of the export":
        assert sorted(ledger["amount"]) == sorted([1000.0, 3000.0, 1500.0, 701.0, 200.0])
    if change == "a new file in data":
        assert [u["path"] for u in out["sales_files"]["unmatched"]] == ["data/prices.csv"]
    assert imported_json(capsys, client)["reused"] is True  # and then it is reused again


def test_a_setting_of_a_later_step_keeps_the_import(client, capsys):
    run(capsys, "import", str(client))
    cfg = client / "engagement.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "segmentation:\n  abc:\n    a: 0.5\n", encoding="utf-8")
    assert imported_json(capsys, client)["reused"] is True


def test_an_import_stopped_half_way_leaves_no_key(client, capsys, monkeypatch):
    """The key file goes before new tables are written, and comes back only after all of them."""
    run(capsys, "import", str(client))
    (client / "data" / "sales.csv").write_bytes(sales_1c_csv(SALES.iloc[:4]))
    import workbench.ingest as ingest

    def half_way(eng, result):
        tables.write_parquet(result.ledger, eng.work_dir / "ledger.parquet")
        raise OSError(28, "No space left on device", str(eng.work_dir / "customers.parquet"))

    monkeypatch.setattr(ingest, "write_import", half_way)
    assert main(["import", str(client)]) == 1
    assert not (client / "work" / IMPORT_KEY).exists()
    monkeypatch.undo()
    out = imported_json(capsys, client)
    assert out["reused"] is False
    assert len(pd.read_parquet(client / "work" / "customers.parquet")) == 3


def segment_json(capsys, root: Path, *extra: str) -> dict:
    return json.loads(run(capsys, "segment", str(root), "--json", *extra))


def test_a_second_segment_reuses_everything_and_says_so(client, capsys):
    first = segment_json(capsys, client)
    assert first["reused"] is False and first["import_reused"] is False
    csv = Path(first["segments_csv"])
    content, written = csv.read_bytes(), csv.stat().st_mtime_ns
    out = run(capsys, "segment", str(client))
    assert t("run.segment_reused", "ru", month="2026-10") in out
    assert csv.stat().st_mtime_ns == written and csv.read_bytes() == content
    again = segment_json(capsys, client)
    assert again["reused"] is True and {k: v for k, v in again.items() if "reused" not in k} == \
        {k: v for k, v in first.items() if "reused" not in k}


def test_segment_again_after_a_change(client, capsys):
    first = segment_json(capsys, client)
    csv = Path(first["segments_csv"])
    csv.unlink()  # a deliverable deleted: made again
    assert segment_json(capsys, client)["reused"] is False and csv.is_file()
    cfg = client / "engagement.yaml"  # a segmentation setting: the import is kept, the segmentation made again
    cfg.write_text(cfg.read_text(encoding="utf-8") + "segmentation:\n  abc:\n    a: 0.5\n", encoding="utf-8")
    out = segment_json(capsys, client)
    assert out["reused"] is False and out["import_reused"] is True
    assert segment_json(capsys, client, "--month", "2026-09")["reused"] is False  # another month


def test_segmenting_from_memory_gives_what_reading_the_files_gives(client, capsys):
    """``workbench segment`` segments the tables it has just imported, in memory; the same
    segmentation read back from the files written is identical, value for value and type for type."""
    from workbench import steps
    from workbench.segment import segment

    out = segment_json(capsys, client)
    tables.forget_tables()
    ctx = steps.context(str(client), out["month"])
    ledger, customers = pd.read_parquet(client / "work" / "ledger.parquet"), pd.read_parquet(
        client / "work" / "customers.parquet")
    expected = segment(ledger, customers, ctx.settings["segmentation"], ctx.month, ctx.lang).customers
    pd.testing.assert_frame_equal(pd.read_parquet(ctx.step_dir / "segments.parquet"), expected)


def test_a_table_kept_in_memory_is_the_table_on_disk(client):
    eng = load_engagement(client)
    res = import_step(eng)
    path = eng.work_dir / "ledger.parquet"
    kept = tables.read_parquet(path, remember=True)
    pd.testing.assert_frame_equal(kept, pd.read_parquet(path))
    assert kept is not res.ledger
    kept["amount"] = 0.0  # the caller's own frame: the kept one is untouched
    assert tables.read_parquet(path, remember=True)["amount"].sum() == SALES["amount"].sum()
    other = pd.DataFrame({"x": [1, 2]})
    other.to_parquet(path)  # replaced behind its back
    os.utime(path, ns=(1, 1))
    pd.testing.assert_frame_equal(tables.read_parquet(path, remember=True), other)


def test_a_run_reuses_the_import_made_before_it(demo_copy, capsys):
    """``workbench import`` then ``workbench run``: the run does not read the exports again
    (its log says so)."""
    eng = load_engagement(demo_copy)
    assert import_step(eng).reused is False
    from workbench.run import run_engagement

    res = run_engagement(demo_copy, echo=lambda m: None)
    log = (demo_copy / "logs" / "run.log").read_text(encoding="utf-8").splitlines()
    started = max(i for i, line in enumerate(log) if " import rows=" in line)
    assert "reused" in log[started]
    assert (res.deliverables / "report.html").is_file()
