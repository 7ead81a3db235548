"""Who is one customer, decided in the open.

The name key (``identity.name_key``) and the INN merge what is plainly one customer. What
is merely *similar* is never merged silently; it is listed for the consultant:

* **one INN under several names** (a rename, a branch, a typo): one customer by its INN,
  each name shown with its revenue;
* **possible duplicates**: customers whose names are alike, with both spellings and
  revenues. Names are compared without legal forms, quotes and case: the same name apart
  from spaces and hyphens («Волга-Профи» / «ВолгаПрофи»), one name's words all in the
  other's («Ромашка» / «Ромашка-Юг»), or a near spelling (rapidfuzz ``ratio`` at least
  ``SIMILAR``). Names with different numbers in them are different customers («Магазин 5»
  is not «Магазин 7»), and so are two legal entities of different forms with different
  INNs («ООО «Ока»» / «ПАО «Ока»»).

``customers.merge`` (spellings or INNs of one customer) and ``customers.keep_apart``
(customers that only look alike; it also splits one INN or one name key by spelling) in
engagement.yaml settle them; every entry must name a customer of the data. Work is per
distinct customer, names compared within blocks of one number signature.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import Problem
from workbench.ingest.coded import Coded
from workbench.ingest.identity import LEGAL_FORMS, name_key, normalise_inn, spelling_key
from workbench.ingest.messages import _msg

SIMILAR = 92            # rapidfuzz ratio (0-100) of two names from which they are listed as possible duplicates
BLOCK = 3000            # names compared all with all at most; larger blocks split by first letter
LISTED = 200            # possible duplicates kept in the import report (the workbook sheet lists as many)


def _rows_of(entry: str, names: Coded, keys: Coded, inns: Coded | None) -> np.ndarray:
    """Row mask of one ``customers.*`` entry: an INN, else a spelling, else a name key."""
    inn, _, invalid = normalise_inn(entry)
    if inn and not invalid and inns is not None:
        return inns.equals(inn)
    want = spelling_key(entry)
    hit = np.array([spelling_key(v) == want for v in names.values], dtype=bool)
    if hit.any():
        return hit[names.codes]
    return keys.equals(name_key(entry))


def settle_customers(ids: Coded, names: Coded, keys: Coded, inns: Coded | None, decisions: dict[str, Any],
                     problems: list[Problem], lang: str) -> tuple[Coded, list[tuple[str, str]], dict[str, str]]:
    """Apply ``customers.keep_apart`` then ``customers.merge``; return (ids, pairs of ids kept
    apart, merged id -> the id it joined).

    An entry naming no customer of the data is a problem (with the closest spelling).
    """
    codes = ids.codes.copy()
    values = list(ids.values)
    apart: list[tuple[str, str]] = []
    renamed: dict[str, str] = {}

    def resolve(path: str, entry: str) -> np.ndarray | None:
        rows = _rows_of(entry, names, keys, inns)
        if rows.any():
            return rows
        problems.append(_unknown_entry(path, entry, names, lang))
        return None

    for g, group in enumerate(decisions.get("keep_apart") or []):
        masks = [resolve(f"customers.keep_apart[{g}][{i}]", e) for i, e in enumerate(group)]
        if any(m is None for m in masks):
            continue
        owners = [set(np.unique(codes[m]).tolist()) for m in masks]
        for i, (entry, mask) in enumerate(zip(group, masks)):
            if i and owners[i] & owners[0]:  # one id holds both: this spelling gets its own
                new = spelling_key(entry)
                while new in values:
                    new += "'"
                values.append(new)
                codes[mask & np.isin(codes, list(owners[0]))] = len(values) - 1
        firsts = [values[codes[np.flatnonzero(m)[0]]] for m in masks]
        apart += [(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1:]]
    for g, group in enumerate(decisions.get("merge") or []):
        masks = [resolve(f"customers.merge[{g}][{i}]", e) for i, e in enumerate(group)]
        if any(m is None for m in masks):
            continue
        target = codes[np.flatnonzero(masks[0])[0]]
        for m in masks[1:]:
            for c in np.unique(codes[m]).tolist():
                if c != target:
                    codes[codes == c] = target
                    renamed[values[c]] = values[target]
    new_codes, uniq = pd.factorize(codes)
    return Coded(codes=new_codes, values=[values[c] for c in uniq.tolist()]), apart, renamed


def _unknown_entry(path: str, entry: str, names: Coded, lang: str) -> Problem:
    from rapidfuzz import process

    near = process.extractOne(entry, [v for v in names.values if v]) if names.values else None
    return Problem(kind="unknown_customer", file="engagement.yaml", column=path, value=entry,
                   expected=str(_msg("expected_customer", lang)),
                   suggestion=str(_msg("fix_customer", lang, spelling=near[0])) if near else "")


def _scatter_first(codes: np.ndarray, size: int) -> np.ndarray:
    """For each code 0..size-1, the first row holding it (a reversed scatter: the last write
    to each slot is its first row)."""
    first = np.full(size, len(codes), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    return first


def inn_under_names(ids: Coded, keys: Coded, names: Coded, id_inns: list[str], amount: np.ndarray,
                    combo_codes: np.ndarray, n_combos: int) -> list[dict[str, Any]]:
    """INNs whose rows carry more than one name key: each name with its rows and revenue.

    ``combo_codes``: per row, its (name key, INN) combination (a spelling of a customer;
    ``identity._combos``): the work is per combination, not per row.
    """
    first = _scatter_first(combo_codes, n_combos)
    present = first < len(combo_codes)
    first = first[present]
    id_of, key_of = ids.codes[first], keys.codes[first]
    with_inn = np.array([bool(x) for x in id_inns], dtype=bool)
    pair = id_of.astype(np.int64) * max(len(keys.values), 1) + key_of
    revenue = np.bincount(combo_codes, weights=np.nan_to_num(amount), minlength=n_combos)[present]
    count = np.bincount(combo_codes, minlength=n_combos)[present]
    uniq, inverse = np.unique(pair, return_inverse=True)
    uid = uniq // max(len(keys.values), 1)
    several = np.flatnonzero((np.bincount(uid, minlength=len(ids.values)) > 1) & with_inn)
    if not len(several):
        return []
    rev = np.bincount(inverse, weights=revenue, minlength=len(uniq))
    cnt = np.bincount(inverse, weights=count, minlength=len(uniq))
    shown_row = np.full(len(uniq), -1, dtype=np.int64)
    shown_row[inverse[::-1]] = first[::-1]  # the first row of each (customer, name key)
    out = []
    for i in several.tolist():
        members = np.flatnonzero(uid == i)
        members = members[np.argsort(-rev[members], kind="stable")]
        out.append({"inn": ids.values[i], "names": [
            {"name": names.values[names.codes[shown_row[c]]], "rows": int(cnt[c]), "revenue": float(rev[c])}
            for c in members.tolist()]})
    return sorted(out, key=lambda e: -sum(n["revenue"] for n in e["names"]))


_LEADING_FORMS_RE = re.compile(r"(?:^|\0)((?:(?:" + "|".join(LEGAL_FORMS) + r")(?: |(?=\0|$)))*)")
_FORMS_JOINED_RE = re.compile(r"(?<![^\0 ])(?:" + "|".join(LEGAL_FORMS) + r")(?![^\0 ])")
_NOT_DIGITS_RE = re.compile(r"[^\d\0]+")
_DIGITS_RE = re.compile(r"\d+")


def _digits(keys: list[str]) -> list[str]:
    """The numbers in each name key («Магазин 5» -> "5"), one regular expression over all of them."""
    text = "\0".join(keys)
    return [" ".join(d.split()) for d in _NOT_DIGITS_RE.sub(" ", text).split("\0")] if keys else []


def _cores(keys: list[str]) -> pd.DataFrame:
    """Per name key: ``core`` (without legal forms and numbers, hyphens as spaces), ``solid``
    (the core without spaces), ``forms`` (its legal forms: a key starts with them). One pass
    of each regular expression over the keys joined by NUL."""
    text = "\0".join(keys).replace("-", " ")
    forms = [f.strip() for f in _LEADING_FORMS_RE.findall(text)]
    core = [" ".join(c.split()) for c in _DIGITS_RE.sub(" ", _FORMS_JOINED_RE.sub(" ", text)).split("\0")]
    return pd.DataFrame({"core": core, "solid": [c.replace(" ", "") for c in core], "forms": forms})


def possible_duplicates(ids: list[str], shown: list[str], keys: list[str], revenue: np.ndarray, inns: list[str],
                        apart: set[frozenset[str]]) -> list[dict[str, Any]]:
    """Pairs of customers whose names are alike (see the module docstring), biggest first.

    ids, shown (the name shown), keys (its name key), revenue, inns: one per customer.
    ``apart``: pairs the consultant kept apart.
    """
    from rapidfuzz import fuzz, process

    digits = pd.Series(_digits(keys), dtype=object)
    candidates = np.flatnonzero(digits.duplicated(keep=False).to_numpy())  # a number seen once: no pair
    if len(candidates) < 2:
        return []
    frame = _cores([keys[i] for i in candidates.tolist()]).set_index(candidates)
    frame["digits"] = digits.iloc[candidates].to_numpy()
    frame = frame[frame["solid"].str.len() >= 3]
    pairs: list[tuple[int, int, float]] = []
    for _, block in frame.groupby("digits", sort=False):
        parts = [block] if len(block) <= BLOCK else [b for _, b in block.groupby(block["solid"].str[:1], sort=False)]
        for part in parts:
            if len(part) < 2:
                continue
            idx = part.index.to_numpy()
            near = process.cdist(part["solid"].tolist(), part["solid"].tolist(), scorer=fuzz.ratio,
                                 score_cutoff=SIMILAR, dtype=np.uint8, workers=1)
            words = part["core"].tolist()
            subset = process.cdist(words, words, scorer=fuzz.token_set_ratio, score_cutoff=100, dtype=np.uint8,
                                   workers=1)  # 100 exactly when one name's words are all in the other's
            scores = np.maximum(near, subset)
            a, b = np.nonzero(np.triu(scores, k=1))
            pairs += [(int(idx[i]), int(idx[j]), float(scores[i, j])) for i, j in zip(a.tolist(), b.tolist())]
    forms = frame["forms"].to_dict()
    out = []
    for i, j, score in pairs:
        if frozenset((ids[i], ids[j])) in apart:
            continue
        if inns[i] and inns[j] and inns[i] != inns[j] and forms[i] != forms[j]:
            continue  # two legal entities: different forms, different INNs
        first, second = (i, j) if revenue[i] >= revenue[j] else (j, i)
        out.append({"id_a": ids[first], "name_a": shown[first], "inn_a": inns[first],
                    "revenue_a": float(revenue[first]),
                    "id_b": ids[second], "name_b": shown[second], "inn_b": inns[second],
                    "revenue_b": float(revenue[second]), "score": score})
    return sorted(out, key=lambda p: (-(p["revenue_a"] + p["revenue_b"]), p["name_a"], p["name_b"]))
