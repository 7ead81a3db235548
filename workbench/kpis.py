"""The registry of KPIs a development map can promise, and how computed ones are measured.

Two kinds of KPI:

* **computed** from the ledger (``kpi_source = "computed"``): revenue, average check,
  orders per customer, ... The drafter (`workbench.maps`) uses them for baselines and
  traction uses the *same* functions for actuals, through :func:`compute_kpi`.
* **entered** by the consultant (``kpi_source = "entered"``): meetings held, webinars
  run, share of customers who gave a concrete answer, ... Their baseline comes from the
  map template (usually 0).

Measurement window
------------------
A checkpoint of a computed KPI is measured over the months from the first month of the
planning year up to and including its deadline (both ``'YYYY-MM'``)::

    actual = compute_kpi(code, ledger, members, start=plan_start, end=deadline)

Definitions (vectorised; ``ledger`` has the columns of
``workbench.columns.LEDGER_COLUMNS``):

* an **order** is a distinct ``(customer_id, document)``; a line whose ``document`` is
  empty counts as the order ``(customer_id, date)``. Return lines (amount < 0) are not
  orders;
* a customer **bought** in a period when it has at least one order in it;
* **revenue** is net: returns (negative amounts) reduce it;
* a ratio with an empty denominator is 0.0 (never NaN).

Funnel KPIs (``table = "deals"``) are measured on the engagement's CRM deal export
(``workbench.columns.DEALS_COLUMNS``), which the caller lays out for the KPIs with
``with deals_context(deals): ...`` (the maps and traction steps do): a map's members are
the customers of its deals. New deals are those created in the period; win rate is won /
(won + lost) among deals closed in it; deal conversion the won share of the deals created
in it; pipeline amount the open deals' amount as of the export (a snapshot: the same for
any period). Without a deal export they have no data (``has_data`` is False).

Example
-------
>>> compute_kpi("revenue", ledger, ["7701"], "2026-01", "2026-03")  # doctest: +SKIP
125000.0
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import pandas as pd

from workbench import columns as C

KpiFunc = Callable[[pd.DataFrame, Sequence[str], str, str], float]

UNITS = ("currency", "count", "share", "ratio")
DIRECTIONS = ("up", "down")
BASELINES = ("window", "zero", "before_selection")


@dataclass(frozen=True)
class Kpi:
    """One KPI.

    code: the KPI code (a key of :data:`KPIS`)
    func: ``func(ledger_slice, customer_ids, start, end) -> float`` for computed KPIs,
        None for entered ones. ``ledger_slice`` holds only the members' lines dated
        within [start, end]; ``customer_ids`` are all members (buyers or not).
    unit: ``currency`` (client currency) | ``count`` | ``share`` (0..1, shown as %) |
        ``ratio`` (a multiple, shown as %, may exceed 1, e.g. ROMI)
    direction: ``up`` (more is better) | ``down``
    baseline: ``window`` (the KPI over the comparable past window) | ``zero``
        (0 by definition at the reporting month, e.g. sleeping customers woken) |
        ``before_selection`` (the comparable window one more year back, over the members who
        were already customers then: the members were picked for buying in the
        segmentation window, so a share of buyers measured inside it is 100 % by selection)
    requires: ledger columns that must hold data (e.g. ``margin``)
    whole: the value is a whole number (a count of things: orders, customers, meetings);
        a target is rounded up to a whole number and the exact value is kept beside it.
        Orders per customer is a count unit but not whole (6.2 orders per customer).
    cumulative: the value grows as the window grows (revenue, orders, buyers since the plan
        start): a target at a later deadline is never below an earlier one, and the
        target says "cumulative since the plan start"
    table: ``ledger`` (measured on the ledger lines) | ``deals`` (on the deal export laid out
        by ``deals_context``)
    """

    code: str
    func: KpiFunc | None
    unit: str
    direction: str = "up"
    baseline: str = "window"
    requires: tuple[str, ...] = ()
    whole: bool = False
    cumulative: bool = False
    table: str = "ledger"

    @property
    def source(self) -> str:
        """``computed`` or ``entered``."""
        return "computed" if self.func is not None else "entered"


# --- helpers (vectorised) -----------------------------------------------------------

def month_bounds(start: str, end: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day of ``start`` and first day of the month after ``end`` (exclusive)."""
    lo = pd.Period(start, "M").start_time
    hi = (pd.Period(end, "M") + 1).start_time
    return lo, hi


def order_keys(lines: pd.DataFrame) -> pd.Series:
    """One order key per line: ``customer_id|d|document``, or ``customer_id|t|date``
    when the document is empty or missing."""
    cid = lines[C.CUSTOMER_ID].astype("string")
    if C.DOCUMENT in lines.columns:
        doc = lines[C.DOCUMENT].astype("string").fillna("").str.strip()
    else:
        doc = pd.Series("", index=lines.index, dtype="string")
    day = pd.to_datetime(lines[C.DATE]).dt.strftime("%Y-%m-%d").astype("string")
    by_doc = cid + "|d|" + doc
    by_day = cid + "|t|" + day
    return by_doc.where(doc != "", by_day)


def _sales(lines: pd.DataFrame) -> pd.DataFrame:
    """Lines that are sales (not returns)."""
    return lines[lines[C.AMOUNT] > 0]


def _orders(lines: pd.DataFrame) -> int:
    sales = _sales(lines)
    return int(order_keys(sales).nunique()) if len(sales) else 0


def _buyers(lines: pd.DataFrame) -> int:
    return int(_sales(lines)[C.CUSTOMER_ID].nunique())


def _div(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


# --- computed KPIs -----------------------------------------------------------------

def kpi_revenue(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Net revenue of the members in the period, currency."""
    return float(lines[C.AMOUNT].sum()) if len(lines) else 0.0


def kpi_orders(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Number of orders of the members in the period, count."""
    return float(_orders(lines))


def kpi_avg_check(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Net revenue / orders, currency per order (0 without orders)."""
    return _div(kpi_revenue(lines, ids, start, end), _orders(lines))


def kpi_orders_per_customer(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Orders / members (every member counts, buyer or not), orders per customer."""
    return _div(_orders(lines), len(set(ids)))


def kpi_active_share(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Share of the members who bought in the period, 0..1."""
    return _div(_buyers(lines), len(set(ids)))


def kpi_customers_buying(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Number of members who bought in the period, count."""
    return float(_buyers(lines))


def kpi_sleeping_woken(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Members sleeping at the baseline who bought in the period, count.

    The caller passes the customers who were sleeping at the reporting month (the
    members of a sleeping-reactivation map); the baseline is 0 by definition.
    """
    return float(_buyers(lines))


def kpi_margin(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Gross margin of the members in the period, currency (0 when the ledger has none)."""
    if C.MARGIN not in lines.columns or not len(lines):
        return 0.0
    return float(pd.to_numeric(lines[C.MARGIN], errors="coerce").fillna(0.0).sum())


def kpi_revenue_per_customer(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Net revenue / members, currency per customer."""
    return _div(kpi_revenue(lines, ids, start, end), len(set(ids)))


# --- funnel KPIs (the deal export) --------------------------------------------------

_DEALS: ContextVar[pd.DataFrame | None] = ContextVar("workbench_kpi_deals", default=None)


@contextmanager
def deals_context(deals: pd.DataFrame | None) -> Iterator[None]:
    """Lay the deal export (``DEALS_COLUMNS``) out for the funnel KPIs inside the block."""
    token = _DEALS.set(deals)
    try:
        yield
    finally:
        _DEALS.reset(token)


def _member_deals(ids: Sequence[str]) -> pd.DataFrame:
    deals = _DEALS.get()
    if deals is None or not len(deals):
        return pd.DataFrame({c: [] for c in (C.CUSTOMER_ID, C.OUTCOME, C.AMOUNT, C.CREATED, C.CLOSED)})
    return deals[deals[C.CUSTOMER_ID].astype("string").isin(pd.Index(list(ids), dtype="string"))]


def _in(dates: pd.Series, start: str, end: str) -> pd.Series:
    lo, hi = month_bounds(start, end)
    d = pd.to_datetime(dates)
    return (d >= lo) & (d < hi)


def kpi_new_deals(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Deals of the members created in the period, count."""
    d = _member_deals(ids)
    return float(_in(d[C.CREATED], start, end).sum()) if len(d) else 0.0


def kpi_deal_win_rate(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Won / (won + lost) among the members' deals closed in the period, 0..1."""
    d = _member_deals(ids)
    if not len(d):
        return 0.0
    closed = d[_in(d[C.CLOSED], start, end)]
    return _div(int((closed[C.OUTCOME] == "won").sum()), int(closed[C.OUTCOME].isin(("won", "lost")).sum()))


def kpi_deal_conversion(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Won share of the members' deals created in the period, 0..1."""
    d = _member_deals(ids)
    if not len(d):
        return 0.0
    created = d[_in(d[C.CREATED], start, end)]
    return _div(int((created[C.OUTCOME] == "won").sum()), len(created))


def kpi_pipeline_amount(lines: pd.DataFrame, ids: Sequence[str], start: str, end: str) -> float:
    """Amount of the members' open deals as of the export, currency."""
    d = _member_deals(ids)
    return float(d.loc[d[C.OUTCOME] == "open", C.AMOUNT].fillna(0.0).sum()) if len(d) else 0.0


# --- the registry ------------------------------------------------------------------

KPIS: dict[str, Kpi] = {
    # computed from the ledger
    "revenue": Kpi("revenue", kpi_revenue, "currency", cumulative=True),
    "orders": Kpi("orders", kpi_orders, "count", whole=True, cumulative=True),
    "avg_check": Kpi("avg_check", kpi_avg_check, "currency"),
    "orders_per_customer": Kpi("orders_per_customer", kpi_orders_per_customer, "count",  # e.g. 6.2
                               cumulative=True),
    "active_share": Kpi("active_share", kpi_active_share, "share", baseline="before_selection",
                        cumulative=True),
    "returned_share": Kpi("returned_share", kpi_active_share, "share", baseline="zero", cumulative=True),
    "customers_buying": Kpi("customers_buying", kpi_customers_buying, "count", whole=True, cumulative=True),
    "sleeping_woken": Kpi("sleeping_woken", kpi_sleeping_woken, "count", baseline="zero", whole=True,
                          cumulative=True),
    "margin": Kpi("margin", kpi_margin, "currency", requires=(C.MARGIN,), cumulative=True),
    "revenue_per_customer": Kpi("revenue_per_customer", kpi_revenue_per_customer, "currency", cumulative=True),
    # computed from the CRM deal export (the funnel), counted in their month
    "new_deals": Kpi("new_deals", kpi_new_deals, "count", whole=True, table="deals"),
    "deal_win_rate": Kpi("deal_win_rate", kpi_deal_win_rate, "share", table="deals"),
    "deal_conversion": Kpi("deal_conversion", kpi_deal_conversion, "share", table="deals"),
    "pipeline_amount": Kpi("pipeline_amount", kpi_pipeline_amount, "currency", table="deals"),
    # entered by the consultant (activities and relationship goals), counted in their month
    "meetings_held": Kpi("meetings_held", None, "count", whole=True),
    "presentations_held": Kpi("presentations_held", None, "count", whole=True),
    "webinars_run": Kpi("webinars_run", None, "count", whole=True),
    "mailings_sent": Kpi("mailings_sent", None, "count", whole=True),
    "calls_made": Kpi("calls_made", None, "count", whole=True),
    "offers_sent": Kpi("offers_sent", None, "count", whole=True),
    "offer_accepted": Kpi("offer_accepted", None, "count", whole=True),
    "customers_warmed": Kpi("customers_warmed", None, "count", whole=True),
    "customers_informed": Kpi("customers_informed", None, "count", whole=True),
    "customers_invited": Kpi("customers_invited", None, "count", whole=True),
    "event_attendees": Kpi("event_attendees", None, "count", whole=True),
    "answered_share": Kpi("answered_share", None, "share"),
    "known_roles": Kpi("known_roles", None, "count", whole=True),
    "case_presented": Kpi("case_presented", None, "count", whole=True),
    "positive_contacts": Kpi("positive_contacts", None, "count", whole=True),
    "negative_pause_kept": Kpi("negative_pause_kept", None, "share"),
    "dossier_reviewed": Kpi("dossier_reviewed", None, "count", whole=True),
    "romi": Kpi("romi", None, "ratio"),
}


def register(kpi: Kpi) -> None:
    """Add a KPI to the registry (refuses to replace an existing code)."""
    if kpi.code in KPIS:
        raise ValueError(f"KPI {kpi.code!r} is already registered")
    if kpi.unit not in UNITS:
        raise ValueError(f"KPI unit {kpi.unit!r}: allowed {', '.join(UNITS)}")
    if kpi.baseline not in BASELINES:
        raise ValueError(f"KPI baseline {kpi.baseline!r}: allowed {', '.join(BASELINES)}")
    KPIS[kpi.code] = kpi


def is_computed(code: str) -> bool:
    """True when ``code`` is computed from the ledger (False for entered KPIs).

    Raises KeyError listing the known codes for an unknown code.
    """
    return _get(code).source == "computed"


def _get(code: str) -> Kpi:
    try:
        return KPIS[code]
    except KeyError:
        raise KeyError(f"KPI {code!r} unknown; known: {', '.join(KPIS)}") from None


def has_data(code: str, ledger: pd.DataFrame) -> bool:
    """True when the ledger holds the columns a computed KPI needs (e.g. margin)."""
    kpi = _get(code)
    if kpi.table == "deals":
        deals = _DEALS.get()
        return deals is not None and len(deals) > 0
    return all(col in ledger.columns and ledger[col].notna().any() for col in kpi.requires)


def member_lines(ledger: pd.DataFrame, customer_ids: Sequence[str]) -> pd.DataFrame:
    """The ledger lines of ``customer_ids`` (a view-free copy under copy-on-write)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # pyarrow's is_in hashes the members once; pandas' isin on Arrow strings made a Python
    # scalar of every member first (0.6 s for 50 k members, a map computes it a hundred times)
    ids = pa.array(pd.Series(list(customer_ids), dtype="string").dropna().unique(), pa.string())
    inside = pc.is_in(pa.array(ledger[C.CUSTOMER_ID].astype("string"), pa.string()), value_set=ids)
    return ledger[inside.to_numpy(zero_copy_only=False).astype(bool)]


def compute_kpi(code: str, ledger: pd.DataFrame, customer_ids: Sequence[str], start: str, end: str) -> float:
    """Compute KPI ``code`` over the members ``customer_ids`` for months ``start``..``end``.

    Parameters
    ----------
    code : a computed KPI code (see :data:`KPIS`)
    ledger : the transactions ledger (``LEDGER_COLUMNS``; ``date`` datetime64)
    customer_ids : the members; ratios per customer divide by all of them
    start, end : ``'YYYY-MM'``, both months included

    Returns
    -------
    float in the KPI's unit; 0.0 when nothing was bought or nobody is a member.
    """
    kpi = _get(code)
    if kpi.func is None:
        raise ValueError(f"KPI {code!r} is entered by the consultant, not computed from the ledger")
    lo, hi = month_bounds(start, end)
    lines = member_lines(ledger, customer_ids)
    dates = pd.to_datetime(lines[C.DATE])
    lines = lines[(dates >= lo) & (dates < hi)]
    return float(kpi.func(lines, list(customer_ids), start, end))


__all__ = [
    "BASELINES",
    "KPIS",
    "UNITS",
    "Kpi",
    "compute_kpi",
    "deals_context",
    "has_data",
    "is_computed",
    "member_lines",
    "month_bounds",
    "order_keys",
    "register",
]
