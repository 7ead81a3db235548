"""Who is one customer, decided in the open.

The name key (``identity.name_key``) and the INN merge what is plainly one customer. What
is merely *similar* is never merged silently; it is listed for the consultant:

* **one INN under several names** (a rename, a branch, a typo): one customer by its INN,
  each name shown with its revenue;
* **possible duplicates**: customers whose names are alike (rapidfuzz ``token_set_ratio``
  of the names without legal forms, at least ``SIMILAR``; names with different numbers
  in them are different customers: «Магазин 5» is not «Магазин 7»), with both spellings
  and revenues.

``customers.merge`` (spellings or INNs of one customer) and ``customers.keep_apart``
(customers that only look alike; it also splits one INN or one name key by spelling) in
engagement.yaml settle them; every entry must name a customer of the data. Work is per
distinct customer, names compared within blocks of one number signature.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import Problem
from workbench.ingest.coded import Coded, _first_rows
from workbench.ingest.identity import LEGAL_FORMS, name_key, name_keys, normalise_inn, spelling_key
from workbench.ingest.messages import _msg

SIMILAR = 88            # token_set_ratio (0-100) from which two names are listed as possible duplicates
BLOCK = 3000            # names compared all with all at most; larger blocks split by first letter
LISTED = 200            # possible duplicates kept in the import report (the workbook sheet lists as many)
_FORMS_RE = r"(?<![^ ])(?:" + "|".join(LEGAL_FORMS) + r")(?![^ ])"


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


def inn_under_names(ids: Coded, keys: Coded, names: Coded, inns: Coded, amount: np.ndarray) -> list[dict[str, Any]]:
    """INNs whose rows carry more than one name key: each name with its rows and revenue."""
    base = max(len(keys.values), 1)
    inn_of_id = np.array([v != "" for v in _id_inns(ids, inns)], dtype=bool)
    combo = ids.codes.astype(np.int64) * base + keys.codes
    uniq_codes, uniq = pd.factorize(combo)
    id_of, key_of = np.divmod(np.asarray(uniq, dtype=np.int64), base)
    per_id = np.bincount(id_of, minlength=len(ids.values))
    several = (per_id > 1) & inn_of_id
    if not several.any():
        return []
    revenue = np.bincount(uniq_codes, weights=np.nan_to_num(amount), minlength=len(uniq))
    count = np.bincount(uniq_codes, minlength=len(uniq))
    first = _first_rows(uniq_codes, len(uniq))
    out = []
    for i in np.flatnonzero(several).tolist():
        members = np.flatnonzero(id_of == i)
        members = members[np.argsort(-revenue[members], kind="stable")]
        out.append({"inn": ids.values[i], "names": [
            {"name": names.values[names.codes[first[c]]], "rows": int(count[c]), "revenue": float(revenue[c])}
            for c in members.tolist()]})
    return sorted(out, key=lambda e: -sum(n["revenue"] for n in e["names"]))


def _id_inns(ids: Coded, inns: Coded) -> list[str]:
    """The INN of each id (an id is its INN when the customer has one)."""
    first = _first_rows(ids.codes, len(ids.values))
    out = []
    for i, row in enumerate(first.tolist()):
        inn = inns.values[inns.codes[row]] if row < len(ids.codes) else ""
        out.append(inn if inn and inn == ids.values[i] else "")
    return out


def _cores(shown: list[str]) -> pd.DataFrame:
    """Per name: ``core`` (its key without legal forms and numbers) and ``digits`` (the numbers in it)."""
    text = pd.Series(name_keys(shown), dtype=object).str.replace("-", " ", regex=False)
    text = text.str.replace(_FORMS_RE, " ", regex=True)
    return pd.DataFrame({"core": text.str.replace(r"\d+", " ", regex=True).str.split().str.join(" "),
                         "digits": text.str.findall(r"\d+").str.join(" ")})


def possible_duplicates(ids: list[str], shown: list[str], revenue: np.ndarray, inns: list[str],
                        apart: set[frozenset[str]]) -> list[dict[str, Any]]:
    """Pairs of customers whose names are alike (see the module docstring), biggest first.

    ids, shown, revenue, inns: one per customer. ``apart``: pairs the consultant kept apart.
    """
    from rapidfuzz import fuzz, process

    frame = _cores(shown)
    frame = frame[frame["core"].str.len() >= 3]
    frame = frame[frame["digits"].duplicated(keep=False)]  # a number seen once: compared with no one
    pairs: list[tuple[int, int, float]] = []
    for _, block in frame.groupby("digits", sort=False):
        parts = [block] if len(block) <= BLOCK else [b for _, b in block.groupby(block["core"].str[:1], sort=False)]
        for part in parts:
            if len(part) < 2:
                continue
            idx = part.index.to_numpy()
            scores = process.cdist(part["core"].tolist(), part["core"].tolist(), scorer=fuzz.token_set_ratio,
                                   score_cutoff=SIMILAR, dtype=np.uint8, workers=1)
            a, b = np.nonzero(np.triu(scores, k=1))
            pairs += [(int(idx[i]), int(idx[j]), float(scores[i, j])) for i, j in zip(a.tolist(), b.tolist())]
    out = []
    for i, j, score in pairs:
        if frozenset((ids[i], ids[j])) in apart:
            continue
        first, second = (i, j) if revenue[i] >= revenue[j] else (j, i)
        out.append({"id_a": ids[first], "name_a": shown[first], "inn_a": inns[first],
                    "revenue_a": float(revenue[first]),
                    "id_b": ids[second], "name_b": shown[second], "inn_b": inns[second],
                    "revenue_b": float(revenue[second]), "score": score})
    return sorted(out, key=lambda p: (-(p["revenue_a"] + p["revenue_b"]), p["name_a"], p["name_b"]))
