"""Charts for the report: matplotlib figures embedded as inline SVG (vector: sharp on a
phone, a retina laptop and paper; the report stays one self-contained file).

Imported only by code that draws (matplotlib is heavy). Client text reaches charts as
labels: mathtext is switched off so a name like ``$x$`` is drawn as it is, text is drawn
as glyph outlines (the reader's fonts do not matter, no client string is left as markup),
and the ``<title>`` / ``aria-label`` text is escaped.

One palette serves every chart and the report's CSS (``templates/report/report.css`` uses
the same colours): a chart's colours mean the same thing everywhere in the report.
"""
from __future__ import annotations

import hashlib
import io
import re
import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.colors import LinearSegmentedColormap

from workbench.report.fmt import NBSP
from workbench.report.html import esc

# The palette: named colours, then what each code of the report is drawn in.
INK, MUTED, GRID, BRAND = "#1d2733", "#5b6776", "#e3e8ee", "#1f4e79"
BLUE, LIGHT_BLUE, PALE_BLUE = "#2f75b5", "#7fb0dc", "#c9def1"
GREEN, ORANGE, RED, PURPLE, TEAL, GREY = "#3a8a55", "#d9822b", "#b03a2e", "#7a5195", "#2a9d8f", "#a5acb5"

PALETTE = {
    "vip": PURPLE, "strategic": BLUE, "typical": TEAL, "ballast": GREY,
    "A": BLUE, "B": LIGHT_BLUE, "C": PALE_BLUE,
    "accent": ORANGE, "grid": GRID, "text": INK, "muted": MUTED, "brand": BRAND,
    "ok": GREEN, "warn": ORANGE, "risk": RED, "info": BLUE,
    "up": GREEN, "down": RED, "total": BRAND,
}
TRACK_COLORS = {"product": PURPLE, "marketing": ORANGE, "sales": BLUE, "success": GREEN}
# Heat maps: white to the brand blue (one sequential scale for every matrix).
SEQUENTIAL = LinearSegmentedColormap.from_list("workbench", ["#ffffff", PALE_BLUE, BLUE, BRAND])

_STYLE: dict[str, Any] = {
    "text.parse_math": False,     # client names must never be parsed as TeX
    "font.family": "DejaVu Sans",  # ships with matplotlib, has Cyrillic
    "font.size": 10,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": MUTED,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "axes.axisbelow": True,
    "axes.prop_cycle": matplotlib.cycler(color=[BLUE, ORANGE, GREEN, PURPLE, TEAL, RED, GREY]),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "svg.fonttype": "path",       # glyph outlines: the same picture on every machine
    "svg.hashsalt": "workbench",  # stable ids (made unique per chart in to_svg)
}

_ID = re.compile(r'\sid="([^"]+)"')
_REF = re.compile(r'(xlink:href="#|href="#|url\(#)([^")]+)')
_NUM = re.compile(r"(?<![\d.])(-?[1-9]\d*\.\d)\d+")  # coordinates; small factors (scale 0.08) keep theirs
_USE_SHIFT = re.compile(r'(<use [^>]*?)\s?transform="translate\(([-\d.]+) 0\)"')
_PATH_CMD = re.compile(r"([MLCQZz]) (?=[-\d])|(?<=\d) (?=[MLCQZz])")


def figure(width: float = 8.0, height: float = 4.0, **kwargs: Any) -> tuple[Any, Any]:
    """A new figure and axes in the report's style (inches)."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(width, height), **kwargs)
    return fig, ax


def style() -> Any:
    """Context manager applying the report style: ``with style(): ...``."""
    return plt.rc_context(_STYLE)


def to_svg(fig: Any, alt: str, tight: bool = True) -> str:
    """Render a figure to an inline ``<svg>`` element and close it.

    Ids are prefixed with a hash of the picture, so that several charts in one page never
    share an id; unreferenced ids, the XML prologue and matplotlib's metadata are dropped,
    coordinates rounded to 1/10 pt and path data written tightly (half the size, invisible).
    The element scales to its container (``viewBox``) and carries ``alt`` as its accessible name.
    """
    buf = io.StringIO()
    # tight=False: the caller laid out the margins itself, sparing the extra drawing pass
    # that a tight bounding box costs (a third of the time on text-heavy charts).
    with plt.rc_context({**_STYLE, "savefig.bbox": "tight" if tight else None}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = _NUM.sub(r"\1", svg)  # 1/10 pt: finer than any printer or screen shows
    svg = _USE_SHIFT.sub(r'\1 x="\2"', svg)  # a glyph moved along its line: x= says it shorter
    svg = re.sub(r' d="([^"]*)"', lambda m: ' d="' + _PATH_CMD.sub(r"\1", " ".join(m.group(1).split())) + '"', svg)
    svg = re.sub(r">\s+<", "><", svg)
    # Short ids unique to this picture: glyph references are most of a text-heavy chart.
    prefix = "c" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:4]
    short: dict[str, str] = {}
    for m in _REF.finditer(svg):
        short.setdefault(m.group(2), f"{prefix}{len(short):x}")
    svg = _ID.sub(lambda m: f' id="{short[m.group(1)]}"' if m.group(1) in short else "", svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{short[m.group(2)]}", svg).replace('xlink:href="#', 'href="#')
    width = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg)
    label = esc(alt)
    svg = re.sub(r'<svg([^>]*?)\swidth="[\d.]+pt" height="[\d.]+pt"',
                 lambda m: f'<svg{m.group(1)} role="img" aria-label="{label}" class="wb-svg"'
                           + (f' style="max-width:{float(width.group(1)) * 4 / 3:.0f}px"' if width else ""),
                 svg, count=1)
    return svg.replace(">", f"><title>{label}</title>", 1)


def to_img(fig: Any, alt: str, tight: bool = True, caption: str = "") -> str:
    """The figure as a ``<figure>`` holding an inline SVG, with an optional caption.

    caption: the takeaway in words (shown under the chart, escaped).
    """
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure class="wb-chart">{to_svg(fig, alt, tight)}{cap}</figure>'


def to_png(fig: Any, tight: bool = True, scale: float = 2.0) -> bytes:
    """Render a figure to PNG bytes at ``scale`` × the screen resolution and close it
    (for places where SVG cannot go, e.g. an image file)."""
    buf = io.BytesIO()
    with plt.rc_context({**_STYLE, "savefig.bbox": "tight" if tight else None, "savefig.dpi": 100 * scale}):
        fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def wrap_label(text: Any, width: int = 28, max_lines: int = 3) -> str:
    """A client label wrapped onto lines of about ``width`` characters, never cut: a word
    longer than the line stays whole, and the lines go on past ``max_lines`` rather than drop
    text (the chart's margin is sized by the caller for ``max_lines``)."""
    s = "" if text is None else re.sub(r"[ \t\r\n]+", " ", str(text)).strip()
    if len(s) <= width:
        return s
    # a no-break space ("25 %", "1 234") holds its words together: textwrap would split on it
    glue = "\ue000"
    lines = textwrap.wrap(s.replace(NBSP, glue), width=width, break_long_words=False, break_on_hyphens=True)
    return "\n".join(lines).replace(glue, NBSP) or s


def short_label(text: Any, limit: int = 28) -> str:
    """A client label for an axis: wrapped, never truncated (see ``wrap_label``)."""
    return wrap_label(text, limit)


def label_lines(labels: Any) -> int:
    """The largest number of lines among wrapped labels (to size a chart's margin)."""
    return max((str(x).count("\n") + 1 for x in labels), default=1)


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
