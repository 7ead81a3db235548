"""The live workshop in JupyterLab: widgets wired to the pure modules.

Consultants run workshops with the client's sales and marketing people around one
screen: change a threshold and see who moves, look at a customer's card, agree on a
map and a CJM, and keep what the room agreed. This module only wires ipywidgets to
:mod:`workbench.segment`, :mod:`workbench.maps` and :mod:`workbench.cjm`; the files are
written by :mod:`workbench.io.workshopfiles` (atomically, previous version kept).

A notebook calls it in one line per panel::

    ws = Workshop(engagement_dir, month, lang)
    ws.segmentation_panel()
    ws.explorer_panel()
    ws.maps_panel()
    ws.cjm_panel()
    ws.save_panel()

The ledger and the customers are read once, when the Workshop is created; moving a
slider re-runs :func:`workbench.segment.segment` in memory (about 0.05 s on the demo's
400 customers and 9 000 rows, 0.15 s with the chart). What "moved" is measured against
the *agreed* segmentation: engagement.yaml with ``overrides/settings.yaml`` laid over it,
as loaded at the start or after the last save.

Invalid values (a + b > 1, x > y, a value outside its range, a map edit naming an unknown
month ...) are refused with the reason in a message label; nothing is recomputed or saved.
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench import columns as C
from workbench.config import SETTINGS_OVERRIDES_NAME, TEMPLATES_DIR, Engagement, load_engagement, validate
from workbench.errors import ConfigError
from workbench.i18n import t
from workbench.report import fmt
from workbench.report.html import esc

# The thresholds the room can move: key path under ``segmentation``, widget kind, min, max, step.
SEG_CONTROLS: tuple[tuple[str, str, float, float, float], ...] = (
    ("abc.a", "float", 0.50, 0.95, 0.01),
    ("abc.b", "float", 0.00, 0.45, 0.01),
    ("xyz.x", "float", 0.00, 1.00, 0.01),
    ("xyz.y", "float", 0.00, 2.00, 0.01),
    ("lifecycle.sleeping_factor", "float", 1.0, 10.0, 0.5),
    ("lifecycle.sleeping_min_days", "int", 1, 365, 1),
    ("tiers.vip_min_share", "float", 0.0, 0.20, 0.005),
    ("tiers.prospect_headcount", "int_text", 0, 10_000_000, 1),
    ("tiers.prospect_potential_ratio", "float", 1.0, 10.0, 0.1),
    ("tiers.prospect_trend", "float", -0.5, 1.0, 0.01),
    ("tiers.ballast_max_orders", "int", 0, 12, 1),
)
CHANGE_FIELDS = (C.TIER, C.ABC, C.XYZ, C.LIFECYCLE)
CHANGES_SHOWN = 200          # rows of the "who moved" table
EXPLORER_SHOWN = 300         # customers listed by the explorer
HISTORY_MONTHS = 24          # months on a customer's purchase history chart
CJM_TEMPLATES = ("vip", "strategic", "typical", "ballast", "key_account")
CJM_DEFAULT_CHECKPOINT = {"unit": "share", "target": 0.3}
NEW_ITEM_PREFIX = "ws"
STYLE = (".wb-ws-tier-mix td, .wb-ws-tier-mix th, .wb-ws-abc-xyz td, .wb-ws-abc-xyz th, .wb-ws-changes td,"
         " .wb-ws-changes th, .wb-ws-card-body td, .wb-ws-card-body th {padding: 2px 8px; text-align: left;"
         " white-space: nowrap}")


# =====================================================================================
# pure helpers (tested on their own)
# =====================================================================================

def get_path(tree: Mapping[str, Any], path: str) -> Any:
    """``get_path({"a": {"b": 1}}, "a.b") -> 1``."""
    node: Any = tree
    for part in path.split("."):
        node = node[part]
    return node


def set_path(tree: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a deep copy of ``tree`` with ``path`` set to ``value`` (missing levels created)."""
    out = copy.deepcopy(tree)
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def merge_tree(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of plain settings trees (``changes`` wins); neither input is modified."""
    out = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_tree(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def changed_customers(before: pd.DataFrame, after: pd.DataFrame,
                      fields: tuple[str, ...] = CHANGE_FIELDS) -> pd.DataFrame:
    """Who moved between two segmentations.

    Parameters
    ----------
    before, after : segmentation tables (``SegmentationResult.customers``): customer_id,
        customer_name, revenue and the ``fields`` columns. Not modified.

    Returns
    -------
    DataFrame with columns customer_id, customer_name, revenue, field, before, after (codes):
    one row per customer and changed field, largest revenue first. A customer present in
    only one table is listed with "" on the other side.
    """
    cols = [C.CUSTOMER_ID, C.CUSTOMER_NAME, C.REVENUE, *fields]
    b = before[cols].set_index(C.CUSTOMER_ID)
    a = after[cols].set_index(C.CUSTOMER_ID)
    ids = b.index.union(a.index)
    b, a = b.reindex(ids), a.reindex(ids)
    parts = []
    for f in fields:  # four fields, each compared on the whole column
        old = b[f].astype("string").fillna("")
        new = a[f].astype("string").fillna("")
        mask = (old != new).to_numpy(dtype=bool)
        if mask.any():
            parts.append(pd.DataFrame({
                C.CUSTOMER_ID: ids[mask], "field": f, "before": old[mask].to_numpy(), "after": new[mask].to_numpy()}))
    out_cols = [C.CUSTOMER_ID, C.CUSTOMER_NAME, C.REVENUE, "field", "before", "after"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == C.REVENUE else "string") for c in out_cols})
    out = pd.concat(parts, ignore_index=True)
    names = a[C.CUSTOMER_NAME].combine_first(b[C.CUSTOMER_NAME])
    revenue = a[C.REVENUE].combine_first(b[C.REVENUE])
    out[C.CUSTOMER_NAME] = names.reindex(out[C.CUSTOMER_ID]).to_numpy()
    out[C.REVENUE] = revenue.reindex(out[C.CUSTOMER_ID]).to_numpy(dtype=float)
    out["_f"] = out["field"].map({f: i for i, f in enumerate(fields)})
    out = out.sort_values([C.REVENUE, C.CUSTOMER_ID, "_f"], ascending=[False, True, True], kind="stable")
    return out[out_cols].reset_index(drop=True)


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


def activity_edits(map_id: str, original: Mapping[str, Any] | None, values: Mapping[str, Any],
                   new_key: str = "") -> list[dict[str, Any]]:
    """The map edits (``overrides/maps.yaml`` format) turning ``original`` into ``values``.

    original : an activity of a drafted map (key, month, track, owner, activity, kpi, target,
        baseline, kpi_source) or None for a new row
    values : what the grid shows: month, track, owner, activity, kpi, target, delete (bool)
    new_key : the item id of a new row

    Owner, text and target changes are one ``set`` edit; a new month or track is a
    ``remove`` at the old month and an ``add`` at the new one; delete is a ``remove``.
    """
    def add(item: str) -> dict[str, Any]:
        e: dict[str, Any] = {"map": map_id, "action": "add", "item": item, "month": values["month"],
                             "track": values["track"], "owner": values["owner"],
                             "activity": str(values["activity"]).strip()}
        if values.get("kpi"):
            e["kpi"] = values["kpi"]
            e["target"] = float(values["target"])
            if original is not None and original.get("kpi_source") == "entered" and original.get("baseline"):
                e["baseline"] = float(original["baseline"])
        return e

    if original is None:
        return [] if values.get("delete") else [add(new_key)]
    item, month = original["key"], original["month"]
    if values.get("delete"):
        return [{"map": map_id, "action": "remove", "item": item, "month": month}]
    if values["month"] != month or values["track"] != original["track"]:
        return [{"map": map_id, "action": "remove", "item": item, "month": month}, add(item)]
    edit: dict[str, Any] = {"map": map_id, "action": "set", "item": item, "month": month}
    if values["owner"] != original["owner"]:
        edit["owner"] = values["owner"]
    if str(values["activity"]).strip() != original["activity"]:
        edit["activity"] = str(values["activity"]).strip()
    if original.get("kpi") and original.get("target") is not None \
            and not math.isclose(float(values["target"]), float(original["target"]), abs_tol=1e-9):
        edit["target"] = float(values["target"])
    return [edit] if len(edit) > 4 else []


# =====================================================================================
# the workshop
# =====================================================================================


def _message_html(text: str, detail: str = "", error: bool = False) -> str:
    """A status line for a panel (red when refused), with the reasons below it; escaped."""
    cls = "wb-ws-error" if error else "wb-ws-ok"
    color = "#c0392b" if error else "#4c9a5f"
    body = f"<div class='{cls}' style='color:{color}'>{esc(text)}"
    if detail:
        body += "<pre style='white-space:pre-wrap'>" + esc(detail) + "</pre>"
    return body + "</div>"

class Workshop:
    """The widgets of a live session on one engagement.

    Parameters
    ----------
    engagement_dir : the engagement folder
    month : reporting month 'YYYY-MM' ("" = the month of the latest sale)
    lang : language of the labels ("" = the engagement's)
    step_dir, out_dir, refresh_import : as in :func:`workbench.steps.context`

    Attributes the notebook and the tests use: ``controls`` (key path -> widget),
    ``message`` (the segmentation message label), ``result`` / ``agreed`` (current and
    agreed SegmentationResult), ``changes`` (who moved, :func:`changed_customers`),
    ``save()`` / ``undo()`` and the panels' widgets.
    """

    def __init__(self, engagement_dir: str | Path, month: str = "", lang: str = "", step_dir: str = "",
                 out_dir: str = "", refresh_import: bool = False) -> None:
        from workbench import steps

        self.ctx = steps.context(str(engagement_dir), month, lang, step_dir, out_dir, refresh_import=refresh_import)
        self.lang = self.ctx.lang
        self.month = self.ctx.month
        if not (self.ctx.engagement.work_dir / "ledger.parquet").is_file():
            steps.import_step(self.ctx.engagement)
        self.ledger = steps.load_ledger(self.ctx)
        self.customers = steps.load_customers(self.ctx)
        self.last_seconds = 0.0
        self.valid = True
        self._panels: dict[str, Any] = {}
        self._maps_cache: dict[int, Any] = {}
        self._load_agreed(self.ctx.engagement)

    # --- state ------------------------------------------------------------------------
    @property
    def engagement(self) -> Engagement:
        return self._engagement

    @property
    def overrides_dir(self) -> Path:
        return self._engagement.overrides_dir

    def _tr(self, key: str, **kw: Any) -> Any:
        return t(f"workshop.{key}", self.lang, **kw)

    def _load_agreed(self, eng: Engagement) -> None:
        """Take ``eng`` (engagement.yaml + overrides) as the agreed version."""
        from workbench.segment import segment

        self._engagement = eng
        self.agreed_settings = copy.deepcopy(eng.settings["segmentation"])
        self.seg_settings = copy.deepcopy(self.agreed_settings)
        self.agreed = segment(self.ledger, self.customers, self.agreed_settings, self.month, self.lang)
        self.result = self.agreed
        self.changes = changed_customers(self.agreed.customers, self.result.customers)
        self._maps_cache.clear()
        self._agreed_maps = self.draft_maps(self.agreed)
        self._cjm = self._load_cjm()
        self._pending_cjm: dict[str, dict[str, Any]] = {}
        self._new_rows = 0

    def thresholds(self) -> dict[str, Any]:
        """The values of the controls, ``{key path under segmentation: value}``."""
        return {key: get_path(self.seg_settings, key) for key, *_ in SEG_CONTROLS}

    def settings_changes(self) -> dict[str, Any]:
        """The thresholds moved since the agreed version, as a partial settings tree."""
        out: dict[str, Any] = {}
        for key, *_ in SEG_CONTROLS:
            value = get_path(self.seg_settings, key)
            if value != get_path(self.agreed_settings, key):
                out = set_path(out, f"segmentation.{key}", value)
        return out

    def check_settings(self, changes: Mapping[str, Any]) -> str:
        """"" when ``changes`` (a partial tree) laid over the engagement is valid, else the reasons."""
        from workbench.io.workshopfiles import settings_path

        try:
            validate(merge_tree(self._engagement.settings, changes), str(settings_path(self.overrides_dir)),
                     self.lang)
        except ConfigError as exc:
            return str(exc)
        return ""

    def recompute(self) -> bool:
        """Re-segment with the control values; False (and the reason shown) when they are invalid."""
        from workbench.segment import segment

        start = time.perf_counter()
        values = {key: self._controls[key].value for key, *_ in SEG_CONTROLS} if "seg" in self._panels \
            else self.thresholds()
        candidate = copy.deepcopy(self.agreed_settings)
        for key, value in values.items():
            candidate = set_path(candidate, key, value)
        reason = self.check_settings({"segmentation": candidate})
        if reason:
            self.valid = False
            self._show_message(self._tr("refused"), reason, error=True)
            return False
        self.valid = True
        self.seg_settings = candidate
        self.result = segment(self.ledger, self.customers, candidate, self.month, self.lang)
        self.changes = changed_customers(self.agreed.customers, self.result.customers)
        self._redraw()
        self.last_seconds = time.perf_counter() - start
        self._show_message(self._tr("recomputed", seconds=f"{self.last_seconds:.2f}"))
        return True

    # --- segmentation panel -------------------------------------------------------------
    @property
    def controls(self) -> dict[str, Any]:
        """Key path -> widget of the segmentation panel (built on first use)."""
        self.segmentation_panel()
        return self._controls

    @property
    def message(self) -> Any:
        """The segmentation panel's message label (an HTML widget)."""
        self.segmentation_panel()
        return self._message

    def segmentation_panel(self) -> Any:
        """Sliders and fields for the thresholds, the tier mix, ABC-XYZ and who moved."""
        if "seg" in self._panels:
            return self._panels["seg"]
        import ipywidgets as W

        names = self._tr("control")
        self._controls: dict[str, Any] = {}
        style = {"description_width": "220px"}
        layout = W.Layout(width="450px")
        for key, kind, lo, hi, step in SEG_CONTROLS:
            value = get_path(self.agreed_settings, key)
            common = {"description": names[key], "style": style, "layout": layout}
            if kind == "float":
                w = W.FloatSlider(value=float(value), min=min(lo, float(value)), max=max(hi, float(value)), step=step,
                                  readout_format=".3f" if step < 0.01 else ".2f", continuous_update=False, **common)
            elif kind == "int":
                w = W.IntSlider(value=int(value), min=int(min(lo, value)), max=int(max(hi, value)), step=int(step),
                                continuous_update=False, **common)
            else:
                w = W.BoundedIntText(value=int(value), min=int(lo), max=int(hi), step=int(step), **common)
            w.add_class("wb-ws-control")
            w.add_class("wb-ws-" + key.replace(".", "-").replace("_", "-"))
            w.observe(self._on_control, names="value")
            self._controls[key] = w
        reset = W.Button(description=self._tr("reset"), icon="undo", layout=W.Layout(width="auto"))
        reset.on_click(lambda _b: self.reset_controls())
        self._message = W.HTML()
        self._message.add_class("wb-ws-message")
        self._mix = W.HTML()
        self._mix.add_class("wb-ws-mix")
        self._chart = W.HTML()
        self._abc_xyz = W.HTML()
        self._changes = W.HTML()
        self._changes.add_class("wb-ws-changes-panel")
        left = W.VBox([*self._controls.values(), reset, self._message], layout=W.Layout(min_width="470px"))
        right = W.VBox([self._mix, self._abc_xyz])
        box = W.VBox([W.HTML(f"<style>{STYLE}</style><h3>{esc(self._tr('title_segmentation'))}</h3>"
                             f"<p>{esc(self._tr('intro_segmentation'))}</p>"),
                      W.HBox([left, right]), self._chart, self._changes])
        box.add_class("wb-ws-segmentation")
        self._panels["seg"] = box
        self._redraw()
        return box

    def reset_controls(self) -> None:
        """Put the controls back to the agreed values (one recomputation)."""
        self._controls_to_agreed()
        self.recompute()

    def _controls_to_agreed(self) -> None:
        """Set every control to the agreed value without a recomputation per control."""
        self._silent = True
        try:
            for key, w in self._controls.items():
                w.value = get_path(self.agreed_settings, key)
        finally:
            self._silent = False

    def _on_control(self, _change: Any) -> None:
        if getattr(self, "_silent", False):
            return
        self.recompute()

    def _show_message(self, text: str, detail: str = "", error: bool = False) -> None:
        if "seg" not in self._panels:
            return
        self._message.value = _message_html(text, detail, error)

    def _redraw(self) -> None:
        if "seg" in self._panels:
            from workbench.report.segment_report import tiers_chart

            self._mix.value = self.render_tier_mix()
            self._abc_xyz.value = self.render_abc_xyz()
            self._chart.value = tiers_chart(self.result, self.lang)
            self._changes.value = self.render_changes()
        if "explorer" in self._panels:
            self._refresh_list()

    def render_tier_mix(self) -> str:
        """The tier mix now and as agreed, against the healthy mix (``table.wb-ws-tier-mix``)."""
        mix = self.result.tier_mix
        agreed = self.agreed.tier_mix.set_index("tier")["customers"]
        names = t("segment.tier", self.lang)
        status = t("segment.status", self.lang)
        head = "".join(f"<th>{esc(self._tr(k))}</th>" for k in
                       ("col_tier", "col_customers", "col_agreed", "col_share", "col_healthy", "col_status"))
        rows = []
        for r in mix.itertuples(index=False):  # four tiers
            band = f"{fmt.pct(r.healthy_low, self.lang, 0)}–{fmt.pct(r.healthy_high, self.lang, 0)}"
            color = "#4c9a5f" if r.status == "ok" else "#c0392b"
            rows.append(f"<tr data-tier='{esc(r.tier)}'><td>{esc(names[r.tier])}</td>"
                        f"<td class='wb-ws-count'>{int(r.customers)}</td><td>{int(agreed.get(r.tier, 0))}</td>"
                        f"<td>{esc(fmt.pct(r.share, self.lang))}</td><td>{esc(band)}</td>"
                        f"<td style='color:{color}'>{esc(status[r.status])}</td></tr>")
        return (f"<table class='wb-ws-tier-mix' style='border-collapse:collapse'><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    def render_abc_xyz(self) -> str:
        """Customers per ABC-XYZ cell (``table.wb-ws-abc-xyz``)."""
        from workbench.segment import ABC_CLASSES, XYZ_CLASSES

        m = self.result.abc_xyz.set_index(["abc", "xyz"])["customers"]
        head = "<th></th>" + "".join(f"<th>{x}</th>" for x in XYZ_CLASSES)
        rows = "".join("<tr><th>" + a + "</th>" + "".join(f"<td>{int(m.get((a, x), 0))}</td>" for x in XYZ_CLASSES)
                       + "</tr>" for a in ABC_CLASSES)
        return (f"<p><b>{esc(self._tr('abc_xyz_title'))}</b></p>"
                f"<table class='wb-ws-abc-xyz'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")

    def _code_label(self, field: str, code: str) -> str:
        if not code:
            return "—"
        if field == C.TIER:
            return str(t("segment.tier", self.lang).get(code, code))
        if field == C.LIFECYCLE:
            return str(t("segment.lifecycle", self.lang).get(code, code))
        return code

    def render_changes(self) -> str:
        """Who moved compared with the agreed version (``table.wb-ws-changes``)."""
        ch = self.changes
        title = f"<h4>{esc(self._tr('changes_title'))}</h4>"
        if ch.empty:
            return title + f"<p class='wb-ws-changes-none'>{esc(self._tr('changes_none'))}</p>"
        n = ch[C.CUSTOMER_ID].nunique()
        fields = self._tr("field")
        head = "".join(f"<th>{esc(self._tr(k))}</th>" for k in ("col_customer", "col_field", "col_before", "col_after"))
        rows = "".join(
            f"<tr data-customer='{esc(r.customer_id)}'><td>{esc(r.customer_name)}</td><td>{esc(fields[r.field])}</td>"
            f"<td>{esc(self._code_label(r.field, r.before))}</td><td>{esc(self._code_label(r.field, r.after))}</td></tr>"
            for r in ch.head(CHANGES_SHOWN).itertuples(index=False))
        more = f"<p>{esc(self._tr('more_rows', n=len(ch) - CHANGES_SHOWN))}</p>" if len(ch) > CHANGES_SHOWN else ""
        return (title + f"<p class='wb-ws-changes-count'>{esc(self._tr('changes_count', n=n))}</p>"
                f"<div style='max-height:320px;overflow:auto'><table class='wb-ws-changes'><thead><tr>{head}</tr>"
                f"</thead><tbody>{rows}</tbody></table></div>{more}")

    # --- maps (drafting is pure; cached per segmentation) ----------------------------------
    def _map_templates(self) -> dict[str, Any]:
        from workbench.maps import load_map_templates

        if not hasattr(self, "_map_tpl"):
            self._map_tpl = load_map_templates(TEMPLATES_DIR / "maps", self._engagement.root / "templates" / "maps",
                                               self.lang)
        return self._map_tpl

    def saved_map_edits(self) -> list[dict[str, Any]]:
        """The edits already in ``overrides/maps.yaml``."""
        from workbench.io.yamlfiles import map_overrides_path, read_map_overrides

        data = read_map_overrides(map_overrides_path(self.overrides_dir), self.lang)
        return list(data.get("edits") or [])

    def draft_maps(self, result: Any, edits: list[dict[str, Any]] | None = None) -> Any:
        """The maps drafted on ``result`` with the saved edits (or ``edits``); ConfigError if invalid."""
        from workbench.maps import draft_maps

        key = id(result) if edits is None else None
        if key is not None and key in self._maps_cache:
            return self._maps_cache[key]
        over = {"edits": self.saved_map_edits() if edits is None else edits}
        res = draft_maps(result.customers, self.ledger, self._engagement.settings["maps"], self.month,
                         self._map_templates(), self.lang, overrides=over if over["edits"] else None)
        if key is not None:
            self._maps_cache = {key: res}
        return res

    # --- explorer ---------------------------------------------------------------------------
    def explorer_panel(self) -> Any:
        """Search and filters, the list of customers, and the chosen customer's card."""
        if "explorer" in self._panels:
            return self._panels["explorer"]
        import ipywidgets as W

        from workbench.segment import ABC_CLASSES, LIFECYCLES, TIERS, XYZ_CLASSES

        every = [(self._tr("filter_all"), "")]
        tiers = t("segment.tier", self.lang)
        cycles = t("segment.lifecycle", self.lang)
        self.search = W.Text(placeholder=self._tr("search"), description=self._tr("search"),
                             style={"description_width": "initial"}, continuous_update=True)
        self.filter_tier = W.Dropdown(options=every + [(tiers[x], x) for x in TIERS], value="",
                                      description=self._tr("filter_tier"))
        self.filter_cell = W.Dropdown(options=every + [(a + x, a + x) for a in ABC_CLASSES for x in XYZ_CLASSES],
                                      value="", description=self._tr("filter_cell"))
        self.filter_lifecycle = W.Dropdown(options=every + [(cycles[x], x) for x in LIFECYCLES], value="",
                                           description=self._tr("filter_lifecycle"))
        self.found = W.HTML()
        self.customer_list = W.Select(options=[], rows=12, layout=W.Layout(width="520px"))
        self.card = W.HTML()
        self.card.add_class("wb-ws-card")
        for w in (self.search, self.filter_tier, self.filter_cell, self.filter_lifecycle):
            w.observe(lambda _c: self._refresh_list(), names="value")
        self.customer_list.observe(lambda _c: self._show_card(), names="value")
        box = W.VBox([W.HTML(f"<h3>{esc(self._tr('title_explorer'))}</h3>"),
                      W.HBox([self.search, self.filter_tier]), W.HBox([self.filter_cell, self.filter_lifecycle]),
                      self.found, W.HBox([self.customer_list, self.card])])
        box.add_class("wb-ws-explorer")
        self._panels["explorer"] = box
        self._refresh_list()
        return box

    def filtered_customers(self) -> pd.DataFrame:
        """The customers matching the explorer's search and filters (segmentation now)."""
        df = self.result.customers
        mask = pd.Series(True, index=df.index)
        text = self.search.value.strip().casefold() if "explorer" in self._panels else ""
        if text:
            mask &= df[C.CUSTOMER_NAME].astype("string").str.casefold().str.contains(text, regex=False).fillna(False)
        for col, w in ((C.TIER, "filter_tier"), (C.ABC_XYZ, "filter_cell"), (C.LIFECYCLE, "filter_lifecycle")):
            value = getattr(self, w).value if "explorer" in self._panels else ""
            if value:
                mask &= (df[col].astype("string") == value).fillna(False)
        return df[mask.to_numpy(dtype=bool)]

    def _refresh_list(self) -> None:
        df = self.filtered_customers()
        tiers = t("segment.tier", self.lang)
        options = [(f"{name} — {tiers.get(tier, tier)}, {cell}, {fmt.money(rev, self.lang, self.ctx.currency)}", cid)
                   for cid, name, tier, cell, rev in zip(df[C.CUSTOMER_ID].head(EXPLORER_SHOWN),
                                                         df[C.CUSTOMER_NAME].head(EXPLORER_SHOWN),
                                                         df[C.TIER].head(EXPLORER_SHOWN),
                                                         df[C.ABC_XYZ].head(EXPLORER_SHOWN),
                                                         df[C.REVENUE].head(EXPLORER_SHOWN))]
        current = self.customer_list.value
        self.found.value = esc(self._tr("found", n=len(df)))
        self.customer_list.options = options
        ids = [cid for _, cid in options]
        if current in ids:
            self.customer_list.value = current
        self._show_card()

    def _show_card(self) -> None:
        cid = self.customer_list.value
        self.card.value = self.render_card(cid) if cid else f"<p>{esc(self._tr('choose_customer'))}</p>"

    def customer_map(self, customer_id: str) -> str:
        """The development map of a customer, as text (group or individual)."""
        try:
            maps = self.draft_maps(self.result)
        except ConfigError:
            try:
                maps = self.draft_maps(self.result, edits=[])
            except ConfigError as exc:  # the templates themselves are broken
                return self._tr("map_unknown", reason=str(exc).splitlines()[0])
        for m in maps.maps:
            if customer_id in m["members"]:
                key = "map_individual" if m["kind"] == "individual" else "map_group"
                return self._tr(key, name=m["name"], id=m["id"])
        return self._tr("map_none")

    def render_card(self, customer_id: str) -> str:
        """One customer's card: figures, classes with the reasons, the map, the purchase history."""
        from workbench.report import charts

        df = self.result.customers
        rows = df[df[C.CUSTOMER_ID] == customer_id]
        if rows.empty:
            return f"<p>{esc(self._tr('choose_customer'))}</p>"
        r = rows.iloc[0]
        lang = self.lang

        def num(v: Any, d: int = 0) -> str:
            return "—" if v is None or pd.isna(v) else fmt.number(float(v), lang, d)

        tiers = t("segment.tier", lang)
        cycles = t("segment.lifecycle", lang)
        rfm_names = t("segment.rfm_segment", lang)
        grades = t("segment.ka_grade", lang)
        periods = int(r["xyz_periods"]) if not pd.isna(r["xyz_periods"]) else 0
        xyz_reason = (self._tr("reason_xyz", cv=fmt.pct(float(r["xyz_cv"]), lang), n=periods)
                      if r["xyz"] != "N" and not pd.isna(r["xyz_cv"]) else self._tr("reason_xyz_none", n=periods))
        gap = r.get("median_gap_days")
        life_reason = (self._tr("reason_lifecycle", days=num(r["recency_days"]), gap=num(gap))
                       if gap is not None and not pd.isna(gap) else
                       self._tr("reason_lifecycle_nogap", days=num(r["recency_days"])))
        classes = [
            (self._tr("class_tier"), tiers.get(r[C.TIER], r[C.TIER]), str(r[C.TIER_REASON])),
            (self._tr("class_abc"), str(r[C.ABC]), self._tr("reason_abc", share=fmt.pct(float(r[C.REVENUE_SHARE]), lang),
                                                           cum=fmt.pct(float(r[C.CUM_SHARE]), lang))),
            (self._tr("class_xyz"), str(r[C.XYZ]), xyz_reason),
            (self._tr("class_lifecycle"), cycles.get(r[C.LIFECYCLE], r[C.LIFECYCLE]), life_reason),
            (self._tr("class_rfm"), rfm_names.get(r[C.RFM_SEGMENT], r[C.RFM_SEGMENT]),
             self._tr("reason_rfm", r=int(r[C.RFM_R]), f=int(r[C.RFM_F]), m=int(r[C.RFM_M]))),
            (self._tr("class_ka"), grades.get(r[C.KA_GRADE], "") if bool(r[C.KEY_ACCOUNT]) else self._tr("ka_no"), ""),
        ]
        facts = [(self._tr("card_id"), customer_id), (self._tr("card_manager"), r.get(C.MANAGER)),
                 (self._tr("card_industry"), r.get(C.INDUSTRY)),
                 (self._tr("card_revenue"), fmt.money(float(r[C.REVENUE]), lang, self.ctx.currency)),
                 (self._tr("card_orders"), num(r[C.ORDERS]))]
        facts_html = "".join(f"<tr><th>{esc(k)}</th><td>{esc('' if v is None or pd.isna(v) else v)}</td></tr>"
                             for k, v in facts)
        classes_html = "".join(f"<tr><th>{esc(k)}</th><td><b>{esc(v)}</b></td><td>{esc(why)}</td></tr>"
                               for k, v, why in classes)
        hist = monthly_revenue(self.ledger, customer_id, self.month)
        fig, ax = charts.figure(6.0, 2.2)
        ax.bar(range(len(hist)), hist["revenue"], color=charts.PALETTE.get(r[C.TIER], charts.PALETTE["A"]))
        ticks = list(range(0, len(hist), 3))
        ax.set_xticks(ticks, [hist["month"].iloc[i] for i in ticks], fontsize=7)
        ax.set_title(self._tr("chart_history"), fontsize=10)
        img = charts.to_img(fig, self._tr("chart_history_alt"))
        return (f"<div class='wb-ws-card-body'><h4>{esc(r[C.CUSTOMER_NAME])}</h4><table>{facts_html}</table>"
                f"<p><b>{esc(self._tr('card_classes'))}</b></p><table>{classes_html}</table>"
                f"<p><b>{esc(self._tr('card_map'))}:</b> {esc(self.customer_map(customer_id))}</p>{img}</div>")

    # --- maps panel ------------------------------------------------------------------------
    def maps_panel(self) -> Any:
        """Choose a map; edit its activities' month, track, owner, text and target; add or delete rows."""
        if "maps" in self._panels:
            return self._panels["maps"]
        import ipywidgets as W

        self.map_choice = W.Dropdown(description=self._tr("map"), layout=W.Layout(width="640px"))
        self.map_grid = W.VBox()
        self.map_grid.add_class("wb-ws-map-grid")
        add = W.Button(description=self._tr("add_activity"), icon="plus", layout=W.Layout(width="auto"))
        add.on_click(lambda _b: self.add_activity_row())
        self.maps_message = W.HTML()
        self.map_choice.observe(lambda _c: self._show_grid(), names="value")
        box = W.VBox([W.HTML(f"<h3>{esc(self._tr('title_maps'))}</h3>"), self.map_choice, self.map_grid, add,
                      self.maps_message])
        box.add_class("wb-ws-maps")
        self._panels["maps"] = box
        self._reset_maps()
        return box

    def _reset_maps(self) -> None:
        self._grids: dict[str, list[tuple[dict[str, Any] | None, dict[str, Any], str]]] = {}
        maps = self._agreed_maps.maps
        options = [(m["name"], m["id"]) for m in maps]
        self.map_choice.options = options
        self.map_choice.value = options[0][1] if options else None
        self._show_grid()

    def _map(self, map_id: str) -> dict[str, Any]:
        return self._agreed_maps.map(map_id)

    def map_rows(self, map_id: str) -> list[dict[str, Any]]:
        """The grid rows of a map: dicts of widgets (month, track, owner, activity, kpi, target, delete)."""
        self._grid_for(map_id)
        return [w for _, w, _ in self._grids[map_id]]

    def _row_widgets(self, m: dict[str, Any], a: dict[str, Any] | None) -> dict[str, Any]:
        import ipywidgets as W

        from workbench.kpis import KPIS
        from workbench.maps import ROLES, TRACKS, label

        a = a or {"month": m["months"][0], "track": "sales", "owner": m["owner"], "activity": self._tr("new_activity"),
                  "kpi": "", "target": None}
        lay = {"month": "110px", "track": "130px", "owner": "130px", "activity": "360px", "kpi": "200px",
               "target": "110px", "delete": "70px"}
        month_options = [(fmt.month(x, self.lang, short=True), x) for x in m["months"]]
        w: dict[str, Any] = {
            "month": W.Dropdown(options=month_options, value=a["month"], layout=W.Layout(width=lay["month"])),
            "track": W.Dropdown(options=[(label("track", x, self.lang), x) for x in TRACKS], value=a["track"],
                                layout=W.Layout(width=lay["track"])),
            "owner": W.Dropdown(options=[(label("owner", x, self.lang), x) for x in ROLES], value=a["owner"],
                                layout=W.Layout(width=lay["owner"])),
            "activity": W.Text(value=a["activity"], layout=W.Layout(width=lay["activity"])),
        }
        if a is not None and a.get("key"):
            w["kpi"] = W.HTML(esc(a.get("kpi_name") or self._tr("no_kpi")), layout=W.Layout(width=lay["kpi"]))
        else:
            w["kpi"] = W.Dropdown(options=[(self._tr("no_kpi"), "")] + [(label("kpi", k, self.lang), k) for k in KPIS],
                                  value="", layout=W.Layout(width=lay["kpi"]))
        target = a.get("target")
        w["target"] = W.FloatText(value=float(target) if target is not None else 0.0,
                                  disabled=not (a.get("kpi") or not a.get("key")), layout=W.Layout(width=lay["target"]))
        w["delete"] = W.Checkbox(value=False, indent=False, layout=W.Layout(width=lay["delete"]))
        return w

    def _grid_for(self, map_id: str) -> list[tuple[dict[str, Any] | None, dict[str, Any], str]]:
        if map_id not in self._grids:
            m = self._map(map_id)
            self._grids[map_id] = [(a, self._row_widgets(m, a), "") for a in m["activities"]]
        return self._grids[map_id]

    def _show_grid(self) -> None:
        import ipywidgets as W

        map_id = self.map_choice.value
        if not map_id:
            self.map_grid.children = [W.HTML(esc(self._tr("maps_none")))]
            return
        head = W.HTML("<div style='display:flex;gap:4px;font-weight:bold'>" + "".join(
            f"<span style='width:{wd}'>{esc(self._tr(k))}</span>" for k, wd in
            (("col_month", "110px"), ("col_track", "130px"), ("col_owner", "130px"), ("col_activity", "360px"),
             ("col_kpi", "200px"), ("col_target", "110px"), ("col_delete", "70px"))) + "</div>")
        rows = []
        for _a, w, _key in self._grid_for(map_id):
            row = W.HBox([w[k] for k in ("month", "track", "owner", "activity", "kpi", "target", "delete")])
            row.add_class("wb-ws-map-row")
            rows.append(row)
        self.map_grid.children = [head, *rows]

    def add_activity_row(self, map_id: str | None = None) -> dict[str, Any]:
        """Add an empty row to a map's grid (the chosen map by default); return its widgets."""
        map_id = map_id or self.map_choice.value
        grid = self._grid_for(map_id)
        self._new_rows += 1
        w = self._row_widgets(self._map(map_id), None)
        w["kpi"].observe(lambda c, tw=w["target"]: setattr(tw, "disabled", not c["new"]), names="value")
        w["target"].disabled = True
        grid.append((None, w, f"{NEW_ITEM_PREFIX}-{self._new_rows}"))
        if map_id == self.map_choice.value:
            self._show_grid()
        return w

    def pending_map_edits(self) -> list[dict[str, Any]]:
        """The map edits the grids hold that are not saved yet."""
        if "maps" not in self._panels:
            return []
        edits: list[dict[str, Any]] = []
        for map_id, rows in self._grids.items():
            for original, w, new_key in rows:
                values = {k: w[k].value for k in ("month", "track", "owner", "activity", "target", "delete")}
                values["kpi"] = (original.get("kpi") or "") if original is not None else w["kpi"].value
                edits.extend(activity_edits(map_id, original, values, new_key=new_key))
        return edits

    # --- CJM panel -------------------------------------------------------------------------
    def _load_cjm(self) -> dict[str, Any]:
        from workbench.cjm import load_cjm_templates
        from workbench.io.cjmfiles import read_cjm_sources

        root = self._engagement.root
        stages = self._engagement.settings["cjm"]["stages"]
        return {"sources": read_cjm_sources(TEMPLATES_DIR / "cjm", root, self.lang),
                "valid": load_cjm_templates(TEMPLATES_DIR / "cjm", root, stages, self.lang)}

    def cjm_panel(self) -> Any:
        """Choose a segment template; its value elements; edit, add and delete filled cells."""
        if "cjm" in self._panels:
            return self._panels["cjm"]
        import ipywidgets as W

        valid = self._cjm["valid"]
        lang = self.lang
        self.cjm_choice = W.Dropdown(options=[(valid["segments"][n]["title"][lang], n) for n in CJM_TEMPLATES
                                              if n in valid["segments"]], description=self._tr("template"),
                                     layout=W.Layout(width="520px"))
        self.cjm_elements = W.SelectMultiple(options=[(e[lang], code) for code, e in valid["elements"].items()],
                                             rows=10, description=self._tr("elements"),
                                             style={"description_width": "initial"}, layout=W.Layout(width="640px"))
        self.cjm_grid = W.VBox()
        self.cjm_grid.add_class("wb-ws-cjm-grid")
        rows = [(p[lang], code) for code, p in valid["progresses"].items()] + \
               [(e[lang], code) for code, e in valid["elements"].items()]
        self.cjm_new = {
            "row": W.Dropdown(options=rows, description=self._tr("col_row"), layout=W.Layout(width="420px")),
            "stage": W.Dropdown(options=[(s[lang], s["code"]) for s in valid["stages"]],
                                description=self._tr("col_stage")),
            "role": W.Dropdown(options=[(r[lang], code) for code, r in valid["roles"].items()],
                               description=self._tr("col_role")),
            "action": W.Text(description=self._tr("col_action"), layout=W.Layout(width="520px")),
        }
        add = W.Button(description=self._tr("add_cell"), icon="plus", layout=W.Layout(width="auto"))
        add.on_click(lambda _b: self.add_cjm_cell())
        self.cjm_message = W.HTML()
        self._cjm_rows: dict[str, list[dict[str, Any]]] = {}
        self.cjm_choice.observe(lambda _c: self._show_cjm(), names="value")
        self.cjm_elements.observe(self._on_elements, names="value")
        box = W.VBox([W.HTML(f"<h3>{esc(self._tr('title_cjm'))}</h3>"), self.cjm_choice, self.cjm_elements,
                      W.HTML(f"<b>{esc(self._tr('cells_title'))}</b>"), self.cjm_grid,
                      W.HBox([self.cjm_new["row"], self.cjm_new["stage"]]),
                      W.HBox([self.cjm_new["role"], self.cjm_new["action"], add]), self.cjm_message])
        box.add_class("wb-ws-cjm")
        self._panels["cjm"] = box
        self._show_cjm()
        return box

    def _cjm_data(self, name: str) -> dict[str, Any]:
        if name not in self._pending_cjm:
            self._pending_cjm[name] = copy.deepcopy(self._cjm["sources"][name]["data"]) or {}
        return self._pending_cjm[name]

    def _on_elements(self, change: Any) -> None:
        if getattr(self, "_silent", False):
            return
        data = self._cjm_data(self.cjm_choice.value)
        data["elements"] = list(change["new"])

    def _show_cjm(self) -> None:
        import ipywidgets as W

        name = self.cjm_choice.value
        valid = self._cjm["valid"]
        lang = self.lang
        data = self._cjm_data(name)
        self._silent = True
        try:
            codes = [c for c in (data.get("elements") or []) if c in valid["elements"]]
            self.cjm_elements.value = tuple(codes)
        finally:
            self._silent = False
        if name not in self._cjm_rows:
            self._cjm_rows[name] = [self._cjm_row(row, stage, cell) for row, by_stage in (data.get("cells") or {}).items()
                                    if isinstance(by_stage, dict) for stage, cell in by_stage.items()
                                    if isinstance(cell, dict)]
        stages = {s["code"]: s[lang] for s in valid["stages"]}
        labels = {**{c: p[lang] for c, p in valid["progresses"].items()},
                  **{c: e[lang] for c, e in valid["elements"].items()}}
        boxes = []
        for r in self._cjm_rows[name]:
            text = W.HTML(f"<span style='display:inline-block;width:360px'>{esc(labels.get(r['row'], r['row']))} · "
                          f"{esc(stages.get(r['stage'], r['stage']))}</span>")
            box = W.HBox([text, r["role"], r["action"], r["owner"], r["delete"]])
            box.add_class("wb-ws-cjm-row")
            boxes.append(box)
        self.cjm_grid.children = boxes

    def _cjm_row(self, row: str, stage: str, cell: Mapping[str, Any]) -> dict[str, Any]:
        import ipywidgets as W

        from workbench.cjm import OWNER_ROLES
        from workbench.maps import label

        valid = self._cjm["valid"]
        roles = [(r[self.lang], code) for code, r in valid["roles"].items()]
        role = cell.get("role") if cell.get("role") in valid["roles"] else roles[0][1]
        owner = cell.get("owner", "") if cell.get("owner", "") in OWNER_ROLES else ""
        return {"row": row, "stage": stage, "cell": dict(cell),
                "role": W.Dropdown(options=roles, value=role, layout=W.Layout(width="160px")),
                "action": W.Text(value=str(cell.get(self.lang) or ""), layout=W.Layout(width="460px")),
                "owner": W.Dropdown(options=[(self._tr("owner_default"), "")]
                                    + [(label("owner", o, self.lang), o) for o in OWNER_ROLES],
                                    value=owner, layout=W.Layout(width="140px")),
                "delete": W.Checkbox(value=False, indent=False, description=self._tr("col_delete"))}

    def cjm_rows(self, name: str | None = None) -> list[dict[str, Any]]:
        """The cell rows of a CJM template (the chosen one by default): row, stage and widgets."""
        name = name or self.cjm_choice.value
        if name != self.cjm_choice.value:
            self.cjm_choice.value = name
        return self._cjm_rows[name]

    def add_cjm_cell(self) -> dict[str, Any] | None:
        """Add the cell described by the "new cell" fields to the chosen template (replaces the same row·stage)."""
        name = self.cjm_choice.value
        row, stage = self.cjm_new["row"].value, self.cjm_new["stage"].value
        action = self.cjm_new["action"].value.strip()
        if not action:
            reason = t("config.expected_text", self.lang, key=self._tr("col_action"), value='""')
            self.cjm_message.value = f"<div class='wb-ws-error' style='color:#c0392b'>{esc(reason)}</div>"
            return None
        rows = [r for r in self._cjm_rows[name] if not (r["row"] == row and r["stage"] == stage)]
        new = self._cjm_row(row, stage, {"role": self.cjm_new["role"].value, self.lang: action})
        new["action"].value = action
        new["cell"] = {}
        rows.append(new)
        self._cjm_rows[name] = rows
        self.cjm_new["action"].value = ""
        self._show_cjm()
        return new

    def cjm_data(self, name: str) -> dict[str, Any]:
        """The template ``name`` as the widgets show it (a plain tree in the template file format)."""
        data = copy.deepcopy(self._cjm_data(name))
        if name not in self._cjm_rows:
            return data
        cells: dict[str, dict[str, Any]] = {}
        other = "en" if self.lang == "ru" else "ru"
        notes = []
        for r in self._cjm_rows[name]:
            if r["delete"].value:
                continue
            old = r["cell"]
            text = r["action"].value.strip()
            cell: dict[str, Any] = {"role": r["role"].value}
            changed = text != str(old.get(self.lang) or "")
            cell["ru" if self.lang == "ru" else "en"] = text
            # the other language keeps its translation unless the text changed (then it takes the new text)
            cell[other] = text if changed or not old.get(other) else old[other]
            cell = {"role": cell["role"], "ru": cell["ru"], "en": cell["en"]}
            if r["owner"].value:
                cell["owner"] = r["owner"].value
            cells.setdefault(r["row"], {})[r["stage"]] = cell
        data["cells"] = cells
        progresses = self._cjm["valid"]["progresses"]
        checks = dict(data.get("checkpoints") or {})
        for row in cells:
            if row in progresses and row not in checks:
                checks[row] = dict(CJM_DEFAULT_CHECKPOINT)
                notes.append(self._tr("checkpoint_added", row=progresses[row][self.lang],
                                      target=fmt.pct(CJM_DEFAULT_CHECKPOINT["target"], self.lang, 0)))
        data["checkpoints"] = checks
        self._cjm_notes = notes
        return data

    def pending_cjm(self) -> dict[str, dict[str, Any]]:
        """Template name -> edited tree, for the templates whose content changed."""
        if "cjm" not in self._panels:
            return {}
        out = {}
        for name in CJM_TEMPLATES:
            if name in self._pending_cjm or name in self._cjm_rows:
                data = self.cjm_data(name)
                if data != self._cjm["sources"][name]["data"]:
                    out[name] = data
        return out

    # --- save / undo ------------------------------------------------------------------------
    def save_panel(self) -> Any:
        """The save and undo buttons, what is not saved yet, and the result of the last action."""
        if "save" in self._panels:
            return self._panels["save"]
        import ipywidgets as W

        self.save_button = W.Button(description=self._tr("save"), button_style="success", icon="save",
                                    layout=W.Layout(width="auto"))
        self.undo_button = W.Button(description=self._tr("undo"), icon="undo", layout=W.Layout(width="auto"))
        self.save_message = W.HTML()
        self.save_message.add_class("wb-ws-save-message")
        self.save_button.on_click(lambda _b: self.save())
        self.undo_button.on_click(lambda _b: self.undo())
        box = W.VBox([W.HTML(f"<h3>{esc(self._tr('title_save'))}</h3>"),
                      W.HBox([self.save_button, self.undo_button]), self.save_message])
        box.add_class("wb-ws-save")
        self._panels["save"] = box
        return box

    def _say(self, text: str, detail: str = "", error: bool = False) -> None:
        self.save_panel()
        self.save_message.value = _message_html(text, detail, error)
        self.last_save_message = text + ("\n" + detail if detail else "")

    def save(self) -> bool:
        """Validate everything the room changed and write it to ``overrides/``; False when refused.

        Writes ``settings.yaml`` (the existing partial tree with the moved thresholds laid
        over it), ``maps.yaml`` (the saved edits followed by the new ones) and the edited CJM
        templates as whole copies in ``cjm/``. The previous versions go to
        ``overrides/.history/<stamp>/``. Any invalid part refuses the whole save.
        """
        from workbench.cjm import validate_cjm_templates
        from workbench.io import workshopfiles as wf
        from workbench.io.yamlfiles import MAP_OVERRIDES_NAME

        problems: list[str] = []
        if not self.valid:
            problems.append(self.check_settings({"segmentation": self._candidate()}))
        changes = self.settings_changes() if self.valid else {}
        settings_tree: dict[str, Any] = {}
        if changes:
            settings_tree = merge_tree(wf.read_settings_overrides(self.overrides_dir, self.lang), changes)
            reason = self.check_settings(settings_tree)
            if reason:
                problems.append(reason)
        new_edits = self.pending_map_edits()
        all_edits = self.saved_map_edits() + new_edits
        if new_edits:
            for e in new_edits:
                if e["action"] in ("add", "set") and "activity" in e and not e["activity"]:
                    problems.append(t("config.expected_text", self.lang, key=f"{e['map']} · {e['item']}.activity",
                                      value='""'))
            try:
                self.draft_maps(self.result if changes else self.agreed, edits=all_edits)
            except ConfigError as exc:
                problems.append(str(exc))
        cjm = self.pending_cjm()
        if cjm:
            sources = copy.deepcopy(self._cjm["sources"])
            for name, data in cjm.items():
                sources[name] = {"source": str(self.overrides_dir / "cjm" / f"{name}.yaml"), "data": data,
                                 "override": True}
            try:
                validate_cjm_templates(sources, self._engagement.settings["cjm"]["stages"], self.lang)
            except ConfigError as exc:
                problems.append(str(exc))
        problems = [p for p in problems if p]
        if problems:
            self._say(self._tr("save_refused"), "\n".join(problems), error=True)
            return False
        if not (changes or new_edits or cjm):
            self._say(self._tr("nothing_to_save"))
            return False
        stamp = wf.new_stamp()
        header = self._tr("file_header", stamp=stamp)
        files: dict[str, str] = {}
        if changes:
            files[SETTINGS_OVERRIDES_NAME] = wf.yaml_text(settings_tree, header)
        if new_edits:
            files[MAP_OVERRIDES_NAME] = wf.yaml_text({"edits": all_edits}, header)
        for name, data in cjm.items():
            files[f"cjm/{name}.yaml"] = wf.yaml_text(data, header)
        notes = list(getattr(self, "_cjm_notes", [])) if cjm else []
        hist = wf.save_files(self.overrides_dir, files, stamp)
        self._reload()
        self._say(self._tr("saved", files=", ".join(f"overrides/{f}" for f in files),
                           history=str(hist.relative_to(self._engagement.root))), "\n".join(notes))
        return True

    def _candidate(self) -> dict[str, Any]:
        candidate = copy.deepcopy(self.agreed_settings)
        for key, w in self._controls.items():
            candidate = set_path(candidate, key, w.value)
        return candidate

    def undo(self) -> bool:
        """Restore the files as they were before the last save; False when there is nothing to undo."""
        from workbench.io import workshopfiles as wf

        done = wf.undo_last(self.overrides_dir)
        if done is None:
            self._say(self._tr("nothing_to_undo"))
            return False
        stamp, files = done
        self._reload()
        self._say(self._tr("undone", stamp=stamp, files=", ".join(f"overrides/{f}" for f in files)))
        return True

    def _reload(self) -> None:
        """Read the engagement again (with the overrides) and make it the agreed version."""
        self._load_agreed(load_engagement(self._engagement.root))
        if "seg" in self._panels:
            self._controls_to_agreed()
            self.valid = True
            self._redraw()
        if "explorer" in self._panels:
            self._refresh_list()
        if "maps" in self._panels:
            self._reset_maps()
        if "cjm" in self._panels:
            self._cjm_rows = {}
            self._show_cjm()

    def show(self) -> Any:
        """Every panel in one column (for a notebook that wants a single call)."""
        import ipywidgets as W

        return W.VBox([self.segmentation_panel(), self.explorer_panel(), self.maps_panel(), self.cjm_panel(),
                       self.save_panel()])


__all__ = ["SEG_CONTROLS", "Workshop", "activity_edits", "changed_customers", "merge_tree", "monthly_revenue"]
