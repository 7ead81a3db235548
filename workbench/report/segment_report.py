"""The segmentation section of the report: HTML, charts, workbook sheets and findings.

Render only: functions return strings, figures drawn into ``<img>`` tags, or add sheets to a
``workbench.report.xlsx.Book``; writing files is done by ``workbench.io``. All words come from
the ``segment`` catalogue; client text is escaped by ``workbench.report.html``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.i18n import t
from workbench.report import fmt
from workbench.report import html as H
from workbench.segment import ABC_CLASSES, TIERS, XYZ_CLASSES, SegmentationResult

LIST_TOP = 15     # rows shown per action list in the report
TOP_CHART = 10    # customers on the concentration chart
HHI_HIGH = 2500   # HHI above this is "highly concentrated" (the usual antitrust reading)


def _tr(key: str, lang: str) -> dict[str, str]:
    return dict(t(f"segment.{key}", lang))


def _headers(lang: str) -> dict[str, str]:
    return _tr("col", lang)


def _translate_codes(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Codes shown to people (tier, lifecycle, ...) replaced by their names in ``lang``."""
    out = df.copy()
    names = {"tier": "tier", "lifecycle": "lifecycle", "rfm_segment": "rfm_segment", "map": "map_kind",
             "ka_grade": "ka_grade"}
    for col, key in names.items():
        if col in out.columns:
            out[col] = out[col].map(_tr(key, lang)).fillna(out[col])
    for col in ("key_account", "map_candidate"):
        if col in out.columns:
            out[col] = out[col].map({True: t("segment.flag_yes", lang), False: t("segment.flag_no", lang)})
    return out


# --------------------------------------------------------------------------- charts
def _charts() -> Any:
    from workbench.report import charts

    return charts


def pareto_chart(res: SegmentationResult, lang: str) -> str:
    """Cumulative share of revenue against the share of customers, coloured by ABC class."""
    ch = _charts()
    c = res.customers[res.customers["revenue"] > 0]
    fig, ax = ch.figure(8.0, 4.2)
    if len(c) == 0:
        ax.text(0.5, 0.5, t("segment.no_data", lang), ha="center", va="center", transform=ax.transAxes)
        return ch.to_img(fig, t("segment.no_data", lang))
    x = np.r_[0.0, np.arange(1, len(c) + 1) / len(c) * 100]
    y = np.r_[0.0, c["cum_share"].to_numpy() * 100]
    abc = np.concatenate([c["abc"].to_numpy(dtype=object)[:1], c["abc"].to_numpy(dtype=object)])
    for cls in ABC_CLASSES:
        mask = abc == cls
        if mask.any():
            idx = np.flatnonzero(mask)
            lo, hi = max(idx.min() - 1, 0), idx.max()
            ax.fill_between(x[lo:hi + 1], 0, y[lo:hi + 1], color=ch.PALETTE[cls], alpha=0.55,
                            label=t("segment.abc_name", lang)[cls])
    ax.plot(x, y, color=ch.PALETTE["text"], linewidth=1.6)
    a = float(res.thresholds["abc.a"])
    b = float(res.thresholds["abc.b"])
    for level in (a, a + b):
        ax.axhline(level * 100, color=ch.PALETTE["muted"], linestyle="--", linewidth=0.8)
        ax.text(101, level * 100, fmt.pct(level, lang, 0), va="center", fontsize=8, color=ch.PALETTE["muted"])
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 105)
    ax.set_title(t("segment.chart_pareto", lang))
    ax.set_xlabel(t("segment.chart_pareto_x", lang))
    ax.set_ylabel(t("segment.chart_pareto_y", lang))
    ax.legend(loc="lower right", frameon=False)
    n_a = int((res.customers["abc"] == "A").sum())
    a_share = float(res.customers.loc[res.customers["abc"] == "A", "revenue_share"].sum())
    return ch.to_img(fig, t("segment.chart_pareto_alt", lang, a_customers=n_a, a_share=fmt.pct(a_share, lang)))


def abc_xyz_chart(res: SegmentationResult, lang: str) -> str:
    """Heat map of the ABC-XYZ matrix: colour = share of revenue; text = customers and share."""
    ch = _charts()
    m = res.abc_xyz.set_index(["abc", "xyz"])
    cols = [x for x in XYZ_CLASSES if x != "N" or m.xs("N", level="xyz")["customers"].sum() > 0]
    share = np.array([[m.loc[(a, x), "revenue_share"] for x in cols] for a in ABC_CLASSES], dtype=float)
    count = np.array([[m.loc[(a, x), "customers"] for x in cols] for a in ABC_CLASSES], dtype=int)
    fig, ax = ch.figure(1.6 * len(cols) + 1.5, 3.8)
    ax.imshow(np.clip(share, 0, None), cmap="Blues", vmin=0, vmax=max(float(share.max()), 1e-9), aspect="auto")
    ax.grid(False)
    for i, a in enumerate(ABC_CLASSES):
        for j, x in enumerate(cols):
            dark = share[i, j] > 0.6 * max(float(share.max()), 1e-9)
            ax.text(j, i, f"{a}{x}\n{count[i, j]}\n{fmt.pct(share[i, j], lang)}", ha="center", va="center",
                    fontsize=9, color="white" if dark else ch.PALETTE["text"])
    ax.set_xticks(range(len(cols)), [t("segment.xyz_name", lang)[x] for x in cols], fontsize=8)
    ax.set_yticks(range(len(ABC_CLASSES)), [t("segment.abc_name", lang)[a] for a in ABC_CLASSES], fontsize=8)
    ax.set_title(t("segment.chart_abc_xyz", lang))
    return ch.to_img(fig, t("segment.chart_abc_xyz_alt", lang))


def tiers_chart(res: SegmentationResult, lang: str) -> str:
    """Horizontal bars: actual share of customers per tier over the shaded healthy band."""
    ch = _charts()
    mix = res.tier_mix
    names = _tr("tier", lang)
    fig, ax = ch.figure(8.0, 3.2)
    ys = np.arange(len(mix))[::-1]
    for y, (_, row) in zip(ys, mix.iterrows()):  # four tiers
        ax.barh(y, (row["healthy_high"] - row["healthy_low"]) * 100, left=row["healthy_low"] * 100, height=0.8,
                color=ch.PALETTE["grid"], edgecolor=ch.PALETTE["muted"], linewidth=0.6,
                label=t("segment.chart_tiers_norm", lang) if y == ys[0] else None)
        color = ch.PALETTE[row["tier"]] if row["status"] == "ok" else ch.PALETTE["risk"]
        ax.barh(y, row["share"] * 100, height=0.4, color=color,
                label=t("segment.chart_tiers_fact", lang) if y == ys[0] else None)
        ax.text(row["share"] * 100 + 1, y, f"{fmt.pct(row['share'], lang)} ({row['customers']})", va="center",
                fontsize=9)
    ax.set_yticks(ys, [names[x] for x in mix["tier"]])
    ax.set_xlim(0, max(100.0, float(mix["share"].max()) * 100 + 15))
    ax.set_xlabel(t("segment.chart_tiers_x", lang))
    ax.set_title(t("segment.chart_tiers", lang))
    ax.legend(loc="lower right", frameon=False)
    return ch.to_img(fig, t("segment.chart_tiers_alt", lang))


def rfm_chart(res: SegmentationResult, lang: str) -> str:
    """R x F heat map with the number of customers in each cell (R = 5 at the top)."""
    ch = _charts()
    bins = int(res.thresholds["rfm.bins"])
    grid = np.zeros((bins, bins), dtype=int)
    if len(res.customers):
        counts = res.customers.groupby(["rfm_r", "rfm_f"]).size()
        r = counts.index.get_level_values(0).to_numpy() - 1
        f = counts.index.get_level_values(1).to_numpy() - 1
        grid[r, f] = counts.to_numpy()
    shown = grid[::-1]  # best recency at the top
    fig, ax = ch.figure(6.0, 4.6)
    ax.imshow(shown, cmap="Oranges", aspect="auto", vmin=0, vmax=max(int(grid.max()), 1))
    ax.grid(False)
    for i in range(bins):
        for j in range(bins):
            v = shown[i, j]
            ax.text(j, i, str(v), ha="center", va="center", fontsize=9,
                    color="white" if v > 0.6 * max(int(grid.max()), 1) else ch.PALETTE["text"])
    ax.set_xticks(range(bins), [str(k) for k in range(1, bins + 1)])
    ax.set_yticks(range(bins), [str(k) for k in range(bins, 0, -1)])
    ax.set_xlabel(t("segment.chart_rfm_x", lang))
    ax.set_ylabel(t("segment.chart_rfm_y", lang))
    ax.set_title(t("segment.chart_rfm", lang))
    return ch.to_img(fig, t("segment.chart_rfm_alt", lang))


def top_customers_chart(res: SegmentationResult, lang: str) -> str:
    """The largest customers' shares of revenue, names shortened."""
    ch = _charts()
    top = res.customers[res.customers["revenue"] > 0].head(TOP_CHART)
    fig, ax = ch.figure(8.0, 0.35 * max(len(top), 3) + 1.2)
    ys = np.arange(len(top))[::-1]
    colors = [ch.PALETTE[x] for x in top["tier"]]
    ax.barh(ys, top["revenue_share"] * 100, color=colors)
    for y, v in zip(ys, top["revenue_share"]):
        ax.text(v * 100 + 0.5, y, fmt.pct(v, lang), va="center", fontsize=8)
    ax.set_yticks(ys, [ch.short_label(x) for x in top["customer_name"]])
    limit = float(res.thresholds["concentration.mono_client_share"]) * 100
    ax.axvline(limit, color=ch.PALETTE["risk"], linestyle="--", linewidth=0.8)
    ax.set_xlabel(t("segment.chart_top_x", lang))
    ax.set_title(t("segment.chart_top", lang))
    return ch.to_img(fig, t("segment.chart_top_alt", lang))


# --------------------------------------------------------------------------- HTML
def render_segment_html(res: SegmentationResult, lang: str = "ru", currency: str = "RUB") -> str:
    """The segmentation section (anchor ``segmentation``) with its subsections.

    Subsections: pareto, abc-xyz, tiers, rfm, concentration, action-lists, thresholds.
    """
    hd = _headers(lang)
    c = res.customers
    money = lambda v: fmt.money(v, lang, currency)
    pct = lambda v: fmt.pct(v, lang)
    intro = H.para(t("segment.intro", lang, month=fmt.month(res.month, lang), start=fmt.day(res.window[0], lang),
                     end=fmt.day(res.window[1], lang), months=res.thresholds["window_months"],
                     customers=fmt.number(len(c), lang), active=fmt.number(int((c["orders"] > 0).sum()), lang),
                     revenue=money(float(c["revenue"].sum()))))

    # Pareto and ABC
    share_of = {k: float(c.loc[c["abc"] == k, "revenue_share"].sum()) for k in ABC_CLASSES}
    count_of = {k: int((c["abc"] == k).sum()) for k in ABC_CLASSES}
    pareto = H.section("pareto", t("segment.sec_pareto", lang), (
        pareto_chart(res, lang)
        + H.para(t("segment.pareto_note", lang, a=fmt.pct(res.thresholds["abc.a"], lang, 0),
                   b=fmt.pct(res.thresholds["abc.b"], lang, 0)))
        + H.para(t("segment.abc_counts", lang, a=count_of["A"], b=count_of["B"], c=count_of["C"],
                   a_share=pct(share_of["A"]), b_share=pct(share_of["B"]), c_share=pct(share_of["C"])))),
        level=3)

    # ABC-XYZ
    m = res.abc_xyz.assign(cell=res.abc_xyz["abc"] + res.abc_xyz["xyz"])
    m = m[(m["xyz"] != "N") | (m["customers"] > 0)]
    period = t(f"segment.period_{res.thresholds['xyz.period']}", lang)
    abc_xyz = H.section("abc-xyz", t("segment.sec_abc_xyz", lang), (
        abc_xyz_chart(res, lang)
        + H.para(t("segment.abc_xyz_note", lang, period=period, x=fmt.pct(res.thresholds["xyz.x"], lang, 0),
                   y=fmt.pct(res.thresholds["xyz.y"], lang, 0), n=res.thresholds["xyz.min_periods_used"]))
        + H.table(m[["cell", "customers", "revenue", "revenue_share", "action"]],
                  headers={"cell": hd["abc_xyz"], **hd}, numeric=("customers", "revenue", "revenue_share"),
                  formats={"revenue": money, "revenue_share": pct, "customers": lambda v: fmt.number(v, lang)})),
        level=3)

    # Tiers against the healthy mix
    mix = res.tier_mix.assign(
        tier_name=res.tier_mix["tier"].map(_tr("tier", lang)),
        healthy=[f"{fmt.pct(lo, lang, 0)} – {fmt.pct(hi, lang, 0)}"
                 for lo, hi in zip(res.tier_mix["healthy_low"], res.tier_mix["healthy_high"])],
        status_name=res.tier_mix["status"].map(_tr("status", lang)))
    callouts = "".join(H.callout(e, "ok" if s == "ok" else "warn")
                       for e, s in zip(mix["explanation"], mix["status"]))
    ballast_lost = int(mix.set_index("tier").loc["ballast", "lost"]) if len(mix) else 0
    tiers = H.section("tiers", t("segment.sec_tiers", lang), (
        tiers_chart(res, lang) + H.para(t("segment.tiers_note", lang))
        + H.table(mix[["tier_name", "customers", "share", "healthy", "status_name"]],
                  headers={"tier_name": hd["tier"], "status_name": hd["status"], **hd},
                  numeric=("customers", "share"), formats={"share": pct},
                  row_classes=list(mix["tier"]))
        + callouts
        + (H.para(t("segment.tiers_lost_note", lang, lost=ballast_lost,
                    days=res.thresholds["lifecycle.lost_days"])) if ballast_lost else "")),
        level=3)

    rfm = H.section("rfm", t("segment.sec_rfm", lang), rfm_chart(res, lang) + H.para(t("segment.rfm_note", lang)),
                    level=3)

    # Concentration
    k = res.concentration
    ka = c[c["key_account"]]
    tiles = H.kpi_tiles([
        (t("segment.kpi_customers", lang), fmt.number(len(c), lang), ""),
        (t("segment.kpi_revenue", lang), money(float(c["revenue"].sum())), ""),
        (t("segment.kpi_top1", lang), pct(k["top1_share"]), ""),
        (t("segment.kpi_top5", lang), pct(k["top5_share"]), ""),
        (t("segment.kpi_hhi", lang), fmt.number(k["hhi"], lang), ""),
        (t("segment.kpi_key_accounts", lang), fmt.number(len(ka), lang),
         f"{t('segment.kpi_ka_share', lang)}: {pct(float(ka['revenue_share'].sum()))}"),
    ])
    notes = ""
    if k["mono_client"]:
        top_name = c.loc[c["customer_id"] == k["top1_customer_id"], "customer_name"]
        notes += H.callout(t("segment.mono_client_risk", lang, name=top_name.iloc[0] if len(top_name) else "",
                             share=pct(k["top1_share"]),
                             limit=pct(res.thresholds["concentration.mono_client_share"])), "risk")
    notes += H.callout(t("segment.top5_note", lang, share=pct(k["top5_share"]), hhi=fmt.number(k["hhi"], lang)),
                       "warn" if k["hhi"] > HHI_HIGH else "info")
    conc = H.section("concentration", t("segment.sec_concentration", lang),
                     tiles + notes + (top_customers_chart(res, lang) if len(c) else ""), level=3)

    # Action lists
    lists_html = ""
    formats = {"revenue": money, "revenue_share": pct, "potential": money, "headroom": money, "trend": pct,
               "revenue_per_month_before": money, "last_purchase": lambda v: fmt.day(v, lang),
               "recency_days": lambda v: fmt.number(v, lang), "median_gap_days": lambda v: fmt.number(v, lang),
               "headcount": lambda v: fmt.number(v, lang), "purchase_days": lambda v: fmt.number(v, lang)}
    numeric = tuple(formats) + ("purchase_days",)
    for key in ("key_accounts", "sleeping_to_wake", "strategic_to_grow"):
        df = res.lists[key]
        title = t(f"segment.list_{key}", lang)
        if len(df) == 0:
            body = H.para(t("segment.list_empty", lang))
        else:
            shown = _translate_codes(df.drop(columns=["customer_id"]).head(LIST_TOP), lang)
            body = H.table(shown, headers=hd, formats=formats, numeric=[x for x in numeric if x in shown.columns],
                           caption=t("segment.list_caption", lang, shown=min(LIST_TOP, len(df)), total=len(df)))
        lists_html += f"<h4>{H.esc(title)}</h4>" + body
    lists = H.section("action-lists", t("segment.sec_lists", lang), lists_html, level=3)

    thr = pd.DataFrame({"key": [f"segmentation.{k}" if not k.startswith("window.") else k
                                for k in res.thresholds],
                        "value": [_show(v, lang) for v in res.thresholds.values()]})
    thresholds = H.section("thresholds", t("segment.sec_thresholds", lang), H.details(
        t("segment.sec_thresholds", lang) + f" ({len(thr)})",
        H.table(thr, headers={"key": t("segment.thr_key", lang), "value": t("segment.thr_value", lang)})), level=3)
    return H.section("segmentation", t("segment.title", lang),
                     intro + pareto + abc_xyz + tiers + rfm + conc + lists + thresholds)


def _show(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return str(t("segment.flag_yes" if value else "segment.flag_no", lang))
    if isinstance(value, float):
        return fmt.number(value, lang, 2).rstrip("0").rstrip(",.") if value % 1 else fmt.number(value, lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v, lang) for v in value)
    return str(value)


# --------------------------------------------------------------------------- workbook
CUSTOMER_SHEET_COLUMNS = ["customer_id", "customer_name", "inn", "manager", "revenue", "revenue_share",
                          "cum_share", "orders", "avg_check", "abc", "xyz", "xyz_cv", "abc_xyz", "rfm_r",
                          "rfm_f", "rfm_m", "rfm_segment", "lifecycle", "recency_days", "tier", "tier_reason",
                          "key_account", "ka_grade", "map", "map_candidate", "revenue_prev", "potential",
                          "headcount", "industry", "first_purchase", "last_purchase"]
KINDS = {"revenue": "money", "revenue_share": "share", "cum_share": "share", "orders": "int", "avg_check": "money",
         "xyz_cv": "share", "rfm_r": "int", "rfm_f": "int", "rfm_m": "int", "recency_days": "int",
         "revenue_prev": "money", "potential": "money", "headcount": "number", "first_purchase": "date",
         "last_purchase": "date", "customers": "int", "share": "share", "healthy_low": "share",
         "healthy_high": "share", "lost": "int"}


def add_segment_sheets(book: Any, res: SegmentationResult, lang: str = "ru") -> None:
    """Add three sheets to ``book`` (a ``workbench.report.xlsx.Book``): customers with their
    segments, the ABC-XYZ matrix, the tier mix against the healthy mix. Headers translated,
    codes shown by name, money and shares with number formats; client text stays text."""
    hd = _headers(lang)
    cust = _translate_codes(res.customers[CUSTOMER_SHEET_COLUMNS], lang)
    book.add_table(t("segment.sheet_customers", lang), cust,
                   title=t("segment.sheet_customers_title", lang, month=fmt.month(res.month, lang)),
                   headers=hd, kinds=KINDS, widths={"tier_reason": 60, "customer_name": 36},
                   wrap=("tier_reason",), landscape=True)
    m = res.abc_xyz.assign(cell=res.abc_xyz["abc"] + res.abc_xyz["xyz"])
    book.add_table(t("segment.sheet_abc_xyz", lang), m[["cell", "abc", "xyz", "customers", "revenue",
                                                      "revenue_share", "action"]],
                   title=t("segment.sheet_abc_xyz_title", lang), headers={"cell": hd["abc_xyz"], **hd},
                   kinds=KINDS, widths={"action": 80}, wrap=("action",), landscape=True)
    mix = res.tier_mix.assign(tier=res.tier_mix["tier"].map(_tr("tier", lang)),
                              status=res.tier_mix["status"].map(_tr("status", lang)))
    book.add_table(t("segment.sheet_tiers", lang), mix, title=t("segment.sheet_tiers_title", lang), headers=hd,
                   kinds=KINDS, widths={"explanation": 90}, wrap=("explanation",), landscape=True)


# --------------------------------------------------------------------------- findings
def segment_findings(res: SegmentationResult, lang: str = "ru", currency: str = "RUB") -> list[dict[str, Any]]:
    """Findings for the executive summary, most important first.

    Each: severity ('risk' | 'warn' | 'info' | 'ok'), headline, number (formatted text),
    action, weight (bigger = more important).
    """
    out: list[dict[str, Any]] = []
    c = res.customers
    k = res.concentration

    def add(severity: str, key: str, number: str, weight: float, **kw: Any) -> None:
        out.append({"severity": severity, "headline": t(f"segment.f_{key}_headline", lang, **kw),
                    "number": number, "action": t(f"segment.f_{key}_action", lang), "weight": float(weight)})

    if k["mono_client"]:
        add("risk", "mono", fmt.pct(k["top1_share"], lang), 100 + 100 * k["top1_share"])
    elif k["hhi"] > HHI_HIGH:
        add("warn", "top5", fmt.pct(k["top5_share"], lang), 60 + 40 * k["top5_share"])
    mix = res.tier_mix.set_index("tier") if len(res.tier_mix) else None
    mix_problem = False
    if mix is not None and len(c):
        if mix.loc["vip", "status"] == "above":
            add("warn", "vip", fmt.pct(mix.loc["vip", "share"], lang), 70 + 100 * mix.loc["vip", "share"])
            mix_problem = True
        if mix.loc["ballast", "status"] == "above":
            add("warn", "ballast", fmt.pct(mix.loc["ballast", "share"], lang), 50 + 50 * mix.loc["ballast", "share"])
            mix_problem = True
        if mix.loc["strategic", "status"] == "below":
            add("warn", "strategic", fmt.pct(mix.loc["strategic", "share"], lang), 45)
            mix_problem = True
    sleeping = res.lists["sleeping_to_wake"]
    if len(sleeping):
        monthly = float(sleeping["revenue_per_month_before"].clip(lower=0).sum())
        add("warn", "sleeping", t("segment.f_sleeping_number", lang, money=fmt.money(monthly, lang, currency)),
            40 + min(40.0, 100 * len(sleeping) / max(len(c), 1)), count=len(sleeping))
    ka = c[c["key_account"]]
    if len(ka):
        share = float(ka["revenue_share"].sum())
        add("info", "ka", fmt.pct(share, lang), 30, count=len(ka), share=fmt.pct(share, lang))
    if len(c) and not mix_problem:
        add("ok", "ok", "", 10)
    return sorted(out, key=lambda f: -f["weight"])


__all__ = [
    "TIERS",
    "abc_xyz_chart",
    "add_segment_sheets",
    "pareto_chart",
    "render_segment_html",
    "rfm_chart",
    "segment_findings",
    "tiers_chart",
    "top_customers_chart",
]
