"""Results reused while nothing they were made from has changed.

A step whose inputs are unchanged need not run again: ``workbench segment`` called twice on
the same exports, ``workbench run`` after ``workbench import``. Such a result is stored with a
*key file* beside it (JSON, written atomically, last):

* ``key``: SHA-256 of everything the result was made from: the bytes of every input file,
  the settings that matter, the version of the code (every module and message catalogue of
  the package), and whatever else the caller names;
* ``outputs``: every file the step wrote, with its size and modification time as written;
* ``meta``: a few numbers the caller keeps for later (counts, dates, a summary).

``lookup`` gives the meta back only when the key is the same and every output still stands
as it was written; anything else (a changed byte in an input, another setting, another
version of the code, an output deleted or edited, no key file) means the step runs again.
Before writing new outputs a step removes its key file (``forget``), so a step killed
half-way never leaves a key that vouches for outputs of two different runs.

Nothing here is trusted to run code: key files are JSON, compared as data.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from workbench.io import atomic

KEY_SCHEMA = 1


def digest(value: Any) -> str:
    """SHA-256 of a JSON-able value (keys sorted: the same value gives the same digest)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes (hardware-accelerated: 0.1 s for 130 MB); None when it is
    missing or not a regular file."""
    if not os.path.isfile(path):  # a pipe would block the read
        return None
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


@cache
def code_version() -> str:
    """A digest of the package's code and message catalogues: another version of the
    workbench (an upgrade, a local edit) never reuses what an older one made."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.yaml")]):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def files_digest(root: Path, paths: Iterable[Path]) -> list[tuple[str, str | None]]:
    """(path relative to ``root``, content digest or None when missing) of each file, sorted."""
    root = Path(root)
    seen: dict[str, str | None] = {}
    for path in paths:
        path = Path(path)
        try:
            rel = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        if rel not in seen:
            seen[rel] = file_digest(path)
    return sorted(seen.items())


def table_digest(db: Path, table: str) -> str:
    """A digest of one table of an SQLite file as stored ("" when there is no file).

    Read-only; a file that cannot be read gives a digest of its size and time, so it never
    matches a readable state.
    """
    import sqlite3

    db = Path(db)
    if not db.is_file():
        return ""
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608 - our own name
        finally:
            con.close()
    except sqlite3.Error:
        st = db.stat()
        return digest(["unreadable", st.st_size, st.st_mtime_ns])
    return digest(rows)


def _signature(path: Path) -> list[int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _output_files(outputs: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in outputs:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files


def store(keyfile: Path, key: str, root: Path, outputs: Iterable[Path], meta: dict[str, Any]) -> None:
    """Record that ``outputs`` (files, or folders of files) were made from ``key``."""
    root = Path(root).resolve()
    signed = {}
    for path in _output_files(outputs):
        sig = _signature(path)
        if sig is None:
            return  # an output is missing: nothing to vouch for
        signed[Path(path).resolve().relative_to(root).as_posix()] = sig
    atomic.write_text(keyfile, json.dumps({"schema": KEY_SCHEMA, "key": key, "outputs": signed, "meta": meta},
                                          ensure_ascii=False, indent=1, default=str))


def lookup(keyfile: Path, key: str, root: Path) -> dict[str, Any] | None:
    """The meta stored with ``key`` when every output still stands as written; else None."""
    try:
        data = json.loads(Path(keyfile).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != KEY_SCHEMA or data.get("key") != key:
        return None
    outputs = data.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        return None
    root = Path(root)
    for rel, sig in outputs.items():
        if _signature(root / rel) != sig:
            return None
    meta = data.get("meta")
    return meta if isinstance(meta, dict) else None


def forget(keyfile: Path) -> None:
    """Remove a key file (before its outputs are written again)."""
    with contextlib.suppress(FileNotFoundError):
        Path(keyfile).unlink()
