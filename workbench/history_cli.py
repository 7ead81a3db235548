"""``workbench history``: look at the engagement's history and repair it.

    workbench history list ENGAGEMENT            the months stored, the plan start, the backups
    workbench history check ENGAGEMENT           integrity, schema and plan start; exit 1 with the way out
    workbench history drop ENGAGEMENT MONTH      remove one month (a backup is taken first)
    workbench history restore ENGAGEMENT [--backup FILE]   put the newest sound backup back
    workbench history plan-start ENGAGEMENT MONTH          move the plan start (the only way it moves)

Every command takes the engagement's lock (never under a running run). They need only the
folder and its engagement.yaml's language, so they work while the settings are invalid.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.i18n import t

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _engagement(args: argparse.Namespace) -> tuple[Path, str]:
    """(engagement root, language): only engagement.yaml's language is read, so the history
    can be repaired while the settings are invalid."""
    from workbench.cli import _lang_of
    from workbench.config import CONFIG_NAME
    from workbench.io.yamlfiles import check_regular

    root = Path(args.path).resolve()
    lang = _lang_of(str(root))
    if not check_regular(root / CONFIG_NAME, lang):
        raise WorkbenchError(t("config.no_file", lang, file=str(root / CONFIG_NAME)))
    return root, lang


def cmd_history(args: argparse.Namespace) -> int:
    from workbench.cli import engagement_session, settle_interrupted

    root, lang = _engagement(args)
    # a damaged history is restored first; a run killed earlier is settled after (it reads the history)
    with engagement_session(root, f"workbench history {args.action}", lang, settle=args.action != "restore"):
        code = _action(args, root, lang)
        if args.action == "restore":
            settle_interrupted(root, lang)
        return code


def _action(args: argparse.Namespace, root: Path, lang: str) -> int:
    from workbench import history

    db = root / "history.sqlite"
    if args.action == "list":
        return _list(db, lang)
    if args.action == "check":
        found = history.check(db, lang)
        if not db.exists():
            print(t("history.no_history", lang, file=str(db)))
            return 0
        print(t("history.ok", lang, file=str(db), n=len(found["months"]),
                plan_start=found["plan_start"] or t("history.not_set", lang)))
        return 0
    if args.action == "drop":
        month = _month(args.month, lang)
        saved = history.drop_month(db, month, lang)
        print(t("history.dropped", lang, month=month, file=str(db), backup=str(saved)))
        return 0
    if args.action == "restore":
        used, aside = history.restore(db, lang, args.backup)
        if aside is None:
            print(t("history.restored_new", lang, file=str(db), backup=str(used)))
        else:
            print(t("history.restored", lang, file=str(db), backup=str(used), aside=str(aside)))
        return 0
    if args.action == "plan-start":
        month = _month(args.month, lang)
        before = history.plan_start(db, lang) or t("history.not_set", lang)
        saved = history.set_plan_start(db, month, lang)
        print(t("history.plan_start_set", lang, file=str(db), month=month, before=before, backup=str(saved or "—")))
        configured = _configured_start(root)
        if configured:
            print(t("history.plan_start_config", lang, month=configured))
        return 0
    raise AssertionError(args.action)


def _list(db: Path, lang: str) -> int:
    from workbench import history

    if not history.check_file(db, lang):
        print(t("history.no_history", lang, file=str(db)))
        return 0
    runs = history.load_history(db, lang)["runs"]
    start = history.plan_start(db, lang) or t("history.not_set", lang)
    print(t("history.list_header", lang, file=str(db), n=len(runs), plan_start=start))
    head = list(t("history.list_columns", lang))
    rows = [[str(r.month), str(r.committed_at).replace("T", " ").split("+")[0], str(int(r.customers)),
             str(int(r.checkpoints)), str(r.plan_start) or "—"] for r in runs.itertuples(index=False)]
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    for row in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    found = history.backups(db)
    print(t("history.list_backups", lang, n=len(found), last=str(found[-1])) if found
          else t("history.list_no_backups", lang))
    return 0


def _month(value: str, lang: str) -> str:
    if not MONTH_RE.match(value or ""):
        raise WorkbenchError(t("history.bad_month", lang, value=value))
    return value


def _configured_start(root: Path) -> str:
    """maps.start_month from engagement.yaml ('' when unset or the settings do not load)."""
    from workbench.config import load_engagement

    try:
        return str(load_engagement(root).settings["maps"]["start_month"] or "")
    except WorkbenchError:
        return ""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``workbench history list | check | drop | restore | plan-start``."""
    s = subparsers.add_parser("history", help="look at and repair the engagement's history.sqlite")
    actions = s.add_subparsers(dest="action", required=True)
    a = actions.add_parser("list", help="the months stored, the plan start and the backups")
    a.add_argument("path", help="engagements/<slug>")
    a = actions.add_parser("check", help="check the database; exit 1 naming the way out")
    a.add_argument("path")
    a = actions.add_parser("drop", help="remove one month from the history (a backup is taken first)")
    a.add_argument("path")
    a.add_argument("month", help="YYYY-MM")
    a = actions.add_parser("restore", help="put the newest sound backup back (the replaced file is kept)")
    a.add_argument("path")
    a.add_argument("--backup", help="a backup file to restore instead of the newest")
    a = actions.add_parser("plan-start", help="move the plan start: the first month of the planning year")
    a.add_argument("path")
    a.add_argument("month", help="YYYY-MM")
    s.set_defaults(func=cmd_history)


__all__ = ["cmd_history", "register"]
