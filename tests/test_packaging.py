"""The conda environment installs the same packages as pyproject.toml."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_in_step_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {r.replace(" ", "").lower().replace("_", "-")
              for r in project["dependencies"] + project["optional-dependencies"]["test"]
              + project["optional-dependencies"]["bench"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {d.replace(" ", "").lower().replace("_", "-") for d in env["dependencies"]
             if isinstance(d, str) and _name(d) not in ("python", "pip")}
    assert conda == wanted
    pip = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert pip == ["-e ."]


def test_nbconvert_is_at_least_the_patched_release():
    import nbconvert

    major, minor, patch = (int(x) for x in nbconvert.__version__.split(".")[:3])
    assert (major, minor, patch) >= (7, 17, 1)


def test_workbench_help_does_not_import_heavy_libraries():
    import subprocess
    import sys

    code = ("import sys; from workbench.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('papermill', 'nbconvert', 'matplotlib', 'pandas', 'openpyxl') if m in sys.modules];"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
