"""The state of one workshop: the engagement, the agreed and the current segmentation.

The panels (thresholds, explorer, maps, CJM, save) are built on first use and talk to
each other only through this object: a panel that changes the segmentation calls
:meth:`Workshop.resegment`, and every built panel hears of it through :meth:`notify`.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from workbench.config import TEMPLATES_DIR, Engagement, load_engagement, validate
from workbench.errors import ConfigError
from workbench.i18n import t

PANELS = ("thresholds", "explorer", "maps", "cjm", "saving")


def get_path(tree: Mapping[str, Any], path: str) -> Any:
    """``get_path({"a": {"b": 1}}, "a.b") -> 1``."""
    node: Any = tree
    for part in path.split("."):
        node = node[part]
    return node


def set_path(tree: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a deep copy of ``tree`` with ``path`` set to ``value`` (missing levels created)."""
    out = copy.deepcopy(dict(tree))
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


class Workshop:
    """One engagement in a live session.

    Parameters
    ----------
    engagement_dir : the engagement folder
    month : reporting month 'YYYY-MM' ("" = the month of the latest sale)
    lang : language of the labels ("" = the engagement's)
    step_dir, out_dir, refresh_import : as in :func:`workbench.steps.context`

    Attributes: ``agreed`` / ``result`` (agreed and current SegmentationResult),
    ``agreed_settings`` / ``seg_settings`` (their ``segmentation`` trees), ``changes`` (who
    moved, :func:`workbench.workshop.compare.changed_customers`), ``valid`` (False while
    the thresholds panel holds a value the room cannot use). The panels are the
    attributes ``thresholds``, ``explorer``, ``maps``, ``cjm`` and ``saving``.
    """

    def __init__(self, engagement_dir: str | Path, month: str = "", lang: str = "", step_dir: str = "",
                 out_dir: str = "", refresh_import: bool = False) -> None:
        from workbench import steps

        self.ctx = steps.context(str(engagement_dir), month, lang, step_dir, out_dir, refresh_import=refresh_import)
        self.lang = self.ctx.lang
        self.month = self.ctx.month
        self.currency = self.ctx.currency
        if not (self.ctx.engagement.work_dir / "ledger.parquet").is_file():
            steps.import_step(self.ctx.engagement)
        self.ledger = steps.load_ledger(self.ctx)
        self.customers = steps.load_customers(self.ctx)
        self.last_seconds = 0.0
        self.valid = True
        self._panels: dict[str, Any] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._maps_cache: dict[int, Any] = {}
        self._map_tpl: dict[str, Any] | None = None
        self._load_agreed(self.ctx.engagement)

    # --- panels, built on first use ---------------------------------------------------------
    def _panel(self, name: str) -> Any:
        if name not in self._panels:
            from importlib import import_module

            module = import_module(f"workbench.workshop.{'save' if name == 'saving' else name}")
            self._panels[name] = module.PANEL(self)
        return self._panels[name]

    thresholds = property(lambda self: self._panel("thresholds"), doc="The thresholds panel.")
    explorer = property(lambda self: self._panel("explorer"), doc="The customer explorer.")
    maps = property(lambda self: self._panel("maps"), doc="The development maps grid.")
    cjm = property(lambda self: self._panel("cjm"), doc="The CJM panel.")
    saving = property(lambda self: self._panel("saving"), doc="The save and undo panel.")

    def built(self, name: str) -> Any | None:
        """The panel ``name`` if it has been built, else None."""
        return self._panels.get(name)

    def on_event(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(event)`` on ``"result"`` (segmentation changed) and ``"reload"`` (after save/undo)."""
        self._listeners.append(listener)

    def notify(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(event)

    def show(self) -> Any:
        """Every panel in one column (a notebook that wants a single call)."""
        import ipywidgets as W

        return W.VBox([self._panel(n).widget for n in PANELS])

    # --- state ------------------------------------------------------------------------------
    @property
    def engagement(self) -> Engagement:
        return self._engagement

    @property
    def overrides_dir(self) -> Path:
        return self._engagement.overrides_dir

    def tr(self, key: str, **kw: Any) -> Any:
        """A workshop message in the session's language."""
        return t(f"workshop.{key}", self.lang, **kw)

    def _load_agreed(self, eng: Engagement) -> None:
        """Take ``eng`` (engagement.yaml + overrides) as the agreed version."""
        from workbench.segment import segment
        from workbench.workshop.compare import changed_customers

        self._engagement = eng
        self.agreed_settings = copy.deepcopy(eng.settings["segmentation"])
        self.seg_settings = copy.deepcopy(self.agreed_settings)
        self.agreed = segment(self.ledger, self.customers, self.agreed_settings, self.month, self.lang)
        self.result = self.agreed
        self.changes = changed_customers(self.agreed.customers, self.result.customers)
        self.valid = True
        self._maps_cache.clear()
        self.agreed_maps = self.draft_maps(self.agreed)
        self.cjm_templates = self._load_cjm()

    def reload(self) -> None:
        """Read the engagement again (with the overrides), make it the agreed version, tell the panels."""
        self._load_agreed(load_engagement(self._engagement.root))
        self.notify("reload")

    def check_settings(self, changes: Mapping[str, Any]) -> str:
        """"" when ``changes`` (a partial tree) laid over the engagement is valid, else the reasons."""
        try:
            validate(merge_tree(self._engagement.settings, changes), "settings.yaml", self.lang)
        except ConfigError as exc:
            return "\n".join(str(exc).splitlines()[1:]).strip()  # without the header naming a file
        return ""

    def resegment(self, candidate: Mapping[str, Any]) -> None:
        """Segment again with ``candidate`` (a valid ``segmentation`` tree) and tell the panels."""
        from workbench.segment import segment
        from workbench.workshop.compare import changed_customers

        start = time.perf_counter()
        self.valid = True
        self.seg_settings = copy.deepcopy(dict(candidate))
        self.result = segment(self.ledger, self.customers, self.seg_settings, self.month, self.lang)
        self.changes = changed_customers(self.agreed.customers, self.result.customers)
        self.notify("result")
        self.last_seconds = time.perf_counter() - start

    def settings_changes(self) -> dict[str, Any]:
        """The thresholds moved since the agreed version, as a partial settings tree."""
        from workbench.workshop.thresholds import CONTROLS

        out: dict[str, Any] = {}
        for c in CONTROLS:
            value = get_path(self.seg_settings, c.key)
            if value != get_path(self.agreed_settings, c.key):
                out = set_path(out, f"segmentation.{c.key}", value)
        return out

    # --- maps and CJM templates (drafting is pure; cached per segmentation) ------------------
    def map_templates(self) -> dict[str, Any]:
        from workbench.maps import load_map_templates

        if self._map_tpl is None:
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
        kam_max = (getattr(result, "thresholds", None) or {}).get("key_accounts.kam_max")
        res = draft_maps(result.customers, self.ledger, self._engagement.settings["maps"], self.month,
                         self.map_templates(), self.lang, overrides=over if over["edits"] else None,
                         kam_max=None if kam_max is None else int(kam_max))
        if key is not None:
            self._maps_cache = {key: res}
        return res

    def _load_cjm(self) -> dict[str, Any]:
        from workbench.cjm import load_cjm_templates
        from workbench.io.cjmfiles import read_cjm_sources

        root = self._engagement.root
        stages = self._engagement.settings["cjm"]["stages"]
        return {"sources": read_cjm_sources(TEMPLATES_DIR / "cjm", root, self.lang),
                "valid": load_cjm_templates(TEMPLATES_DIR / "cjm", root, stages, self.lang)}

    # --- what the save panel does, callable from code -----------------------------------------
    def save(self) -> bool:
        """Validate everything the room changed and write it to ``overrides/`` (see the save panel)."""
        return bool(self.saving.save())

    def undo(self) -> bool:
        """Restore the files as they were before the last save."""
        return bool(self.saving.undo())
