"""Key accounts: the contact log, the contact rules checked on it, buying committees, dossiers.

The source (002) gives three rules for a key account: a **positive contact at least every
10 days**; after a **negative contact, two weeks without personal contact** (urgent matters
go through other people); the **dossier reviewed at least every 3 months**. The first two
can only be checked against a record of contacts: with a contact log (``inputs.activities``,
a CRM activity export) they are checked per key account and month; without one they are
stated as rules, never turned into KPIs nobody can measure.

Definitions (tested in ``tests/test_maps.py``)
----------------------------------------------
* **10-day rule**, month M: the gaps between the last positive contact before M (or M's
  first day when there is none), each positive contact in M, and the end of M (or the end
  of the log, when it ends inside M). The rule holds when no gap exceeds 10 days: three
  contacts on the 1st–3rd of a 30-day month leave a 27-day gap and break it.
* **Pause rule**: a negative contact on day d breaks the pause when the same manager (any
  manager, when the log names none) has another contact with the customer within the
  next 14 days; contacts by other people are the allowed way round. Counted in the month
  of the negative contact.
* Only months up to the reporting month and covered by the log are checked.

Pure: the file is read by :mod:`workbench.io.activitylog`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.errors import InputError, Problem
from workbench.i18n import LANGUAGES, t
from workbench.io.activitylog import ROW_COLUMN, normalise
from workbench.maps.common import segment_value

RESULTS = ("positive", "negative", "neutral")
COMMITTEE_ROLES = ("champion", "decision_maker", "blocker", "influencer", "expert", "user")
POSITIVE_GAP_DAYS = 10
PAUSE_DAYS = 14
REVIEW_MONTHS = 3
LOG_COLUMNS = ("date", C.CUSTOMER_ID, "manager", "result", "contact", "position", "role")
CHECK_COLUMNS = (C.CUSTOMER_ID, "month", "positive", "longest_gap_days", "gap_ok", "negative",
                 "pause_broken", "pause_ok")


@dataclass(frozen=True)
class ContactLog:
    """The parsed contact log.

    log : one row per contact (``LOG_COLUMNS``): date (datetime64, NaT in a people-only
        list), customer_id, manager, result (positive | negative | neutral | ""), contact,
        position, role (a committee role code or "")
    file : the file name as the user knows it
    unmatched : rows whose company is not a customer of the base (counted, not used)
    dated : whether the log has dates (a contact record, not just a list of people)
    end : the last date in the log (None without dates)
    """

    log: pd.DataFrame
    file: str = ""
    unmatched: int = 0
    dated: bool = False
    end: pd.Timestamp | None = None


def _words(key: str) -> dict[str, str]:
    """normalised word -> code, from ``maps.<key>`` in both languages ({code: [words]})."""
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, words in t(f"maps.{key}", lang).items():
            for w in words:
                out[normalise(w)] = code
    return out


def _parse_dates(text: pd.Series) -> pd.Series:
    """dd.mm.yyyy / dd.mm.yy (with an optional time) or ISO yyyy-mm-dd, vectorised; NaT if neither."""
    s = text.str.strip().str.split(" ", n=1).str[0].str.split("T", n=1).str[0]
    ru = pd.to_datetime(s, format="%d.%m.%Y", errors="coerce")
    short = pd.to_datetime(s, format="%d.%m.%y", errors="coerce")
    iso = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    return ru.fillna(short).fillna(iso)


def parse_activity_log(raw: pd.DataFrame, segments: pd.DataFrame, lang: str = "ru") -> ContactLog:
    """Typed contact log from the text cells of :func:`workbench.io.activitylog.read_activity_log`.

    Companies are matched to the base by INN (``segments.inn`` or the customer id), else by
    the name (case, punctuation and ё ignored). Raises InputError listing every unreadable
    date, result or role with its file, row (cell) and column.
    """
    file = str(raw.attrs.get("file", ""))
    headers: Mapping[str, tuple[str, str]] = raw.attrs.get("headers", {})
    n = len(raw)

    def col(name: str) -> pd.Series:
        return raw[name].astype("string").fillna("") if name in raw.columns else pd.Series([""] * n, dtype="string")

    problems: list[Problem] = []

    def where(field_name: str, mask: pd.Series) -> list[tuple[str, str]]:
        header, letter = headers.get(field_name, (field_name, "A"))
        rows = raw.loc[mask, ROW_COLUMN].astype(str).str.replace("{col}", letter, regex=False)
        return [(r, header) for r in rows]

    dated = "date" in raw.columns
    dates = _parse_dates(col("date")) if dated else pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if dated:
        bad = (col("date") != "") & dates.isna()
        for (r, h), v in zip(where("date", bad), col("date")[bad]):
            problems.append(Problem("bad_date", file, r, h, v))
        empty = col("date") == ""
        for r, h in where("date", empty):
            problems.append(Problem("missing_value", file, r, h))
    results = _words("activity_results")
    result_text = col("result").map(normalise)
    result = result_text.map(lambda w: results.get(w, "?") if w else "")
    if dated and "result" in raw.columns:
        bad = result == "?"
        for (r, h), v in zip(where("result", bad), col("result")[bad]):
            problems.append(Problem("bad_result", file, r, h, v))
    roles = _words("committee_words")
    role = col("role").map(normalise).map(lambda w: roles.get(w, "?") if w else "")
    bad = role == "?"
    for (r, h), v in zip(where("role", bad), col("role")[bad]):
        problems.append(Problem("bad_role", file, r, h, v))
    if problems:
        raise InputError(problems, lang)

    ids = segments[C.CUSTOMER_ID].astype("string")
    by_inn: dict[str, str] = {}
    if C.INN in segments.columns:
        by_inn.update({str(i): str(c) for i, c in zip(segments[C.INN].astype("string").fillna(""), ids) if i})
    by_inn.update({str(c): str(c) for c in ids})
    names = segments[C.CUSTOMER_NAME].astype("string").fillna("").map(normalise) \
        if C.CUSTOMER_NAME in segments.columns else pd.Series([], dtype="string")
    by_name = {nm: str(c) for nm, c in zip(names, ids) if nm}
    inn = col("inn").str.replace(r"\D", "", regex=True)
    cid = inn.map(lambda x: by_inn.get(x, "") if x else "")
    cid = cid.where(cid != "", col("customer_name").map(normalise).map(lambda x: by_name.get(x, "")))
    matched = cid != ""
    end = pd.Timestamp(dates.max()) if dated and dates.notna().any() else None  # the export's extent
    log = pd.DataFrame({
        "date": dates.to_numpy(), C.CUSTOMER_ID: cid.to_numpy(), "manager": col("manager").to_numpy(),
        "result": result.replace("?", "").to_numpy(), "contact": col("contact").to_numpy(),
        "position": col("position").to_numpy(), "role": role.replace("?", "").to_numpy(),
    })[matched.to_numpy()].reset_index(drop=True)
    for c in LOG_COLUMNS:
        if c != "date":
            log[c] = log[c].astype("string")
    return ContactLog(log=log, file=file, unmatched=int((~matched).sum()), dated=bool(dated), end=end)


def committees(log: pd.DataFrame, customer_ids: Sequence[str]) -> pd.DataFrame:
    """Known members of each customer's buying committee: ``customer_id, contact, position,
    role`` (one row per person; the role last given for them wins), in log order."""
    cols = [C.CUSTOMER_ID, "contact", "position", "role"]
    if log is None or not len(log):
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    rows = log[log[C.CUSTOMER_ID].isin(pd.Index(list(customer_ids))) & (log["contact"] != "")]
    rows = rows.sort_values("date", kind="stable", na_position="first")
    people = rows.groupby([C.CUSTOMER_ID, "contact"], sort=False).agg(
        position=("position", lambda s: next((x for x in s[::-1] if x), "")),
        role=("role", lambda s: next((x for x in s[::-1] if x), ""))).reset_index()
    return people[cols].astype("string")


def contact_rule_check(contacts: ContactLog, key_accounts: Sequence[str], report_month: str) -> pd.DataFrame:
    """The 10-day and pause rules per key account and month (``CHECK_COLUMNS``).

    Months: from the log's first month to ``report_month`` (and not past the log's end).
    positive / negative: contacts of that result in the month; longest_gap_days: the longest
    stretch without a positive contact (see the module docstring); pause_broken: negative
    contacts of the month followed within 14 days by a contact of the same manager.
    """
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in CHECK_COLUMNS})
    if not contacts.dated or contacts.end is None or not len(key_accounts):
        return empty
    log = contacts.log[contacts.log[C.CUSTOMER_ID].isin(pd.Index(list(key_accounts))) & contacts.log["date"].notna()]
    first = pd.Period(contacts.log["date"].min(), "M")
    last = min(pd.Period(report_month, "M"), pd.Period(contacts.end, "M"))
    if last < first:
        return empty
    broken = _pauses_broken(log)
    rows = []
    for cid in key_accounts:  # a handful of accounts x the log's months, not rows
        own = log[log[C.CUSTOMER_ID] == cid]
        pos = np.sort(own.loc[own["result"] == "positive", "date"].to_numpy(dtype="datetime64[D]"))
        negs = broken[broken[C.CUSTOMER_ID] == cid]
        for period in pd.period_range(first, last, freq="M"):
            start = np.datetime64(period.start_time.date(), "D")
            end = np.datetime64(min(period.end_time.normalize(), contacts.end.normalize()).date(), "D")
            before = pos[pos < start]
            inside = pos[(pos >= start) & (pos <= end)]
            anchor = before[-1] if len(before) else start
            points = np.concatenate([[anchor], inside, [end]])
            gap = int(np.diff(points).astype(int).max()) if len(points) > 1 else 0
            in_month = negs[(negs["date"] >= period.start_time) & (negs["date"] <= period.end_time)]
            n_broken = int(in_month["broken"].sum())
            rows.append({C.CUSTOMER_ID: cid, "month": str(period), "positive": len(inside), "longest_gap_days": gap,
                         "gap_ok": gap <= POSITIVE_GAP_DAYS, "negative": len(in_month), "pause_broken": n_broken,
                         "pause_ok": n_broken == 0})
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS)) if rows else empty


def _pauses_broken(log: pd.DataFrame) -> pd.DataFrame:
    """Each negative contact (customer_id, date) and whether the same manager (any manager when
    the log names none) had another contact with the customer within ``PAUSE_DAYS`` after it:
    the next such contact found with one ``merge_asof`` per key (customer, manager)."""
    negs = log[log["result"] == "negative"][[C.CUSTOMER_ID, "manager", "date"]].reset_index(drop=True)
    if not len(negs):
        return negs.assign(broken=pd.Series(dtype=bool))
    named = negs["manager"] != ""
    later = log[[C.CUSTOMER_ID, "manager", "date"]].rename(columns={"date": "next"})
    parts = []
    for mask, by in ((named, [C.CUSTOMER_ID, "manager"]), (~named, [C.CUSTOMER_ID])):
        left = negs[mask].sort_values("date", kind="stable")
        right = later.sort_values("next", kind="stable")[by + ["next"]]
        hit = pd.merge_asof(left, right, left_on="date", right_on="next", by=by, direction="forward",
                            allow_exact_matches=False)
        parts.append(hit)
    out = pd.concat(parts, ignore_index=True)
    out["broken"] = (out["next"] - out["date"]).dt.days.le(PAUSE_DAYS).fillna(False).astype(bool)
    return out[[C.CUSTOMER_ID, "manager", "date", "broken"]]


def review_dates(plan_months: Sequence[str]) -> list[str]:
    """Dossier reviews: the plan's first month, then every 3 months ('YYYY-MM')."""
    return [m for i, m in enumerate(plan_months) if i % REVIEW_MONTHS == 0]


def dossiers(segments: pd.DataFrame, key_accounts: Sequence[str], plan_months: Sequence[str],
             contacts: ContactLog | None = None, lang: str = "ru") -> list[dict[str, Any]]:
    """One dossier per key account, with what the source (002) asks a dossier to hold beyond
    the ordinary CRM card: the card itself (start of cooperation, revenue, headcount), the
    history of orders and contacts, budget (potential), the buying committee and the
    decision scheme, the customer's needs, direct competitors, who may read it (the KAM
    and their direct supervisor only), and the review dates (every 3 months).

    Returns a list of dicts: customer_id, customer_name, manager, card (list of (label
    code, value)), activity (the review as a task, in ``lang``), committee (rows of ``committees``), missing_roles (codes), contacts
    ({total, positive, negative, last_positive, last_negative} or None without a log),
    reviews (months), next_review (month).
    """
    seg = segments.set_index(segments[C.CUSTOMER_ID].astype("string"))
    log = contacts.log if contacts is not None else None
    people = committees(log, key_accounts) if log is not None else committees(None, [])
    out = []
    reviews = review_dates(plan_months)
    for cid in key_accounts:
        if cid not in seg.index:
            continue
        get = partial(segment_value, seg.loc[cid])

        card = [(k, get(k)) for k in (C.INN, C.INDUSTRY, C.HEADCOUNT, C.REGION, C.FIRST_PURCHASE, C.LAST_PURCHASE,
                                      C.REVENUE, C.REVENUE_SHARE, C.ORDERS, "median_gap_days", C.POTENTIAL,
                                      C.TIER, C.KA_GRADE, C.ABC_XYZ, C.LIFECYCLE)]
        potential, revenue = get(C.POTENTIAL), get(C.REVENUE)
        if potential and revenue is not None and float(potential) > 0:
            card.append(("potential_share", float(revenue) / float(potential)))
        mine = people[people[C.CUSTOMER_ID] == cid]
        known = set(mine["role"]) - {""}
        history = None
        if log is not None and contacts is not None and contacts.dated:
            own = log[(log[C.CUSTOMER_ID] == cid) & log["date"].notna()]
            pos, neg = own[own["result"] == "positive"], own[own["result"] == "negative"]
            history = {"total": len(own), "positive": len(pos), "negative": len(neg),
                       "last_positive": pos["date"].max() if len(pos) else None,
                       "last_negative": neg["date"].max() if len(neg) else None}
        name = get(C.CUSTOMER_NAME)
        manager = get(C.MANAGER)
        out.append({"customer_id": cid, "customer_name": "" if name is None else str(name),
                    "manager": "" if manager is None else str(manager), "card": card,
                    "activity": t("maps.dossier_task", lang, name="" if name is None else str(name)),
                    "committee": mine.to_dict("records"),
                    "missing_roles": [r for r in ("champion", "decision_maker", "blocker", "influencer")
                                      if r not in known],
                    "contacts": history, "reviews": reviews, "next_review": reviews[0] if reviews else ""})
    return out


__all__ = [
    "CHECK_COLUMNS",
    "COMMITTEE_ROLES",
    "PAUSE_DAYS",
    "POSITIVE_GAP_DAYS",
    "RESULTS",
    "REVIEW_MONTHS",
    "ContactLog",
    "committees",
    "contact_rule_check",
    "dossiers",
    "parse_activity_log",
    "review_dates",
]
