"""Commands as a user runs them, each a fresh process, against its peer or floor (``make bench``).

Run by hand, never in the tests::

    .venv/bin/python benchmarks/commands.py                 # everything (about 15 minutes when busy)
    .venv/bin/python benchmarks/commands.py --quick         # one pair each, no 1 M-row run
    .venv/bin/python benchmarks/commands.py --only segment,segment-again
    .venv/bin/python benchmarks/commands.py --base /path/to/an/older/checkout   # before | after

Every command is started as its own process (``python -m workbench.cli ...``), timed from
start to exit, and measured beside its peer or floor, alternating (peer, command; then
command, peer; ...): on a machine shared with other work a busy spell hits both sides. Per
row the table gives the median wall time of each side, the median of the per-pair ratios,
the CPU time (user + system of the process and every process it started and reaped, the
kernels included: on a loaded machine it says what the command costs when wall time says
how long the others made it wait), the peak memory of the whole process tree (sampled every
50 ms) and the load average (1 min) while the row was measured.

Data, generated once into ``benchmarks/out/commands/`` (git-ignored):

* ``utf8-1m``: 1 000 000 sales lines of 20 000 customers over three years, a CRM export in
  UTF-8 with ``,``, dates ``dd.mm.yyyy``, amounts with a decimal point;
* ``run-1m``: the same layout, 1 000 000 lines of 50 000 customers;
* ``cp1251-1m``: the 1C export of ``benchmarks/import.py`` (cp1251, ``;``, decimal commas,
  no-break-space thousands);
* ``demo``: the demo engagement (``workbench demo``: 400 customers, 10 k lines, 24 months);
* ``refused``, ``refused-file``: an engagement whose sales file is named but was never sent,
  and one whose file is a 1C report saved without its header row.

Peers and floors:

* start-up and a refused import: the interpreter starting and exiting (``python -c "print(0)"``);
* import: ``pyarrow.csv.read_csv`` parsing the same file, told its encoding and delimiter;
* segment: lifetimes (the field's reference library for RFM) reading the same CSV with
  pandas and computing its RFM summary (``summary_data_from_transaction_data``);
* segment again (inputs and settings unchanged: the import and the segmentation reused), a
  run: against their goals.

``--base PATH`` runs each command of an older checkout (``PYTHONPATH=PATH``: the same venv,
the older code) in place of the peer, alternating with this one: a before/after table
measured side by side in one run.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "commands"
GENERATOR_VERSION = 1  # bump when ``generate`` changes: the files are made again
LAST_MONTH = "2026-06"

PEER_LIFETIMES = r"""
import sys
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data  # lifetimes.datasets needs pkg_resources
sales = pd.read_csv(sys.argv[1], usecols=["ИНН", "Дата", "Сумма"], dtype={"ИНН": "string"})
sales["Дата"] = pd.to_datetime(sales["Дата"], format="%d.%m.%Y")
summary = summary_data_from_transaction_data(sales[sales["Сумма"] > 0], "ИНН", "Дата",
                                             monetary_value_col="Сумма")
print(len(summary))
"""
FLOOR_PYARROW = r"""
import sys
import pyarrow as pa
import pyarrow.csv as pa_csv
path, encoding, delimiter = sys.argv[1:4]
head = open(path, "rb").readline().decode(encoding).strip().replace('"', "").split(delimiter)
table = pa_csv.read_csv(path, read_options=pa_csv.ReadOptions(encoding=encoding),
                        parse_options=pa_csv.ParseOptions(delimiter=delimiter),
                        convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in head}))
print(table.num_rows)
"""


# --- data -------------------------------------------------------------------------------------
def generate_crm_csv(path: Path, rows: int, customers: int, seed: int = 11, months: int = 36) -> None:
    """A CRM export (UTF-8, ``,``, ``dd.mm.yyyy``, decimal point) of ``rows`` sales lines.

    Customers are Pareto-sized (a few large, many small), 30 % start buying within the
    three years, 2 % of lines are returns (negative amounts); three lines per document.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.2, customers) + 0.05
    cust = rng.choice(customers, rows, p=weight / weight.sum())
    end = pd.Period(LAST_MONTH, "M").to_timestamp(how="end").normalize()
    start = (pd.Period(LAST_MONTH, "M") - (months - 1)).to_timestamp()
    span = (end - start).days + 1
    first = rng.integers(0, span, customers) * (rng.random(customers) < 0.3)
    days = first[cust] + (rng.random(rows) * (span - first[cust])).astype(int)
    amount = np.round(rng.gamma(2.0, 15_000.0, rows), 2)
    amount = np.where(rng.random(rows) < 0.02, -amount, amount)
    forms = np.array(["ООО", "АО", "ИП", "ПАО"])
    ids = np.arange(customers)
    names = (pd.Series(forms[ids % 4]) + " «Клиент " + pd.Series(ids).astype(str) + "»").to_numpy()
    inns = pd.Series(rng.integers(10**8, 10**10, customers)).astype(str).str.zfill(10).to_numpy()
    products = np.array([f"Товар {i}" for i in range(500)])
    managers = np.array(["Иванова Анна", "Петров Сергей", "Смирнова Ольга", "Кузнецов Дмитрий"])
    frame = pd.DataFrame({
        "Дата": pd.Series(np.datetime64(start.date()) + days.astype("timedelta64[D]")).dt.strftime("%d.%m.%Y"),
        "Документ": "РН-" + pd.Series(np.arange(rows) // 3).astype(str).str.zfill(7),
        "Клиент": names[cust],
        "ИНН": inns[cust],
        "Товар": products[rng.integers(0, len(products), rows)],
        "Количество": rng.integers(1, 50, rows),
        "Сумма": amount,
        "Менеджер": managers[rng.integers(0, len(managers), rows)],
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path,
                     pa_csv.WriteOptions(quoting_style="needed"))


def _engagement(folder: Path, sales: str) -> Path:
    (folder / "engagement.yaml").write_text(
        f'client: "Бенчмарк"\nlanguage: ru\ninputs:\n  sales:\n    file: {sales}\n', encoding="utf-8")
    return folder


def ensure_data(names: set[str]) -> dict[str, Path]:
    """The engagement folders the rows need, generated when missing or out of date."""
    OUT.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    specs = {"utf8-1m": (1_000_000, 20_000), "run-1m": (1_000_000, 50_000)}
    for name, (rows, customers) in specs.items():
        if name not in names:
            continue
        folder = OUT / name
        stamp = folder / "generated.txt"
        if not stamp.is_file() or stamp.read_text() != f"{rows} {customers} {GENERATOR_VERSION}":
            shutil.rmtree(folder, ignore_errors=True)
            t0 = time.perf_counter()
            generate_crm_csv(folder / "data" / "sales.csv", rows, customers)
            stamp.write_text(f"{rows} {customers} {GENERATOR_VERSION}")
            print(f"generated {name}: {rows:,} lines, {customers:,} customers "
                  f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        made[name] = _engagement(folder, "data/sales.csv")
    if "cp1251-1m" in names:
        spec = importlib.util.spec_from_file_location("bench_import", ROOT / "benchmarks" / "import.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        folder = OUT / "cp1251-1m"
        stamp = folder / "generated.txt"
        if not stamp.is_file() or stamp.read_text() != f"1000000 {module.GENERATOR_VERSION}":
            shutil.rmtree(folder, ignore_errors=True)
            module.generate(1_000_000, folder / "data" / "sales.csv")
            stamp.write_text(f"1000000 {module.GENERATOR_VERSION}")
        made["cp1251-1m"] = _engagement(folder, "data/sales.csv")
    if "demo" in names:
        sys.path.insert(0, str(ROOT))
        from workbench.demo import create_demo

        folder = OUT / "demo"
        if not (folder / "engagement.yaml").is_file():
            create_demo(folder)
        made["demo"] = folder
    if "refused" in names:
        folder = OUT / "refused"
        (folder / "data").mkdir(parents=True, exist_ok=True)
        made["refused"] = _engagement(folder, "data/sales-2026-06.csv")  # named, never sent
    if "refused-file" in names:  # a 1C report saved without its header row: it must be read to be refused
        folder = OUT / "refused-file"
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "data" / "sales.csv").write_bytes(
            "12.01.2026;ООО «Ромашка»;7701234567;1 000,00\n13.01.2026;ООО «Лютик»;7707654321;2 500,50\n"
            .encode("cp1251"))
        made["refused-file"] = _engagement(folder, "data/sales.csv")
    return made


def clean_outputs(folder: Path) -> None:
    """Forget every result of earlier commands: the next command starts from the client's files."""
    for sub in ("work", "deliverables", "logs", "backups"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    for path in folder.glob("history.sqlite*"):
        path.unlink()


def compile_bytecode(trees: list[Path]) -> None:
    """Compile each tree's ``workbench`` package to bytecode first, as a user's first command
    leaves it: a machine that sets ``PYTHONDONTWRITEBYTECODE`` (this one does) would otherwise
    compile the package's sources in every measured process (0.06 s of a refusal)."""
    import compileall

    for tree in trees:
        compileall.compile_dir(str(tree / "workbench"), quiet=1)


# --- measuring one process --------------------------------------------------------------------
@dataclass
class Sample:
    wall: float
    cpu: float
    peak_mb: float
    load: float
    out: str = ""


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Sample:
    """Run ``cmd`` to its end: wall time, CPU of it and its reaped children, peak tree memory."""
    import psutil

    load = os.getloadavg()[0]
    out = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, rss / 2**20)
            except psutil.Error:
                return
            done.wait(0.05)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    watcher.join()
    out.seek(0)
    text = out.read().decode("utf-8", "replace")
    return Sample(wall, usage.ru_utime + usage.ru_stime, peak, load, text)


# --- rows -------------------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    what: str                      # the command as the user types it
    command: list[str]             # arguments after ``python -m workbench.cli``
    peer_label: str = ""
    peer: list[str] | None = None  # a whole command line, or None: against the goal only
    goal: str = ""
    goal_ratio: float | None = None
    goal_seconds: float | None = None
    goal_mb: float | None = None
    before_each: str = "clean"     # "clean": outputs removed first; "warm": one call made first, untimed
    expect_ok: bool = True
    expect_text: tuple[str, ...] = ()  # words, one of which the output must hold (that it reused)
    repeat: int | None = None
    ours: list[Sample] = field(default_factory=list)
    theirs: list[Sample] = field(default_factory=list)


def rows_for(data: dict[str, Path], py: str) -> list[Row]:
    rows: list[Row] = []
    floor = [py, "-c", "print(0)"]  # prints, so a silent failure of the floor is told apart
    if "refused" in data:
        rows.append(Row("help", "workbench --help", ["--help"], "python -c print(0)", floor, "< 0.3 s",
                        goal_seconds=0.3, before_each="none"))
        rows.append(Row("refused", "workbench import (sales file named but missing)", ["import", str(data["refused"])],
                        "python -c print(0)", floor, "< 0.3 s", goal_seconds=0.3, before_each="none", expect_ok=False))
    if "refused-file" in data:
        rows.append(Row("refused-file", "workbench import (a file with no header row)",
                        ["import", str(data["refused-file"])], "python -c print(0)", floor, "< 0.3 s",
                        goal_seconds=0.3, before_each="none", expect_ok=False))
    for name, enc, sep in (("utf8-1m", "utf-8", ","), ("cp1251-1m", "cp1251", ";")):
        if name in data:
            csv = data[name] / "data" / "sales.csv"
            rows.append(Row(f"import-{name.split('-')[0]}", f"workbench import ({name}: 1 M lines, {enc} '{sep}')",
                            ["import", str(data[name])], "pyarrow read_csv", [py, "-c", FLOOR_PYARROW, str(csv), enc, sep],
                            "<= 3x", goal_ratio=3.0))
    if "utf8-1m" in data:
        folder = data["utf8-1m"]
        csv = folder / "data" / "sales.csv"
        rows.append(Row("segment", "workbench segment (utf8-1m, first call)", ["segment", str(folder)],
                        "lifetimes read_csv + RFM", [py, "-c", PEER_LIFETIMES, str(csv)], "<= 1.0x", goal_ratio=1.0))
        rows.append(Row("segment-again", "workbench segment (utf8-1m, inputs unchanged)", ["segment", str(folder)],
                        goal="< 1 s", goal_seconds=1.0, before_each="warm", expect_text=("reused", "повторно")))
    if "run-1m" in data:
        rows.append(Row("run-1m", "workbench run (run-1m: 1 M lines, 50 k customers)", ["run", str(data["run-1m"])],
                        goal="< 30 s, < 1.5 GB", goal_seconds=30.0, goal_mb=1536, repeat=1))
    if "demo" in data:
        rows.append(Row("demo", "workbench run (demo: 400 customers)", ["run", str(data["demo"])],
                        goal="< 10 s", goal_seconds=10.0))
    return rows


def folder_of(row: Row) -> Path | None:
    for arg in row.command:
        if (Path(arg) / "engagement.yaml").is_file():
            return Path(arg)
    return None


def run_row(row: Row, py: str, repeat: int, base: str | None) -> None:
    ours_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [py, "-m", "workbench.cli", *row.command]
    peer, peer_env = row.peer, None
    if base:  # before | after: the older checkout takes the peer's place
        peer, peer_env = cmd, {**os.environ, "PYTHONPATH": base}
    folder = folder_of(row)

    def prepare(env: dict[str, str]) -> None:
        if folder is None or row.before_each == "none":
            return
        clean_outputs(folder)
        if row.before_each == "warm":
            subprocess.run(cmd, env=env, cwd=Path(env["PYTHONPATH"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    for i in range(row.repeat or repeat):
        order = [("ours", cmd, ours_env), ("theirs", peer, peer_env)]
        if i % 2:
            order.reverse()
        for side, command, env in order:
            if command is None:
                continue
            if side == "ours" or base:
                prepare(env or ours_env)
            # ``python -m`` puts the working directory first on sys.path: each side runs in its own tree
            sample = measure(command, env=env, cwd=Path(base) if (base and side == "theirs") else ROOT)
            (row.ours if side == "ours" else row.theirs).append(sample)
            print(f"  {row.name:<14} {side:<6} {sample.wall:7.2f} s  cpu {sample.cpu:6.2f} s  "
                  f"{sample.peak_mb:6.0f} MB  load {sample.load:.1f}", file=sys.stderr)
            if side == "ours" or base:
                check(row, sample)
            else:
                check_peer(row, sample)


def check(row: Row, sample: Sample) -> None:
    said = sample.out.lower()
    failed = ("Traceback" in sample.out) or bool(row.expect_text and not any(w in said for w in row.expect_text))
    if row.expect_ok and ("Traceback" in sample.out or sample.out.strip() == ""):
        failed = True
    if failed:
        print(f"unexpected output of {row.name}:\n{sample.out[-2000:]}", file=sys.stderr)


def check_peer(row: Row, sample: Sample) -> None:
    """A peer that failed (lifetimes not installed, say) would time its own crash: stop instead."""
    if "Traceback" in sample.out or "Error" in sample.out or not sample.out.strip():
        sys.exit(f"the peer of {row.name} ({row.peer_label}) failed, so its time means nothing:\n"
                 f"{sample.out[-2000:]}\n(make bench installs the benchmark extra: pip install -e '.[bench]')")


# --- the table --------------------------------------------------------------------------------
def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def verdict(row: Row, ratio: float | None) -> str:
    wall = med([s.wall for s in row.ours])
    ok = True
    if row.goal_ratio is not None and ratio is not None:
        ok &= ratio <= row.goal_ratio
    if row.goal_seconds is not None:
        ok &= wall < row.goal_seconds
    if row.goal_mb is not None:
        ok &= max(s.peak_mb for s in row.ours) < row.goal_mb
    return "met" if ok else "NOT met"


def print_table(rows: list[Row], base: str | None) -> None:
    peer_head = "before" if base else "peer or floor"
    import psutil

    print(f"\nCommands as processes, alternating with their {'older version' if base else 'peer'} "
          f"({os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; medians; "
          f"CPU = user + system of the process tree)\n")
    head = (f"{'command':<50} {'wall s':>7} {'CPU s':>6} {'peak MB':>7}  {peer_head:<26} {'wall s':>7} "
            f"{'CPU s':>6} {'ratio':>6} {'load':>5}  {'goal':<18} {'':<7}")
    print(head)
    print("-" * len(head))
    for row in rows:
        if not row.ours:
            continue
        ratio = None
        peer_cells = f"{'':<26} {'':>7} {'':>6} {'':>6}"
        if row.theirs:
            pairs = [a.wall / b.wall for a, b in zip(row.ours, row.theirs)]
            ratio = med(pairs)
            label = "the same command" if base else row.peer_label
            peer_cells = (f"{label[:26]:<26} {med([s.wall for s in row.theirs]):>7.2f} "
                          f"{med([s.cpu for s in row.theirs]):>6.2f} {ratio:>6.2f}")
        load = med([s.load for s in row.ours + row.theirs])
        print(f"{row.what[:50]:<50} {med([s.wall for s in row.ours]):>7.2f} {med([s.cpu for s in row.ours]):>6.2f} "
              f"{max(s.peak_mb for s in row.ours):>7.0f}  {peer_cells} {load:>5.1f}  {row.goal:<18} "
              f"{'' if base else verdict(row, ratio):<7}")
    print("\nratio = median over the pairs of (this command's wall time / its "
          f"{'older version' if base else 'peer'}'s), each pair measured back to back; "
          "load = 1-minute load average as each process started (median).")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="pairs per row (default 3; the 1 M-row run: 1)")
    ap.add_argument("--quick", action="store_true", help="one pair per row and no 1 M-row run")
    ap.add_argument("--only", default="", help="comma-separated rows: help, refused, refused-file, import-utf8, "
                    "import-cp1251, segment, segment-again, run-1m, demo")
    ap.add_argument("--base", default="", help="an older checkout to compare with (PYTHONPATH)")
    args = ap.parse_args()
    py = sys.executable
    needs = {"help": "refused", "refused": "refused", "refused-file": "refused-file", "import-utf8": "utf8-1m", "import-cp1251": "cp1251-1m",
             "segment": "utf8-1m", "segment-again": "utf8-1m", "run-1m": "run-1m", "demo": "demo"}
    keep = set(args.only.split(",")) if args.only else set(needs) - ({"run-1m"} if args.quick else set())
    unknown = keep - set(needs)
    if unknown:
        ap.error(f"unknown rows {', '.join(sorted(unknown))}; known: {', '.join(needs)}")
    data = ensure_data({needs[k] for k in keep})
    rows = [r for r in rows_for(data, py) if r.name in keep]
    if args.quick:
        args.repeat = 1
    if args.base:
        for row in rows:
            if row.name == "run-1m" and row.repeat == 1:
                row.repeat = 2
    compile_bytecode([ROOT, *([Path(args.base)] if args.base else [])])
    load_before = os.getloadavg()
    for row in rows:
        run_row(row, py, args.repeat, args.base or None)
    print_table(rows, args.base or None)
    print(f"load average (1, 5, 15 min) at the start: {', '.join(f'{x:.1f}' for x in load_before)}; "
          f"at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    results = OUT / "last.json"
    results.write_text(json.dumps([{"name": r.name, "ours": [vars(s) | {"out": ""} for s in r.ours],
                                    "theirs": [vars(s) | {"out": ""} for s in r.theirs]} for r in rows], indent=1))


if __name__ == "__main__":
    main()
