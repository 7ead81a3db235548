"""Charts of the segmentation section: Pareto, ABC-XYZ, tiers, RFM, largest customers, revenue bridge.

Render only (matplotlib figures to ``<img>`` tags, through ``workbench.report.charts``); all
words come from the ``segment`` catalogue; client names are shortened and never parsed as TeX.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from workbench.i18n import t
from workbench.report import fmt
from workbench.segment import ABC_CLASSES, BRIDGE_GROUPS, XYZ_CLASSES, SegmentationResult, count_of

TOP_CHART = 10    # customers on the concentration chart


def _tr(key: str, lang: str) -> dict[str, str]:
    return dict(t(f"segment.{key}", lang))


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
    n_a = int((res.customers["abc"] == "A").sum())
    a_share = float(res.customers.loc[res.customers["abc"] == "A", "revenue_share"].sum())
    ax.set_title(ch.wrap_label(t("segment.chart_pareto", lang, n=n_a, base=fmt.pct(n_a / len(c), lang, 0),
                                 share=fmt.pct(a_share, lang, 0)), 80))
    ax.set_xlabel(t("segment.chart_pareto_x", lang))
    ax.set_ylabel(t("segment.chart_pareto_y", lang))
    ax.legend(loc="lower right", frameon=False)
    return ch.to_img(fig, t("segment.chart_pareto_alt", lang, a_customers=n_a, a_share=fmt.pct(a_share, lang)))


def abc_xyz_chart(res: SegmentationResult, lang: str) -> str:
    """Heat map of the ABC-XYZ matrix: colour = share of revenue; text = customers and share."""
    ch = _charts()
    m = res.abc_xyz.set_index(["abc", "xyz"])
    cols = [x for x in XYZ_CLASSES if x != "N" or m.xs("N", level="xyz")["customers"].sum() > 0]
    share = np.array([[m.loc[(a, x), "revenue_share"] for x in cols] for a in ABC_CLASSES], dtype=float)
    count = np.array([[m.loc[(a, x), "customers"] for x in cols] for a in ABC_CLASSES], dtype=int)
    fig, ax = ch.figure(1.6 * len(cols) + 1.5, 3.8)
    # drawn as vector cells (pcolormesh), in the report's one sequential scale
    ax.pcolormesh(np.arange(len(cols) + 1) - 0.5, np.arange(len(ABC_CLASSES) + 1) - 0.5, np.clip(share, 0, None),
                  cmap=ch.SEQUENTIAL, vmin=0, vmax=max(float(share.max()), 1e-9), edgecolors="white", linewidth=1)
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(ABC_CLASSES) - 0.5, -0.5)
    ax.grid(False)
    for i, a in enumerate(ABC_CLASSES):
        for j, x in enumerate(cols):
            dark = share[i, j] > 0.6 * max(float(share.max()), 1e-9)
            ax.text(j, i, f"{a}{x}\n{count[i, j]}\n{fmt.pct(share[i, j], lang)}", ha="center", va="center",
                    fontsize=9, color="white" if dark else ch.PALETTE["text"])
    ax.set_xticks(range(len(cols)), [t("segment.xyz_name", lang)[x] for x in cols], fontsize=8)
    ax.set_yticks(range(len(ABC_CLASSES)), [t("segment.abc_name", lang)[a] for a in ABC_CLASSES], fontsize=8)
    i, j = np.unravel_index(int(np.argmax(share)), share.shape)
    ax.set_title(ch.wrap_label(t("segment.chart_abc_xyz", lang, cell=f"{ABC_CLASSES[i]}{cols[j]}",
                                 share=fmt.pct(share[i, j], lang, 0), n=int(count[i, j])), 70))
    return ch.to_img(fig, t("segment.chart_abc_xyz_alt", lang))


def tiers_chart(res: SegmentationResult, lang: str) -> str:
    """Horizontal bars: actual share of customers per tier over the shaded healthy band."""
    ch = _charts()
    mix = res.tier_mix
    names = _tr("tier", lang)
    fig, ax = ch.figure(8.0, 3.2)
    ys = np.arange(len(mix))[::-1]
    verdict = {"ok": ch.PALETTE["ok"], "above": ch.PALETTE["warn"], "below": ch.PALETTE["warn"]}
    status_names = _tr("status", lang)
    seen: set[str] = set()
    for y, (_, row) in zip(ys, mix.iterrows()):  # four tiers
        ax.barh(y, (row["healthy_high"] - row["healthy_low"]) * 100, left=row["healthy_low"] * 100, height=0.8,
                color=ch.PALETTE["grid"], edgecolor=ch.PALETTE["muted"], linewidth=0.6,
                label=t("segment.chart_tiers_norm", lang) if y == ys[0] else None)
        status = str(row["status"])
        key = "ok" if status == "ok" else "off"
        ax.barh(y, row["share"] * 100, height=0.4, color=verdict.get(status, ch.PALETTE["warn"]),
                label=(status_names.get("ok") if key == "ok" else t("segment.chart_tiers_off", lang))
                if key not in seen else None)
        seen.add(key)
        ax.text(row["share"] * 100 + 1, y, f"{fmt.pct(row['share'], lang)} ({row['customers']})", va="center",
                fontsize=9)
    ax.set_yticks(ys, [names[x] for x in mix["tier"]])
    ax.set_xlim(0, max(100.0, float(mix["share"].max()) * 100 + 15))
    ax.set_xlabel(t("segment.chart_tiers_x", lang))
    off = mix[mix["status"] != "ok"]
    title = (t("segment.chart_tiers_ok", lang) if off.empty else t("segment.chart_tiers", lang, tiers=", ".join(
        f"{names[r['tier']].lower() if r['tier'] != 'vip' else names[r['tier']]} {fmt.pct(r['share'], lang, 0)}"
        for _, r in off.iterrows())))
    ax.set_title(ch.wrap_label(title, 80))
    ax.legend(loc="lower right", frameon=False, fontsize=8)
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
    ax.pcolormesh(np.arange(bins + 1) - 0.5, np.arange(bins + 1) - 0.5, shown, cmap=ch.SEQUENTIAL, vmin=0,
                  vmax=max(int(grid.max()), 1), edgecolors="white", linewidth=1)
    ax.set_xlim(-0.5, bins - 0.5)
    ax.set_ylim(bins - 0.5, -0.5)
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
    low_r = int(grid[:2].sum())  # recency scores 1-2: longest since the last purchase
    ax.set_title(ch.wrap_label(t("segment.chart_rfm", lang, n=low_r, share=fmt.pct(low_r / max(int(grid.sum()), 1),
                                                                                   lang, 0)), 60))
    return ch.to_img(fig, t("segment.chart_rfm_alt", lang))


def top_customers_chart(res: SegmentationResult, lang: str) -> str:
    """The largest customers' shares of revenue, names shortened."""
    ch = _charts()
    top = res.customers[res.customers["revenue"] > 0].head(TOP_CHART)
    fig, ax = ch.figure(8.0, 0.35 * max(len(top), 3) + 1.2)
    ys = np.arange(len(top))[::-1]
    tiers = _tr("tier", lang)
    for tier in dict.fromkeys(top["tier"]):  # one bar set per tier: the legend names each colour
        mask = (top["tier"] == tier).to_numpy()
        ax.barh(ys[mask], top["revenue_share"].to_numpy()[mask] * 100, color=ch.PALETTE[tier], label=tiers[tier])
    for y, v in zip(ys, top["revenue_share"]):
        ax.text(v * 100 + 0.3, y, fmt.pct(v, lang), va="center", fontsize=8)
    ax.set_yticks(ys, [ch.short_label(x, 32) for x in top["customer_name"]])
    peak = float(top["revenue_share"].max()) * 100 if len(top) else 0.0
    limit = float(res.thresholds["concentration.top1_high"]) * 100
    if limit <= peak * 1.5:  # a threshold far beyond the bars would squeeze them: then the text says it
        ax.axvline(limit, color=ch.PALETTE["risk"], linestyle="--", linewidth=0.8,
                   label=t("segment.chart_top_limit", lang, limit=fmt.pct(limit / 100, lang, 0)))
    ax.set_xlim(0, max(peak, limit if limit <= peak * 1.5 else 0) * 1.18 or 1)
    ax.set_xlabel(t("segment.chart_top_x", lang))
    k = res.concentration
    ax.set_title(ch.wrap_label(t("segment.chart_top", lang, top1=fmt.pct(k["top1_share"], lang),
                                 top5=fmt.pct(k["top5_share"], lang)), 80))
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return ch.to_img(fig, t("segment.chart_top_alt", lang))




def money_short(value: float, lang: str, currency: str, signed: bool = True) -> str:
    """A bar label: millions with one decimal (``−7,8 млн ₽`` / ``RUB −7.8m``), smaller sums
    whole; a rise gets a ``+`` when ``signed``."""
    big = abs(value) >= 1e6
    body = fmt.number(value / 1e6 if big else value, lang, 1 if big else 0)
    if signed and value > 0:
        body = "+" + body
    sign = t("fmt.currency_sign", lang).get(currency, currency)
    unit = t("segment.million", lang) if big else ""
    return f"{body}{fmt.NBSP}{unit}{fmt.NBSP if unit else ''}{sign}" if lang == "ru" else f"{sign} {body}{unit}"


def bridge_chart(res: SegmentationResult, lang: str, currency: str = "RUB") -> str:
    """The revenue bridge as a waterfall: previous window, each group's change, this window."""
    ch = _charts()
    b = res.bridge
    groups = b["groups"].set_index("group")
    names = _tr("bridge_group", lang)
    steps = [(names[g], float(groups.loc[g, "change"])) for g in BRIDGE_GROUPS
             if count_of(res.counts, f"bridge.{g}") or abs(float(groups.loc[g, "change"])) > 0]
    fig = ch.figure(8.0, 4.2)
    ch.waterfall(fig, (t("segment.chart_bridge_prev", lang), b["prev"]), steps,
                 (t("segment.chart_bridge_now", lang), b["now"]),
                 label=lambda v, total: money_short(v, lang, currency, signed=not total))
    ax = fig[1]
    ax.set_xticks(ax.get_xticks(), [ch.wrap_label(x.get_text(), 11) for x in ax.get_xticklabels()], fontsize=8)
    worst = min(steps, key=lambda s: s[1]) if steps else None
    title = t("segment.chart_bridge", lang, prev=money_short(b["prev"], lang, currency, False),
              now=money_short(b["now"], lang, currency, False), worst=worst[0] if worst else "",
              change=money_short(worst[1], lang, currency) if worst else "")
    ax.set_title(ch.wrap_label(title, 80))
    # the changes are what the bridge is about: the axis starts below the lowest running total
    # (every bar carries its value, so the totals' cut bars mislead no one)
    levels = np.cumsum([b["prev"]] + [c for _, c in steps])
    lo, hi = float(min(levels.min(), b["now"])), float(max(levels.max(), b["prev"]))
    span = max(hi - lo, abs(hi) * 0.05, 1.0)
    ax.set_ylim(max(0.0, lo - 1.2 * span), hi + 0.35 * span)
    ax.set_yticks([])
    return ch.to_img(fig[0], t("segment.chart_bridge_alt", lang, prev=fmt.money(b["prev"], lang, currency),
                                  now=fmt.money(b["now"], lang, currency)))
