"""Several sales files -> one ledger: overlaps resolved, never double-counted, every month's source kept.

Clients send exports three ways: a full re-export every month, a file for the new month
only, or a re-export of the last few months overlapping what was sent before. All
files of the sales input are read (``workbench.ingest.read``), then combined here
(pure functions over the parsed files):

* **Newest file.** Files are ordered by their own content, never by the file system's
  modification time (a copy, a download or an unzip changes it): the newest is the file
  whose latest sale date is latest; on a tie, the one whose first date is later (the
  narrower, more recent export); then the file name in natural order
  (``sales_2026-11`` after ``sales_2026-9``).
* ``import.overlap: newest_file_wins`` (default): each month comes whole from the newest
  file holding it; the other files' rows of that month are left out (and listed). An
  export that starts in the middle of a month replaces that whole month too: the older
  file's documents before its first day then show as removed in the corrections (use
  ``dedupe_rows`` for such exports). A month is never put together from two files,
  so a document deleted in a re-export never comes back from an older file.
* ``import.overlap: dedupe_rows``: every file's rows are kept, but a document (number
  and year) found in several files is taken from the newest of them only; a row without
  a document number is dropped when the same row (date, customer, INN, amount,
  quantity, product) is in a newer file. For exports cutting months in the middle or
  split by branch.
* **Corrections.** Where a newer file replaces an older one for a month, the two are
  compared document by document (customer and day without document numbers): every
  document whose amount, customer or date differs, or that is in only one of them, is
  listed. Such a difference changes figures already reported for a past month.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench import columns as C
from workbench.ingest.coded import Coded
from workbench.ingest.parse import _FileResult
from workbench.ingest.sources import FileSpec

MAX_DIFFERENCE_ROWS = 200  # rows of the difference table kept in the report (the count is exact)
_CENT = 0.005


@dataclass
class Part:
    """One sales file read: where it came from and its parsed rows."""

    spec: FileSpec
    res: _FileResult

    @property
    def dates(self) -> np.ndarray:
        return np.asarray(self.res.columns[C.DATE], dtype="datetime64[ns]")

    @property
    def amounts(self) -> np.ndarray:
        return np.asarray(self.res.columns[C.AMOUNT], dtype="float64")


@dataclass
class _Combined(_FileResult):
    """The rows kept from several files as one parsed input. ``parts``: (first row, end
    row, file) of each file's rows in it, for problems placed in that file."""

    parts: list[tuple[int, int, _FileResult]] = field(default_factory=list)


@dataclass
class Combination:
    """What ``combine`` returns: the rows to build the tables from, and the report section."""

    result: _FileResult
    report: dict[str, Any]


def _natural(name: str) -> tuple[Any, ...]:
    return tuple(int(x) if x.isdigit() else x.casefold() for x in re.split(r"(\d+)", name))


def newest_order(parts: list[Part]) -> list[int]:
    """Rank of each part, 0 = oldest: by latest sale date, then first date, then natural name."""
    def key(i: int) -> tuple[Any, ...]:
        d = parts[i].dates
        return (d.max(), d.min(), _natural(parts[i].spec.name))
    order = sorted(range(len(parts)), key=key)
    ranks = [0] * len(parts)
    for r, i in enumerate(order):
        ranks[i] = r
    return ranks


def _months(dates: np.ndarray) -> np.ndarray:
    """The month of each date (datetime64[M]), through a table of the days spanned: a
    calendar conversion per distinct day, not per row (20x faster at 1 M rows)."""
    if not len(dates):
        return dates.astype("datetime64[M]")
    days = dates.astype("datetime64[ns]").view(np.int64) // 86_400_000_000_000
    lo = int(days.min())
    table = np.arange(lo, int(days.max()) + 1).astype("datetime64[D]").astype("datetime64[M]")
    return table[days - lo]


def _keep_newest(parts: list[Part], ranks: list[int]) -> list[np.ndarray]:
    """newest_file_wins: a row is dropped when a newer file holds its month."""
    months = [_months(p.dates) for p in parts]
    keep = []
    for i in range(len(parts)):
        newer = [np.unique(months[j]) for j in range(len(parts)) if ranks[j] > ranks[i]]
        keep.append(~np.isin(months[i], np.concatenate(newer)) if newer else np.ones(len(months[i]), dtype=bool))
    return keep


def _text(res: _FileResult, f: str, n: int) -> pd.Series:
    v = res.columns.get(f)
    if v is None:
        return pd.Series([""] * n, dtype=object)
    if isinstance(v, Coded):
        return pd.Series(np.asarray(v.values, dtype=object)[v.codes] if len(v.values) else [""] * n, dtype=object)
    return pd.Series(v.to_pylist() if isinstance(v, (pa.Array, pa.ChunkedArray)) else list(v), dtype=object)


def _row_keys(p: Part) -> pd.Series:
    """The identity of each row for ``dedupe_rows``: ``doc|<number>|<year>``, or the whole row."""
    n = len(p.dates)
    dates = pd.Series(p.dates)
    doc = _text(p.res, C.DOCUMENT, n).fillna("")
    whole = ("row|" + dates.dt.strftime("%Y-%m-%d") + "|" + _text(p.res, C.CUSTOMER_NAME, n)
             + "|" + _text(p.res, C.INN, n) + "|" + pd.Series(p.amounts).round(2).astype(str)
             + "|" + pd.Series(np.asarray(p.res.columns.get(C.QUANTITY, np.full(n, np.nan)), dtype="float64"))
             .round(6).astype(str) + "|" + _text(p.res, C.PRODUCT, n))
    by_doc = "doc|" + doc + "|" + dates.dt.year.astype(str)
    return by_doc.where(doc.str.strip() != "", whole)


def _keep_dedupe(parts: list[Part], ranks: list[int]) -> list[np.ndarray]:
    """dedupe_rows: a row is dropped when its document (or the same row) is in a newer file."""
    keys = [_row_keys(p) for p in parts]
    keep = []
    for i in range(len(parts)):
        newer = [keys[j] for j in range(len(parts)) if ranks[j] > ranks[i]]
        if not newer:
            keep.append(np.ones(len(keys[i]), dtype=bool))
            continue
        seen = pd.Index(pd.concat(newer, ignore_index=True).unique())
        keep.append(~keys[i].isin(seen).to_numpy())
    return keep


def _coverage(p: Part) -> dict[str, Any]:
    d = p.dates
    return {"file": p.spec.name, "first": pd.Timestamp(d.min()).date().isoformat(),
            "last": pd.Timestamp(d.max()).date().isoformat(), "rows": len(d)}


def month_sources(parts: list[Part], keep: list[np.ndarray], returns: str) -> list[dict[str, Any]]:
    """Per month (oldest first): the files its rows come from (rows, revenue) and what was
    left out of other files (rows, amount). Whole-column counts (``np.bincount``)."""
    months = [_months(p.dates).astype(np.int64) for p in parts]
    lo = min(int(m.min()) for m in months)
    uniq = np.arange(lo, max(int(m.max()) for m in months) + 1)  # every month of the span (no sort)
    per_file = []
    zeros = np.zeros(len(uniq))

    def count(idx: np.ndarray, mask: np.ndarray | None, w: np.ndarray | None = None) -> np.ndarray:
        at = idx if mask is None else idx[mask]
        return np.bincount(at, weights=None if w is None else (w if mask is None else w[mask]), minlength=len(uniq))

    for p, m, k in zip(parts, months, keep):
        idx = m - lo
        amt = p.amounts
        rev = amt if returns == "net" else np.clip(amt, 0, None)
        if k.all():  # one file, or a file nothing replaced: no row masks to take
            per_file.append((count(idx, None), count(idx, None, rev), zeros, zeros))
        else:
            per_file.append((count(idx, k), count(idx, k, rev), count(idx, ~k), count(idx, ~k, amt)))
    labels = pd.PeriodIndex.from_ordinals(uniq, freq="M").strftime("%Y-%m")
    out = []
    for j, month in enumerate(labels):
        if not any(f[0][j] or f[2][j] for f in per_file):
            continue  # a month without a sale in any file
        sources = [{"file": p.spec.name, "rows": int(f[0][j]), "revenue": float(f[1][j])}
                   for p, f in zip(parts, per_file) if f[0][j]]
        dropped = [{"file": p.spec.name, "rows": int(f[2][j]), "amount": float(f[3][j])}
                   for p, f in zip(parts, per_file) if f[2][j]]
        out.append({"month": str(month), "rows": sum(s["rows"] for s in sources),
                    "revenue": float(sum(f[1][j] for f in per_file)), "sources": sources, "dropped": dropped})
    return out


# --- corrections: the newest file against the one it replaces, month by month ----------
def _by_key(p: Part, mask: np.ndarray, by_doc: bool) -> pd.DataFrame:
    """The rows of ``mask`` summed by document (or by day and customer): date, customer, amount."""
    n = len(p.dates)
    customer = _text(p.res, C.CUSTOMER_NAME, n)
    df = pd.DataFrame({"day": p.dates, "who": customer, "document": _text(p.res, C.DOCUMENT, n).fillna(""),
                       "date": p.dates, "customer": customer, "amount": p.amounts})[mask]
    key = ["document"] if by_doc else ["day", "who"]
    return df.groupby(key, sort=False).agg(date=("date", "min"), customer=("customer", "first"),
                                           amount=("amount", "sum"))


def file_key(f: dict[str, Any]) -> tuple[Any, ...]:
    """A sales file as the history remembers it (name, first and last date, rows)."""
    return (f.get("file"), f.get("first"), f.get("last"), f.get("rows"))


def corrections(parts: list[Part], ranks: list[int], policy: str, reported_through: str = "",
                seen: set[tuple[Any, ...]] | None = None) -> dict[str, Any]:
    """Where a newer file and the file it replaces disagree about a month.

    For every month held by two or more files: the newest file holding it against the
    next newest. By document when both files have document
    numbers (a document compares by amount, customer and date), else by customer and day.
    ``dedupe_rows`` compares only documents found in both (files split by branch hold
    different documents). ``reported_through``: the latest month already reported (the
    history's latest run); months up to it are marked ``reported``. ``seen``: the files
    earlier runs were built from (``file_key``); a correction brought by one of them was
    in an earlier report already (``new`` False).

    Returns {"months": [{month, file_before, file_after, before, after, difference,
    documents, reported}], "rows": [{month, document, date, customer, before, after,
    difference, change ("changed" | "added" | "removed"), file_before, file_after}],
    "count": number of rows (the list keeps the largest ``MAX_DIFFERENCE_ROWS``),
    "reported_through"}.
    """
    months = [_months(p.dates) for p in parts]
    held: dict[np.datetime64, list[int]] = {}
    for i, m in enumerate(months):
        for month in np.unique(m):
            held.setdefault(month, []).append(i)
    summary: list[dict[str, Any]] = []
    rows: list[pd.DataFrame] = []
    for month in sorted(held):
        files = sorted(held[month], key=lambda i: -ranks[i])
        if len(files) < 2:
            continue
        new, old = files[0], files[1]
        in_new = (months[new] == month)
        in_old = months[old] == month
        by_doc = all(C.DOCUMENT in parts[i].res.columns for i in (new, old))
        if by_doc:  # rows without a number would all fall under one empty document
            in_new &= _text(parts[new].res, C.DOCUMENT, len(in_new)).str.strip().ne("").to_numpy()
            in_old &= _text(parts[old].res, C.DOCUMENT, len(in_old)).str.strip().ne("").to_numpy()
        a = _by_key(parts[old], in_old, by_doc)
        b = _by_key(parts[new], in_new, by_doc)
        both = a.add_suffix("_before").join(b.add_suffix("_after"), how="outer")
        if policy == "dedupe_rows":
            both = both[both["amount_before"].notna() & both["amount_after"].notna()]
        before = both["amount_before"].fillna(0.0)
        after = both["amount_after"].fillna(0.0)
        changed = ((before - after).abs() > _CENT) | both["amount_before"].isna() | both["amount_after"].isna()
        if by_doc:
            changed |= both["amount_before"].notna() & both["amount_after"].notna() & (
                (both["customer_before"] != both["customer_after"]) | (both["date_before"] != both["date_after"]))
        diff = both[changed]
        if not len(diff):
            continue
        month_text = pd.Timestamp(month).strftime("%Y-%m")
        names = (parts[old].spec.name, parts[new].spec.name)
        d = pd.DataFrame({
            "month": month_text,
            "document": diff.index.get_level_values(0).astype(str) if by_doc else "",
            "date": diff["date_after"].fillna(diff["date_before"]).dt.strftime("%Y-%m-%d"),
            "customer": diff["customer_after"].fillna(diff["customer_before"]),
            "customer_before": diff["customer_before"].fillna(""),
            "before": diff["amount_before"], "after": diff["amount_after"],
            "difference": diff["amount_after"].fillna(0.0) - diff["amount_before"].fillna(0.0),
            "change": np.where(diff["amount_before"].isna(), "added",
                               np.where(diff["amount_after"].isna(), "removed", "changed")),
            "file_before": names[0], "file_after": names[1],
        })
        new_file = file_key(_coverage(parts[new])) not in (seen or set())
        d["new"] = new_file
        rows.append(d)
        summary.append({"month": month_text, "file_before": names[0], "file_after": names[1], "new": new_file,
                        "before": float(before.sum()), "after": float(after.sum()),
                        "difference": float(after.sum() - before.sum()), "documents": len(d),
                        "reported": bool(reported_through and month_text <= reported_through)})
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    count = len(table)
    if count > MAX_DIFFERENCE_ROWS:
        top = table["difference"].abs().sort_values(ascending=False, kind="stable").index[:MAX_DIFFERENCE_ROWS]
        table = table.loc[sorted(top)]
    records = []
    for r in table.to_dict("records"):
        records.append({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()})
    return {"months": summary, "rows": records, "count": count, "reported_through": reported_through}


# --- one parsed input from the rows kept ---------------------------------------------
def _merge_coded(pieces: list[Coded]) -> Coded:
    values: list[str] = []
    codes = []
    for piece in pieces:
        codes.append(piece.codes + len(values))
        values.extend(piece.values)
    joined = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    remap, uniq = pd.factorize(pd.Series(values, dtype=object))
    return Coded(codes=remap[joined].astype(np.int64) if len(joined) else joined, values=list(uniq))


def _column(f: str, parts: list[Part], keep: list[np.ndarray]) -> Any:
    vals = [p.res.columns.get(f) for p in parts]
    sizes = [int(k.sum()) for k in keep]
    present = [v for v in vals if v is not None]
    if any(isinstance(v, Coded) for v in present):
        pieces = []
        for v, k, n in zip(vals, keep, sizes):
            if v is None:
                pieces.append(Coded(codes=np.zeros(n, dtype=np.int64), values=[""]))
            else:
                coded = v if isinstance(v, Coded) else Coded.encode(v)
                pieces.append(coded.take(np.flatnonzero(k)))
        return _merge_coded(pieces)
    if any(isinstance(v, np.ndarray) for v in present):
        kind = next(v for v in present if isinstance(v, np.ndarray)).dtype
        empty = np.datetime64("NaT", "ns") if np.issubdtype(kind, np.datetime64) else np.nan
        return np.concatenate([np.asarray(v, dtype=kind)[k] if v is not None else np.full(n, empty, dtype=kind)
                               for v, k, n in zip(vals, keep, sizes)])
    arrays = []
    for v, k, n in zip(vals, keep, sizes):
        if v is None:
            arrays.append(pa.array([""] * n, pa.large_string()))
        else:
            arr = v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v
            arrays.append(arr.filter(pa.array(k)).cast(pa.large_string()))
    return pa.concat_arrays(arrays)


def concat(parts: list[Part], keep: list[np.ndarray], lang: str, background: Any) -> _Combined:
    """The kept rows of every part as one parsed input, with ``source_file`` and
    ``source_row`` per row; exact duplicates stay those of each file."""
    from workbench.ingest.tables import _row_labels

    fields = sorted({f for p in parts for f in p.res.columns}, key=str)
    columns = {f: _column(f, parts, keep) for f in fields}
    sizes = [int(k.sum()) for k in keep]
    columns[C.SOURCE_FILE] = Coded(codes=np.repeat(np.arange(len(parts), dtype=np.int64), sizes),
                                   values=[p.spec.name for p in parts])
    columns[C.SOURCE_ROW] = pa.concat_arrays([_row_labels(p.res, lang).filter(pa.array(k)).cast(pa.large_string())
                                              for p, k in zip(parts, keep)])
    rows = np.concatenate([p.res.rows[k] for p, k in zip(parts, keep)])
    spans, start = [], 0
    for p, n in zip(parts, sizes):
        spans.append((start, start + n, p.res))
        start += n
    pending = background.submit(lambda: np.concatenate([p.res.duplicate[k] for p, k in zip(parts, keep)]))
    report = {"file": parts[0].spec.name, "kind": "sales", "columns": dict(parts[0].res.report.get("columns", {})),
              "duplicates": {"count": None}}
    return _Combined(kind="sales", columns=columns, rows=rows, source=parts[0].res.source, report=report,
                     pending_duplicates=pending, parts=spans)


def combine(parts: list[Part], settings: dict[str, Any], lang: str, background: Any,
            reported_through: str = "", seen: set[tuple[Any, ...]] | None = None) -> Combination:
    """Resolve the overlaps of the sales files and describe every month's source.

    Returns the rows to build the ledger from (one parsed input; the part itself when
    there is one file) and the report section ``sales_files``: policy, files (coverage,
    rows read and used, how each was found, whether an earlier report used it; newest
    first), months, corrections. ``reported_through``, ``seen``: see ``corrections``.
    """
    policy = settings["import"]["overlap"]
    returns = settings["import"]["returns"]
    ranks = newest_order(parts)
    if len(parts) == 1:
        keep = [np.ones(len(parts[0].dates), dtype=bool)]
    else:
        keep = _keep_newest(parts, ranks) if policy == "newest_file_wins" else _keep_dedupe(parts, ranks)
    months = month_sources(parts, keep, returns)
    files = []
    for p, k, r in sorted(zip(parts, keep, ranks), key=lambda x: -x[2]):
        held = sum(1 for m in months for x in (*m["sources"], *m["dropped"]) if x["file"] == p.spec.name)
        files.append({**_coverage(p), "path": p.spec.rel, "found_by": p.spec.found_by, "rows_used": int(k.sum()),
                      "months": held, "newest_rank": int(r),
                      "reported_before": file_key(_coverage(p)) in (seen or set())})
    report = {
        "policy": policy,
        "files": files,
        "months": months,
        "corrections": corrections(parts, ranks, policy, reported_through, seen) if len(parts) > 1
        else {"months": [], "rows": [], "count": 0, "reported_through": reported_through},
    }
    result = parts[0].res if len(parts) == 1 else concat(parts, keep, lang, background)
    return Combination(result=result, report=report)
