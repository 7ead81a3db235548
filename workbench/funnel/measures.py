"""The funnel's measures over the coded deals (``workbench.funnel.codes``), each a small table.

Definitions are in ``workbench.funnel``'s docstring; here they are counts and sums per code.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.funnel.codes import NAT, NS_PER_DAY, SEGMENTS, Deals, History, codes, group_sum

STAGE_COLUMNS = (C.PIPELINE, C.STAGE, C.STAGE_ORDER, "deals", "amount", "no_amount")
CONVERSION_COLUMNS = (C.PIPELINE, C.STAGE, C.STAGE_ORDER, "next_stage", "reached", "moved_on", "conversion",
                      "median_days", "left")
WIN_COLUMNS = ("dimension", "value", "closed", "won", "lost", "win_rate", "won_amount", "avg_won")
LOST_COLUMNS = (C.LOST_REASON, "deals", "amount", "share")
STALLED_COLUMNS = (C.DEAL_ID, C.DEAL_NAME, C.CUSTOMER_NAME, C.PIPELINE, C.STAGE, C.MANAGER, C.AMOUNT,
                   "days_in_stage", "usual_days", "since")
MONTHLY_COLUMNS = (C.MONTH, C.SEGMENT, "new_deals", "won", "lost", "win_rate", "won_amount", "conversion",
                   "pipeline_deals", "pipeline_amount")
DIMENSIONS = (C.MANAGER, C.SOURCE, C.SEGMENT)


def empty(cols: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})


def open_stages(x: Deals) -> pd.DataFrame:
    """Open deals now per (pipeline, stage): deals, amount, deals without an amount."""
    is_open = x.key >= 0
    if not is_open.any():
        return empty(STAGE_COLUMNS)
    k = x.keys["key"].to_numpy()
    pos = np.searchsorted(k, x.key[is_open])
    n = len(k)
    out = x.keys[[C.PIPELINE, C.STAGE, C.STAGE_ORDER]].assign(
        deals=group_sum(pos, n), amount=group_sum(pos, n, x.amount[is_open]),
        no_amount=group_sum(pos, n, (~x.has_amount[is_open]).astype("float64")).astype(np.int64))
    out = out[out["deals"] > 0].sort_values([C.PIPELINE, C.STAGE_ORDER, C.STAGE], kind="stable")
    return out[list(STAGE_COLUMNS)].astype({"deals": "int64"}).reset_index(drop=True)


def last_open(stages: pd.DataFrame) -> dict[str, int]:
    """pipeline -> number of its open stages."""
    o = stages[stages[C.OUTCOME] == "open"]
    return {str(p): int(g[C.STAGE_ORDER].max()) for p, g in o.groupby(C.PIPELINE, sort=False)}


def reach(x: Deals, h: History, stages: pd.DataFrame) -> np.ndarray:
    """The furthest position each deal reached: its stages in the history and now (a won deal:
    past the last open stage), at least 1 (every deal entered the funnel)."""
    n_open = last_open(stages)
    per_pipeline = np.asarray([n_open.get(str(p), 0) for p in x.pipelines], dtype=np.int64)
    furthest = np.zeros(x.n, dtype=np.int64)
    if len(h.deal):
        furthest[h.deal[h.starts]] = np.maximum.reduceat(h.order, h.starts)
    now = np.where(x.outcome == 1, per_pipeline[x.pipeline] + 1, np.where(x.outcome == 0, x.order, 0))
    return np.maximum(np.maximum(furthest, now), 1)


def stage_days(x: Deals, h: History, cohort: np.ndarray) -> dict[int, tuple[float, int]]:
    """Open stage key -> (median days in it over the cohort's deals that left it, those deals).

    Leaving is the next stage entered or, for the last entry, the deal's close; days of several
    visits to one stage add up.
    """
    if not len(h.deal):
        return {}
    nxt = np.empty_like(h.entered)
    nxt[:-1] = h.entered[1:]
    last = np.ones(len(h.deal), dtype=bool)
    last[:-1] = h.deal[1:] != h.deal[:-1]
    left = np.where(last, x.closed[h.deal], nxt)
    ok = (h.key >= 0) & (left != NAT) & cohort[h.deal]
    if not ok.any():
        return {}
    key, deal = h.key[ok], h.deal[ok]
    days = (left[ok] - h.entered[ok]) / NS_PER_DAY
    cell = deal * (int(key.max()) + 1) + key          # one (deal, stage): visits add up
    again = pd.Series(cell).duplicated().to_numpy()
    if again.any():
        sums = pd.Series(days).groupby(cell, sort=False).sum()
        cell, days = sums.index.to_numpy(), sums.to_numpy()
        key = cell % (int(h.key.max()) + 1)
    out = {}
    for k in np.flatnonzero(np.bincount(key)):
        mine = days[key == k]
        out[int(k)] = (float(np.median(mine)), len(mine))
    return out


def conversion(x: Deals, h: History, stages: pd.DataFrame, created_in: np.ndarray) -> pd.DataFrame:
    """Stage-to-stage conversion of the deals created in the window, with days per stage."""
    furthest = reach(x, h, stages)
    days = stage_days(x, h, created_in)
    pipe_code = {str(p): i for i, p in enumerate(x.pipelines)}
    rows = []
    for pipeline, group in stages[stages[C.OUTCOME] == "open"].groupby(C.PIPELINE, sort=False):
        group = group.sort_values(C.STAGE_ORDER)
        p = pipe_code.get(str(pipeline))
        mine = furthest[created_in & (x.pipeline == p)] if p is not None else np.zeros(0, dtype=np.int64)
        n = len(group)
        at_least = np.cumsum(np.bincount(np.minimum(mine, n + 1), minlength=n + 2)[::-1])[::-1]
        names = group[C.STAGE].astype("str").tolist()
        for i, (stage, k) in enumerate(zip(names, group[C.STAGE_ORDER].tolist())):
            reached, moved = int(at_least[i + 1]), int(at_least[i + 2])
            med, left = days.get(p * x.width + int(k) if p is not None else -2, (np.nan, 0))
            rows.append({C.PIPELINE: pipeline, C.STAGE: stage, C.STAGE_ORDER: int(k),
                         "next_stage": names[i + 1] if i + 1 < n else "", "reached": reached, "moved_on": moved,
                         "conversion": moved / reached if reached else np.nan, "median_days": med, "left": left})
    return pd.DataFrame(rows, columns=list(CONVERSION_COLUMNS)) if rows else empty(CONVERSION_COLUMNS)


def stalled(d: pd.DataFrame, x: Deals, h: History | None, as_of: int, usual: dict[tuple[str, str], float],
            factor: float) -> tuple[pd.DataFrame, str]:
    """Open deals in their stage longer than ``factor`` x the stage's usual time."""
    is_open = x.key >= 0
    if not is_open.any():
        return empty(STALLED_COLUMNS), ""
    since = np.where(x.modified != NAT, x.modified, x.created)
    from_what = "modified" if (x.modified[is_open] != NAT).any() else "created"
    if h is not None and len(h.deal):
        now = (h.key >= 0) & (h.key == x.key[h.deal])   # entries into the deal's current stage
        last = np.full(x.n, NAT, dtype=np.int64)
        np.maximum.at(last, h.deal[now], h.entered[now])
        since = np.where(last != NAT, last, since)
        from_what = "history"
    idx = np.flatnonzero(is_open & (since != NAT))
    days = np.maximum((as_of - since[idx]) / NS_PER_DAY, 0.0)
    keys, slot = np.unique(x.key[idx], return_inverse=True)
    text = x.keys.set_index("key").loc[keys]
    typical = np.empty(len(keys))
    for j, (p, s) in enumerate(zip(text[C.PIPELINE].astype(str), text[C.STAGE].astype(str))):
        typical[j] = usual.get((p, s), np.nan)
        if np.isnan(typical[j]):
            typical[j] = float(np.median(days[slot == j]))
    usual_days = np.maximum(typical[slot], 1.0)
    hit = days > factor * usual_days
    rows = idx[hit]
    cols = [C.DEAL_ID, C.DEAL_NAME, C.CUSTOMER_NAME, C.PIPELINE, C.STAGE, C.MANAGER, C.AMOUNT]
    out = d[cols].iloc[rows].reset_index(drop=True)
    out["days_in_stage"] = np.round(days[hit], 1)
    out["usual_days"] = np.round(usual_days[hit], 1)
    out["since"] = since[rows].view("datetime64[ns]")
    out = out.sort_values([C.AMOUNT, "days_in_stage"], ascending=[False, False], na_position="last", kind="stable")
    return out[list(STALLED_COLUMNS)].reset_index(drop=True), from_what


def win_rates(d: pd.DataFrame, x: Deals, seg: np.ndarray, closed_in: np.ndarray) -> pd.DataFrame:
    """Closed in the window: won, lost, win rate, won amount, average won deal per manager,
    source and segment."""
    closed = closed_in & ((x.outcome == 1) | (x.outcome == 2))
    if not closed.any():
        return empty(WIN_COLUMNS)
    won = (x.outcome == 1) & closed
    lost = (x.outcome == 2) & closed
    frames = []
    for dim in DIMENSIONS:
        rows = np.flatnonzero(closed)  # only the closed deals' text is looked at
        if dim == C.SEGMENT:
            code, values = seg[rows], np.asarray(SEGMENTS, dtype=object)
        else:
            code, values = codes(d[dim].take(rows))
        n = len(values)
        w, lo = won[rows], lost[rows]
        frames.append(pd.DataFrame({
            "dimension": dim, "value": values, "won": group_sum(code[w], n), "lost": group_sum(code[lo], n),
            "won_amount": group_sum(code[w], n, x.amount[rows][w])}))
    out = pd.concat(frames, ignore_index=True)
    out["closed"] = out["won"] + out["lost"]
    out = out[out["closed"] > 0].copy()
    out["win_rate"] = out["won"] / out["closed"]
    out["avg_won"] = (out["won_amount"] / out["won"].where(out["won"] > 0)).astype("float64")
    order = {dim: i for i, dim in enumerate(DIMENSIONS)}
    out = out.sort_values(["dimension", "closed", "won_amount"],
                          key=lambda c: c.map(order) if c.name == "dimension" else c,
                          ascending=[True, False, False], kind="stable")
    return out[list(WIN_COLUMNS)].astype({"closed": "int64", "won": "int64", "lost": "int64"}).reset_index(drop=True)


def lost_reasons(d: pd.DataFrame, x: Deals, lost: np.ndarray) -> pd.DataFrame:
    """Lost deals by reason, ranked by the amount lost."""
    if not lost.any():
        return empty(LOST_COLUMNS)
    rows = np.flatnonzero(lost)
    code, values = codes(d[C.LOST_REASON].take(rows))
    n = len(values)
    out = pd.DataFrame({C.LOST_REASON: values, "deals": group_sum(code, n),
                        "amount": group_sum(code, n, x.amount[rows])})
    out = out[out["deals"] > 0].copy()
    total = float(out["amount"].sum())
    out["share"] = out["amount"] / total if total else np.nan
    out = out.sort_values(["amount", "deals"], ascending=[False, False], kind="stable")
    return out[list(LOST_COLUMNS)].astype({"deals": "int64"}).reset_index(drop=True)


def monthly(x: Deals, seg: np.ndarray, created_in: np.ndarray, month_lo: int, month_hi: int,
            month: str) -> pd.DataFrame:
    """The reporting month's funnel KPIs per segment and for ``all``."""
    new = (x.created != NAT) & (x.created >= month_lo) & (x.created < month_hi)
    closed_m = (x.closed != NAT) & (x.closed >= month_lo) & (x.closed < month_hi)
    won, lost, is_open = (x.outcome == 1) & closed_m, (x.outcome == 2) & closed_m, x.outcome == 0
    n = len(SEGMENTS)

    def per(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return group_sum(seg[mask], n, None if weights is None else weights[mask])

    frame = pd.DataFrame({
        C.SEGMENT: list(SEGMENTS), "new_deals": per(new), "won": per(won), "lost": per(lost),
        "won_amount": per(won, x.amount), "cohort": per(created_in), "cohort_won": per(created_in & (x.outcome == 1)),
        "pipeline_deals": per(is_open), "pipeline_amount": per(is_open, x.amount)})
    frame = frame[frame.drop(columns=C.SEGMENT).sum(axis=1) > 0]
    total = frame.drop(columns=C.SEGMENT).sum()
    frame = pd.concat([frame, pd.DataFrame([{C.SEGMENT: "all", **total.to_dict()}])], ignore_index=True)
    closed_n = frame["won"] + frame["lost"]
    frame["win_rate"] = (frame["won"] / closed_n.where(closed_n > 0)).astype("float64")
    frame["conversion"] = (frame["cohort_won"] / frame["cohort"].where(frame["cohort"] > 0)).astype("float64")
    frame.insert(0, C.MONTH, month)
    ints = ["new_deals", "won", "lost", "pipeline_deals"]
    return frame[list(MONTHLY_COLUMNS)].astype({c: "int64" for c in ints}).reset_index(drop=True)


__all__ = ["CONVERSION_COLUMNS", "DIMENSIONS", "LOST_COLUMNS", "MONTHLY_COLUMNS", "STAGE_COLUMNS",
           "STALLED_COLUMNS", "WIN_COLUMNS", "conversion", "empty", "last_open", "lost_reasons", "monthly",
           "open_stages", "reach", "stage_days", "stalled", "win_rates"]
