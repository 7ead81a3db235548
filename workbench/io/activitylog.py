"""Read the contact / activity log (``inputs.activities``): a CRM activity export.

One row per contact with a customer: date, company (name and/or INN), manager, result
(positive / negative / neutral), and optionally the contact person, their position and
their role in the buying committee. A list of the customers' people without dates is
accepted too (it gives the buying committees, not the contact rhythm).

The file is opened by :mod:`workbench.io.readers` (every format and encoding the ledger
import reads); the header row is found by recognising column names from the catalogue
(``maps.activity_headers``) or the engagement's explicit ``inputs.activities.columns``.
Cells come out as text; :func:`workbench.maps.contacts.parse_activity_log` turns them into
typed columns. The ledger importer is not involved.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from workbench.errors import InputError, Problem
from workbench.i18n import LANGUAGES, t
from workbench.io import readers

FIELDS = ("date", "customer_name", "inn", "manager", "result", "contact", "position", "role")
ROW_COLUMN = "source_row"
_PUNCT = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """Case-, punctuation- and ё-insensitive form of a header or a word."""
    return _PUNCT.sub(" ", str(text).casefold().replace("ё", "е")).strip()


def _synonyms() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {f: set() for f in FIELDS}
    for lang in LANGUAGES:
        for field, words in t("maps.activity_headers", lang).items():
            out[field].update(normalise(w) for w in words)
    return out


def _recognise(cells: list[str], explicit: Mapping[str, str]) -> dict[str, int]:
    """field -> column index of one candidate header row (explicit names win)."""
    syn = _synonyms()
    wanted = {normalise(v): k for k, v in explicit.items()}
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        norm = normalise(cell)
        if not norm:
            continue
        field = wanted.get(norm) or next((f for f in FIELDS if norm in syn[f] and f not in explicit), None)
        if field and field not in found:
            found[field] = i
    return found


def read_activity_log(path: Path, name: str, sheet: str = "", columns: Mapping[str, str] | None = None,
                      lang: str = "ru") -> pd.DataFrame:
    """The log's cells as text: one column per field found (``FIELDS``) and ``source_row``
    (the row as the user sees it: ``строка 12``, or ``Лист1!{col}12`` for a workbook, where
    ``{col}`` is the column letter to fill in). ``frame.attrs``: ``file`` (``name``) and
    ``headers`` (field -> (header as in the file, column letter)).

    Raises InputError naming the file (unreadable, no header row, an explicitly mapped
    column missing) in ``lang``.
    """
    explicit = dict(columns or {})
    try:
        source = readers.open_source(Path(path), name, sheet)
        best: tuple[int, str, int, dict[str, int], list[str]] | None = None
        for delimiter in source.delimiters:
            for _first, last, cells in source.preview(delimiter):
                found = _recognise(cells, explicit)
                if "customer_name" not in found and "inn" not in found:
                    continue
                score = len(found)
                if best is None or score > best[0]:
                    best = (score, delimiter, last, found, list(cells))
                break  # the first recognisable row of this delimiter is its header
        if best is None:
            raise InputError([Problem("activity_no_header", name)], lang)
        _, delimiter, header_row, found, best_cells = best
        missing = [v for k, v in explicit.items() if k not in found]
        if missing:
            raise InputError([Problem("unknown_mapped_column", name, column=c) for c in missing], lang)
        ncols = max(found.values()) + 1
        body = source.body(delimiter, header_row + 1, ncols)
    except readers.ReadError as exc:
        raise InputError([Problem(exc.kind, name, value=exc.value)], lang) from exc
    data = {field: body.cells[i].to_pandas().astype("string").fillna("").str.strip()
            for field, i in found.items()}
    frame = pd.DataFrame(data)
    if source.format == "xlsx":
        rows = [f"{source.sheet}!{{col}}{r}" for r in body.rows]
    else:
        rows = [str(t("ingest.line", lang, n=int(r))) for r in body.rows]
    frame[ROW_COLUMN] = pd.Series(rows, dtype="string")
    keep = frame.drop(columns=[ROW_COLUMN]).ne("").any(axis=1)
    out = frame[keep].reset_index(drop=True)
    header_cells = dict(zip(range(ncols), best_cells))
    out.attrs = {"file": name, "headers": {f: (header_cells.get(i, f), readers.col_letter(i)) for f, i in found.items()}}
    return out


__all__ = ["FIELDS", "ROW_COLUMN", "normalise", "read_activity_log"]
