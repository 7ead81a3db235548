"""The customer explorer: search and filters over the segmentation as it stands now, and a card.

The card says who the customer is, each class with the reason in plain words, the
development map it follows and its revenue month by month (bars drawn in HTML: crisp on
a projector, months as «окт 2026», money with the currency).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.errors import ConfigError
from workbench.i18n import t
from workbench.report import fmt
from workbench.report.html import esc
from workbench.workshop import units
from workbench.workshop.common import Panel, tip

EXPLORER_SHOWN = 300         # customers listed by the explorer
HISTORY_MONTHS = 24          # months on a customer's purchase history chart


def monthly_revenue(ledger: pd.DataFrame, customer_id: str, month: str, months: int = HISTORY_MONTHS) -> pd.DataFrame:
    """A customer's net revenue per calendar month, the ``months`` months up to ``month``.

    Returns columns month ('YYYY-MM') and revenue (currency; 0 for months without sales).
    """
    end = pd.Period(month, "M")
    periods = pd.period_range(end - (months - 1), end, freq="M")
    rows = ledger.loc[ledger[C.CUSTOMER_ID] == customer_id, [C.DATE, C.AMOUNT]]
    by = rows.groupby(rows[C.DATE].dt.to_period("M"))[C.AMOUNT].sum()
    by = by.reindex(periods, fill_value=0.0)
    return pd.DataFrame({"month": [str(p) for p in periods], "revenue": by.to_numpy(dtype=float)})


def render_history(hist: pd.DataFrame, lang: str, currency: str, title: str, color: str = "#1f6fb2") -> str:
    """Monthly revenue as HTML bars (``div.wb-ws-bars``): the tallest bar is labelled, months every quarter.

    hist : columns month ('YYYY-MM') and revenue (currency), from :func:`monthly_revenue`.
    """
    top = float(hist["revenue"].max()) if len(hist) else 0.0
    bars = []
    for i, (m, v) in enumerate(zip(hist["month"], hist["revenue"])):  # 24 bars, not customers
        height = 0.0 if top <= 0 else max(0.0, float(v)) / top * 100
        label = f"{fmt.month(m, lang, short=True)}: {units.money_short(float(v), lang, currency)}"
        tick = f"<span class='wb-ws-tick'>{esc(fmt.month(m, lang, short=True))}</span>" if i % 3 == 0 else ""
        bars.append(f"<div class='wb-ws-bar' title='{esc(label)}' data-month='{esc(m)}' data-revenue='{float(v):.2f}'>"
                    f"<div class='wb-ws-bar-fill' style='height:{height:.1f}%;background:{color}'></div>{tick}</div>")
    peak = units.money_short(top, lang, currency)
    return (f"<figure class='wb-ws-history'><figcaption>{esc(title)}"
            f"<span class='wb-ws-peak'>{esc(t('workshop.chart_peak', lang, value=peak))}</span></figcaption>"
            f"<div class='wb-ws-bars' role='img' aria-label='{esc(title)}'>{''.join(bars)}</div></figure>")


class ExplorerPanel(Panel):
    """Search and filters, the list of customers, and the chosen customer's card."""

    name = "explorer"

    def __init__(self, ws: Any) -> None:
        import ipywidgets as W

        from workbench.segment import ABC_CLASSES, LIFECYCLES, TIERS, XYZ_CLASSES

        super().__init__(ws)
        every = [(self.tr("filter_all"), "")]
        tiers = t("segment.tier", self.lang)
        cycles = t("segment.lifecycle", self.lang)
        self.search = W.Text(placeholder=self.tr("search_hint"), continuous_update=True,
                             layout=W.Layout(width="auto"))
        self.filter_tier = W.Dropdown(options=every + [(tiers[x], x) for x in TIERS], value="",
                                      layout=W.Layout(width="auto"))
        self.filter_cell = W.Dropdown(options=every + [(a + x, a + x) for a in ABC_CLASSES for x in XYZ_CLASSES],
                                      value="", layout=W.Layout(width="auto"))
        self.filter_lifecycle = W.Dropdown(options=every + [(cycles[x], x) for x in LIFECYCLES], value="",
                                           layout=W.Layout(width="auto"))
        labelled = []
        for key, w in (("search", self.search), ("filter_tier", self.filter_tier),
                       ("filter_cell", self.filter_cell), ("filter_lifecycle", self.filter_lifecycle)):
            box = W.VBox([W.HTML(f"<label>{tip(self.tr(key), self.tr(key + '_term') if key == 'filter_cell' else '')}"
                                 "</label>"), w])
            box.add_class("wb-ws-filter")
            labelled.append(box)
        filters = W.HBox(labelled)
        filters.add_class("wb-ws-filters")
        self.found = W.HTML()
        self.customer_list = W.Select(options=[], rows=12, layout=W.Layout(width="auto"))
        self.customer_list.add_class("wb-ws-list")
        self.card = W.HTML()
        self.card.add_class("wb-ws-card")
        for w in (self.search, self.filter_tier, self.filter_cell, self.filter_lifecycle):
            w.observe(lambda _c: self.refresh(), names="value")
        self.customer_list.observe(lambda _c: self.show_card(), names="value")
        left = W.VBox([self.found, self.customer_list])
        left.add_class("wb-ws-list-box")
        body = W.HBox([left, self.card])
        body.add_class("wb-ws-explorer-body")
        self.widget = W.VBox([self.heading(), filters, body])
        self.widget.add_class("wb-ws-explorer")
        self.widget.add_class("wb-ws-panel")
        ws.on_event(lambda _e: self.refresh())
        self.refresh()

    def filtered_customers(self) -> pd.DataFrame:
        """The customers matching the search and filters (segmentation now)."""
        df = self.ws.result.customers
        mask = pd.Series(True, index=df.index)
        text = self.search.value.strip().casefold()
        if text:
            mask &= df[C.CUSTOMER_NAME].astype("string").str.casefold().str.contains(text, regex=False).fillna(False)
        for col, w in ((C.TIER, self.filter_tier), (C.ABC_XYZ, self.filter_cell), (C.LIFECYCLE, self.filter_lifecycle)):
            if w.value:
                mask &= (df[col].astype("string") == w.value).fillna(False)
        return df[mask.to_numpy(dtype=bool)]

    def refresh(self) -> None:
        """List the customers that match, keep the chosen one if it still does."""
        df = self.filtered_customers().head(EXPLORER_SHOWN)
        tiers = t("segment.tier", self.lang)
        options = [(f"{name} — {tiers.get(tier, tier)}, {units.money_short(rev, self.lang, self.ws.currency)}", cid)
                   for cid, name, tier, rev in zip(df[C.CUSTOMER_ID], df[C.CUSTOMER_NAME], df[C.TIER], df[C.REVENUE])]
        current = self.customer_list.value
        self.found.value = f"<p class='wb-ws-found'>{esc(self.tr('found', n=fmt.number(len(self.filtered_customers()), self.lang)))}</p>"
        self.customer_list.options = options
        if current in {cid for _, cid in options}:
            self.customer_list.value = current
        elif options:  # the room sees a card at once: the largest customer that matches
            self.customer_list.value = options[0][1]
        self.show_card()

    def show_card(self) -> None:
        cid = self.customer_list.value
        self.card.value = self.render_card(cid) if cid else f"<p class='wb-ws-hint'>{esc(self.tr('choose_customer'))}</p>"

    def customer_map(self, customer_id: str) -> str:
        """The name of the development map a customer follows (group or individual), in plain words."""
        try:
            maps = self.ws.draft_maps(self.ws.result)
        except ConfigError:
            try:
                maps = self.ws.draft_maps(self.ws.result, edits=[])
            except ConfigError:  # the templates themselves are broken: the maps panel says why
                return self.tr("map_unknown")
        for m in maps.maps:
            if customer_id in m["members"]:
                return self.tr("map_individual" if m["kind"] == "individual" else "map_group", name=m["name"])
        return self.tr("map_none")

    def render_card(self, customer_id: str) -> str:
        """One customer's card: figures, classes with the reasons, the map, the purchase history."""
        from workbench.report.charts import PALETTE

        df = self.ws.result.customers
        rows = df[df[C.CUSTOMER_ID] == customer_id]
        if rows.empty:
            return f"<p class='wb-ws-hint'>{esc(self.tr('choose_customer'))}</p>"
        r = rows.iloc[0]
        lang, cur = self.lang, self.ws.currency

        def given(key: str) -> Any:
            v = r.get(key)
            return None if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "" else v

        facts = [("card_inn", given(C.INN)), ("card_manager", given(C.MANAGER)), ("card_industry", given(C.INDUSTRY)),
                 ("card_revenue", fmt.money(float(r[C.REVENUE]), lang, cur)),
                 ("card_orders", fmt.number(float(r[C.ORDERS]), lang) if given(C.ORDERS) is not None else None)]
        facts_html = "".join(f"<tr><th>{esc(self.tr(k))}</th><td>{esc(v)}</td></tr>" for k, v in facts if v is not None)
        classes_html = "".join(f"<tr><th>{tip(label, term)}</th><td><b>{esc(value)}</b></td><td>{esc(why)}</td></tr>"
                               for label, term, value, why in self._classes(r))
        hist = monthly_revenue(self.ws.ledger, customer_id, self.ws.month)
        chart = render_history(hist, lang, cur, self.tr("chart_history"),
                               PALETTE.get(str(r[C.TIER]), PALETTE["A"]))
        return (f"<div class='wb-ws-card-body'><h3>{esc(r[C.CUSTOMER_NAME])}</h3>"
                f"<table class='wb-ws-facts'>{facts_html}</table>"
                f"<table class='wb-ws-classes'>{classes_html}</table>"
                f"<p class='wb-ws-card-map'><b>{esc(self.tr('card_map'))}:</b> {esc(self.customer_map(customer_id))}</p>"
                f"{chart}</div>")

    def _classes(self, r: pd.Series) -> list[tuple[str, str, str, str]]:
        """(label, expert term, value, reason) for each class of a customer, in plain words."""
        lang = self.lang
        label = self.tr("class")
        num = (lambda v: "—" if v is None or pd.isna(v) else fmt.number(float(v), lang))  # noqa: E731
        xyz = t("workshop.xyz_name", lang)
        cv, periods = r.get(C.XYZ_CV), r.get("xyz_periods")
        regular = r.get("xyz_regularity")
        n = 0 if periods is None or pd.isna(periods) else int(periods)
        if r[C.XYZ] == "N" or cv is None or pd.isna(cv):
            xyz_reason = self.tr("reason_xyz_none", n=n)
        elif self.ws.seg_settings["xyz"].get("method", "regularity") == "cv" or regular is None or pd.isna(regular):
            xyz_reason = self.tr("reason_xyz", cv=fmt.pct(float(cv), lang, 0), n=n)
        else:
            xyz_reason = self.tr("reason_xyz_regular", share=fmt.pct(float(regular), lang, 0), n=n)
        gap = r.get("median_gap_days")
        life_reason = (self.tr("reason_lifecycle", days=num(r[C.RECENCY_DAYS]), gap=num(gap))
                       if gap is not None and not pd.isna(gap) else
                       self.tr("reason_lifecycle_nogap", days=num(r[C.RECENCY_DAYS])))
        grade = str(r.get(C.KA_GRADE) or "")
        out = [
            (label["tier"]["label"], label["tier"]["term"], t("segment.tier", lang).get(r[C.TIER], r[C.TIER]),
             str(r[C.TIER_REASON])),
            (label["abc"]["label"], label["abc"]["term"], t("workshop.abc_name", lang).get(r[C.ABC], r[C.ABC]),
             self.tr("reason_abc", share=fmt.pct(float(r[C.REVENUE_SHARE]), lang))),
            (label["xyz"]["label"], label["xyz"]["term"], xyz.get(r[C.XYZ], r[C.XYZ]), xyz_reason),
            (label["lifecycle"]["label"], label["lifecycle"]["term"],
             t("segment.lifecycle", lang).get(r[C.LIFECYCLE], r[C.LIFECYCLE]), life_reason),
            (label["rfm"]["label"], label["rfm"]["term"],
             t("segment.rfm_segment", lang).get(r[C.RFM_SEGMENT], r[C.RFM_SEGMENT]),
             self.tr("reason_rfm", r=int(r[C.RFM_R]), f=int(r[C.RFM_F]), m=int(r[C.RFM_M]))),
        ]
        if grade or C.KEY_ACCOUNT in r:
            value = t("segment.ka_grade", lang).get(grade, "") if grade else ""
            key = bool(r.get(C.KEY_ACCOUNT, False))
            out.append((label["ka"]["label"], label["ka"]["term"], value or fmt.yes_no(key, lang),
                        self.tr("ka_yes") if key else ""))
        return out


PANEL = ExplorerPanel
