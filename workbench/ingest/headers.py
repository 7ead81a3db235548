"""Header recognition: which row is the header and which canonical field each column holds.

Synonyms come from the ``ingest.headers`` catalogues (Russian and English); a label is
matched exactly, by its first words, by words inside it, or by a word stem.
``find_header`` scores each of the first rows (and each pair of rows, for a two-row
header) and keeps the best.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from workbench import columns as C
from workbench.i18n import LANGUAGES
from workbench.ingest.fields import CUSTOMER_FIELDS, SALES_FIELDS
from workbench.ingest.messages import _msg

_WS_RE = re.compile(r"\s+")


_NONWORD_RE = re.compile(r"[^\w]+")


def normalise_header(text: str) -> str:
    """Header text for comparison: casefolded, ё -> е, punctuation -> space, collapsed."""
    text = str(text).casefold().replace("ё", "е").replace("_", " ")
    return _WS_RE.sub(" ", _NONWORD_RE.sub(" ", text)).strip()


@cache
def _synonyms() -> dict[str, tuple[str, ...]]:
    """canonical -> normalised synonyms, Russian first then English, from the catalogues."""
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for canon, words in _msg("headers", lang).items():
            bucket = out.setdefault(canon, [])
            for w in words:
                n = normalise_header(w)
                if n and n not in bucket:
                    bucket.append(n)
    return {k: tuple(v) for k, v in out.items()}


@cache
def _synonym_index() -> tuple[dict[str, tuple[str, int]], tuple[tuple[str, str], ...]]:
    """(normalised synonym -> (canonical, length), single-word synonyms of 4+ letters)."""
    index: dict[str, tuple[str, int]] = {}
    stems: list[tuple[str, str]] = []
    for canon, syns in _synonyms().items():
        for syn in syns:
            index.setdefault(syn, (canon, len(syn)))
            if " " not in syn and len(syn) >= 4:
                stems.append((syn, canon))
    return index, tuple(stems)


@lru_cache(maxsize=4096)
def recognise(label: str, allowed: tuple[str, ...]) -> tuple[str, float] | None:
    """Best canonical column for one header label, with a score; None if unknown.

    Exact synonym 3, synonym followed by more words 2 ("Сумма, руб."), a synonym
    inside the label or a word starting with one 1 ("Наименование контрагента");
    longer synonyms win ties.
    """
    norm = normalise_header(label)
    if not norm or sum(ch.isdigit() for ch in norm) * 2 > len(norm):
        return None  # values such as dates and amounts are never headers
    index, stems = _synonym_index()
    words = norm.split()
    best: tuple[str, float] | None = None

    def offer(canon: str, score: float, length: int) -> None:
        nonlocal best
        if canon in allowed:
            score += min(length, 40) / 100.0
            if best is None or score > best[1]:
                best = (canon, score)

    hit = index.get(norm)
    if hit:
        offer(hit[0], 3.0, hit[1])
    for k in range(len(words) - 1, 0, -1):
        hit = index.get(" ".join(words[:k]))
        if hit:
            offer(hit[0], 2.0, hit[1])
    for i in range(1, len(words)):
        for k in range(i + 1, len(words) + 1):
            hit = index.get(" ".join(words[i:k]))
            if hit:
                offer(hit[0], 1.0, hit[1])
    # stems that some word starts with and is longer than (found through the word's
    # prefixes, not by trying every stem), offered in stem order
    for pos in sorted(p for w in words for k in range(4, len(w)) for p in _stem_positions().get(w[:k], ())):
        syn, canon = stems[pos]
        offer(canon, 1.0, len(syn))
    return best


@cache
def _stem_positions() -> dict[str, tuple[int, ...]]:
    """stem -> its positions in ``_synonym_index()[1]``."""
    out: dict[str, list[int]] = {}
    for pos, (syn, _) in enumerate(_synonym_index()[1]):
        out.setdefault(syn, []).append(pos)
    return {k: tuple(v) for k, v in out.items()}


@dataclass
class Header:
    """The recognised header: where it is and what each column means."""

    first_row: int                 # physical row of the (first) header row
    data_start: int                # physical row where data rows begin
    labels: list[str]              # column labels as the user sees them
    mapping: dict[str, int]        # canonical -> column index
    score: float
    missing_explicit: list[str] = field(default_factory=list)  # headers from engagement.yaml not found


def _fill_right(cells: list[str]) -> list[str]:
    """Merged header cells keep their text in the first cell only: carry it right."""
    out, last = [], ""
    for c in cells:
        last = c if c.strip() else last
        out.append(last)
    return out


def _assign(labels: list[list[str]], allowed: tuple[str, ...],
            explicit: dict[str, str]) -> tuple[dict[str, int], float, list[str]]:
    """Map canonical columns to column indices. ``labels[j]`` = candidate texts, best first."""
    mapping: dict[str, int] = {}
    score = 0.0
    missing: list[str] = []
    taken: set[int] = set()
    for canon, header in explicit.items():
        want = normalise_header(header)
        hit = next((j for j, cands in enumerate(labels)
                    if any(normalise_header(c) == want for c in cands if c)), None)
        if hit is None:
            missing.append(header)
        else:
            mapping[canon] = hit
            taken.add(hit)
            score += 10.0
    best: dict[str, tuple[float, int]] = {}
    for j, cands in enumerate(labels):
        if j in taken:
            continue
        found = None
        for cand in cands:
            found = recognise(cand, allowed) if cand else None
            if found:
                break
        if not found or found[0] in mapping:
            continue
        canon, sc = found
        if canon not in best or sc > best[canon][0]:
            best[canon] = (sc, j)
    for canon, (sc, j) in best.items():
        mapping[canon] = j
        score += sc * (3.0 if canon in C.LEDGER_REQUIRED else 1.0)
    return mapping, score, missing


def find_header(preview: list[tuple[int, int, list[str]]], kind: str,
                explicit: dict[str, str]) -> Header | None:
    """Find the header among the first rows: the row (or pair of rows) naming most columns.

    Title rows above the header ("Отчёт по продажам за 2024") are skipped. A two-row
    header (merged group cells over sub-headers) is combined: "Документ / Дата".
    Returns None when no row names at least two known columns, one of them a key
    column (customer, date or amount for sales; customer or INN for customers).
    """
    allowed = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    keys = set(C.LEDGER_REQUIRED) if kind == "sales" else {C.CUSTOMER_NAME, C.INN}
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
            pair = [[b, f"{tp} {b}".strip(), tp] if b else [tp] for tp, b in zip(top, bottom)]
            shown = [f"{tp} / {b}" if tp and b and tp != b else (b or tp) for tp, b in zip(top, bottom)]
            cand.append((pair, shown, nend, 0.5))  # a pair must beat its rows by more than noise
        for labels, shown, last, penalty in cand:
            mapping, score, missing = _assign(labels, allowed, explicit)
            score -= penalty
            recognised = [k for k in mapping if k in keys]
            if len(mapping) < 2 or not recognised:
                continue
            if kind == "sales" and len(recognised) < 2 and not explicit:
                continue
            if best is None or score > best.score + 1e-9:
                best = Header(first_row=row, data_start=last + 1, labels=shown, mapping=mapping,
                              score=score, missing_explicit=missing)
    return best


def _width(cells: list[str]) -> int:
    """Number of cells up to the last non-empty one."""
    n = len(cells)
    while n and not str(cells[n - 1]).strip():
        n -= 1
    return n


def _expected_headers(canon: str) -> str:
    syn = _synonyms().get(canon, ())
    return f"{canon}: " + ", ".join(syn[:4])
