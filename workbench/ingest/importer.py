"""The import itself: ``import_engagement`` (the inputs -> canonical tables, or one
``InputError``) and ``write_import``; see the package's docstring for the choices made."""
from __future__ import annotations

import gc
import math
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import InputError, Problem, WorkbenchError
from workbench.ingest.coded import Coded
from workbench.ingest.combine import combine, file_key
from workbench.ingest.dates import EXCEL_EPOCH, EXCEL_SERIAL_RANGE, parse_dates
from workbench.ingest.deals import (
    DealStagesError,
    attach_customers,
    read_deal_inputs,
    stage_problems,
    won_as_sales,
)
from workbench.ingest.fields import (
    CODED_FIELDS,
    CUSTOMER_FIELDS,
    NUMERIC_FIELDS,
    SALES_FIELDS,
    TEXT_FIELDS,
    TOTAL_LABEL_FIELDS,
)
from workbench.ingest.headers import Header, find_header, normalise_header, recognise
from workbench.ingest.identity import (
    assign_ids,
    most_frequent,
    name_key,
    name_keys,
    name_to_inn,
    normalise_inn,
    normalise_inns,
)
from workbench.ingest.numbers import (
    ABSURD,
    detect_decimal,
    parse_number_text,
    prepare_number_bytes,
    prepare_number_text,
)
from workbench.ingest.read import _display_name, _read_file
from workbench.ingest.report import import_findings, render_import_html, render_report_text
from workbench.ingest.sources import read_sales
from workbench.ingest.tables import build_tables
from workbench.ingest.text import _STRIPPED as _STRIPPED  # read by tests
from workbench.ingest.text import _trim as _trim  # read by tests
from workbench.ingest.text import clean_text


@dataclass(frozen=True)
class ImportResult:
    """What ``import_engagement`` returns; nothing is written yet.

    ledger: columns ``workbench.columns.LEDGER_COLUMNS``
    customers: columns ``workbench.columns.CUSTOMERS_COLUMNS``
    report: JSON-serialisable dict (see ``import_engagement``)
    """

    ledger: pd.DataFrame
    customers: pd.DataFrame
    report: dict[str, Any]
    # a CRM deal export (workbench.ingest.deals): DEALS_COLUMNS, DEAL_STAGES_COLUMNS,
    # DEAL_HISTORY_COLUMNS; None when the engagement has none
    deals: pd.DataFrame | None = None
    deal_stages: pd.DataFrame | None = None
    deal_history: pd.DataFrame | None = None


def import_engagement(engagement: Any) -> ImportResult:
    """Read the engagement's input files into the canonical tables; write nothing.

    Parameters
    ----------
    engagement : workbench.config.Engagement
        ``settings["inputs"]["sales"]`` = {file, files, sheet, columns};
        ``settings["inputs"]["customers"]`` = {file, sheet, columns}; ``settings["inputs"]["ignore"]``;
        ``settings["import"]`` = {returns, duplicates, customer_key, overlap}.

    Returns
    -------
    ImportResult
        ledger (LEDGER_COLUMNS: text columns ``str``, date datetime64[ns], amount /
        quantity / margin float64 in the client's currency, is_return bool),
        customers (CUSTOMERS_COLUMNS, one row per customer_id, including customers of
        the customers file without purchases: first/last purchase NaT), report (dict:
        ``files`` (one dict per file), ``totals`` and ``sales_files``: the overlap policy,
        the sales files newest first, every month's source, the corrections of past
        months and the files of ``data/`` read as no input; see ``combine.combine``).

    Raises
    ------
    InputError
        Every problem found in every file, grouped, in the engagement's language.
    """
    lang = engagement.lang
    problems: list[Problem] = []
    # The import makes few long-lived objects but many short lists of distinct values:
    # the cyclic garbage collector would only walk them (2 % of the time at 1 M rows).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with ThreadPoolExecutor(max_workers=1) as background:
            # the deal-export hook (workbench.ingest.deals): a CRM deal export (inputs.deals, or found
            # among the sales files) is read as deals, never as a ledger; alone, its won deals are
            # the ledger's input
            deal_import, deal_files = read_deal_inputs(engagement, problems, lambda p: _display_name(engagement, p))
            parts, unmatched = read_sales(engagement, problems, background, exclude=deal_files)
            deals_only = deal_import is not None and not parts
            if deals_only:
                parts = _won_deals_as_sales(engagement, deal_import, problems)
            customers = _read_file(engagement, "customers", problems, background)
            ledger = customers_df = sales = combination = None
            totals: dict[str, Any] = {}
            if not parts and not problems and deal_import is None:
                problems += [Problem(kind="no_sales_file", file=u.name, value=" | ".join(u.headers))
                             for u in unmatched] or [Problem(kind="not_found", file="inputs.sales.file")]
            if not problems and parts:
                combination = combine(parts, engagement.settings, lang, background, *_reported(engagement))
                sales = combination.result
                ledger, customers_df, totals = build_tables(sales, customers, engagement.settings, lang, problems)
                for res in (sales, customers):
                    if res is not None:
                        _ = res.duplicate  # waits for the mask: its count goes in the report
    except InputError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise InputError([*problems, Problem(kind="too_large", file=str(engagement.input_path("sales")))],
                         lang) from exc
    finally:
        if collecting:
            gc.enable()
    if deal_import is not None and len(deal_import.unclassified):
        raise DealStagesError(problems + stage_problems(deal_import), lang, deal_import,
                              engagement.settings.get("currency", "RUB"))
    if problems or ledger is None or customers_df is None or sales is None or combination is None:
        raise InputError(problems or [Problem(kind="not_found", file="inputs.sales.file")], lang)
    files = [p.res.report for p in parts] + ([customers.report] if customers is not None else [])
    if deal_import is not None:
        deal_import.deals = attach_customers(deal_import.deals, customers_df)
        deal_import.report["deals"]["role"] = "only" if deals_only else "beside"
        if not deals_only:
            files.append(deal_import.report)
    if len(parts) > 1:  # what build_tables said of the rows combined, said of each file
        for key in ("inn_from_name", "names_ambiguous", "inn_names", "possible_duplicates", "kept_apart"):
            parts[0].res.report[key] = sales.report[key]
        for p in parts:
            amt = p.amounts
            p.res.report["returns"] = {"count": int((amt < 0).sum()), "sum": float(amt[amt < 0].sum())}
            p.res.report["duplicates"]["action"] = sales.report["duplicates"]["action"]
    totals["currency"] = engagement.settings.get("currency", "RUB")
    report = {"client": engagement.client, "lang": lang, "currency": totals["currency"],
              "files": files, "totals": totals,
              "sales_files": {**combination.report, "unmatched": [u.as_dict() for u in unmatched]}}
    if deal_import is None:
        return ImportResult(ledger=ledger, customers=customers_df, report=_jsonable(report))
    report["deals"] = deal_import.report["deals"]
    return ImportResult(ledger=ledger, customers=customers_df, report=_jsonable(report),
                        deals=deal_import.deals, deal_stages=deal_import.stages,
                        deal_history=deal_import.history)


def _won_deals_as_sales(engagement: Any, deal_import: Any, problems: list[Problem]) -> list[Any]:
    """The won deals of a deal export that is the only input, as the one sales part; a problem
    when it holds none (open deals are never sales) or says nothing of the customer."""
    from workbench.ingest.combine import Part
    from workbench.ingest.sources import FileSpec

    if deal_import is None:
        return []
    if "company" not in deal_import.column_of and "contact" not in deal_import.column_of:
        problems.append(Problem(kind="deal_no_customer_column", file=deal_import.report["file"],
                                value=" | ".join(x for x in deal_import.report["header"] if x)))
        return []
    sales = won_as_sales(deal_import)
    if not len(sales.rows):
        if not len(deal_import.unclassified):
            problems.append(Problem(kind="deal_no_won", file=deal_import.report["file"],
                                    column=deal_import.column_of.get("stage", "")))
        return []
    path = deal_import.path
    rel = path.resolve().relative_to(engagement.root.resolve()).as_posix() \
        if path.resolve().is_relative_to(engagement.root.resolve()) else path.as_posix()
    return [Part(spec=FileSpec(path=path, name=deal_import.report["file"], rel=rel), res=sales)]


def _reported(engagement: Any) -> tuple[str, set[tuple[Any, ...]]]:
    """What the engagement's history says was reported: the latest month run ("" when
    none) and the sales files the runs were built from (file, first, last, rows)."""
    path = engagement.history_path
    if not path.is_file():
        return "", set()
    import json

    from workbench.history import load_runs

    try:
        runs = load_runs(path)
    except (WorkbenchError, sqlite3.Error):
        return "", set()  # an unreadable history is the run's to refuse, not the import's
    seen: set[tuple[Any, ...]] = set()
    for meta in runs["meta"].tolist():
        try:
            files = json.loads(str(meta)).get("sales_files") or []
        except (ValueError, AttributeError):
            continue
        seen |= {file_key(f) for f in files if isinstance(f, dict)}
    return (str(runs["month"].max()) if len(runs) else ""), seen


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return None if math.isnan(float(obj)) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_import(engagement: Any, result: ImportResult) -> None:
    """Atomically write work/ledger.parquet, work/customers.parquet, work/import_report.json,
    and with a deal export work/deals.parquet, work/deal_stages.parquet and
    work/deal_history.parquet (those of an earlier import are removed when there is none)."""
    from workbench.io import tables

    work = engagement.work_dir
    tables.write_parquet(result.ledger, work / "ledger.parquet")
    tables.write_parquet(result.customers, work / "customers.parquet")
    for name, frame in (("deals", result.deals), ("deal_stages", result.deal_stages),
                        ("deal_history", result.deal_history)):
        if frame is not None:
            tables.write_parquet(frame, work / f"{name}.parquet")
        else:
            (work / f"{name}.parquet").unlink(missing_ok=True)
    tables.write_json(result.report, work / "import_report.json")


__all__ = [
    "ABSURD",
    "CODED_FIELDS",
    "CUSTOMER_FIELDS",
    "EXCEL_EPOCH",
    "EXCEL_SERIAL_RANGE",
    "NUMERIC_FIELDS",
    "SALES_FIELDS",
    "TEXT_FIELDS",
    "TOTAL_LABEL_FIELDS",
    "Coded",
    "Header",
    "ImportResult",
    "assign_ids",
    "build_tables",
    "clean_text",
    "detect_decimal",
    "find_header",
    "import_engagement",
    "import_findings",
    "most_frequent",
    "name_key",
    "name_keys",
    "name_to_inn",
    "normalise_header",
    "normalise_inn",
    "normalise_inns",
    "parse_dates",
    "parse_number_text",
    "prepare_number_bytes",
    "prepare_number_text",
    "recognise",
    "render_import_html",
    "render_report_text",
    "write_import",
]
