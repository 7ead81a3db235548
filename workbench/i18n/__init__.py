"""Message catalogues: every word a user or a client reads comes from here.

Catalogues are YAML files, one per topic, in ``i18n/<lang>/<topic>.yaml``; a key
``"<topic>.<name>"`` addresses one message. Messages are ``str.format`` templates.
Russian is the first language, English the second; both must hold the same keys
(a test checks it).
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("ru", "en")
_HERE = Path(__file__).parent


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """Return the flat catalogue ``{"topic.key": message}`` for a language."""
    import yaml

    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: allowed {', '.join(LANGUAGES)}")
    out: dict[str, Any] = {}
    for path in sorted((_HERE / lang).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            out[f"{path.stem}.{key}"] = value
            _flatten(out, f"{path.stem}.{key}", value)
    return out


def _flatten(out: dict[str, Any], prefix: str, value: Any) -> None:
    """Nested mappings are also reachable key by key: ``errors.problem.bad_date``."""
    if isinstance(value, dict):
        for sub, item in value.items():
            out.setdefault(f"{prefix}.{sub}", item)
            _flatten(out, f"{prefix}.{sub}", item)


def t(key: str, lang: str = "ru", /, **kwargs: Any) -> Any:
    """Translate ``key`` into ``lang`` and fill ``{placeholders}`` from ``kwargs``.

    Non-string entries (lists, mappings) are returned as they are. A missing key
    raises ``KeyError`` naming it: a missing message is a bug, not a fallback.
    """
    try:
        msg = catalogue(lang)[key]
    except KeyError:
        raise KeyError(f"message {key!r} missing from the {lang!r} catalogue") from None
    if isinstance(msg, str) and kwargs:
        return msg.format(**kwargs)
    return msg


def has(key: str, lang: str = "ru") -> bool:
    """True when ``key`` exists in the ``lang`` catalogue."""
    return key in catalogue(lang)
