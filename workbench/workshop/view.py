"""The presentation view: the workshop on a projector, served by Voilà.

``workbench workshop engagements/<slug>`` (and ``make workshop``) starts Voilà on
``presentation.ipynb`` beside this module with the ``workbench-room`` template: no code,
no Jupyter chrome, nothing to edit but the panels. Voilà is the Jupyter project's tool for
exactly this (a notebook's outputs as a web application, each visitor with their own
kernel). The engagement travels to the kernel in the environment variable
:data:`ENV`; without one the view lists the engagements under the folder given and the
room picks one.

The view: a header (client, month), then one tab per panel, built when first opened;
large type for the back of the room (``room.css``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from workbench.i18n import t
from workbench.report.html import esc
from workbench.workshop.common import HERE, stylesheet

ENV = "WORKBENCH_WORKSHOP"          # JSON {"engagement", "root", "month", "lang"} for the kernel
NOTEBOOK = HERE / "presentation.ipynb"
TEMPLATE = "workbench-room"          # jupyter/voila/templates/workbench-room beside this module
TABS = ("thresholds", "explorer", "maps", "cjm", "saving")


def settings_from_env() -> dict[str, str]:
    """What ``workbench workshop`` passed to the kernel (empty values when run by hand)."""
    raw = json.loads(os.environ.get(ENV) or "{}")
    return {k: str(raw.get(k) or "") for k in ("engagement", "root", "month", "lang")}


def engagements(root: str | Path) -> list[tuple[str, str, Path]]:
    """The engagements under ``root``: (slug, client name, folder), by slug; unreadable ones named by slug."""
    from workbench.config import load_engagement
    from workbench.errors import WorkbenchError

    out = []
    folder = Path(root)
    for path in sorted(p for p in folder.iterdir() if (p / "engagement.yaml").is_file()) if folder.is_dir() else []:
        try:
            client = load_engagement(path).client or path.name
        except WorkbenchError:
            client = path.name
        out.append((path.name, client, path))
    return out


def presentation(engagement_dir: str = "", month: str = "", lang: str = "", root: str = "") -> Any:
    """The whole view: the workshop of ``engagement_dir``, or the list of engagements under ``root``.

    Empty arguments are taken from :data:`ENV` (set by ``workbench workshop``).
    """
    import ipywidgets as W

    env = settings_from_env()
    engagement_dir, month = engagement_dir or env["engagement"], month or env["month"]
    lang, root = lang or env["lang"], root or env["root"]
    page = W.VBox()
    page.add_class("wb-room")
    if engagement_dir:
        page.children = [_opened(engagement_dir, month, lang)]
    else:
        page.children = [_chooser(page, Path(root or "engagements"), month, lang)]
    return page


def _style() -> Any:
    import ipywidgets as W

    return W.HTML(f"<style>{stylesheet('panels.css')}{stylesheet('room.css')}</style>")


def _opened(engagement_dir: str | Path, month: str, lang: str) -> Any:
    """The workshop of one engagement, or the reason it cannot open (without the server's paths)."""
    import ipywidgets as W

    from workbench.errors import WorkbenchError
    from workbench.workshop.common import message_html

    try:
        return _room(engagement_dir, month, lang)
    except WorkbenchError as exc:
        text = str(exc).replace(str(Path(engagement_dir).resolve().parent) + os.sep, "")
        head, _, rest = text.partition("\n")
        return W.VBox([_style(), W.HTML(message_html(head, rest, error=True))])


def _room(engagement_dir: str | Path, month: str, lang: str) -> Any:
    """Header and tabs for one engagement; each panel built when its tab is first opened."""
    import ipywidgets as W

    from workbench.report import fmt
    from workbench.workshop.session import Workshop

    ws = Workshop(engagement_dir, month, lang)
    header = W.HTML(f"<header class='wb-room-header'><span class='wb-room-client'>{esc(ws.engagement.client)}</span>"
                    f"<span class='wb-room-month'>{esc(ws.tr('header_month', month=fmt.month(ws.month, ws.lang)))}"
                    "</span></header>")
    holders = [W.VBox() for _ in TABS]
    for name, holder in zip(TABS, holders):
        holder.add_class(f"wb-room-tab-{name}")
    tabs = W.Tab(children=holders, titles=[ws.tr("tab")[n] for n in TABS])
    tabs.add_class("wb-room-tabs")

    def open_tab(index: int | None) -> None:
        if index is None:
            return
        name = TABS[index]
        if not holders[index].children:
            holders[index].children = [getattr(ws, name).widget]
        if name == "saving":
            ws.saving.refresh()

    tabs.observe(lambda c: open_tab(c["new"]), names="selected_index")
    open_tab(0)
    box = W.VBox([_style(), header, tabs])
    box.workshop = ws  # for code that drives the view (tests)
    return box


def _chooser(page: Any, root: Path, month: str, lang: str) -> Any:
    """Big buttons, one per engagement under ``root``; a click opens its workshop in place."""
    import ipywidgets as W

    lang = lang or "ru"
    found = engagements(root)
    buttons = []
    for slug, client, path in found:
        b = W.Button(description=client if client == slug else f"{client} · {slug}", layout=W.Layout(width="auto"))
        b.add_class("wb-room-choice")

        def pick(_b: Any, path: Path = path) -> None:
            page.children = [W.HTML(f"<p class='wb-room-wait'>{esc(t('workshop.opening', lang))}</p>")]
            page.children = [_opened(path, month, lang)]

        b.on_click(pick)
        buttons.append(b)
    text = t("workshop.choose_engagement", lang) if found else t("workshop.no_engagements", lang)
    return W.VBox([_style(), W.HTML(f"<h1 class='wb-room-choose'>{esc(text)}</h1>"), *buttons])


def serve(engagement: Path | None, root: Path, month: str = "", lang: str = "", port: int = 8866,
          open_browser: bool = True) -> None:
    """Run Voilà on the presentation notebook until interrupted (the ``workbench workshop`` command)."""
    from voila.app import Voila

    os.environ[ENV] = json.dumps({"engagement": str(engagement.resolve()) if engagement else "",
                                  "root": str(root.resolve()), "month": month, "lang": lang})
    # our template is found on the Jupyter data path, ahead of the installed ones
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(HERE / "jupyter"), os.environ.get("JUPYTER_PATH"))
                                                 if p)
    argv = [str(NOTEBOOK), f"--template={TEMPLATE}", "--theme=light", f"--port={port}", "--Voila.ip=127.0.0.1",
            "--Voila.port_retries=0", "--VoilaConfiguration.show_tracebacks=False", "--strip_sources=True",
            *([] if open_browser else ["--no-browser"])]
    Voila.launch_instance(argv=argv)
