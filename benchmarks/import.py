"""Import benchmark (run by hand; never part of the tests).

Generates, into benchmarks/out/, three ledgers of the same sales (~20k customers):

  cp1251: a 1C-style CSV (cp1251, ``;``, decimal commas, no-break-space thousands,
          dd.mm.yyyy dates, INN with leading zeros) of --rows rows (1,000,000);
  utf8:   an English CSV (UTF-8, ``,``, decimal points, m/d/yyyy dates, Customer / Date /
          Amount headers) of --rows rows;
  xlsx:   the 1C layout as an Excel sheet (date and number cells) of --xlsx-rows rows (200,000);

then times, per format,

  (a) the floor: reading the file and nothing else: ``pyarrow.csv.read_csv`` told the
      encoding and delimiter (CSV), openpyxl's read-only row iteration (xlsx);
  (b) the full import: ``workbench.ingest.import_engagement`` on an engagement folder;

each in a fresh subprocess, alternating, best of --repeat; and the peak memory of each
(VmHWM of the child's own address space: ru_maxrss would also count the parent's
memory at the fork).

    .venv/bin/python benchmarks/import.py [--rows 1000000] [--xlsx-rows 200000] [--formats cp1251,utf8,xlsx]
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
GENERATOR_VERSION = 2  # bump when ``generate`` changes: the files are made again


def sales(rows: int, seed: int = 7) -> dict:
    """The synthetic sales as columns of values (vectorised), shared by the three formats."""
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
    cents = rng.integers(-20_000, 50_000_000, rows)
    return {"pick": pick, "names": names, "inns": inns,
            "dates": pd.Series(np.datetime64("2023-01-01") + days.astype("timedelta64[D]")),
            "cents": cents, "qty": rng.integers(1, 100, rows),
            "products": np.array([f"Товар {i}" for i in range(2000)])[rng.integers(0, 2000, rows)],
            "managers": np.array(["Иванов И.", "Петрова А.", "Сидоров К.", "Кузнецова Е."])[rng.integers(0, 4, rows)]}


def generate(rows: int, path: Path) -> None:
    """Write the synthetic 1C export (vectorised: builds the text column by column)."""
    import pandas as pd

    d = sales(rows)
    pick, names, inns = d["pick"], d["names"], d["inns"]
    dates = d["dates"].dt.strftime("%d.%m.%Y")
    cents = d["cents"]
    whole = pd.Series(np.abs(cents) // 100)
    frac = pd.Series(np.abs(cents) % 100).astype(str).str.zfill(2)
    sign = pd.Series(np.where(cents < 0, "-", ""))
    grouped = whole.map("{:,}".format).str.replace(",", "\u00a0")
    amounts = sign + grouped + "," + frac
    qty = pd.Series(d["qty"]).astype(str)
    products = pd.Series(d["products"])
    managers = pd.Series(d["managers"])
    docs = "РТУ-" + pd.Series(np.arange(rows)).astype(str).str.zfill(7)
    body = (names[pick].reset_index(drop=True) + ";" + inns[pick].reset_index(drop=True) + ";" + dates + ";"
            + amounts + ";" + qty + ";" + products + ";" + managers + ";" + docs)
    header = "Контрагент;ИНН;Дата;Сумма;Количество;Номенклатура;Менеджер;Документ"
    text = header + "\r\n" + "\r\n".join(body.tolist()) + "\r\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("cp1251"))


def generate_english(rows: int, path: Path) -> None:
    """The same sales as an English CSV: UTF-8, ``,``, decimal points, m/d/yyyy, quoted names."""
    import pandas as pd

    d = sales(rows)
    latin = pd.Series(["Acme", "Vector", "Northwind", "Techsupply", "Alpha", "Granite", "Meridian", "Volga",
                       "Buildserve", "Orion"])
    cid = np.arange(20_000)
    names = latin[cid % 10].reset_index(drop=True) + " " + pd.Series(cid).astype(str) + " Ltd"
    cents = d["cents"]
    amounts = pd.Series(np.where(cents < 0, "-", "")) + pd.Series(np.abs(cents) // 100).astype(str) + "." + \
        pd.Series(np.abs(cents) % 100).astype(str).str.zfill(2)
    dt = d["dates"]
    dates = dt.dt.month.astype(str) + "/" + dt.dt.day.astype(str) + "/" + dt.dt.year.astype(str)
    body = ('"' + names[d["pick"]].reset_index(drop=True) + '",' + d["inns"][d["pick"]].reset_index(drop=True) + ","
            + dates + "," + amounts + "," + pd.Series(d["qty"]).astype(str) + ",Item "
            + pd.Series(d["products"]).str[6:] + ",Rep " + pd.Series(d["managers"]).str[:3] + ",INV-"
            + pd.Series(np.arange(rows)).astype(str).str.zfill(7))
    text = "Customer,Tax ID,Date,Amount,Quantity,Product,Sales Rep,Invoice\n" + "\n".join(body.tolist()) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def generate_xlsx(rows: int, path: Path) -> None:
    """The 1C layout as an xlsx sheet: date cells, number cells, INN as text (openpyxl, write-only)."""
    from openpyxl import Workbook

    d = sales(rows)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Продажи")
    ws.append(["Контрагент", "ИНН", "Дата", "Сумма", "Количество", "Номенклатура", "Менеджер", "Документ"])
    names, inns = d["names"].to_numpy(), d["inns"].to_numpy()
    dates = d["dates"].dt.to_pydatetime()
    for i, (c, amount, qty, product, manager) in enumerate(zip(d["pick"].tolist(), (d["cents"] / 100).tolist(),
                                                              d["qty"].tolist(), d["products"].tolist(),
                                                              d["managers"].tolist())):
        ws.append([names[c], inns[c], dates[i], amount, qty, product, manager, f"РТУ-{i:07d}"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


FLOOR = r"""
import json, sys, time
PEAK = lambda: next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")) / 1024
import openpyxl
import pyarrow as pa
import pyarrow.csv as pa_csv
t0 = time.perf_counter()
if sys.argv[1].endswith(".xlsx"):
    wb = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
    n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
else:
    enc, sep = sys.argv[2], sys.argv[3]
    table = pa_csv.read_csv(sys.argv[1], read_options=pa_csv.ReadOptions(encoding=enc),
                            parse_options=pa_csv.ParseOptions(delimiter=sep),
                            convert_options=pa_csv.ConvertOptions(column_types={c: pa.string() for c in sys.argv[4:]}))
    n = table.num_rows
t1 = time.perf_counter()
assert n > 0
print(json.dumps({"floor_s": t1 - t0, "peak_mb": PEAK()}))
"""
COLUMNS = ["Контрагент", "ИНН", "Дата", "Сумма", "Количество", "Номенклатура", "Менеджер", "Документ"]
EN_COLUMNS = ["Customer", "Tax ID", "Date", "Amount", "Quantity", "Product", "Sales Rep", "Invoice"]
FORMATS = {  # name -> (file, generator, floor arguments after the path)
    "cp1251": ("sales.csv", generate, ["cp1251", ";", *COLUMNS]),
    "utf8": ("sales_en.csv", generate_english, ["utf8", ",", *EN_COLUMNS]),
    "xlsx": ("sales.xlsx", generate_xlsx, []),
}

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


def _engagement(fmt: str, rows: int) -> tuple[Path, Path]:
    """The format's engagement folder (its file made again when the rows or generator changed)."""
    name, make, _ = FORMATS[fmt]
    eng = OUT / ("import_engagement" if fmt == "cp1251" else f"import_engagement_{fmt}")
    data = eng / "data" / name
    stamp = eng / "rows.txt"
    if not data.exists() or not stamp.exists() or stamp.read_text() != f"{rows} {GENERATOR_VERSION}":
        t0 = time.perf_counter()
        make(rows, data)
        stamp.write_text(f"{rows} {GENERATOR_VERSION}")
        print(f"generated {fmt}: {rows:,} rows, {data.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
    (eng / "engagement.yaml").write_text(
        f'client: "Benchmark"\nlanguage: ru\ninputs:\n  sales:\n    file: data/{name}\n', encoding="utf-8")
    return eng, data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--formats", default="cp1251,utf8,xlsx")
    args = ap.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    load_before = os.getloadavg()[0]
    print(f"{'format':<8}{'rows':>11}{'MB':>6}{'floor s':>9}{'import s':>10}{'ratio':>7}{'median':>8}"
          f"{'peak MB':>9}{'floor MB':>10}")
    for fmt in formats:
        eng, data = _engagement(fmt, args.xlsx_rows if fmt == "xlsx" else args.rows)
        # Side by side under the same conditions: each measurement in a fresh process (on this
        # VM first-touch memory is slow, so a warm process would flatter whichever ran warm),
        # floor and import alternating so that a busy spell hits both.
        floors, runs = [], []
        for _ in range(args.repeat):
            floors.append(child(FLOOR, str(data), *FORMATS[fmt][2]))
            runs.append(child(CHILD, str(eng)))
        fl = min(f["floor_s"] for f in floors)
        imp = min(r["import_s"] for r in runs)
        pair = sorted(r["import_s"] / f["floor_s"] for f, r in zip(floors, runs))
        print(f"{fmt:<8}{runs[0]['rows']:>11,}{data.stat().st_size / 1e6:>6.0f}{fl:>9.2f}{imp:>10.2f}"
              f"{imp / fl:>7.1f}{pair[len(pair) // 2]:>8.1f}{max(r['peak_mb'] for r in runs):>9.0f}"
              f"{max(f['peak_mb'] for f in floors):>10.0f}")
    print(f"load average (1 min), before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}; "
          "goal: import within 3x the floor, peak under 1500 MB")


if __name__ == "__main__":
    main()
