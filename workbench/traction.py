"""Traction: the monthly check of every development map (plan against actual, migration).

Pure functions over DataFrames: nothing here reads or writes a file (the history
database is ``workbench.history``, the actuals workbook ``workbench.io.actuals``).

Rules, stated once
------------------
**Checkpoint key.** A checkpoint is identified across months by
``map_id|kpi|month|deadline|n`` where ``n`` numbers checkpoints sharing the first four
parts in plan order (CJM tasks of one stage share a KPI). It ties the actuals workbook,
this month's result and the history together.

**Window.** A computed KPI is measured from the first month of the plan (``plan_start``)
to the earlier of its deadline and the reporting month (as ``workbench.kpis`` defines);
an entered KPI from the checkpoint's own ``month``. The consultant enters the actual
*to date* (cumulative since the checkpoint started for counts, the current level for
shares).

**Pro-rating.** ``fraction = elapsed / span`` where ``span`` counts the months from the
window start to the deadline and ``elapsed`` those up to the reporting month (both ends
included; clipped to 0..1). *Cumulative* KPIs (every computed KPI but the average check,
and entered counts) are due ``target × fraction`` so far; *level* KPIs (average check,
entered shares and ratios) are due ``baseline + (target − baseline) × fraction``.

**Status** (as of the end of the reporting month), first rule that applies:

* ``planned``: the checkpoint's window has not started (an entered KPI whose month is
  after the reporting month), or it is a computed KPI with a later deadline than the
  nearest one of the same map and KPI (each map's KPI is followed toward its next
  deadline, then the one after);
* ``not_entered``: an entered KPI without a value (none this month; past the deadline
  the last value in history is carried);
* ``no_data``: a computed KPI the ledger cannot measure (e.g. margin without a margin
  column, or a KPI code unknown to ``workbench.kpis``);
* ``done``: the actual meets the full target (deadline reached or not);
* ``missed``: the deadline month has ended (deadline ≤ reporting month) and the target
  is not met;
* ``at_risk``: the actual is below ``at_risk_ratio × pro-rated target``;
* ``on_track``: otherwise.

"Meets" means ``actual ≥ target`` (``≤`` for a KPI whose direction is ``down``).

**Members.** Group maps serve the customers whose tier (or lifecycle, or key-account
flag) matches the map's segment; individual maps one customer. The members are frozen at
the plan's baseline: the latest month in history before ``plan_start`` when there is one
(a woken sleeper stays a member of the reactivation map), else this month's.

**ROMI.** A checkpoint with KPI ``romi`` entered by the consultant is shown as it is.
Where a map has a cost (``costs[map_id]``, currency for the whole plan), ROMI is computed
as ``(revenue growth − cost to date) / cost to date``: revenue growth is the members'
revenue from ``plan_start`` to the reporting month minus their revenue in the same
months a year earlier; cost to date is the cost pro-rated by the plan months elapsed.

**Migration.** Each customer of this month against the previous month in history: tier
to tier counts (customers not in the previous snapshot come from ``new``), and the
lifecycle moves ``fell_asleep`` (now sleeping, was not), ``woken`` (was sleeping or lost,
now new or active), ``lost`` (now lost, was not) and ``new`` (not in the previous
snapshot).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench import kpis

log = logging.getLogger(__name__)

TIERS = ("vip", "strategic", "typical", "ballast")
TIER_RANK = {"ballast": 0, "typical": 1, "strategic": 2, "vip": 3}
LIFECYCLES = ("new", "active", "sleeping", "lost")
STATUSES = ("done", "on_track", "at_risk", "missed", "not_entered", "no_data", "planned")
MOVES = ("tier_up", "tier_down", "fell_asleep", "woken", "lost", "new")
LEVEL_KPIS = frozenset({"avg_check", "romi"})
KEY = "key"

# Columns added to CHECKPOINT_COLUMNS in TractionResult.checkpoints
RESULT_EXTRA = ("key", "window_start", "fraction", "target_to_date", "actual", "progress",
                "status", "comment", "members")
MEMBER_COLUMNS = ("map_id", "customer_id")
MOVE_COLUMNS = ("customer_id", "customer_name", "move", "from_value", "to_value", "revenue")
ROMI_COLUMNS = ("map_id", "source", "cost", "cost_to_date", "revenue_growth", "romi")
SERIES_COLUMNS = ("month", "key", "map_id", "kpi", "kpi_name", "unit", "target", "target_to_date",
                  "actual", "status")


@dataclass(frozen=True)
class TractionResult:
    """Everything the traction step decided for one reporting month.

    Attributes
    ----------
    month : reporting month 'YYYY-MM'
    plan_start : first month of the plan 'YYYY-MM'
    previous_month : the month compared with ('' on the first month: no history)
    checkpoints : CHECKPOINT_COLUMNS plus ``RESULT_EXTRA`` (target / actual in the KPI's
        unit; fraction 0..1; progress = actual / pro-rated target)
    maps : one row per map: map_id, map_kind, segment, customer_id, title, members and one
        count column per status
    matrix : tier migration counts; index = previous tier ('new' for customers not in the
        previous month), columns = this month's tiers
    moves : one row per customer who moved (``MOVE_COLUMNS``); revenue in currency
    move_counts : move -> number of customers
    romi : ``ROMI_COLUMNS`` (ratio: 0.5 = +50 %)
    series : plan against actual over the months so far (``SERIES_COLUMNS``)
    members : the frozen map members (``MEMBER_COLUMNS``)
    baseline : tier and lifecycle counts of this month (the baseline on the first month)
    at_risk_ratio : the threshold used
    """

    month: str
    plan_start: str
    previous_month: str
    checkpoints: pd.DataFrame
    maps: pd.DataFrame
    matrix: pd.DataFrame
    moves: pd.DataFrame
    move_counts: dict[str, int]
    romi: pd.DataFrame
    series: pd.DataFrame
    members: pd.DataFrame
    baseline: dict[str, dict[str, int]]
    at_risk_ratio: float
    lang: str = "ru"
    entered_rows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def first_month(self) -> bool:
        return not self.previous_month


# --------------------------------------------------------------------------- months
def month_index(month: pd.Series | str) -> Any:
    """'YYYY-MM' -> year * 12 + month - 1 (vectorised for a Series)."""
    if isinstance(month, str):
        return int(month[:4]) * 12 + int(month[5:7]) - 1
    s = month.astype("string")
    return s.str[:4].astype(int) * 12 + s.str[5:7].astype(int) - 1


def add_months(month: str, n: int) -> str:
    """``add_months('2026-12', 1) == '2027-01'``."""
    total = month_index(month) + n
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


# --------------------------------------------------------------------------- checkpoints
def checkpoint_keys(checkpoints: pd.DataFrame) -> pd.Series:
    """The stable key of each checkpoint: ``map_id|kpi|month|deadline|n`` (see module doc)."""
    base = (checkpoints[C.MAP_ID].astype("string").fillna("") + "|"
            + checkpoints[C.KPI].astype("string").fillna("") + "|"
            + checkpoints[C.MONTH].astype("string").fillna("") + "|"
            + checkpoints[C.DEADLINE].astype("string").fillna(""))
    n = base.groupby(base, sort=False).cumcount().astype("string")
    return (base + "|" + n).rename(KEY)


def plan_start_of(checkpoints: pd.DataFrame, configured: str = "") -> str:
    """The first month of the plan: ``maps.start_month`` when set, else the earliest checkpoint month."""
    if configured:
        return configured
    months = checkpoints[C.MONTH].astype("string").dropna()
    return str(months.min()) if len(months) else ""


def is_level(kpi: pd.Series, unit: pd.Series, source: pd.Series) -> pd.Series:
    """True where a KPI is a level (pro-rated from baseline), False where cumulative."""
    entered_level = (source == "entered") & unit.isin(["share", "ratio"])
    return kpi.isin(list(LEVEL_KPIS)) | entered_level


def members_from_segments(checkpoints: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Reconstruct the members of each map of ``checkpoints`` from the segments table.

    Parameters
    ----------
    checkpoints : CHECKPOINT_COLUMNS (map_id, map_kind, segment, customer_id used)
    segments : one row per customer: customer_id, tier, lifecycle, key_account

    Returns
    -------
    DataFrame ``map_id, customer_id``: an individual map (or an individual CJM: a
    non-empty customer_id) has its customer; a group map the customers whose tier,
    lifecycle or key-account flag matches its segment code.
    """
    maps = checkpoints[[C.MAP_ID, C.SEGMENT, C.CUSTOMER_ID]].astype("string").fillna("")
    maps = maps.drop_duplicates(C.MAP_ID)
    single = maps[maps[C.CUSTOMER_ID] != ""][[C.MAP_ID, C.CUSTOMER_ID]]
    group = maps[maps[C.CUSTOMER_ID] == ""][[C.MAP_ID, C.SEGMENT]]
    seg = segments[[C.CUSTOMER_ID, C.TIER, C.LIFECYCLE]].astype("string").fillna("")
    long = pd.concat([
        seg[[C.CUSTOMER_ID]].assign(code=seg[C.TIER]),
        seg[[C.CUSTOMER_ID]].assign(code=seg[C.LIFECYCLE]),
    ], ignore_index=True)
    if C.KEY_ACCOUNT in segments.columns:
        ka = segments[segments[C.KEY_ACCOUNT].fillna(False).astype(bool)]
        long = pd.concat([long, pd.DataFrame({C.CUSTOMER_ID: ka[C.CUSTOMER_ID].astype("string"),
                                              "code": "key_account"})], ignore_index=True)
    # a template name such as "sleeping_reactivation" serves the segment before "_"
    group = group.assign(code=group[C.SEGMENT].str.replace(r"_reactivation$", "", regex=True))
    matched = group.merge(long, on="code", how="inner")[[C.MAP_ID, C.CUSTOMER_ID]]
    out = pd.concat([single, matched], ignore_index=True).drop_duplicates(ignore_index=True)
    return out.astype("string")


def members_from_results(checkpoints: pd.DataFrame, segments: pd.DataFrame, maps_result: Any = None,
                         cjm_result: Any = None) -> pd.DataFrame:
    """Map members from the saved step results, falling back to the segments.

    maps_result : ``workbench.maps.MapsResult`` (its ``maps[i]["members"]``) or None
    cjm_result : ``workbench.cjm.CJMResult`` (a group CJM serves its tier; an individual one
        its customer) or None
    Returns ``map_id, customer_id`` for every map of ``checkpoints``.
    """
    rows: list[tuple[str, str]] = []
    for m in getattr(maps_result, "maps", None) or []:
        rows.extend((str(m["id"]), str(cid)) for cid in m.get("members", []))
    from_maps = pd.DataFrame(rows, columns=list(MEMBER_COLUMNS), dtype="string")
    rest = checkpoints[~checkpoints[C.MAP_ID].astype("string").isin(from_maps["map_id"])]
    rebuilt = members_from_segments(rest, segments) if len(rest) else from_maps.iloc[0:0]
    return pd.concat([from_maps, rebuilt], ignore_index=True).drop_duplicates(ignore_index=True)


def map_titles(checkpoints: pd.DataFrame, segments: pd.DataFrame, lang: str = "ru", maps_result: Any = None,
               cjm_result: Any = None) -> dict[str, str]:
    """map_id -> display title: the map's own name where the step result has one, else
    built from the segment (group) or the customer's name (individual)."""
    from workbench.i18n import t

    tiers = t("segment.tier", lang)
    names = dict(zip(segments[C.CUSTOMER_ID].astype(str), segments[C.CUSTOMER_NAME].astype(str))) \
        if C.CUSTOMER_NAME in segments.columns else {}
    out: dict[str, str] = {}
    heads = checkpoints.drop_duplicates(C.MAP_ID)[[C.MAP_ID, C.MAP_KIND, C.SEGMENT, C.CUSTOMER_ID]]
    for map_id, kind, segment, cid in heads.astype("string").fillna("").itertuples(index=False):
        label = tiers.get(segment, segment)
        if cid:
            out[map_id] = f"{'CJM: ' if kind == 'cjm' else ''}{names.get(cid, cid)}"
        elif kind == "cjm":
            out[map_id] = str(t("traction.map_cjm", lang, segment=label))
        else:
            out[map_id] = str(t("traction.map_group", lang, segment=label))
    for m in getattr(maps_result, "maps", None) or []:
        if m.get("name"):
            out[str(m["id"])] = str(m["name"])
    for map_id, meta in (getattr(cjm_result, "meta", None) or {}).items():
        if meta.get("title"):
            out[str(map_id)] = "CJM: " + str(meta["title"])
    return out


def map_costs(maps_result: Any) -> dict[str, float]:
    """map_id -> cost of the map for the whole plan (currency), where a map defines ``cost``."""
    out: dict[str, float] = {}
    for m in getattr(maps_result, "maps", None) or []:
        cost = m.get("cost")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0:
            out[str(m["id"])] = float(cost)
    return out


def freeze_members(current: pd.DataFrame, history_members: pd.DataFrame, plan_start: str,
                   month: str) -> pd.DataFrame:
    """Members at the plan's baseline: the latest history month before ``plan_start`` (and
    before ``month``) where a map has members, else this month's members.

    Both frames have ``MEMBER_COLUMNS``; ``history_members`` also ``month``.
    """
    cur = current[list(MEMBER_COLUMNS)].astype("string")
    if history_members is None or history_members.empty or not plan_start:
        return cur.reset_index(drop=True)
    hist = history_members[(history_members["month"] < plan_start) & (history_members["month"] < month)]
    if hist.empty:
        return cur.reset_index(drop=True)
    base_month = hist.groupby("map_id")["month"].max().rename("base_month").reset_index()
    frozen = hist.merge(base_month, on="map_id")
    frozen = frozen[frozen["month"] == frozen["base_month"]][list(MEMBER_COLUMNS)].astype("string")
    keep_current = cur[~cur["map_id"].isin(frozen["map_id"])]
    return pd.concat([frozen, keep_current], ignore_index=True)


def _computed_actuals(cps: pd.DataFrame, members: pd.DataFrame, ledger: pd.DataFrame,
                      plan_start: str, month: str) -> pd.Series:
    """Actual of each computed checkpoint (index as ``cps``); NaN where not measurable.

    One ``compute_kpi`` call per distinct (map, KPI, window end); the ledger is sliced once
    per map (members) inside ``workbench.kpis``.
    """
    out = pd.Series(np.nan, index=cps.index, dtype="float64")
    if cps.empty:
        return out
    end = cps[C.DEADLINE].astype("string").where(cps[C.DEADLINE].astype("string") < month, month)
    jobs = pd.DataFrame({"map_id": cps[C.MAP_ID].astype("string"), "kpi": cps[C.KPI].astype("string"),
                         "end": end}).drop_duplicates()
    ids_by_map = members.groupby("map_id")["customer_id"].agg(list).to_dict()
    values: dict[tuple[str, str, str], float] = {}
    for job in jobs.itertuples(index=False):  # one per (map, KPI, window): not per ledger row
        code = str(job.kpi)
        if code not in kpis.KPIS or not kpis.is_computed(code) or not kpis.has_data(code, ledger):
            continue
        ids = ids_by_map.get(str(job.map_id), [])
        values[(job.map_id, job.kpi, job.end)] = kpis.compute_kpi(code, ledger, ids, plan_start, str(job.end))
    keys = list(zip(cps[C.MAP_ID].astype("string"), cps[C.KPI].astype("string"), end))
    return pd.Series([values.get(k, np.nan) for k in keys], index=cps.index, dtype="float64")


def entered_actuals(keys: pd.Series, deadlines: pd.Series, month: str, entered: pd.DataFrame | None,
                    history: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Actual and comment of entered checkpoints: this month's entry, else (past the
    deadline only) the last value recorded in history.

    entered : ``key, actual, comment`` read from actuals/<month>.xlsx (may be None)
    history : history checkpoints (``month, key, actual``) of earlier months (may be None)
    Returns two Series aligned with ``keys``: actual (float) and comment (string).
    """
    frame = pd.DataFrame({KEY: keys.astype("string"), "deadline": deadlines.astype("string")})
    if entered is not None and not entered.empty:
        e = entered[[KEY, "actual", "comment"]].astype({KEY: "string"})
        frame = frame.merge(e, on=KEY, how="left")
    else:
        frame = frame.assign(actual=np.nan, comment="")
    if history is not None and not history.empty:
        h = history[(history["month"] < month) & history["actual"].notna()]
        h = h.sort_values("month").drop_duplicates(KEY, keep="last")[[KEY, "actual"]]
        h = h.rename(columns={"actual": "carried"}).astype({KEY: "string"})
        frame = frame.merge(h, on=KEY, how="left")
        carry = frame["actual"].isna() & (frame["deadline"] < month)
        frame["actual"] = frame["actual"].where(~carry, frame["carried"])
    actual = pd.Series(frame["actual"].astype("float64").to_numpy(), index=keys.index)
    comment = pd.Series(frame["comment"].astype("string").fillna("").to_numpy(), index=keys.index)
    return actual, comment


def measure(checkpoints: pd.DataFrame, members: pd.DataFrame, ledger: pd.DataFrame, month: str,
            plan_start: str, at_risk_ratio: float = 0.9, entered: pd.DataFrame | None = None,
            history_checkpoints: pd.DataFrame | None = None) -> pd.DataFrame:
    """Target, pro-rated target, actual and status of every checkpoint (rules: module doc).

    Parameters
    ----------
    checkpoints : CHECKPOINT_COLUMNS (maps and CJM together); target and baseline in the
        KPI's unit (currency, count, share 0..1, ratio)
    members : ``map_id, customer_id`` (frozen members)
    ledger : LEDGER_COLUMNS (date datetime64, amount currency)
    month : reporting month 'YYYY-MM'
    plan_start : first month of the plan 'YYYY-MM'
    at_risk_ratio : below this share of the pro-rated target a checkpoint is at risk
    entered : ``key, actual, comment`` from this month's actuals workbook (or None)
    history_checkpoints : earlier months' ``month, key, actual`` (or None)

    Returns
    -------
    A new DataFrame: CHECKPOINT_COLUMNS + ``RESULT_EXTRA``, in plan order.
    """
    cps = checkpoints[list(C.CHECKPOINT_COLUMNS)].copy()
    for col in (C.MAP_ID, C.MAP_KIND, C.SEGMENT, C.CUSTOMER_ID, C.MONTH, C.DEADLINE, C.KPI, C.UNIT,
                C.KPI_SOURCE):
        cps[col] = cps[col].astype("string").fillna("")
    cps[C.TARGET] = pd.to_numeric(cps[C.TARGET], errors="coerce").astype("float64")
    cps[C.BASELINE] = pd.to_numeric(cps[C.BASELINE], errors="coerce").fillna(0.0).astype("float64")
    cps = cps.reset_index(drop=True)
    cps[KEY] = checkpoint_keys(cps)
    computed = cps[C.KPI_SOURCE] == "computed"
    cps["window_start"] = cps[C.MONTH].where(~computed, plan_start or "")
    cps["window_start"] = cps["window_start"].where(cps["window_start"] != "", cps[C.MONTH])
    start_i = month_index(cps["window_start"])
    dead_i = month_index(cps[C.DEADLINE].where(cps[C.DEADLINE] != "", cps[C.MONTH]))
    m_i = month_index(month)
    span = (dead_i - start_i + 1).clip(lower=1)
    elapsed = (np.minimum(m_i, dead_i) - start_i + 1).clip(lower=0)
    cps["fraction"] = (elapsed / span).clip(0.0, 1.0).astype("float64")
    level = is_level(cps[C.KPI], cps[C.UNIT], cps[C.KPI_SOURCE])
    cps["target_to_date"] = np.where(
        level, cps[C.BASELINE] + (cps[C.TARGET] - cps[C.BASELINE]) * cps["fraction"],
        cps[C.TARGET] * cps["fraction"])

    deadline = cps[C.DEADLINE].where(cps[C.DEADLINE] != "", cps[C.MONTH])
    started = cps["window_start"] <= month
    # a computed KPI is followed toward its nearest deadline only: later checkpoints of the
    # same map and KPI (cumulative from the same plan start) stay planned until then
    future = computed & (deadline > month)
    nearest = deadline.where(future).groupby([cps[C.MAP_ID], cps[C.KPI]]).transform("min")
    started = (started & ~(future & (deadline > nearest)).fillna(False)).astype(bool)
    actual = pd.Series(np.nan, index=cps.index, dtype="float64")
    comp = cps[computed & started]
    actual.loc[comp.index] = _computed_actuals(comp, members, ledger, plan_start or month, month)
    ent = cps[~computed]
    e_actual, e_comment = entered_actuals(ent[KEY], ent[C.DEADLINE], month, entered, history_checkpoints)
    actual.loc[ent.index] = e_actual
    cps["actual"] = actual.where(started)
    cps["comment"] = pd.Series("", index=cps.index, dtype="string")
    cps.loc[ent.index, "comment"] = e_comment
    ratio = cps["actual"] / cps["target_to_date"].where(cps["target_to_date"] != 0)
    cps["progress"] = ratio.astype("float64")

    down = cps[C.KPI].map(lambda c: kpis.KPIS[c].direction == "down" if c in kpis.KPIS else False)
    down = down.astype(bool)
    meets_full = np.where(down, cps["actual"] <= cps[C.TARGET], cps["actual"] >= cps[C.TARGET])
    below_risk = np.where(down, cps["actual"] > cps["target_to_date"] / max(at_risk_ratio, 1e-9),
                          cps["actual"] < at_risk_ratio * cps["target_to_date"])
    has_actual = cps["actual"].notna()
    deadline_reached = deadline <= month
    cps["status"] = np.select(
        [~started, ~computed & ~has_actual, computed & ~has_actual, meets_full & has_actual,
         deadline_reached, below_risk],
        ["planned", "not_entered", "no_data", "done", "missed", "at_risk"], default="on_track")
    cps["status"] = cps["status"].astype("string")
    n_members = members.groupby("map_id")["customer_id"].nunique()
    cps["members"] = cps[C.MAP_ID].map(n_members).fillna(0).astype("int64")
    return cps[list(C.CHECKPOINT_COLUMNS) + list(RESULT_EXTRA)]


def map_summary(measured: pd.DataFrame, titles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per map: map_id, map_kind, segment, customer_id, title, members, then the
    number of checkpoints in each status (``STATUSES``) and ``due`` (started ones)."""
    titles = titles or {}
    head = measured.drop_duplicates(C.MAP_ID)[[C.MAP_ID, C.MAP_KIND, C.SEGMENT, C.CUSTOMER_ID, "members"]]
    counts = pd.crosstab(measured[C.MAP_ID], measured["status"]).reindex(columns=list(STATUSES), fill_value=0)
    out = head.merge(counts.reset_index(), on=C.MAP_ID, how="left")
    for s in STATUSES:
        out[s] = out[s].fillna(0).astype("int64")
    out["due"] = out[[s for s in STATUSES if s != "planned"]].sum(axis=1).astype("int64")
    out.insert(4, "title", out[C.MAP_ID].map(lambda m: titles.get(m, m)).astype("string"))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- migration
def migration(previous: pd.DataFrame | None, current: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segment migration between two monthly snapshots.

    Parameters
    ----------
    previous : customer_id, tier, lifecycle of the previous month (None or empty: no history)
    current : customer_id, customer_name, tier, lifecycle, revenue (currency) of this month

    Returns
    -------
    matrix : counts; index previous tier (+ 'new'), columns this month's tiers (``TIERS``)
    moves : ``MOVE_COLUMNS``, one row per customer and move (a customer can both change tier
        and fall asleep); sorted by move then revenue desc
    """
    cur = current[[C.CUSTOMER_ID, C.TIER, C.LIFECYCLE]].astype("string").fillna("")
    names = (current[C.CUSTOMER_NAME].astype("string").fillna("") if C.CUSTOMER_NAME in current.columns
             else pd.Series("", index=current.index, dtype="string"))
    revenue = (pd.to_numeric(current[C.REVENUE], errors="coerce").fillna(0.0) if C.REVENUE in current.columns
               else pd.Series(0.0, index=current.index))
    cur = cur.assign(customer_name=names.to_numpy(), revenue=revenue.to_numpy())
    rows = ["new", *TIERS]
    if previous is None or previous.empty:
        empty = pd.DataFrame(0, index=pd.Index(rows, name="from"), columns=pd.Index(list(TIERS), name="to"))
        return empty, pd.DataFrame({c: pd.Series(dtype="string") for c in MOVE_COLUMNS}).astype({"revenue": "float64"})
    prev = previous[[C.CUSTOMER_ID, C.TIER, C.LIFECYCLE]].astype("string").fillna("")
    prev = prev.rename(columns={C.TIER: "tier_prev", C.LIFECYCLE: "lifecycle_prev"})
    both = cur.merge(prev, on=C.CUSTOMER_ID, how="left")
    is_new = both["tier_prev"].isna()
    both["tier_prev"] = both["tier_prev"].fillna("new")
    both["lifecycle_prev"] = both["lifecycle_prev"].fillna("")
    matrix = pd.crosstab(both["tier_prev"], both[C.TIER]).reindex(index=rows, columns=list(TIERS), fill_value=0)
    matrix.index.name, matrix.columns.name = "from", "to"
    matrix = matrix.astype("int64")

    rank_prev = both["tier_prev"].map(TIER_RANK)
    rank_cur = both[C.TIER].map(TIER_RANK)
    lc, lp = both[C.LIFECYCLE], both["lifecycle_prev"]
    flags = {
        "tier_up": ~is_new & (rank_cur > rank_prev),
        "tier_down": ~is_new & (rank_cur < rank_prev),
        "fell_asleep": ~is_new & (lc == "sleeping") & (lp != "sleeping"),
        "woken": ~is_new & lp.isin(["sleeping", "lost"]) & lc.isin(["new", "active"]),
        "lost": ~is_new & (lc == "lost") & (lp != "lost"),
        "new": is_new,
    }
    parts = []
    for move, mask in flags.items():
        sel = both[mask.fillna(False).astype(bool)]
        tier_move = move in ("tier_up", "tier_down")
        parts.append(pd.DataFrame({
            C.CUSTOMER_ID: sel[C.CUSTOMER_ID], C.CUSTOMER_NAME: sel[C.CUSTOMER_NAME], "move": move,
            "from_value": sel["tier_prev"] if tier_move else sel["lifecycle_prev"],
            "to_value": sel[C.TIER] if tier_move else sel[C.LIFECYCLE], "revenue": sel["revenue"]}))
    moves = pd.concat(parts, ignore_index=True)
    order = moves["move"].map({m: i for i, m in enumerate(MOVES)})
    moves = moves.assign(_o=order).sort_values(["_o", "revenue", C.CUSTOMER_ID], ascending=[True, False, True],
                                               kind="stable").drop(columns="_o").reset_index(drop=True)
    moves = moves.astype({c: "string" for c in MOVE_COLUMNS if c != "revenue"}).astype({"revenue": "float64"})
    return matrix, moves[list(MOVE_COLUMNS)]


# --------------------------------------------------------------------------- ROMI, series
def romi(measured: pd.DataFrame, members: pd.DataFrame, ledger: pd.DataFrame, month: str, plan_start: str,
         plan_months: int, costs: Mapping[str, float] | None = None) -> pd.DataFrame:
    """ROMI per map where defined (rules: module doc); ``ROMI_COLUMNS``, ratio (0.5 = +50 %)."""
    rows: list[dict[str, Any]] = []
    entered = measured[(measured[C.KPI] == "romi") & measured["actual"].notna()]
    for map_id, grp in entered.groupby(C.MAP_ID, sort=True):
        rows.append({"map_id": map_id, "source": "entered", "cost": np.nan, "cost_to_date": np.nan,
                     "revenue_growth": np.nan, "romi": float(grp["actual"].iloc[-1])})
    done = {r["map_id"] for r in rows}
    if costs and plan_start and month >= plan_start:
        elapsed = min(month_index(month) - month_index(plan_start) + 1, max(plan_months, 1))
        ids_by_map = members.groupby("map_id")["customer_id"].agg(list).to_dict()
        for map_id, cost in sorted(costs.items()):
            if map_id in done or not cost or cost <= 0:
                continue
            ids = ids_by_map.get(map_id, [])
            now = kpis.compute_kpi("revenue", ledger, ids, plan_start, month)
            before = kpis.compute_kpi("revenue", ledger, ids, add_months(plan_start, -12), add_months(month, -12))
            cost_to_date = float(cost) * elapsed / max(plan_months, 1)
            growth = now - before
            rows.append({"map_id": map_id, "source": "computed", "cost": float(cost), "cost_to_date": cost_to_date,
                         "revenue_growth": growth, "romi": (growth - cost_to_date) / cost_to_date})
    out = pd.DataFrame(rows, columns=list(ROMI_COLUMNS))
    return out.astype({"map_id": "string", "source": "string", "cost": "float64", "cost_to_date": "float64",
                       "revenue_growth": "float64", "romi": "float64"})


def series(measured: pd.DataFrame, history_checkpoints: pd.DataFrame | None, month: str) -> pd.DataFrame:
    """Plan against actual over the months so far: history rows before ``month`` plus this month."""
    cur = measured[measured["status"] != "planned"].assign(month=month)
    cur = cur[["month", KEY, C.MAP_ID, C.KPI, C.KPI_NAME, C.UNIT, C.TARGET, "target_to_date", "actual", "status"]]
    parts = [cur]
    if history_checkpoints is not None and not history_checkpoints.empty:
        h = history_checkpoints[(history_checkpoints["month"] < month)
                                & (history_checkpoints["status"] != "planned")
                                & history_checkpoints[KEY].isin(cur[KEY])]
        parts.insert(0, h.reindex(columns=list(SERIES_COLUMNS)))
    out = pd.concat([p.astype({"month": "string", KEY: "string"}) for p in parts], ignore_index=True)
    return out.sort_values(["month", KEY], kind="stable").reset_index(drop=True)[list(SERIES_COLUMNS)]


# --------------------------------------------------------------------------- all together
def traction(checkpoints: pd.DataFrame, segments: pd.DataFrame, ledger: pd.DataFrame,
             history: Mapping[str, pd.DataFrame] | None, month: str, settings: Mapping[str, Any],
             lang: str = "ru", entered: pd.DataFrame | None = None, members: pd.DataFrame | None = None,
             plan_start: str = "", plan_months: int = 12, costs: Mapping[str, float] | None = None,
             titles: Mapping[str, str] | None = None) -> TractionResult:
    """The month's traction (pure; inputs are not modified).

    Parameters
    ----------
    checkpoints : CHECKPOINT_COLUMNS of the maps and the CJM task lists of this run
    segments : this month's segments (customer_id, customer_name, tier, lifecycle, revenue
        [currency], abc, xyz, key_account, map)
    ledger : LEDGER_COLUMNS
    history : ``workbench.history.load_history`` output (rows of this month are ignored)
    month : reporting month 'YYYY-MM'
    settings : the ``traction`` section of engagement.yaml (``at_risk_ratio``)
    entered : this month's entered actuals (``key, actual, comment``) or None
    members : map members ``map_id, customer_id`` (from the maps result); None: from segments
    plan_start : first month of the plan ('' = the earliest checkpoint month)
    plan_months : length of the plan in months (pro-rates a map's cost)
    costs : map_id -> cost of the map for the whole plan, currency (enables computed ROMI)
    titles : map_id -> display title
    """
    history = history or {}
    hist_cp = _before(history.get("checkpoints"), month)
    hist_seg = _before(history.get("segments"), month)
    hist_mem = _before(history.get("members"), month)
    start = plan_start_of(checkpoints, plan_start)
    current_members = members if members is not None else members_from_segments(checkpoints, segments)
    frozen = freeze_members(current_members, hist_mem, start, month)
    ratio = float(settings.get("at_risk_ratio", 0.9))
    measured = measure(checkpoints, frozen, ledger, month, start, ratio, entered, hist_cp)
    previous_month = str(hist_seg["month"].max()) if hist_seg is not None and not hist_seg.empty else ""
    prev = hist_seg[hist_seg["month"] == previous_month] if previous_month else None
    matrix, moves = migration(prev, segments)
    counts = {m: int((moves["move"] == m).sum()) for m in MOVES}
    seg = segments.astype({C.TIER: "string", C.LIFECYCLE: "string"})
    baseline = {
        "tier": {k: int(v) for k, v in seg[C.TIER].value_counts().reindex(list(TIERS), fill_value=0).items()},
        "lifecycle": {k: int(v) for k, v in
                      seg[C.LIFECYCLE].value_counts().reindex(list(LIFECYCLES), fill_value=0).items()},
    }
    log.info("traction month=%s checkpoints=%d maps=%d members=%d moves=%d", month, len(measured),
             measured[C.MAP_ID].nunique(), len(frozen), len(moves))
    return TractionResult(
        month=month, plan_start=start, previous_month=previous_month, checkpoints=measured,
        maps=map_summary(measured, titles), matrix=matrix, moves=moves, move_counts=counts,
        romi=romi(measured, frozen, ledger, month, start, plan_months, costs),
        series=series(measured, hist_cp, month), members=frozen, baseline=baseline, at_risk_ratio=ratio,
        lang=lang, entered_rows=int(entered["actual"].notna().sum()) if entered is not None and len(entered) else 0)


def _before(frame: pd.DataFrame | None, month: str) -> pd.DataFrame | None:
    if frame is None or frame.empty:
        return None
    return frame[frame["month"].astype("string") < month]


def due_for_entry(checkpoints: pd.DataFrame, month: str, history_checkpoints: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """The entered checkpoints the consultant reports on for ``month``: started and not past
    the deadline, plus overdue ones not ``done`` at their last recorded month.

    Returns a new frame: CHECKPOINT_COLUMNS + ``key`` + ``previous`` (last value in history, or NaN).
    """
    cps = checkpoints[list(C.CHECKPOINT_COLUMNS)].reset_index(drop=True)
    cps = cps.assign(**{KEY: checkpoint_keys(cps)})
    src = cps[C.KPI_SOURCE].astype("string")
    start = cps[C.MONTH].astype("string")
    dead = cps[C.DEADLINE].astype("string").fillna("")
    dead = dead.where(dead != "", start)
    entered = (src == "entered") & (start <= month)
    prev = pd.Series(np.nan, index=cps.index, dtype="float64")
    last_status = pd.Series("", index=cps.index, dtype="string")
    if history_checkpoints is not None and not history_checkpoints.empty:
        h = history_checkpoints[history_checkpoints["month"] < month].sort_values("month")
        last = h.drop_duplicates(KEY, keep="last").set_index(KEY)
        last_val = h[h["actual"].notna()].drop_duplicates(KEY, keep="last").set_index(KEY)["actual"]
        prev = cps[KEY].map(last_val).astype("float64")
        last_status = cps[KEY].map(last["status"]).astype("string").fillna("")
    overdue_open = (dead < month) & (last_status != "done")
    keep = entered & ((dead >= month) | overdue_open)
    return cps[keep].assign(previous=prev[keep]).reset_index(drop=True)


__all__ = [
    "MOVES",
    "STATUSES",
    "TIERS",
    "TractionResult",
    "add_months",
    "checkpoint_keys",
    "due_for_entry",
    "entered_actuals",
    "freeze_members",
    "map_costs",
    "map_summary",
    "map_titles",
    "measure",
    "members_from_results",
    "members_from_segments",
    "migration",
    "month_index",
    "plan_start_of",
    "romi",
    "series",
    "traction",
]
