"""The development maps panel: agree a map's activities in a grid the room can read.

Months read «окт 2026», owners and tracks are words, the activity text wraps in full,
targets are shown in their unit (percent, money with the currency, counts) and typed
back the same way. Edits become ``overrides/maps.yaml`` entries (:func:`activity_edits`)
when the save panel writes them.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from workbench.report import fmt
from workbench.report.html import esc
from workbench.workshop import units
from workbench.workshop.common import Panel, message_html

NEW_ITEM_PREFIX = "ws"
COLUMNS = ("month", "track", "owner", "activity", "kpi", "target", "delete")
PERCENT_UNITS = ("share", "ratio")


def activity_edits(map_id: str, original: Mapping[str, Any] | None, values: Mapping[str, Any],
                   new_key: str = "") -> list[dict[str, Any]]:
    """The map edits (``overrides/maps.yaml`` format) turning ``original`` into ``values``.

    original : an activity of a drafted map (key, month, track, owner, activity, kpi, target,
        baseline, kpi_source) or None for a new row
    values : what the grid shows: month, track, owner, activity, kpi, target (KPI units), delete (bool)
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


def target_text(value: float | None, unit: str, lang: str) -> str:
    """A KPI target as the room reads it in a field: ``30`` (%), ``12 017 024`` (money), ``4``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit in PERCENT_UNITS:
        shown = round(float(value) * 100, 6)
        return fmt.number(shown, lang, 0 if float(shown).is_integer() else 1)
    if unit == "currency":
        return fmt.number(float(value), lang, 0)
    return fmt.number(float(value), lang, 0 if float(value).is_integer() else 1)


def read_target(text: str, unit: str, lang: str) -> float:
    """What the room typed as a target, in the KPI's units (percent back to 0..1); NotANumber if unreadable."""
    value = units.parse_number(text, lang)
    return round(value / 100, 8) if unit in PERCENT_UNITS else value


def short(text: str, limit: int = 60) -> str:
    """A long activity shortened for a one-line summary."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MapsPanel(Panel):
    """Choose a map; edit its activities' month, track, owner, text and target; add or delete rows."""

    name = "maps"

    def __init__(self, ws: Any) -> None:
        import ipywidgets as W

        super().__init__(ws)
        self.map_choice = W.Dropdown(layout=W.Layout(width="auto"))
        self.map_choice.add_class("wb-ws-map-choice")
        self.map_grid = W.VBox()
        self.map_grid.add_class("wb-ws-map-grid")
        add = W.Button(description=self.tr("add_activity"), layout=W.Layout(width="auto"))
        add.on_click(lambda _b: self.add_row())
        self.message = W.HTML()
        self.map_choice.observe(lambda _c: self.show_grid(), names="value")
        pick = W.HBox([W.HTML(f"<label>{esc(self.tr('map'))}</label>"), self.map_choice])
        pick.add_class("wb-ws-map-pick")
        self.widget = W.VBox([self.heading(), pick, self.map_grid, add, self.message])
        self.widget.add_class("wb-ws-maps")
        self.widget.add_class("wb-ws-panel")
        ws.on_event(lambda e: self.reset() if e == "reload" else None)
        self.reset()

    def reset(self) -> None:
        """Forget unsaved rows; show the agreed maps."""
        self._grids: dict[str, list[tuple[dict[str, Any] | None, dict[str, Any], str]]] = {}
        self._new_rows = 0
        options = [(m["name"], m["id"]) for m in self.ws.agreed_maps.maps]
        self.map_choice.options = options
        self.map_choice.value = options[0][1] if options else None
        self.show_grid()

    def map(self, map_id: str) -> dict[str, Any]:
        return self.ws.agreed_maps.map(map_id)

    def rows(self, map_id: str | None = None) -> list[dict[str, Any]]:
        """The grid rows of a map (the chosen one by default): dicts of widgets keyed by :data:`COLUMNS`."""
        return [w for _, w, _ in self._grid_for(map_id or self.map_choice.value)]

    def _row(self, m: dict[str, Any], a: dict[str, Any] | None) -> dict[str, Any]:
        import ipywidgets as W

        from workbench.kpis import KPIS
        from workbench.maps import ROLES, TRACKS, label

        lang = self.lang
        new = a is None
        a = a or {"month": m["months"][0], "track": "sales", "owner": m["owner"], "activity": self.tr("new_activity"),
                  "kpi": "", "unit": "", "target": None}
        text = str(a["activity"])
        w: dict[str, Any] = {
            "month": W.Dropdown(options=[(fmt.month(x, lang, short=True), x) for x in m["months"]], value=a["month"]),
            "track": W.Dropdown(options=[(label("track", x, lang), x) for x in TRACKS], value=a["track"]),
            "owner": W.Dropdown(options=[(label("owner", x, lang), x) for x in ROLES], value=a["owner"]),
            "activity": W.Textarea(value=text, rows=max(2, math.ceil(len(text) / 38))),
        }
        if new:
            w["kpi"] = W.Dropdown(options=[(self.tr("no_kpi"), "")] + [(label("kpi", k, lang), k) for k in KPIS],
                                  value="")
        else:
            w["kpi"] = W.HTML(esc(a.get("kpi_name") or self.tr("no_kpi")))
        unit = str(a.get("unit") or "")
        w["target"] = W.Text(value=target_text(a.get("target"), unit, lang), disabled=not a.get("kpi"),
                             placeholder="—")
        w["unit"] = W.HTML(esc(self._unit_sign(unit)))
        w["delete"] = W.Checkbox(value=False, indent=False, description="")
        w["delete"].add_class("wb-ws-delete")
        if new:
            def on_kpi(change: Any, row: dict[str, Any] = w) -> None:
                row["target"].disabled = not change["new"]
                row["unit"].value = esc(self._unit_sign(KPIS[change["new"]].unit if change["new"] else ""))
            w["kpi"].observe(on_kpi, names="value")
        return w

    def _unit_sign(self, unit: str) -> str:
        if unit in PERCENT_UNITS:
            return units.unit_sign("pct", self.lang)
        return units.unit_sign("money", self.lang, self.ws.currency) if unit == "currency" else ""

    def _grid_for(self, map_id: str) -> list[tuple[dict[str, Any] | None, dict[str, Any], str]]:
        if map_id not in self._grids:
            m = self.map(map_id)
            self._grids[map_id] = [(a, self._row(m, a), "") for a in m["activities"]]
        return self._grids[map_id]

    def show_grid(self) -> None:
        import ipywidgets as W

        map_id = self.map_choice.value
        if not map_id:
            self.map_grid.children = [W.HTML(esc(self.tr("maps_none")))]
            return
        head = W.HTML("<div class='wb-ws-map-head'>" + "".join(
            f"<span class='wb-ws-col-{k}'>{esc(self.tr('col_' + k))}</span>" for k in COLUMNS) + "</div>")
        rows = []
        for _a, w, _key in self._grid_for(map_id):
            target = W.HBox([w["target"], w["unit"]])
            parts = [w["month"], w["track"], w["owner"], w["activity"], w["kpi"], target, w["delete"]]
            for k, part in zip(COLUMNS, parts):
                part.add_class(f"wb-ws-col-{k}")
            row = W.HBox(parts)
            row.add_class("wb-ws-map-row")
            rows.append(row)
        self.map_grid.children = [head, *rows]

    def add_row(self, map_id: str | None = None) -> dict[str, Any]:
        """Add an empty row to a map's grid (the chosen map by default); return its widgets."""
        map_id = map_id or self.map_choice.value
        grid = self._grid_for(map_id)
        self._new_rows += 1
        w = self._row(self.map(map_id), None)
        grid.append((None, w, f"{NEW_ITEM_PREFIX}-{self._new_rows}"))
        if map_id == self.map_choice.value:
            self.show_grid()
        return w

    def pending(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The map edits the grids hold that are not saved yet, and what cannot be read (room's words).

        Also sets ``lines``: what the edits do, one line per changed row, for the save panel.
        """
        from workbench.kpis import KPIS

        edits: list[dict[str, Any]] = []
        problems: list[str] = []
        self.lines: list[str] = []
        for map_id, rows in self._grids.items():
            name = self.map(map_id)["name"]
            for original, w, new_key in rows:
                values = {k: w[k].value for k in ("month", "track", "owner", "activity", "delete")}
                kpi = (original.get("kpi") or "") if original is not None else w["kpi"].value
                unit = str((original or {}).get("unit") or (KPIS[kpi].unit if kpi else ""))
                values["kpi"] = kpi
                where = f"«{name}», {fmt.month(values['month'], self.lang, short=True)}"
                if not str(values["activity"]).strip() and not values["delete"]:
                    problems.append(self.tr("activity_empty", where=where))
                    continue
                shown = w["target"].value
                if original is not None and shown == target_text(original.get("target"), unit, self.lang):
                    values["target"] = original.get("target")  # unchanged text: keep the exact value
                elif kpi and not values["delete"]:
                    try:
                        values["target"] = read_target(shown, unit, self.lang)
                    except units.NotANumber as exc:
                        problems.append(self.tr("target_unreadable", where=where, reason=str(exc)))
                        continue
                row_edits = activity_edits(map_id, original, values, new_key=new_key)
                if row_edits:
                    edits.extend(row_edits)
                    self.lines.append(self._describe(name, original, values, row_edits, unit))
        return edits, problems

    def _describe(self, name: str, original: Mapping[str, Any] | None, values: Mapping[str, Any],
                  edits: list[dict[str, Any]], unit: str) -> str:
        """One changed row in the room's words."""
        from workbench.maps import label

        lang = self.lang
        what = short(str((original or values)["activity"]))
        month = fmt.month(values["month"], lang, short=True)
        if original is None:
            return self.tr("map_added", map=name, month=month, what=what)
        was = fmt.month(original["month"], lang, short=True)
        if values.get("delete"):
            return self.tr("map_removed", map=name, month=was, what=what)
        if edits[0]["action"] == "remove":
            return self.tr("map_moved", map=name, what=what, before=was, after=month)
        e = edits[0]
        parts = []
        if "owner" in e:
            parts.append(f"{self.tr('col_owner').lower()}: {label('owner', e['owner'], lang)}")
        if "target" in e:
            parts.append(f"{self.tr('col_target').lower()}: {target_text(e['target'], unit, lang)}"
                         f"{fmt.NBSP + self._unit_sign(unit) if self._unit_sign(unit) else ''}")
        if "activity" in e:
            parts.append(self.tr("text_changed"))
        return self.tr("map_changed", map=name, month=month, what=what, changes="; ".join(parts))

    def say(self, text: str, detail: str = "", error: bool = False) -> None:
        self.message.value = message_html(text, detail, error)


PANEL = MapsPanel
