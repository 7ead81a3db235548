"""The checks a deal export must pass, each problem naming file, row, column and value.

Pure functions over the export's columns as codes (``workbench.ingest.deal_read.factor``):
what is about values (stages, pipelines, flags) is decided once per distinct value or pair;
only the rows of a problem are quoted. Problems go to the file's ``_Collector``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench import columns as C
from workbench.ingest.problems import _Collector
from workbench.ingest.stages import code_pipeline, stage_family, system_outcome

_SEMANTIC = {"S": 1, "F": 2, "P": 0}  # outcome codes: 0 open, 1 won, 2 lost
_OUTCOME = {"open": 0, "won": 1, "lost": 2}


def _shown(values: Any) -> pa.Array:
    """Values to quote in a problem, as the collector takes them (text)."""
    return pa.array(["" if v is None else str(v) for v in np.asarray(values, dtype=object).tolist()], pa.string())


def _per_row(codes: np.ndarray, values: list[str], rows: np.ndarray) -> pa.Array:
    """The text of ``codes`` (per row) as an Arrow array, built only for ``rows`` that matter."""
    return pa.array(values, pa.string()).take(pa.array(codes))


def _signature(frame: pd.DataFrame, fields: list[str]) -> pd.Series:
    """One text per row joining ``fields`` (missing values as empty text)."""
    return frame[fields].astype("string").fillna("").agg("\x1f".join, axis=1)


def mixed_crm(sc: np.ndarray, sv: list[str], rows: np.ndarray, col: _Collector, j: int, label: str,
              crm: str = "") -> None:
    """Stages of two CRMs in one column (amoCRM's «Успешно реализовано» beside Bitrix24's
    ``WON``): the rows of the CRM the headers do not name are named (``crm``: the export's
    CRM by its headers; "" when they do not tell: the CRM with fewer deals)."""
    family = np.asarray([stage_family(str(v)) for v in sv], dtype=object)
    if not {"amocrm", "bitrix24"} <= set(family.tolist()):
        return
    per_row = family[sc]
    found = {f: int((per_row == f).sum()) for f in ("amocrm", "bitrix24")}
    if crm in found:
        minority = "bitrix24" if crm == "amocrm" else "amocrm"
    else:
        minority = "amocrm" if found["amocrm"] <= found["bitrix24"] else "bitrix24"
    col.mask("deal_mixed_crm", per_row == minority, rows, _per_row(sc, sv, rows), j, label)


def pipeline_contradictions(pair_code: np.ndarray, pipelines: list[str], stages: list[str], rows: np.ndarray,
                            col: _Collector, j: int, label: str) -> None:
    """A pipeline column of Bitrix24 numbers (``CATEGORY_ID``) that the stage codes contradict:
    ``C1:NEW`` belongs to pipeline 1, a bare ``NEW`` to pipeline 0. Pipelines given by name
    («Воронка») cannot be checked against codes."""
    if not all(str(p).isdigit() or p == "" for p in pipelines):
        return
    named = [code_pipeline(str(s)) for s in stages]
    bad_pair = np.asarray([x is not None and p != "" and x != p for p, x in zip(pipelines, named)], dtype=bool)
    if bad_pair.any():
        shown = [f"{p} ≠ {s}" for p, s in zip(pipelines, stages)]
        col.mask("deal_pipeline_conflict", bad_pair[pair_code], rows, _per_row(pair_code, shown, rows), j, label)


def stage_contradictions(sc: np.ndarray, sv: list[str], semc: np.ndarray, semv: list[str], flag: np.ndarray,
                         outcome: np.ndarray, rows: np.ndarray, col: _Collector, m: dict[str, int],
                         label: dict[str, str], crm: str = "") -> None:
    """A system stage the semantics or the closed flag contradict (``WON`` with
    ``STAGE_SEMANTIC_ID`` F; a won or lost deal marked not closed; an open one marked closed
    by a system code)."""
    system_of = np.asarray([_OUTCOME.get(system_outcome(str(v), crm), -1) for v in sv], dtype=np.int8)
    system = system_of[sc] if len(sc) else np.zeros(0, np.int8)
    if "semantic" in m and len(semv):
        sem_of = np.asarray([_SEMANTIC.get(str(v), -1) for v in semv], dtype=np.int8)
        sem = sem_of[semc]
        bad = (system >= 0) & (sem >= 0) & (sem != system)
        if bad.any():
            shown = _shown([f"{semv[a]} ≠ {sv[b]}" if ok else "" for a, b, ok in zip(semc, sc, bad)])
            col.mask("deal_stage_conflict", bad, rows, shown, m["semantic"], label["semantic"])
    if "closed_flag" in m:
        closed_outcome = (outcome == 1) | (outcome == 2)
        bad = (flag >= 0) & (system >= 0) & (((flag == 1) & (outcome == 0)) | ((flag == 0) & closed_outcome))
        if bad.any():
            shown = _shown([f"{'Y' if f == 1 else 'N'} ≠ {sv[b]}" if ok else "" for f, b, ok in zip(flag, sc, bad)])
            col.mask("deal_stage_conflict", bad, rows, shown, m["closed_flag"], label["closed_flag"])


def currencies(currency: pa.Array, rows: np.ndarray, col: _Collector, j: int | None, label: str) -> None:
    """Deals in more than one currency: the first deal of each currency but the most frequent
    is named (amounts in two currencies cannot be added)."""
    if j is None:
        return
    values = pd.Series(pd.array(currency, dtype="str"))
    counts = values[values != ""].value_counts()
    if len(counts) < 2:
        return
    main = counts.index[0]
    first = ~values.duplicated() & (values != "") & (values != main)
    col.mask("deal_currencies", first.to_numpy(), rows, currency, j, label)


def one_row_per_deal(frame: pd.DataFrame, has_id: bool, has_modified: bool, col: _Collector, j: int,
                     label: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per deal id (pure; ``frame`` is the export, ``_row`` its physical rows).

    * rows without an id are left out (listed: row, title, and the deal they repeat when an
      identical row with an id exists);
    * rows equal in every field to an earlier row of the same id count once;
    * rows of one id with different values keep the latest modification (listed: id, kept and
      dropped rows); without modification dates to tell them apart, a problem names the rows.

    Returns (frame, report part: ``identical``, ``changed``, ``no_id``).
    """
    report: dict[str, Any] = {"identical": 0, "changed": [], "no_id": []}
    if not has_id:
        return frame, report
    ids = frame[C.DEAL_ID]
    no_id = (ids == "").to_numpy()
    if no_id.any():
        fields = [c for c in frame.columns if c not in (C.DEAL_ID, "_row")]
        with_id = frame[~no_id]
        known = dict(zip(_signature(with_id, fields), with_id[C.DEAL_ID].astype(str)))
        for rec, sig in zip(frame[no_id].to_dict("records"), _signature(frame[no_id], fields)):
            report["no_id"].append({"row": col.where(int(rec["_row"]), j), "deal_name": str(rec[C.DEAL_NAME]),
                                    "repeats": known.get(sig, "")})
        frame = frame[~no_id].reset_index(drop=True)
        ids = frame[C.DEAL_ID]
    repeated = ids.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return frame, report
    fields = [c for c in frame.columns if c != "_row"]
    part = frame[repeated]
    exact = np.zeros(len(frame), dtype=bool)
    exact[np.flatnonzero(repeated)] = _signature(part, fields).duplicated().to_numpy()
    report["identical"] = int(exact.sum())
    frame = frame[~exact].reset_index(drop=True)
    ids = frame[C.DEAL_ID]
    clash = ids.duplicated(keep=False).to_numpy()
    if not clash.any():
        return frame, report
    group = frame[clash]
    if has_modified:
        tie = group.groupby(C.DEAL_ID)[C.MODIFIED].transform(
            lambda x: x.isna().any() or (x == x.max()).sum() > 1).astype(bool).to_numpy()
    else:
        tie = np.ones(len(group), dtype=bool)
    if tie.any():
        mask = np.zeros(len(frame), dtype=bool)
        mask[np.flatnonzero(clash)[tie]] = True
        col.mask("deal_duplicate_id", mask, frame["_row"].to_numpy(), _shown(ids), j, label)
        return frame, report
    order = frame.assign(_pos=np.arange(len(frame))).sort_values([C.DEAL_ID, C.MODIFIED, "_pos"], kind="stable")
    keep_last = ~order[C.DEAL_ID].duplicated(keep="last")
    for deal_id, part in order[order[C.DEAL_ID].isin(ids[clash])].groupby(C.DEAL_ID, sort=False):
        kept = part.iloc[-1]
        report["changed"].append({
            "deal_id": str(deal_id), "kept": col.where(int(kept["_row"]), j),
            "dropped": [col.where(int(r), j) for r in part["_row"].iloc[:-1]],
            "modified": pd.Timestamp(kept[C.MODIFIED]).isoformat()})
    frame = order[keep_last.to_numpy()].sort_values("_pos").drop(columns="_pos").reset_index(drop=True)
    return frame, report


__all__ = ["currencies", "mixed_crm", "one_row_per_deal", "pipeline_contradictions", "stage_contradictions"]
