"""The import corpus stays consistent: manifest, files, READMEs and figures cannot drift apart.

For every entry of tests/corpus/manifest.yaml: the file and its README exist, the README names its source
(repository and commit for a genuine file, the build function for a built one) and quotes its figures
function verbatim, and the figures that plain pandas works out from the file (tests/corpus/figures.py,
no workbench code) equal the manifest's `expected`. The built files must be exactly what build.py makes.
"""
from __future__ import annotations

import importlib.util
import inspect
import math
from pathlib import Path

import pytest
import yaml

CORPUS = Path(__file__).resolve().parent / "corpus"
ENTRIES = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))["entries"]
IDS = [e["slug"] for e in ENTRIES]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"corpus_{name}", CORPUS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


figures = _load("figures")


def _same(expected, actual, where: str) -> None:
    if isinstance(expected, float) or isinstance(actual, float):
        assert math.isclose(float(expected), float(actual), abs_tol=0.005), f"{where}: {expected} != {actual}"
    elif isinstance(expected, dict):
        assert set(expected) == set(actual), f"{where}: keys {sorted(expected)} != {sorted(actual)}"
        for key in expected:
            _same(expected[key], actual[key], f"{where}.{key}")
    else:
        assert expected == actual, f"{where}: {expected!r} != {actual!r}"


def test_every_folder_has_an_entry_and_every_entry_a_folder():
    folders = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    assert folders == sorted(IDS)
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_is_complete(entry):
    folder = CORPUS / entry["slug"]
    assert (folder / entry["file"]).is_file()
    assert entry["kind"] in {"ledger", "deals", "customers"}
    for key in ("system", "encoding", "revenue_rule", "importer_must", "importer_today", "expected"):
        assert entry.get(key) not in (None, ""), f"{entry['slug']}: {key} missing"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    if entry["genuine"]:
        source = entry["source"]
        for key in ("repo", "path", "commit", "blob", "licence", "excerpt", "fidelity"):
            assert source.get(key), f"{entry['slug']}: source.{key} missing"
        assert source["repo"] in readme and source["commit"] in readme
    else:
        function = entry["build"].split(":")[1]
        assert function in readme
        assert callable(getattr(_load("build"), function))
    assert inspect.getsource(figures.function_for(entry["slug"])).rstrip() in readme


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_expected_figures_are_reproduced_from_the_file(entry):
    actual = figures.function_for(entry["slug"])(CORPUS / entry["slug"] / entry["file"])
    _same(entry["expected"], actual, entry["slug"])


def test_built_files_are_what_build_py_makes(tmp_path):
    build = _load("build")
    build.HERE = tmp_path
    build.main()
    built = [e for e in ENTRIES if not e["genuine"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(e["slug"] for e in built)
    for entry in built:
        made = (tmp_path / entry["slug"] / entry["file"]).read_bytes()
        assert made == (CORPUS / entry["slug"] / entry["file"]).read_bytes(), entry["slug"]
