"""Message catalogues: every word a user or a client reads comes from here.

Catalogues are YAML files, one per topic, in ``i18n/<lang>/<topic>.yaml``; a key
``"<topic>.<name>"`` addresses one message. Messages are ``str.format`` templates.
Russian is the first language, English the second; both must hold the same keys
(a test checks it).

Plural forms follow the language's CLDR rules (Babel): a placeholder whose format spec
lists word forms separated by ``|`` prints the form that agrees with the number, in CLDR
category order (Russian ``one|few|many``, English ``one|other``)::

    "{n} {n:клиент|клиента|клиентов}"   ->  "101 клиент", "22 клиента", "11 клиентов"
    "{n} {n:customer|customers}"         ->  "1 customer", "5 customers"
"""
from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("ru", "en")
_HERE = Path(__file__).parent


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """Return the flat catalogue ``{"topic.key": message}`` for a language (every topic)."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: allowed {', '.join(LANGUAGES)}")
    out: dict[str, Any] = {}
    for path in sorted((_HERE / lang).glob("*.yaml")):
        out.update(_topic(lang, path.stem))
    return out


@cache
def _topic(lang: str, topic: str) -> dict[str, Any]:
    """One topic's messages, flat (``{"topic.key": message}``; empty for no such topic).

    A message loads its own topic only: a refusal needs ``errors`` and ``ingest``, not the
    thirty files (parsed by libyaml where present; the pure-Python parser took 0.15-0.3 s
    of every command for all of them).
    """
    from workbench.io.yamlfiles import trusted_load

    path = _HERE / lang / f"{topic}.yaml"
    out: dict[str, Any] = {}
    if not topic.isidentifier() or not path.is_file():
        return out
    data = trusted_load(path.read_text(encoding="utf-8")) or {}
    for key, value in data.items():
        out[f"{topic}.{key}"] = value
        _flatten(out, f"{topic}.{key}", value)
    return out


def _flatten(out: dict[str, Any], prefix: str, value: Any) -> None:
    """Nested mappings are also reachable key by key: ``errors.problem.bad_date``."""
    if isinstance(value, dict):
        for sub, item in value.items():
            out.setdefault(f"{prefix}.{sub}", item)
            _flatten(out, f"{prefix}.{sub}", item)


def _messages_of(key: str, lang: str) -> dict[str, Any]:
    """The loaded topic holding ``key`` (``"<topic>.<name>"``) in ``lang``."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: allowed {', '.join(LANGUAGES)}")
    return _topic(lang, key.partition(".")[0])


def t(key: str, lang: str = "ru", /, **kwargs: Any) -> Any:
    """Translate ``key`` into ``lang`` and fill ``{placeholders}`` from ``kwargs``.

    Non-string entries (lists, mappings) are returned as they are. A missing key
    raises ``KeyError`` naming it: a missing message is a bug, not a fallback.
    """
    try:
        msg = _messages_of(key, lang)[key]
    except KeyError:
        raise KeyError(f"message {key!r} missing from the {lang!r} catalogue") from None
    if isinstance(msg, str) and kwargs:
        if "|" in msg:
            return _PluralFormatter(lang).vformat(msg, (), kwargs)
        return msg.format(**kwargs)
    return msg


# CLDR plural categories in the order a catalogue lists word forms.
_CATEGORY_ORDER = ("zero", "one", "two", "few", "many", "other")


@cache
def _plural_rule(lang: str) -> Any:
    from babel import Locale

    return Locale.parse(lang).plural_form


def plural_categories(lang: str) -> tuple[str, ...]:
    """The CLDR plural categories of ``lang`` in catalogue order (ru: one, few, many, other)."""
    tags = set(_plural_rule(lang).tags) | {"other"}
    return tuple(c for c in _CATEGORY_ORDER if c in tags)


def plural_category(n: float, lang: str) -> str:
    """The CLDR plural category of the number ``n`` in ``lang`` (Babel's rules)."""
    return str(_plural_rule(lang)(abs(n)))


def plural(n: float, forms: Any, lang: str) -> str:
    """The word form agreeing with ``n``.

    forms: a mapping {category: word}, or the forms in catalogue order as a list or a
    ``|``-separated string (ru ``клиент|клиента|клиентов``; a missing ``other``, used for
    fractions, falls back to the last-but-one form, as Russian does: «1,5 клиента»).
    """
    if isinstance(forms, str):
        forms = forms.split("|")
    if not isinstance(forms, dict):
        order = plural_categories(lang)
        words = list(forms)
        if len(words) not in (len(order), len(order) - 1):
            raise ValueError(f"plural forms {forms!r}: {lang} needs {len(order) - 1} or {len(order)} "
                             f"forms ({'|'.join(order)})")
        if len(words) == len(order) - 1:
            words.append(words[-2] if len(words) > 1 else words[-1])
        forms = dict(zip(order, words))
    category = plural_category(n, lang)
    return str(forms.get(category, forms.get("other", next(iter(forms.values())))))


class _PluralFormatter(string.Formatter):
    """``str.format`` plus plural forms: ``{n:клиент|клиента|клиентов}``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            if isinstance(value, str):  # an already formatted number: "1 234", "12,5"
                value = value.replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
                value = value.replace(",", ".") if self.lang == "ru" else value.replace(",", "")
            return plural(float(value), format_spec, self.lang)
        return super().format_field(value, format_spec)


def has(key: str, lang: str = "ru") -> bool:
    """True when ``key`` exists in the ``lang`` catalogue."""
    return key in _messages_of(key, lang)
