"""Header recognition: which row is the header and which role each column's label names.

Synonyms come from the ``ingest.headers`` catalogues (Russian and English; a customers
file adds ``ingest.headers_customers``); a label is matched exactly, by its first words,
by words inside it, or by a word stem. Labels are compared casefolded, with punctuation
and camelCase boundaries as spaces ("InvoiceDate" is "invoice date"). A dotted 1C label
(«Контрагент.ИНН») names an attribute of its owner: the INN, not the customer.
``find_header`` scores each of the first rows (and each pair of rows, for a two-row
header) and keeps the best. What each column finally holds is settled by ``roles``,
which also looks at the values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from workbench import columns as C
from workbench.i18n import LANGUAGES
from workbench.ingest.fields import CUSTOMER_ROLES, SALES_ROLES
from workbench.ingest.messages import _msg

_WS_RE = re.compile(r"\s+")
_NONWORD_RE = re.compile(r"[^\w]+")
_CAMEL_RE = re.compile(r"(?<=[a-zа-яё])(?=[A-ZА-ЯЁ])")
# «Контрагент.ИНН», «Номенклатура.Артикул»: words, one dot, words (no spaces around the dot)
_DOTTED_RE = re.compile(r"^\s*([^\W\d_][\w ]*?[^\W\d_]|[^\W\d_])\.([^\W\d_][\w ]*?[^\W\d_]|[^\W\d_])\s*$")


def normalise_header(text: str) -> str:
    """Header text for comparison: camelCase split, casefolded, ё -> е, punctuation -> space, collapsed."""
    text = _CAMEL_RE.sub(" ", str(text)).casefold().replace("ё", "е").replace("_", " ")
    return _WS_RE.sub(" ", _NONWORD_RE.sub(" ", text)).strip()


@cache
def _synonyms(kind: str = "sales") -> dict[str, tuple[str, ...]]:
    """role -> normalised synonyms, Russian first then English, from the catalogues (a
    customers file adds ``headers_customers``). A role's earlier synonyms rank higher."""
    out: dict[str, list[str]] = {}
    sections = ("headers", "headers_customers") if kind == "customers" else ("headers",)
    for section in sections:
        for lang in LANGUAGES:
            for canon, words in (_msg(section, lang) or {}).items():
                bucket = out.setdefault(canon, [])
                for w in words:
                    n = normalise_header(w)
                    if n and n not in bucket:
                        bucket.append(n)
    return {k: tuple(v) for k, v in out.items()}


@cache
def _synonym_index(kind: str = "sales") -> tuple[dict[str, tuple[tuple[str, int, int], ...]],
                                                   tuple[tuple[str, str, int], ...]]:
    """(normalised synonym -> ((role, length, rank), ...), single-word synonyms of 4+ letters
    as (synonym, role, rank)). One synonym may name several roles ("description": a
    product in a ledger, a note in a customers file)."""
    index: dict[str, list[tuple[str, int, int]]] = {}
    stems: list[tuple[str, str, int]] = []
    for canon, syns in _synonyms(kind).items():
        for rank, syn in enumerate(syns):
            index.setdefault(syn, []).append((canon, len(syn), rank))
            if " " not in syn and len(syn) >= 4:
                stems.append((syn, canon, rank))
    return {k: tuple(v) for k, v in index.items()}, tuple(stems)


@cache
def _name_attributes() -> frozenset[str]:
    return frozenset(normalise_header(w) for lang in LANGUAGES for w in _msg("name_attributes", lang))


@lru_cache(maxsize=4096)
def recognise(label: str, allowed: tuple[str, ...], kind: str = "sales") -> tuple[str, float, int] | None:
    """Best role for one header label: (role, score, rank of the synonym); None if unknown.

    Exact synonym 3, synonym followed by more words 2 ("Сумма, руб."), a synonym
    inside the label or a word starting with one 1 ("Наименование контрагента");
    longer synonyms win ties (so "Сумма без НДС" is the net amount, not "Сумма").
    """
    norm = normalise_header(label)
    if not norm or sum(ch.isdigit() for ch in norm) * 2 > len(norm):
        return None  # values such as dates and amounts are never headers
    index, stems = _synonym_index(kind)
    words = norm.split()
    best: tuple[str, float, int] | None = None

    def offer(hits: tuple[tuple[str, int, int], ...], score: float) -> None:
        nonlocal best
        for canon, length, rank in hits:
            if canon in allowed:
                total = score + min(length, 40) / 100.0
                if best is None or total > best[1]:
                    best = (canon, total, rank)

    hit = index.get(norm)
    if hit:
        offer(hit, 3.0)
    for k in range(len(words) - 1, 0, -1):
        hit = index.get(" ".join(words[:k]))
        if hit:
            offer(hit, 2.0)
    for i in range(1, len(words)):
        for k in range(i + 1, len(words) + 1):
            hit = index.get(" ".join(words[i:k]))
            if hit:
                offer(hit, 1.0)
    # stems that some word starts with and is longer than (found through the word's
    # prefixes, not by trying every stem), offered in stem order
    for pos in sorted(p for w in words for k in range(4, len(w)) for p in _stem_positions(kind).get(w[:k], ())):
        syn, canon, rank = stems[pos]
        offer(((canon, len(syn), rank),), 1.0)
    return best


@cache
def _stem_positions(kind: str = "sales") -> dict[str, tuple[int, ...]]:
    """stem -> its positions in ``_synonym_index(kind)[1]``."""
    out: dict[str, list[int]] = {}
    for pos, (syn, _, _) in enumerate(_synonym_index(kind)[1]):
        out.setdefault(syn, []).append(pos)
    return {k: tuple(v) for k, v in out.items()}


def dotted(label: str) -> tuple[str, str] | None:
    """(owner, attribute) of a dotted 1C label («Контрагент.ИНН»); None for any other label."""
    m = _DOTTED_RE.match(str(label))
    return (m.group(1).strip(), m.group(2).strip()) if m else None


@dataclass(frozen=True)
class Found:
    """What a column's label names: a role (None: an attribute with no role of its own),
    how well (score, rank of the synonym), and for a dotted label the owner's text."""

    role: str | None
    score: float
    rank: int
    owner: str = ""
    explicit: bool = False


def label_role(label: str, allowed: tuple[str, ...], kind: str) -> Found | None:
    """The role one header label names (dotted labels through their owner and attribute)."""
    parts = dotted(label)
    if parts is None:
        hit = recognise(label, allowed, kind)
        return Found(hit[0], hit[1], hit[2]) if hit else None
    owner, attr = parts
    if normalise_header(attr) in _name_attributes():  # «Контрагент.Наименование»: the owner itself
        hit = recognise(owner, allowed, kind)
        return Found(hit[0], hit[1], hit[2], owner) if hit else None
    hit = recognise(attr, allowed, kind)
    if hit:
        return Found(hit[0], hit[1], hit[2], owner)
    return Found(None, 0.0, 0, owner) if recognise(owner, allowed, kind) else None


@dataclass
class Header:
    """The recognised header: where it is and what each column's label names."""

    first_row: int                 # physical row of the (first) header row
    data_start: int                # physical row where data rows begin
    labels: list[str]              # column labels as the user sees them
    mapping: dict[str, int]        # role -> column index (the best column for each role)
    score: float
    missing_explicit: list[str] = field(default_factory=list)  # headers from engagement.yaml not found
    found: list[Found | None] = field(default_factory=list)     # per column: what its label names


_KEY_ROLES = frozenset(C.LEDGER_REQUIRED) | {C.AMOUNT_NET, C.AMOUNT_GROSS}


def _fill_right(cells: list[str]) -> list[str]:
    """Merged header cells keep their text in the first cell only: carry it right."""
    out, last = [], ""
    for c in cells:
        last = c if c.strip() else last
        out.append(last)
    return out


def _assign(labels: list[list[str]], allowed: tuple[str, ...], explicit: dict[str, str], kind: str = "sales"
            ) -> tuple[dict[str, int], float, list[str], list[Found | None]]:
    """Map roles to column indices. ``labels[j]`` = candidate texts, best first.

    Returns (role -> column, score of the row, explicit headers not found, per column
    what its label names). Of several columns naming one role the best match wins, then
    the earlier synonym (``_synonyms`` order), then the first column.
    """
    mapping: dict[str, int] = {}
    score = 0.0
    missing: list[str] = []
    found: list[Found | None] = [None] * len(labels)
    for canon, header in explicit.items():
        want = normalise_header(header)
        hit = next((j for j, cands in enumerate(labels)
                    if any(normalise_header(c) == want for c in cands if c)), None)
        if hit is None:
            missing.append(header)
        else:
            mapping[canon] = hit
            found[hit] = Found(canon, 10.0, 0, explicit=True)
            score += 10.0
    best: dict[str, tuple[tuple[int, int, int], float, int]] = {}
    for j, cands in enumerate(labels):
        if found[j] is not None:
            continue
        got = None
        for cand in cands:
            got = label_role(cand, allowed, kind) if cand else None
            if got:
                break
        found[j] = got
        if not got or got.role is None or got.role in mapping:
            continue
        key = (int(got.score), -got.rank, -j)
        if got.role not in best or key > best[got.role][0]:
            best[got.role] = (key, got.score, j)
    for canon, (_, sc, j) in best.items():
        mapping[canon] = j
        score += sc * (3.0 if canon in _KEY_ROLES else 1.0)
    return mapping, score, missing, found


_NUMBER_LIKE_RE = re.compile(r"^[\s+\-−(]*[\d\s\u00a0\u202f.,']*\d[\d\s\u00a0\u202f.,']*\)?\s*\S{0,4}$")
_DATE_CELL_RE = re.compile(r"^\s*(\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2})")


def _reads_as_headers(cells: list[str], allowed: tuple[str, ...], kind: str) -> bool:
    """True when a row could be the second row of a two-row header: no cell is a number
    or a date (data rows have them), and at least half of its filled cells name a role."""
    filled = [c for c in cells if c]
    if not filled:
        return False
    if any(_NUMBER_LIKE_RE.match(c) or _DATE_CELL_RE.match(c) for c in filled):
        return False
    named = sum(1 for c in filled if label_role(c, allowed, kind) is not None)
    return named * 2 >= len(filled)


def find_header(preview: list[tuple[int, int, list[str]]], kind: str,
                explicit: dict[str, str]) -> Header | None:
    """Find the header among the first rows: the row (or pair of rows) naming most columns.

    Title rows above the header ("Отчёт по продажам за 2024") are skipped. A two-row
    header (merged group cells over sub-headers) is combined: "Документ / Дата"; a row
    joins the header only if it reads as headers (no numbers or dates, mostly known
    labels), so a data row holding one header-like word stays data.
    Returns None when no row names at least two known columns, one of them a key
    column (customer, date or amount for sales; customer or INN for customers). A row
    naming a deal stage with one more role is a header too (a CRM deal export).
    """
    allowed = SALES_ROLES if kind == "sales" else CUSTOMER_ROLES
    # key columns, by what they say: the money family all says "amount"
    keys = {C.CUSTOMER_NAME: C.CUSTOMER_NAME, C.DATE: C.DATE, C.AMOUNT: C.AMOUNT, C.AMOUNT_NET: C.AMOUNT,
            C.AMOUNT_GROSS: C.AMOUNT} if kind == "sales" else {C.CUSTOMER_NAME: C.CUSTOMER_NAME, C.INN: C.INN}
    best: Header | None = None
    for i, (row, end, cells) in enumerate(preview):
        width = _width(cells)
        single = [[c] for c in cells[:width]]
        cand = [(single, [c.strip() for c in cells[:width]], end, 0.0)]
        if i + 1 < len(preview) and preview[i + 1][0] == end + 1:
            _, nend, ncells = preview[i + 1]
            w2 = max(width, _width(ncells))
            top_cells = [c.strip() for c in cells[:w2]]
            top = _fill_right(top_cells + [""] * (w2 - len(top_cells)))
            bottom = [c.strip() for c in ncells[:w2]] + [""] * max(0, w2 - len(ncells))
            if _reads_as_headers(bottom, allowed, kind):
                pair = [[b, f"{tp} {b}".strip(), tp] if b else [tp] for tp, b in zip(top, bottom)]
                shown = [f"{tp} / {b}" if tp and b and tp != b else (b or tp) for tp, b in zip(top, bottom)]
                cand.append((pair, shown, nend, 0.5))  # a pair must beat its rows by more than noise
        for labels, shown, last, penalty in cand:
            mapping, score, missing, found = _assign(labels, allowed, explicit, kind)
            score -= penalty
            recognised = list({keys[k] for k in mapping if k in keys})
            deal = kind == "sales" and C.STAGE in mapping and len(mapping) >= 2
            # a customers file may hold nothing known but the name («Наименование» beside groups)
            name_only = kind == "customers" and list(mapping) == [C.CUSTOMER_NAME] and \
                found[mapping[C.CUSTOMER_NAME]] is not None and found[mapping[C.CUSTOMER_NAME]].score >= 3.0 and \
                sum(1 for x in shown if x) >= 2
            if not deal and not name_only and (len(mapping) < 2 or not recognised):
                continue
            if not deal and kind == "sales" and len(recognised) < 2 and not explicit:
                continue
            if best is None or score > best.score + 1e-9:
                best = Header(first_row=row, data_start=last + 1, labels=shown, mapping=mapping,
                              score=score, missing_explicit=missing, found=found)
    return best


def _width(cells: list[str]) -> int:
    """Number of cells up to the last non-empty one."""
    n = len(cells)
    while n and not str(cells[n - 1]).strip():
        n -= 1
    return n


def synonyms_of(role: str, kind: str = "sales", limit: int = 6) -> list[str]:
    """The first synonyms of a role as written in the catalogue of ``lang`` order (for messages)."""
    return list(_synonyms(kind).get(role, ()))[:limit]
