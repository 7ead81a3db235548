"""Message catalogues: Russian and English hold the same keys and placeholders."""
from __future__ import annotations

import re
import string

from workbench.i18n import catalogue, t


def _fields(msg: object) -> set[str]:
    if not isinstance(msg, str):
        return set()
    return {f for _, f, _, _ in string.Formatter().parse(msg) if f}


def test_same_keys_in_both_languages():
    ru, en = catalogue("ru"), catalogue("en")
    assert sorted(set(ru) - set(en)) == []
    assert sorted(set(en) - set(ru)) == []


def test_same_placeholders_in_both_languages():
    ru, en = catalogue("ru"), catalogue("en")
    diff = {k: (_fields(ru[k]), _fields(en[k])) for k in ru if _fields(ru[k]) != _fields(en[k])}
    assert diff == {}


def test_english_catalogue_has_no_cyrillic_and_russian_messages_are_russian():
    cyr = re.compile(r"[А-Яа-яЁё]")
    en_with_cyrillic = [k for k, v in catalogue("en").items() if isinstance(v, str) and cyr.search(v)
                        and not k.startswith("fmt.")]
    assert en_with_cyrillic == []
    assert t("run.done", "ru", path="x") == "Готово: x"
    assert t("run.done", "en", path="x") == "Done: x"
