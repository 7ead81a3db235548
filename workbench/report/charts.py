"""Charts for the report: matplotlib figures embedded as PNG data URIs.

Imported only by code that draws (matplotlib is heavy). Client text reaches charts as
labels: mathtext is switched off so a name like ``$x$`` is drawn as it is, and the
``alt`` text is escaped.
"""
from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from workbench.report.html import esc

PALETTE = {
    "vip": "#7b2d8b", "strategic": "#1f6fb2", "typical": "#4c9a5f", "ballast": "#b0b0b0",
    "A": "#1f6fb2", "B": "#5aa0d6", "C": "#b9d3ea",
    "accent": "#d9822b", "grid": "#e6e6e6", "text": "#222222", "muted": "#777777",
    "ok": "#4c9a5f", "warn": "#d9822b", "risk": "#c0392b",
}
TRACK_COLORS = {"product": "#8e6bbf", "marketing": "#d9822b", "sales": "#1f6fb2", "success": "#4c9a5f"}

_STYLE: dict[str, Any] = {
    "text.parse_math": False,     # client names must never be parsed as TeX
    "font.family": "DejaVu Sans",  # ships with matplotlib, has Cyrillic
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": PALETTE["grid"],
    "axes.axisbelow": True,
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
}


def figure(width: float = 8.0, height: float = 4.0, **kwargs: Any) -> tuple[Any, Any]:
    """A new figure and axes in the report's style (inches)."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(width, height), **kwargs)
    return fig, ax


def style() -> Any:
    """Context manager applying the report style: ``with style(): ...``."""
    return plt.rc_context(_STYLE)


def to_png(fig: Any, tight: bool = True) -> bytes:
    """Render a figure to PNG bytes and close it.

    The image is reduced to an adaptive 256-colour palette: charts have few colours, and
    the report must stay small enough to email (a full-colour PNG is 3-4 times larger).
    """
    from PIL import Image

    buf = io.BytesIO()
    # tight=False: the caller laid out the margins itself, sparing the extra drawing pass
    # that a tight bounding box costs (a third of the time on text-heavy charts).
    with plt.rc_context({**_STYLE, "savefig.bbox": "tight" if tight else None}):
        fig.savefig(buf, format="png")
    plt.close(fig)
    buf.seek(0)
    image = Image.open(buf).convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def to_img(fig: Any, alt: str, tight: bool = True) -> str:
    """Render a figure as an ``<img>`` with an embedded PNG (data URI) and escaped alt text."""
    data = base64.b64encode(to_png(fig, tight)).decode("ascii")
    return f'<figure class="wb-chart"><img src="data:image/png;base64,{data}" alt="{esc(alt)}"></figure>'


def short_label(text: Any, limit: int = 28) -> str:
    """Shorten a client label for an axis."""
    s = "" if text is None else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"
