"""The save panel: what will be written, then write it to ``overrides/`` (or undo the last save).

Before anything is written the panel lists, in the room's words, the thresholds that
changed (before → after), each map edit and each CJM template edit, with the file each
goes to. Saving validates everything first; an invalid part refuses the whole save and
nothing is written. Files are written by :mod:`workbench.io.workshopfiles` (atomically,
the previous version kept in ``overrides/.history/``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from workbench.config import SETTINGS_OVERRIDES_NAME
from workbench.errors import ConfigError, LockError
from workbench.io.lock import EngagementLock
from workbench.report.html import esc
from workbench.workshop.common import Panel, message_html
from workbench.workshop.session import get_path, merge_tree


@dataclass
class Plan:
    """What a save would write: lines for the room, the trees to write, what is wrong."""

    settings: dict[str, Any] = field(default_factory=dict)      # partial settings tree laid over the saved one
    map_edits: list[dict[str, Any]] = field(default_factory=list)
    cjm: dict[str, dict[str, Any]] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)  # file -> what changes in it
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.settings or self.map_edits or self.cjm)


class SavePanel(Panel):
    """The list of what will be written, the save and undo buttons, and the result of the last action."""

    name = "saving"

    def __init__(self, ws: Any) -> None:
        import ipywidgets as W

        super().__init__(ws)
        self.summary = W.HTML()
        self.summary.add_class("wb-ws-summary")
        check = W.Button(description=self.tr("check"), layout=W.Layout(width="auto"))
        check.on_click(lambda _b: self.refresh())
        self.save_button = W.Button(description=self.tr("save"), button_style="success", layout=W.Layout(width="auto"))
        self.undo_button = W.Button(description=self.tr("undo"), layout=W.Layout(width="auto"))
        self.message = W.HTML()
        self.message.add_class("wb-ws-save-message")
        self.save_button.on_click(lambda _b: self.save())
        self.undo_button.on_click(lambda _b: self.undo())
        buttons = W.HBox([check, self.save_button, self.undo_button])
        buttons.add_class("wb-ws-buttons")
        self.widget = W.VBox([self.heading(), self.summary, buttons, self.message])
        self.widget.add_class("wb-ws-save")
        self.widget.add_class("wb-ws-panel")
        self.last_message = ""
        self.refresh()

    # --- what would be written ----------------------------------------------------------------
    def plan(self) -> Plan:
        """Collect and check what the panels hold that is not saved yet."""
        from workbench.cjm import validate_cjm_templates
        from workbench.io import workshopfiles as wf
        from workbench.io.yamlfiles import MAP_OVERRIDES_NAME

        ws, p = self.ws, Plan()
        thresholds = ws.built("thresholds")
        if not ws.valid and thresholds is not None:
            p.problems.append(thresholds.message_text())
        changes = ws.settings_changes() if ws.valid else {}
        if changes:
            p.settings = merge_tree(wf.read_settings_overrides(ws.overrides_dir, self.lang), changes)
            reason = ws.check_settings(p.settings)
            if reason:
                p.problems.append(reason)
            p.lines[SETTINGS_OVERRIDES_NAME] = self._settings_lines()
        maps = ws.built("maps")
        if maps is not None:
            p.map_edits, problems = maps.pending()
            p.problems += problems
            if p.map_edits:
                try:
                    ws.draft_maps(ws.result if changes else ws.agreed, edits=ws.saved_map_edits() + p.map_edits)
                except ConfigError as exc:
                    p.problems.append(self._plain(str(exc)))
                p.lines[MAP_OVERRIDES_NAME] = list(maps.lines)
        cjm = ws.built("cjm")
        if cjm is not None:
            p.cjm = cjm.pending()
            if p.cjm:
                sources = copy.deepcopy(ws.cjm_templates["sources"])
                for name, data in p.cjm.items():
                    sources[name] = {"source": f"overrides/cjm/{name}.yaml", "data": data, "override": True}
                    title = ws.cjm_templates["valid"]["segments"][name]["title"][self.lang]
                    p.lines[f"cjm/{name}.yaml"] = [f"{title}: {line}" for line in cjm.describe(name)] + cjm.notes
                try:
                    validate_cjm_templates(sources, ws.engagement.settings["cjm"]["stages"], self.lang)
                except ConfigError as exc:
                    p.problems.append(self._plain(str(exc)))
        p.problems = [x for x in p.problems if x]
        return p

    def _settings_lines(self) -> list[str]:
        from workbench.workshop import units
        from workbench.workshop.thresholds import CONTROLS, field_text

        names = self.tr("control")
        out = []
        for c in CONTROLS:
            old, new = get_path(self.ws.agreed_settings, c.key), get_path(self.ws.seg_settings, c.key)
            if old != new:
                sign = units.unit_sign(c.unit, self.lang)
                show = (lambda v: field_text(units.to_display(v, c.unit), c.decimals, self.lang)  # noqa: E731
                        + (" " + sign if sign else ""))
                out.append(f"{names[c.key]['label']}: {show(old)} → {show(new)}")
        return out

    def _plain(self, text: str) -> str:
        """A validation message without the server's paths (the room sees the engagement's files only)."""
        root = str(self.ws.engagement.root)
        return text.replace(root + "/", "").replace(root, "")

    def refresh(self) -> Plan:
        """Show what a save would write now (or what stops it)."""
        p = self.plan()
        if p.problems:
            self.summary.value = message_html(self.tr("will_refuse"), "\n".join(p.problems), error=True)
        elif p.empty:
            self.summary.value = f"<p class='wb-ws-nothing'>{esc(self.tr('nothing_to_save'))}</p>"
        else:
            groups = "".join(
                f"<li><b>{esc(self.tr('file_' + ('cjm' if f.startswith('cjm/') else f.split('.')[0])))}</b>"
                f" <span class='wb-ws-file'>overrides/{esc(f)}</span>"
                f"<ul>{''.join(f'<li>{esc(line)}</li>' for line in lines)}</ul></li>"
                for f, lines in p.lines.items())
            self.summary.value = (f"<p class='wb-ws-will'>{esc(self.tr('will_write'))}</p>"
                                  f"<ul class='wb-ws-plan'>{groups}</ul>")
        return p

    # --- write, undo ----------------------------------------------------------------------------
    def _say(self, text: str, detail: str = "", error: bool = False) -> None:
        self.message.value = message_html(text, detail, error)
        self.last_message = text + ("\n" + detail if detail else "")

    def save(self) -> bool:
        """Validate everything the room changed and write it to ``overrides/``; False when refused.

        Writes ``settings.yaml`` (the existing partial tree with the moved thresholds laid
        over it), ``maps.yaml`` (the saved edits followed by the new ones) and the edited CJM
        templates as whole copies in ``cjm/``. Any invalid part refuses the whole save.
        """
        from workbench.io import workshopfiles as wf
        from workbench.io.yamlfiles import MAP_OVERRIDES_NAME

        p = self.refresh()
        if p.problems:
            self._say(self.tr("save_refused"), "\n".join(p.problems), error=True)
            return False
        if p.empty:
            self._say(self.tr("nothing_to_save"))
            return False
        stamp = wf.new_stamp()
        header = self.tr("file_header", stamp=stamp)
        files: dict[str, str] = {}
        if p.settings:
            files[SETTINGS_OVERRIDES_NAME] = wf.yaml_text(p.settings, header)
        if p.map_edits:
            files[MAP_OVERRIDES_NAME] = wf.yaml_text({"edits": self.ws.saved_map_edits() + p.map_edits}, header)
        for name, data in p.cjm.items():
            files[f"cjm/{name}.yaml"] = wf.yaml_text(data, header)
        try:  # never under a running `workbench run`: it reads overrides/ while it works
            with EngagementLock(self.ws.engagement.root, "workbench workshop: save", self.lang):
                wf.save_files(self.ws.overrides_dir, files, stamp)
        except LockError as exc:
            self._say(self.tr("save_refused"), str(exc), error=True)
            return False
        detail = "\n".join(line for lines in p.lines.values() for line in lines)
        self.ws.reload()
        self.refresh()
        self._say(self.tr("saved", files=", ".join(f"overrides/{f}" for f in files)), detail)
        return True

    def undo(self) -> bool:
        """Restore the files as they were before the last save; False when there is nothing to undo."""
        from workbench.io import workshopfiles as wf

        try:
            with EngagementLock(self.ws.engagement.root, "workbench workshop: undo", self.lang):
                done = wf.undo_last(self.ws.overrides_dir)
        except LockError as exc:
            self._say(self.tr("undo_refused"), str(exc), error=True)
            return False
        if done is None:
            self._say(self.tr("nothing_to_undo"))
            return False
        _stamp, files = done
        self.ws.reload()
        self.refresh()
        self._say(self.tr("undone", files=", ".join(f"overrides/{f}" for f in files)))
        return True


PANEL = SavePanel
