"""The canonical ledger and customers tables from the parsed files (pure)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench import columns as C
from workbench.errors import Problem
from workbench.ingest.coded import Coded, _first_rows
from workbench.ingest.duplicates import (
    LISTED,
    _scatter_first,
    inn_under_names,
    possible_duplicates,
    settle_customers,
)
from workbench.ingest.fields import CUSTOMER_FIELDS
from workbench.ingest.identity import (
    _combos,
    _name_to_inn_codes,
    _pairs,
    assign_ids,
    most_frequent,
    name_keys,
    name_to_inn,
)
from workbench.ingest.messages import _msg
from workbench.ingest.parse import _FileResult
from workbench.ingest.problems import _Collector, _sheet_ref


def _str_series(values: Any, n: int) -> pd.Series:
    """A ``str`` column. pandas keeps its text as large_string: built as large_string
    (a take from the distinct values), it is not copied again (5x faster than a cast)."""
    if values is None:
        values = Coded(codes=np.zeros(n, dtype=np.int64), values=[""])
    if isinstance(values, Coded):
        values = pa.array(values.values, pa.large_string()).take(pa.array(values.codes))
    if not pa.types.is_large_string(values.type):  # from string: widening the offsets is all
        values = values.cast(pa.large_string())       # (20x faster than through pandas)
    return pd.Series(pd.array(values, dtype="str"))


def _row_labels(res: _FileResult, lang: str) -> pa.Array:
    """source_row per imported row: "строка 12" / "line 12" or "Лист1!A12"."""
    if res.source.format == "xlsx":
        prefix, suffix = f"{_sheet_ref(res.source.sheet)}!A", ""
    else:
        prefix, _, suffix = str(_msg("line", lang)).partition("{n}")
    text = pa.large_string()
    nums = pa.array(res.rows).cast(text)
    if not suffix:  # inserting the prefix is twice as fast as a join
        return pc.utf8_replace_slice(nums, 0, 0, prefix)
    return pc.binary_join_element_wise(pa.scalar(prefix, text), nums, pa.scalar(suffix, text), pa.scalar("", text))


def _name_keys(res: _FileResult) -> Coded:
    if C.CUSTOMER_NAME in res.columns:
        names = res.columns[C.CUSTOMER_NAME]
        return names.with_values(name_keys(names.values))
    return Coded(codes=np.zeros(len(res.rows), dtype=np.int64), values=[""])


def build_tables(sales: _FileResult, customers: _FileResult | None, settings: dict[str, Any],
                 lang: str, problems: list[Problem]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The canonical ledger and customers tables from parsed files (pure)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return _build_tables(sales, customers, settings, lang, problems, pool)


def _build_tables(sales: _FileResult, customers: _FileResult | None, settings: dict[str, Any],
                  lang: str, problems: list[Problem], pool: ThreadPoolExecutor
                  ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    imp = settings["import"]
    mode = imp["customer_key"]
    sc = sales.columns
    n = len(sales.rows)
    # The text columns that do not depend on the customer ids are built in the second
    # thread (pyarrow takes, without the GIL) while this one works out the ids.
    text_jobs = {
        C.PRODUCT: pool.submit(_str_series, sc.get(C.PRODUCT), n),
        C.MANAGER: pool.submit(_str_series, sc.get(C.MANAGER), n),
        C.DOCUMENT: pool.submit(_str_series, sc.get(C.DOCUMENT), n),
        # several files combined (``combine``) carry their file and row per row
        C.SOURCE_FILE: pool.submit(_str_series, sc[C.SOURCE_FILE] if C.SOURCE_FILE in sc else
                                   Coded(codes=np.zeros(n, dtype=np.int64), values=[sales.report["file"]]), n),
        C.SOURCE_ROW: pool.submit(lambda: _str_series(sc[C.SOURCE_ROW] if C.SOURCE_ROW in sc
                                                      else _row_labels(sales, lang), n)),
    }
    s_keys = _name_keys(sales)
    s_combos = _combos(s_keys, sc[C.INN]) if C.INN in sc and len(s_keys) else None
    if mode == "name":
        mapping, ambiguous = {}, []
    elif customers is None and s_combos is not None:
        mapping, ambiguous = _name_to_inn_codes(s_keys, sc[C.INN], s_combos)
    else:
        pairs = _pairs(s_keys, sc.get(C.INN), s_combos)
        if customers is not None:
            pairs |= _pairs(_name_keys(customers), customers.columns.get(C.INN))
        mapping, ambiguous = name_to_inn(pairs)
    ids, inns, by_name = assign_ids(s_keys, sc.get(C.INN), mapping, mode, s_combos)
    decisions = settings.get("customers") or {}
    apart: list[tuple[str, str]] = []
    renamed: dict[str, str] = {}
    if decisions.get("merge") or decisions.get("keep_apart"):
        ids, apart, renamed = settle_customers(ids, _names(sales), s_keys, inns, decisions, problems, lang)
    if mode == "inn":
        missing = inns.equals("")
        names_ = sc[C.CUSTOMER_NAME]
        for start, end, part in getattr(sales, "parts", None) or [(0, n, sales)]:
            col = _Collector(part.report["file"], lang, part.source)
            col.mask("missing_inn", missing[start:end], sales.rows[start:end], names_.take(np.arange(start, end)),
                     None, part.report["columns"].get(C.INN, ""))
            problems.extend(col.items)
    sales.report["inn_from_name"] = by_name
    sales.report["names_ambiguous"] = {"count": len(ambiguous), "examples": ambiguous[:5]}
    top = most_frequent(ids, sc[C.CUSTOMER_NAME])
    top = [name or cid for name, cid in zip(top, ids.values)]
    names = Coded(codes=ids.codes, values=top)
    for f, v in ((C.CUSTOMER_ID, ids), (C.CUSTOMER_NAME, names), (C.INN, inns)):
        text_jobs[f] = pool.submit(_str_series, v, n)
    # the customers table (from codes and dates) meanwhile
    id_codes, inn_codes = ids.codes, inns.codes
    managers = sc.get(C.MANAGER)
    sale_dates = np.asarray(sc[C.DATE], dtype="datetime64[ns]")
    drop = imp["duplicates"] == "drop" and bool(sales.duplicate.any())
    keep = ~sales.duplicate if drop else None
    if drop:
        id_codes, inn_codes, sale_dates = id_codes[keep], inn_codes[keep], sale_dates[keep]
        managers = managers.take(np.flatnonzero(keep)) if managers is not None else None
    customers_df = _customers_table(sale_dates, Coded(id_codes, ids.values), top,
                                    Coded(inn_codes, inns.values), managers, customers, mapping, mode, renamed)
    amount = sc[C.AMOUNT]
    _identity_report(sales, ids, s_keys, inns, top, np.where(sales.duplicate, 0.0, amount) if drop else amount,
                     apart, set(renamed.values()), s_combos)
    nan = np.full(n, np.nan)
    ledger = pd.DataFrame({
        C.CUSTOMER_ID: text_jobs[C.CUSTOMER_ID].result(),
        C.CUSTOMER_NAME: text_jobs[C.CUSTOMER_NAME].result(),
        C.INN: text_jobs[C.INN].result(),
        C.DATE: pd.Series(sc[C.DATE], dtype="datetime64[ns]"),
        C.AMOUNT: pd.Series(amount, dtype="float64"),
        C.QUANTITY: pd.Series(sc.get(C.QUANTITY, nan), dtype="float64"),
        C.PRODUCT: text_jobs[C.PRODUCT].result(),
        C.MANAGER: text_jobs[C.MANAGER].result(),
        C.MARGIN: pd.Series(sc.get(C.MARGIN, nan), dtype="float64"),
        C.DOCUMENT: text_jobs[C.DOCUMENT].result(),
        C.IS_RETURN: pd.Series(amount < 0, dtype="bool"),
        C.SOURCE_FILE: text_jobs[C.SOURCE_FILE].result(),
        C.SOURCE_ROW: text_jobs[C.SOURCE_ROW].result(),
    })
    if drop:
        ledger = ledger.loc[keep].reset_index(drop=True)
    sales.report["duplicates"]["action"] = imp["duplicates"]
    amt = ledger[C.AMOUNT].to_numpy()
    ret = amt < 0
    sales.report["returns"] = {"count": int(ret.sum()), "sum": float(amt[ret].sum())}
    gross = float(amt[amt > 0].sum())
    returns_sum = float(amt[ret].sum())
    dates = ledger[C.DATE]
    totals = {
        "customers": len(customers_df),
        "customers_with_sales": int(np.count_nonzero(np.bincount(id_codes, minlength=len(ids.values)))),
        "rows": len(ledger),
        "date_from": dates.min().date().isoformat() if len(ledger) else "",
        "date_to": dates.max().date().isoformat() if len(ledger) else "",
        "revenue": gross + returns_sum if imp["returns"] == "net" else gross,
        "revenue_gross": gross,
        "returns_sum": returns_sum,
        "returns_count": int(ret.sum()),
        "returns": imp["returns"],
        "duplicates": imp["duplicates"],
        "customer_key": mode,
        **_money_totals(_file_reports(sales), sc, keep),
        "anonymous_rows": sum((r.get("anonymous") or {}).get("rows", 0) for r in _file_reports(sales)),
        "anonymous_revenue": sum((r.get("anonymous") or {}).get("amount", 0.0) for r in _file_reports(sales)),
        "possible_duplicates": sales.report["possible_duplicates"]["count"],
        "inn_names": sales.report["inn_names"]["count"],
    }
    return ledger, customers_df, totals


def _names(res: _FileResult) -> Coded:
    n = len(res.rows)
    return res.columns.get(C.CUSTOMER_NAME) or Coded(codes=np.zeros(n, dtype=np.int64), values=[""])


def _file_reports(sales: _FileResult) -> list[dict[str, Any]]:
    """The report of each sales file behind ``sales`` (several when the files were combined)."""
    parts = getattr(sales, "parts", None)
    return [res.report for _, _, res in parts] if parts else [sales.report]


def _money_totals(reports: list[dict[str, Any]], columns: dict[str, Any], keep: np.ndarray | None
                  ) -> dict[str, Any]:
    """The VAT basis of revenue (``mixed`` when the files differ) and, where the files have
    them, the sums of the ledger's rows with VAT and of VAT."""
    bases = {(r.get("amount") or {}).get("basis", "unknown") for r in reports}
    hows = {(r.get("amount") or {}).get("how", "column") for r in reports}
    out: dict[str, Any] = {"basis": bases.pop() if len(bases) == 1 else "mixed",
                           "amount_how": hows.pop() if len(hows) == 1 else "mixed"}

    def total(f: str) -> float:
        v = np.asarray(columns[f], dtype="float64")
        return float(np.nansum(v[keep] if keep is not None else v))

    vat = total(C.VAT) if C.VAT in columns else None
    if C.AMOUNT_GROSS in columns:
        out["revenue_with_vat"] = total(C.AMOUNT_GROSS)
    elif C.AMOUNT_NET in columns and vat is not None:
        out["revenue_with_vat"] = total(C.AMOUNT_NET) + vat
    if vat is not None:
        out["vat"] = vat
    return out


def _identity_report(sales: _FileResult, ids: Coded, keys: Coded, inns: Coded, shown: list[str],
                     amount: np.ndarray, apart: list[tuple[str, str]], merged: set[str],
                     combos: tuple[np.ndarray, np.ndarray] | None) -> None:
    """One INN under several names, and possible duplicates, into the sales file's report
    (customers the consultant merged or kept apart are settled: not listed again). Work is
    per customer and per (name key, INN) combination."""
    revenue = np.bincount(ids.codes, weights=np.nan_to_num(amount), minlength=len(ids.values))
    first = _scatter_first(ids.codes, len(ids.values))
    present = first < len(ids.codes)
    row = np.where(present, first, 0)
    id_inns = [inns.values[c] if ok and inns.values[c] == ids.values[i] else ""
               for i, (c, ok) in enumerate(zip(inns.codes[row].tolist(), present.tolist()))]
    id_keys = [keys.values[c] for c in keys.codes[row].tolist()]
    several = []
    if combos is not None and any(id_inns):
        several = [e for e in inn_under_names(ids, keys, _names(sales), id_inns, amount, combos[0], len(combos[1]))
                   if e["inn"] not in merged]
    sales.report["inn_names"] = {"count": len(several), "items": several[:LISTED]}
    pairs = possible_duplicates(list(ids.values), shown, id_keys, revenue, id_inns, {frozenset(p) for p in apart})
    sales.report["possible_duplicates"] = {"count": len(pairs), "items": pairs[:LISTED]}
    sales.report["kept_apart"] = [list(p) for p in apart]


def _customers_table(dates: np.ndarray, ids: Coded, names: list[str], inns: Coded, managers: Coded | None,
                     customers: _FileResult | None, mapping: dict[str, str], mode: str,
                     renamed: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per customer: attributes from the customers file, purchases from the ledger.

    Customers of the customers file without purchases are included (first/last
    purchase NaT). Name: the ledger's most frequent spelling, else the file's.
    Manager, INN and other attributes: the customers file first, else the ledger.
    """
    present = np.flatnonzero(np.bincount(ids.codes, minlength=len(ids.values)))  # = np.unique(ids.codes)
    if len(dates) and not np.isnat(dates).any():  # per-id min / max in place (no groupby)
        ns = dates.astype("datetime64[ns]").view(np.int64)
        lo = np.full(len(ids.values), np.iinfo(np.int64).max, dtype=np.int64)
        hi = np.full(len(ids.values), np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(lo, ids.codes, ns)
        np.maximum.at(hi, ids.codes, ns)
        first = pd.Series(lo[present].view("datetime64[ns]"))
        last = pd.Series(hi[present].view("datetime64[ns]"))
    else:
        g = pd.Series(dates).groupby(ids.codes)
        first = g.min().reindex(present)
        last = g.max().reindex(present)
    # the INN of an id is the same on all its rows (the id is built from it): take the first row's
    first_row = _first_rows(ids.codes, len(ids.values))
    base = pd.DataFrame({
        C.CUSTOMER_ID: [ids.values[i] for i in present.tolist()],
        C.CUSTOMER_NAME: [names[i] for i in present.tolist()],
        C.INN: [inns.values[c] for c in inns.codes[first_row[present]].tolist()],
        C.FIRST_PURCHASE: first.to_numpy(),
        C.LAST_PURCHASE: last.to_numpy(),
    })
    if managers is not None:
        top = most_frequent(ids, managers)
        base[C.MANAGER] = [top[i] for i in present.tolist()]
    base = base.set_index(C.CUSTOMER_ID)
    if customers is not None:
        cc = customers.columns
        cids, cinns, _ = assign_ids(_name_keys(customers), cc.get(C.INN), mapping, mode)
        cid_list = cids.arrow().to_pylist()
        if renamed:  # customers merged in engagement.yaml keep the attributes the file gives them
            cid_list = [renamed.get(c, c) for c in cid_list]
        frame: dict[str, Any] = {C.CUSTOMER_ID: cid_list, C.INN: cinns.arrow().to_pylist()}
        for f in CUSTOMER_FIELDS:
            v = cc.get(f)
            if v is None or f == C.INN:
                continue
            frame[f] = v.arrow().to_pylist() if isinstance(v, Coded) else (
                v.to_pylist() if isinstance(v, pa.Array) else v)
        cdf = pd.DataFrame(frame)
        cdf = cdf[cdf[C.CUSTOMER_ID] != ""]
        customers.report["customers_merged"] = int(cdf[C.CUSTOMER_ID].duplicated().sum())
        text_cols = [c for c in cdf.columns if c not in (C.CUSTOMER_ID, C.HEADCOUNT, C.POTENTIAL)]
        cdf[text_cols] = cdf[text_cols].astype(object).replace("", None)
        attrs = cdf.groupby(C.CUSTOMER_ID, sort=False).first()
        overlap = {c: c + "_file" for c in attrs.columns if c in base.columns}
        out = base.join(attrs.rename(columns=overlap), how="outer", sort=False)
        for f in (C.CUSTOMER_NAME, C.INN, C.MANAGER):
            if f + "_file" in out:
                own = out[f].astype(object).replace("", None) if f in out else pd.Series(None, index=out.index)
                other = out[f + "_file"].astype(object)
                out[f] = own.combine_first(other) if f == C.CUSTOMER_NAME else other.combine_first(own)
    else:
        out = base
    out = out.reset_index()
    res = pd.DataFrame({C.CUSTOMER_ID: pd.Series(out[C.CUSTOMER_ID].to_numpy(dtype=object), dtype="str")})
    for f in C.CUSTOMERS_COLUMNS[1:]:
        if f in (C.HEADCOUNT, C.POTENTIAL):
            res[f] = (pd.to_numeric(out[f], errors="coerce").astype("float64") if f in out
                      else pd.Series(np.nan, index=res.index, dtype="float64"))
        elif f in (C.FIRST_PURCHASE, C.LAST_PURCHASE):
            res[f] = pd.Series(out[f].to_numpy(), dtype="datetime64[ns]")
        else:
            vals = out[f].astype(object).where(out[f].notna(), "") if f in out else ""
            res[f] = pd.Series(vals, index=res.index, dtype="str") if f in out else \
                pd.Series([""] * len(res), dtype="str")
    res[C.CUSTOMER_NAME] = res[C.CUSTOMER_NAME].where(res[C.CUSTOMER_NAME] != "", res[C.CUSTOMER_ID])
    return res.loc[:, list(C.CUSTOMERS_COLUMNS)].reset_index(drop=True)
