"""Canonical tables on disk (Parquet through pyarrow), written atomically.

Layout inside an engagement folder::

    work/ledger.parquet        the transactions ledger (columns: workbench.columns.LEDGER_COLUMNS)
    work/customers.parquet     the customers table (CUSTOMERS_COLUMNS)
    work/import_report.json    the last import report
    work/<YYYY-MM>/...         results of the steps for one reporting month
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.io import atomic

if TYPE_CHECKING:
    import pandas as pd

# Tables this process wrote or read, by file: (size, mtime_ns, inode) of the file then, the
# frame. A notebook step reads the ledger the step before it read, a command segments the
# tables it has just imported: the frame in memory is reused while the file on disk is
# still the one it came from. Only tables asked for (``remember=True``: the canonical tables
# and the segments), the last MEMO_TABLES of them.
_MEMO: dict[str, tuple[tuple[int, int, int], pd.DataFrame]] = {}
MEMO_TABLES = 4


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def keep(path: Path, df: pd.DataFrame) -> None:
    """Keep ``df`` as the table of ``path`` (just written from it) for ``read_parquet(remember=True)``."""
    import pandas as pd

    key = str(Path(path).resolve())
    ident = _identity(path)
    _MEMO.pop(key, None)
    if ident is None or not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        return  # a table read back gets a fresh 0..n-1 index: only such tables are kept
    _MEMO[key] = (ident, df)
    while len(_MEMO) > MEMO_TABLES:
        _MEMO.pop(next(iter(_MEMO)))


def write_parquet(df: pd.DataFrame, path: Path, remember: bool = False) -> Path:
    """Atomically write ``df`` to ``path`` as Parquet (index dropped).

    remember: keep ``df`` in memory, so that ``read_parquet(path, remember=True)`` in this
    process returns it without reading the file, while the file is unchanged.
    """
    atomic.write_with(path, lambda tmp: df.to_parquet(tmp, index=False, engine="pyarrow"))
    if remember:
        keep(path, df)
    return Path(path)


def read_parquet(path: Path, remember: bool = False) -> pd.DataFrame:
    """Read a Parquet table written by ``write_parquet``.

    remember: return the frame this process last wrote or read from ``path`` while the
    file is the same (size, modification time and inode), else read it and keep it. The
    caller gets its own frame (a shallow copy: with copy-on-write, changing it never
    changes the kept one).
    """
    if remember:
        kept = _MEMO.get(str(Path(path).resolve()))
        if kept is not None and kept[0] == _identity(path):
            return kept[1].copy(deep=False)
    import pandas as pd

    df = pd.read_parquet(path, engine="pyarrow")
    if remember:
        keep(path, df)
        return df.copy(deep=False)
    return df


def read_parquet_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Some columns of a Parquet table (the others are not read)."""
    import pandas as pd

    return pd.read_parquet(path, engine="pyarrow", columns=columns)


def forget_tables() -> None:
    """Drop every table kept in memory (tests; a long session that wants the memory back)."""
    _MEMO.clear()


def release_tables() -> None:
    """``forget_tables``, and the blocks Arrow's allocator keeps for reuse given back to the
    system (at 1 M rows 260 MB a process would hold after it let go of the ledger)."""
    forget_tables()
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def write_json(data: Any, path: Path) -> Path:
    """Atomically write JSON (UTF-8, readable)."""
    return atomic.write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str))


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def month_dir(work_dir: Path, month: str) -> Path:
    """The folder holding one reporting month's intermediate results."""
    return Path(work_dir) / month
