"""The ``workbench`` command. Heavy libraries are imported inside the commands that need them."""
from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.i18n import LANGUAGES, t

SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
INPUT_NAMES = ("sales", "customers", "deals", "deal_history")  # --data NAME=FILE


def _lang_of(path: str | None) -> str:
    """The engagement's language for messages printed before it is loaded (default ru)."""
    if path:
        cfg = Path(path) / "engagement.yaml"
        if not cfg.is_file():  # a pipe would block the read
            return "ru"
        try:
            for line in cfg.read_text(encoding="utf-8").splitlines():
                if line.startswith("language:"):
                    value = line.split(":", 1)[1].split("#")[0].strip().strip("\"'")
                    if value in LANGUAGES:
                        return value
        except OSError:
            pass
    return "ru"


@contextlib.contextmanager
def engagement_session(root: Path, command: str, lang: str, settle: bool = True) -> Iterator[None]:
    """Hold the engagement's lock (refused while a run holds it) and, first, complete or undo a
    run killed earlier (``workbench.io.rununit.recover``), saying which on stderr."""
    from workbench.io.lock import EngagementLock

    with EngagementLock(root, command, lang):
        if settle:
            settle_interrupted(root, lang)
        yield


def settle_interrupted(root: Path, lang: str) -> None:
    from workbench.io.rununit import recover

    done = recover(root, lang)
    if done:
        print(done, file=sys.stderr)


# --- new ---------------------------------------------------------------------------------
def engagement_path(raw: str, lang: str) -> Path:
    """Validate ``engagements/<slug>``: a plain slug directly inside an engagements folder."""
    path = Path(raw)
    if ".." in path.parts or not SLUG_RE.match(path.name or ""):
        if ".." in path.parts:
            raise WorkbenchError(t("run.slug_escape", lang, value=raw))
        raise WorkbenchError(t("run.slug_invalid", lang, value=repr(path.name)))
    parent = path.parent.resolve()
    if path.resolve().parent != parent or path.resolve().name != path.name:
        raise WorkbenchError(t("run.slug_escape", lang, value=raw))  # a symlink elsewhere
    return path


def cmd_new(args: argparse.Namespace) -> int:
    from workbench.config import render_template

    lang = args.lang
    path = engagement_path(args.path, lang)
    if path.exists() and any(path.iterdir()):
        raise WorkbenchError(t("run.exists", lang, path=str(path)))
    inputs: dict[str, int] = {}  # input -> index in ``files`` of its first file
    files: list[Path] = []
    for spec in args.data or []:
        name, _, file = spec.partition("=") if "=" in spec and spec.split("=", 1)[0] in INPUT_NAMES \
            else ("", "", spec)
        src = Path(file)
        if not src.is_file():
            raise WorkbenchError(t("run.data_missing", lang, path=str(src)))
        name = name or ("sales" if "sales" not in inputs else "customers")
        if name != "sales" and name in inputs:  # one customers file, one deal export, one history
            raise WorkbenchError(t("run.exists", lang, path=f"inputs.{name}"))
        inputs.setdefault(name, len(files))  # more sales files: read through inputs.sales.files (data/*)
        files.append(src)
    from workbench.io import atomic
    from workbench.io.inputs import unique_name

    # Two files of one name (a/export.csv, b/export.csv) are stored under distinct names,
    # never one over the other; the new name is said.
    stored: list[str] = []
    for src in files:
        stored.append(unique_name(path / "data", src.name, set(stored)))
    (path / "data").mkdir(parents=True, exist_ok=True)
    for src, name in zip(files, stored):
        shutil.copy2(src, path / "data" / name)  # the client's file, byte for byte
        if name != src.name:
            print(t("run.data_renamed", lang, src=str(src), dst=f"data/{name}", name=src.name))

    def rel(kind: str) -> str:
        return f"data/{stored[inputs[kind]]}" if kind in inputs else ""

    sales = rel("sales") or ("" if "deals" in inputs else "data/sales.csv")
    text = render_template(args.client, lang, sales, rel("customers"), rel("deals"))
    if "deal_history" in inputs:  # the stage history of the deal export
        head, _, tail = text.partition("  deal_history:")
        tail = tail.replace('    file: ""', f'    file: {json.dumps(rel("deal_history"))}', 1)
        text = head + "  deal_history:" + tail
    atomic.write_text(path / "engagement.yaml", text)
    print(t("run.created", lang, path=str(path)))
    return 0


# --- add ------------------------------------------------------------------------------------
def cmd_add(args: argparse.Namespace) -> int:
    """Copy new exports into data/ (never overwriting) and check the import at once."""
    from workbench.config import load_engagement

    eng = load_engagement(engagement_path(args.path, _lang_of(args.path)))
    lang = eng.lang
    sources = [Path(f) for f in args.files]
    for src in sources:
        if not src.is_file():
            raise WorkbenchError(t("run.data_missing", lang, path=str(src)))
    from workbench.errors import InputError
    from workbench.ingest import render_report_text
    from workbench.io.inputs import copy_into
    from workbench.io.lock import EngagementLock
    from workbench.report import fmt
    from workbench.steps import import_step

    with EngagementLock(eng.root, "workbench add", lang):  # never under a running run
        added = []
        for src in sources:
            dst, how = copy_into(src, eng.data_dir)
            added.append(dst)
            print(t(f"run.add_{how}", lang, src=str(src), dst=dst.relative_to(eng.root).as_posix()))
        try:
            result = import_step(eng)
        except InputError:
            print(t("run.add_refused", lang), file=sys.stderr)
            raise
    print(render_report_text(result.report, lang))
    section = result.report.get("sales_files") or {}
    read = {f["path"]: f for f in section.get("files", [])}
    unmatched = {u["path"] for u in section.get("unmatched", [])}
    for dst in added:
        rel = dst.relative_to(eng.root).as_posix()
        if rel in read:
            f = read[rel]
            print(t("run.add_read", lang, file=rel, first=fmt.day(f["first"], lang), last=fmt.day(f["last"], lang),
                    rows=fmt.number(f["rows"], lang), used=fmt.number(f["rows_used"], lang)))
        elif rel in unmatched:
            print(t("run.add_unmatched", lang, file=rel))
    print(t("run.import_ok", lang, path=str(eng.work_dir)))
    return 0


# --- import --------------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace) -> int:
    from workbench.config import load_engagement

    eng = load_engagement(args.path)
    from workbench.errors import InputError
    from workbench.steps import import_step

    try:
        with engagement_session(eng.root, "workbench import", eng.lang):  # never under a running run
            result = import_step(eng)
    except InputError as exc:
        if not args.json:
            raise
        # machines read stdout: every problem with its code, place, value, what was expected and the fix
        print(json.dumps({"ok": False, "problems": [p.as_dict() for p in exc.problems]}, ensure_ascii=False,
                         indent=2))
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**result.report, "reused": result.reused}, ensure_ascii=False, indent=2, default=str))
    else:
        from workbench.ingest import render_report_text

        print(render_report_text(result.report, eng.lang))
        if result.reused:
            print(t("run.import_reused", eng.lang, path=str(eng.work_dir)))
        else:
            print(t("run.import_ok", eng.lang, path=str(eng.work_dir)))
    return 0


# --- segment --------------------------------------------------------------------------------
def cmd_segment(args: argparse.Namespace) -> int:
    """Import (or reuse the canonical tables), segment (or reuse this month's segmentation),
    write segments.csv and print the summary; says when something was reused."""
    from workbench import steps
    from workbench.config import load_engagement

    eng = load_engagement(args.path)
    if args.month and not MONTH_RE.match(args.month):
        raise WorkbenchError(t("run.bad_month", eng.lang, value=args.month))
    with engagement_session(eng.root, "workbench segment", eng.lang):  # never under a running run
        imported = steps.import_step(eng, wait=False)  # the tables are written while it segments
        try:
            if args.month:
                steps.check_month(imported.dates, args.month, args.lang or eng.lang, eng.root)
            month = args.month or imported.last_month
            ctx = steps.context(args.path, month, args.lang or "", out_dir=str(eng.deliverables_dir / month))
            summary, reused = steps.segment_reusing(ctx, imported)
        except BaseException:
            with contextlib.suppress(Exception):  # the segmentation's error is the one to tell
                imported.finish()
            raise
        imported.finish()
    summary = {**summary, "segments_csv": str(ctx.out_dir / "segments.csv")}
    if args.json:
        print(json.dumps({**summary, "reused": reused, "import_reused": imported.reused}, ensure_ascii=False,
                         indent=2))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
        if imported.reused and not reused:
            print(t("run.import_reused", ctx.lang, path=str(eng.work_dir)))
        if reused:
            print(t("run.segment_reused", ctx.lang, month=month))
    return 0


# --- run ------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from workbench.run import run_engagement

    res = run_engagement(args.path, month=args.month, lang=args.lang, pdf=args.pdf,
                         echo=lambda m: print(m, file=sys.stderr))
    _print_deliverables(res.deliverables, res.month, args.lang or _lang_of(args.path))
    return 0


def _print_deliverables(folder: Path, month: str, lang: str) -> None:
    print(t("run.deliverables", lang, month=month))
    for name in ("report.html", "report.pdf", "workbook.xlsx", "segments.csv", "notebooks"):
        p = folder / name
        if p.exists():
            print(f"  {p}")


# --- demo -----------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from workbench.demo import create_demo
    from workbench.run import run_engagement

    path = create_demo(Path(args.path))
    res = run_engagement(path, lang=args.lang, echo=lambda m: print(m, file=sys.stderr))
    print(t("run.demo_ready", "ru"))
    _print_deliverables(res.deliverables, res.month, args.lang or "ru")
    return 0


# --- workshop -------------------------------------------------------------------------------
def cmd_workshop(args: argparse.Namespace) -> int:
    """The workshop on a projector: Voilà serving the presentation view of one engagement (or a list)."""
    from workbench.config import load_engagement

    path = Path(args.path)
    engagement: Path | None = path
    if not (path / "engagement.yaml").is_file() and path.is_dir() and any(path.glob("*/engagement.yaml")):
        engagement, root, lang = None, path, args.lang or "ru"  # a folder of engagements: the room picks one
    else:
        eng = load_engagement(path)  # a broken engagement is refused here, not in front of the room
        root, lang = path.parent, args.lang or eng.lang
        if not (eng.work_dir / "ledger.parquet").is_file():
            from workbench.steps import import_step

            import_step(eng)
    try:
        import voila  # noqa: F401
    except ImportError as exc:
        raise WorkbenchError(t("workshop.no_voila", lang)) from exc
    from workbench.workshop.view import serve

    print(t("workshop.serving", lang, url=f"http://127.0.0.1:{args.port}/"), file=sys.stderr)
    serve(engagement, root, args.month or "", args.lang or "", args.port, open_browser=not args.no_browser)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench", description="B2B client-base workbench: "
                                "import, segmentation, development maps, CJM, traction.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("new", help="create an engagement folder with a documented engagement.yaml")
    s.add_argument("path", help="engagements/<slug>")
    s.add_argument("--client", required=True, help='client name, e.g. "ООО «Альфа»"')
    s.add_argument("--data", action="append", metavar="[sales=|customers=|deals=|deal_history=]FILE",
                   help="client export to copy into data/ (first: sales, second: customers; a CRM deal export "
                        "given as sales is recognised)")
    s.add_argument("--lang", choices=LANGUAGES, default="ru")
    s.set_defaults(func=cmd_new)

    s = sub.add_parser("add", help="copy new exports into data/ (never overwriting) and check the import at once")
    s.add_argument("path", help="engagements/<slug>")
    s.add_argument("files", nargs="+", metavar="FILE", help="the client's new exports")
    s.set_defaults(func=cmd_add)

    s = sub.add_parser("import", help="read and validate the inputs, print the import report")
    s.add_argument("path")
    s.add_argument("--json", action="store_true",
                   help="print the report as JSON; a refused import prints {ok: false, problems: [...]} and exits 1")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("segment", help="segment the base without notebooks; writes segments.csv")
    s.add_argument("path")
    s.add_argument("--month", help="reporting month YYYY-MM (default: latest)")
    s.add_argument("--lang", choices=LANGUAGES)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_segment)

    s = sub.add_parser("run", help="run the engagement's notebooks and write the deliverables")
    s.add_argument("path")
    s.add_argument("--month", help="reporting month YYYY-MM (default: the month of the latest sale)")
    s.add_argument("--lang", choices=LANGUAGES)
    s.add_argument("--pdf", action="store_true", help="also print the report to PDF (headless Chromium)")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("demo", help="generate the demo engagement and run it end to end")
    s.add_argument("path", nargs="?", default="engagements/demo")
    s.add_argument("--lang", choices=LANGUAGES)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("workshop", help="the workshop on a projector (Voilà): no code, large type, room's units")
    s.add_argument("path", nargs="?", default="engagements",
                   help="engagements/<slug>, or a folder of engagements to choose from (default: engagements)")
    s.add_argument("--month", help="reporting month YYYY-MM (default: the month of the latest sale)")
    s.add_argument("--lang", choices=LANGUAGES)
    s.add_argument("--port", type=int, default=8866)
    s.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    s.set_defaults(func=cmd_workshop)

    from workbench import batch, history_cli, traction_cli  # light: their commands import the heavy parts

    traction_cli.register(sub)
    history_cli.register(sub)
    batch.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkbenchError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OSError as exc:  # a file operation not foreseen by name: still one line, never a traceback
        from workbench.errors import os_reason

        lang = _lang_of(getattr(args, "path", None))
        print(t("run.os_error", lang, path=str(exc.filename or ""), reason=os_reason(exc, lang)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
