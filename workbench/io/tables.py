"""Canonical tables on disk (Parquet through pyarrow), written atomically.

Layout inside an engagement folder::

    work/ledger.parquet        the transactions ledger (columns: workbench.columns.LEDGER_COLUMNS)
    work/customers.parquet     the customers table (CUSTOMERS_COLUMNS)
    work/import_report.json    the last import report
    work/<YYYY-MM>/...         results of the steps for one reporting month
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.io import atomic


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Atomically write ``df`` to ``path`` as Parquet (index dropped)."""
    return atomic.write_with(path, lambda tmp: df.to_parquet(tmp, index=False, engine="pyarrow"))


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet table written by ``write_parquet``."""
    return pd.read_parquet(path, engine="pyarrow")


def write_json(data: Any, path: Path) -> Path:
    """Atomically write JSON (UTF-8, readable)."""
    return atomic.write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str))


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def month_dir(work_dir: Path, month: str) -> Path:
    """The folder holding one reporting month's intermediate results."""
    return Path(work_dir) / month
