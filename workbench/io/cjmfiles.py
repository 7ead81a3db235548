"""Reading the CJM templates from disk: ``templates/cjm/*.yaml`` and the consultant's edited
copies in ``<engagement>/overrides/cjm/``. The only place the CJM code touches the disk.

Layout of the overrides (every file optional; an edited copy replaces the shipped file whole)::

    <engagement>/overrides/cjm/elements.yaml | stages.yaml | roles.yaml | progresses.yaml
    <engagement>/overrides/cjm/vip.yaml | strategic.yaml | typical.yaml | ballast.yaml | key_account.yaml
    <engagement>/overrides/cjm/customers/<customer_id>.yaml   one individual CJM, key_account format
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.i18n import t
from workbench.io.yamlfiles import check_regular, safe_load

REFERENCE_FILES = ("elements", "stages", "roles", "progresses")
SEGMENT_FILES = ("vip", "strategic", "typical", "ballast", "key_account")
TEMPLATE_FILES = REFERENCE_FILES + SEGMENT_FILES
CUSTOMERS_DIR = "customers"


def cjm_dir(templates_dir: Path) -> Path:
    """The folder holding the shipped CJM templates (``templates/`` or ``templates/cjm/`` accepted)."""
    templates_dir = Path(templates_dir)
    return templates_dir / "cjm" if (templates_dir / "cjm").is_dir() else templates_dir


def overrides_dir(engagement_dir: Path) -> Path:
    """``<engagement>/overrides/cjm``: where the consultant's edited copies live."""
    return Path(engagement_dir) / "overrides" / "cjm"


def read_cjm_sources(templates_dir: Path, engagement_dir: Path | None,
                     lang: str = "ru") -> dict[str, dict[str, Any]]:
    """Read every CJM template file; an engagement's edited copy wins over the shipped one.

    Returns
    -------
    dict
        name -> {"source": path as text, "data": parsed YAML, "override": bool}; names are
        ``TEMPLATE_FILES`` plus ``"customer:<customer_id>"`` for per-customer copies.

    Raises
    ------
    ConfigError
        A shipped file is missing, a file is not YAML, or an override has an unknown name
        (the message lists the allowed names).
    """
    import yaml

    base = cjm_dir(templates_dir)
    paths: dict[str, tuple[Path, bool]] = {name: (base / f"{name}.yaml", False) for name in TEMPLATE_FILES}
    problems: list[str] = []
    if engagement_dir is not None:
        over = overrides_dir(engagement_dir)
        if over.is_dir():
            for path in sorted(over.iterdir()):
                if path.is_dir() and path.name == CUSTOMERS_DIR:
                    for sub in sorted(path.glob("*.yaml")):
                        paths[f"customer:{sub.stem}"] = (sub, True)
                    continue
                if path.suffix not in (".yaml", ".yml"):
                    continue
                if path.suffix != ".yaml" or path.stem not in TEMPLATE_FILES:
                    problems.append(t("cjm.unknown_file", lang, file=str(path),
                                      allowed=", ".join(f"{n}.yaml" for n in TEMPLATE_FILES)
                                      + f", {CUSTOMERS_DIR}/<customer_id>.yaml"))
                    continue
                paths[path.stem] = (path, True)
    out: dict[str, dict[str, Any]] = {}
    for name, (path, override) in paths.items():
        try:
            if not check_regular(path, lang):
                problems.append(t("cjm.missing_file", lang, file=str(path)))
                continue
        except ConfigError as exc:  # a pipe or a folder standing there: named, never read
            problems.append(str(exc))
            continue
        try:
            data = safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(t("config.not_yaml", lang, file=str(path), error=str(exc).splitlines()[0]))
            continue
        out[name] = {"source": str(path), "data": data, "override": override}
    if problems:
        raise ConfigError(t("cjm.files_header", lang) + "\n" + "\n".join(f"  - {p}" for p in problems))
    return out
