"""Which files are read as which input, and what to say about the others in ``data/``.

``inputs.sales.file`` and the items of ``inputs.sales.files`` (paths or glob patterns,
``data/*`` by default; an item may carry its own ``sheet`` and ``columns``) name the
sales ledger's files. A file found only by a pattern is read when it has the layout of
a sales ledger (its columns recognised or mapped); one that does not, and any other file
in ``data/`` that is neither an input nor in ``inputs.ignore``, is reported with the
lines to add to ``engagement.yaml``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import columns as C
from workbench.config import file_patterns
from workbench.ingest.headers import Header, find_header
from workbench.io import inputs, readers
from workbench.io.readers import ReadError

# Problems that say a file found by a pattern is not a sales ledger at all (another
# layout, not a table): it is reported, not refused. Any other problem (a bad date, a
# ragged row) is a sales export with a fault, refused as any named file would be.
LAYOUT_KINDS = frozenset({"no_header", "missing_column", "unknown_mapped_column", "unsupported_type",
                          "empty", "header_only"})


@dataclass(frozen=True)
class FileSpec:
    """One file to read as an input.

    path: absolute path; name: as the user knows it (inside ``data/``); rel: as written
    in engagement.yaml (relative to the engagement folder, ``/`` separators);
    sheet, columns: the reading settings of the item that named or found it;
    found_by: the glob pattern that found it ("" when engagement.yaml names it).
    """

    path: Path
    name: str
    rel: str
    sheet: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    found_by: str = ""


@dataclass(frozen=True)
class Unmatched:
    """A file in ``data/`` read as no input: why, what it holds, and what to add.

    reason: ``layout`` (found by a pattern, not a sales ledger), ``not_listed`` (matched
    by no item of ``inputs.sales.files``), ``not_table`` (not a .csv/.xlsx/...),
    ``no_rows`` (a header and no data rows), ``unreadable``.
    headers: its header row as found (or its first row); missing: sales columns not found;
    lines: ``(key, value)`` pairs: an engagement.yaml key and the one-line YAML value that
    makes the file an input (or leaves it out), its present items kept.
    """

    name: str
    rel: str
    reason: str
    headers: list[str]
    missing: list[str]
    lines: list[tuple[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.name, "path": self.rel, "reason": self.reason, "headers": self.headers,
                "missing": self.missing, "lines": [{"key": k, "line": v} for k, v in self.lines]}


def _rel(eng: Any, path: Path) -> str:
    try:
        return path.resolve().relative_to(eng.root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def display_name(eng: Any, path: Path) -> str:
    """A file as the user knows it: its path inside ``data/``, else inside the engagement."""
    for base in (eng.data_dir, eng.root):
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return path.name


def plan_sales(eng: Any, exclude: set[Path] | None = None) -> tuple[list[FileSpec], list[Path]]:
    """The sales files to read, in order (``file``, then the items of ``files``), and the
    other data files of ``data/`` (neither sales, customers, the contact log nor ignored).
    ``exclude``: resolved paths read as another input (a CRM deal export and its stage history).

    A file is read once: with the settings of ``file`` or of the item naming its path,
    else of the first pattern finding it.
    """
    spec = eng.settings["inputs"]["sales"]
    ignored = {p.resolve() for pat in file_patterns(eng.settings["inputs"]["ignore"])
               for p in inputs.expand(eng.root, pat)}
    # the other inputs (customers file, contact log, a deal export and its history) are never sales
    taken: set[Path] = {p.resolve() for p in (eng.input_path(name) for name in
                                              ("customers", "activities", "deals", "deal_history"))
                        if p is not None} | set(exclude or ())
    out: list[FileSpec] = []

    def add(path: Path, sheet: str, columns: dict[str, str], found_by: str) -> None:
        key = path.resolve()
        if key in taken or (found_by and key in ignored):
            return
        taken.add(key)
        out.append(FileSpec(path=path, name=display_name(eng, path), rel=_rel(eng, path), sheet=sheet,
                            columns=dict(columns), found_by=found_by))

    if spec["file"]:
        add(eng.root / spec["file"], spec.get("sheet", "") or "", spec.get("columns") or {}, "")
    items = list(spec["files"])
    # a file named by its path is read with that item's settings, whatever pattern also finds it
    items.sort(key=lambda item: inputs.is_pattern(item["file"] if isinstance(item, dict) else str(item)))
    for item in items:
        own = isinstance(item, dict)
        pattern = item["file"] if own else str(item)
        sheet = (item.get("sheet", "") if own else spec.get("sheet", "")) or ""
        columns = (item.get("columns") if own else spec.get("columns")) or {}
        for path in inputs.expand(eng.root, pattern):
            add(path, sheet, columns, pattern if inputs.is_pattern(pattern) else "")
    others = [p for p in inputs.data_files(eng.data_dir) if p.resolve() not in taken | ignored]
    return out, others


# --- what to say about a file that is no input ----------------------------------------
def _yaml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a valid YAML double-quoted scalar


def _flow(value: Any) -> str:
    """``value`` as one line of YAML (flow style): what is printed for the consultant to paste."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items() if v not in ("", {}, None)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _yaml_text(str(value))


def _sniff(path: Path, name: str, sheet: str, columns: dict[str, str]
           ) -> tuple[str, list[str], Header | None, Header | None]:
    """(reason or "", headers as found, sales header, customers header) of a file."""
    try:
        source = readers.open_source(path, name, sheet)
        previews = [source.preview(d) for d in source.delimiters]
    except ReadError as exc:
        return ("not_table" if exc.kind == "unsupported_type" else "unreadable"), [], None, None
    except Exception:  # noqa: BLE001 - any failure on arbitrary bytes: the file is unreadable
        return "unreadable", [], None, None
    sales = customers = None
    for preview in previews:
        found = find_header(preview, "sales", columns)
        if found and (sales is None or found.score > sales.score):
            sales = found
        found = find_header(preview, "customers", {})
        if found and (customers is None or found.score > customers.score):
            customers = found
    shown = sales or customers
    if shown is not None:
        headers = [x for x in shown.labels if x]
    else:  # the fullest of the first rows stands for its header
        rows = [cells for preview in previews[:1] for _, _, cells in preview[:10]]
        headers = [c.strip() for c in max(rows, key=lambda r: sum(bool(c.strip()) for c in r), default=[])
                   if c.strip()]
    return "", headers, sales, customers


def describe(eng: Any, path: Path, reason: str, columns: dict[str, str] | None = None,
             sheet: str = "") -> Unmatched:
    """An ``Unmatched`` for ``path`` with the lines that would make it an input or leave it out.

    reason: why it was not read (``layout`` / ``not_listed`` / ``no_rows``); refined to
    ``not_table`` or ``unreadable`` when the file does not open as a table.
    """
    name, rel = display_name(eng, path), _rel(eng, path)
    columns = dict(columns or {})
    found_reason, headers, sales, customers = _sniff(path, name, sheet, columns)
    reason = found_reason or reason
    lines: list[tuple[str, str]] = []
    missing: list[str] = []
    if not found_reason and reason != "no_rows":
        have = set(sales.mapping) if sales is not None else set()
        missing = [f for f in C.LEDGER_REQUIRED if f not in have]
        if sales is not None and sales.missing_explicit:
            missing += [f for f, h in columns.items() if h in sales.missing_explicit and f not in missing]
        item: Any = rel
        if missing or sheet:
            item = {"file": rel, "sheet": sheet,
                    "columns": {**{f: h for f, h in columns.items() if f not in missing},
                                **{f: "…" for f in missing}}}
        files = list(eng.settings["inputs"]["sales"]["files"])
        lines.append(("inputs.sales.files", _flow([*files, item])))
        if customers is not None and not eng.settings["inputs"]["customers"]["file"] \
                and (sales is None or missing):
            lines.insert(0, ("inputs.customers.file", _yaml_text(rel)))
    lines.append(("inputs.ignore", _flow([*eng.settings["inputs"]["ignore"], rel])))
    return Unmatched(name=name, rel=rel, reason=reason, headers=headers, missing=missing, lines=lines)


def layout_reason(kinds: set[str]) -> str:
    """The ``Unmatched.reason`` for a file found by a pattern whose problems were ``kinds``."""
    if "unsupported_type" in kinds:
        return "not_table"
    if kinds <= {"header_only"}:
        return "no_rows"
    return "layout"


def read_sales(eng: Any, problems: list[Any], background: Any, exclude: set[Path] | None = None
               ) -> tuple[list[Any], list[Unmatched]]:
    """Read every sales file (``plan_sales``; ``exclude``: files read as another input); return
    the parts read and the files of ``data/`` read as no input.

    A file found by a pattern whose only problems are of layout (``LAYOUT_KINDS``) is
    not sales: it joins the unmatched files. Any other problem of a file found by a
    pattern is refused with a note naming the pattern (and how to leave the file out).
    """
    from workbench.errors import Problem
    from workbench.ingest.combine import Part
    from workbench.ingest.read import _read_file

    specs, others = plan_sales(eng, exclude)
    parts: list[Part] = []
    unmatched: list[Unmatched] = []
    for spec in specs:
        found: list[Problem] = []
        res = _read_file(eng, "sales", found, background, spec)
        kinds = {p.kind for p in found}
        if spec.found_by and found and kinds <= LAYOUT_KINDS:
            unmatched.append(describe(eng, spec.path, layout_reason(kinds), spec.columns, spec.sheet))
            continue
        if spec.found_by and found:
            found.append(Problem(kind="found_by_pattern", file=spec.name,
                                 row="inputs.ignore: " + _flow([*eng.settings["inputs"]["ignore"], spec.rel]),
                                 value=spec.found_by))
        problems.extend(found)
        if res is not None:
            parts.append(Part(spec=spec, res=res))
    unmatched += [describe(eng, p, "not_listed") for p in others]
    unmatched.sort(key=lambda u: u.rel)
    return parts, unmatched
