"""YAML files of an engagement: engagement.yaml, the overrides, map templates.

Every YAML file of an engagement folder is read here, as data: no aliases (nine levels of
nine aliases expand to 387 million values once shown), no integer longer than
``MAX_DIGITS`` digits (Python refuses to convert 4 300 and more), no file above
``MAX_YAML_BYTES``, and only regular files (a pipe would block for ever). Every error
names the file and, for YAML problems, the line.
"""
from __future__ import annotations

import stat
from functools import cache
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.i18n import t

MAP_OVERRIDES_NAME = "maps.yaml"  # inside the engagement's overrides/ folder
MAX_YAML_BYTES = 5 * 1024 * 1024
MAX_DIGITS = 1000


@cache
def _loader() -> type:
    """The loader of engagement files: libyaml's C parser where PyYAML was built with it.

    libyaml scans and parses (eight times faster than PyYAML's pure-Python parser: twenty
    files made 0.3-0.7 s of every command); the nodes are composed in Python by the
    ``Composer`` below, so aliases are refused exactly as with the pure-Python loader, and
    integers are checked by the same constructor. Without libyaml: the pure-Python parser.
    """
    import yaml
    from yaml.composer import Composer

    class DataComposer(Composer):
        """Composes nodes as PyYAML does, refusing any alias (``*name``)."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, "alias", event.start_mark)
            return super().compose_node(parent, index)

    try:
        from yaml._yaml import CParser as Parser  # libyaml
    except ImportError:
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        class Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
            def __init__(self, stream: Any) -> None:
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                yaml.parser.Parser.__init__(self)

    class DataLoader(DataComposer, Parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """SafeLoader that refuses aliases and integers of more than MAX_DIGITS digits.

        ``DataComposer`` stands before the parser in the bases, so its composing replaces the
        C parser's own (which would resolve aliases without asking).
        """

        def __init__(self, stream: Any) -> None:
            Parser.__init__(self, stream)
            Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def construct_yaml_int(self, node: Any) -> Any:
            if sum(ch.isdigit() for ch in str(node.value)) > MAX_DIGITS:
                raise yaml.constructor.ConstructorError(None, None, "digits", node.start_mark)
            return super().construct_yaml_int(node)

    DataLoader.add_constructor("tag:yaml.org,2002:int", DataLoader.construct_yaml_int)
    return DataLoader


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` without aliases or runaway integers (raises yaml.YAMLError)."""
    import yaml

    return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeConstructor with no alias


def trusted_load(text: str) -> Any:
    """Parse YAML shipped with the package (message catalogues, the settings template):
    ``yaml.safe_load`` through libyaml when present, all in C."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def yaml_problem(exc: Exception, lang: str) -> str:
    """One line for a YAML error: what is wrong, then (line N, column M)."""
    import yaml

    if isinstance(exc, UnicodeDecodeError):
        return t("config.not_utf8", lang)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = {"alias": t("config.yaml_alias", lang), "digits": t("config.yaml_digits", lang, n=MAX_DIGITS)}
        text = what.get(str(exc.problem), str(exc.problem or exc.context or "").strip())
        if mark is not None:
            text += " " + t("config.yaml_where", lang, line=mark.line + 1, column=mark.column + 1)
        return text
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def check_regular(path: Path, lang: str = "ru") -> bool:
    """True when ``path`` is a regular file, False when it does not exist.

    Raises ConfigError naming it when something else stands there (a pipe, a folder, a device).
    """
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(t("config.not_yaml", lang, file=str(path), error=exc.strerror or str(exc))) from exc
    if stat.S_ISREG(mode):
        return True
    kind = "fifo" if stat.S_ISFIFO(mode) else "dir" if stat.S_ISDIR(mode) else "other"
    raise ConfigError(t("config.not_a_file", lang, file=str(path), kind=t(f"config.kind_{kind}", lang)))


def read_yaml(path: Path, lang: str = "ru") -> Any:
    """Parse one YAML file; raise ConfigError naming the file when it cannot be read.

    A missing file raises too (use ``check_regular`` first where a file is optional).
    """
    import yaml

    path = Path(path)
    try:
        check_regular(path, lang)
        if path.stat().st_size > MAX_YAML_BYTES:
            raise ConfigError(t("config.too_large", lang, file=str(path), mb=MAX_YAML_BYTES // 2 ** 20))
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(t("config.not_yaml", lang, file=str(path), error=exc.strerror or str(exc))) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(t("config.not_yaml", lang, file=str(path), error=yaml_problem(exc, lang))) from exc
    try:
        return safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(t("config.not_yaml", lang, file=str(path), error=yaml_problem(exc, lang))) from exc
    except RecursionError as exc:  # "[[[[…" thousands deep
        raise ConfigError(t("config.not_yaml", lang, file=str(path), error=t("config.yaml_too_deep", lang))) from exc


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
    Raises ConfigError naming the file when it is not YAML, not a mapping, or an edit's
    field has the wrong type (text fields must be text; ``target`` and ``baseline``
    numbers between 0 and ``MAX_TARGET``). What the edits mean is checked by
    ``workbench.maps.apply_overrides``.
    """
    if hasattr(path, "overrides_dir"):
        lang = getattr(path, "lang", lang)
        path = map_overrides_path(path.overrides_dir)
    path = Path(path)
    if not check_regular(path, lang):
        return {}
    data = read_yaml(path, lang)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(t("maps.err_header", lang, file=str(path)) + "\n  - "
                          + t("config.expected_mapping", lang, key="/", value=type(data).__name__))
    problems = map_override_problems(data, lang)
    if problems:
        raise ConfigError(t("maps.err_header", lang, file=str(path)) + "\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return data


MAX_TARGET = 1e15  # the import refuses amounts above this too
_EDIT_TEXT = ("map", "action", "item", "month", "deadline", "owner", "track", "kpi", "activity")
_EDIT_NUMBERS = ("target", "baseline")


def map_override_problems(data: dict[str, Any], lang: str = "ru") -> list[str]:
    """The shape problems of a map overrides tree: wrong types and numbers out of range."""
    from workbench.config import show_value

    edits = data.get("edits")
    if edits is None:
        return []
    if not isinstance(edits, list):
        return [t("config.expected_list", lang, key="edits", value=show_value(edits))]
    problems: list[str] = []
    for i, edit in enumerate(edits):
        key = f"edits[{i}]"
        if not isinstance(edit, dict):
            problems.append(t("config.expected_mapping", lang, key=key, value=show_value(edit)))
            continue
        for name in _EDIT_TEXT:
            if name in edit and not isinstance(edit[name], str):
                problems.append(t("config.expected_text", lang, key=f"{key}.{name}", value=show_value(edit[name])))
        for name in _EDIT_NUMBERS:
            if name not in edit:
                continue
            value = edit[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(t("config.expected_number", lang, key=f"{key}.{name}", value=show_value(value)))
            elif not 0 <= value <= MAX_TARGET:  # compared as it stands: a 400-digit int has no float
                problems.append(t("config.out_of_range", lang, key=f"{key}.{name}", value=show_value(value),
                                  lo=0, hi="10¹⁵"))
    return problems
