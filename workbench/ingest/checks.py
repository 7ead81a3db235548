"""Which parsed rows are sales, and which the file cannot be trusted on.

After the values are parsed, per file (all on distinct values or whole columns):

* **status**: a status column's values are sales («Отгружено», "Shipped") or not
  («Отменено», «Новый», "On Hold"), from the ``ingest.status_words`` catalogue and
  ``import.statuses``; rows that are not sales are left out and reported with their
  amounts; a status known to neither is refused with the line that settles it.
* **anonymous rows**: a row with neither a customer name nor an INN belongs to no
  customer: left out, counted and reported with its revenue (never one customer "NA").
* **currency**: the currency column's values as ISO 4217 codes; amounts in another
  currency than the engagement's are converted with ``import.rates``, else refused
  naming the currencies and rows.
* **dates**: dates after ``import.max_date`` (default: today), and dates far outside
  the bulk of the file's dates (``import.min_date`` / ``max_date`` override), are
  refused naming the rows: one mistyped year must not choose the reporting month.
"""
from __future__ import annotations

import datetime as dt
import json
from functools import cache
from typing import Any

import numpy as np

from workbench import columns as C
from workbench.currencies import ISO_4217
from workbench.errors import Problem
from workbench.i18n import LANGUAGES
from workbench.ingest.coded import Coded
from workbench.ingest.messages import _msg
from workbench.ingest.problems import _Collector
from workbench.ingest.roles import Roles

MAX_LISTED = 20          # rows named per refused value (the message shows as many)
BULK_QUANTILE = 0.01     # the bulk of a file's dates: between its 1st and 99th percentiles
FAR_BEFORE_DAYS = 5 * 365  # a date this far before the bulk is a typo ("2014" for "2024")
FAR_AFTER_DAYS = 365       # ... or this far after it (it would choose the reporting month)


def status_key(value: str) -> str:
    return " ".join(value.casefold().replace("ё", "е").split())


@cache
def _status_words() -> dict[str, str]:
    """Normalised status word -> sale | skip, both languages."""
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        for verdict, words in _msg("status_words", lang).items():
            for w in words:
                out[status_key(w)] = verdict
    return out


@cache
def _currency_names() -> dict[str, str]:
    """Normalised currency name or mark -> ISO code, both languages."""
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, names in _msg("currency_names", lang).items():
            for name in names:
                out[status_key(name)] = code
    return out


def currency_code(value: str) -> str:
    """The ISO 4217 code a currency cell names ("" when unknown; "руб." -> RUB, "gbp" -> GBP)."""
    key = status_key(value)
    if key.upper() in ISO_4217:
        return key.upper()
    return _currency_names().get(key, "") or _currency_names().get(key.rstrip("."), "")


def _yaml_key(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def check_rows(kind: str, out: dict[str, Any], rows: np.ndarray, coded: dict[str, Coded], roles: Roles,
               label_of: dict[str, str], settings: dict[str, Any], col: _Collector,
               report: dict[str, Any]) -> np.ndarray | None:
    """Rows to leave out (None: none); problems for rows the file cannot be trusted on."""
    n = len(rows)
    drop = np.zeros(n, dtype=bool)
    imp = settings["import"]
    amount = out.get(C.AMOUNT)
    if C.STATUS in out:
        drop |= _status(out[C.STATUS], amount, rows, imp.get("statuses") or {}, label_of, roles, col, report)
    if C.DATE in out:  # the period the file's sales cover (rows without a customer included)
        days, _ = _distinct_days(out[C.DATE], ~drop if drop.any() else None, coded.get(C.DATE))
        if len(days):
            report["dates"] = {"min": str(days[0].astype("datetime64[D]")), "max": str(days[-1].astype("datetime64[D]"))}
    anonymous = _anonymous(out, n)
    if anonymous is not None and (anonymous & ~drop).any():
        anon = anonymous & ~drop
        report["anonymous"] = {
            "rows": int(anon.sum()),
            "amount": float(np.nansum(amount[anon])) if amount is not None else 0.0,
            "examples": [col.where(int(r), roles.mapping.get(C.CUSTOMER_NAME, 0)) for r in rows[anon][:5].tolist()]}
        drop |= anon
    if kind == "sales" and C.CURRENCY in out and amount is not None:
        _currency(out, rows, ~drop, settings, roles.mapping[C.CURRENCY], label_of, col, report)
    if kind == "sales" and C.DATE in out:
        _date_range(out[C.DATE], rows, ~drop, coded.get(C.DATE), imp, label_of, roles, col, report)
    return drop if drop.any() else None


def _anonymous(out: dict[str, Any], n: int) -> np.ndarray | None:
    """Rows with neither a customer name nor an INN."""
    if C.CUSTOMER_NAME in out:
        empty = out[C.CUSTOMER_NAME].equals("")
        if C.INN in out:
            empty &= out[C.INN].equals("")
        return empty
    if C.INN in out:
        return out[C.INN].equals("")
    return None


def _status(status: Coded, amount: np.ndarray | None, rows: np.ndarray, settled: dict[str, str],
            label_of: dict[str, str], roles: Roles, col: _Collector, report: dict[str, Any]) -> np.ndarray:
    """Rows whose status is not a sale; an unknown status is a problem naming its rows."""
    words = _status_words()
    own = {status_key(k): v for k, v in settled.items()}
    verdict = [own.get(status_key(v)) or words.get(status_key(v)) or ("sale" if not v.strip() else "")
               for v in status.values]
    j = roles.mapping[C.STATUS]
    label = label_of[C.STATUS]
    unknown = [i for i, v in enumerate(verdict) if not v]
    for i in unknown:
        where = np.flatnonzero(status.codes == i)
        value = status.values[i]
        lines = "\n".join(["import:", "  statuses:", f"    {_yaml_key(value)}: sale  # "
                           + str(_msg("fix_status_comment", col.lang))])
        for r in rows[where][:MAX_LISTED].tolist():
            col.items.append(Problem(kind="unknown_status", file=col.file, row=col.where(int(r), j), column=label,
                                     value=value, expected=str(_msg("expected_status", col.lang)),
                                     suggestion=str(_msg("fix_intro_settings", col.lang)) + "\n" + lines))
    skip_value = np.array([v == "skip" for v in verdict], dtype=bool)
    skipped = skip_value[status.codes] if len(status.values) else np.zeros(len(rows), dtype=bool)
    per: dict[str, dict[str, float]] = {}
    for i in np.flatnonzero(skip_value).tolist():
        hit = status.codes == i
        if hit.any():
            per[status.values[i]] = {"rows": int(hit.sum()),
                                     "amount": float(np.nansum(amount[hit])) if amount is not None else 0.0}
    report["status"] = {"column": label,
                        "sale": [v for v, x in zip(status.values, verdict) if x == "sale" and v],
                        "skipped": per,
                        "amount_all_rows": float(np.nansum(amount)) if amount is not None else 0.0}
    return skipped


def _currency(out: dict[str, Any], rows: np.ndarray, live: np.ndarray, settings: dict[str, Any], j: int,
              label_of: dict[str, str], col: _Collector, report: dict[str, Any]) -> None:
    """Amounts in the engagement's currency: converted with ``import.rates`` or refused."""
    cur: Coded = out[C.CURRENCY]
    home = settings.get("currency", "RUB")
    rates = {k.upper(): float(v) for k, v in (settings["import"].get("rates") or {}).items()}
    codes = [currency_code(v) if v.strip() else home for v in cur.values]
    present = np.bincount(cur.codes[live], minlength=len(cur.values)) > 0 if len(cur.values) else np.zeros(0, bool)
    label = label_of[C.CURRENCY]
    seen = sorted({codes[i] for i in np.flatnonzero(present).tolist()})
    for i in np.flatnonzero(present).tolist():
        if not codes[i]:
            for r in rows[live & (cur.codes == i)][:MAX_LISTED].tolist():
                col.items.append(Problem(kind="unknown_currency", file=col.file, row=col.where(int(r), j),
                                         column=label, value=cur.values[i],
                                         expected=str(_msg("expected_currency", col.lang))))
    foreign = [c for c in seen if c and c != home and c not in rates]
    for code in foreign:
        hit = live & np.isin(cur.codes, [i for i, c in enumerate(codes) if c == code])
        if len(seen) == 1:
            fix = f"currency: {code}"
        else:
            fix = "\n".join(["import:", "  rates:", f"    {code}: 0.0  # "
                             + str(_msg("fix_rate_comment", col.lang, code=code, home=home))])
        for r in rows[hit][:MAX_LISTED].tolist():
            col.items.append(Problem(kind="foreign_currency", file=col.file, row=col.where(int(r), j), column=label,
                                     value=code, expected=str(_msg("expected_home_currency", col.lang, home=home,
                                                                   seen=", ".join(c for c in seen if c))),
                                     suggestion=str(_msg("fix_intro_settings", col.lang)) + "\n" + fix))
    rate_of = np.array([1.0 if (not c or c == home) else rates.get(c, np.nan) for c in codes] or [1.0])
    factor = rate_of[cur.codes] if len(cur.values) else np.ones(len(rows))
    converted = [c for c in seen if c and c != home and c in rates]
    if converted:
        for f in (C.AMOUNT, C.AMOUNT_NET, C.AMOUNT_GROSS, C.VAT, C.COST, C.MARGIN, C.PRICE):
            if f in out:
                out[f] = np.round(out[f] * factor, 2)
    report["currency"] = {"column": label, "seen": [c for c in seen if c], "home": home,
                          "converted": {c: rates[c] for c in converted}}


def _parse_day(text: str) -> np.datetime64 | None:
    return np.datetime64(text, "D") if text else None


def _distinct_days(dates: np.ndarray, rows: np.ndarray | None, coded: Coded | None) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct days among ``rows`` (all when None), sorted, datetime64[D]; how many rows
    each). Through the date column's codes when it has few distinct values (one date per code)."""
    if coded is not None and len(coded.values) * 4 < len(dates):
        day_of = np.full(len(coded.values), np.datetime64("NaT"), dtype="datetime64[D]")
        day_of[coded.codes] = dates.astype("datetime64[D]")
        codes = coded.codes if rows is None else coded.codes[rows]
        counts = np.bincount(codes, minlength=len(coded.values))
        ok = (counts > 0) & ~np.isnat(day_of)
        order = np.argsort(day_of[ok], kind="stable")
        days, counts = day_of[ok][order], counts[ok][order]
        merged, at = np.unique(days, return_index=True)  # two spellings of one day: one day
        return merged, np.add.reduceat(counts, at) if len(at) else counts[:0]
    d = (dates if rows is None else dates[rows]).astype("datetime64[D]")
    return np.unique(d[~np.isnat(d)], return_counts=True)


def _date_range(dates: np.ndarray, rows: np.ndarray, live: np.ndarray, coded: Coded | None, imp: dict[str, Any],
                label_of: dict[str, str], roles: Roles, col: _Collector, report: dict[str, Any]) -> None:
    """Dates after ``max_date`` (today by default) or far outside the file's bulk are problems.
    The bulk is found on the distinct days (weighted by their rows); rows are looked at only
    when some day is out of range."""
    days, counts = _distinct_days(dates, live, coded)
    if not len(days):
        return
    cum = np.cumsum(counts)
    total = int(cum[-1])
    # the bulk leaves out 1 % at each end, and never less than the two most extreme rows
    q = min(max(BULK_QUANTILE, 2 / total), 0.5)
    lo_q = days[min(np.searchsorted(cum, int(np.floor(q * total)), side="right"), len(days) - 1)].astype(np.int64)
    hi_q = days[min(np.searchsorted(cum, int(np.ceil((1 - q) * total)) - 1, side="right"), len(days) - 1)].astype(
        np.int64)
    max_set, min_set = _parse_day(imp.get("max_date", "")), _parse_day(imp.get("min_date", ""))
    upper = max_set if max_set is not None else np.datetime64(dt.date.today(), "D")
    lower = min_set if min_set is not None else np.datetime64(int(lo_q - FAR_BEFORE_DAYS), "D")
    after = upper if max_set is not None else min(upper, np.datetime64(int(hi_q + FAR_AFTER_DAYS), "D"))
    bulk = (str(np.datetime64(int(lo_q), "D")), str(np.datetime64(int(hi_q), "D")))
    report["date_limits"] = {"max_date": str(upper), "min_date": str(min_set) if min_set is not None else "",
                             "bulk": list(bulk)}
    if days[0] >= lower and days[-1] <= after:
        return  # every date in range: no row is looked at
    d = dates.astype("datetime64[D]")
    ok = live & ~np.isnat(d)
    late = ok & (d > upper)
    far_after = ok & ~late & (d > after)
    far_before = ok & (d < lower)
    j = roles.mapping[C.DATE]
    label = label_of[C.DATE]
    for kind, mask, key, limit in (("date_after_max", late, "max_date", str(upper)),
                                   ("date_outlier", far_after, "max_date", bulk[1]),
                                   ("date_outlier", far_before, "min_date", bulk[0])):
        if not mask.any():
            continue
        idx = np.flatnonzero(mask)
        expected = str(_msg("expected_date_before" if key == "max_date" else "expected_date_after", col.lang,
                            limit=_show_day(limit, col.lang), start=_show_day(bulk[0], col.lang),
                            end=_show_day(bulk[1], col.lang)))
        fix = str(_msg("fix_dates", col.lang)) + "\n" + f"import:\n  {key}: \"{_bound(dates[idx], key)}\""
        for i in idx[:MAX_LISTED].tolist():
            value = coded.values[coded.codes[i]] if coded is not None else str(d[i])
            col.items.append(Problem(kind=kind, file=col.file, row=col.where(int(rows[i]), j), column=label,
                                     value=value, expected=expected, suggestion=fix))


def _show_day(iso: str, lang: str) -> str:
    """A day as the engagement's language writes it (dd.mm.yyyy in Russian, ISO in English)."""
    return f"{iso[8:10]}.{iso[5:7]}.{iso[:4]}" if lang == "ru" and len(iso) == 10 else iso


def _bound(dates: np.ndarray, key: str) -> str:
    """The setting that would let the refused dates in (the latest or earliest of them)."""
    d = dates.astype("datetime64[D]")
    return str(d.max() if key == "max_date" else d.min())
