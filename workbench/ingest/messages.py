"""The ``ingest`` topic of the message catalogues, loaded alone (import needs no other)."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from workbench.i18n import LANGUAGES, t


@cache
def _ingest_messages(lang: str) -> dict[str, Any]:
    """The ``ingest`` topic of a catalogue alone (libyaml when present).

    Import needs only this topic; the whole catalogue (every topic, pure-Python YAML)
    took 0.1-0.25 s to load, a sixth of a 1 M-row import. Same file, same values as
    ``t("ingest.<key>", lang)``.
    """
    import yaml

    from workbench import i18n

    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: allowed {', '.join(LANGUAGES)}")
    path = Path(i18n.__file__).parent / lang / "ingest.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}


def _msg(name: str, lang: str, **kwargs: Any) -> Any:
    """``t(f"ingest.{name}", lang, **kwargs)`` from the ingest topic alone."""
    try:
        msg = _ingest_messages(lang)[name]
    except KeyError:
        return t(f"ingest.{name}", lang, **kwargs)  # same KeyError as t()
    if isinstance(msg, str) and kwargs:
        return msg.format(**kwargs)
    return msg
