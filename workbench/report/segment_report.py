"""The segmentation section of the report: HTML, workbook sheets and findings.

Render only: functions return strings or add sheets to a ``workbench.report.xlsx.Book``;
writing files is done by ``workbench.io``. All words come from the ``segment`` catalogue;
client text is escaped by ``workbench.report.html``.

One set of numbers: every count this section shows is read from ``res.counts`` (computed
once by :mod:`workbench.segment.counts`); counts in sentences are tagged
``<span data-count="key">`` and tables holding counts sit in ``<div data-counts="name">``,
so that a test can reconcile each of them with segments.csv.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.i18n import t
from workbench.report import fmt
from workbench.report import html as H
from workbench.report.segment_charts import (
    abc_xyz_chart,
    bridge_chart,
    money_short,
    pareto_chart,
    rfm_chart,
    tiers_chart,
    top_customers_chart,
)
from workbench.report.segment_findings import segment_findings
from workbench.segment import (
    ABC_CLASSES,
    BREADTH_BANDS,
    BRIDGE_GROUPS,
    KA_GRADES,
    MIX_VARIANTS,
    TIERS,
    XYZ_CLASSES,
    SegmentationResult,
    count_of,
)

LIST_TOP = 8      # rows shown per action list in the report (the workbook holds each in full)
# The columns an action list shows in the report: who, whose, how much, what to do with it.
LIST_COLUMNS = {
    "key_accounts": ["customer_name", "manager", "revenue", "revenue_share", "profit", "tier", "map"],
    "sleeping_to_wake": ["customer_name", "manager", "wake_value", "wake_chance", "last_purchase", "days_to_lost"],
    "strategic_to_grow": ["customer_name", "manager", "revenue", "trend", "headroom", "map"],
}


def _tr(key: str, lang: str) -> dict[str, str]:
    return dict(t(f"segment.{key}", lang))


def _headers(lang: str) -> dict[str, str]:
    return _tr("col", lang)


def _translate_codes(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Codes shown to people (tier, lifecycle, ...) replaced by their names in ``lang``."""
    out = df.copy()
    names = {"tier": "tier_one", "lifecycle": "lifecycle", "rfm_segment": "rfm_segment", "map": "map_kind",
             "ka_grade": "ka_grade", "bridge": "bridge_group", "state_source": "state_source"}
    for col, key in names.items():
        if col in out.columns:
            out[col] = out[col].map(_tr(key, lang)).fillna(out[col])
    if "bridge" in out.columns:  # no purchase in either window: in no group of the bridge, an empty cell
        out["bridge"] = out["bridge"].replace("none", "")
    for col in ("key_account", "map_candidate", "near_lost", "state_customer", "in_mix", "new_one_off"):
        if col in out.columns:
            out[col] = out[col].map({True: t("segment.flag_yes", lang), False: t("segment.flag_no", lang)})
    return out


def sentence(res: SegmentationResult, key: str, lang: str, counts: dict[str, str] | None = None,
             **plain: Any) -> str:
    """A catalogue sentence as HTML: ``plain`` values escaped, ``counts`` (placeholder -> key in
    ``res.counts``) written as ``<span class="wb-count" data-count="key">n</span>``."""
    counts = counts or {}
    marks = {name: f"\x00{i}\x00" for i, name in enumerate(counts)}
    text = H.esc(t(f"segment.{key}", lang, **plain, **marks))
    for name, mark in marks.items():
        ckey = counts[name]
        text = text.replace(mark, f'<span class="wb-count" data-count="{H.esc(ckey)}">'
                                  f'{H.esc(fmt.number(count_of(res.counts, ckey), lang))}</span>')
    return text


def _p(res: SegmentationResult, key: str, lang: str, counts: dict[str, str] | None = None, **plain: Any) -> str:
    return f"<p>{sentence(res, key, lang, counts, **plain)}</p>"


def _counts_table(name: str, html: str) -> str:
    """A table whose count cells come from ``res.counts``, marked for reconciliation."""
    return f'<div data-counts="{H.esc(name)}">{html}</div>'


def _num(lang: str) -> Any:
    return lambda v: fmt.number(v, lang)


# --------------------------------------------------------------------------- tables behind the HTML
def bridge_tables(res: SegmentationResult, lang: str) -> dict[str, pd.DataFrame]:
    """The bridge's tables as shown: groups (group, customers, change, definition), by_tier
    (row names translated, a total row), top (codes translated). Counts from ``res.counts``."""
    groups = res.bridge["groups"]
    shown = [g for g in (*BRIDGE_GROUPS, "unchanged") if count_of(res.counts, f"bridge.{g}")]
    g = groups.set_index("group").loc[shown].reset_index()
    defs = {k: str(v).format(lost_days=res.thresholds["lifecycle.lost_days"])
            for k, v in t("segment.bridge_defs_short", lang).items()}
    g = pd.DataFrame({"group": g["group"].map(_tr("bridge_group", lang)),
                      "customers": [count_of(res.counts, f"bridge.{x}") for x in g["group"]],
                      "change": g["change"].to_numpy(), "definition": g["group"].map(defs)})
    by_tier = res.bridge["by_tier"].copy()
    total = by_tier.drop(columns=["row"]).sum().to_frame().T.assign(row="total")
    by_tier = pd.concat([by_tier, total], ignore_index=True).astype({"customers": "int64"})
    by_tier["row"] = by_tier["row"].map(_tr("bridge_row", lang))
    keep = ["row", "customers", "prev"] + [x for x in BRIDGE_GROUPS
                                           if (res.bridge["by_tier"][x] != 0).any()] + ["now"]
    top = _translate_codes(res.bridge["top"].drop(columns=["customer_id"]), lang)
    return {"groups": g, "by_tier": by_tier[keep], "top": top}


def tier_table(res: SegmentationResult, lang: str) -> pd.DataFrame:
    """The tier mix as shown: counts from ``res.counts``; norms, statuses translated."""
    mix = res.tier_mix
    return pd.DataFrame({
        "tier_name": mix["tier"].map(_tr("tier", lang)),
        "customers": [count_of(res.counts, f"mix.{k}") for k in TIERS],
        "share": mix["share"].to_numpy(),
        "healthy": [f"{fmt.pct(lo, lang, 0)} – {fmt.pct(hi, lang, 0)}"
                    for lo, hi in zip(mix["healthy_low"], mix["healthy_high"])],
        "status_name": mix["status"].map(_tr("status", lang)),
        "new": [count_of(res.counts, f"mix_new.{k}") for k in TIERS],
        "sleeping": [count_of(res.counts, f"mix_sleeping.{k}") for k in TIERS],
        "outside": [count_of(res.counts, f"outside.{k}") for k in TIERS],
        "base": [count_of(res.counts, f"tier.{k}") for k in TIERS],
    })


def grade_table(res: SegmentationResult, lang: str) -> pd.DataFrame:
    """Gold / silver / bronze: customers (from ``res.counts``), share of the grading value, revenue."""
    c = res.customers
    return pd.DataFrame({
        "grade": [_tr("ka_grades", lang)[g] for g in KA_GRADES],
        "customers": [count_of(res.counts, f"grade.{g}") for g in KA_GRADES],
        "value_share": [float(c.loc[(c["ka_grade"] == g) & (c["ka_value_share"] > 0), "ka_value_share"].sum())
                        for g in KA_GRADES],
        "revenue": [float(c.loc[c["ka_grade"] == g, "revenue"].sum()) for g in KA_GRADES],
    })


# --------------------------------------------------------------------------- HTML
def render_segment_html(res: SegmentationResult, lang: str = "ru", currency: str = "RUB") -> str:
    """The segmentation section (anchor ``segmentation``) with its subsections.

    Subsections, in order: bridge (the revenue bridge opens the section), tiers, pareto,
    abc-xyz, key-accounts, concentration, customer-types, rfm, action-lists, thresholds.
    """
    parts = [_intro(res, lang, currency), _bridge(res, lang, currency), _tiers(res, lang), _pareto(res, lang),
             _abc_xyz(res, lang, currency), _key_accounts(res, lang, currency), _concentration(res, lang, currency),
             _types(res, lang), _rfm(res, lang), _lists(res, lang, currency), _thresholds(res, lang)]
    return H.section("segmentation", t("segment.title", lang), "".join(parts))


def _intro(res: SegmentationResult, lang: str, currency: str) -> str:
    th = res.thresholds
    out = _p(res, "intro", lang, {"customers": "customers", "in_mix": "in_mix", "not_in_mix": "not_in_mix"},
             month=fmt.month(res.month, lang), start=fmt.day(res.window[0], lang), end=fmt.day(res.window[1], lang),
             months=th["window_months"], revenue=fmt.money(res.totals["revenue"], lang, currency))
    if res.counts.get("customers_file") is not None:
        out += _p(res, "intro_file", lang, {"file": "customers_file", "no_sales": "customers_file_no_sales"})
    return out


def _bridge(res: SegmentationResult, lang: str, currency: str) -> str:
    b = res.bridge
    money = lambda v: fmt.money(v, lang, currency)
    short = lambda v, signed=True: money_short(v, lang, currency, signed)
    change = dict(zip(b["groups"]["group"], b["groups"]["change"]))
    start, end = res.totals["window_prev"]
    intro = _p(res, "bridge_intro", lang, months=res.thresholds["window_months"],
               start=fmt.day(res.window[0], lang), end=fmt.day(res.window[1], lang), now=short(b["now"], False),
               prev=short(b["prev"], False), pstart=fmt.day(start, lang), pend=fmt.day(end, lang),
               change=short(b["change"]), change_pct=fmt.pct(b["change_share"], lang))
    split = _p(res, "bridge_split", lang, **{g: short(change[g]) for g in BRIDGE_GROUPS if g != "other"})
    tables = bridge_tables(res, lang)
    hd = _headers(lang)
    groups = _counts_table("bridge_groups", H.table(
        tables["groups"], headers={**hd, "group": hd["group"]}, numeric=("customers", "change"),
        formats={"customers": _num(lang), "change": money}))
    bh = _tr("bridge_col", lang)
    by_tier = H.table(tables["by_tier"], headers=bh, numeric=[c for c in tables["by_tier"].columns if c != "row"],
                      formats={c: (_num(lang) if c == "customers" else money) for c in tables["by_tier"].columns
                               if c != "row"})
    top = H.table(tables["top"], headers=hd, numeric=("revenue_prev", "revenue", "change", "change_share"),
                  formats={"revenue_prev": money, "revenue": money, "change": money,
                           "change_share": lambda v: fmt.pct(v, lang)})
    return H.section("bridge", t("segment.sec_bridge", lang), (
        bridge_chart(res, lang, currency) + intro + split + groups
        + _p(res, "bridge_defs", lang, new_months=res.thresholds["lifecycle.new_months"],
             lost_days=res.thresholds["lifecycle.lost_days"])
        + H.appendix(f"<h4>{H.esc(t('segment.sec_bridge', lang))}</h4>" + _p(res, "bridge_tier_note", lang)
                     + by_tier + _p(res, "bridge_top_note", lang) + top)), level=3)


def _tiers(res: SegmentationResult, lang: str) -> str:
    mix = res.tier_mix
    table = tier_table(res, lang)
    hd = _headers(lang)
    callouts = ""
    names = _tr("tier_one", lang)
    status_names = _tr("status", lang)
    for _, row in mix.iterrows():  # four tiers
        text = row["explanation"]
        if row["tier"] == "typical" and row["status"] == "below" \
                and (mix.loc[mix["tier"] == "strategic", "status"] == "above").any():
            text = t("segment.mix_typical_below_strategic", lang, share=fmt.pct(row["share"], lang),
                     low=fmt.pct(row["healthy_low"], lang, 0), high=fmt.pct(row["healthy_high"], lang, 0))
        kind = "ok" if row["status"] == "ok" else ("warn" if row["robust"] else "info")
        callouts += H.callout(text, kind)
        if not row["robust"]:
            variants = "; ".join(t(f"segment.mix_variant.{v}", lang, share=fmt.pct(row[f"share_{v}"], lang))
                                 for v in MIX_VARIANTS if row[f"status_{v}"] != row["status"])
            callouts += H.callout(t("segment.tiers_robust_no", lang, status=status_names[row["status"]],
                                    tier=names[row["tier"]], variants=variants), "info")
    cells = ", ".join(res.thresholds["tiers.prospect_cells"])
    body = (tiers_chart(res, lang)
            + _p(res, "tiers_population", lang, {"in_mix": "in_mix", "outside": "not_in_mix", "lost": "outside_lost",
                                                 "new_one_off": "mix_new_one_off"})
            + H.appendix(f"<h4>{H.esc(t('segment.sec_tiers', lang))}</h4>" + _counts_table("tiers", H.table(
                table, headers={"tier_name": hd["tier"], "status_name": hd["status"], **hd},
                numeric=("customers", "share", "new", "sleeping", "outside", "base"),
                formats={"share": lambda v: fmt.pct(v, lang), "customers": _num(lang), "new": _num(lang),
                         "sleeping": _num(lang), "outside": _num(lang), "base": _num(lang)},
                row_classes=list(mix["tier"]))))
            + callouts
            + _p(res, "tiers_codes_note", lang, {"ballast_all": "tier.ballast", "ballast_mix": "mix.ballast",
                                                 "ballast_outside": "outside.ballast"})
            + _p(res, "tiers_maps_note", lang, {"in_mix": "in_mix", "sleeping": "mix_sleeping",
                                                "individual": "mix_individual"})
            + _p(res, "tiers_note", lang, cells=cells))
    return H.section("tiers", t("segment.sec_tiers", lang), body, level=3)


def _pareto(res: SegmentationResult, lang: str) -> str:
    c = res.customers
    share_of = {k: fmt.pct(float(c.loc[c["abc"] == k, "revenue_share"].sum()), lang) for k in ABC_CLASSES}
    return H.section("pareto", t("segment.sec_pareto", lang), (
        pareto_chart(res, lang)
        + _p(res, "pareto_note", lang, a=fmt.pct(res.thresholds["abc.a"], lang, 0),
             b=fmt.pct(res.thresholds["abc.b"], lang, 0))
        + _p(res, "abc_counts", lang, {"a": "abc.A", "b": "abc.B", "c": "abc.C"},
             a_share=share_of["A"], b_share=share_of["B"], c_share=share_of["C"])), level=3)


def _abc_xyz(res: SegmentationResult, lang: str, currency: str) -> str:
    th = res.thresholds
    m = res.abc_xyz.assign(cell=res.abc_xyz["abc"] + res.abc_xyz["xyz"])
    m = m.assign(customers=[count_of(res.counts, f"cell.{x}") for x in m["cell"]])
    m = m[(m["xyz"] != "N") | (m["customers"] > 0)]
    period = str(th["xyz.period"])
    periods = int(th["xyz.periods_in_window"])
    if th["xyz.method"] == "cv":
        note = _p(res, "abc_xyz_note_cv", lang, periods=_tr("periods", lang)[period],
                  periods_gen=_tr("periods_gen", lang)[period], x=fmt.pct(th["xyz.x"], lang, 0),
                  y=fmt.pct(th["xyz.y"], lang, 0), n=th["xyz.min_periods_used"])
    else:
        note = _p(res, "abc_xyz_note_regularity", lang, periods=_tr("periods", lang)[period],
                  periods_gen=_tr("periods_gen", lang)[period], n=th["xyz.min_periods_used"],
                  x=_of(th["xyz.regular_x"], periods, lang), y=_of(th["xyz.regular_y"], periods, lang))
    warns = "".join(H.callout(t("segment.xyz_dominance", lang, abc=r.abc, xyz=r.xyz, share=fmt.pct(r.share, lang)),
                              "warn") for r in res.xyz_dominance.itertuples())
    hd = _headers(lang)
    money = lambda v: fmt.money(v, lang, currency)
    return H.section("abc-xyz", t("segment.sec_abc_xyz", lang), (
        abc_xyz_chart(res, lang) + note + warns
        + (_p(res, "xyz_lost_note", lang, {"outside": "not_in_mix"}) if count_of(res.counts, "not_in_mix") else "")
        + H.appendix(f"<h4>{H.esc(t('segment.sec_abc_xyz', lang))}</h4>" + _counts_table("abc_xyz", H.table(
            m[["cell", "customers", "revenue", "revenue_share", "action"]], headers={"cell": hd["abc_xyz"], **hd},
            numeric=("customers", "revenue", "revenue_share"),
            formats={"revenue": money, "revenue_share": lambda v: fmt.pct(v, lang), "customers": _num(lang)})))),
        level=3)


def _of(share: float, periods: int, lang: str) -> str:
    """A regularity limit in words: ``75 % (9 из 12)`` / ``75% (9 of 12)``."""
    need = int(np.ceil(float(share) * periods - 1e-9))
    word = "из" if lang == "ru" else "of"
    return f"{fmt.pct(share, lang, 0)} ({need} {word} {periods})"


def _key_accounts(res: SegmentationResult, lang: str, currency: str) -> str:
    th, tot = res.thresholds, res.totals
    basis = tot["grade_basis"]
    if basis == "profit":
        basis_text = _p(res, "ka_basis_profit", lang)
    else:
        why = "setting" if tot["grade_by"] == "revenue" else ("partial" if tot["margin_rows"] else "no_margin")
        basis_text = _p(res, "ka_basis_revenue", lang, why=t(f"segment.ka_why.{why}", lang,
                                                             rows=fmt.number(tot["margin_rows"], lang),
                                                             total=fmt.number(tot["window_rows"], lang)))
    rule = _p(res, "ka_rule", lang, gold=fmt.pct(th["key_accounts.cum_share"], lang, 0),
              silver=fmt.pct(th["key_accounts.silver_cum_share"], lang, 0), value_gen=_tr("value_gen", lang)[basis])
    hd = _headers(lang)
    grades = _counts_table("grades", H.table(
        grade_table(res, lang), headers=hd, numeric=("customers", "value_share", "revenue"),
        formats={"customers": _num(lang), "value_share": lambda v: fmt.pct(v, lang),
                 "revenue": lambda v: fmt.money(v, lang, currency)}))
    k = {"key": "kam.key_accounts", "managers": "kam.managers", "needed": "kam.kams_needed",
         "short": "kam.kam_shortfall", "managers_over": "kam.managers_over", "over": "kam.over_limit"}
    kam_max = th["key_accounts.kam_max"]
    if count_of(res.counts, "kam.kam_shortfall"):
        kam = _p(res, "kam_short", lang, k, kam_max=kam_max)
    elif count_of(res.counts, "kam.managers_over"):
        kam = _p(res, "kam_over", lang, {x: k[x] for x in ("key", "managers", "managers_over", "over")},
                 kam_max=kam_max)
    else:
        kam = _p(res, "kam_ok", lang, {x: k[x] for x in ("key", "managers")}, kam_max=kam_max)
    if count_of(res.counts, "kam.unassigned"):
        kam += _p(res, "kam_unassigned", lang, {"unassigned": "kam.unassigned"})
    kam_table = res.kam.assign(manager=res.kam["manager"].replace("", "—"))
    body = (rule + basis_text + grades + kam
            + _counts_table("kam", H.table(kam_table, headers=hd, numeric=("key_accounts", "over"),
                                           formats={"key_accounts": _num(lang), "over": _num(lang)}))
            + _p(res, "ka_maps_note", lang, {"individual": "individual_maps", "candidates": "map_candidates"}))
    if count_of(res.counts, "key_state"):
        body += _p(res, "ka_state_note", lang, {"state": "key_state"})
    return H.section("key-accounts", t("segment.sec_key_accounts", lang), body, level=3)


def _concentration(res: SegmentationResult, lang: str, currency: str) -> str:
    k, th, c = res.concentration, res.thresholds, res.customers
    pct = lambda v: fmt.pct(v, lang)
    ka = c[c["key_account"]]
    tiles = H.kpi_tiles([
        (t("segment.kpi_top1", lang), pct(k["top1_share"]), ""),
        (t("segment.kpi_top5", lang), pct(k["top5_share"]), ""),
        (t("segment.kpi_top10", lang), pct(k["top10_share"]), ""),
        (t("segment.kpi_key_accounts", lang), fmt.number(count_of(res.counts, "key_accounts"), lang),
         (f"{t('segment.kpi_ka_share', lang)}: {pct(float(ka['ka_value_share'].clip(lower=0).sum()))} "
         f"{_tr('value_name', lang)[res.totals['grade_basis']]}")),
        (t("segment.kpi_hhi", lang), fmt.number(k["hhi"], lang), ""),
    ])
    notes = H.para(t("segment.conc_text", lang, top1=pct(k["top1_share"]), top5=pct(k["top5_share"]),
                     top10=pct(k["top10_share"])))
    if k["mono_client"]:
        basis = "profit" if res.totals["grade_basis"] == "profit" else "revenue"
        top = c.sort_values(basis, ascending=False, kind="stable")["customer_name"]
        notes += H.callout(t("segment.conc_mono", lang, name=top.iloc[0] if len(top) else "", share=pct(k["mono_share"]),
                             value_gen_short=_tr("value_gen_short", lang)[basis],
                             limit=pct(th["concentration.mono_client_share"])), "risk")
    for n in (1, 5, 10):
        high = k[f"top{n}_high"]
        notes += H.callout(t(f"segment.conc_top{n}_{'high' if high else 'ok'}", lang, share=pct(k[f"top{n}_share"]),
                             limit=fmt.pct(th[f"concentration.top{n}_high"], lang, 0)), "warn" if high else "ok")
    notes += H.para(t("segment.conc_hhi_note", lang, hhi=fmt.number(k["hhi"], lang)), "wb-muted")
    return H.section("concentration", t("segment.sec_concentration", lang),
                     tiles + notes + (top_customers_chart(res, lang) if len(c) else ""), level=3)


def _types(res: SegmentationResult, lang: str) -> str:
    c, th = res.customers, res.thresholds
    pos = float(c.loc[c["revenue"] > 0, "revenue"].sum())
    if count_of(res.counts, "state"):
        share = float(c.loc[c["state_customer"] & (c["revenue"] > 0), "revenue"].sum()) / pos if pos > 0 else 0.0
        state = _p(res, "types_state", lang, {"count": "state", "vip": "state_vip", "key": "key_state"},
                   share=fmt.pct(share, lang))
    else:
        state = _p(res, "types_state_none", lang)
    days = th["customer_types.pioneer_days"]
    if count_of(res.counts, "pioneers"):
        pioneers = _p(res, "types_pioneers", lang, {"count": "pioneers"}, days=days,
                      products=", ".join(f"«{p}»" if lang == "ru" else f'"{p}"' for p in res.totals["new_products"]))
    else:
        pioneers = _p(res, "types_pioneers_none", lang, days=days)
    if res.totals["has_product"]:
        bought = c.loc[c["orders"] > 0, "products"]
        breadth = _p(res, "types_breadth", lang,
                     {f"b{i}": f"breadth.{code}" for i, (code, _, _) in enumerate(BREADTH_BANDS, start=1)},
                     median=fmt.number(float(bought.median()) if len(bought) else 0.0, lang))
    else:
        breadth = _p(res, "types_breadth_none", lang)
    return H.section("customer-types", t("segment.sec_types", lang), state + pioneers + breadth, level=3)


def _rfm(res: SegmentationResult, lang: str) -> str:
    return H.section("rfm", t("segment.sec_rfm", lang), (
        rfm_chart(res, lang) + _p(res, "rfm_note", lang)
        + _p(res, "rfm_names_note", lang, lost_days=res.thresholds["lifecycle.lost_days"])), level=3)


def _lists(res: SegmentationResult, lang: str, currency: str) -> str:
    th = res.thresholds
    money = lambda v: fmt.money(v, lang, currency)
    num = _num(lang)
    formats = {"revenue": money, "revenue_share": lambda v: fmt.pct(v, lang), "potential": money, "headroom": money,
               "trend": lambda v: fmt.pct(v, lang), "revenue_per_month_before": money, "wake_value": money,
               "profit": money, "ka_value_share": lambda v: fmt.pct(v, lang),
               "wake_chance": lambda v: fmt.pct(v, lang, 0), "last_purchase": lambda v: fmt.day(v, lang),
               "recency_days": num, "median_gap_days": num, "days_to_lost": num, "headcount": num,
               "purchase_days": num}
    numeric = tuple(formats)
    out = ""
    for key in ("key_accounts", "sleeping_to_wake", "strategic_to_grow"):
        df = res.lists[key]
        if key == "key_accounts" and res.totals["grade_basis"] != "profit":
            df = df.drop(columns=["profit"])
        title = t(f"segment.list_{key}", lang)
        note = ""
        if key == "sleeping_to_wake":
            note = _p(res, "sleeping_note", lang, {"sleeping": "sleeping", "near": "near_lost"},
                      factor=fmt.number(th["lifecycle.sleeping_factor"], lang, 1),
                      min_days=th["lifecycle.sleeping_min_days"], lost_days=th["lifecycle.lost_days"],
                      near_days=th["lifecycle.near_lost_days"])
        if len(df) == 0:
            body = H.para(t("segment.list_empty", lang))
        else:
            keep = [c for c in LIST_COLUMNS[key] if c in df.columns]  # the workbook sheet has every column
            shown = _translate_codes(df[keep].head(LIST_TOP), lang)
            rows = ["wb-risk" if flag else "" for flag in df["near_lost"].head(LIST_TOP)] \
                if key == "sleeping_to_wake" else None
            body = H.table(shown, headers=_headers(lang), formats=formats,
                           numeric=[x for x in numeric if x in shown.columns], row_classes=rows,
                           caption=H.more_caption(LIST_TOP, len(df), list_sheet(key, lang), lang))
        out += f"<h4>{H.esc(title)}</h4>" + note + body
    return H.section("action-lists", t("segment.sec_lists", lang), out, level=3)


# Settings too long (or in the client's language) for the table: they stay in engagement.yaml.
NOT_IN_TABLE = ("customer_types.state_industries", "customer_types.state_name_pattern", "customer_types.state_inns")


def _thresholds(res: SegmentationResult, lang: str) -> str:
    """The settings used, under their engagement.yaml keys: the consultant's (the client's
    report states the rules in plain words in its appendix: ``workbench.report.rules``)."""
    shown = {k: v for k, v in res.thresholds.items() if k not in NOT_IN_TABLE}
    thr = pd.DataFrame({"key": [f"segmentation.{k}" if not k.startswith("window.") else k for k in shown],
                        "value": [_show(v, lang) for v in shown.values()]})
    return H.consultant(H.section("thresholds", t("segment.sec_thresholds", lang), H.table(
        thr, headers={"key": t("segment.thr_key", lang), "value": t("segment.thr_value", lang)}), level=3))


LIST_SHEETS = ("key_accounts", "sleeping_to_wake", "strategic_to_grow")


def list_sheet(key: str, lang: str) -> str:
    """The workbook sheet holding an action list in full."""
    return str(t(f"segment.sheet_list_{key}", lang))


def _show(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return str(t("segment.flag_yes" if value else "segment.flag_no", lang))
    if isinstance(value, float):
        return fmt.number(value, lang, 2).rstrip("0").rstrip(",.") if value % 1 else fmt.number(value, lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v, lang) for v in value)
    return str(value)


# --------------------------------------------------------------------------- workbook
CUSTOMER_SHEET_COLUMNS = ["customer_id", "customer_name", "inn", "manager", "industry", "revenue", "revenue_share",
                          "cum_share", "revenue_prev", "revenue_change", "bridge", "profit", "orders", "in_mix",
                          "avg_check", "products", "abc", "xyz", "xyz_regularity", "xyz_cv", "abc_xyz", "rfm_r",
                          "rfm_f", "rfm_m", "rfm_segment", "lifecycle", "recency_days", "near_lost", "wake_value",
                          "tier", "tier_reason", "ka_grade", "ka_value_share", "key_account", "state_customer",
                          "pioneer_products", "map", "map_candidate", "potential", "headcount", "first_purchase",
                          "last_purchase"]
KINDS = {"revenue": "money", "revenue_share": "share", "cum_share": "share", "orders": "int", "avg_check": "money",
         "xyz_cv": "share", "xyz_regularity": "share", "rfm_r": "int", "rfm_f": "int", "rfm_m": "int",
         "recency_days": "int", "revenue_prev": "money", "revenue_change": "money", "profit": "money",
         "ka_value_share": "share", "wake_value": "money", "products": "int", "pioneer_products": "int",
         "potential": "money", "headcount": "number", "first_purchase": "date", "last_purchase": "date",
         "customers": "int", "share": "share", "healthy_low": "share", "healthy_high": "share", "lost": "int",
         "new": "int", "sleeping": "int", "outside": "int", "base": "int", "prev": "money", "now": "money",
         "change": "money", "change_share": "share", "returned": "money", "grown": "money", "shrunk": "money",
         "other": "money", "key_accounts": "int", "over": "int", "value_share": "share",
         "revenue_per_month_before": "money", "wake_chance": "share", "days_to_lost": "int", "median_gap_days": "int",
         "headroom": "money", "trend": "share"}


def _append_table(ws: Any, row: int, title: str, df: pd.DataFrame, headers: dict[str, str],
                  kinds: dict[str, str]) -> int:
    """Write ``title``, a header row and ``df`` below what a sheet already holds; return the next
    free row. Text is written as text (never a formula), numbers with their formats."""
    from openpyxl.styles import Font

    from workbench.report.xlsx import BORDER, HEADER_FILL, HEADER_FONT, set_value

    set_value(ws.cell(row=row, column=1), title)
    ws.cell(row=row, column=1).font = Font(bold=True)
    for j, col in enumerate(df.columns, start=1):
        cell = ws.cell(row=row + 1, column=j)
        set_value(cell, headers.get(col, col))
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
    values = {c: df[c].tolist() for c in df.columns}
    for i in range(len(df)):
        for j, col in enumerate(df.columns, start=1):
            set_value(ws.cell(row=row + 2 + i, column=j), values[col][i], kinds.get(col))
    return row + 2 + len(df)


def add_segment_sheets(book: Any, res: SegmentationResult, lang: str = "ru") -> None:
    """Add the segmentation's sheets to ``book`` (a ``workbench.report.xlsx.Book``): customers
    with their segments, the revenue bridge, the tier mix, the ABC-XYZ matrix, key accounts
    per manager. Headers translated, codes shown by name, counts from ``res.counts``."""
    hd = _headers(lang)
    cols = [c for c in CUSTOMER_SHEET_COLUMNS if c != "profit" or res.totals["grade_basis"] == "profit"
            or res.totals["margin_rows"]]
    cust = _translate_codes(res.customers[cols], lang)
    book.add_table(t("segment.sheet_customers", lang), cust,
                   title=t("segment.sheet_customers_title", lang, month=fmt.month(res.month, lang)),
                   headers=hd, kinds=KINDS, widths={"tier_reason": 60, "customer_name": 36},
                   wrap=("tier_reason",), landscape=True)
    tables = bridge_tables(res, lang)
    ws = book.add_table(t("segment.sheet_bridge", lang), tables["by_tier"], title=t("segment.sheet_bridge_title", lang),
                        headers=_tr("bridge_col", lang), kinds={**KINDS, "new": "money", "lost": "money"},
                        description=t("segment.bridge_tier_note", lang), landscape=True)
    row = ws.max_row + 2
    row = _append_table(ws, row, t("segment.sheet_bridge_groups", lang), tables["groups"], hd, KINDS) + 1
    _append_table(ws, row, t("segment.bridge_top_note", lang), tables["top"], hd, KINDS)
    table = tier_table(res, lang).assign(
        healthy_low=res.tier_mix["healthy_low"].to_numpy(), healthy_high=res.tier_mix["healthy_high"].to_numpy(),
        explanation=res.tier_mix["explanation"].to_numpy()).drop(columns=["healthy"])
    book.add_table(t("segment.sheet_tiers", lang), table, title=t("segment.sheet_tiers_title", lang),
                   headers={"tier_name": hd["tier"], "status_name": hd["status"], **hd}, kinds=KINDS,
                   widths={"explanation": 90}, wrap=("explanation",), landscape=True)
    m = res.abc_xyz.assign(cell=res.abc_xyz["abc"] + res.abc_xyz["xyz"])
    m = m.assign(customers=[count_of(res.counts, f"cell.{x}") for x in m["cell"]])
    book.add_table(t("segment.sheet_abc_xyz", lang), m[["cell", "abc", "xyz", "customers", "revenue",
                                                      "revenue_share", "action"]],
                   title=t("segment.sheet_abc_xyz_title", lang), headers={"cell": hd["abc_xyz"], **hd},
                   kinds=KINDS, widths={"action": 80}, wrap=("action",), landscape=True)
    book.add_table(t("segment.sheet_kam", lang), res.kam.assign(manager=res.kam["manager"].replace("", "—")),
                   title=t("segment.sheet_kam_title", lang), headers=hd, kinds=KINDS)
    for key in LIST_SHEETS:  # the action lists in full: the report shows their first rows
        df = res.lists[key]
        if key == "key_accounts" and res.totals["grade_basis"] != "profit":
            df = df.drop(columns=["profit"])
        book.add_table(list_sheet(key, lang), _translate_codes(df.drop(columns=["customer_id"]), lang),
                       title=t(f"segment.list_{key}", lang), headers=hd, kinds=KINDS,
                       widths={"customer_name": 36}, landscape=True)


__all__ = [
    "TIERS",
    "XYZ_CLASSES",
    "abc_xyz_chart",
    "add_segment_sheets",
    "bridge_tables",
    "grade_table",
    "pareto_chart",
    "render_segment_html",
    "rfm_chart",
    "segment_findings",
    "sentence",
    "tier_table",
    "tiers_chart",
    "top_customers_chart",
]
