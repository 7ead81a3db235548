"""Refusals that say what to do: the file's own headers, the role missing, and the exact
lines of engagement.yaml that would fix it, in the engagement's language.

Each function returns one ``Problem`` with ``value`` = the file's headers as found,
``expected`` = what the role is and what its headers usually say, ``suggestion`` = the
YAML lines to add (a header from the file when one fits, else a placeholder to replace).
"""
from __future__ import annotations

import json

from workbench import columns as C
from workbench.errors import Problem
from workbench.ingest.fields import CUSTOMER_ROLES, SALES_ROLES
from workbench.ingest.headers import Header, label_role
from workbench.ingest.messages import _msg
from workbench.ingest.problems import _Collector
from workbench.ingest.roles import Roles

_OTHER_DELIMITERS = ("|", ":", "/")
# What a column's sample values must look like to be offered for a role.
_FITS = {C.DATE: ("date", "date_in_text"), C.AMOUNT: ("number",), C.CUSTOMER_NAME: ("text",),
         C.INN: ("number", "text")}


def _headers(labels: list[str]) -> str:
    return " | ".join(x for x in labels if x)


def role_name(role: str, lang: str) -> str:
    return str(_msg("role", lang).get(role, role))


def _examples(role: str, lang: str, n: int = 4) -> str:
    words = list((_msg("headers", lang) or {}).get(role, []))[:n]
    q = ("«{}»" if lang == "ru" else '"{}"').format
    return ", ".join(q(w[:1].upper() + w[1:]) for w in words)


def columns_yaml(kind: str, lines: list[tuple[str, str, str]]) -> str:
    """``inputs.<kind>.columns`` lines: (key, header, comment) each; the header quoted as YAML."""
    out = ["inputs:", f"  {kind}:", "    columns:"]
    for key, header, comment in lines:
        out.append(f"      {key}: {json.dumps(header, ensure_ascii=False)}" + (f"  # {comment}" if comment else ""))
    return "\n".join(out)


def missing_role(col: _Collector, header: Header, roles: Roles, role: str, kind: str) -> Problem:
    """A required role no column holds."""
    lang = col.lang
    used = set(roles.mapping.values())
    fits = [j for j, k in roles.kinds.items() if k in _FITS.get(role, ()) and j not in used
            and j < len(header.labels) and header.labels[j]]
    if fits:
        header_text, comment = header.labels[fits[0]], str(_msg("fix_check", lang))
    else:
        header_text, comment = str(_msg("fix_placeholder", lang)), str(_msg("fix_no_column", lang))
    suggestion = str(_msg("fix_intro", lang)) + "\n" + columns_yaml(kind, [(role, header_text, comment)])
    if role == C.AMOUNT:
        suggestion += "\n" + str(_msg("fix_amount_alternatives", lang))
    return Problem(kind="missing_column", file=col.file, row=col.where(header.first_row, 0),
                   value=_headers(header.labels),
                   expected=str(_msg("expected_role", lang, role=role_name(role, lang), key=role,
                                     examples=_examples(role, lang))),
                   suggestion=suggestion)


def no_header(col: _Collector, first: list[tuple[int, int, list[str]]], kind: str) -> Problem:
    """No row of the first ones names enough known columns."""
    lang = col.lang
    cells = [c.strip() for c in first[0][2]] if first else []
    keys = (C.CUSTOMER_NAME, C.DATE, C.AMOUNT) if kind == "sales" else (C.CUSTOMER_NAME,)
    allowed = SALES_ROLES if kind == "sales" else CUSTOMER_ROLES
    for sep in _OTHER_DELIMITERS:  # the header is there, cut by a delimiter no reader uses
        parts = [x for c in cells if sep in c for x in c.split(sep)]
        if sum(1 for x in parts if label_role(x, allowed, kind)) >= 2:
            return Problem(kind="no_header", file=col.file, row=col.where(first[0][0], 0),
                           value=_headers(cells[:20]), expected=str(_msg("expected_delimiter", lang, d=sep)))
    placeholder = str(_msg("fix_placeholder", lang))
    lines = [(k, placeholder, role_name(k, lang)) for k in keys]
    return Problem(kind="no_header", file=col.file, row=col.where(first[0][0], 0) if first else "",
                   value=_headers(cells[:20]),
                   expected=str(_msg("expected_header", lang, examples="; ".join(
                       f"{role_name(k, lang)}: {_examples(k, lang, 3)}" for k in keys))),
                   suggestion=str(_msg("fix_intro", lang)) + "\n" + columns_yaml(kind, lines))


def unknown_mapped_column(col: _Collector, header: Header, kind: str, explicit: dict[str, str],
                          missing: str) -> Problem:
    """A header named in ``inputs.<kind>.columns`` that the file does not have: the closest one offered."""
    from rapidfuzz import process

    lang = col.lang
    key = next((k for k, v in explicit.items() if v == missing), "")
    labels = [x for x in header.labels if x]
    near = process.extractOne(missing, labels) if labels else None
    suggestion = ""
    if near is not None:
        suggestion = str(_msg("fix_intro", lang)) + "\n" + columns_yaml(kind, [(key, near[0], "")])
    return Problem(kind="unknown_mapped_column", file=col.file, row=col.where(header.first_row, 0),
                   column=missing, value=_headers(header.labels),
                   expected=str(_msg("expected_mapped", lang, key=f"inputs.{kind}.columns.{key}")),
                   suggestion=suggestion)


def deal_export(col: _Collector, header: Header) -> Problem:
    """A CRM deal export reached the ledger reader: the engagement's deal export is another file
    (``workbench.ingest.deals`` reads one); deals are never sales (won, open and lost together)."""
    stage = header.labels[header.mapping[C.STAGE]]
    return Problem(kind="deal_export", file=col.file, row=col.where(header.first_row, 0), column=stage,
                   value=_headers(header.labels), expected=str(_msg("expected_deals", col.lang)))
