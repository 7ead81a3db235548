"""Rendering of deliverables: HTML fragments, charts, Excel sheets. Render only:
functions here return strings, figures or workbooks; writing is done in workbench.io."""
