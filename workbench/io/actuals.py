"""The consultant's monthly actuals workbook: ``actuals/<YYYY-MM>.xlsx``.

One sheet («Факт» / «Actuals»), one row per entered checkpoint due that month (and the
overdue ones): its key, map, activity, KPI, unit, an input cell for the actual *to date*
and one for a comment, then the target, the deadline and the last value entered before.
Input cells carry Excel data validation (whole numbers ≥ 0 for counts, shares between 0
and 1, other numbers ≥ 0); every other cell is locked (sheet protection without a
password: it guards against slips, not against people).

Reading it back validates every input cell and names the cell in any error.
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.errors import ActualsError, Problem, WorkbenchError
from workbench.i18n import LANGUAGES, t

log = logging.getLogger(__name__)

HEADER_ROW = 4
FIRST_ROW = HEADER_ROW + 1
# column letter -> field
LAYOUT = (("A", "key"), ("B", "map"), ("C", "activity"), ("D", "kpi_name"), ("E", "unit_label"),
          ("F", "actual"), ("G", "comment"), ("H", "target"), ("I", "deadline"), ("J", "previous"),
          ("K", "unit"))
COL = {field: letter for letter, field in LAYOUT}
INPUT_FIELDS = ("actual", "comment")
SHEET_NAMES = {lang: str(t("traction.actuals_sheet", lang)) for lang in LANGUAGES}
ENTRY_COLUMNS = ("key", "actual", "comment", "cell")
_SPACES = re.compile(r"[\s\u00a0\u202f]")


def actuals_path(actuals_dir: Path, month: str) -> Path:
    return Path(actuals_dir) / f"{month}.xlsx"


# --------------------------------------------------------------------------- render
def render_actuals_workbook(due: pd.DataFrame, month: str, lang: str, titles: Mapping[str, str] | None = None,
                            client: str = "", keep: Mapping[str, tuple[Any, Any]] | None = None,
                            extra_rows: list[list[Any]] | None = None) -> Any:
    """The actuals workbook for ``month`` (openpyxl Workbook; not written).

    due : ``traction.due_for_entry`` output (CHECKPOINT_COLUMNS + key + previous)
    titles : map_id -> display title
    keep : key -> (actual, comment) already entered (kept by ``--force``)
    extra_rows : whole rows (A..K values) of an older file whose checkpoint is no longer due
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    from workbench.report import fmt
    from workbench.report.xlsx import BORDER, HEADER_FILL, HEADER_FONT, TITLE_FONT, set_value

    titles, keep = titles or {}, keep or {}
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAMES[lang]
    set_value(ws["A1"], t("traction.actuals_title", lang, month=fmt.month(month, lang), client=client))
    ws["A1"].font = TITLE_FONT
    set_value(ws["A2"], t("traction.actuals_help", lang))
    set_value(ws["A3"], t("traction.actuals_help_units", lang))
    for cell in (ws["A2"], ws["A3"]):
        cell.font = Font(italic=True, color="555555")
    headers = t("traction.actuals_headers", lang)
    for letter, field in LAYOUT:
        cell = ws[f"{letter}{HEADER_ROW}"]
        set_value(cell, headers[field])
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    units = t("traction.unit", lang)
    input_fill = PatternFill("solid", fgColor="FFF2CC")
    rows: list[list[Any]] = []
    for rec in due.to_dict("records"):
        key = str(rec["key"])
        actual, comment = keep.get(key, (None, None))
        unit = str(rec[C.UNIT])
        rows.append([key, titles.get(str(rec[C.MAP_ID]), str(rec[C.MAP_ID])), rec[C.ACTIVITY], rec[C.KPI_NAME],
                     units.get(unit, unit), actual, comment, rec[C.TARGET], rec[C.DEADLINE],
                     None if pd.isna(rec.get("previous")) else float(rec["previous"]), unit])
    rows.extend(extra_rows or [])
    by_unit: dict[str, list[str]] = {}
    for i, values in enumerate(rows):
        r = FIRST_ROW + i
        for (letter, field), value in zip(LAYOUT, values):
            cell = ws[f"{letter}{r}"]
            if value is not None and not (isinstance(value, float) and pd.isna(value)):
                set_value(cell, value, "decimal" if field in ("target", "previous") else None)
            cell.border = BORDER
            if field in INPUT_FIELDS:
                cell.fill = input_fill
                cell.protection = Protection(locked=False)
        by_unit.setdefault(_rule_of(str(values[-1])), []).append(f"{COL['actual']}{r}")
    prompts = t("traction.actuals_validation", lang)
    for rule, cells in by_unit.items():
        if rule == "share":
            dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="1", allow_blank=True)
        elif rule == "count":
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        else:
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        dv.error, dv.errorTitle = prompts[rule], prompts["title"]
        dv.prompt, dv.promptTitle = prompts[rule], prompts["title"]
        dv.showErrorMessage = dv.showInputMessage = True
        for ref in cells:
            dv.add(ref)
        ws.add_data_validation(dv)
    widths = {"A": 10, "B": 28, "C": 48, "D": 30, "E": 10, "F": 14, "G": 30, "H": 12, "I": 10, "J": 12, "K": 8}
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    for letter in ("A", "K"):
        ws.column_dimensions[letter].hidden = True  # technical: the key and the unit code
    for r in range(FIRST_ROW, FIRST_ROW + len(rows)):
        ws[f"C{r}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = f"B{FIRST_ROW}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    return wb


def _rule_of(unit: str) -> str:
    return "share" if unit == "share" else "count" if unit == "count" else "number"


# --------------------------------------------------------------------------- read
def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


class SheetProblem(Exception):
    """No sheet, or more than one, looks like the actuals sheet (kind, the sheets' names)."""

    def __init__(self, kind: str, value: str) -> None:
        super().__init__(kind)
        self.kind, self.value = kind, value


def _has_headers(ws: Any) -> bool:
    """The sheet carries the actuals headers (either language) in its header row."""
    key, actual = ws[f"{COL['key']}{HEADER_ROW}"].value, ws[f"{COL['actual']}{HEADER_ROW}"].value
    return any(key == h["key"] and actual == h["actual"]
               for h in (t("traction.actuals_headers", lang) for lang in LANGUAGES))


def _sheet(wb: Any) -> Any:
    """The actuals sheet: the one sheet with the actuals headers, whatever its name or place
    (a renamed sheet behind another was read as empty); else the sheet named «Факт» / «Actuals».

    Raises SheetProblem when there are several such sheets or none.
    """
    found = [ws for ws in wb.worksheets if _has_headers(ws)]
    if len(found) > 1:
        raise SheetProblem("actuals_two_sheets", ", ".join(ws.title for ws in found))
    if found:
        return found[0]
    for name in SHEET_NAMES.values():
        if name in wb.sheetnames:
            return wb[name]
    raise SheetProblem("actuals_no_sheet", ", ".join(wb.sheetnames))


def raw_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of an actuals workbook as they stand (no validation): field -> value, plus ``row``,
    ``sheet`` and ``formulas`` (input field -> formula text, for input cells holding a formula
    without a saved value: read as blank, they would lose the entry)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, data_only=True)
    ws = _sheet(wb)
    formulas = load_workbook(path, data_only=False)[ws.title]
    out = []
    for r in range(FIRST_ROW, ws.max_row + 1):
        key = ws[f"{COL['key']}{r}"].value
        if key is None or str(key).strip() == "":
            continue
        rec = {field: ws[f"{letter}{r}"].value for letter, field in LAYOUT}
        rec["row"] = r
        rec["sheet"] = ws.title
        rec["formulas"] = {}
        for field in INPUT_FIELDS:
            written = formulas[f"{COL[field]}{r}"].value
            if rec[field] is None and isinstance(written, str) and written.startswith("="):
                rec["formulas"][field] = written
        out.append(rec)
    return out


def has_entries(path: Path) -> bool:
    """True when an actuals workbook holds any actual or comment."""
    return any(_filled(r["actual"]) or _filled(r["comment"]) for r in raw_rows(path))


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def parse_value(value: Any, unit: str) -> tuple[float | None, str]:
    """Parse one input cell. Returns (value or None when blank, problem kind or '')."""
    rule = _rule_of(unit)
    kind_of = {"share": "actuals_share", "count": "actuals_whole", "number": "actuals_number"}
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None, ""
    if isinstance(value, bool):
        return None, kind_of[rule]
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        text = _SPACES.sub("", str(value)).replace(",", ".")
        percent = text.endswith("%")
        text = text.rstrip("%")
        try:
            x = float(text)
        except ValueError:
            return None, kind_of[rule]
        if percent:
            x /= 100.0
    if not math.isfinite(x) or x < 0:
        return None, kind_of[rule]
    if rule == "share" and x > 1:
        return None, kind_of[rule]
    if rule == "count" and not x.is_integer():
        return None, kind_of[rule]
    return x, ""


def read_actuals(path: str | Path, checkpoints: pd.DataFrame | None, lang: str = "ru") -> pd.DataFrame:
    """Read and validate an actuals workbook.

    Parameters
    ----------
    path : ``actuals/<YYYY-MM>.xlsx``
    checkpoints : the plan (CHECKPOINT_COLUMNS, optionally with ``key``); gives each row's
        unit. Rows whose key is not in the plan are skipped (counted in the log) when nothing
        is entered on them, refused otherwise. None: the unit stored in the workbook is used.
    lang : language of the error message

    Returns
    -------
    DataFrame ``key, actual (float; NaN when blank), comment, cell`` for rows with a value
    or a comment.

    Raises
    ------
    ActualsError (an InputError) naming every bad cell (``Sheet!F7``), its header and value:
    values out of range, a checkpoint twice, an ID not in the plan on a row with an entry, a
    formula without a saved value; no actuals sheet or two.
    """
    path = Path(path)
    label = _label(path)
    try:
        rows = raw_rows(path)
    except SheetProblem as exc:
        raise ActualsError([Problem(kind=exc.kind, file=label, value=exc.value)], lang, file=str(path)) from exc
    except Exception as exc:  # not a workbook, encrypted, truncated
        raise ActualsError([Problem(kind="unreadable", file=label, value=type(exc).__name__)], lang,
                           file=str(path)) from exc
    units: dict[str, str] = {}
    if checkpoints is not None and len(checkpoints):
        from workbench.traction import checkpoint_keys

        keys = checkpoints["key"] if "key" in checkpoints.columns else checkpoint_keys(checkpoints)
        units = dict(zip(keys.astype(str), checkpoints[C.UNIT].astype(str)))
    header = t("traction.actuals_headers", lang)["actual"]
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    skipped = 0
    for rec in rows:
        key = str(rec["key"]).strip()
        cell = f"{rec['sheet']}!{COL['actual']}{rec['row']}"
        if key in seen:
            problems.append(Problem(kind="actuals_duplicate", file=label, row=f"{rec['sheet']}!A{rec['row']}",
                                    column="ID", value=key))
            continue
        seen[key] = cell
        entered = _filled(rec["actual"]) or _filled(rec["comment"]) or rec["formulas"]
        if units and key not in units:
            if entered:  # an entry that would be lost: an ID edited, or a row pasted from elsewhere
                problems.append(Problem(kind="actuals_unknown_key", file=label,
                                        row=f"{rec['sheet']}!{COL['key']}{rec['row']}", column="ID", value=key))
            else:
                skipped += 1
            continue
        for field, formula in rec["formulas"].items():
            problems.append(Problem(kind="formula_no_value", file=label,
                                    row=f"{rec['sheet']}!{COL[field]}{rec['row']}",
                                    column=t("traction.actuals_headers", lang)[field], value=formula))
        if rec["formulas"]:
            continue
        unit = units.get(key, str(rec.get("unit") or "number"))
        value, kind = parse_value(rec["actual"], unit)
        if kind:
            problems.append(Problem(kind=kind, file=label, row=cell, column=header, value=str(rec["actual"])))
            continue
        comment = "" if rec["comment"] is None else str(rec["comment"]).strip()
        if value is not None or comment:
            out.append({"key": key, "actual": value, "comment": comment, "cell": cell})
    if problems:
        raise ActualsError(problems, lang, file=str(path))
    if skipped:
        log.info("actuals %s: rows not in the plan skipped=%d", path.name, skipped)
    frame = pd.DataFrame(out, columns=list(ENTRY_COLUMNS))
    return frame.astype({"key": "string", "actual": "float64", "comment": "string", "cell": "string"})


# --------------------------------------------------------------------------- the command's IO
def find_plan(eng: Any, month: str) -> tuple[pd.DataFrame, str]:
    """The checkpoints of the latest run at or before ``month``: (checkpoints, run month).

    Looks in ``work/<YYYY-MM>/checkpoints_{maps,cjm}.parquet``, then in the history.
    Raises WorkbenchError when the engagement has not been run yet.
    """
    from workbench.io import tables

    lang = eng.lang
    work = Path(eng.work_dir)
    candidates = sorted((p for p in work.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]")
                         if p.is_dir() and p.name <= month), reverse=True) if work.is_dir() else []
    for folder in candidates:
        files = [folder / "checkpoints_maps.parquet", folder / "checkpoints_cjm.parquet"]
        found = [tables.read_parquet(f) for f in files if f.is_file()]
        if found:
            cps = pd.concat(found, ignore_index=True)
            if len(cps):
                return cps[list(C.CHECKPOINT_COLUMNS)], folder.name
    from workbench.history import load_history

    hist = load_history(eng.history_path, lang)["checkpoints"]
    hist = hist[hist["month"] <= month]
    if len(hist):
        last = hist["month"].max()
        h = hist[hist["month"] == last].rename(columns={"month": "run_month"}).rename(columns={"cp_month": "month"})
        return h[list(C.CHECKPOINT_COLUMNS)], str(last)
    raise WorkbenchError(t("traction.no_plan", lang, path=str(eng.root), month=month))


def write_actuals(eng: Any, month: str, due: pd.DataFrame, titles: Mapping[str, str], force: bool = False
                  ) -> Path:
    """Write ``actuals/<month>.xlsx`` prefilled with ``due``; return its path.

    An existing file with entries is never overwritten unless ``force``; then the entered
    values and comments are kept (by checkpoint key), and rows no longer due but holding
    entries are carried over at the end.
    """
    from workbench.io.xlsxout import write_workbook

    lang = eng.lang
    path = actuals_path(eng.actuals_dir, month)
    keep: dict[str, tuple[Any, Any]] = {}
    extra: list[list[Any]] = []
    if path.is_file():
        try:
            rows = raw_rows(path)
        except Exception as exc:
            raise WorkbenchError(t("traction.actuals_unreadable", lang, path=str(path))) from exc
        filled = [r for r in rows if _filled(r["actual"]) or _filled(r["comment"])]
        if filled and not force:
            raise WorkbenchError(t("traction.actuals_exists", lang, path=str(path), n=len(filled)))
        due_keys = set(due["key"].astype(str))
        for r in filled:
            keep[str(r["key"])] = (r["actual"], r["comment"])
            if str(r["key"]) not in due_keys:
                extra.append([r[field] for _, field in LAYOUT])
    wb = render_actuals_workbook(due, month, lang, titles, eng.client, keep, extra)
    write_workbook(wb, path)
    log.info("actuals %s rows=%d kept=%d", path.name, len(due) + len(extra), len(keep))
    return path


__all__ = [
    "COL",
    "FIRST_ROW",
    "HEADER_ROW",
    "SHEET_NAMES",
    "actuals_path",
    "find_plan",
    "has_entries",
    "parse_value",
    "raw_rows",
    "read_actuals",
    "render_actuals_workbook",
    "write_actuals",
]
