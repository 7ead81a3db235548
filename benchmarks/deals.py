"""Benchmark of the sales funnel on a CRM deal export (by hand; never part of the tests).

Generates a Bitrix24 ``crm.deal.list`` dump of 1,000,000 deals (UTF-8, ``,``, REST field
names; two pipelines, won / lost / open deals, 50 k companies, managers, sources) and its
``crm.stagehistory.list`` dump (one row per stage a deal entered, about 3.4 rows per deal)
into ``benchmarks/out/``, then times, each in a fresh subprocess, best of ``--repeat``:

* the floor: ``pyarrow.csv.read_csv`` parsing the deal export (told its delimiter);
* the import of the deal export and its history (``workbench.ingest.import_engagement``,
  the deals as the only input: recognised, classified, checked, the won deals as the ledger);
* the funnel (``workbench.funnel.funnel``) on the canonical tables, read from Parquet first
  (the reading is timed apart): current stages only, and with the stage history.

    .venv/bin/python benchmarks/deals.py [--rows 1000000] [--repeat 3]

Prints one table; the goal is the funnel on 1 M deals in under 2 s.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
GENERATOR_VERSION = 1  # bump when ``generate`` changes: the files are made again
OPEN = ("NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE")


def generate(rows: int, deals_path: Path, history_path: Path, seed: int = 14) -> None:
    """Write the synthetic dumps (vectorised: every deal's path drawn at once)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    created = np.datetime64("2024-01-01T09:00") + rng.integers(0, 700 * 24 * 60, rows).astype("timedelta64[m]")
    pipeline = (rng.random(rows) < 0.2).astype(np.int64)
    # each deal moves on from stage k with 70 %, is lost with 22 %, stays with 8 %
    steps = np.zeros(rows, dtype=np.int64)
    outcome = np.full(rows, "open", dtype=object)
    alive = np.ones(rows, dtype=bool)
    for k in range(len(OPEN)):
        roll = rng.random(rows)
        lost = alive & (roll < 0.22)
        stay = alive & (roll >= 0.22) & (roll < 0.30)
        outcome[lost] = "lost"
        alive &= ~(lost | stay)
        steps[alive] = k + 1
    won = alive
    outcome[won] = "won"
    steps = np.minimum(steps, len(OPEN) - 1)
    gaps = rng.integers(1, 20 * 24 * 60, (rows, len(OPEN) + 1)).astype("timedelta64[m]")
    enter = created[:, None] + np.cumsum(gaps, axis=1) - gaps[:, :1]
    closed = enter[np.arange(rows), steps + 1]
    prefix = np.where(pipeline == 1, "C1:", "")
    final = np.where(outcome == "won", "WON", np.where(outcome == "lost", "LOSE", ""))
    current = np.asarray(OPEN, dtype=object)[steps]
    stage = np.char.add(prefix.astype(str), np.where(final == "", current, final).astype(str))
    sem = np.where(outcome == "won", "S", np.where(outcome == "lost", "F", "P"))
    ids = np.arange(1, rows + 1)
    fmt = "%Y-%m-%dT%H:%M:%S+03:00"
    deals = pd.DataFrame({
        "ID": ids, "TITLE": pd.Series(ids).map("Сделка #{}".format), "STAGE_ID": stage,
        "CATEGORY_ID": pipeline, "STAGE_SEMANTIC_ID": sem, "CLOSED": np.where(sem == "P", "N", "Y"),
        "OPPORTUNITY": (rng.integers(10, 2000, rows) * 1000).astype(str) + ".00", "CURRENCY_ID": "RUB",
        "COMPANY_ID": rng.integers(1, 50_000, rows), "CONTACT_ID": 0,
        "ASSIGNED_BY_ID": rng.integers(1, 40, rows), "SOURCE_ID": np.asarray(["CALL", "WEB", "EMAIL", "PARTNER"])[
            rng.integers(0, 4, rows)],
        "DATE_CREATE": pd.Series(created).dt.strftime(fmt),
        "CLOSEDATE": pd.Series(closed).dt.strftime(fmt),
        "DATE_MODIFY": pd.Series(np.where(sem == "P", enter[np.arange(rows), steps], closed)).dt.strftime(fmt),
    })
    deals.to_csv(deals_path, index=False)
    # the history: the open stages entered (0..steps), then the closing stage
    n_open = steps + 1
    rep = np.repeat(np.arange(rows), n_open)
    pos = np.arange(len(rep)) - np.repeat(np.cumsum(n_open) - n_open, n_open)
    hist_stage = np.char.add(prefix[rep].astype(str), np.asarray(OPEN, dtype=object)[pos].astype(str))
    hist_time = enter[rep, pos]
    closing = outcome != "open"
    hist = pd.DataFrame({"OWNER_ID": np.concatenate([ids[rep], ids[closing]]),
                         "STAGE_ID": np.concatenate([hist_stage, stage[closing]]),
                         "CREATED_TIME": pd.Series(np.concatenate([hist_time, closed[closing]])).dt.strftime(fmt),
                         "CATEGORY_ID": np.concatenate([pipeline[rep], pipeline[closing]])})
    hist.insert(0, "ID", np.arange(1, len(hist) + 1))
    hist.to_csv(history_path, index=False)


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON dict of timings."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


PARSE = """
import json, sys, time
import pyarrow.csv as csv
c = time.process_time(); t = time.perf_counter(); table = csv.read_csv(sys.argv[1])
t = time.perf_counter() - t; c = time.process_time() - c
print(json.dumps({"seconds": t, "cpu": c, "rows": table.num_rows}))
"""

IMPORT = """
import json, sys, time
from workbench.config import load_engagement
from workbench.ingest import import_engagement, write_import
eng = load_engagement(sys.argv[1])
c = time.process_time(); t = time.perf_counter(); res = import_engagement(eng)
t = time.perf_counter() - t; c = time.process_time() - c
write_import(eng, res)
print(json.dumps({"seconds": t, "cpu": c, "deals": len(res.deals), "ledger": len(res.ledger)}))
"""

FUNNEL = """
import json, sys, time
import pandas as pd
from workbench.funnel import funnel
work = sys.argv[1]
t0 = time.perf_counter()
deals = pd.read_parquet(work + "/deals.parquet"); stages = pd.read_parquet(work + "/deal_stages.parquet")
history = pd.read_parquet(work + "/deal_history.parquet") if sys.argv[2] == "history" else None
read = time.perf_counter() - t0
c = time.process_time(); t = time.perf_counter(); res = funnel(deals, stages, history, None, "2025-11", 12)
t = time.perf_counter() - t; c = time.process_time() - c
print(json.dumps({"seconds": t, "cpu": c, "read": read, "stalled": len(res.stalled),
                  "conversion": len(res.conversion)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    eng = OUT / f"deals_engagement_{args.rows}"
    deals_path, history_path = eng / "data" / "crm_deal_list.csv", eng / "data" / "crm_stagehistory_list.csv"
    stamp = eng / f".generated-v{GENERATOR_VERSION}"
    if not stamp.is_file():
        (eng / "data").mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        generate(args.rows, deals_path, history_path)
        print(f"generated {args.rows:,} deals in {time.perf_counter() - t:.1f} s")
        (eng / "engagement.yaml").write_text(
            'client: "Бенчмарк"\nlanguage: ru\ninputs:\n  sales:\n    file: ""\n  deals:\n'
            '    file: data/crm_deal_list.csv\n  deal_history:\n    file: data/crm_stagehistory_list.csv\n',
            encoding="utf-8")
        stamp.write_text("ok\n", encoding="utf-8")
    size = deals_path.stat().st_size / 1e6
    hist_size = history_path.stat().st_size / 1e6
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for name, code, extra in (("parse", PARSE, [str(deals_path)]), ("import", IMPORT, [str(eng)]),
                                  ("funnel", FUNNEL, [str(eng / "work"), "current"]),
                                  ("funnel+history", FUNNEL, [str(eng / "work"), "history"])):
            got = child(code, *extra)
            if name not in best or got["seconds"] < best[name]["seconds"]:
                best[name] = got
    print(f"\n{args.rows:,} deals: export {size:.0f} MB, stage history {hist_size:.0f} MB "
          f"({best['import']['deals']:,} deals, {best['import']['ledger']:,} won ledger lines)")
    load = os.getloadavg()[0]
    floor = best["parse"]["seconds"]
    print(f"load average {load:.1f} on {os.cpu_count()} cores: wall times grow with it; the CPU time and the "
          "ratio to the floor, measured side by side, much less")
    print(f"{'step':<46}{'wall s':>9}{'CPU s':>9}{'x floor':>9}")
    rows = [("pyarrow.csv parsing the deal export (floor)", "parse"), ("import: deal export + stage history", "import"),
            ("funnel, current stages only", "funnel"), ("funnel with the stage history", "funnel+history")]
    for label, name in rows:
        r = best[name]
        print(f"{label:<46}{r['seconds']:>9.2f}{r['cpu']:>9.2f}{r['seconds'] / floor:>9.1f}")
    print(f"(Parquet read before the funnel, apart: {best['funnel']['read']:.2f} s current, "
          f"{best['funnel+history']['read']:.2f} s with the history)")
    worst = max(best["funnel"]["seconds"], best["funnel+history"]["seconds"])
    print(f"\ngoal: the funnel on {args.rows:,} deals under 2 s: {'met' if worst < 2.0 else 'NOT met'} "
          f"(slowest {worst:.2f} s wall)")

if __name__ == "__main__":
    main()
