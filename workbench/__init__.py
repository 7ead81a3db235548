"""workbench: a Jupyter workbench for B2B sales and marketing consultants.

The verbs the notebooks call are imported lazily so that ``workbench --help`` starts fast.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_VERBS = {
    "load_engagement": "workbench.config",
}


def __getattr__(name: str) -> Any:
    module = _VERBS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
