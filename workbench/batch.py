"""``workbench batch``: rerun every engagement, in parallel, each isolated and time-limited.

Runs go through the Python API in long-lived worker processes sized to the cores
(a papermill CLI call per notebook would spend 1.2–1.8 s importing each time). One
failing engagement does not stop the others; two runs of one engagement never overlap
(the engagement lock refuses the second, naming the holder). A run past its time limit
(``--timeout``) is stopped with everything it started (kernels included) and reported like
a failed one; its worker is replaced, and the next command on that engagement settles the
interrupted run (``workbench.io.rununit``).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.i18n import LANGUAGES, t

DEFAULT_TIMEOUT = 1800  # seconds per engagement: a 1 M-row client runs in under 2 minutes


@dataclass(frozen=True)
class BatchRow:
    engagement: str
    status: str        # "ok" | "failed" | "no_data" (no sale in the month asked for: not a failure)
    seconds: float
    detail: str        # deliverables path, the one-line reason, or the newest month with data
    notice: str = ""   # for the consultant: files in data/ read as no input


def find_engagements(root: Path) -> list[Path]:
    """Engagement folders directly under ``root`` (those holding an engagement.yaml), sorted."""
    return sorted(p for p in Path(root).iterdir() if (p / "engagement.yaml").is_file()) if Path(root).is_dir() else []


def run_one(path: str, month: str | None, lang: str | None) -> BatchRow:
    """Run one engagement in a worker; never raises (the reason goes into the row)."""
    from workbench.errors import MonthWithoutData, WorkbenchError
    from workbench.run import run_engagement

    started = time.perf_counter()
    name = Path(path).name
    try:
        res = run_engagement(path, month=month, lang=lang, echo=lambda m: None)
    except MonthWithoutData as exc:
        return BatchRow(name, "no_data", time.perf_counter() - started, exc.latest, "\n".join(exc.notices))
    except WorkbenchError as exc:
        return BatchRow(name, "failed", time.perf_counter() - started, str(exc).strip().splitlines()[0])
    except Exception as exc:  # a bug must not stop the other clients
        return BatchRow(name, "failed", time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return BatchRow(name, "ok", time.perf_counter() - started, str(res.deliverables), "\n".join(res.notices))


def _serve(conn: Any) -> None:
    """A worker: run the engagements it is sent, one at a time, until it is sent None."""
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(run_one(*task))


class _Worker:
    """One worker process and the engagement it is running (None when idle)."""

    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,))
        self.proc.start()
        child.close()
        self.task: Path | None = None
        self.started = 0.0

    def give(self, path: Path, month: str | None, lang: str | None) -> None:
        self.conn.send((str(path), month, lang))
        self.task, self.started = path, time.monotonic()

    def stop(self) -> None:
        """Kill the worker and every process it started (the notebook kernels)."""
        import psutil

        try:
            procs = [psutil.Process(self.proc.pid)]
            procs += procs[0].children(recursive=True)
        except psutil.NoSuchProcess:
            procs = []
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(procs, timeout=10)
        self.proc.join(timeout=10)
        self.conn.close()


def run_batch(root: Path, month: str | None = None, jobs: int | None = None, lang: str | None = None,
              progress: bool = True, timeout: float | None = DEFAULT_TIMEOUT) -> list[BatchRow]:
    """Run every engagement under ``root`` with ``jobs`` parallel workers; return one row each.

    timeout : seconds per engagement (None or 0: no limit); a run past it is stopped and
        reported as failed.
    """
    # not at the module's import: every command builds its parser from here
    from multiprocessing import get_context
    from multiprocessing.connection import wait

    from tqdm import tqdm

    paths = find_engagements(root)
    jobs = max(1, jobs or os.cpu_count() or 1)
    rows: list[BatchRow] = []
    if not paths:
        return rows
    bar = tqdm(total=len(paths), unit="engagement", file=sys.stderr, disable=not progress)
    ctx = get_context("spawn")
    pending = list(paths)
    workers = [_Worker(ctx) for _ in range(min(jobs, len(paths)))]
    try:
        while pending or any(w.task for w in workers):
            for w in workers:
                if w.task is None and pending:
                    w.give(pending.pop(0), month, lang)
            busy = [w for w in workers if w.task is not None]
            left = min(w.started + timeout for w in busy) - time.monotonic() if timeout else None
            ready = wait([w.conn for w in busy], timeout=None if left is None else max(0.0, left))
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                elapsed = time.monotonic() - w.started
                if w.conn in ready:
                    try:
                        rows.append(w.conn.recv())
                    except (EOFError, OSError):  # the worker died (killed, out of memory)
                        rows.append(BatchRow(w.task.name, "failed", elapsed, t("batch.worker_died", _lang(w.task, lang))))
                        w.stop()
                        workers[i] = _Worker(ctx)
                    else:
                        w.task = None
                elif timeout and elapsed >= timeout:
                    rows.append(BatchRow(w.task.name, "failed", elapsed,
                                         t("batch.timed_out", _lang(w.task, lang), seconds=f"{timeout:g}")))
                    w.stop()
                    workers[i] = _Worker(ctx)
                else:
                    continue
                bar.update(1)
    finally:
        for w in workers:
            with contextlib.suppress(OSError, ValueError):
                w.conn.send(None)
        for w in workers:
            w.proc.join(timeout=30)
            if w.proc.is_alive():
                w.stop()
        bar.close()
    return sorted(rows, key=lambda r: r.engagement)


def _lang(path: Path, lang: str | None) -> str:
    """The language of a message about ``path``: the batch's, else the engagement's."""
    from workbench.cli import _lang_of

    return lang or _lang_of(str(path))


def render_table(rows: list[BatchRow], lang: str = "ru", month: str | None = None) -> str:
    """The summary table printed at the end of a batch: one row per engagement, then the
    engagements without data for ``month`` (with the newest month each has) and the notices."""
    head = [t("batch.engagement", lang), t("batch.status", lang), t("batch.duration", lang), t("batch.detail", lang)]
    body = [[r.engagement, t(f"batch.{r.status}", lang), f"{r.seconds:.1f} s",
             t("batch.no_data_detail", lang, latest=r.detail) if r.status == "no_data" else r.detail] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    widths[-1] = 0
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *body]]
    waiting = [r for r in rows if r.status == "no_data"]
    if waiting:
        lines.append(t("batch.no_data_title", lang, month=month or "?", n=len(waiting)))
        lines += ["  " + t("batch.no_data_line", lang, engagement=r.engagement, latest=r.detail) for r in waiting]
    for r in rows:  # files of an engagement's data/ read as no input, with the lines to set
        if r.notice:
            first, *rest = r.notice.splitlines()
            lines += [f"{r.engagement}: {first}", *rest]
    ok = sum(r.status == "ok" for r in rows)
    failed = sum(r.status == "failed" for r in rows)
    lines.append(t("batch.total", lang, ok=ok, failed=failed) if not waiting
                 else t("batch.total_no_data", lang, ok=ok, failed=failed, no_data=len(waiting)))
    return "\n".join(lines)


def cmd_batch(args: argparse.Namespace) -> int:
    lang = args.lang or "ru"
    rows = run_batch(Path(args.root), args.month, args.jobs, args.lang, timeout=args.timeout or None)
    print(render_table(rows, lang, args.month))
    return 0 if rows and all(r.status in ("ok", "no_data") for r in rows) else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("batch", help="rerun every engagement in a folder, in parallel")
    s.add_argument("root", help="the engagements folder")
    s.add_argument("--month", help="reporting month YYYY-MM (default: each engagement's latest)")
    s.add_argument("--jobs", type=int, default=None, help="parallel runs (default: the number of cores)")
    s.add_argument("--lang", choices=LANGUAGES)
    s.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"stop an engagement's run after this long and report it as failed "
                        f"(default {DEFAULT_TIMEOUT}; 0 = no limit)")
    s.set_defaults(func=cmd_batch)
