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


def waterfall(fig_ax: tuple[Any, Any], start: tuple[str, float], steps: list[tuple[str, float]],
              end: tuple[str, float], label: Any = None) -> None:
    """Draw a waterfall (bridge) on the axes: a start bar, floating steps, an end bar.

    start, end: (label, value); steps: (label, change) in drawing order; rises in the "ok"
    colour, falls in "risk", totals in "strategic" blue. ``label(value)`` gives the text over
    each bar (none when ``label`` is None). The running total after the last step must equal
    ``end`` (the caller's identity); the bars are drawn as given. ``label(value, total)``
    gives the text over each bar (``total`` True for the first and last bars).
    """
    _, ax = fig_ax
    names = [start[0]] + [s[0] for s in steps] + [end[0]]
    bottoms, heights, colors, texts = [0.0], [start[1]], [PALETTE["strategic"]], [start[1]]
    level = start[1]
    for _, change in steps:
        bottoms.append(level if change >= 0 else level + change)
        heights.append(abs(change))
        colors.append(PALETTE["ok"] if change >= 0 else PALETTE["risk"])
        texts.append(change)
        level += change
    bottoms.append(0.0)
    heights.append(end[1])
    colors.append(PALETTE["strategic"])
    texts.append(end[1])
    xs = list(range(len(names)))
    ax.bar(xs, heights, bottom=bottoms, color=colors, width=0.6)
    for x in xs[:-1]:   # connectors: the running total carried to the next bar
        top = bottoms[x] + heights[x] if x == 0 or texts[x] >= 0 else bottoms[x]
        ax.plot([x + 0.3, x + 0.7], [top, top], color=PALETTE["muted"], linewidth=0.8)
    if label is not None:
        span = max(max(b + h for b, h in zip(bottoms, heights)), 1e-9)
        last = len(xs) - 1
        for x, b, h, v in zip(xs, bottoms, heights, texts):
            ax.text(x, b + h + span * 0.01, label(v, x in (0, last)), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(xs, [short_label(n, 18) for n in names], fontsize=8)
    ax.set_ylim(0, max(b + h for b, h in zip(bottoms, heights)) * 1.12 or 1)
