"""workbook.xlsx: one coherent workbook from the results of this run's steps."""
from __future__ import annotations

import importlib
from pathlib import Path

from openpyxl import Workbook

from workbench.config import Engagement
from workbench.i18n import t
from workbench.report import fmt
from workbench.report.xlsx import Book

# step result name -> (module, function adding its sheets), in workbook order
SHEET_WRITERS = (
    ("segment", "workbench.report.segment_report", "add_segment_sheets"),
    ("import", "workbench.ingest.report", "add_import_sheets"),
    ("funnel", "workbench.report.funnel_report", "add_funnel_sheets"),
    ("maps", "workbench.report.maps_report", "add_maps_sheets"),
    ("cjm", "workbench.report.cjm_report", "add_cjm_sheets"),
    ("traction", "workbench.report.traction_report", "add_traction_sheets"),
)


def build_workbook(step_dir: Path, eng: Engagement, month: str, lang: str) -> Workbook:
    """Build the workbook from the result objects the notebooks saved in ``step_dir``.

    Steps that did not run (no saved result) contribute no sheets.
    """
    from workbench.io import tables
    from workbench.steps import IMPORT_REPORT, load_result

    book = Book(lang, title=t("report.title", lang, client=eng.client, month=fmt.month(month, lang)),
                currency=str(eng.settings["currency"]))
    for name, module, function in SHEET_WRITERS:
        if name == "import":  # the import report is data already (JSON), kept by the import notebook
            path = Path(step_dir) / IMPORT_REPORT
            result = tables.read_json(path) if path.is_file() else None
        else:
            result = load_result(step_dir, name)
        if result is None:
            continue
        writer = getattr(importlib.import_module(module), function)
        writer(book, result, lang)
    _add_import_sheets(book, eng, lang)
    return book.workbook()


def _add_import_sheets(book: Book, eng: Engagement, lang: str) -> None:
    """Which file each month comes from and the corrections of past months (from the
    import report of this run, ``work/import_report.json``)."""
    from workbench.ingest.combine_report import add_sheets
    from workbench.io import tables

    path = eng.work_dir / "import_report.json"
    if path.is_file():
        add_sheets(book, tables.read_json(path).get("sales_files"), lang, str(eng.settings["currency"]))
