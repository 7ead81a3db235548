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


def name_key(name: str) -> str:
    """The customer's name key: casefolded, quotes removed, ё -> е, spaces collapsed."""
    text = _QUOTES_RE.sub(" ", str(name).casefold().replace("ё", "е"))
    return _WS_RE.sub(" ", text).strip()


def name_keys(names: list[str]) -> list[str]:
    """``name_key`` of each name, in one pass over the names joined by NUL.

    Imported names carry no NUL (``clean_text`` removes control characters); a list that
    does is keyed one name at a time. After the whitespace runs collapse to one space,
    stripping a name is dropping a space next to a separator.
    """
    joined = "\0".join(names)
    if not names or joined.count("\0") != len(names) - 1:
        return [name_key(v) for v in names]
    text = _WS_RE.sub(" ", _QUOTES_RE.sub(" ", joined.casefold().replace("ё", "е")))
    return _SEP_SPACES_RE.sub("\0", text).strip(" ").split("\0")


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
