"""The thresholds panel: move a threshold, see the base before and after, and who moved.

Each control is a slider with a field beside it in the room's units (percent with the
engagement's decimal mark, times, days, people, orders). What the fields hold is checked
in the room's words (:func:`threshold_problems`) before anything is recomputed; while a
value cannot be used the results are greyed as stale and the message says what to fix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.i18n import t
from workbench.report import fmt
from workbench.report.html import esc
from workbench.workshop import units
from workbench.workshop.common import Panel, message_html, tip
from workbench.workshop.session import get_path, set_path

CHANGES_SHOWN = 200          # rows of the "who moved" table


@dataclass(frozen=True)
class Control:
    """A threshold the room can move: key path under ``segmentation``, unit and range in display units."""

    key: str
    group: str
    unit: str
    lo: float
    hi: float
    step: float
    decimals: int = 0
    integer: bool = False
    slider: bool = True


CONTROLS: tuple[Control, ...] = (
    Control("abc.a", "abc", "pct", 50, 95, 1),
    Control("abc.b", "abc", "pct", 0, 45, 1),
    Control("xyz.regular_x", "xyz", "pct", 0, 100, 5),   # XYZ is the regularity of purchases (issue 15)
    Control("xyz.regular_y", "xyz", "pct", 0, 100, 5),
    Control("lifecycle.sleeping_factor", "sleeping", "times", 1, 10, 0.5, 1),
    Control("lifecycle.sleeping_min_days", "sleeping", "days", 1, 365, 1, integer=True),
    Control("tiers.vip_min_share", "tiers", "pct", 0, 20, 0.5, 1),
    Control("tiers.prospect_headcount", "tiers", "people", 0, 10_000_000, 1, integer=True, slider=False),
    Control("tiers.prospect_potential_ratio", "tiers", "times", 1, 10, 0.1, 1),
    Control("tiers.prospect_trend", "tiers", "pct", -50, 100, 1),
    Control("tiers.ballast_max_orders", "tiers", "orders", 0, 12, 1, integer=True),
)
BY_KEY = {c.key: c for c in CONTROLS}


def field_text(shown: float, decimals: int, lang: str) -> str:
    """A value in display units for a field: the control's decimals, more only when the value has them."""
    d = decimals
    while d < 4 and not math.isclose(round(shown, d), shown, abs_tol=1e-9):
        d += 1
    return fmt.number(shown, lang, d)


def threshold_problems(values: dict[str, float], lang: str = "ru") -> list[tuple[tuple[str, ...], str]]:
    """What is wrong with these thresholds, in the room's words ([] when they can be used).

    values : key path under ``segmentation`` -> value in the settings' units (shares as 0..1).
    Checks each value given against its control's range, then A + B within 100 % and the
    regular limit (X) not below the one with gaps (Y). Returns (the keys at fault, message) pairs.
    """
    labels = t("workshop.control", lang)
    out: list[tuple[tuple[str, ...], str]] = []
    for c in CONTROLS:
        if c.key not in values:  # unreadable: said elsewhere
            continue
        shown = units.to_display(values[c.key], c.unit)
        if not c.lo - 1e-9 <= shown <= c.hi + 1e-9 or (c.integer and shown != int(shown)):
            out.append(((c.key,), t("workshop.out_of_range", lang, control=labels[c.key]["label"],
                                    lo=field_text(c.lo, c.decimals, lang), hi=field_text(c.hi, c.decimals, lang),
                                    unit=(fmt.NBSP + units.unit_sign(c.unit, lang)) if units.unit_sign(c.unit, lang)
                                    else "",
                                    whole=t("workshop.whole", lang) if c.integer else "")))
    a, b = values.get("abc.a", 0.0), values.get("abc.b", 0.0)
    if a + b > 1.0 + 1e-9:
        out.append((("abc.a", "abc.b"), t("workshop.abc_sum", lang, a=fmt.pct(a, lang, 0), b=fmt.pct(b, lang, 0),
                                          total=fmt.pct(a + b, lang, 0))))
    x, y = values.get("xyz.regular_x", 1.0), values.get("xyz.regular_y", 0.0)
    if x < y - 1e-9:   # X must buy at least as regularly as Y
        out.append((("xyz.regular_x", "xyz.regular_y"),
                    t("workshop.xyz_order", lang, x=fmt.pct(x, lang, 0), y=fmt.pct(y, lang, 0))))
    return out


class ThresholdsPanel(Panel):
    """Sliders and fields for the thresholds, the base before and after, and who moved."""

    name = "thresholds"

    def __init__(self, ws: Any) -> None:
        import ipywidgets as W

        super().__init__(ws)
        self._silent = False
        self.problems: list[str] = []
        self.controls: dict[str, _ControlWidgets] = {}
        names = self.tr("control")
        groups: dict[str, list[Any]] = {}
        for c in CONTROLS:
            cw = _ControlWidgets(self, c, get_path(ws.agreed_settings, c.key), names[c.key])
            self.controls[c.key] = cw
            groups.setdefault(c.group, []).append(cw.row)
        group_names = self.tr("group")
        column: list[Any] = []
        for g, rows in groups.items():
            column += [W.HTML(f"<h3 class='wb-ws-group'>{tip(group_names[g]['label'], group_names[g]['term'])}</h3>"),
                       *rows]
        reset = W.Button(description=self.tr("reset"), layout=W.Layout(width="auto"))
        reset.add_class("wb-ws-reset")
        reset.on_click(lambda _b: self.reset())
        self.message = W.HTML()
        self.message.add_class("wb-ws-message")
        self.tiers = W.HTML()
        self.cells = W.HTML()
        self.moved = W.HTML()
        self.moved.add_class("wb-ws-moved")
        self.results = W.VBox([self.tiers, self.cells])
        self.results.add_class("wb-ws-results")
        controls = W.VBox([*column, reset])
        controls.add_class("wb-ws-controls")
        right = W.VBox([self.message, self.results])
        right.add_class("wb-ws-right")
        body = W.HBox([controls, right])
        body.add_class("wb-ws-thresholds-body")
        self.widget = W.VBox([self.heading(), body, self.moved])
        self.widget.add_class("wb-ws-thresholds")
        self.widget.add_class("wb-ws-panel")
        ws.on_event(self._on_event)
        self.redraw()

    # --- the room moves something --------------------------------------------------------------
    def values(self) -> tuple[dict[str, float], list[tuple[tuple[str, ...], str]]]:
        """The fields read in settings units, and what could not be read: (keys, message in the room's words)."""
        out: dict[str, float] = {}
        problems: list[tuple[tuple[str, ...], str]] = []
        for key, cw in self.controls.items():
            try:
                out[key] = cw.value
            except units.NotANumber as exc:
                problems.append(((key,), f"{cw.label}: {exc}"))
        return out, problems

    def changed(self) -> bool:
        """Check the fields; segment again when they can be used, else grey the results. True when recomputed."""
        if self._silent:
            return False
        values, problems = self.values()
        problems += threshold_problems(values, self.lang)
        candidate = dict(self.ws.agreed_settings)
        if not problems:
            for c in CONTROLS:
                value = values[c.key]
                candidate = set_path(candidate, c.key, int(round(value)) if c.integer else value)
            reason = self.ws.check_settings({"segmentation": candidate})
            if reason:  # a rule of engagement.yaml the panel does not know in plain words
                problems = [((), reason)]
        at_fault = {k for keys, _ in problems for k in keys}
        for key, cw in self.controls.items():
            cw.mark(bad=key in at_fault)
        self.problems = [m for _, m in problems]
        if problems:
            self.ws.valid = False
            self.stale(True)
            self.message.value = message_html(self.tr("refused"), "\n".join(m for _, m in problems), error=True)
            return False
        self._silent = True
        try:
            for c in CONTROLS:
                self.controls[c.key].show(get_path(candidate, c.key), text=False)
        finally:
            self._silent = False
        self.ws.resegment(candidate)
        return True

    def message_text(self) -> str:
        """What stops the thresholds from being used, in the room's words ("" when nothing)."""
        return "\n".join(self.problems)

    def reset(self) -> None:
        """Put every control back to the agreed value (one recomputation)."""
        self._to_agreed()
        self.changed()

    def _to_agreed(self) -> None:
        self._silent = True
        try:
            for key, cw in self.controls.items():
                cw.show(get_path(self.ws.agreed_settings, key))
                cw.mark(bad=False)
        finally:
            self._silent = False

    def _on_event(self, event: str) -> None:
        if event == "reload":
            self._to_agreed()
        self.stale(False)
        self.redraw()
        n = self.ws.changes[C.CUSTOMER_ID].nunique()
        self.message.value = message_html(self.tr("recomputed", n=units.customers(n, self.lang)) if n else self.tr("recomputed_none"))

    def stale(self, on: bool) -> None:
        """Grey the results (and say so) while the fields hold values that cannot be used."""
        for w in (self.results, self.moved):
            (w.add_class if on else w.remove_class)("wb-ws-stale")

    # --- what the room sees ---------------------------------------------------------------------
    def redraw(self) -> None:
        self.tiers.value = render_tiers(self.ws)
        self.cells.value = render_cells(self.ws)
        self.moved.value = render_moved(self.ws)


class _ControlWidgets:
    """One control: plain label (expert term as tooltip), slider, field in the room's units, unit sign."""

    def __init__(self, panel: ThresholdsPanel, spec: Control, value: Any, names: dict[str, str]) -> None:
        import ipywidgets as W

        self.panel, self.spec, self.label = panel, spec, names["label"]
        shown = units.to_display(value, spec.unit)
        self.slider = W.FloatSlider(value=shown, min=min(spec.lo, shown), max=max(spec.hi, shown), step=spec.step,
                                    readout=False, continuous_update=False, layout=W.Layout(width="auto"))
        self.slider.add_class("wb-ws-slider")
        self.field = W.Text(value=field_text(shown, spec.decimals, panel.lang), continuous_update=False,
                            layout=W.Layout(width="auto"))
        self.field.add_class("wb-ws-field")
        label = W.HTML(f"<label>{tip(names['label'], names['term'])}</label>")
        label.add_class("wb-ws-label")
        sign = W.HTML(esc(units.unit_sign(spec.unit, panel.lang)))
        sign.add_class("wb-ws-unit")
        parts = [label, self.slider if spec.slider else W.HTML(''), self.field, sign]
        self.row = W.HBox(parts)
        self.row.add_class("wb-ws-control")
        self.row.add_class("wb-ws-" + spec.key.replace(".", "-").replace("_", "-"))
        self.slider.observe(self._on_slider, names="value")
        self.field.observe(self._on_field, names="value")

    @property
    def value(self) -> float:
        """The value in the settings' units (shares as 0..1); raises NotANumber on unreadable text."""
        return units.from_display(units.parse_number(self.field.value, self.panel.lang), self.spec.unit)

    @value.setter
    def value(self, value: float) -> None:
        self.field.value = field_text(units.to_display(value, self.spec.unit), self.spec.decimals, self.panel.lang)

    def show(self, value: Any, text: bool = True) -> None:
        """Put ``value`` (settings units) on the slider, and in the field unless ``text`` is False."""
        shown = units.to_display(value, self.spec.unit)
        if self.spec.slider and self.slider.min <= shown <= self.slider.max:
            self.slider.value = shown
        if text:
            self.field.value = field_text(shown, self.spec.decimals, self.panel.lang)

    def mark(self, bad: bool) -> None:
        (self.row.add_class if bad else self.row.remove_class)("wb-ws-invalid")

    def _on_field(self, _change: Any) -> None:
        """The slider follows what was typed (also while the panel refuses it), then the panel checks."""
        if self.panel._silent:
            return
        try:
            shown = units.to_display(self.value, self.spec.unit)
        except units.NotANumber:
            shown = None
        if shown is not None and self.spec.slider and self.slider.min <= shown <= self.slider.max:
            self.panel._silent = True
            try:
                self.slider.value = shown
            finally:
                self.panel._silent = False
        self.panel.changed()

    def _on_slider(self, change: Any) -> None:
        if self.panel._silent:
            return
        self.field.value = field_text(change["new"], self.spec.decimals, self.panel.lang)  # -> changed()


# --- tables (HTML; every client string escaped) -----------------------------------------------
def _names(field: str, lang: str) -> dict[str, str]:
    if field == C.TIER:
        return dict(t("segment.tier", lang))
    if field == C.LIFECYCLE:
        return dict(t("segment.lifecycle", lang))
    return dict(t(f"workshop.{field}_name", lang))


def _count_cells(before: int, after: int, lang: str) -> str:
    d = after - before
    cls = "wb-ws-up" if d > 0 else "wb-ws-down" if d < 0 else "wb-ws-same"
    return (f"<td class='wb-ws-before'>{fmt.number(before, lang)}</td>"
            f"<td class='wb-ws-after'>{fmt.number(after, lang)}</td>"
            f"<td class='wb-ws-delta {cls}'>{units.delta(d, lang) if d else ''}</td>")


def _money_change(before: float, after: float, lang: str, currency: str) -> str:
    a = esc(units.money_short(after, lang, currency))
    if math.isclose(before, after, rel_tol=1e-9, abs_tol=0.5):
        return f"<b>{a}</b>"
    return f"<span class='wb-ws-before'>{esc(units.money_short(before, lang, currency))}</span> → <b>{a}</b>"


def render_tiers(ws: Any) -> str:
    """The tier mix before and after, against the healthy mix, with revenue (``table.wb-ws-tier-mix``)."""
    from workbench.workshop.compare import class_totals

    lang, cur = ws.lang, ws.currency
    before = ws.agreed.tier_mix.set_index("tier")["customers"]
    mix = ws.result.tier_mix
    money = class_totals(ws.agreed.customers, ws.result.customers, C.TIER, tuple(mix["tier"])).set_index("class")
    names = _names(C.TIER, lang)
    heads = "".join(f"<th>{tip(h['label'], h.get('term', ''))}</th>" for h in ws.tr("tier_head"))
    rows = []
    for r in mix.itertuples(index=False):  # four tiers
        b, a = int(before.get(r.tier, 0)), int(r.customers)
        low, high = float(r.healthy_low), float(r.healthy_high)
        norm = (ws.tr("norm_upto", high=fmt.pct(high, lang, 0)) if low <= 0 else
                f"{fmt.number(low * 100, lang)}–{fmt.pct(high, lang, 0)}")
        rows.append(
            f"<tr data-tier='{esc(r.tier)}' data-before='{b}' data-after='{a}'><th scope='row'>"
            f"{esc(names.get(r.tier, r.tier))}</th>{_count_cells(b, a, lang)}"
            f"<td class='wb-ws-status-{esc(r.status)}' title='{esc(getattr(r, 'explanation', ''))}'>"
            f"{esc(fmt.pct(r.share, lang))}</td><td class='wb-ws-norm'>{esc(norm)}</td>"
            f"<td class='wb-ws-money'>{_money_change(money.at[r.tier, 'revenue_before'], money.at[r.tier, 'revenue_after'], lang, cur)}</td></tr>")
    return (f"<table class='wb-ws-tier-mix wb-ws-table'><caption>{esc(ws.tr('tiers_caption'))}</caption>"
            f"<thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def render_cells(ws: Any) -> str:
    """ABC-XYZ cells before and after, and each ABC group's customers and revenue (``table.wb-ws-abc-xyz``)."""
    from workbench.segment import ABC_CLASSES, XYZ_CLASSES
    from workbench.workshop.compare import cell_counts, class_totals

    lang, cur = ws.lang, ws.currency
    cells = cell_counts(ws.agreed.customers, ws.result.customers, ABC_CLASSES, XYZ_CLASSES).set_index(["row", "col"])
    groups = class_totals(ws.agreed.customers, ws.result.customers, C.ABC, ABC_CLASSES).set_index("class")
    abc, xyz = _names(C.ABC, lang), _names(C.XYZ, lang)
    terms = ws.tr("xyz_term")
    head = (f"<th>{tip(ws.tr('abc_corner'), ws.tr('abc_corner_term'))}</th>"
            + "".join(f"<th class='wb-ws-xyz-head'><span class='wb-ws-letter'>{x}</span>"
                      f"<small>{tip(xyz[x], terms.get(x, ''))}</small></th>" for x in XYZ_CLASSES)
            + f"<th>{esc(ws.tr('group_total'))}</th>")
    rows = []
    for a in ABC_CLASSES:
        tds = []
        for x in XYZ_CLASSES:
            b, n = int(cells.at[(a, x), "before"]), int(cells.at[(a, x), "after"])
            was = f"<small class='wb-ws-was'>{esc(ws.tr('was', n=fmt.number(b, lang)))}</small>" if b != n else ""
            cls = " wb-ws-moved-cell" if b != n else ""
            tds.append(f"<td class='wb-ws-cell{cls}' data-cell='{a}{x}' data-before='{b}' data-after='{n}'>"
                       f"<span class='wb-ws-after'>{fmt.number(n, lang)}</span>{was}</td>")
        g = groups.loc[a]
        gb, ga = int(g["customers_before"]), int(g["customers_after"])
        count = units.customers(ga, lang) + (
            f" ({ws.tr('was', n=fmt.number(gb, lang))})" if gb != ga else "")
        rows.append(f"<tr data-abc='{a}' data-before='{gb}' data-after='{ga}'><th scope='row'>{esc(abc[a])}</th>"
                    f"{''.join(tds)}<td class='wb-ws-money'><span class='wb-ws-group-count'>{esc(count)}</span><br>"
                    f"{_money_change(g['revenue_before'], g['revenue_after'], lang, cur)}</td></tr>")
    return (f"<table class='wb-ws-abc-xyz wb-ws-table'><caption>{esc(ws.tr('cells_caption'))}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def render_moved(ws: Any) -> str:
    """Who moved compared with the agreed version (``table.wb-ws-changes``), largest revenue first."""
    ch: pd.DataFrame = ws.changes
    lang = ws.lang
    if ch.empty:
        return (f"<h3 class='wb-ws-moved-title'>{esc(ws.tr('changes_title'))}</h3>"
                f"<p class='wb-ws-changes-none'>{esc(ws.tr('changes_none'))}</p>")
    n = ch[C.CUSTOMER_ID].nunique()
    fields = ws.tr("field")
    head = "".join(f"<th>{esc(ws.tr(k))}</th>" for k in ("col_customer", "col_field", "col_before", "col_after",
                                                        "col_revenue"))
    names = {f: _names(f, lang) for f in fields}
    rows = "".join(
        f"<tr data-customer='{esc(r.customer_id)}'><td>{esc(r.customer_name)}</td><td>{esc(fields[r.field])}</td>"
        f"<td class='wb-ws-before'>{esc(names[r.field].get(r.before, r.before) or '—')}</td>"
        f"<td><b>{esc(names[r.field].get(r.after, r.after) or '—')}</b></td>"
        f"<td class='wb-ws-money'>{esc(units.money_short(r.revenue, lang, ws.currency))}</td></tr>"
        for r in ch.head(CHANGES_SHOWN).itertuples(index=False))
    more = f"<p>{esc(ws.tr('more_rows', n=len(ch) - CHANGES_SHOWN))}</p>" if len(ch) > CHANGES_SHOWN else ""
    return (f"<h3 class='wb-ws-moved-title'>{esc(ws.tr('changes_count', n=units.customers(n, lang)))}</h3>"
            f"<div class='wb-ws-scroll'><table class='wb-ws-changes wb-ws-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table></div>{more}")


PANEL = ThresholdsPanel
