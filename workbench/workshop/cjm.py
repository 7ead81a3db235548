"""The CJM panel: a segment's value elements (checkboxes by level) and its filled cells.

Each filled cell holds the contact's role and the manager's action at a funnel stage for a
customer progress or a value element (source 004). Edited templates are written as whole
copies to ``overrides/cjm/<segment>.yaml`` by the save panel.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from workbench.i18n import t
from workbench.report import fmt
from workbench.report.html import esc
from workbench.workshop.common import Panel, message_html

CJM_TEMPLATES = ("vip", "strategic", "typical", "ballast", "key_account")
CJM_DEFAULT_CHECKPOINT = {"unit": "share", "target": 0.3}


class CjmPanel(Panel):
    """Choose a segment template; tick its value elements; edit, add and delete filled cells."""

    name = "cjm"

    def __init__(self, ws: Any) -> None:
        import ipywidgets as W

        super().__init__(ws)
        lang = self.lang
        valid = ws.cjm_templates["valid"]
        self.choice = W.Dropdown(options=[(valid["segments"][n]["title"][lang], n) for n in CJM_TEMPLATES
                                          if n in valid["segments"]], layout=W.Layout(width="auto"))
        self.elements: dict[str, Any] = {}
        levels: dict[str, list[Any]] = {}
        for code, e in valid["elements"].items():
            box = W.Checkbox(value=False, description=e[lang], indent=False, layout=W.Layout(width="auto"))
            box.add_class("wb-ws-element")
            box.observe(self._on_element, names="value")
            self.elements[code] = box
            levels.setdefault(e.get("level", ""), []).append(box)
        level_names = t("cjm.level", lang)
        blocks = []
        for level, boxes in levels.items():
            grid = W.GridBox(boxes)
            grid.add_class("wb-ws-elements-grid")
            blocks += [W.HTML(f"<h4>{esc(level_names.get(level, level))}</h4>"), grid]
        self.elements_box = W.VBox(blocks)
        self.elements_box.add_class("wb-ws-elements")
        self.grid = W.VBox()
        self.grid.add_class("wb-ws-cjm-grid")
        rows = [(p[lang], code) for code, p in valid["progresses"].items()] + \
               [(e[lang], code) for code, e in valid["elements"].items()]
        self.new = {
            "row": W.Dropdown(options=rows, layout=W.Layout(width="auto")),
            "stage": W.Dropdown(options=[(s[lang], s["code"]) for s in valid["stages"]], layout=W.Layout(width="auto")),
            "role": W.Dropdown(options=[(r[lang], code) for code, r in valid["roles"].items()],
                               layout=W.Layout(width="auto")),
            "action": W.Textarea(placeholder=self.tr("action_hint"), rows=2, layout=W.Layout(width="auto")),
        }
        add = W.Button(description=self.tr("add_cell"), layout=W.Layout(width="auto"))
        add.on_click(lambda _b: self.add_cell())
        new_box = W.GridBox([W.HTML(f"<label>{esc(self.tr('col_' + k))}</label>") for k in self.new]
                            + list(self.new.values()))
        new_box.add_class("wb-ws-cjm-new")
        self.message = W.HTML()
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._data: dict[str, dict[str, Any]] = {}
        self._silent = False
        self.notes: list[str] = []
        self.choice.observe(lambda _c: self.show(), names="value")
        self.widget = W.VBox([
            self.heading(), W.HBox([W.HTML(f"<label>{esc(self.tr('template'))}</label>"), self.choice]),
            W.HTML(f"<h3>{esc(self.tr('elements'))}</h3>"), self.elements_box,
            W.HTML(f"<h3>{esc(self.tr('cells_title'))}</h3>"), self.grid,
            W.HTML(f"<h3>{esc(self.tr('new_cell'))}</h3>"), new_box, add, self.message])
        self.widget.add_class("wb-ws-cjm")
        self.widget.add_class("wb-ws-panel")
        ws.on_event(lambda e: self.reset() if e == "reload" else None)
        self.show()

    def reset(self) -> None:
        """Forget unsaved edits; show the agreed templates."""
        self._rows, self._data = {}, {}
        self.show()

    def data(self, name: str) -> dict[str, Any]:
        """The working copy of template ``name`` (elements as ticked; cells as loaded)."""
        if name not in self._data:
            self._data[name] = copy.deepcopy(self.ws.cjm_templates["sources"][name]["data"]) or {}
        return self._data[name]

    def _on_element(self, _change: Any) -> None:
        if self._silent:
            return
        name = self.choice.value
        ticked = [c for c, box in self.elements.items() if box.value]
        original = list(self.ws.cjm_templates["sources"][name]["data"].get("elements") or [])
        # ticked back to what the template had: keep its order, so nothing counts as changed
        self.data(name)["elements"] = original if set(original) == set(ticked) else ticked

    def chosen_elements(self) -> list[str]:
        """The value elements ticked for the chosen template, in the catalogue's order."""
        return [c for c, box in self.elements.items() if box.value]

    def show(self) -> None:
        import ipywidgets as W

        name = self.choice.value
        valid = self.ws.cjm_templates["valid"]
        data = self.data(name)
        self._silent = True
        try:
            ticked = set(data.get("elements") or [])
            for code, box in self.elements.items():
                box.value = code in ticked
        finally:
            self._silent = False
        stages = {s["code"]: s[self.lang] for s in valid["stages"]}
        labels = {**{c: p[self.lang] for c, p in valid["progresses"].items()},
                  **{c: e[self.lang] for c, e in valid["elements"].items()}}
        head = W.HTML("<div class='wb-ws-cjm-head'>" + "".join(
            f"<span class='wb-ws-cjm-{k}'>{esc(self.tr(h))}</span>" for k, h in
            (("where", "col_where"), ("role", "col_role"), ("action", "col_action"), ("owner", "col_owner"),
             ("delete", "col_delete"))) + "</div>")
        boxes = [head]
        for r in self.rows(name):
            where = W.HTML(f"<b>{esc(labels.get(r['row'], r['row']))}</b><br><span class='wb-ws-muted'>"
                           f"{esc(stages.get(r['stage'], r['stage']))}</span>")
            parts = [where, r["role"], r["action"], r["owner"], r["delete"]]
            for k, part in zip(("where", "role", "action", "owner", "delete"), parts):
                part.add_class(f"wb-ws-cjm-{k}")
            box = W.HBox(parts)
            box.add_class("wb-ws-cjm-row")
            boxes.append(box)
        self.grid.children = boxes

    def rows(self, name: str | None = None) -> list[dict[str, Any]]:
        """The filled cells of a template (the chosen one by default): row, stage, cell and widgets."""
        name = name or self.choice.value
        if name not in self._rows:
            data = self.data(name)
            self._rows[name] = [self._row(row, stage, cell) for row, by_stage in (data.get("cells") or {}).items()
                                if isinstance(by_stage, dict) for stage, cell in by_stage.items()
                                if isinstance(cell, dict)]
        return self._rows[name]

    def _row(self, row: str, stage: str, cell: Mapping[str, Any]) -> dict[str, Any]:
        import ipywidgets as W

        from workbench.cjm import OWNER_ROLES
        from workbench.maps import label

        valid = self.ws.cjm_templates["valid"]
        roles = [(r[self.lang], code) for code, r in valid["roles"].items()]
        role = cell.get("role") if cell.get("role") in valid["roles"] else roles[0][1]
        owner = cell.get("owner", "") if cell.get("owner", "") in OWNER_ROLES else ""
        text = str(cell.get(self.lang) or "")
        return {"row": row, "stage": stage, "cell": dict(cell),
                "role": W.Dropdown(options=roles, value=role),
                "action": W.Textarea(value=text, rows=max(2, math.ceil(len(text) / 45))),
                "owner": W.Dropdown(options=[(self.tr("owner_default"), "")]
                                    + [(label("owner", o, self.lang), o) for o in OWNER_ROLES], value=owner),
                "delete": W.Checkbox(value=False, indent=False, description="")}

    def add_cell(self) -> dict[str, Any] | None:
        """Add the cell described by the "new cell" fields to the chosen template (replaces the same row·stage)."""
        name = self.choice.value
        row, stage = self.new["row"].value, self.new["stage"].value
        action = self.new["action"].value.strip()
        if not action:
            self.message.value = message_html(self.tr("action_empty"), error=True)
            return None
        rows = [r for r in self.rows(name) if not (r["row"] == row and r["stage"] == stage)]
        new = self._row(row, stage, {"role": self.new["role"].value, self.lang: action})
        new["cell"] = {}
        rows.append(new)
        self._rows[name] = rows
        self.new["action"].value = ""
        self.message.value = message_html(self.tr("cell_added"))
        self.show()
        return new

    def template(self, name: str) -> dict[str, Any]:
        """Template ``name`` as the widgets show it (a plain tree in the template file format)."""
        data = copy.deepcopy(self.data(name))
        if name not in self._rows:
            return data
        cells: dict[str, dict[str, Any]] = {}
        other = "en" if self.lang == "ru" else "ru"
        for r in self._rows[name]:
            if r["delete"].value:
                continue
            old = r["cell"]
            text = r["action"].value.strip()
            changed = text != str(old.get(self.lang) or "")
            # the other language keeps its translation unless the text changed (then it takes the new text)
            cell: dict[str, Any] = {"role": r["role"].value, self.lang: text,
                                    other: text if changed or not old.get(other) else old[other]}
            cell = {"role": cell["role"], "ru": cell["ru"], "en": cell["en"]}
            if r["owner"].value:
                cell["owner"] = r["owner"].value
            cells.setdefault(r["row"], {})[r["stage"]] = cell
        data["cells"] = cells
        progresses = self.ws.cjm_templates["valid"]["progresses"]
        checks = dict(data.get("checkpoints") or {})
        for row in cells:
            if row in progresses and row not in checks:
                checks[row] = dict(CJM_DEFAULT_CHECKPOINT)
                self.notes.append(self.tr("checkpoint_added", row=progresses[row][self.lang],
                                          target=fmt.pct(CJM_DEFAULT_CHECKPOINT["target"], self.lang, 0)))
        data["checkpoints"] = checks
        return data

    def describe(self, name: str) -> list[str]:
        """What changed in template ``name``, in the room's words (one line per kind of change)."""
        original = self.ws.cjm_templates["sources"][name]["data"] or {}
        before, after = set(original.get("elements") or []), set(self.data(name).get("elements") or [])
        lines = []
        if before != after:
            lines.append(self.tr("cjm_elements", added=len(after - before), removed=len(before - after)))
        added = changed = deleted = 0
        for r in self._rows.get(name, []):
            old = r["cell"]
            if r["delete"].value:
                deleted += bool(old)
            elif not old:
                added += 1
            elif (r["action"].value.strip() != str(old.get(self.lang) or "") or r["role"].value != old.get("role")
                  or r["owner"].value != (old.get("owner") or "")):
                changed += 1
        if added or changed or deleted:
            lines.append(self.tr("cjm_cells", added=added, changed=changed, deleted=deleted))
        return lines

    def pending(self) -> dict[str, dict[str, Any]]:
        """Template name -> edited tree, for the templates whose content changed."""
        self.notes = []
        out = {}
        for name in CJM_TEMPLATES:
            if name in self._data or name in self._rows:
                data = self.template(name)
                if data != self.ws.cjm_templates["sources"][name]["data"]:
                    out[name] = data
        return out


PANEL = CjmPanel
