"""``workbench actuals``: the monthly actuals workbook for the consultant to fill in.

Registered by ``workbench.cli`` when this module exists. Heavy libraries are imported
inside the command.
"""
from __future__ import annotations

import argparse
import re

from workbench.errors import WorkbenchError
from workbench.i18n import t

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def cmd_actuals(args: argparse.Namespace) -> int:
    """Write ``actuals/<month>.xlsx`` prefilled with the entered checkpoints due that month.

    Holds the engagement's lock: never while a run reads or replaces the plan.
    """
    from workbench.cli import engagement_session
    from workbench.config import load_engagement

    eng = load_engagement(args.path)
    lang = eng.lang
    if not MONTH_RE.match(args.month or ""):
        raise WorkbenchError(t("traction.bad_month", lang, value=args.month))
    with engagement_session(eng.root, f"workbench actuals {args.month}", lang):
        path, n, source = _write(eng, args.month, args.force)
    if n:
        print(t("traction.actuals_written", lang, path=str(path), n=n, source=source))
    else:
        print(t("traction.actuals_nothing_due", lang, month=args.month, path=str(path)))
    return 0


def _write(eng: object, month: str, force: bool) -> tuple[object, int, str]:
    from workbench.history import load_history
    from workbench.io import actuals, tables
    from workbench.steps import load_result
    from workbench.traction import due_for_entry, map_titles

    lang = eng.lang  # type: ignore[attr-defined]
    checkpoints, source = actuals.find_plan(eng, month)
    history = load_history(eng.history_path, lang)["checkpoints"]  # type: ignore[attr-defined]
    due = due_for_entry(checkpoints, month, history)
    step = eng.work_dir / source  # type: ignore[attr-defined]
    segments = tables.read_parquet(step / "segments.parquet") if (step / "segments.parquet").is_file() else None
    titles: dict[str, str] = {}
    if segments is not None:
        titles = map_titles(checkpoints, segments, lang, load_result(step, "maps", lang), load_result(step, "cjm", lang))
    path = actuals.write_actuals(eng, month, due, titles, force=force)
    return path, len(due), source


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``actuals`` command."""
    s = subparsers.add_parser("actuals", help="write actuals/<YYYY-MM>.xlsx for the consultant to fill in")
    s.add_argument("path", help="engagements/<slug>")
    s.add_argument("--month", required=True, help="reporting month YYYY-MM")
    s.add_argument("--force", action="store_true",
                   help="rewrite a file that already holds entries, keeping the values entered")
    s.set_defaults(func=cmd_actuals)


__all__ = ["cmd_actuals", "register"]
