"""Column roles: what each column of a client's file holds, decided from its header and its values.

The header names candidates (``headers``); the first data rows (the preview, read before
the body) confirm or overrule them, and the money family decides how the amount is made:

* «Организация» / «Собственная организация» is the seller (the client's own legal
  entity): shown, never the customer. Of several customer columns the earlier synonym
  wins («Партнер» before «Контрагент»); one holding a single value on every row gives
  way to one that varies (``parse``, on the whole column).
* A dotted 1C column («Контрагент.ИНН») is an attribute of its owner: an INN whose owner
  is not the customer column is not the customer's INN.
* Values overrule a weak header match: a column whose label only contains a synonym
  (or starts like one) gets a number role only if its values are numbers, a date role
  only if they are dates; Y/N is a flag, never a date; a country is never a quantity.
* Without a date column, a column whose values are dates is the date; failing that, the
  date inside a document's text («Реализация … от 15.01.2024»).
* Money columns come in families. With ``import.vat: net`` (the default) revenue is read
  without VAT: «Сумма без НДС», else «Сумма с НДС» − «Сумма НДС», else the amount with
  VAT (said), else the plain amount (basis not stated by the file), else quantity × price.
  ``gross`` prefers the amount with VAT the same way. The tax is never revenue. Margin:
  «Валовая прибыль», else the amount without VAT − «Себестоимость».

A CRM deal export (a stage column) is recognised as such (``Roles.deal``) and read as deals
(``workbench.ingest.deals``), never as a ledger.
The result lists every column with its role, whether it is used and why (the import
report shows it). Role sets are per kind of file (``fields``): a ``deals`` kind adds its
own beside the ledger's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench import columns as C
from workbench.ingest.dates import EXCEL_SERIAL_RANGE, date_like_share
from workbench.ingest.fields import CUSTOMER_FIELDS, NUMERIC_FIELDS, SALES_FIELDS
from workbench.ingest.headers import Found, Header, label_role, normalise_header
from workbench.ingest.numbers import number_share

_FLAG_WORDS = frozenset({"y", "n", "yes", "no", "да", "нет", "true", "false", "истина", "ложь"})
# Roles shown in the report but never read into the tables.
REPORT_ONLY = (C.SELLER, C.COUNTRY, C.CUSTOMER_CODE, C.STAGE, C.PIPELINE, C.CLOSED_FLAG)


@dataclass
class ColumnRole:
    """One column of the file: the role it got (None: none), whether it is read, and why.

    reason: key under ``ingest.reason.*``; detail: a header, owner or value the reason names.
    """

    index: int
    label: str
    role: str | None
    used: bool
    reason: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "column": self.label, "role": self.role or "", "used": self.used,
                "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class AmountPlan:
    """How the amount is made: ``how`` column | net_from_gross | gross_from_net |
    quantity_price ("" = no amount); ``sources`` the roles it is made from; ``basis``
    net | gross | unknown (the file does not say whether VAT is in)."""

    how: str = ""
    sources: tuple[str, ...] = ()
    basis: str = "unknown"


@dataclass
class Roles:
    """What the file's columns hold.

    mapping: fields to read -> column index; columns: every column's role and reason;
    amount: the amount plan; margin: column | net_minus_cost | ""; date_in_text: the date
    is read from the document column's text; customer_alternatives: other columns
    recognised as the customer (the one that varies wins over a constant one); deal: the
    file is a CRM deal export; missing: required roles not found; kinds: what the sample
    values of each column look like (number, date, date_in_text, flag, text, empty).
    """

    mapping: dict[str, int]
    columns: list[ColumnRole]
    amount: AmountPlan = field(default_factory=AmountPlan)
    margin: str = ""
    date_in_text: bool = False
    customer_alternatives: list[int] = field(default_factory=list)
    deal: bool = False
    missing: list[str] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    samples: dict[int, list[str]] = field(default_factory=dict)

    def switch_customer(self, j: int, header: Header) -> None:
        """Column ``j`` is the customer instead: the chosen one holds one value on every row."""
        old = self.mapping[C.CUSTOMER_NAME]
        self.mapping[C.CUSTOMER_NAME] = j
        self.customer_alternatives = [x for x in self.customer_alternatives if x != j]
        inn = self.mapping.get(C.INN)
        check_inn_owner(self, header.found, header.labels)
        labels = header.labels
        self.columns[j] = ColumnRole(j, labels[j], C.CUSTOMER_NAME, True, "varies", labels[old])
        self.columns[old] = ColumnRole(old, labels[old], None, False, "constant")
        if inn is not None and C.INN not in self.mapping:
            self.columns[inn] = ColumnRole(inn, labels[inn], C.INN, False, "inn_of_other",
                                           header.found[inn].owner if header.found[inn] else "")


def _serial_share(values: list[str]) -> float:
    """Share of the values that are Excel date serials (whole numbers in the plausible range)."""
    lo, hi = EXCEL_SERIAL_RANGE
    n = 0
    for v in values:
        try:
            x = float(v)
        except ValueError:
            continue
        n += lo <= x <= hi
    return n / len(values) if values else 0.0


def value_kind(values: list[str]) -> str:
    """What a column's sample values look like: empty | flag | number | date | date_in_text | text."""
    filled = [v.strip() for v in values if v.strip()]
    if not filled:
        return "empty"
    if {v.casefold() for v in filled} <= _FLAG_WORDS:
        return "flag"
    if date_like_share(filled) >= 0.8:
        return "date"
    if number_share(filled) >= 0.8:
        return "number"
    if date_like_share(filled, in_text=True) >= 0.8:
        return "date_in_text"
    return "text"


def _samples(header: Header, preview: list[tuple[int, int, list[str]]]) -> dict[int, list[str]]:
    """Per column, its values in the preview's data rows."""
    rows = [cells for row, _, cells in preview if row >= header.data_start]
    return {j: [(r[j] if j < len(r) else "").strip() for r in rows] for j in range(len(header.labels))}


def _vetoed(role: str, found: Found, kind_of_values: str, values: list[str], is_xlsx: bool) -> str:
    """The reason a header's role is overruled by the column's values ("" = it stands).

    Only a weak header match (a synonym inside the label or a word's stem) gives way to
    values that are not of the role's kind; flags are never dates or numbers.
    """
    if found.explicit or kind_of_values == "empty":
        return ""
    exact = found.score >= 3.0
    if role in NUMERIC_FIELDS:
        if kind_of_values in ("flag", "date"):
            return "not_numbers"
        if not exact and number_share(values) < 0.5:
            return "not_numbers"
    if role == C.DATE:
        if kind_of_values == "flag":
            return "flag"
        filled = [v for v in values if v.strip()]
        datish = date_like_share(filled) + (_serial_share(filled) if is_xlsx else 0.0)
        if not exact and datish < 0.5:
            return "not_dates"
    return ""


def settle(header: Header, preview: list[tuple[int, int, list[str]]], kind: str, settings: dict[str, Any],
           is_xlsx: bool = False) -> Roles:
    """Decide each column's role (see the module docstring). Pure: reads the header and the preview."""
    labels = header.labels
    samples = _samples(header, preview)
    kinds = {j: value_kind(v) for j, v in samples.items()}
    fields = SALES_FIELDS if kind == "sales" else CUSTOMER_FIELDS
    found: list[Found | None] = list(header.found) + [None] * max(0, len(labels) - len(header.found))
    cols: dict[int, ColumnRole] = {}
    mapping: dict[str, int] = {}
    # the best column of each role, unless its values overrule its header
    for role, j in sorted(header.mapping.items(), key=lambda kv: kv[1]):
        f = found[j] or Found(role, 3.0, 0)
        veto = _vetoed(role, f, kinds.get(j, "empty"), samples.get(j, []), is_xlsx)
        if veto:
            cols[j] = ColumnRole(j, labels[j], None, False, veto, role)
            continue
        mapping[role] = j
    # a vetoed column may leave its role to the next column naming it
    for j, f in enumerate(found):
        if f is None or f.role is None or f.role in mapping or j in cols or f.role not in fields:
            continue
        if not _vetoed(f.role, f, kinds.get(j, "empty"), samples.get(j, []), is_xlsx) \
                and any(c.detail == f.role for c in cols.values()):
            mapping[f.role] = j
    roles = Roles(mapping=mapping, columns=[], kinds=kinds, samples=samples)
    roles.deal = kind == "sales" and C.STAGE in mapping
    if kind == "sales":
        _settle_date(roles, found, cols, labels)
        _settle_money(roles, found, cols, labels, settings)
    _settle_customer(roles, found, cols, labels)
    for role in [r for r in roles.mapping if r in REPORT_ONLY]:
        del roles.mapping[role]  # shown, never read
    roles.columns = [_describe(j, labels, found, roles, cols) for j in range(len(labels))]
    required = (C.CUSTOMER_NAME, C.DATE, C.AMOUNT) if kind == "sales" else ()
    roles.missing = [r for r in required if r not in roles.mapping and not (r == C.AMOUNT and roles.amount.how)]
    if kind == "sales" and settings.get("import", {}).get("customer_key") == "inn" and C.INN not in roles.mapping:
        roles.missing.append(C.INN)
    for role in [r for r in roles.mapping if r not in fields]:
        del roles.mapping[role]
    return roles


def _settle_date(roles: Roles, found: list[Found | None], cols: dict[int, ColumnRole], labels: list[str]) -> None:
    """Without a date column: a column of dates, else the date inside a document's text."""
    if C.DATE in roles.mapping:
        return
    taken = set(roles.mapping.values())
    for j, k in roles.kinds.items():
        if k == "date" and j not in taken and not (found[j] and found[j].role in roles.mapping):
            roles.mapping[C.DATE] = j
            cols[j] = ColumnRole(j, labels[j], C.DATE, True, "values_dates")
            return
    doc = roles.mapping.get(C.DOCUMENT)
    order = ([doc] if doc is not None else []) + [j for j in roles.kinds if j != doc]
    for j in order:
        if roles.kinds.get(j) == "date_in_text":
            roles.mapping[C.DATE] = j
            roles.date_in_text = True
            return


def _settle_money(roles: Roles, found: list[Found | None], cols: dict[int, ColumnRole], labels: list[str],
                  settings: dict[str, Any]) -> None:
    """The amount plan and the margin (see the module docstring)."""
    m = roles.mapping
    vat_basis = settings.get("import", {}).get("vat", "net")
    if C.AMOUNT in m and found[m[C.AMOUNT]] is not None and found[m[C.AMOUNT]].explicit:
        family = label_role(labels[m[C.AMOUNT]], (C.AMOUNT_NET, C.AMOUNT_GROSS, C.AMOUNT), "sales")
        basis = {C.AMOUNT_NET: "net", C.AMOUNT_GROSS: "gross"}.get(family.role if family else "", "unknown")
        roles.amount = AmountPlan("column", (C.AMOUNT,), basis)
    else:
        net, gross, plain, vat = (r in m for r in (C.AMOUNT_NET, C.AMOUNT_GROSS, C.AMOUNT, C.VAT))
        options = {
            "net": [(net, AmountPlan("column", (C.AMOUNT_NET,), "net")),
                    (gross and vat, AmountPlan("net_from_gross", (C.AMOUNT_GROSS, C.VAT), "net")),
                    (gross, AmountPlan("column", (C.AMOUNT_GROSS,), "gross"))],
            "gross": [(gross, AmountPlan("column", (C.AMOUNT_GROSS,), "gross")),
                      (net and vat, AmountPlan("gross_from_net", (C.AMOUNT_NET, C.VAT), "gross")),
                      (net, AmountPlan("column", (C.AMOUNT_NET,), "net"))],
        }[vat_basis] + [
            (plain, AmountPlan("column", (C.AMOUNT,), "unknown")),
            (C.QUANTITY in m and C.PRICE in m, AmountPlan("quantity_price", (C.QUANTITY, C.PRICE), "unknown")),
        ]
        roles.amount = next((plan for ok, plan in options if ok), AmountPlan())
    if C.MARGIN in m:
        roles.margin = "column"
    elif C.COST in m and (C.AMOUNT_NET in m or (C.AMOUNT_GROSS in m and C.VAT in m)):
        roles.margin = "net_minus_cost"


def _settle_customer(roles: Roles, found: list[Found | None], cols: dict[int, ColumnRole], labels: list[str]) -> None:
    """Other customer candidates (kept for the constant-column check) and the INN's owner."""
    m = roles.mapping
    chosen = m.get(C.CUSTOMER_NAME)
    roles.customer_alternatives = [j for j, f in enumerate(found) if f is not None and f.role == C.CUSTOMER_NAME
                                   and j != chosen and j not in cols and roles.kinds.get(j) != "number"]
    check_inn_owner(roles, found, labels)


def check_inn_owner(roles: Roles, found: list[Found | None], labels: list[str]) -> None:
    """An INN that is an attribute of another column than the customer is not the customer's."""
    m = roles.mapping
    inn = m.get(C.INN)
    if inn is None or found[inn] is None or not found[inn].owner:
        return
    chosen = m.get(C.CUSTOMER_NAME)
    owner = normalise_header(found[inn].owner)
    own = chosen is not None and owner in (normalise_header(labels[chosen]),
                                           normalise_header((found[chosen].owner if found[chosen] else "") or ""))
    if not own:
        del m[C.INN]


def _describe(j: int, labels: list[str], found: list[Found | None], roles: Roles,
              cols: dict[int, ColumnRole]) -> ColumnRole:
    """The report line of column ``j``: its role, whether it is read, and why."""
    label = labels[j]
    m = roles.mapping
    f = found[j]
    uses = [r for r, c in m.items() if c == j]
    plan = roles.amount
    if roles.date_in_text and m.get(C.DATE) == j:
        return ColumnRole(j, label, C.DOCUMENT if C.DOCUMENT in uses else C.DATE, True, "date_in_text")
    if j in cols and (cols[j].used or not uses):
        return cols[j]  # a date by its values, or a header overruled by the values
    if uses:
        role = uses[0]
        reason = "explicit" if f is not None and f.explicit else "header"
        detail = ""
        if role == C.VAT:
            reason = "tax_used" if C.VAT in plan.sources else "tax"
        elif role in (C.AMOUNT_NET, C.AMOUNT_GROSS, C.AMOUNT):
            if role in plan.sources:
                reason = {"net_from_gross": "gross_minus_vat", "gross_from_net": "net_plus_vat"}.get(plan.how, reason)
                if plan.how == "column" and reason == "header":
                    reason = {"net": "basis_net", "gross": "basis_gross"}.get(plan.basis, "basis_unknown")
            else:
                reason = "other_basis"
                detail = plan.basis
        elif role == C.PRICE and plan.how == "quantity_price":
            reason = "quantity_price"
        elif role == C.COST:
            reason = {"net_minus_cost": "margin_from_cost", "column": "cost_margin_given"}.get(roles.margin,
                                                                                            "cost_unused")
        elif role == C.INN and f is not None and f.owner:
            reason, detail = "attribute", f.owner
        return ColumnRole(j, label, role, True, reason, detail)
    if f is not None and f.role == C.CUSTOMER_NAME and m.get(C.CUSTOMER_NAME) is not None:
        return ColumnRole(j, label, C.CUSTOMER_NAME, False, "outranked", labels[m[C.CUSTOMER_NAME]])
    if f is not None and f.role == C.INN and f.owner:
        return ColumnRole(j, label, C.INN, False, "inn_of_other", f.owner)
    if f is not None and f.role in REPORT_ONLY:
        detail = ""
        if f.role == C.SELLER:
            values = sorted({v for v in roles.samples.get(j, []) if v})
            detail = values[0] if len(values) == 1 else ""
        return ColumnRole(j, label, f.role, False, f.role, detail)
    if f is not None and f.role is None and f.owner:
        return ColumnRole(j, label, None, False, "attribute", f.owner)
    if f is not None and f.role is not None:
        return ColumnRole(j, label, f.role, False, "outranked", labels[m[f.role]] if f.role in m else "")
    kind = roles.kinds.get(j, "empty")
    reason = {"flag": "flag", "number": "numbers", "date": "dates_unused", "empty": "empty"}.get(kind, "unknown")
    return ColumnRole(j, label, None, False, reason)
