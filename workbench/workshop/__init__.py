"""The live workshop: widgets wired to the pure modules, one module per panel.

Consultants run workshops with the client's sales and marketing people around one
screen: move a threshold and see the base before and after and who moved, look at a
customer's card, agree a map and a CJM, and keep what the room agreed. The panels only
wire ipywidgets to :mod:`workbench.segment`, :mod:`workbench.maps` and
:mod:`workbench.cjm`; files are written by :mod:`workbench.io.workshopfiles`.

    session.py     the engagement, the agreed and the current segmentation (``Workshop``)
    thresholds.py  sliders and fields in the room's units; tiers, ABC-XYZ, revenue before → after; who moved
    explorer.py    search, filters and a customer's card
    maps.py        the development maps grid
    cjm.py         value elements and the filled CJM cells
    save.py        what will be written, save and undo
    view.py        the presentation view (Voilà): header and one tab per panel
    compare.py, units.py   pure helpers: before/after tables; numbers in the room's units

In a notebook::

    ws = Workshop(engagement_dir, month, lang)
    ws.thresholds          # each panel displays itself
    ws.explorer; ws.maps; ws.cjm; ws.saving

On a projector: ``workbench workshop engagements/<slug>`` (see :mod:`workbench.workshop.view`).
"""
from __future__ import annotations

from workbench.workshop.compare import changed_customers
from workbench.workshop.explorer import monthly_revenue
from workbench.workshop.maps import activity_edits
from workbench.workshop.session import Workshop, get_path, merge_tree, set_path

__all__ = ["Workshop", "activity_edits", "changed_customers", "get_path", "merge_tree", "monthly_revenue", "set_path"]
