"""The monthly loop exactly as README's «Every month» section tells it (issue 21).

The commands are read from the README itself and run through the CLI entry point, for
three consecutive months, in each of the three ways clients send their sales: a full
re-export every month (always under the same file name), a file for the new month only,
and a re-export of the last three months with one corrected past document each time.
Expected figures come from the generated "truth" ledger, with plain pandas.

To keep the suite's budget, full ``workbench run``s (five notebooks each) are made only
where the history needs them: in the overlapping style (which carries the corrections),
the first and the third month (the third through ``batch``, beside a client whose export
has not come); its second month and the other two styles run README's ``add`` and check
the month with ``workbench segment``.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from workbench.cli import main
from workbench.demo import sales_1c_csv
from workbench.history import load_history

ROOT = Path(__file__).resolve().parent.parent
FIRST = "2025-11"          # the first month of the client's history
BEFORE = "2026-10"         # the last month of the export the engagement starts with
MONTHS = ["2026-11", "2026-12", "2027-01"]


# --- what the README says --------------------------------------------------------------
def readme_commands(heading: str) -> dict[str, list[str]]:
    """The workbench commands of the first ```bash block under README's ``heading`` (lines
    continued with a backslash joined): {"add": argv, "run": argv, …}."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading):]
    block = section[section.index("```bash") + len("```bash"):]
    block = block[:block.index("```")].replace("\\\n", " ")
    out = {}
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if line.startswith(".venv/bin/workbench "):
            argv = shlex.split(line)[1:]
            out[argv[0]] = argv
    return out


def readme_month_commands() -> dict[str, list[str]]:
    """The commands of README's «Every month» block: {"add": argv, "actuals": …, "run": …, "batch": …}."""
    return readme_commands("## Every month")


def readme_start_commands() -> dict[str, list[str]]:
    """``new`` and ``run`` of README's «Starting a real client» block."""
    return readme_commands("## Starting a real client")


def as_told(argv: list[str], root: Path, slug: str, month: str = "", files: list[Path] = ()) -> list[str]:
    """README's command for this engagement, month and files (``~/Downloads/…`` -> ``files``)."""
    out: list[str] = []
    for arg in argv:
        if arg.startswith("~/Downloads/"):
            if files:
                out += [str(f) for f in files]
                files = []
            continue
        if arg == "engagements/alfa":
            arg = str(root / slug)
        elif arg == "engagements/":
            arg = str(root) + "/"
        out.append(re.sub(r"^\d{4}-\d{2}$", month, arg) if month else arg)
    return out


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


# --- the client's sales ------------------------------------------------------------------
def truth_ledger() -> pd.DataFrame:
    """Sales lines 2025-11 … 2027-01: 24 customers, 1-2 lines per document, two returns."""
    rng = np.random.default_rng(2104)
    rows, doc = [], 100
    for c in range(24):
        name, inn = f"ООО «Клиент-{c:02d}»", f"{7700000000 + c * 7919:010d}"
        for m in pd.period_range(FIRST, MONTHS[-1], freq="M"):
            if rng.random() > (0.9 if c < 8 else 0.5):
                continue
            doc += 1
            day = m.to_timestamp() + pd.Timedelta(days=int(rng.integers(0, 27)))
            for line in range(int(rng.integers(1, 3))):
                amount = round(float(rng.uniform(1_000, 90_000)) * (3 if c < 3 else 1), 2)
                rows.append((day, name, inn, f"РН-{doc:05d}", f"Товар {line}", int(rng.integers(1, 20)), amount,
                             "Иванова Анна"))
    df = pd.DataFrame(rows, columns=["date", "customer_name", "inn", "document", "product", "quantity", "amount",
                                     "manager"])
    back = df.iloc[[10, 200]].copy()  # returns: negative lines of their own documents, a week later
    back["amount"] = -(back["amount"] / 2).round(2)
    back["quantity"] = -back["quantity"]
    back["date"] = back["date"] + pd.Timedelta(days=7)
    back["document"] = "ВЗ-" + back["document"].str[3:]
    return pd.concat([df, back], ignore_index=True).sort_values(["date", "document"], kind="stable",
                                                                ignore_index=True)


def month_of(df: pd.DataFrame) -> pd.Series:
    return df["date"].dt.strftime("%Y-%m")


def between(df: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    m = month_of(df)
    return df[(m >= first) & (m <= last)]


def shift(month: str, n: int) -> str:
    return (pd.Period(month, "M") + n).strftime("%Y-%m")


def correct(truth: pd.DataFrame, k: int) -> tuple[pd.DataFrame, dict[str, object]]:
    """The client's correction sent with the k-th overlapping re-export (k = 1, 2, 3), in
    the re-export's first (past) month: a line's amount changed, a line deleted, a line's
    amount changed. Returns the corrected ledger and what changed (document, before, after)."""
    month = shift(MONTHS[k - 1], -2)
    lines = truth[(month_of(truth) == month) & truth["document"].str.startswith("РН-")]
    docs = lines.groupby("document")["amount"].agg(["size", "sum"])
    doc = docs[docs["size"] == 2].index[0]
    idx = lines.index[lines["document"] == doc]
    out = truth.copy()
    if k == 2:
        out = out.drop(index=idx[1])
    else:
        out.loc[idx[0], "amount"] = round(out.loc[idx[0], "amount"] + (1234.56 if k == 1 else -500.0), 2)
    before = float(truth.loc[idx, "amount"].sum())
    after = float(out.loc[out["document"] == doc, "amount"].sum())
    return out, {"month": month, "document": doc, "before": before, "after": after}


def export(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sales_1c_csv(df.reset_index(drop=True)))
    return path


def start_engagement(root: Path, slug: str, truth: pd.DataFrame, tmp: Path, capsys) -> Path:
    """README's «Starting a real client»: ``new`` with the export up to ``BEFORE``."""
    first = export(between(truth, FIRST, BEFORE), tmp / "downloads" / slug / f"продажи_{BEFORE}.csv")
    argv = as_told(readme_start_commands()["new"], root, slug, files=[first])
    while argv[-1] == "--data":  # README's second file (the customers list): this client has none
        argv.pop()
    rc, _, err = cli(argv, capsys)
    assert rc == 0, err
    # The months played here (up to 2027-01) are still to come on the machine's calendar: a
    # real export never holds a sale dated after today, so the import refuses one unless
    # import.max_date lets it in (issue 13).
    cfg = root / slug / "engagement.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('  max_date: ""', '  max_date: "2027-12-31"', 1),
                   encoding="utf-8")
    return root / slug


def check_ledger(eng: Path, expected: pd.DataFrame, through: str) -> pd.DataFrame:
    """The imported ledger holds exactly the expected lines up to ``through``: revenue per
    month to the kopeck, every line once (no line counted twice, none lost)."""
    ledger = pd.read_parquet(eng / "work" / "ledger.parquet")
    want = between(expected, FIRST, through)
    got = ledger.assign(month=ledger["date"].dt.strftime("%Y-%m")).groupby("month")["amount"].sum().round(2)
    assert got.to_dict() == want.assign(month=month_of(want)).groupby("month")["amount"].sum().round(2).to_dict()
    key = ["date", "document", "product", "amount"]
    lines = ledger[key].assign(date=ledger["date"].dt.normalize()).sort_values(key).reset_index(drop=True)
    assert lines.equals(want[key].sort_values(key).reset_index(drop=True).astype(lines.dtypes.to_dict()))
    return ledger


def import_report(eng: Path) -> dict:
    import json

    return json.loads((eng / "work" / "import_report.json").read_text(encoding="utf-8"))


def sources_by_month(eng: Path) -> dict[str, list[str]]:
    return {m["month"]: [s["file"] for s in m["sources"]] for m in import_report(eng)["sales_files"]["months"]}


# --- the three ways ------------------------------------------------------------------------
def test_readme_monthly_section_has_the_commands_the_tests_follow():
    cmds = readme_month_commands()
    assert list(cmds) == ["add", "actuals", "run", "batch"]
    assert cmds["add"][1] == "engagements/alfa" and cmds["add"][2].startswith("~/Downloads/")
    assert cmds["run"][-2:] == ["--month", "2026-11"] and cmds["batch"][-2:] == ["--month", "2026-11"]
    assert list(readme_start_commands()) == ["new", "import", "run"]


@pytest.mark.parametrize("style", ["full_reexport", "monthly_file"])
def test_monthly_loop_full_reexport_and_monthly_file(tmp_path, capsys, style):
    truth = truth_ledger()
    root = tmp_path / "engagements"
    eng = start_engagement(root, "alfa", truth, tmp_path, capsys)
    cmds = readme_month_commands()
    sent: list[str] = [f"продажи_{BEFORE}.csv"]
    for k, month in enumerate(MONTHS, start=1):
        if style == "full_reexport":  # the last 12 months, under the same name every time
            new = export(between(truth, shift(month, -11), month), tmp_path / "downloads" / str(k) / "sales.csv")
        else:
            new = export(between(truth, month, month), tmp_path / "downloads" / f"sales_{month}.csv")
        rc, out, err = cli(as_told(cmds["add"], root, "alfa", month, [new]), capsys)
        assert rc == 0, err
        stored = new.name if style == "monthly_file" else ("sales.csv" if k == 1 else f"sales-{k}.csv")
        assert f"{new} → data/{stored}" in out  # never over the previous export: a name of its own
        assert (eng / "data" / stored).read_bytes() == new.read_bytes()
        assert re.search(rf"\d\. {re.escape(stored)}: .*; найден по шаблону data/\* \(тот же формат", out), out
        sent.append(stored)
        ledger = check_ledger(eng, truth, month)
        assert set(ledger["source_file"]) == set(sent)  # each export still holds a month no later one has
        report = import_report(eng)["sales_files"]
        assert report["corrections"]["count"] == 0  # the same figures in every file: nothing to report
        sources = sources_by_month(eng)
        if style == "monthly_file":
            assert sources == {**{m: [sent[0]] for m in pd.period_range(FIRST, BEFORE, freq="M").strftime("%Y-%m")},
                               **{m: [f"sales_{m}.csv"] for m in MONTHS[:k]}}
        else:  # each month from the newest export holding it; the oldest month from the first export
            for m, files in sources.items():
                holders = [i for i in range(k + 1) if (i == 0 and m <= BEFORE)
                           or (i > 0 and shift(MONTHS[i - 1], -11) <= m <= MONTHS[i - 1])]
                assert files == [sent[max(holders)]], m
        # README: run the month (here: the segmentation alone, the notebooks are run in the overlapping style)
        run = as_told(cmds["run"], root, "alfa", month)
        rc, out, err = cli(["segment", *run[1:]], capsys)
        assert rc == 0, err
        assert f"month: {month}" in out
        assert (eng / "deliverables" / month / "segments.csv").is_file()


def test_monthly_loop_overlapping_reexport_with_corrections(tmp_path, capsys):
    """Three re-exports of the last three months, each correcting one past document: the
    months come from the newest file, nothing twice, the corrections shown in the import
    report, report.html and workbook, the history's earlier months as they were."""
    truth = truth_ledger()
    root = tmp_path / "engagements"
    eng = start_engagement(root, "alfa", truth, tmp_path, capsys)
    late = start_engagement(root, "beta", truth, tmp_path, capsys)  # its January export has not come
    cmds = readme_month_commands()
    rc, _, err = cli(as_told(readme_start_commands()["run"], root, "alfa"), capsys)
    assert rc == 0, err
    snapshots = {BEFORE: history_of(eng, BEFORE)}
    corrections: list[dict[str, object]] = []
    used: set[str] = set()  # the exports a run has used (its report showed their corrections)
    for k, month in enumerate(MONTHS, start=1):
        truth, change = correct(truth, k)
        name = f"sales_{shift(month, -2)}_{month}.csv"
        corrections.append({**change, "file": name})
        new = export(between(truth, shift(month, -2), month), tmp_path / "downloads" / name)
        rc, out, err = cli(as_told(cmds["add"], root, "alfa", month, [new]), capsys)
        assert rc == 0, err
        # the import report at once: the months and their files, the corrected document
        assert f"{month}: {name}" in out
        assert f"{shift(month, -2)}: {name}; " in out and "заменено строк из" in out
        assert f"{change['document']} от " in out, out
        check_ledger(eng, truth, month)
        report = import_report(eng)["sales_files"]
        found = {(r["month"], r["document"]): r for r in report["corrections"]["rows"]}
        for c in corrections:  # every correction sent so far, against the file it replaced
            r = found[(c["month"], c["document"])]
            assert (round(r["before"], 2), round(r["after"], 2)) == (round(c["before"], 2), round(c["after"], 2))
            assert r["change"] == "changed"
            assert r["new"] == (c["file"] not in used)  # those of files a run used were in its report
        assert len(found) == len(corrections)  # nothing else differs
        assert all(m["reported"] for m in report["corrections"]["months"])  # months the client has seen
        for c in corrections:
            if c["file"] in used:  # reported already: one line, not again document by document
                earlier = next(x for x in out.splitlines()
                               if x.startswith("Исправления из выгрузок, уже учтённых в прошлых отчётах: "))
                assert f"{c['month']} ({c['file']}, документов: 1, " in earlier
                assert f"{c['document']} от " not in out
        if k == 1:
            rc, out, err = cli(as_told(cmds["actuals"], root, "alfa", month), capsys)
            assert rc == 0, err
            assert (eng / "actuals" / f"{month}.xlsx").is_file()
        if k == 1:  # README: run the month
            rc, out, err = cli(as_told(cmds["run"], root, "alfa", month), capsys)
            assert rc == 0, err
            html = (eng / "deliverables" / month / "report.html").read_text(encoding="utf-8")
            assert change["document"] in html and "Исправления прошлых месяцев" in html
            wb = load_workbook(eng / "deliverables" / month / "workbook.xlsx", read_only=True)
            sheet = [[c for c in r if c is not None] for r in wb["Исправления"].iter_rows(values_only=True)]
            assert any(change["document"] in r and change["month"] in r for r in sheet)
        elif k == 2:  # (budget: the segmentation alone; the history does not need this month)
            rc, out, err = cli(["segment", *as_told(cmds["run"], root, "alfa", month)[1:]], capsys)
            assert rc == 0, err
        else:  # README: "or every client at once"
            rc, out, err = cli(as_told(cmds["batch"], root, "alfa", month) + ["--jobs", "2"], capsys)
            assert rc == 0, err + out
            lines = out.splitlines()
            assert re.match(r"^alfa\s+готово\s", lines[1]) and str(eng / "deliverables" / month) in lines[1]
            assert re.match(r"^beta\s+нет данных\s.*последний месяц с продажами: 2026-10$", lines[2])
            assert f"Нет данных за {month} (1)" in out and "  beta: 2026-10" in out
            assert lines[-1] == "Итого: готово 1, с ошибкой 0, без данных за месяц 1"
            assert not (late / "deliverables" / month).exists()
        if k != 2:
            used.add(name)
            snapshots[month] = history_of(eng, month)
        for earlier, snap in snapshots.items():  # a new month never rewrites what was reported
            if earlier != month:
                assert history_of(eng, earlier).equals(snap), earlier
    assert sorted(load_history(eng / "history.sqlite")["runs"]["month"]) == [BEFORE, MONTHS[0], MONTHS[2]]


def history_of(eng: Path, month: str) -> pd.DataFrame:
    hist = load_history(eng / "history.sqlite")
    runs = hist["runs"][hist["runs"]["month"] == month].drop(columns=["meta"]).reset_index(drop=True)
    segs = hist["segments"][hist["segments"]["month"] == month].reset_index(drop=True)
    assert len(runs) == 1 and len(segs)
    return pd.concat([runs.astype(str), segs.astype(str)], axis=1)
