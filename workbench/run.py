"""Running an engagement: import, the notebooks in order (papermill), then the deliverables.

What would fail at the end is refused first (``preflight``: folders that cannot be written,
a broken history, a month outside the data). Everything is built aside (``.tmp-*`` folders);
when the whole run succeeded, the folders and the history commit become current as one
unit (``workbench.io.rununit``), so a failed or killed run leaves the previous deliverables,
``work/<month>`` and history as they were. One run per engagement at a time
(``workbench.io.lock``).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.config import NOTEBOOKS_DIR, Engagement, load_engagement
from workbench.errors import MonthWithoutData, RunError, WorkbenchError, os_reason
from workbench.i18n import LANGUAGES, t
from workbench.io import atomic, rununit
from workbench.io.lock import EngagementLock

if TYPE_CHECKING:
    from workbench.kernels import SharedKernel

# nbformat imports jsonschema, which loads rfc3987_syntax whenever it is installed
# (JupyterLab's jupyter-events requires it) only to check "iri" string formats, which the
# notebook schema does not use; building its grammar took 1.3 s of every run. jsonschema
# then treats it as absent (an ImportError), as on an install without it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PARAMETERS = ("engagement_dir", "month", "lang", "step_dir", "out_dir", "refresh_import")
CELL_TIMEOUT = 600  # seconds per cell; papermill has no whole-notebook limit
# Test hooks (crash-safety and batch tests only): seconds to sleep right after the lock is
# taken, and when everything is built aside (see workbench.io.rununit for the others).
PAUSE_AFTER_LOCK_ENV = "WORKBENCH_TEST_PAUSE_AFTER_LOCK"
PAUSE_BEFORE_PROMOTE_ENV = rununit.PAUSE_BEFORE_PROMOTE_ENV


@dataclass
class RunResult:
    engagement: str
    month: str
    deliverables: Path
    timings: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # for the consultant: e.g. files in data/ read as no input


def pipeline_notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The engagement's notebooks in run order: ``01_*.ipynb`` … (``00_workshop`` is live-only)."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("00_"))
    if not found:
        raise RunError(t("run.no_notebooks", "ru", folder=str(folder)))
    return found


def check_parameters(notebook: Path, params: dict[str, Any], lang: str) -> None:
    """Refuse parameter names that are not identifiers declared in the notebook's parameters cell.

    papermill only warns about unknown names, and a name is pasted into code as it is.
    """
    import papermill

    declared = set(papermill.inspect_notebook(str(notebook)).keys())
    for name in params:
        if not str(name).isidentifier() or name not in declared:
            raise RunError(t("run.unknown_parameter", lang, notebook=notebook.name, name=repr(name),
                             allowed=", ".join(sorted(declared))))
    for name, value in params.items():
        if not isinstance(value, (str, bool)):
            raise RunError(f"{notebook.name}: parameter {name} must be text or a flag")


def execute_notebook(notebook: Path, output: Path, params: dict[str, Any], lang: str,
                     kernel: SharedKernel | None = None) -> None:
    """Execute one notebook with papermill; raise RunError naming the notebook and cell.

    kernel: the run's kernel (``workbench.kernels.SharedKernel``); the notebook starts from
    a clean namespace in it. Without one, the notebook gets a kernel of its own. Kernels
    talk over IPC sockets of their own (see workbench.kernels); a kernel that dies is
    started once more and the notebook run again.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from workbench.kernels import UniqueIPCKernelManager

    check_parameters(notebook, params, lang)
    output.parent.mkdir(parents=True, exist_ok=True)
    for attempt in (1, 2):
        where: dict[str, Any] = {"kernel_manager_class": UniqueIPCKernelManager}
        if kernel is not None:
            where = {"engine_name": _shared_kernel_engine(), "km": kernel.km}
        try:
            papermill.execute_notebook(
                str(notebook), str(output), parameters=params, kernel_name="python3",
                progress_bar=False, log_output=False, cwd=str(notebook.parent),
                execution_timeout=CELL_TIMEOUT, report_mode=False,
                request_save_on_cell_execute=False,  # written once, at the end (a failed run keeps nothing)
                **where,
            )
            return
        except PapermillExecutionError as exc:
            error = f"{exc.ename}: {_first_line(exc.evalue)}"
            raise RunError(t("run.notebook_failed", lang, notebook=notebook.name,
                             cell=f"{exc.cell_index} (In [{exc.exec_count}])", error=error)) from None
        except Exception as exc:  # kernel death, timeouts: still one line
            if attempt == 1 and _kernel_died(exc):
                if kernel is not None:
                    kernel.replace()
                continue
            raise RunError(t("run.notebook_failed", lang, notebook=notebook.name, cell="?",
                             error=f"{type(exc).__name__}: {_first_line(str(exc))}")) from exc


_ENGINE = "workbench-shared-kernel"


def _shared_kernel_engine() -> str:
    """Register (once) the papermill engine that runs a notebook in a kernel already started,
    from a clean namespace, and lets go of its connection to it afterwards; return its name.

    papermill's own engine builds a ``PapermillNotebookClient`` with the kernel manager it is
    given (nbclient then leaves the kernel running) but keeps that client's sockets open; this
    one is the same client, resetting the namespace first and closing its sockets at the end.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    from workbench.kernels import FRESH_NAMESPACE

    if _ENGINE in papermill_engines._engines:
        return _ENGINE

    class FreshNamespaceClient(PapermillNotebookClient):
        def papermill_execute_cells(self) -> None:
            assert self.kc is not None
            reply = self.wait_for_reply(self.kc.execute(FRESH_NAMESPACE, silent=True, store_history=False))
            if reply is None or reply["content"].get("status") != "ok":
                raise RuntimeError("the kernel could not clear the previous notebook's namespace")
            super().papermill_execute_cells()

    class SharedKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                     execution_timeout: int | None = None, **kwargs: Any) -> Any:
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            client = FreshNamespaceClient(nb_man, **merge_kwargs(
                kwargs, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                log=logging.getLogger("papermill"), log_output=log_output, stdout_file=stdout_file,
                stderr_file=stderr_file))
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register(_ENGINE, SharedKernelEngine)
    return _ENGINE


def _kernel_died(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}"
    return "DeadKernel" in text or "Kernel died" in text or "kernel_info" in text


def _first_line(text: str) -> str:
    # The evalue of a WorkbenchError can be many lines (every input problem): keep them.
    return text.strip() if "\n" in text.strip() and len(text) < 4000 else (text.strip().splitlines() or [""])[0]


def run_engagement(path: str | Path, month: str | None = None, lang: str | None = None,
                   pdf: bool = False, echo: Callable[[str], None] = print) -> RunResult:
    """Run an engagement end to end for one reporting month; return where the deliverables are.

    month: 'YYYY-MM'; default the month of the latest transaction.
    lang: 'ru' | 'en'; default the engagement's language.
    Raises WorkbenchError (InputError, ConfigError, RunError, LockError) with a one-message reason.
    """
    eng = load_engagement(path)
    lang = lang or eng.lang
    if lang not in LANGUAGES:
        raise WorkbenchError(t("run.bad_lang", eng.lang, value=lang, allowed=", ".join(LANGUAGES)))
    if month and not MONTH_RE.match(month):
        raise WorkbenchError(t("run.bad_month", lang, value=month))
    with EngagementLock(eng.root, f"workbench run {month or ''}".strip(), lang):
        return _run_locked(eng, month, lang, pdf, echo)


def _run_locked(eng: Engagement, month: str | None, lang: str, pdf: bool,
                echo: Callable[[str], None]) -> RunResult:
    from workbench.io.log import run_log

    _test_pause(PAUSE_AFTER_LOCK_ENV)
    recovered = rununit.recover(eng.root, lang)  # a run killed before: completed or undone, first
    if recovered:
        echo(recovered)
    preflight(eng, lang)
    log = run_log(eng)
    if recovered:
        log("interrupted run recovered")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    atomic.clean_leftovers(eng.deliverables_dir)
    atomic.clean_leftovers(eng.work_dir)
    from workbench.kernels import SharedKernel

    # The notebooks' kernel starts (and imports what they need) while this process reads
    # the client's files; after the last notebook it writes the workbook, then it is shut down.
    kernel = SharedKernel(NOTEBOOKS_DIR)
    t0 = time.perf_counter()
    kernel.start()
    timings["kernel_start"] = time.perf_counter() - t0
    try:
        month, notices = _import_and_notebooks(eng, month, lang, pdf, echo, log, timings, kernel)
    finally:
        kernel.shutdown()
    final = eng.deliverables_dir / month
    timings["total"] = time.perf_counter() - started
    log(f"run ok month={month} in {timings['total']:.1f}s")
    log("timings " + " ".join(f"{k}={v:.2f}" for k, v in timings.items()))
    return RunResult(eng.slug, month, final, timings, notices)


def _import_and_notebooks(eng: Engagement, month: str | None, lang: str, pdf: bool, echo: Callable[[str], None],
                          log: Callable[[str], None], timings: dict[str, float],
                          kernel: SharedKernel) -> tuple[str, list[str]]:
    """The run itself, once the checks passed and the kernel is starting: import, notebooks,
    deliverables, then the staged folders made current with the history commit. Returns
    the month run and the notices for the consultant."""
    from workbench import steps

    t0 = time.perf_counter()
    result = steps.import_step(eng)
    timings["import"] = time.perf_counter() - t0
    log(f"import rows={result.rows} customers={result.customer_count}"
        + (" reused (inputs and settings unchanged)" if result.reused else ""))
    from workbench.ingest.combine_report import unmatched_notice

    notices = unmatched_notice(result.report, lang)  # files of data/ read as no input, with their lines
    if notices:
        echo("\n".join(notices))
    sales_files = result.report.get("sales_files", {})
    log(f"import files={len(sales_files.get('files', []))} unmatched={len(sales_files.get('unmatched', []))}")
    month = month or result.last_month  # the ledger just imported, not re-read
    try:
        steps.check_month(result.dates, month, lang, eng.root)
    except MonthWithoutData as exc:
        exc.notices = notices
        raise
    result.release()  # the notebooks read the tables in the kernel: this process lets go of them
    preflight(eng, lang, month)
    tag = f"{atomic.TMP_PREFIX}{month}-{os.getpid()}"
    stage_out = eng.deliverables_dir / tag
    stage_work = eng.work_dir / tag
    stage_out.mkdir(parents=True)
    stage_work.mkdir(parents=True)
    from workbench.history import SALES_FILES
    from workbench.io import tables

    tables.write_json([{k: f[k] for k in ("file", "first", "last", "rows")} for f in sales_files.get("files", [])],
                      stage_work / SALES_FILES)  # kept in the history: the files this month was built from
    # the deliverables' libraries load on the second core while the kernel runs the notebooks
    warm = threading.Thread(target=_warm_deliverables, name="warm-deliverables", daemon=True)
    warm.start()
    try:
        executed = []
        for nb in pipeline_notebooks():
            echo(t("run.running", lang, engagement=eng.slug, notebook=nb.name))
            t0 = time.perf_counter()
            params = {"engagement_dir": str(eng.root), "month": month, "lang": lang,
                      "step_dir": str(stage_work), "out_dir": str(stage_out), "refresh_import": False}
            out_nb = stage_out / "notebooks" / nb.name
            try:
                execute_notebook(nb, out_nb, params, lang, kernel)
            finally:
                timings[nb.stem] = time.perf_counter() - t0
            log(f"notebook {nb.name} ok in {timings[nb.stem]:.1f}s")
            executed.append(out_nb)
        warm.join()
        t0 = time.perf_counter()
        build_deliverables(eng, month, lang, stage_work, stage_out, executed, timings, kernel)
        timings["deliverables"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        kernel.shutdown()
        timings["kernel_stop"] = time.perf_counter() - t0
        if pdf:
            t0 = time.perf_counter()
            print_pdf(stage_out / "report.html", stage_out / "report.pdf", lang)
            timings["pdf"] = time.perf_counter() - t0
        finish_run(eng, month, lang, stage_work, stage_out)
    except BaseException as exc:
        shutil.rmtree(stage_out, ignore_errors=True)
        shutil.rmtree(stage_work, ignore_errors=True)
        log(f"run failed: {type(exc).__name__}")
        if isinstance(exc, OSError):  # a folder that cannot be written, a full disk
            raise RunError(t("run.os_error", lang, path=str(exc.filename or ""), reason=os_reason(exc, lang))
                           + " " + t("run.kept_previous", lang)) from exc
        raise
    return month, notices


def _test_pause(name: str) -> None:
    pause = float(os.environ.get(name, "0") or 0)
    if pause > 0:
        time.sleep(pause)


def finish_run(eng: Engagement, month: str, lang: str, stage_work: Path, stage_out: Path) -> str:
    """Make this run's staged folders current and store the month in the history, as one unit.

    ``work/<month>`` and ``deliverables/<month>`` are replaced by ``stage_work`` and
    ``stage_out`` and the snapshot read from ``stage_work`` is committed to the history;
    either all of it happens or none (``workbench.io.rununit``). Returns the run's id.
    """
    from workbench import history

    snapshot = history.read_snapshot(stage_work)  # read before the folder moves

    def commit(run_id: str) -> None:
        run = dict(snapshot["run"])
        run["meta"] = {**run.get("meta", {}), "run_id": run_id}
        history.commit_frames(eng.history_path, month, snapshot["segments"], snapshot["checkpoints"],
                              snapshot["members"], run, lang=lang)

    return rununit.promote_and_commit(eng.root, month, [(stage_work, eng.work_dir / month),
                                                       (stage_out, eng.deliverables_dir / month)], commit, lang)


def preflight(eng: Engagement, lang: str, month: str = "") -> None:
    """Refuse, before any work, what would make the run fail at its end: a folder that cannot
    be written, a history that is not a sound database (each named, with the way out).

    With ``month``: also the month's current folders, whose old contents the run removes.
    """
    from workbench import history

    folders = [eng.root, eng.work_dir, eng.deliverables_dir, eng.logs_dir]
    for folder in folders if not month else []:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=f"{atomic.TMP_PREFIX}probe-", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise RunError(t("run.not_writable", lang, path=str(folder), reason=os_reason(exc, lang))) from exc
    if not month:
        history.verify(eng.history_path, lang)
        return
    for current in (eng.work_dir / month, eng.deliverables_dir / month):
        for folder, _, _ in os.walk(current) if current.is_dir() else []:
            if not os.access(folder, os.W_OK | os.X_OK):
                raise RunError(t("run.not_writable", lang, path=folder,
                                 reason=os_reason(PermissionError(13, "", folder), lang)))


def _warm_deliverables() -> None:
    """Import what ``build_deliverables`` needs here (nbconvert, matplotlib: about 1 s; the
    workbook is the kernel's) while this process only waits for the kernel. A failure here is left to the real import
    in ``build_deliverables``, which reports it."""
    try:
        import nbconvert.exporters.html  # noqa: F401
        import nbformat  # noqa: F401

        import workbench.report.assemble  # noqa: F401
        import workbench.report.charts  # noqa: F401  (matplotlib with the Agg backend)
        import workbench.report.segment_charts  # noqa: F401
    except Exception:  # noqa: BLE001,S110 - the real import says what is wrong
        pass


def write_workbook_file(step_dir: str | Path, engagement_dir: str | Path, month: str, lang: str,
                        path: str | Path) -> None:
    """workbook.xlsx (at ``path``, atomically) from the results a run's notebooks saved in
    ``step_dir``; what ``build_deliverables`` has the run's kernel do, once the tables the
    notebooks kept in memory are let go (the workbook reads what it needs)."""
    from workbench.config import load_engagement
    from workbench.io import tables

    tables.release_tables()
    _write_workbook(load_engagement(engagement_dir), Path(step_dir), month, lang, Path(path))


def _write_workbook(eng: Engagement, step_dir: Path, month: str, lang: str, path: Path) -> None:
    from workbench.io.xlsxout import write_workbook
    from workbench.report.workbook import build_workbook

    write_workbook(build_workbook(step_dir, eng, month, lang), path)


def build_deliverables(eng: Engagement, month: str, lang: str, step_dir: Path, out_dir: Path,
                       executed: list[Path], timings: dict[str, float] | None = None,
                       kernel: SharedKernel | None = None) -> None:
    """Write report.html, consultant-notes.html and workbook.xlsx into ``out_dir`` from this run's results.

    timings: filled with the seconds of ``report_html`` and ``workbook`` (from the start of
    the deliverables, as the two overlap).
    kernel: the run's kernel, done with the notebooks: it writes the workbook (pandas and the
    results at hand) while this process renders the report, on the machine's second core
    (1 s of the demo's 10). Should it fail for any reason, the workbook is written here as
    without a kernel, and its error, if it has one, is raised from here.
    """
    import nbformat

    from workbench.report.assemble import build_report, logo_data_uri
    from workbench.steps import load_findings, load_result

    t0 = time.perf_counter()
    job = None
    if kernel is not None:
        args = ", ".join(repr(str(a)) for a in (Path(step_dir).resolve(), eng.root.resolve(), month, lang,
                                                  (out_dir / "workbook.xlsx").resolve()))
        job = kernel.start_job(f"from workbench.run import write_workbook_file as _wb_write\n_wb_write({args})\n")
    notebooks = [nbformat.read(str(p), as_version=4) for p in executed]
    logo = eng.settings["consultant"]["logo"]
    segmentation = load_result(step_dir, "segment")
    rules = {"segmentation": segmentation.thresholds} if segmentation is not None else {}
    lead = ""
    if segmentation is not None and getattr(segmentation, "bridge", None):
        from workbench.report.segment_charts import bridge_chart

        lead = bridge_chart(segmentation, lang, eng.settings["currency"])  # the revenue bridge opens the report
    html, notes = build_report(notebooks, load_findings(step_dir), {
        "client": eng.client, "firm": eng.settings["consultant"]["firm"],
        "logo_uri": logo_data_uri(eng.root / logo if logo else None),
        "month": month, "lang": lang, "currency": eng.settings["currency"],
    }, lead_html=lead, rules=rules)
    atomic.write_text(out_dir / "report.html", html)
    atomic.write_text(out_dir / "consultant-notes.html", notes)
    t1 = time.perf_counter()
    if job is None or job.error(CELL_TIMEOUT) is not None:
        _write_workbook(eng, step_dir, month, lang, out_dir / "workbook.xlsx")
    if timings is not None:
        timings["report_html"] = t1 - t0
        timings["workbook"] = time.perf_counter() - t0


def print_pdf(html_path: Path, pdf_path: Path, lang: str) -> None:
    """Print the report to PDF with headless Chromium (Debian's ``chromium``)."""
    import subprocess
    import tempfile

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        raise WorkbenchError(t("run.pdf_failed", lang, reason=t("run.pdf_no_chromium", lang)))
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
               f"--user-data-dir={profile}", f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not pdf_path.is_file():
        raise WorkbenchError(t("run.pdf_failed", lang, reason=_first_line(proc.stderr or str(proc.returncode))))
