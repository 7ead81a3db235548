"""Writing workbooks atomically."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from workbench.io import atomic


def write_workbook(wb: Workbook, path: Path) -> Path:
    """Save an openpyxl Workbook to ``path`` atomically."""
    return atomic.write_with(path, lambda tmp: wb.save(tmp))
