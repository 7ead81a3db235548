"""A CRM deal export told by its first rows: its header (``deal_header``), whether a file is
one (``looks_like_deal_export``) or a stage history (``_looks_like_history``), and the deals
catalogue (``deal_messages``). Nothing here loads pandas: the import asks these questions of
every input before it reads one (``preflight`` refuses a file that answers none)."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from workbench import columns as C
from workbench.i18n import LANGUAGES
from workbench.ingest.headers import normalise_header
from workbench.io import readers
from workbench.io.readers import ReadError, Source

DEAL_FIELDS = ("deal_id", "deal_name", "stage", "pipeline", "amount", "created", "closed", "modified",
               "closed_flag", "semantic", "company", "contact", "manager", "source", "lost_reason", "currency")
HISTORY_FIELDS = ("deal_id", "stage", "date", "pipeline")
# Besides a stage column, one of these makes a header a deal export's.
_DEAL_SIGNS = ("amount", "closed_flag", "semantic", "pipeline")
# Stage headers that name a deal's stage outright; a plain «Этап» / «Stage» needs a deal's own
# field beside it (an id, a title, a creation or close date, a closed flag, semantics, a pipeline).
_DEAL_STAGE_HEADERS = ("этап сделки", "стадия сделки", "stage id", "deal stage", "статус сделки", "lead status",
                       "status id", "этап воронки", "стадия воронки", "pipeline stage", "deal stage id")
_DEAL_OWN = ("deal_id", "deal_name", "created", "closed", "closed_flag", "semantic", "pipeline", "lost_reason")
# Headers only amoCRM writes: its custom stages are open by construction.
_AMO_HEADERS = ("этап сделки", "бюджет", "дата создания сделки", "полное имя контакта")


@dataclass
class DealHeader:
    """A deal export's header: where it is and which column holds each deal field."""

    first_row: int
    data_start: int
    labels: list[str]
    mapping: dict[str, int]
    delimiter: str = ""
    missing_explicit: list[str] = field(default_factory=list)
    amocrm: bool = False


@cache
def _synonyms(kind: str) -> dict[str, list[str]]:
    """field -> normalised header synonyms, best first, Russian then English."""
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for canon, words in deal_messages(lang)["headers" if kind == "deals" else "history_headers"].items():
            bucket = out.setdefault(canon, [])
            for w in words:
                n = normalise_header(w)
                if n not in bucket:
                    bucket.append(n)
    return out


def deal_header(preview: list[tuple[int, int, list[str]]], explicit: dict[str, str] | None = None,
                kind: str = "deals") -> DealHeader | None:
    """The column-role hook for deal exports: the first row of ``preview`` naming a stage
    column and one of budget, closed flag, stage semantics or pipeline (``kind="deals"``), or
    a deal id, a stage and a date (``kind="history"``); None when no row does.

    Headers are matched whole (case, punctuation and «ё» aside): CRM exports write their
    own fixed headers. ``explicit`` (``inputs.deals.columns``) wins over recognition. A header
    written twice (two integrations' «Источник») keeps its first column.
    """
    explicit = explicit or {}
    synonyms = _synonyms(kind)
    for row, end, cells in preview[:30]:
        norm = [normalise_header(c) for c in cells]
        mapping: dict[str, int] = {}
        missing = []
        for canon, header in explicit.items():
            want = normalise_header(header)
            if want in norm:
                mapping[canon] = norm.index(want)
            else:
                missing.append(header)
        taken = set(mapping.values())
        for canon, words in synonyms.items():
            if canon in mapping:
                continue
            for w in words:  # best synonym first, then its first column
                hit = next((j for j, n in enumerate(norm) if n == w and j not in taken), None)
                if hit is not None:
                    mapping[canon] = hit
                    taken.add(hit)
                    break
        if kind == "deals":
            outright = "stage" in mapping and norm[mapping["stage"]] in _DEAL_STAGE_HEADERS
            ok = "stage" in mapping and any(s in mapping for s in _DEAL_SIGNS)
            if ok and not outright:
                # a plain «Этап» / «Stage» beside «Сумма» may be a ledger's: a deal's own field too
                ok = any(s in mapping for s in _DEAL_OWN)
            # a stage named outright with any other deal field (the import's rule, ``roles.deal``)
            ok = ok or (outright and len(mapping) >= 2)
        else:
            ok = all(f in mapping for f in ("deal_id", "stage", "date"))
        if ok:
            labels = [c.strip() for c in cells]
            return DealHeader(first_row=row, data_start=end + 1, labels=labels, mapping=mapping,
                              missing_explicit=missing, amocrm=any(n in _AMO_HEADERS for n in norm))
    return None


def find_deal_header(source: Source, explicit: dict[str, str] | None = None,
                     kind: str = "deals") -> DealHeader | None:
    """``deal_header`` over each delimiter the source may use; the one naming most fields."""
    best: DealHeader | None = None
    for d in source.delimiters:
        found = deal_header(source.preview(d), explicit, kind)
        if found is not None and (best is None or len(found.mapping) > len(best.mapping)):
            found.delimiter = d
            best = found
    return best


def roles_say_deal(preview: list[tuple[int, int, list[str]]], settings: dict[str, Any]) -> bool:
    """The import's own verdict on a file's first rows: read as a sales file, its roles make
    it a CRM deal export (``workbench.ingest.roles.Roles.deal``: a stage column, ``DEAL_ROLES``)."""
    from workbench.ingest.headers import find_header
    from workbench.ingest.roles import settle

    header = find_header(preview, "sales", {})
    return header is not None and C.STAGE in header.mapping and settle(header, preview, "sales", settings).deal


def looks_like_deal_export(path: Path | None, name: str, sheet: str = "",
                           settings: dict[str, Any] | None = None) -> bool:
    """True when the file at ``path`` is a deal export: its header is a deal export's
    (``deal_header``) or the import's roles say so (``roles_say_deal``, with ``settings``).
    The import's hook: a deal export given as ``inputs.sales`` is read as deals, not as a
    ledger. Any read failure is False: the ledger reader then names the problem."""
    if path is None or not path.is_file():  # a pipe or a folder: the ledger reader names it
        return False
    try:
        if path.suffix.lower() in readers.TEXT_SUFFIXES:
            return _text_head_has_deal_header(path, settings=settings)
        source = readers.open_source(path, name, sheet)
        return find_deal_header(source) is not None or (settings is not None and any(
            roles_say_deal(source.preview(d), settings) for d in source.delimiters))
    except (ReadError, ValueError, UnicodeError, OSError, csv.Error):
        return False


def _text_head_has_deal_header(path: Path, size: int = 64 * 1024, kind: str = "deals",
                               settings: dict[str, Any] | None = None) -> bool:
    """The first rows of a text file only (``readers.head_previews``: a 1 M-row ledger is not
    opened whole to find out it is not a deal export)."""
    for _, preview in readers.head_previews(path, size):
        if deal_header(preview, kind=kind) is not None:
            return True
        if kind == "deals" and settings is not None and roles_say_deal(preview, settings):
            return True
    return False


def _looks_like_history(path: Path) -> bool:
    """A text file whose first rows name a deal id, a stage and a date (a stage history)."""
    if not path.is_file() or path.suffix.lower() not in readers.TEXT_SUFFIXES:
        return False
    try:
        return _text_head_has_deal_header(path, kind="history")
    except (ValueError, UnicodeError, OSError, csv.Error):
        return False


@cache
def deal_messages(lang: str) -> dict[str, Any]:
    """The ``deals`` topic of a catalogue alone (the import loads no other topic: see
    ``workbench.ingest.messages``); same values as ``t("deals.<key>", lang)``."""
    import yaml

    from workbench import i18n

    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: allowed {', '.join(LANGUAGES)}")
    path = Path(i18n.__file__).parent / lang / "deals.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
