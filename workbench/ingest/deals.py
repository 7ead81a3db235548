"""CRM deal exports (amoCRM, Bitrix24): recognised, read into the canonical deals table.

A deal export is one row per deal: a stage, a budget, dates, a company or a contact, a
manager. It is recognised by its header (the column-role hook ``deal_header``): a stage
column («Этап сделки», «Стадия сделки», ``STAGE_ID`` …) together with a budget
(«Бюджет», «Сумма», ``OPPORTUNITY``), a closed flag (``CLOSED``, «Сделка закрыта»), the
stage semantics (``STAGE_SEMANTIC_ID``) or a pipeline («Воронка», ``CATEGORY_ID``,
«Направление»). Such a file is ``kind: deals`` in the import report, wherever it was given:

* beside a ledger (``inputs.deals``, or found among the sales files): the ledger stays the
  revenue, the deals are the funnel;
* the only input (no sales file left): its **won** deals become the ledger (``won_as_sales``),
  one line per won deal at its close date for its amount; open and lost deals are never
  revenue.

Choices (each stated in the import report):

* Stage semantics: ``workbench.ingest.stages``; a stage nobody can classify stops the import
  with the ``deals.stages`` lines to add (``DealStagesError``).
* A closed deal's date is its close date, else its last modification (counted and said);
  an open deal's empty close date, or a text such as «не закрыта», is normal.
* The customer is the company, else the contact (counted and said); deals with neither
  are counted apart and stay out of the customer base.
* The same deal id twice: identical rows count once; rows with different values keep the
  later modification (reported with both rows); without a modification date to tell, the
  import stops naming the rows. Rows without a deal id are left out and listed.
* Refused, naming file, row, column and value (``workbench.ingest.deal_checks``): stages of
  two CRMs in one column, a won deal without an amount (unless
  ``deals.won_without_amount: keep``), a negative budget, a pipeline column the stage codes
  contradict, a stage the closed flag or the semantics contradict, deals in several
  currencies, a closed deal with no date at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench import columns as C
from workbench.errors import InputError, Problem
from workbench.ingest.coded import Coded
from workbench.ingest.deal_headers import (
    DEAL_FIELDS,
    DealHeader,
    _looks_like_history,
    deal_header,
    find_deal_header,
    looks_like_deal_export,
    roles_say_deal,
)
from workbench.ingest.deal_history import classify_with_history, read_history
from workbench.ingest.deal_read import read_rows
from workbench.ingest.identity import name_keys
from workbench.ingest.problems import _Collector
from workbench.ingest.stages import (
    StageTable,
    deal_messages,
    render_stage_lines,
    stage_summary,
)
from workbench.io import readers
from workbench.io.readers import ReadError, Source

@dataclass
class DealImport:
    """One deal export, read and checked.

    deals: ``DEALS_COLUMNS`` (``customer_id`` is the customer's name key until
        ``attach_customers`` maps it to the ledger's ids)
    stages: ``DEAL_STAGES_COLUMNS``
    history: ``DEAL_HISTORY_COLUMNS`` or None (no stage history given)
    report: the file's entry of the import report (``kind: deals``; ``deals`` holds the counts)
    unclassified: stages without an outcome (see ``StageTable``); empty when every stage is known
    source: the opened file (row labels)
    rows: physical row of each deal
    """

    deals: pd.DataFrame
    stages: pd.DataFrame
    history: pd.DataFrame | None
    report: dict[str, Any]
    unclassified: pd.DataFrame
    source: Source
    rows: np.ndarray
    column_of: dict[str, str] = field(default_factory=dict)  # field -> header as in the file
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)  # the distinct stages, as classified
    crm: str = ""
    path: Path = field(default_factory=Path)  # the file read


def read_deals(engagement: Any, path: Path, spec: dict[str, Any], problems: list[Problem],
               display_name: str) -> DealImport | None:
    """Read the deal export at ``path`` (``spec``: the sheet and columns of the input naming it);
    add every problem to ``problems`` and return None when there is any."""
    col = _Collector(display_name, engagement.lang, None)
    result = None
    try:
        source = readers.open_source(path, display_name, spec.get("sheet", "") or "")
        col.source = source
        header = find_deal_header(source, dict(spec.get("columns") or {}))
        if header is None:
            first = source.preview(source.delimiters[0])
            col.add("deal_no_header", first[0][0] if first else None, None, "",
                    " | ".join(c for c in first[0][2][:8] if c.strip()) if first else "")
        else:
            result = _read(source, header, col, engagement)
    except ReadError as exc:
        col.add(exc.kind, exc.row, None, "", exc.value)
    except (MemoryError, RecursionError) as exc:
        col.add("too_large", None, None, "", type(exc).__name__)
    except (pa.ArrowException, ValueError, TypeError, IndexError, KeyError, OverflowError, UnicodeError) as exc:
        col.add("unreadable", None, None, "", f"{type(exc).__name__}: {exc}")
    problems.extend(col.items)
    if result is None or col.items:
        return None
    result.path = path
    return result


def _read(source: Source, header: DealHeader, col: _Collector, engagement: Any) -> DealImport | None:
    for missing in header.missing_explicit:
        col.add("unknown_mapped_column", header.first_row, None, missing, " | ".join(x for x in header.labels if x))
    if col.items:
        return None
    got = read_rows(source, header, col, engagement)
    if got is None:
        return None
    deals, table = got["deals"], got["stage_table"]
    table = StageTable(table.table, _counted(table.unclassified, deals), table.order_from)
    report = _file_report(source, header, got["crm"], col, got["body"], got["blank"], deals, table, got["decimal"],
                          got["fmts"], got["as_of"], got["open_close_text"], got["won_no_amount"], got["dups"])
    return DealImport(deals=deals, stages=table.table, history=None, report=report,
                      unclassified=table.unclassified, source=source, rows=got["rows"],
                      column_of=got["labels"], pairs=got["pairs"], crm=got["crm"])


def _counted(unclassified: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """The unclassified stages with their deals and amount counted on the deals kept (a deal
    given twice counts once)."""
    if not len(unclassified):
        return unclassified
    g = deals.groupby([C.PIPELINE, C.STAGE], sort=False)
    counts, sums = g.size(), g[C.AMOUNT].sum()
    keys = list(zip(unclassified[C.PIPELINE], unclassified[C.STAGE]))
    return unclassified.assign(deals=[int(counts.get(k, 0)) for k in keys],
                               amount=[float(sums.get(k, 0.0)) for k in keys])


def _file_report(source: Source, header: DealHeader, crm: str, col: _Collector, body: readers.Body,
                 blank: np.ndarray, deals: pd.DataFrame, stages: StageTable, decimal: str,
                 fmts: dict[str, int], as_of: Any, not_closed_text: int, won_no_amount: int,
                 dups: dict[str, Any]) -> dict[str, Any]:
    m = header.mapping
    outcome = deals[C.OUTCOME]
    amount = deals[C.AMOUNT].fillna(0.0)
    kinds = deals[C.CUSTOMER_KIND]
    won = outcome == "won"
    count = {o: int((outcome == o).sum()) for o in ("won", "lost", "open")}
    money = {o: float(amount[outcome == o].sum()) for o in ("won", "lost", "open")}
    return {
        "file": col.file, "kind": "deals", "format": source.format, "encoding": source.encoding,
        "delimiter": header.delimiter, "sheet": source.sheet,
        "header_row": col.where(header.first_row, 0), "header_line": header.first_row,
        "header": list(header.labels),
        "columns": {canon: header.labels[j] for canon, j in sorted(m.items(), key=lambda x: x[1])},
        "unmapped": [x for j, x in enumerate(header.labels) if x and j not in m.values()],
        "roles": _column_roles(header),
        "rows_read": int(len(body) + body.blank_lines + len(body.ragged)),
        "rows_imported": len(deals),
        "rows_excluded": {"total": 0, "blank": int(blank.sum() + body.blank_lines)},
        "total_examples": [],
        "decimal_mark": decimal, "date_formats": fmts,
        "date_format": max(fmts, key=lambda k: fmts[k]) if fmts else "",
        "duplicates": {"count": int(dups["identical"])},
        "deals": {
            "crm": crm,
            "as_of": pd.Timestamp(as_of).date().isoformat() if as_of is not None else "",
            "deals": len(deals), "won": count["won"], "lost": count["lost"], "open": count["open"],
            "won_amount": money["won"], "lost_amount": money["lost"], "open_amount": money["open"],
            "budget_all": float(amount.sum()),
            "won_no_amount": won_no_amount,
            "close_from_modified": int((deals[C.CLOSE_FROM] == "modified").sum()),
            "open_close_text": not_closed_text,
            "customers_company": int(deals.loc[won & (kinds == "company"), C.CUSTOMER_ID].nunique()),
            "customers_contact": int(deals.loc[won & (kinds == "contact"), C.CUSTOMER_ID].nunique()),
            "deals_contact": int((kinds == "contact").sum()),
            "deals_no_customer": int((kinds == "").sum()),
            "won_no_customer": int((won & (kinds == "")).sum()),
            "won_no_customer_amount": float(amount[won & (kinds == "")].sum()),
            "pipelines": sorted(str(p) for p in deals[C.PIPELINE].unique()),
            **stage_summary(stages.table),
            "order_from": stages.order_from,
            "duplicates_identical": int(dups["identical"]),
            "duplicate_ids": dups["changed"],
            "rows_without_id": dups["no_id"],
            "history": None,
        },
    }


def _column_roles(header: DealHeader) -> list[dict[str, Any]]:
    """Every column of the deal export with its role, as the import report lists a ledger's
    (``workbench.ingest.roles.ColumnRole.as_dict``); the budget is the deal's, not a sale's."""
    field_of = {j: canon for canon, j in header.mapping.items()}
    out = []
    for j, label in enumerate(header.labels):
        canon = field_of.get(j)
        role = {"amount": "deal_amount"}.get(canon, canon) if canon else None
        out.append({"column": label, "role": role, "used": canon is not None,
                    "reason": "deal_header" if canon else "unknown", "detail": ""})
    return out


# --------------------------------------------------------------------------- the import's entry
def read_deal_inputs(engagement: Any, problems: list[Problem], display_name: Any
                     ) -> tuple[DealImport | None, set[Path]]:
    """The engagement's deal export, read with its stage history: (deals, the files read).

    The deal export is ``inputs.deals``; else the first of the sales files (``inputs.sales.file``,
    then what ``inputs.sales.files`` finds, ``data/*`` by default) with a deal export's header.
    The stage history is ``inputs.deal_history``; else, beside a deal export, the first of those
    files with a stage history's header. The caller reads those files as no sales (and when
    no sales file is left, the deal export is the only input: its won deals are the revenue).
    ``display_name(path)`` names a file as the user knows it; problems go to ``problems``.
    (None, set()) without a deal export.
    """
    from workbench.ingest.sources import plan_sales

    deals_path = engagement.input_path("deals")
    history_path = engagement.input_path("deal_history")
    spec: dict[str, Any] = engagement.settings["inputs"]["deals"]
    candidates: list[Any] = []
    if deals_path is None or history_path is None:
        candidates, _ = plan_sales(engagement)
    if deals_path is None:
        found = next((c for c in candidates if looks_like_deal_export(c.path, c.name, c.sheet, engagement.settings)), None)
        if found is None:
            return None, set()
        # found among the sales files: its columns are still named under inputs.deals.columns
        deals_path, spec = found.path, {"sheet": found.sheet, "columns": dict(spec.get("columns") or {})}
    if history_path is None:
        history_path = next((c.path for c in candidates if c.path.resolve() != deals_path.resolve()
                             and _looks_like_history(c.path)), None)
    used = {deals_path.resolve()} | ({history_path.resolve()} if history_path is not None else set())
    deals = read_deals(engagement, deals_path, spec, problems, display_name(deals_path))
    if deals is not None and history_path is not None:
        read_history(engagement, problems, display_name(history_path), deals, history_path)
        classify_with_history(deals, engagement.settings["deals"]["stages"])
    return deals, used


# --------------------------------------------------------------------------- results
class DealStagesError(InputError):
    """A deal export whose closed stages cannot all be classified: one message listing them
    (deal counts and amounts) and the ``deals.stages`` lines to add; other problems of the
    inputs come first."""

    def __init__(self, problems: list[Problem], lang: str, deals: DealImport, currency: str) -> None:
        self.deals = deals
        self.currency = currency
        super().__init__(problems, lang)

    def render(self) -> str:
        from workbench.i18n import t
        from workbench.report.fmt import money, number

        lang = self.lang
        msgs = deal_messages(lang)
        others = [p for p in self.problems if p.kind != "deal_stage_unknown"]
        lines = []
        if others:
            lines.append(InputError(others, lang).render().rsplit("\n", 1)[0])
        d = self.deals
        un = d.unclassified
        lines.append(msgs["unknown_stages"].format(file=d.report["file"],
                                                   column=d.column_of.get("stage", "")))
        for rec in un.to_dict("records"):
            where = msgs["in_pipeline"].format(pipeline=rec[C.PIPELINE]) if rec[C.PIPELINE] else ""
            closed = msgs["stage_closed"] if rec["closed"] is True else msgs["stage_closed_unknown"]
            lines.append("  - " + msgs["unknown_stage_line"].format(
                stage=rec[C.STAGE], where=where, closed=closed,
                deals=msgs["deal_count"].format(n=number(rec["deals"], lang)),
                amount=money(rec["amount"], lang, self.currency)))
        lines.append(msgs["add_lines"])
        lines.extend(render_stage_lines(d.stages, un))
        lines.append(t("errors.nothing_written", lang))
        return "\n".join(lines)


def stage_problems(deals: DealImport) -> list[Problem]:
    """One problem per unclassified stage (for ``import --json`` and the problem list)."""
    col = deals.column_of.get("stage", "")
    return [Problem(kind="deal_stage_unknown", file=deals.report["file"], column=col,
                    value=str(rec[C.STAGE])) for rec in deals.unclassified.to_dict("records")]


def attach_customers(deals: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """The deals with ``customer_id`` as the ledger's (pure): a deal's customer is the ledger
    customer with the same name key (``workbench.ingest.identity.name_key``); a customer the
    ledger does not know (a prospect) keeps its name key. Returns a new frame."""
    out = deals.copy()
    if not len(customers):
        return out
    keys = name_keys([str(x) for x in customers[C.CUSTOMER_NAME]])
    by_key = dict(zip(keys, customers[C.CUSTOMER_ID].astype(str)))
    # ids that are name keys already map to themselves
    by_key.update({str(cid): str(cid) for cid in customers[C.CUSTOMER_ID] if str(cid) not in by_key})
    mapped = out[C.CUSTOMER_ID].map(by_key)
    out[C.CUSTOMER_ID] = pd.Series(mapped.where(mapped.notna(), out[C.CUSTOMER_ID]).to_numpy(), dtype="str")
    return out


def won_as_sales(deals: DealImport) -> Any:
    """The won deals with a customer as the ledger's input (a ``_FileResult`` of kind sales):
    one line per won deal, at its close date, for its amount, the deal id as the document."""
    from workbench.ingest.parse import _FileResult

    d = deals.deals
    won = ((d[C.OUTCOME] == "won") & (d[C.CUSTOMER_KIND] != "")).to_numpy()
    w = d[won]
    names = Coded.encode(pa.array(w[C.CUSTOMER_NAME].astype(str).tolist(), pa.string()))
    managers = Coded.encode(pa.array(w[C.MANAGER].astype(str).tolist(), pa.string()))
    empty = Coded(codes=np.zeros(len(w), dtype=np.int64), values=[""])
    columns = {C.CUSTOMER_NAME: names, C.INN: empty, C.MANAGER: managers,
               C.DATE: w[C.CLOSED].to_numpy(dtype="datetime64[ns]"),
               C.AMOUNT: w[C.AMOUNT].fillna(0.0).to_numpy(dtype=np.float64),
               C.DOCUMENT: pa.array(w[C.DEAL_ID].astype(str).tolist(), pa.string())}
    return _FileResult(kind="sales", columns=columns, rows=deals.rows[won], source=deals.source,
                       report=deals.report, pending_duplicates=np.zeros(len(w), dtype=bool))


__all__ = [
    "DEAL_FIELDS",
    "DealHeader",
    "DealImport",
    "DealStagesError",
    "attach_customers",
    "classify_with_history",
    "deal_header",
    "find_deal_header",
    "looks_like_deal_export",
    "read_deal_inputs",
    "read_deals",
    "read_history",
    "roles_say_deal",
    "stage_problems",
    "won_as_sales",
]
