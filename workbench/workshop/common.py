"""What every panel shares: the base class, status messages and the style sheets."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.report.html import esc

if TYPE_CHECKING:
    from workbench.workshop.session import Workshop

HERE = Path(__file__).parent


@cache
def stylesheet(name: str) -> str:
    """The text of a style sheet shipped beside this module (``panels.css``, ``room.css``)."""
    return (HERE / name).read_text(encoding="utf-8")


def message_html(text: str, detail: str = "", error: bool = False) -> str:
    """A status line for a panel (red when refused), with the reasons below it; escaped."""
    cls = "wb-ws-error" if error else "wb-ws-ok"
    body = f"<div class='wb-ws-msg {cls}' role='status'>{esc(text)}"
    if detail:
        items = "".join(f"<li>{esc(line.strip().lstrip('- '))}</li>" for line in detail.splitlines() if line.strip())
        body += f"<ul class='wb-ws-reasons'>{items}</ul>"
    return body + "</div>"


def tip(text: str, term: str) -> str:
    """Plain words with the expert term as a tooltip (``title``), escaped."""
    return f"<span class='wb-ws-term' title='{esc(term)}'>{esc(text)}</span>" if term else esc(text)


class Panel:
    """A panel of the workshop: ``widget`` is what a notebook or the presentation view shows."""

    name = ""

    def __init__(self, ws: Workshop) -> None:
        self.ws = ws
        self.lang = ws.lang
        self.widget: Any = None

    def tr(self, key: str, **kw: Any) -> Any:
        return self.ws.tr(key, **kw)

    def heading(self) -> Any:
        """The panel's title with its one-line explanation (an HTML widget)."""
        import ipywidgets as W

        return W.HTML(f"<style>{stylesheet('panels.css')}</style>"
                      f"<h2 class='wb-ws-title'>{esc(self.tr('title_' + self.name))}</h2>"
                      f"<p class='wb-ws-intro'>{esc(self.tr('intro_' + self.name))}</p>")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
