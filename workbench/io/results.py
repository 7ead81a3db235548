"""A step's result object on disk, as data: JSON for the values, Parquet for the tables.

An engagement folder travels between consultants, so nothing read from it may run code:
no ``pickle``. A result (``SegmentationResult``, ``FunnelResult``, ``MapsResult``, ``CJMResult``,
``TractionResult``) is written as::

    <step_dir>/results/<name>.json          its fields: text, numbers, flags, lists, mappings
    <step_dir>/results/<name>/<n>.parquet   each DataFrame held anywhere in it

The class is chosen by the result's name from ``RESULT_TYPES``, never read from the
file; a file that does not fit that class is refused naming it.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.i18n import t
from workbench.io import atomic, tables

RESULTS_DIR = "results"
# result name -> (module, class): the only classes a result file can become
RESULT_TYPES: dict[str, tuple[str, str]] = {
    "segment": ("workbench.segment", "SegmentationResult"),
    "funnel": ("workbench.funnel", "FunnelResult"),
    "maps": ("workbench.maps", "MapsResult"),
    "cjm": ("workbench.cjm", "CJMResult"),
    "traction": ("workbench.traction", "TractionResult"),
}
_FRAME, _TUPLE, _FLOAT = "$frame", "$tuple", "$float"


def result_path(step_dir: str | Path, name: str) -> Path:
    return Path(step_dir) / RESULTS_DIR / f"{name}.json"


def write_result(step_dir: str | Path, name: str, result: Any) -> Path:
    """Write the dataclass ``result`` under ``step_dir/results/``; return the JSON file.

    The tables are written first and the JSON last (atomically), so a reader finds either
    the previous complete result or the new one.
    """
    if name not in RESULT_TYPES or not dataclasses.is_dataclass(result):
        raise ValueError(f"unknown result {name!r} ({type(result).__name__})")
    folder = Path(step_dir) / RESULTS_DIR / name
    staging = folder.with_name(f"{atomic.TMP_PREFIX}{name}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    frames: list[pd.DataFrame] = []
    fields = {f.name: _encode(getattr(result, f.name), frames) for f in dataclasses.fields(result)}
    for i, frame in enumerate(frames):
        # the migration matrix is indexed by tier; the other tables by position only. The
        # folder is built aside and swapped in whole, so no file needs its own atomic write.
        frame.to_parquet(staging / f"{i}.parquet", engine="pyarrow", index=not isinstance(frame.index, pd.RangeIndex))
    atomic.promote_dir(staging, folder)
    path = result_path(step_dir, name)
    atomic.write_text(path, json.dumps({"result": name, "frames": len(frames), "fields": fields},
                                       ensure_ascii=False, allow_nan=False))
    return path


def read_result(step_dir: str | Path, name: str, lang: str = "ru") -> Any:
    """The result ``name`` saved in ``step_dir``, or None when there is none.

    Raises WorkbenchError naming the file when it is not a result of that kind.
    """
    path = result_path(step_dir, name)
    if not path.is_file():
        return None
    module, cls_name = RESULT_TYPES[name]
    cls = getattr(importlib.import_module(module), cls_name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("result") != name or not isinstance(data.get("fields"), dict):
            raise ValueError("not a result file")
        folder = path.parent / name
        frames = [tables.read_parquet(folder / f"{i}.parquet") for i in range(int(data["frames"]))]
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: _decode(v, frames) for k, v in data["fields"].items() if k in known}
        return cls(**values)
    except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise WorkbenchError(t("run.result_unreadable", lang, path=str(path),
                               reason=f"{type(exc).__name__}: {str(exc)[:200]}")) from exc


def _encode(value: Any, frames: list[pd.DataFrame]) -> Any:
    if isinstance(value, pd.DataFrame):
        frames.append(value)
        return {_FRAME: len(frames) - 1}
    if isinstance(value, dict):
        return {_escape(str(k)): _encode(v, frames) for k, v in value.items()}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, frames) for v in value]}
    if isinstance(value, list):
        return [_encode(v, frames) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT: repr(value)}  # nan, inf, -inf: strict JSON has no word for them
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (pd.Timestamp, pd.Period)):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__} in a result")


def _decode(value: Any, frames: list[pd.DataFrame]) -> Any:
    if isinstance(value, list):
        return [_decode(v, frames) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and _FRAME in value:
        return frames[int(value[_FRAME])]
    if len(value) == 1 and _TUPLE in value:
        return tuple(_decode(v, frames) for v in value[_TUPLE])
    if len(value) == 1 and _FLOAT in value:
        return float(value[_FLOAT]) if value[_FLOAT] in ("nan", "inf", "-inf") else math.nan
    return {_unescape(k): _decode(v, frames) for k, v in value.items()}


def _escape(key: str) -> str:
    # our own markers start with "$"; a key of the data that does gets one more
    return "$" + key if key.startswith("$") else key


def _unescape(key: str) -> str:
    return key[1:] if key.startswith("$") else key


__all__ = ["RESULT_TYPES", "read_result", "result_path", "write_result"]
