"""YAML files of the maps step: map templates and the consultant's map overrides.

The only place the maps step touches the disk. Every error names the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.i18n import t

MAP_OVERRIDES_NAME = "maps.yaml"  # inside the engagement's overrides/ folder


def read_yaml(path: Path, lang: str = "ru") -> Any:
    """Parse one YAML file; raise ConfigError naming the file when it cannot be read."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(t("config.not_yaml", lang, file=str(path), error=str(exc).splitlines()[0])) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(t("config.not_yaml", lang, file=str(path),
                            error=str(exc).splitlines()[0])) from exc


def read_yaml_dir(folder: Path, lang: str = "ru") -> dict[str, tuple[str, Any]]:
    """Every ``*.yaml`` / ``*.yml`` file of ``folder``: ``{stem: (path, parsed)}``, sorted by name.

    A missing folder gives ``{}``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml")
                   and not p.name.startswith("."))
    return {p.stem: (str(p), read_yaml(p, lang)) for p in files}


def map_overrides_path(overrides_dir: Path) -> Path:
    """Where the consultant's edits of the drafted maps live: ``<engagement>/overrides/maps.yaml``."""
    return Path(overrides_dir) / MAP_OVERRIDES_NAME


def read_map_overrides(path: Any, lang: str = "ru") -> dict[str, Any]:
    """Read the map overrides file; ``{}`` when it does not exist or is empty.

    path: the file, or an Engagement (then ``<engagement>/overrides/maps.yaml``)
    Raises ConfigError naming the file when it is not YAML or not a mapping.
    """
    if hasattr(path, "overrides_dir"):
        lang = getattr(path, "lang", lang)
        path = map_overrides_path(path.overrides_dir)
    path = Path(path)
    if not path.is_file():
        return {}
    data = read_yaml(path, lang)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(t("maps.err_header", lang, file=str(path)) + "\n  - "
                          + t("config.expected_mapping", lang, key="/", value=type(data).__name__))
    return data
