"""An engagement folder is data, never code; what it holds is checked before it is used.

Engagement folders travel between consultants: a planted pickle or notebook must never run,
a YAML file must not be able to blow up memory, numbers are range-checked before they are
converted, every error blames the file that holds the problem, and names from
engagement.yaml reach the report without control or direction-override characters.
"""
from __future__ import annotations

import json
import os
import pathlib
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.config import load_engagement
from workbench.errors import ConfigError, WorkbenchError

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          check=False, timeout=timeout, cwd=ROOT)


class _Touch:
    """Unpickling this creates ``path``: what a crafted pickle in an engagement folder would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def _notebook_touching(marker: Path) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import pathlib; pathlib.Path({str(marker)!r}).touch()",
                                          metadata={"tags": ["parameters"]})]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.writes(nb)


def _plant(eng: Path, marker: Path) -> None:
    """Crafted pickles where the results of a month used to be kept, notebooks where one might look."""
    step = eng / "work" / "2026-10"
    for name in ("segment", "maps", "cjm", "traction"):
        (step / f"{name}.pickle").write_bytes(pickle.dumps(_Touch(marker)))
    for folder in (eng / "notebooks", eng / "templates", eng / "deliverables" / "2026-10" / "notebooks"):
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("01_import.ipynb", "05_traction.ipynb", "00_workshop.ipynb"):
            (folder / name).write_text(_notebook_touching(marker), encoding="utf-8")


@pytest.mark.slow
def test_planted_pickles_and_notebooks_never_run(demo_copy, tmp_path):
    from workbench.report.workbook import build_workbook
    from workbench.steps import load_result

    marker = tmp_path / "ran.txt"
    _plant(demo_copy, marker)
    step = demo_copy / "work" / "2026-10"
    out = cli("actuals", str(demo_copy), "--month", "2026-10")
    assert out.returncode == 0, out.stderr
    assert not marker.exists(), "a planted file ran"
    # the results of a run are data: JSON and Parquet, read back whole
    assert (step / "results" / "maps.json").is_file()
    eng = load_engagement(demo_copy)
    assert load_result(step, "maps").months[0] == "2026-11"
    build_workbook(step, eng, "2026-10", "ru")
    assert not marker.exists(), "a planted file ran"

    # a whole run over the planted folder: the notebooks run are the workbench's own
    out = cli("run", str(demo_copy), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert not marker.exists(), "a planted file ran"
    assert not [p for p in demo_copy.rglob("*.pickle") if p.parent.name != "2026-10"]
    assert not list((demo_copy / "work" / "2026-10").glob("*.pickle"))  # the month was rebuilt


def test_a_crafted_result_file_is_refused_naming_it(tmp_path):
    from workbench.steps import load_result

    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "maps.json").write_text(json.dumps({"result": "maps", "frames": 0,
                                                  "fields": {"checkpoints": {"$frame": 7}}}), encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"^Промежуточный результат .*results/maps\.json не читается "
                                             r"\(IndexError: .*\)\. Папка work/ восстанавливается: "
                                             r"запустите workbench run снова$"):
        load_result(tmp_path, "maps")
    (folder / "cjm.json").write_text(json.dumps({"result": "maps", "frames": 0, "fields": {}}), encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"cjm\.json не читается \(ValueError: not a result file\)"):
        load_result(tmp_path, "cjm")
    assert load_result(tmp_path, "segment") is None  # none saved: the workbook leaves its sheets out
