"""The workshop's files in the engagement's ``overrides/`` folder, with previous versions kept.

Layout (paths relative to ``<engagement>/overrides``)::

    settings.yaml              the agreed thresholds: a partial settings tree laid over
                               engagement.yaml by ``workbench.config.load_engagement``
    maps.yaml                  the map edits (format: ``workbench.maps.validate_map_overrides``)
    cjm/<template>.yaml        edited copies of CJM templates (read by ``workbench.io.cjmfiles``)
    .history/<stamp>/          the files as they were before the save of ``<stamp>``, with
                               ``manifest.json`` = {"stamp", "files": {relative path: existed before}}

Every write is atomic. Nothing here validates: the workshop validates before it calls
:func:`save_files`, so invalid input never reaches the disk.
"""
from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.config import SETTINGS_OVERRIDES_NAME
from workbench.errors import ConfigError
from workbench.i18n import t
from workbench.io import atomic
from workbench.io.yamlfiles import safe_load

HISTORY_DIR = ".history"
MANIFEST = "manifest.json"


def settings_path(overrides_dir: Path) -> Path:
    """``<engagement>/overrides/settings.yaml``."""
    return Path(overrides_dir) / SETTINGS_OVERRIDES_NAME


def read_settings_overrides(overrides_dir: Path, lang: str = "ru") -> dict[str, Any]:
    """The partial settings tree of ``overrides/settings.yaml`` (``{}`` when missing or empty)."""
    import yaml

    path = settings_path(overrides_dir)
    if not path.is_file():
        return {}
    try:
        data = safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(t("config.not_yaml", lang, file=str(path), error=str(exc).splitlines()[0])) from exc
    if not isinstance(data, dict):
        raise ConfigError(t("config.header", lang, file=str(path)) + "\n  - "
                          + t("config.expected_mapping", lang, key="/", value=type(data).__name__))
    return data


def yaml_text(data: Any, header: str = "") -> str:
    """YAML text of ``data`` (Unicode kept, keys in the given order), under a ``# header`` line."""
    import yaml

    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110, default_flow_style=False)
    return (f"# {header}\n" if header else "") + body


def new_stamp() -> str:
    """A sortable time stamp for a save: ``YYYYmmdd-HHMMSS-ffffff``."""
    return datetime.now().strftime("%Y%m%d-%H%M%S-%f")


def save_files(overrides_dir: Path, files: dict[str, str], stamp: str) -> Path:
    """Write ``files`` (relative path -> text) into ``overrides_dir``, keeping the previous versions.

    The current version of each file (or the fact that it did not exist) is copied to
    ``.history/<stamp>/`` first; then each file is replaced atomically. Returns the
    history folder.
    """
    root = Path(overrides_dir)
    hist = root / HISTORY_DIR / stamp
    existed: dict[str, bool] = {}
    for rel in files:
        _check_rel(rel)
        current = root / rel
        existed[rel] = current.is_file()
        if existed[rel]:
            atomic.write_bytes(hist / rel, current.read_bytes())
    atomic.write_text(hist / MANIFEST, json.dumps({"stamp": stamp, "files": existed}, ensure_ascii=False, indent=1))
    for rel, text in files.items():
        atomic.write_text(root / rel, text)
    return hist


def history(overrides_dir: Path) -> list[Path]:
    """The saves that can be undone, oldest first (folders with a manifest)."""
    folder = Path(overrides_dir) / HISTORY_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def undo_last(overrides_dir: Path) -> tuple[str, list[str]] | None:
    """Put back the files as they were before the last save; return (stamp, files) or None.

    A file the save created is removed; the history folder of that save is removed last,
    so the next undo goes one save further back.
    """
    import shutil

    saves = history(overrides_dir)
    if not saves:
        return None
    hist = saves[-1]
    root = Path(overrides_dir)
    manifest = json.loads((hist / MANIFEST).read_text(encoding="utf-8"))
    files = manifest.get("files", {})
    for rel, existed in files.items():
        _check_rel(rel)
        if existed:
            atomic.write_bytes(root / rel, (hist / rel).read_bytes())
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(root / rel)
    shutil.rmtree(hist, ignore_errors=True)
    return str(manifest.get("stamp", hist.name)), sorted(files)


def _check_rel(rel: str) -> None:
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not parts or parts[0] == HISTORY_DIR:
        raise ValueError(f"override path {rel!r} must stay inside overrides/")
