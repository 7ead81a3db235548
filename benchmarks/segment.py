"""Benchmark of the segmentation (by hand: ``.venv/bin/python benchmarks/segment.py [sizes...]``).

Generates synthetic ledgers (100 k, 1 M, 5 M rows; one customer per 20 rows, three years of
history, 3 % returns, 70 % of rows with a document number) into ``benchmarks/out/`` (git-ignored)
and, for each size in a fresh subprocess, times:

* pyarrow.csv parsing the CSV (the floor for any import);
* the import: ``workbench.ingest.import_engagement`` when it exists, otherwise
  ``pandas.read_parquet`` of the canonical ledger (the table says which);
* ``workbench.segment.segment`` (ABC, XYZ, RFM, lifecycle, tiers, key accounts, texts);
* lifetimes' ``summary_data_from_transaction_data`` (RFM summary only; lifetimes is installed
  into the venv for this benchmark, it is not a project dependency);
* a plain hand-written pandas version of the same ABC / XYZ / RFM analysis.

Peak memory (ru_maxrss) of the segmentation alone (read parquet + segment) is measured in its
own subprocess per size. Prints one table.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
MONTH = "2026-06"
SIZES = {"100k": 100_000, "1M": 1_000_000, "5M": 5_000_000}


def generate(rows: int, seed: int = 7) -> pd.DataFrame:
    """A canonical ledger (LEDGER_COLUMNS) with Pareto-sized customers over three years."""
    from workbench import columns as C

    rng = np.random.default_rng(seed)
    n_cust = max(rows // 20, 10)
    weight = rng.pareto(1.3, n_cust) + 0.05
    cust = rng.choice(n_cust, rows, p=weight / weight.sum())
    day0 = np.datetime64("2023-07-01")
    days = rng.integers(0, 1096, rows)  # 2023-07-01 .. 2026-06-30
    amount = np.round(rng.gamma(2.0, 15_000.0, rows), 2)
    is_return = rng.random(rows) < 0.03
    amount = np.where(is_return, -amount, amount)
    ids = pd.Series(cust).map("C{:06d}".format)
    doc_no = rng.integers(0, rows // 3 + 1, rows)
    has_doc = rng.random(rows) < 0.7
    df = pd.DataFrame({
        C.CUSTOMER_ID: ids.astype("string"),
        C.CUSTOMER_NAME: ("ООО Клиент " + pd.Series(cust).astype(str)).astype("string"),
        C.INN: pd.Series(7700000000 + cust).astype(str).astype("string"),
        C.DATE: pd.to_datetime(day0 + days.astype("timedelta64[D]")),
        C.AMOUNT: amount,
        C.QUANTITY: rng.integers(1, 50, rows).astype(float),
        C.PRODUCT: pd.Series(rng.integers(0, 300, rows)).map("Товар {}".format).astype("string"),
        C.MANAGER: pd.Series(rng.integers(0, 20, rows)).map("Менеджер {}".format).astype("string"),
        C.MARGIN: np.round(amount * 0.25, 2),
        C.DOCUMENT: pd.Series(np.where(has_doc, pd.Series(doc_no).map("Д-{}".format), "")).astype("string"),
        C.IS_RETURN: is_return,
        C.SOURCE_FILE: "sales.csv",
        C.SOURCE_ROW: pd.Series(np.arange(rows) + 2).map("line {}".format).astype("string"),
    })
    return df[list(C.LEDGER_COLUMNS)]


CLIENT_COLUMNS = ["customer_name", "inn", "date", "amount", "quantity", "product", "manager", "margin", "document"]


def engagement_dir(label: str) -> Path:
    return OUT / f"eng_{label}"


def ensure_files(label: str, rows: int) -> tuple[Path, Path]:
    """The canonical ledger as Parquet, and the same sales as a client's CSV (dd.mm.yyyy dates)
    inside a small engagement folder for ``workbench.ingest``."""
    OUT.mkdir(parents=True, exist_ok=True)
    eng = engagement_dir(label)
    csv, parquet = eng / "data" / "sales.csv", OUT / f"ledger_{label}.parquet"
    if not (csv.exists() and parquet.exists()):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        df = generate(rows)
        df.to_parquet(parquet, index=False)
        client = df[CLIENT_COLUMNS].assign(date=df["date"].dt.strftime("%d.%m.%Y"))
        csv.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(pa.Table.from_pandas(client, preserve_index=False), csv)
    return csv, parquet


def engagement(label: str):
    from workbench.config import Engagement, validate

    raw = {"client": "Бенчмарк", "inputs": {"sales": {"file": "data/sales.csv",
                                                      "columns": {c: c for c in CLIENT_COLUMNS}}}}
    return Engagement(root=engagement_dir(label), settings=validate(raw, "benchmark"))


def plain_pandas(led: pd.DataFrame) -> pd.DataFrame:
    """The same ABC / XYZ / RFM analysis written the obvious way in pandas."""
    end = pd.Timestamp(f"{MONTH}-01") + pd.offsets.MonthEnd(0)
    start = pd.Timestamp(f"{MONTH}-01") - pd.DateOffset(months=11)
    w = led[(led["date"] >= start) & (led["date"] <= end)]
    g = w.groupby("customer_id").agg(revenue=("amount", "sum"), last=("date", "max"),
                                     orders=("document", "nunique"))
    g = g.sort_values(["revenue"], ascending=False)
    share = g["revenue"].clip(lower=0) / g["revenue"].clip(lower=0).sum()
    before = share.cumsum() - share
    g["abc"] = np.select([g["revenue"] <= 0, before < 0.8, before < 0.95], ["C", "A", "B"], "C")
    monthly = w.assign(m=w["date"].dt.to_period("M")).pivot_table(
        index="customer_id", columns="m", values="amount", aggfunc="sum", fill_value=0)
    cv = monthly.std(axis=1, ddof=0) / monthly.mean(axis=1)
    g["xyz"] = np.select([cv <= 0.1, cv <= 0.25], ["X", "Y"], "Z")
    g["recency"] = (end - g["last"]).dt.days
    for col, src, asc in (("r", "recency", False), ("f", "orders", True), ("m", "revenue", True)):
        ranked = g[src].rank(method="first", ascending=asc)
        g[col] = pd.qcut(ranked, 5, labels=False) + 1
    return g


def timed(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def child_times(label: str) -> dict:
    """Run in a subprocess: every timing for one size."""
    import pyarrow.csv as pacsv

    from workbench.config import defaults
    from workbench.segment import segment

    csv, parquet = engagement_dir(label) / "data" / "sales.csv", OUT / f"ledger_{label}.parquet"
    repeats = 3 if SIZES[label] <= 1_000_000 else 1
    res: dict = {"label": label}
    res["csv_pyarrow"], _ = timed(lambda: pacsv.read_csv(csv), repeats)
    try:
        from workbench.ingest import import_engagement

        eng = engagement(label)
        res["import_kind"] = "ingest"
        res["import"], imported = timed(lambda: import_engagement(eng), 1)
        res["import_rows"] = len(imported.ledger)
    except ImportError:
        res["import_kind"] = "read_parquet"
        res["import"], _ = timed(lambda: pd.read_parquet(parquet), repeats)
    led = pd.read_parquet(parquet)
    s = defaults()["segmentation"]
    res["segment"], seg = timed(lambda: segment(led, None, s, MONTH), repeats)
    res["customers"] = len(seg.customers)

    from lifetimes.utils import summary_data_from_transaction_data

    pos = led[led["amount"] > 0]
    res["lifetimes"], _ = timed(lambda: summary_data_from_transaction_data(
        pos, "customer_id", "date", monetary_value_col="amount", observation_period_end="2026-06-30"), repeats)
    res["plain_pandas"], _ = timed(lambda: plain_pandas(led), repeats)
    return res


def child_memory(label: str) -> dict:
    """Run in a subprocess: peak RSS of reading the canonical ledger and segmenting it."""
    from workbench.config import defaults
    from workbench.segment import segment

    led = pd.read_parquet(OUT / f"ledger_{label}.parquet")
    after_read = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    segment(led, None, defaults()["segmentation"], MONTH)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rss_after_read_mb": after_read / 1024, "rss_peak_mb": peak / 1024}


def run_child(mode: str, label: str) -> dict:
    out = subprocess.run([sys.executable, __file__, f"--{mode}", label], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(labels: list[str]) -> None:
    rows = []
    for label in labels:
        ensure_files(label, SIZES[label])
        r = run_child("times", label)
        r.update(run_child("memory", label))
        rows.append(r)
        print(f"  done {label}", file=sys.stderr)
    kind = rows[0]["import_kind"] if rows else ""
    print(f"\nSegmentation benchmark, reporting month {MONTH}, window 12 months "
          f"(best of 3 at <= 1M rows, 1 run at 5M; seconds)\n")
    head = (f"{'rows':>6} {'customers':>9} {'csv(pyarrow)':>12} {'import*':>8} {'segment':>8} "
            f"{'lifetimes':>9} {'plain pandas':>12} {'peak RSS MB':>11}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['label']:>6} {r['customers']:>9,} {r['csv_pyarrow']:>12.3f} {r['import']:>8.3f} "
              f"{r['segment']:>8.3f} {r['lifetimes']:>9.3f} {r['plain_pandas']:>12.3f} {r['rss_peak_mb']:>11,.0f}")
    print(f"\n* import = {kind}"
          + (" (workbench.ingest does not exist yet: pandas.read_parquet of the canonical ledger)"
             if kind == "read_parquet" else
             " (workbench.ingest.import_engagement on the client CSV, one run: parse, clean, validate, ids)"))
    print("peak RSS = read_parquet + segment in a fresh process (ru_maxrss)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("--times", "--memory"):
        result = child_times(sys.argv[2]) if sys.argv[1] == "--times" else child_memory(sys.argv[2])
        print(json.dumps(result))
    else:
        main(sys.argv[1:] or list(SIZES))
