"""A grouped 1C report saved to xlsx, read as the flat table it stands for.

«Анализ счета», «Валовая прибыль», «Продажи» with groupings put the whole tree in one label
column: the header block names the levels in stacked rows («Организация», «Контрагент»,
«Документ»), the level of each row is only in its Excel outline level, and every group row
carries its subtotal (summing every row counts the revenue once per level). Here the
document rows (the deepest level) become the rows of a flat table whose first columns are
their ancestors' labels, one per level; a label «Name, INN» gives the level an INN column
(«Контрагент.ИНН»). The group rows are left out and counted; the report's own «Итого» is
kept to check the sum against. The flat table then goes through header recognition and
roles like any file.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import numpy as np
import pyarrow as pa

from workbench.io.readers import Body, Source, _cell_text

_NAME_INN_RE = re.compile(r"^(.*\S),\s*(\d{10}|\d{12})$")


def _filled(row: list[Any]) -> bool:
    return any(v is not None and str(v).strip() for v in row)


class GroupedSource(Source):
    """The flat table of a grouped xlsx report (see the module docstring).

    ``grouped``: what the flattening did, for the import report: level names, leaf level,
    group rows left out, and the report's own total row (its values per flat column).
    """

    format = "xlsx"
    delimiters = ("",)

    def __init__(self, source: Any, header_rows: list[int], data_start: int, levels: dict[int, int]) -> None:
        self.file, self.sheet, self.encoding = source.file, source.sheet, ""
        rows = source._rows
        deepest = max(levels.values())
        names = [_cell_text(rows[r - 1][0]).strip() if rows[r - 1] else "" for r in header_rows]
        top = [_cell_text(v).strip() for v in rows[header_rows[0] - 1]]
        width = max(len(r) for r in rows[data_start - 1:]) if len(rows) >= data_start else len(top)
        values = top[1:] + [""] * max(0, width - len(top))
        leaves: list[tuple[int, list[str], list[Any]]] = []  # (row, labels by level, values)
        path = [""] * (deepest + 1)
        group_rows = 0
        total: list[Any] | None = None
        for r in range(data_start, len(rows) + 1):
            row = list(rows[r - 1])
            if not _filled(row):
                continue
            level = levels.get(r, 0)
            label = _cell_text(row[0]).strip() if row else ""
            if level == deepest:
                path[level] = label
                leaves.append((r, list(path), row[1:]))
            else:
                path[level] = label
                for k in range(level + 1, deepest + 1):
                    path[k] = ""
                if level == 0 and r != data_start and not any(p for p in path[1:]):
                    total = row[1:]  # a closing level-0 row after the groups: the report's «Итого»
                group_rows += 1
        # a level whose labels read «Name, INN» gets an INN column of its own
        with_inn = [k for k in range(deepest + 1)
                    if leaves and sum(bool(_NAME_INN_RE.match(p[k])) for _, p, _ in leaves) * 2 > len(leaves)]
        labels: list[str] = []
        for k in range(deepest + 1):
            labels.append(names[k] if k < len(names) and names[k] else f"#{k + 1}")
            if k in with_inn:
                labels.append(f"{labels[-1]}.ИНН")
        self._header = labels + values
        self._first, self._last = header_rows[0], header_rows[-1]
        self._leaves = []
        for r, p, vals in leaves:
            cells: list[Any] = []
            for k in range(deepest + 1):
                m = _NAME_INN_RE.match(p[k]) if k in with_inn else None
                cells += [m.group(1), m.group(2)] if m else ([p[k], ""] if k in with_inn else [p[k]])
            self._leaves.append((r, cells + list(vals) + [None] * (len(values) - len(vals))))
        nlabels = len(labels)
        self.grouped = {"levels": [n for n in names], "leaf_level": deepest, "group_rows": group_rows,
                        "leaves": len(leaves),
                        "total": {nlabels + j: v for j, v in enumerate(total or [])
                                  if isinstance(v, (int, float)) and not isinstance(v, bool)}}

    def preview(self, delimiter: str) -> list[tuple[int, int, list[str]]]:
        out = [(self._first, self._last, list(self._header))]
        out += [(r, r, [_cell_text(v) for v in cells]) for r, cells in self._leaves[:40]]
        return out

    def body(self, delimiter: str, start: int, ncols: int, coded: Collection[int] = (),
             raw: Collection[int] = ()) -> Body:
        leaves = [(r, c) for r, c in self._leaves if r >= start]
        texts: list[list[str]] = [[] for _ in range(ncols)]
        nums = [np.full(len(leaves), np.nan) for _ in range(ncols)]
        for i, (_, cells) in enumerate(leaves):
            for c in range(ncols):
                v = cells[c] if c < len(cells) else None
                texts[c].append(_cell_text(v))
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    nums[c][i] = float(v)
        return Body(cells=[pa.array(t, pa.string()) for t in texts],
                    rows=np.array([r for r, _ in leaves], dtype=np.int64), numbers=nums,
                    date_cells=[0] * ncols)


def flatten(source: Source) -> Source:
    """The flat table of a grouped xlsx report; any other source as it is."""
    levels: dict[int, int] = getattr(source, "levels", None) or {}
    if source.format != "xlsx" or not levels:
        return source
    rows = source._rows  # type: ignore[attr-defined]
    deepest = max(levels.values())
    first_grouped = min(levels)
    # the group row at level 0 just above the first grouped row opens the data
    data_start = first_grouped
    r = first_grouped - 1
    while r >= 1 and not _filled(rows[r - 1]):
        r -= 1
    if r >= 1 and levels.get(r, 0) == 0 and any(isinstance(v, (int, float)) for v in rows[r - 1][1:]):
        data_start = r
    # the header block: the deepest + 1 filled rows above, each naming a level in its first cell
    header_rows: list[int] = []
    r = data_start - 1
    while r >= 1 and len(header_rows) < deepest + 1:
        if _filled(rows[r - 1]):
            header_rows.insert(0, r)
        r -= 1
    stacked = all(rows[h - 1] and rows[h - 1][0] is not None for h in header_rows) and all(
        not _filled(list(rows[h - 1])[1:]) for h in header_rows[1:])  # lower rows: the level name alone
    if len(header_rows) < deepest + 1 or not stacked:
        return source  # not laid out as a grouped report: read as it is
    return GroupedSource(source, header_rows, data_start, levels)
