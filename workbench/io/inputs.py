"""Which files are in an engagement's folder: glob patterns of engagement.yaml and data/.

Listing only (nothing is opened or written here): ``workbench.ingest.sources`` decides
which file is read as which input.
"""
from __future__ import annotations

import glob
import re
from pathlib import Path

_GLOB_CHARS = re.compile(r"[*?\[]")


def is_pattern(text: str) -> bool:
    """True when ``text`` is a glob pattern (``*``, ``?``, ``[...]``), not one path."""
    return bool(_GLOB_CHARS.search(text))


def is_data_file(path: Path) -> bool:
    """A file a client could have sent: not hidden, not an Office lock file (``~$…``), not a
    half-copied temporary (``.tmp-…``, ``….part``)."""
    name = path.name
    return path.is_file() and not name.startswith((".", "~$")) and not name.endswith((".part", ".crdownload"))


def expand(root: Path, pattern: str) -> list[Path]:
    """Files inside ``root`` matched by ``pattern`` (relative to ``root``), sorted by name.

    A plain path (no glob characters) is returned as it is, existing or not (reading it
    says when it is missing); a pattern yields only data files (``is_data_file``) that
    stay inside ``root`` (a symlink out of the folder is not followed).
    """
    root = Path(root)
    if not is_pattern(pattern):
        return [root / pattern]
    found = sorted(Path(p) for p in glob.glob(str(root / pattern), recursive=True))
    base = root.resolve()
    out = []
    for p in found:
        try:
            p.resolve().relative_to(base)
        except ValueError:
            continue
        if is_data_file(p):
            out.append(p)
    return out


def data_files(data_dir: Path) -> list[Path]:
    """The data files directly inside ``data_dir`` (sorted by name); none when it is missing."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return []
    return sorted(p for p in data_dir.iterdir() if is_data_file(p))


def same_file(a: Path, b: Path) -> bool:
    """Two paths naming one file (after resolving links and ``..``)."""
    return Path(a).resolve() == Path(b).resolve()


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    import filecmp

    return filecmp.cmp(a, b, shallow=False)


def unique_name(data_dir: Path, name: str, taken: set[str] | None = None) -> str:
    """``name`` when no file of ``data_dir`` (nor of ``taken``) has it, else ``stem-2.ext``,
    ``stem-3.ext``, …: the first free one."""
    taken = {x.casefold() for x in (taken or set())}
    path = Path(name)
    candidate, n = name, 2
    while (Path(data_dir) / candidate).exists() or candidate.casefold() in taken:
        candidate = f"{path.stem}-{n}{path.suffix}"
        n += 1
    return candidate


def copy_into(src: Path, data_dir: Path, skip_identical: bool = True) -> tuple[Path, str]:
    """Copy the client's file ``src`` into ``data_dir`` byte for byte, never overwriting.

    Returns (the file in ``data_dir``, what happened): ``copied`` (under its own name),
    ``renamed`` (a file of that name was there: copied as ``stem-2.ext``, …) or
    ``identical`` (``skip_identical`` and a file with the same bytes is already there: not
    copied, that file returned). The copy is written aside and linked into place, so a
    file appearing meanwhile under the same name is never replaced.
    """
    import os
    import shutil
    import tempfile

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if skip_identical:
        for existing in data_files(data_dir):
            if _same_bytes(src, existing):
                return existing, "identical"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-add.", dir=data_dir)
    os.close(fd)
    try:
        shutil.copy2(src, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        while True:
            name = unique_name(data_dir, src.name)
            try:
                os.link(tmp, data_dir / name)  # fails when the name exists: never overwrites
            except FileExistsError:
                continue
            except OSError:  # no hard links here (some shares): create exclusively, then fill
                try:
                    out = os.open(data_dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    continue
                with os.fdopen(out, "wb") as dst, open(tmp, "rb") as fh:
                    shutil.copyfileobj(fh, dst)
                    dst.flush()
                    os.fsync(dst.fileno())
                shutil.copystat(src, data_dir / name)
            break
    finally:
        Path(tmp).unlink(missing_ok=True)
    return data_dir / name, "copied" if name == src.name else "renamed"
