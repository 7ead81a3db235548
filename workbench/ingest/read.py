"""One input file: open it, find its header, settle its columns' roles, read its rows.

Reading glue over ``workbench.io.readers`` (which knows formats, encodings and
delimiters); anything a file can throw at the reader ends as a problem of that file.
A file missing a role it needs is refused with its own headers, the missing role and the
lines of engagement.yaml that would fix it (``refusals``).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from workbench.errors import Problem
from workbench.ingest import outline, refusals
from workbench.ingest.fields import CODED_FIELDS, CUSTOMER_FIELDS, NUMERIC_FIELDS, SALES_FIELDS
from workbench.ingest.parse import _FileResult, _parse_body
from workbench.ingest.preflight import file_header
from workbench.ingest.problems import _Collector
from workbench.ingest.roles import settle
from workbench.ingest.sources import display_name as _display_name
from workbench.io import readers
from workbench.io.readers import ReadError, Source


def _read_file(engagement: Any, kind: str, problems: list[Problem], background: ThreadPoolExecutor,
               file: Any = None) -> _FileResult | None:
    """Read one input file; ``file`` (a ``sources.FileSpec``): which file, with its own
    sheet and columns (default: ``inputs.<kind>.file`` with the input's settings)."""
    spec = engagement.settings["inputs"][kind] if file is None else {"sheet": file.sheet, "columns": file.columns}
    path = engagement.input_path(kind) if file is None else file.path
    if path is None:
        return None
    name = _display_name(engagement, path)
    col = _Collector(name, engagement.lang, None)
    result = None
    try:
        source = outline.flatten(readers.open_source(path, name, spec.get("sheet", "") or ""))
        col.source = source
        result = _parse(source, kind, dict(spec.get("columns") or {}), col, engagement, background)
    except ReadError as exc:
        col.add(exc.kind, exc.row, None, "", exc.value)
    except (MemoryError, RecursionError) as exc:
        col.add("too_large", None, None, "", type(exc).__name__)
    except (pa.ArrowException, ValueError, TypeError, IndexError, KeyError, OverflowError,
            UnicodeError) as exc:
        # arbitrary bytes must end as an InputError, never as a traceback
        col.add("unreadable", None, None, "", f"{type(exc).__name__}: {exc}")
    problems.extend(col.items)
    return result if not col.items else None


def _parse(source: Source, kind: str, explicit: dict[str, str], col: _Collector,
           engagement: Any, background: ThreadPoolExecutor) -> _FileResult | None:
    found = file_header(source, kind, explicit, col)
    if found is None:
        return None
    header, delimiter, previews = found
    for missing in header.missing_explicit:
        col.items.append(refusals.unknown_mapped_column(col, header, kind, explicit, missing))
    roles = settle(header, previews[delimiter], kind, engagement.settings, source.format == "xlsx")
    if roles.deal:  # the deal export is read apart (workbench.ingest.deals): this is a second one
        col.items.append(refusals.deal_export(col, header))
        return None
    for role in roles.missing:
        col.items.append(refusals.missing_role(col, header, roles, role, kind))
    if col.items:
        return None
    mapping = roles.mapping
    ncols = max(len(header.labels), max(mapping.values(), default=0) + 1)
    fields = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    body = source.body(delimiter, header.data_start, ncols, coded=_columns_only_of(mapping, CODED_FIELDS, fields),
                       raw=_columns_only_of(mapping, NUMERIC_FIELDS, fields))
    for row, nfields in body.ragged:
        col.add("ragged_row", row, None, "", f"{nfields} ≠ {ncols}")
    if source.format == "xlsx":
        used = set(mapping.values())
        for row, c in body.formula_cells:
            if c in used:
                col.add("formula_no_value", row, c, header.labels[c])
    result = _parse_body(source, kind, header, roles, delimiter, body, col, engagement.settings,
                         engagement.lang, background)
    formula_rows = {p.row for p in col.items if p.kind == "formula_no_value"}
    if formula_rows:  # the formula is the problem, not the empty value it left
        col.items = [p for p in col.items if not (p.kind == "missing_value" and p.row in formula_rows)]
    return result


def _columns_only_of(mapping: dict[str, int], group: tuple[str, ...], fields: tuple[str, ...]) -> set[int]:
    """Columns mapped to a field of ``group`` (among this file's ``fields``) and to no other."""
    mine = {j for f, j in mapping.items() if f in group and f in fields}
    return mine - {j for f, j in mapping.items() if not (f in group and f in fields)}
