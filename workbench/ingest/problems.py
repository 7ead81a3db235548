"""The problems of one file, each placed where the user sees it (a line, or a sheet cell)."""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa

from workbench.errors import Problem
from workbench.ingest.coded import Coded
from workbench.ingest.messages import _msg
from workbench.io.readers import Source, col_letter


class _Collector:
    """Problems of one file, with rows as the user sees them."""

    def __init__(self, file: str, lang: str, source: Source | None) -> None:
        self.file, self.lang, self.source = file, lang, source
        self.items: list[Problem] = []

    def where(self, row: int | None, col: int | None = None) -> str:
        if row is None:
            return ""
        if self.source is not None and self.source.format == "xlsx":
            return f"{_sheet_ref(self.source.sheet)}!{col_letter(col or 0)}{row}"
        return str(_msg("line", self.lang, n=row))

    def add(self, kind: str, row: int | None = None, col: int | None = None, column: str = "",
            value: str = "") -> None:
        self.items.append(Problem(kind=kind, file=self.file, row=self.where(row, col),
                                  column=column, value=value))

    def mask(self, kind: str, mask: np.ndarray, rows: np.ndarray, values: Any,
             col: int | None, column: str) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        if values is None:
            vals: list[Any] = [""] * len(idx)
        elif isinstance(values, Coded):
            vals = [values.values[c] for c in values.codes[idx]]
        else:
            vals = values.take(pa.array(idx)).to_pylist()
        for i, v in zip(idx.tolist(), vals):
            self.add(kind, int(rows[i]), col, column, "" if v is None else str(v))


def _sheet_ref(sheet: str) -> str:
    return sheet if re.fullmatch(r"\w+", sheet) else "'" + sheet.replace("'", "''") + "'"
