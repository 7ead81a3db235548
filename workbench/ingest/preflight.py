"""Each file's header stage, and a file whose header names nothing refused before pandas loads.

``file_header`` is the first thing the import does with a file (``read._parse``): find the
header row under each delimiter the file may use, else say why not (empty, UTF-8 read as
cp1251, no header: ``refusals.no_header`` with the lines of engagement.yaml that fix it).

``headerless_problems`` asks that question before the import loads pandas and its readers
(0.2 s of a refusal that should take 0.3 s): when the import's only inputs are sales files
named in engagement.yaml, text files, and none of them has a header the import knows (not a
ledger's, not a CRM deal export's), the import can only refuse them, with the problems ``file_header``
writes. In any other case (a header found, a customers file or deal export to read too, a
file found by a pattern, a reader's error other than its own refusal) it returns None and
the import runs as always: it never refuses what the import would accept.
"""
from __future__ import annotations

from typing import Any

from workbench.errors import Problem
from workbench.ingest import outline, refusals
from workbench.ingest.deal_headers import looks_like_deal_export
from workbench.ingest.headers import Header, find_header
from workbench.ingest.problems import _Collector
from workbench.ingest.sources import display_name, plan_sales
from workbench.io import readers
from workbench.io.readers import ReadError, Source

Preview = list[tuple[int, int, list[str]]]


def file_header(source: Source, kind: str, explicit: dict[str, str], col: _Collector
                ) -> tuple[Header, str, dict[str, Preview]] | None:
    """(header, its delimiter, the preview under each delimiter) of ``source``; None with the
    reason added to ``col`` when no row of the first ones is a header."""
    header: Header | None = None
    delimiter = ""
    previews = {d: source.preview(d) for d in source.delimiters}
    for d, preview in previews.items():
        found = find_header(preview, kind, explicit)
        if found and (header is None or found.score > header.score + 1e-9):
            header, delimiter = found, d
    if header is not None:
        return header, delimiter, previews
    first = previews[source.delimiters[0]]
    if not any(previews.values()):
        col.add("empty")
    elif source.encoding == "cp1251" and any(
            readers.looks_like_utf8(c) for _, _, cells in first for c in cells):
        col.add("mixed_encoding", first[0][0] if first else None)
    else:
        col.items.append(refusals.no_header(col, first, kind))
    return None


def headerless_problems(engagement: Any) -> list[Problem] | None:
    """The problems the import would refuse the engagement's inputs with, when they are all
    sales files named in engagement.yaml and none has a header (see the module); else None."""
    if any(engagement.input_path(other) is not None for other in ("customers", "deals", "deal_history")):
        return None
    specs, others = plan_sales(engagement)
    if others or not specs or any(spec.found_by for spec in specs):
        return None
    problems: list[Problem] = []
    for spec in specs:
        # text files only, and a quick look at their first rows first: an export that reads
        # costs no second reading of its whole (an xlsx would be opened twice)
        if not spec.path.is_file() or spec.path.suffix.lower() not in readers.TEXT_SUFFIXES:
            return None
        if any(find_header(preview, "sales", dict(spec.columns)) for _, preview in readers.head_previews(spec.path)):
            return None
        name = display_name(engagement, spec.path)
        if looks_like_deal_export(spec.path, name, spec.sheet, engagement.settings):
            return None
        col = _Collector(name, engagement.lang, None)
        try:
            source = outline.flatten(readers.open_source(spec.path, name, spec.sheet))
            col.source = source
            if file_header(source, "sales", dict(spec.columns), col) is not None:
                return None
        except ReadError as exc:  # what ``read._read_file`` says of it
            col.add(exc.kind, exc.row, None, "", exc.value)
        except Exception:  # any other failure is the import's to name
            return None
        problems.extend(col.items)
    return problems
