"""Import benchmark (run by hand; never part of the tests).

Generates a 1C-style ledger (cp1251, ``;``, decimal commas, no-break-space thousands,
dd.mm.yyyy dates, INN with leading zeros, ~20k customers) of 1,000,000 rows into
benchmarks/out/, then times

  (a) the floor: ``pyarrow.csv.read_csv`` parsing the file, told its encoding and delimiter;
  (b) the full import: ``workbench.ingest.import_engagement`` on an engagement folder;

each in a fresh subprocess, alternating, best of --repeat; and the peak memory of each
(VmHWM of the child's own address space: ru_maxrss would also count the parent's
memory at the fork).

    .venv/bin/python benchmarks/import.py [--rows 1000000]
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
ENG = OUT / "import_engagement"
GENERATOR_VERSION = 1  # bump when ``generate`` changes: the file is made again


def generate(rows: int, path: Path, seed: int = 7) -> None:
    """Write the synthetic 1C export (vectorised: builds the text column by column)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_cust = 20_000
    forms = np.array(["ООО", "АО", "ИП", "ЗАО"])
    words = np.array(["Ромашка", "Вектор", "Северный ветер", "ТехСнаб", "Альфа", "Гранит", "Меридиан",
                      "Волга", "Строй-Сервис", "Орион"])
    cid = np.arange(n_cust)
    names = (pd.Series(forms[cid % 4]) + " «" + pd.Series(words[cid % 10]) + " " + pd.Series(cid).astype(str)
             + "»")
    inns = pd.Series(rng.integers(10**8, 10**10, n_cust)).astype(str).str.zfill(10)
    pick = rng.integers(0, n_cust, rows)
    days = rng.integers(0, 3 * 365, rows)
    dates = pd.Series(np.datetime64("2023-01-01") + days.astype("timedelta64[D]")).dt.strftime("%d.%m.%Y")
    cents = rng.integers(-20_000, 50_000_000, rows)
    whole = pd.Series(np.abs(cents) // 100)
    frac = pd.Series(np.abs(cents) % 100).astype(str).str.zfill(2)
    sign = pd.Series(np.where(cents < 0, "-", ""))
    grouped = whole.map("{:,}".format).str.replace(",", "\u00a0")
    amounts = sign + grouped + "," + frac
    qty = pd.Series(rng.integers(1, 100, rows)).astype(str)
    products = pd.Series(np.array([f"Товар {i}" for i in range(2000)])[rng.integers(0, 2000, rows)])
    managers = pd.Series(np.array(["Иванов И.", "Петрова А.", "Сидоров К.", "Кузнецова Е."])[
        rng.integers(0, 4, rows)])
    docs = "РТУ-" + pd.Series(np.arange(rows)).astype(str).str.zfill(7)
    body = (names[pick].reset_index(drop=True) + ";" + inns[pick].reset_index(drop=True) + ";" + dates + ";"
            + amounts + ";" + qty + ";" + products + ";" + managers + ";" + docs)
    header = "Контрагент;ИНН;Дата;Сумма;Количество;Номенклатура;Менеджер;Документ"
    text = header + "\r\n" + "\r\n".join(body.tolist()) + "\r\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("cp1251"))


FLOOR = r"""
import json, sys, time
PEAK = lambda: next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")) / 1024
import pyarrow as pa
import pyarrow.csv as pa_csv
t0 = time.perf_counter()
table = pa_csv.read_csv(sys.argv[1], read_options=pa_csv.ReadOptions(encoding="cp1251"),
                        parse_options=pa_csv.ParseOptions(delimiter=";"),
                        convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in sys.argv[2:]}))
t1 = time.perf_counter()
assert table.num_rows > 0
print(json.dumps({"floor_s": t1 - t0, "peak_mb": PEAK()}))
"""
COLUMNS = ["Контрагент", "ИНН", "Дата", "Сумма", "Количество", "Номенклатура", "Менеджер", "Документ"]

CHILD = r"""
import json, sys, time
PEAK = lambda: next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")) / 1024
t0 = time.perf_counter()
from workbench.config import load_engagement
from workbench.ingest import import_engagement
t1 = time.perf_counter()
res = import_engagement(load_engagement(sys.argv[1]))
t2 = time.perf_counter()
print(json.dumps({"import_s": t2 - t1, "startup_s": t1 - t0, "rows": len(res.ledger),
                  "customers": len(res.customers),
                  "peak_mb": PEAK()}))
"""


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter (cold caches, its own peak memory); its last line is JSON."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data = ENG / "data" / "sales.csv"
    stamp = ENG / "rows.txt"  # rows and generator version of the file on disk
    if not data.exists() or not stamp.exists() or stamp.read_text() != f"{args.rows} {GENERATOR_VERSION}":
        t0 = time.perf_counter()
        generate(args.rows, data)
        stamp.write_text(f"{args.rows} {GENERATOR_VERSION}")
        print(f"generated {args.rows:,} rows, {data.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
    (ENG / "engagement.yaml").write_text(
        'client: "Benchmark"\nlanguage: ru\ninputs:\n  sales:\n    file: data/sales.csv\n', encoding="utf-8")
    load_before = os.getloadavg()[0]
    # Side by side under the same conditions: each measurement in a fresh process (on this
    # VM first-touch memory is slow, so a warm process would flatter whichever ran warm),
    # floor and import alternating so that a busy spell hits both.
    floors, runs = [], []
    for _ in range(args.repeat):
        floors.append(child(FLOOR, str(data), *COLUMNS))
        runs.append(child(CHILD, str(ENG)))
    fl = min(f["floor_s"] for f in floors)
    imp = min(r["import_s"] for r in runs)
    pair = sorted(r["import_s"] / f["floor_s"] for f, r in zip(floors, runs))
    peak = max(r["peak_mb"] for r in runs)
    print(f"{'measure':<42}{'value':>12}")
    print(f"{'rows':<42}{runs[0]['rows']:>12,}")
    print(f"{'customers':<42}{runs[0]['customers']:>12,}")
    print(f"{'file size, MB':<42}{data.stat().st_size / 1e6:>12.0f}")
    print(f"{'(a) floor: pyarrow read_csv, s (best)':<42}{fl:>12.2f}")
    print(f"{'(b) import_engagement, s (best)':<42}{imp:>12.2f}")
    print(f"{'ratio (b)/(a), best against best':<42}{imp / fl:>12.1f}")
    print(f"{'ratio (b)/(a), median of the pairs':<42}{pair[len(pair) // 2]:>12.1f}")
    print(f"{'peak memory of (a), MB (VmHWM)':<42}{max(f['peak_mb'] for f in floors):>12.0f}")
    print(f"{'peak memory of (b), MB (VmHWM)':<42}{peak:>12.0f}")
    print(f"{'load average (1 min), before / after':<42}{f'{load_before:.2f} / {os.getloadavg()[0]:.2f}':>12}")
    print(f"{'goal':<42}{'<= 3x, < 1500 MB':>12}")


if __name__ == "__main__":
    main()
