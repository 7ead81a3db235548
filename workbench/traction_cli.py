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
    """Write ``actuals/<month>.xlsx`` prefilled with the entered checkpoints due that month."""
    from workbench.config import load_engagement

    eng = load_engagement(args.path)
    lang = eng.lang
    if not MONTH_RE.match(args.month or ""):
        raise WorkbenchError(t("traction.bad_month", lang, value=args.month))
    from workbench.history import load_history
    from workbench.io import actuals, tables
    from workbench.traction import due_for_entry, map_titles

    checkpoints, source = actuals.find_plan(eng, args.month)
    history = load_history(eng.history_path)["checkpoints"]
    due = due_for_entry(checkpoints, args.month, history)
    seg_path = eng.work_dir / source / "segments.parquet"
    segments = tables.read_parquet(seg_path) if seg_path.is_file() else None
    from workbench.steps import load_result

    titles: dict[str, str] = {}
    if segments is not None:
        titles = map_titles(checkpoints, segments, lang, load_result(eng.work_dir / source, "maps"),
                            load_result(eng.work_dir / source, "cjm"))
    path = actuals.write_actuals(eng, args.month, due, titles, force=args.force)
    if len(due):
        print(t("traction.actuals_written", lang, path=str(path), n=len(due), source=source))
    else:
        print(t("traction.actuals_nothing_due", lang, month=args.month, path=str(path)))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``actuals`` command."""
    s = subparsers.add_parser("actuals", help="write actuals/<YYYY-MM>.xlsx for the consultant to fill in")
    s.add_argument("path", help="engagements/<slug>")
    s.add_argument("--month", required=True, help="reporting month YYYY-MM")
    s.add_argument("--force", action="store_true",
                   help="rewrite a file that already holds entries, keeping the values entered")
    s.set_defaults(func=cmd_actuals)


__all__ = ["cmd_actuals", "register"]
