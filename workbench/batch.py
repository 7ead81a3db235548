"""``workbench batch``: rerun every engagement, in parallel, each isolated.

Runs go through the Python API in long-lived worker processes sized to the cores
(a papermill CLI call per notebook would spend 1.2–1.8 s importing each time). One
failing engagement does not stop the others; two runs of one engagement never overlap
(the engagement lock refuses the second, naming the holder).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from workbench.i18n import LANGUAGES, t


@dataclass(frozen=True)
class BatchRow:
    engagement: str
    status: str        # "ok" | "failed"
    seconds: float
    detail: str        # deliverables path, or the one-line reason


def find_engagements(root: Path) -> list[Path]:
    """Engagement folders directly under ``root`` (those holding an engagement.yaml), sorted."""
    return sorted(p for p in Path(root).iterdir() if (p / "engagement.yaml").is_file()) if Path(root).is_dir() else []


def run_one(path: str, month: str | None, lang: str | None) -> BatchRow:
    """Run one engagement in a worker; never raises (the reason goes into the row)."""
    from workbench.errors import WorkbenchError
    from workbench.run import run_engagement

    started = time.perf_counter()
    name = Path(path).name
    try:
        res = run_engagement(path, month=month, lang=lang, echo=lambda m: None)
    except WorkbenchError as exc:
        return BatchRow(name, "failed", time.perf_counter() - started, str(exc).strip().splitlines()[0])
    except Exception as exc:  # a bug must not stop the other clients
        return BatchRow(name, "failed", time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return BatchRow(name, "ok", time.perf_counter() - started, str(res.deliverables))


def run_batch(root: Path, month: str | None = None, jobs: int | None = None, lang: str | None = None,
              progress: bool = True) -> list[BatchRow]:
    """Run every engagement under ``root`` with ``jobs`` parallel workers; return one row each."""
    from tqdm import tqdm

    paths = find_engagements(root)
    jobs = max(1, jobs or os.cpu_count() or 1)
    rows: list[BatchRow] = []
    if not paths:
        return rows
    bar = tqdm(total=len(paths), unit="engagement", file=sys.stderr, disable=not progress)
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_one, str(p), month, lang) for p in paths]
        for fut in as_completed(futures):
            rows.append(fut.result())
            bar.update(1)
    bar.close()
    return sorted(rows, key=lambda r: r.engagement)


def render_table(rows: list[BatchRow], lang: str = "ru") -> str:
    """The summary table printed at the end of a batch."""
    head = [t("batch.engagement", lang), t("batch.status", lang), t("batch.duration", lang), t("batch.detail", lang)]
    body = [[r.engagement, t(f"batch.{r.status}", lang), f"{r.seconds:.1f} s", r.detail] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    widths[-1] = 0
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *body]]
    ok = sum(r.status == "ok" for r in rows)
    lines.append(t("batch.total", lang, ok=ok, failed=len(rows) - ok))
    return "\n".join(lines)


def cmd_batch(args: argparse.Namespace) -> int:
    lang = args.lang or "ru"
    rows = run_batch(Path(args.root), args.month, args.jobs, args.lang)
    print(render_table(rows, lang))
    return 0 if rows and all(r.status == "ok" for r in rows) else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("batch", help="rerun every engagement in a folder, in parallel")
    s.add_argument("root", help="the engagements folder")
    s.add_argument("--month", help="reporting month YYYY-MM (default: each engagement's latest)")
    s.add_argument("--jobs", type=int, default=None, help="parallel runs (default: the number of cores)")
    s.add_argument("--lang", choices=LANGUAGES)
    s.set_defaults(func=cmd_batch)
