"""The steps of an engagement, as the notebooks call them.

Each step reads the previous step's results, calls the pure functions of its module,
and leaves its own results in the run's step folder: tables (Parquet), the result
object (for the workbook), and findings for the executive summary. Files are read and
written through ``workbench.io``; the analysis itself never sees a path.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import columns as C
from workbench.config import Engagement, load_engagement
from workbench.errors import WorkbenchError
from workbench.i18n import LANGUAGES, t
from workbench.io import tables

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Context:
    """Where one run of one month stands.

    engagement: the validated engagement
    month: reporting month 'YYYY-MM'
    lang: language of the deliverables
    step_dir: intermediate results of this run (work/<month> when run live)
    out_dir: deliverables of this run (work/<month>/preview when run live)
    """

    engagement: Engagement
    month: str
    lang: str
    step_dir: Path
    out_dir: Path

    @property
    def currency(self) -> str:
        return str(self.engagement.settings["currency"])

    @property
    def settings(self) -> dict[str, Any]:
        return self.engagement.settings


def context(engagement_dir: str, month: str = "", lang: str = "", step_dir: str = "",
            out_dir: str = "", refresh_import: bool = False) -> Context:
    """Build the Context a notebook works in (parameters as papermill passes them).

    Empty ``month`` means the month of the latest transaction (importing first if the
    canonical tables are missing); empty ``lang`` the engagement's language;
    ``refresh_import`` re-reads the client's files first (live use; ``workbench run``
    imports once before the notebooks).
    """
    eng = load_engagement(engagement_dir)
    if refresh_import:
        import_step(eng)
    lang = lang or eng.lang
    if lang not in LANGUAGES:
        raise WorkbenchError(t("run.bad_lang", "ru", value=lang, allowed=", ".join(LANGUAGES)))
    if not month:
        month = latest_month(eng)
    step = Path(step_dir) if step_dir else tables.month_dir(eng.work_dir, month)
    out = Path(out_dir) if out_dir else step / "preview"
    step.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return Context(eng, month, lang, step, out)


# --- import ---------------------------------------------------------------------------
IMPORT_KEY = "import.key.json"    # work/: what the canonical tables were made from
SEGMENT_KEY = "segment.key.json"  # work/<month>/: what `workbench segment` made them from
# Settings only later steps read: a change there keeps the import.
_AFTER_IMPORT = ("consultant", "segmentation", "maps", "cjm", "traction")


class Imported:
    """The canonical tables of an engagement: just imported, or reused from ``work/``.

    report: the import report (dict); reused: True when nothing the tables were made from
    changed since they were written (nothing was read again); key: what they were made
    from (``import_key``); rows, customer_count: sizes; first, last: 'YYYY-MM-DD' of the
    first and latest sale. ``ledger`` and ``customers`` are read from ``work/`` when first
    asked for (a reused import that is only reported never reads them).
    """

    def __init__(self, eng: Engagement, report: dict[str, Any], reused: bool, key: str, meta: dict[str, Any],
                 ledger: pd.DataFrame | None = None, customers: pd.DataFrame | None = None) -> None:
        self.engagement, self.report, self.reused, self.key = eng, report, reused, key
        self.rows, self.customer_count = int(meta["rows"]), int(meta["customers"])
        self.first, self.last = str(meta["first"]), str(meta["last"])
        self._ledger, self._customers = ledger, customers
        self._writer: Any = None
        self._failed: BaseException | None = None

    def _start(self, write: Any) -> None:
        """Write the tables in a thread (pyarrow writes without the interpreter lock)."""
        import threading

        def run() -> None:
            try:
                write()
            except BaseException as exc:  # raised again by finish()
                self._failed = exc

        self._writer = threading.Thread(target=run, name="workbench-write-import", daemon=False)
        self._writer.start()

    def finish(self) -> None:
        """Wait until the canonical tables are written (``import_step(wait=False)``); raise
        what writing them raised."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.join()
        failed, self._failed = self._failed, None
        if failed is not None:
            raise failed

    @property
    def ledger(self) -> pd.DataFrame:
        if self._ledger is None:
            self._ledger = tables.read_parquet(self.engagement.work_dir / "ledger.parquet", remember=True)
        return self._ledger

    @property
    def customers(self) -> pd.DataFrame:
        if self._customers is None:
            self._customers = tables.read_parquet(self.engagement.work_dir / "customers.parquet", remember=True)
        return self._customers

    def release(self) -> None:
        """Let go of the tables held in memory (they are read again from ``work/`` if asked for)."""
        self._ledger = self._customers = None
        tables.release_tables()  # else held while the kernel reads the same tables (the run's peak)

    @property
    def last_month(self) -> str:
        """'YYYY-MM' of the latest sale."""
        return self.last[:7]

    @property
    def dates(self) -> pd.DataFrame:
        """The first and the latest sale as a two-row frame (``date``), for ``check_month``."""
        import pandas as pd

        return pd.DataFrame({C.DATE: pd.to_datetime([self.first, self.last])})


def today() -> str:
    """Today's date, ISO (one place, so a test can play another day)."""
    import datetime as dt

    return dt.date.today().isoformat()


@dataclass(frozen=True)
class InputFiles:
    """The files an import of an engagement could read: every data file of ``data/``, the
    files named by ``inputs.sales.file`` / ``inputs.customers.file`` (which may be missing),
    and those ``inputs.sales.files`` patterns match (existing by construction)."""

    in_data: list[Path]
    named: list[Path]
    matched: list[Path]

    @property
    def all(self) -> list[Path]:
        return [*self.in_data, *self.named, *self.matched]


def input_files(eng: Engagement) -> InputFiles:
    """What :class:`InputFiles` lists for ``eng`` (directory listings and globs, no reading)."""
    from workbench.io import inputs

    named = [path for path in (eng.input_path(kind) for kind in ("sales", "customers")) if path is not None]
    matched = [path for item in eng.settings["inputs"]["sales"]["files"]
               for path in inputs.expand(eng.root, item["file"] if isinstance(item, dict) else str(item))]
    return InputFiles(list(inputs.data_files(eng.data_dir)), named, matched)


def import_key(eng: Engagement, files: InputFiles | None = None) -> str:
    """What an import of ``eng`` is made from, as one digest: the bytes of every file it could
    read (``files``, by default ``input_files(eng)``: one of ``data/`` not read as an input is
    still named in the report), the settings the
    import reads (all but those of the later steps; today's date when ``import.max_date`` is
    not set, as the import refuses later dates), the history's ``runs`` table (the
    months already reported decide what the report calls a correction) and the code."""
    from workbench.io import cache

    paths = (files or input_files(eng)).all
    settings = {k: v for k, v in eng.settings.items() if k not in _AFTER_IMPORT}
    if not (eng.settings.get("import") or {}).get("max_date"):
        settings["today"] = today()  # the default max_date: dates after today are refused
    return cache.digest({"code": cache.code_version(), "settings": settings,
                         "files": cache.files_digest(eng.root, paths),
                         "history": cache.table_digest(eng.history_path, "runs")})


def _refuse_when_nothing_to_read(eng: Engagement, files: InputFiles) -> None:
    """Refuse at once, before pandas and the readers load (half a second), when no file the
    import could read exists: ``data/`` holds no data file, no pattern matches and every named
    input is missing. The problems are the ones the full import would list (each named file
    not found)."""
    from workbench.errors import InputError, Problem

    if files.in_data or files.matched or eng.input_path("sales") is None \
            or any(path.exists() for path in files.named):
        return
    raise InputError([Problem(kind="not_found", file=path.name, value=path.name) for path in files.named],
                     eng.lang)


def _refuse_headerless(eng: Engagement) -> None:
    """Refuse before pandas loads when the only inputs are named sales files whose first rows
    name no column the import knows (``workbench.ingest.preflight``): the same problems the
    full import would list, in 0.25 s instead of 0.55 s."""
    from workbench.errors import InputError
    from workbench.ingest.preflight import headerless_problems

    problems = headerless_problems(eng)
    if problems:
        raise InputError(problems, eng.lang)


def import_step(eng: Engagement, reuse: bool = True, wait: bool = True) -> Imported:
    """Import the engagement's inputs and write the canonical tables; return them.

    When nothing they are made from changed (``import_key``) and ``work/`` still holds them
    as written, they are reused and nothing is read (``Imported.reused``); ``reuse=False``
    imports in any case. ``wait=False``: the tables are written by a thread while the caller
    goes on with the frames in memory (``Imported.ledger``); the caller calls
    ``Imported.finish()`` before anything reads ``work/``. Raises InputError as
    ``workbench.ingest.import_engagement``.
    """
    from workbench.io import cache

    work = eng.work_dir
    keyfile = work / IMPORT_KEY
    files = input_files(eng)
    key = import_key(eng, files)  # before reading: a file changed meanwhile is read again next time
    if reuse:
        meta = cache.lookup(keyfile, key, eng.root)
        if meta is not None:
            return Imported(eng, tables.read_json(work / "import_report.json"), True, key, meta)
    _refuse_when_nothing_to_read(eng, files)
    _refuse_headerless(eng)
    from workbench.ingest import import_engagement, write_import

    cache.forget(keyfile)
    result = import_engagement(eng)
    dates = result.ledger[C.DATE]
    meta = {"rows": len(result.ledger), "customers": len(result.customers),
            "first": dates.min().strftime("%Y-%m-%d"), "last": dates.max().strftime("%Y-%m-%d")}

    def write() -> None:
        write_import(eng, result)
        tables.keep(work / "ledger.parquet", result.ledger)  # the next step segments it from memory
        tables.keep(work / "customers.parquet", result.customers)
        cache.store(keyfile, key, eng.root, [work / "ledger.parquet", work / "customers.parquet",
                                             work / "import_report.json"], meta)

    imported = Imported(eng, result.report, False, key, meta, result.ledger, result.customers)
    if wait:
        write()
    else:
        imported._start(write)
    return imported


def latest_month(eng: Engagement) -> str:
    """The month of the latest transaction ('YYYY-MM'); imports first if needed."""
    ledger_path = eng.work_dir / "ledger.parquet"
    if not ledger_path.is_file():
        import_step(eng)
    return month_of_latest_sale(tables.read_parquet_columns(ledger_path, [C.DATE]))


def month_of_latest_sale(ledger: pd.DataFrame, up_to_today: bool = True) -> str:
    """'YYYY-MM' of the latest date in a ledger (any frame with the ``date`` column).

    As the default reporting month (``up_to_today``), dates after today (let in with
    ``import.max_date``) never choose it: the latest one up to today does, unless every date
    is later. ``up_to_today=False``: the latest date whatever it is (the last month with data).
    """
    import pandas as pd

    dates = ledger[C.DATE]
    if up_to_today:
        past = dates[dates <= pd.Timestamp.today().normalize()]
        dates = past if len(past) else dates
    return pd.Timestamp(dates.max()).strftime("%Y-%m")


def check_month(ledger: pd.DataFrame, month: str, lang: str, root: Path | str = "") -> None:
    """Refuse a reporting month outside the ledger: before its first sale or after its last.

    A month before the data would be stored in the history with no customers and report on
    a plan that never existed. After the last sale: ``MonthWithoutData`` (its export has not
    come yet; ``root``: the engagement folder, named in the way out: ``workbench add``).
    ``ledger``: any frame with the ``date`` column (``Imported.dates`` will do).
    """
    import pandas as pd

    from workbench.errors import MonthWithoutData

    first = pd.Timestamp(ledger[C.DATE].min()).strftime("%Y-%m")
    latest = month_of_latest_sale(ledger, up_to_today=False)
    if month > latest:
        raise MonthWithoutData(t("run.month_no_data", lang, month=month, latest=latest, path=str(root or "…")),
                               month, latest)
    if month < first:
        raise WorkbenchError(t("run.month_before_data", lang, month=month, first=first))


def load_import_report(ctx: Context) -> dict[str, Any]:
    return tables.read_json(ctx.engagement.work_dir / "import_report.json")


def load_ledger(ctx: Context) -> pd.DataFrame:
    """The canonical ledger (kept in memory for the next step while the file is unchanged)."""
    return tables.read_parquet(ctx.engagement.work_dir / "ledger.parquet", remember=True)


def load_customers(ctx: Context) -> pd.DataFrame:
    return tables.read_parquet(ctx.engagement.work_dir / "customers.parquet", remember=True)


IMPORT_REPORT = "import_report.json"  # this run's copy of the import report (work/<month>/)


def import_summary(ctx: Context) -> dict[str, Any]:
    """The last import report, for the notebook; saves the import findings."""
    from workbench.ingest import import_findings

    report = load_import_report(ctx)
    save_findings(ctx, "import", import_findings(report, ctx.lang, ctx.currency))
    tables.write_json(report, ctx.step_dir / IMPORT_REPORT)  # the workbook's import and duplicates sheets
    return report


# --- results between steps ------------------------------------------------------------
def save_result(ctx: Context, name: str, result: Any) -> None:
    """Keep a step's result object for the workbook built at the end of this run.

    Stored as data (JSON and Parquet, ``workbench.io.results``), never pickled: an
    engagement folder must not be able to run code when it is read.
    """
    from workbench.io.results import write_result

    write_result(ctx.step_dir, name, result)


def load_result(step_dir: Path, name: str, lang: str = "ru") -> Any:
    """Load a result saved by ``save_result`` in ``step_dir``; None when there is none."""
    from workbench.io.results import read_result

    return read_result(step_dir, name, lang)


def save_findings(ctx: Context, step: str, findings: list[dict[str, Any]]) -> None:
    for f in findings:
        f.setdefault("step", step)
    tables.write_json(findings, ctx.step_dir / "findings" / f"{step}.json")


def load_findings(step_dir: Path) -> list[dict[str, Any]]:
    folder = Path(step_dir) / "findings"
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        out.extend(tables.read_json(path))
    return out


# --- segmentation ---------------------------------------------------------------------
def segment_step(ctx: Context, imported: Imported | None = None) -> Any:
    """Segment the base as of ctx.month; write segments.csv to the deliverables.

    imported: the canonical tables in memory (``import_step``); default: read from ``work/``.
    """
    from workbench.io.csvout import write_csv_for_excel
    from workbench.report.segment_report import segment_findings
    from workbench.segment import segment, segments_csv_frame

    ledger = imported.ledger if imported is not None else load_ledger(ctx)
    customers = imported.customers if imported is not None else load_customers(ctx)
    res = segment(ledger, customers, ctx.settings["segmentation"], ctx.month, ctx.lang)
    tables.write_parquet(res.customers, ctx.step_dir / "segments.parquet", remember=True)
    write_csv_for_excel(segments_csv_frame(res, ctx.lang), ctx.out_dir / "segments.csv")
    save_result(ctx, "segment", res)
    save_findings(ctx, "segment", segment_findings(res, ctx.lang, ctx.currency, production_date()))
    return res


def segment_summary(res: Any) -> dict[str, Any]:
    """What ``workbench segment`` prints: the counts the report and the workbook show (from
    one place, ``SegmentationResult.counts``), revenue now and before, key accounts."""
    n = res.counts
    return {"month": res.month, "customers": n["customers"], "bought_in_window": n["in_mix"],
            "revenue": round(res.bridge["now"], 2), "revenue_prev": round(res.bridge["prev"], 2),
            "mix": {k: n[f"mix.{k}"] for k in ("vip", "strategic", "typical", "ballast")},
            "lifecycle": {k: n[f"lifecycle.{k}"] for k in ("new", "active", "sleeping", "lost")},
            "abc": {k: n[f"abc.{k}"] for k in "ABC"},
            "key_accounts": n["key_accounts"]}


def segment_reusing(ctx: Context, imported: Imported) -> tuple[dict[str, Any], bool]:
    """``segment_step`` unless this month was segmented from the same tables with the same
    settings and its files stand as written; returns (``segment_summary``, reused).

    The key: the import's (``Imported.key``), the segmentation settings, currency, language,
    month, the folders written and the code.
    """
    from workbench.io import cache

    eng = ctx.engagement
    key = cache.digest({"import": imported.key, "segmentation": ctx.settings["segmentation"],
                        "currency": ctx.currency, "lang": ctx.lang, "month": ctx.month, "code": cache.code_version(),
                        "produced": production_date().isoformat(),  # no finding falls due before it
                        "step_dir": str(ctx.step_dir), "out_dir": str(ctx.out_dir)})
    keyfile = ctx.step_dir / SEGMENT_KEY
    meta = cache.lookup(keyfile, key, eng.root)
    if meta is not None and isinstance(meta.get("summary"), dict):
        return meta["summary"], True
    cache.forget(keyfile)
    res = segment_step(ctx, imported)
    summary = segment_summary(res)
    from workbench.io.results import RESULTS_DIR

    cache.store(keyfile, key, eng.root, [
        ctx.step_dir / "segments.parquet", ctx.step_dir / RESULTS_DIR / "segment.json",
        ctx.step_dir / RESULTS_DIR / "segment", ctx.step_dir / "findings" / "segment.json",
        ctx.out_dir / "segments.csv"], {"summary": summary})
    return summary, False


def load_segments(ctx: Context) -> pd.DataFrame:
    path = ctx.step_dir / "segments.parquet"
    if not path.is_file():
        segment_step(ctx)
    return tables.read_parquet(path, remember=True)


# --- the sales funnel (a CRM deal export) ------------------------------------------------
FUNNEL_KPIS = "funnel_kpis.json"  # the month's funnel KPIs, stored in the history with the run


def load_deals(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None] | None:
    """(deals, stages, stage history or None) of the last import; None without a deal export."""
    deals = deals_table(ctx)
    if deals is None:
        return None
    work = ctx.engagement.work_dir
    history = work / "deal_history.parquet"
    return (deals, tables.read_parquet(work / "deal_stages.parquet"),
            tables.read_parquet(history) if history.is_file() else None)


def deals_table(ctx: Context) -> pd.DataFrame | None:
    """The deals of the last import (``work/deals.parquet``); None without a deal export."""
    path = ctx.engagement.work_dir / "deals.parquet"
    return tables.read_parquet(path) if path.is_file() else None


def deals_kpis(ctx: Context, deals: pd.DataFrame | None = None) -> Any:
    """``with deals_kpis(ctx):`` lays the deal export (``deals``, by default ``deals_table``)
    out for the funnel KPIs (``workbench.kpis.deals_context``); without one they have no data."""
    from workbench.kpis import deals_context

    return deals_context(deals if deals is not None else deals_table(ctx))


def funnel_step(ctx: Context) -> Any:
    """The funnel of the engagement's deal export as of ctx.month (None without one); keeps
    the result for the workbook, the findings, and the month's funnel KPIs for the history."""
    import dataclasses

    from workbench.funnel import funnel
    from workbench.report.funnel_report import funnel_findings

    loaded = load_deals(ctx)
    if loaded is None:
        return None
    deals, stages, history = loaded
    crm = str((load_import_report(ctx).get("deals") or {}).get("crm", ""))
    cfg = ctx.settings["deals"]
    res = funnel(deals, stages, history, load_segments(ctx), ctx.month,
                 int(ctx.settings["segmentation"]["window_months"]), float(cfg["stalled_factor"]))
    res = dataclasses.replace(res, crm=t(f"deals.crm.{crm}", ctx.lang) if crm else "CRM")
    save_result(ctx, "funnel", res)
    save_findings(ctx, "funnel", funnel_findings(res, ctx.lang, ctx.currency))
    tables.write_json(res.monthly.to_dict("records"), ctx.step_dir / FUNNEL_KPIS)
    return res


# --- development maps -----------------------------------------------------------------
def plan_start(ctx: Context, produced: Any = None) -> str:
    """The first month of the planning year ('YYYY-MM').

    ``maps.start_month`` when set; otherwise the plan start pinned in the history by its
    first commit (it moves only by ``workbench history plan-start``, so the plan stays put
    from month to month and its checkpoints fall due, whatever month is run); otherwise, on
    the first run, the first full month after the report is produced (``produced``, default
    today, see :func:`production_date`), never before the month after the reporting month
    (``workbench.maps.calendar.default_plan_start``).
    """
    import pandas as pd

    configured = str(ctx.settings["maps"]["start_month"] or "")
    if configured:
        return configured
    from workbench.history import plan_start as pinned
    from workbench.maps.calendar import default_plan_start

    return pinned(ctx.engagement.history_path, ctx.lang) or default_plan_start(ctx.month, produced or production_date())


PRODUCTION_DATE_ENV = "WORKBENCH_TODAY"


def production_date() -> Any:
    """The day the deliverables are produced: today, or ``WORKBENCH_TODAY`` (YYYY-MM-DD) when
    set, so that a run can be reproduced as of a given day (the tests pin it; the plan's
    default start depends on it). A malformed value is refused naming the variable."""
    import datetime as _dt
    import os

    value = os.environ.get(PRODUCTION_DATE_ENV, "").strip()
    if not value:
        return _dt.date.today()
    try:
        return _dt.date.fromisoformat(value)
    except ValueError as exc:
        raise WorkbenchError(t("config.expected_date", "ru", key=PRODUCTION_DATE_ENV, value=value)) from exc


def load_contacts(ctx: Context, segments: pd.DataFrame) -> Any:
    """The contact log (``inputs.activities``) parsed against the segments, or None."""
    path = ctx.engagement.input_path("activities")
    if path is None:
        return None
    from workbench.io.activitylog import read_activity_log
    from workbench.maps.contacts import parse_activity_log

    spec = ctx.settings["inputs"]["activities"]
    raw = read_activity_log(path, str(spec["file"]), spec["sheet"], spec["columns"], ctx.lang)
    return parse_activity_log(raw, segments, ctx.lang)


def plan_step(ctx: Context) -> tuple[Any, Any, Any]:
    """Draft the plan a team can carry out: the development maps (dossiers, contact checks and
    individual maps only for the key accounts a KAM can carry, ``segmentation.key_accounts.kam_max``
    each; the rest listed as waiting for a KAM), the CJMs (personalised from the maps' customer
    facts), one owner per segment checked, and the workload within
    ``maps.max_tasks_per_person_month``. Keeps the checkpoints of both, their results and
    findings; returns (maps result, CJM result, workload)."""
    from workbench.cjm import build_cjms, check_owners, load_cjm_templates
    from workbench.config import TEMPLATES_DIR
    from workbench.io.yamlfiles import read_map_overrides
    from workbench.maps import draft_maps, load_map_templates
    from workbench.maps.workload import plan_workload
    from workbench.report.cjm_report import cjm_findings
    from workbench.report.maps_report import maps_findings

    eng = ctx.engagement
    templates = load_map_templates(TEMPLATES_DIR / "maps", eng.root / "templates" / "maps")
    stages, measured = cjm_funnel_stages(ctx)  # with a deal export: the client's open stages, measured
    cjm_templates = load_cjm_templates(TEMPLATES_DIR / "cjm", eng.root, stages, ctx.lang)
    check_owners(cjm_templates, templates, ctx.lang)
    overrides = read_map_overrides(eng)
    start = plan_start(ctx)
    settings = {**ctx.settings["maps"], "start_month": start}
    segments = load_segments(ctx)
    ledger = load_ledger(ctx)
    seg_settings = ctx.settings["segmentation"]
    deals = deals_table(ctx)  # the maps' funnel KPIs and the nurturing's open deals and enquiries
    with deals_kpis(ctx, deals):  # funnel KPIs a map may target are measured on the deal export
        maps = draft_maps(segments, ledger, settings, ctx.month, templates,
                          ctx.lang, overrides=overrides,
                          jump_threshold=float(seg_settings["tiers"]["prospect_trend"]),
                          contacts=load_contacts(ctx, segments), window_months=int(seg_settings["window_months"]),
                          kam_max=int(seg_settings["key_accounts"]["kam_max"]))
    nurturing_deals = None if deals is None else deals[[C.CUSTOMER_ID, C.OUTCOME, C.CREATED]].rename(
        columns={C.OUTCOME: "status"})
    cjm = build_cjms(segments, cjm_templates, ctx.month, ctx.lang, plan_start=start, profiles=maps.profiles,
                     deals=nurturing_deals, individual_ids=maps.kam_accounts, measured=measured)
    maps, cjm, workload = plan_workload(maps, cjm, segments, int(ctx.settings["maps"]["max_tasks_per_person_month"]),
                                        ctx.lang)
    tables.write_parquet(maps.checkpoints, ctx.step_dir / "checkpoints_maps.parquet")
    tables.write_parquet(cjm.tasks, ctx.step_dir / "checkpoints_cjm.parquet")
    save_result(ctx, "maps", maps)
    save_result(ctx, "cjm", cjm)
    save_findings(ctx, "maps", maps_findings(maps, ctx.lang, ctx.currency))
    save_findings(ctx, "cjm", cjm_findings(cjm, ctx.lang))
    return maps, cjm, workload


def maps_step(ctx: Context) -> Any:
    """Draft the development maps for the planning year (with the CJMs and the workload: see
    :func:`plan_step`); keep the checkpoints."""
    return plan_step(ctx)[0]


# --- CJM --------------------------------------------------------------------------------
def cjm_columns(eng: Engagement) -> list[dict[str, Any]]:
    """The CJM's columns for an engagement: ``cjm.stages`` when set; else, with a deal export
    (and ``deals.cjm_stages``), the open stages of the client's main pipeline in funnel order
    (``workbench.funnel.cjm_stages``); else ``[]``, the hourglass. The templates (and the
    workshop, which edits them) speak of the hourglass stages; each client stage names the
    hourglass stage it stands for, so their cells land in the client's columns."""
    configured = list(eng.settings["cjm"]["stages"])
    work = eng.work_dir
    if configured or not eng.settings["deals"]["cjm_stages"] or not (work / "deal_stages.parquet").is_file():
        return configured
    from workbench.funnel import cjm_stages, main_pipeline

    deals = tables.read_parquet_columns(work / "deals.parquet", [C.PIPELINE])
    return cjm_stages(tables.read_parquet(work / "deal_stages.parquet"), main_pipeline(deals)) or configured


def cjm_funnel_stages(ctx: Context) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """The CJM's columns (``cjm_columns``) and what the client's deals show per column (the
    measured conversion, days in stage and deals now; None without a deal export)."""
    funnel_res = load_result(ctx.step_dir, "funnel")
    if funnel_res is None:
        return cjm_columns(ctx.engagement), None
    from workbench.report.funnel_report import cjm_measured

    return cjm_columns(ctx.engagement), cjm_measured(funnel_res, ctx.lang, ctx.currency)


def cjm_step(ctx: Context) -> Any:
    """The CJM tables per tier and per individual-map customer, from the plan this run drafted
    (drafted again when the maps step has not run)."""
    cjm = load_result(ctx.step_dir, "cjm")
    if cjm is None or load_result(ctx.step_dir, "maps") is None:
        cjm = plan_step(ctx)[1]
    return cjm


# --- traction -----------------------------------------------------------------------------
def load_checkpoints(step_dir: Path) -> pd.DataFrame:
    """The checkpoints of this run: development maps then CJM task lists (CHECKPOINT_COLUMNS)."""
    import pandas as pd

    frames = [tables.read_parquet(p) for p in (Path(step_dir) / "checkpoints_maps.parquet",
                                               Path(step_dir) / "checkpoints_cjm.parquet") if p.is_file()]
    frames = [f[list(C.CHECKPOINT_COLUMNS)] for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in (C.BASELINE, C.TARGET) else "string")
                             for c in C.CHECKPOINT_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def traction_step(ctx: Context) -> Any:
    """Measure every checkpoint against its target, the segment migration and ROMI; keep the
    files ``workbench.history.commit_snapshot`` stores when the run succeeds."""
    from workbench.history import TRACTION_CHECKPOINTS, TRACTION_MEMBERS, TRACTION_RUN, load_history
    from workbench.io.actuals import actuals_path, read_actuals
    from workbench.report.traction_report import traction_findings
    from workbench.traction import map_costs, map_titles, members_from_results, traction

    eng = ctx.engagement
    checkpoints = load_checkpoints(ctx.step_dir)
    segments = load_segments(ctx)
    maps_res, cjm_res = load_result(ctx.step_dir, "maps"), load_result(ctx.step_dir, "cjm")
    start = plan_start(ctx)
    entered = None
    path = actuals_path(eng.actuals_dir, ctx.month)
    if path.is_file():
        entered = read_actuals(path, checkpoints, ctx.lang)
    with deals_kpis(ctx):  # funnel KPIs are measured on this month's deal export
        res = traction(
            checkpoints, segments, load_ledger(ctx), load_history(eng.history_path, ctx.lang), ctx.month,
            ctx.settings["traction"], ctx.lang, entered=entered,
            members=members_from_results(checkpoints, segments, maps_res, cjm_res), plan_start=start,
            plan_months=int(ctx.settings["maps"]["months"]), costs=map_costs(maps_res),
            titles=map_titles(checkpoints, segments, ctx.lang, maps_res, cjm_res))
    tables.write_parquet(res.checkpoints, ctx.step_dir / TRACTION_CHECKPOINTS)
    tables.write_parquet(res.members, ctx.step_dir / TRACTION_MEMBERS)
    counts = {k: int(v) for k, v in res.checkpoints["status"].value_counts().items()}
    tables.write_json({"lang": ctx.lang, "plan_start": res.plan_start,
                       "meta": {"status": counts, "entered_rows": res.entered_rows,
                                "moves": res.move_counts}}, ctx.step_dir / TRACTION_RUN)
    save_result(ctx, "traction", res)
    save_findings(ctx, "traction", traction_findings(res, ctx.lang, ctx.currency))
    return res
