"""Batch benchmark: 20 copies of the demo engagement with --jobs 1 and --jobs 2, in one run.

Run by hand (never in tests): ``.venv/bin/python benchmarks/batch.py [--copies 20]``.
Prints a table, then where the time of one engagement goes: kernel starts, imports in
the kernel, computation per notebook, and the conversion to report.html / workbook.xlsx.
Goals on a 2-core machine: two jobs at least 1.7x faster than one; one demo engagement
end to end under 15 s.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from workbench.batch import run_batch
from workbench.demo import create_demo
from workbench.run import run_engagement


def kernel_start_seconds(repeat: int = 3) -> float:
    """Median time papermill needs to start a kernel and run an empty cell."""
    import papermill

    from workbench.kernels import UniqueIPCKernelManager

    with tempfile.TemporaryDirectory() as tmp:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell("x = 1")]
        src = Path(tmp) / "empty.ipynb"
        nbformat.write(nb, src)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            papermill.execute_notebook(str(src), str(Path(tmp) / "out.ipynb"), kernel_name="python3",
                                       progress_bar=False, kernel_manager_class=UniqueIPCKernelManager)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def kernel_import_seconds(repeat: int = 3) -> float:
    """Median time a fresh interpreter needs to import what the notebooks import."""
    code = ("import time; t=time.perf_counter(); import pandas, matplotlib.pyplot, openpyxl, pyarrow;"
            "import workbench.steps, workbench.segment, workbench.maps, workbench.cjm, workbench.traction;"
            "import workbench.report.segment_report, workbench.report.maps_report; print(time.perf_counter()-t)")
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(repeat)]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    out = Path(__file__).resolve().parent / "out" / "batch"
    shutil.rmtree(out, ignore_errors=True)
    template = create_demo(out / "template" / "demo")

    # one engagement end to end, twice (the first warms the disk cache)
    single = []
    for _ in range(2):
        shutil.rmtree(template / "deliverables", ignore_errors=True)
        t0 = time.perf_counter()
        res = run_engagement(template, echo=lambda m: None)
        single.append((time.perf_counter() - t0, res.timings))
    wall, timings = single[-1]

    rows = []
    for jobs in (1, 2):
        root = out / f"jobs{jobs}"
        for i in range(args.copies):
            shutil.copytree(template, root / f"client{i:02d}",
                            ignore=shutil.ignore_patterns("deliverables", "work", "logs", "history.sqlite*"))
        t0 = time.perf_counter()
        result = run_batch(root, jobs=jobs, progress=False)
        elapsed = time.perf_counter() - t0
        ok = sum(r.status == "ok" for r in result)
        rows.append((jobs, elapsed, ok, len(result)))

    ks, ki = kernel_start_seconds(), kernel_import_seconds()
    print(f"machine: {os.cpu_count()} cores; demo engagement: 400 customers, 24 months\n")
    print(f"{'jobs':>4}  {'engagements':>11}  {'ok':>3}  {'wall s':>8}  {'s / engagement':>14}")
    for jobs, elapsed, ok, n in rows:
        print(f"{jobs:>4}  {n:>11}  {ok:>3}  {elapsed:>8.1f}  {elapsed / n:>14.2f}")
    print(f"\nspeed-up with two jobs: {rows[0][1] / rows[1][1]:.2f}x (goal >= 1.7x)")
    print(f"\none engagement end to end (workbench run): {wall:.1f} s (goal < 15 s)")
    notebooks = {k: v for k, v in timings.items() if k[:2].isdigit()}
    print(f"  import of the client files (in the run process): {timings['import']:.2f} s")
    for name, secs in notebooks.items():
        print(f"  {name:<14} {secs:5.2f} s")
    print(f"  report.html + workbook.xlsx (nbconvert, openpyxl): {timings['deliverables']:.2f} s")
    n = len(notebooks)
    compute = sum(notebooks.values()) - n * (ks + ki)
    print(f"  of the notebooks' {sum(notebooks.values()):.1f} s: kernel starts {n} x {ks:.2f} s = {n * ks:.1f} s, "
          f"imports in the kernel {n} x {ki:.2f} s = {n * ki:.1f} s, computation and charts ~{compute:.1f} s")


if __name__ == "__main__":
    main()
