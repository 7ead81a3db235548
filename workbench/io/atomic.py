"""Atomic writes: a file is either the previous version or the complete new one.

Write to a temporary file in the same folder, fsync, then ``os.replace``. Temporary
names start with ``.tmp-`` so a later run can find and remove leftovers of a killed one.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

TMP_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + target.name + ".", dir=target.parent)
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; deliverables get the usual mode
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``target``; return ``target``."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Atomically write ``text`` to ``target``; return ``target``."""
    return write_bytes(target, text.encode(encoding))


def write_with(target: str | Path, writer: Callable[[Path], object]) -> Path:
    """Atomically produce ``target`` by calling ``writer(tmp_path)``."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def promote_dir(staging: Path, final: Path) -> None:
    """Replace directory ``final`` with the complete directory ``staging``.

    The old version is renamed aside first and removed only after the new one is in
    place, so at every instant ``final`` is either the old or the new complete folder
    (a crash in between leaves ``<final>.old-*`` for ``clean_leftovers``).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.with_name(f"{TMP_PREFIX}{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    os.replace(staging, final)
    _fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(folder: Path) -> int:
    """Remove ``.tmp-*`` files and folders left in ``folder`` by killed runs; return how many.

    A ``.tmp-<name>.old-*`` folder whose ``<name>`` is missing is the only complete copy
    (killed between the two renames of promote_dir): it is put back instead of removed.
    """
    if not folder.is_dir():
        return 0
    count = 0
    for entry in folder.iterdir():
        if not entry.name.startswith(TMP_PREFIX):
            continue
        if ".old-" in entry.name and entry.is_dir():
            original = folder / entry.name[len(TMP_PREFIX):].split(".old-")[0]
            if not original.exists():
                os.replace(entry, original)
                count += 1
                continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        count += 1
    return count


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (ignored where the system cannot)."""
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
