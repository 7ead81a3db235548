"""Who the customer of each row is: name keys, INNs, customer ids and the name shown.

``customer_id`` is the INN when the row has one, else the name key; a name key seen with
exactly one INN lends it to the rows without one. The name shown is the id's most frequent
spelling. Work is per distinct value or per distinct (name key, INN) pair.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.ingest.buffers import _lengths
from workbench.ingest.coded import Coded, _first_rows

_QUOTES_RE = re.compile(r"[«»\"'“”„‘’`]")
_WS_RE = re.compile(r"\s+")


def spelling_key(name: str) -> str:
    """A spelling as typed, compared loosely: casefolded, quotes removed, ё -> е, spaces
    collapsed. Two spellings with one key are one spelling (``customers.keep_apart`` splits
    customers by it)."""
    text = _QUOTES_RE.sub(" ", str(name).casefold().replace("ё", "е"))
    return _WS_RE.sub(" ", text).strip()


# --- the name key ----------------------------------------------------------------------
# Each step is a regular expression over the text of one name, or of many names joined
# by NUL (``name_keys``): a name's boundaries are the text's ends or a NUL, a word's also
# a space. So both paths give each name the same key.
_PUNCT_WS_RE = re.compile(r"(?:[«»\"'“”„‘’`.,;:()!?\\/|]|\s)+")
_START, _END = r"(?<![^\0 ])", r"(?![^\0 ])"      # a word's boundaries (start / end)
# Full legal forms -> their abbreviations (after casefolding and punctuation -> space).
_FULL_FORMS = (
    ("общество с ограниченной ответственностью", "ооо"), ("публичное акционерное общество", "пао"),
    ("непубличное акционерное общество", "ао"), ("закрытое акционерное общество", "зао"),
    ("открытое акционерное общество", "оао"), ("акционерное общество", "ао"),
    ("индивидуальный предприниматель", "ип"), ("limited liability company", "llc"),
    ("limited", "ltd"), ("incorporated", "inc"), ("corporation", "corp"),
)
_FULL_FORMS_RE = re.compile(_START + "(" + "|".join(re.escape(f) for f, _ in _FULL_FORMS) + ")" + _END)
_FULL_FORM = dict(_FULL_FORMS)
_FULL_FORM_HINT_RE = re.compile("общество|предпринимател|limited|incorporated|corporation")
# Abbreviated legal forms: wherever they stand in the name, they lead its key.
LEGAL_FORMS = ("ооо", "ао", "пао", "зао", "оао", "нао", "ип", "чп", "тоо", "гуп", "муп", "фгуп", "ано", "нко",
               "llc", "ltd", "inc", "corp", "plc", "gmbh", "llp")
_FORM_RE = "(?:" + "|".join(LEGAL_FORMS) + ")"
# a legal form after a name's first word (a space before it): that name's forms move to the front
_FORM_LATER_RE = re.compile(" " + _FORM_RE + r"(?![^\0 ])")
_FORM_WORD_RE = re.compile(_START + _FORM_RE + _END)
# a name ending in a legal form, the only one: «Acme Ltd» -> «ltd acme»
_NOT_FORM = r"(?!" + _FORM_RE + r"(?![^\0 ]))[^\0 ]+"
_FORM_LAST_RE = re.compile(r"(?<![^\0])(" + _NOT_FORM + "(?: " + _NOT_FORM + r")*) (" + _FORM_RE + r")(?![^\0])")
# Latin letters that look like Cyrillic ones (as casefolded): typed into a Cyrillic word
# («Pомашка» with a Latin P), or a legal form typed in Latin (OOO).
_LOOKALIKE = str.maketrans("aвcehkmoptxyb", "авсенкмортхув")
_LATIN_LOOKALIKES = "acehkmoptxyb"
_MIXED_WORD_RE = re.compile(r"(?<![\w])(?=[\w-]*[а-я])[\w-]*[a-z][\w-]*")
_ANY_LATIN_RE = re.compile("[a-z]")
_LATIN_FORM_RE = re.compile(_START + r"(ooo|oao|ao|пao|зao)" + _END)
# «ИП Петров Иван Сергеевич» and «ИП Петров И С» (dots are spaces by now): surname and initials
_IP_RE = re.compile(r"(?<![^\0])ип ([а-я-]{2,}) ([а-я])[а-я]*(?: ([а-я])[а-я]*)?(?![^\0])")


def _latin_to_cyrillic(m: re.Match[str]) -> str:
    word = m.group(0)
    letters = {ch for ch in word if "a" <= ch <= "z"}
    return word.translate(_LOOKALIKE) if letters <= set(_LATIN_LOOKALIKES) else word


def _forms_first(name: str) -> str:
    words = name.split(" ")
    forms = [w for w in words if w in LEGAL_FORMS]
    return " ".join(forms + [w for w in words if w not in LEGAL_FORMS])


def _forms_to_front(text: str) -> str:
    """Each name (between NULs) holding a legal form after its first word, forms first.

    The usual case, one form at the end («Acme Ltd», «Ромашка ООО»), is one regular
    expression over all the names; the rest are rearranged one by one."""
    text = _FORM_LAST_RE.sub(r"\2 \1", text)
    starts = sorted({text.rfind("\0", 0, m.start()) + 1 for m in _FORM_LATER_RE.finditer(text)})
    if not starts:
        return text
    out, last = [], 0
    for a in starts:
        b = text.find("\0", a)
        b = len(text) if b < 0 else b
        out += [text[last:a], _forms_first(text[a:b])]
        last = b
    out.append(text[last:])
    return "".join(out)


def _ip_initials(m: re.Match[str]) -> str:
    return "ип " + " ".join(x for x in m.groups() if x)


def _key_text(text: str) -> str:
    """The name key steps over one name or NUL-joined names (see ``name_key``)."""
    text = _PUNCT_WS_RE.sub(" ", text.casefold().replace("ё", "е"))  # punctuation and space runs: one space
    text = _SEP_SPACES_RE.sub("\0", text).strip(" ")
    if _ANY_LATIN_RE.search(text):  # most Russian names hold no Latin letter at all
        text = _MIXED_WORD_RE.sub(_latin_to_cyrillic, text)
        text = _LATIN_FORM_RE.sub(lambda m: m.group(0).translate(_LOOKALIKE), text)
    if _FULL_FORM_HINT_RE.search(text):
        text = _FULL_FORMS_RE.sub(lambda m: _FULL_FORM[m.group(0)], text)
    text = _forms_to_front(text)
    return _IP_RE.sub(_ip_initials, text) if "ип " in text else text


def name_key(name: str) -> str:
    """The customer's name key: one key for the spellings of one name.

    Casefolded, ё -> е, quotes and punctuation removed, spaces collapsed; Latin letters
    that look Cyrillic read as Cyrillic inside Cyrillic words («Pомашка», OOO); legal forms
    abbreviated («Общество с ограниченной ответственностью» -> ооо) and moved to the front
    wherever they stand («Ромашка ООО» -> «ооо ромашка»); an individual entrepreneur by
    surname and initials («ИП Петров Иван Сергеевич» = «ИП Петров И.С.» -> «ип петров и с»).
    """
    return _key_text(str(name).replace("\0", " "))


def name_keys(names: list[str]) -> list[str]:
    """``name_key`` of each name, in one pass over the names joined by NUL.

    Imported names carry no NUL (``clean_text`` removes control characters); a list that
    does is keyed one name at a time.
    """
    joined = "\0".join(names)
    if not names or joined.count("\0") != len(names) - 1:
        return [name_key(v) for v in names]
    return _key_text(joined).split("\0")


_SEP_SPACES_RE = re.compile(" ?\0 ?")


_INN_STRIP_RE = re.compile(r"[\s\u00a0\u202f-]")


def normalise_inn(raw: str) -> tuple[str, bool, bool]:
    """INN text -> (normalised, padded, invalid). A 9- or 11-digit INN lost its leading zero.

    Invalid INNs (not 10 or 12 digits) become "" (the customer is keyed by name) and
    are counted in the report rather than refusing the file.
    """
    v = _INN_STRIP_RE.sub("", raw)
    if v.endswith(".0") and v[:-2].isdigit():  # a number cell written as a float
        v = v[:-2]
    if not v or (v.isdigit() and len(v) in (10, 12)):
        return v, False, False
    if v.isdigit() and len(v) in (9, 11):
        return "0" + v, True, False
    return "", False, True


def normalise_inns(values: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``normalise_inn`` of each value: (normalised, padded mask, invalid mask).

    Values of ASCII digits only (nearly all) are judged by their length in one
    vectorised pass; the rest one by one.
    """
    n = len(values)
    arr = pa.array(values, pa.string())
    plain = pc.match_substring_regex(arr, r"^[0-9]*$").to_numpy(zero_copy_only=False) if n else np.zeros(0, bool)
    size = _lengths(arr)
    padded = plain & ((size == 9) | (size == 11))
    invalid = plain & ~padded & (size != 0) & (size != 10) & (size != 12)
    out = list(values)
    for i in np.flatnonzero(padded).tolist():
        out[i] = "0" + out[i]
    for i in np.flatnonzero(invalid).tolist():
        out[i] = ""
    for i in np.flatnonzero(~plain).tolist():
        out[i], padded[i], invalid[i] = normalise_inn(values[i])
    return out, padded, invalid


def _combos(keys: Coded, inns: Coded) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, distinct values) of the (name key, INN) pairs, first seen first."""
    codes, combos = pd.factorize(keys.codes * max(len(inns.values), 1) + inns.codes)
    return codes, np.asarray(combos, dtype=np.int64)


def _pairs(keys: Coded, inns: Coded | None,
           combos: tuple[np.ndarray, np.ndarray] | None = None) -> set[tuple[str, str]]:
    """Distinct (name key, INN) pairs of rows that carry both (``combos``: ``_combos`` of them)."""
    if inns is None or not len(keys):
        return set()
    combo = combos[1] if combos is not None else pd.unique(keys.codes * max(len(inns.values), 1) + inns.codes)
    k, i = np.divmod(combo, max(len(inns.values), 1))
    return {(keys.values[a], inns.values[b]) for a, b in zip(k.tolist(), i.tolist())
            if keys.values[a] and inns.values[b]}


def name_to_inn(pairs: set[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Name keys seen with exactly one INN -> that INN; and name keys seen with several."""
    seen: dict[str, set[str]] = {}
    for key, inn in pairs:
        seen.setdefault(key, set()).add(inn)
    single = {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}
    return single, sorted(k for k, v in seen.items() if len(v) > 1)


def _name_to_inn_codes(keys: Coded, inns: Coded, combos: tuple[np.ndarray, np.ndarray]
                       ) -> tuple[dict[str, str], list[str]]:
    """``name_to_inn(_pairs(keys, inns, combos))`` counted on codes (the distinct values of a
    ``Coded`` are distinct strings, so distinct code pairs are distinct text pairs)."""
    k, i = np.divmod(combos[1], max(len(inns.values), 1))
    named = np.array([v != "" for v in keys.values], dtype=bool)
    with_inn = np.array([v != "" for v in inns.values], dtype=bool)
    both = named[k] & with_inn[i] if len(k) else np.zeros(0, dtype=bool)
    k, i = k[both], i[both]
    per_key = np.bincount(k, minlength=len(keys.values))
    one = per_key[k] == 1
    single = {keys.values[a]: inns.values[b] for a, b in zip(k[one].tolist(), i[one].tolist())}
    return single, sorted(keys.values[a] for a in np.flatnonzero(per_key > 1).tolist())


def assign_ids(keys: Coded, inns: Coded | None, mapping: dict[str, str], mode: str,
               combos: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[Coded, Coded, int]:
    """customer_id per row: the INN (own, or via the name->INN map), else the name key.

    Returns (ids, INNs with those found by name filled in, rows that got an INN by name).
    ``mode``: auto | inn | name (``import.customer_key``). Work is per distinct
    (name key, INN) pair.
    """
    n = len(keys)
    if inns is None:
        inns = Coded(codes=np.zeros(n, dtype=np.int64), values=[""])
    base = max(len(inns.values), 1)
    combo_codes, uniq = combos if combos is not None else _combos(keys, inns)
    k, i = np.divmod(uniq, base)
    ids, filled, by_name = [], [], []
    for a, b in zip(k.tolist(), i.tolist()):
        key, inn = keys.values[a], inns.values[b]
        if mode == "name":
            ids.append(key)
            filled.append(inn)
            by_name.append(False)
            continue
        got = inn or mapping.get(key, "")
        ids.append(got or key)
        filled.append(got)
        by_name.append(not inn and bool(got))
    id_codes, id_values = pd.factorize(pd.Series(ids, dtype=object))
    inn_codes, inn_values = pd.factorize(pd.Series(filled, dtype=object))
    row_by_name = np.asarray(by_name, dtype=bool)[combo_codes] if len(uniq) else np.zeros(n, bool)
    return (Coded(codes=id_codes[combo_codes], values=list(id_values)),
            Coded(codes=inn_codes[combo_codes], values=list(inn_values)), int(row_by_name.sum()))


_COUNT_IN_PLACE_MAX = 1 << 22  # (id, value) combinations up to which most_frequent counts in an array


def _values_of_one_id(ids: Coded, values: Coded) -> tuple[np.ndarray, np.ndarray] | None:
    """The (id, value) combinations as ``most_frequent`` counts them (code id * len(values)
    + value, first seen first; their row counts), when every value occurs with one id only
    (a spelling belongs to one customer, as a rule); else None. No hashing: a value's
    first row gives its id."""
    n, nv = len(values.codes), max(len(values.values), 1)
    first = _first_rows(values.codes, nv)
    present = np.flatnonzero(first < n)
    id_of_value = np.zeros(nv, dtype=np.int64)
    id_of_value[present] = ids.codes[first[present]]
    if not np.array_equal(id_of_value[values.codes], ids.codes):
        return None
    present = present[np.argsort(first[present], kind="stable")]
    counts = np.bincount(values.codes, minlength=nv)[present].astype(np.float64)
    return id_of_value[present] * nv + present, counts


def most_frequent(ids: Coded, values: Coded) -> list[str]:
    """For each id (in ``ids.values`` order) its most frequent non-empty value; ties: first seen."""
    nv = max(len(values.values), 1)
    key = ids.codes * nv + values.codes
    space = len(ids.values) * nv
    if len(key) and space <= _COUNT_IN_PLACE_MAX:  # few (id, value) combinations: counted in place
        every = np.bincount(key, minlength=space)
        seen = _first_rows(key, space)
        combos = np.flatnonzero(every)
        combos = combos[np.argsort(seen[combos], kind="stable")]  # first seen first, as factorize
        counts = every[combos].astype(np.float64)
    elif len(key) and (one := _values_of_one_id(ids, values)) is not None:
        combos, counts = one
    else:
        combo_codes, combos = pd.factorize(key)
        counts = np.bincount(combo_codes, minlength=len(combos)).astype(np.float64)
    id_of, val_of = np.divmod(np.asarray(combos, dtype=np.int64), nv)
    if "" in values.values:
        counts[val_of == values.values.index("")] = -1.0
    order = np.lexsort((np.arange(len(combos)), -counts, id_of))
    first = np.ones(len(order), dtype=bool)
    first[1:] = id_of[order][1:] != id_of[order][:-1]
    out = [""] * len(ids.values)
    for c in order[first].tolist():
        if counts[c] > 0:
            out[int(id_of[c])] = values.values[int(val_of[c])]
    return out
