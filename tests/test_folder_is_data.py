"""An engagement folder is data, never code; what it holds is checked before it is used.

Engagement folders travel between consultants: a planted pickle or notebook must never run,
a YAML file must not be able to blow up memory, numbers are range-checked before they are
converted, every error blames the file that holds the problem, and names from
engagement.yaml reach the report without control or direction-override characters.
"""
from __future__ import annotations

import json
import re
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


def plant(eng: Path, marker: Path) -> None:
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
    """What reads a month's results (workbench actuals, the workbook) reads data only. A whole
    run over a planted folder: tests/test_run_demo.py::test_cli_run_prints_the_deliverables_…"""
    from workbench.report.workbook import build_workbook
    from workbench.steps import load_result

    marker = tmp_path / "ran.txt"
    plant(demo_copy, marker)
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


def test_the_package_never_unpickles_or_evaluates():
    """No pickle, marshal, shelve, eval or exec anywhere in the package or its notebooks."""
    import ast

    found = []
    files = sorted((ROOT / "workbench").rglob("*.py"))
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                found += [f"{path.name}: import {n}" for n in names if n and n.split(".")[0] in
                          ("pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib")]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                found.append(f"{path.name}: {node.func.id}()")
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = nb.read_text(encoding="utf-8")
        found += [f"{nb.name}: {w}" for w in ("pickle", "eval(", "exec(") if w in text]
    assert len(files) > 30 and found == []


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


# =====================================================================================
# YAML: no aliases, no runaway numbers, values cut before they are shown
# =====================================================================================

BASE_YAML = 'client: "ООО «Тест»"\nlanguage: ru\ninputs:\n  sales:\n    file: data/sales.csv\n'
MEMORY_CAP = 1024 ** 3


def _alias_bomb(key: str, levels: int = 9, width: int = 9) -> str:
    """``levels`` levels of ``width`` aliases each: 9^9 leaves when expanded (the issue's probe)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + f"\n{key}: *a{levels - 1}\n"


def _engagement(tmp_path: Path, text: str = BASE_YAML) -> Path:
    root = tmp_path / "engagements" / "client"
    (root / "data").mkdir(parents=True)
    (root / "data" / "sales.csv").write_bytes("Контрагент;Дата;Сумма\r\nООО Ромашка;01.02.2025;100,00\r\n"
                                              .encode("cp1251"))
    (root / "engagement.yaml").write_text(text, encoding="utf-8")
    return root


def _capped(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          check=False, timeout=timeout, cwd=ROOT, preexec_fn=cap)


@pytest.mark.parametrize("where", ["engagement.yaml", "overrides/settings.yaml", "overrides/maps.yaml"])
def test_yaml_aliases_are_refused_at_once(tmp_path, where):
    root = _engagement(tmp_path)
    target = root / where
    target.parent.mkdir(parents=True, exist_ok=True)
    bomb = _alias_bomb("client" if where != "overrides/maps.yaml" else "edits")
    head = BASE_YAML.split("\n", 1)[1] if where == "engagement.yaml" else ""  # four lines, no client
    target.write_text(head + bomb, encoding="utf-8")
    started = time.monotonic()
    if where == "overrides/maps.yaml":
        from workbench.io.yamlfiles import read_map_overrides

        with pytest.raises(ConfigError, match=rf"^{target} не читается как YAML: ссылки на якоря \(\*имя\) "
                                              r"не принимаются \(строка 2, столбец 10\)$"):
            read_map_overrides(load_engagement(root))
    else:
        out = _capped("import", str(root))
        assert out.returncode == 1 and "Traceback" not in out.stderr and "MemoryError" not in out.stderr
        line = 6 if where == "engagement.yaml" else 2
        assert out.stderr == (f"{target} не читается как YAML: ссылки на якоря (*имя) не принимаются "
                              f"(строка {line}, столбец 10)\n")
    assert time.monotonic() - started < 20
    assert not (root / "work").exists()


def test_a_huge_value_is_cut_before_it_is_shown():
    """A value that would take hours to serialise is shown in at most 80 characters, at once."""
    code = ("from workbench.config import validate\n"
            "from workbench.errors import ConfigError\n"
            "a = ['lol'] * 10\n"
            "for _ in range(10): a = [a] * 10\n"
            "try:\n"
            "    validate({'client': a, 'inputs': {'sales': {'file': 'x.csv'}}}, 'engagement.yaml', 'en')\n"
            "except ConfigError as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    line = out.stdout.splitlines()[1]
    assert line.startswith('  - client: expected a string, got [[[[[[[[[[') and line.endswith("…")
    assert len(line) - len("  - client: expected a string, got ") == 80


@pytest.mark.parametrize("where", ["engagement.yaml", "overrides/settings.yaml"])
@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_numbers_are_refused_naming_the_file_and_key(tmp_path, where, digits):
    root = _engagement(tmp_path)
    number = "1" + "0" * (digits - 1)
    text = f"segmentation:\n  window_months: {number}\n"
    if where == "engagement.yaml":
        (root / where).write_text(BASE_YAML + text, encoding="utf-8")
    else:
        (root / "overrides").mkdir()
        (root / where).write_text(text, encoding="utf-8")
    out = cli("import", str(root))
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    target = root / where
    if digits == 400:
        assert out.stderr == (f"Ошибка в настройках {target}:\n  - segmentation.window_months: значение "
                              f"{number[:79]}… вне допустимого диапазона 1 … 120\n")
    else:
        line = 7 if where == "engagement.yaml" else 2
        assert out.stderr == (f"{target} не читается как YAML: число длиннее 1000 знаков "
                              f"(строка {line}, столбец 18)\n")


@pytest.mark.parametrize("value", ["-1e400", ".nan", "[0.1, 1" + "0" * 400 + "]"])
def test_numbers_are_range_checked_before_conversion(tmp_path, value):
    key = "segmentation.healthy_mix.vip" if value.startswith("[") else "segmentation.abc.a"
    text = (f"segmentation:\n  healthy_mix:\n    vip: {value}\n" if value.startswith("[")
            else f"segmentation:\n  abc:\n    a: {value}\n")
    root = _engagement(tmp_path, BASE_YAML + text)
    with pytest.raises(ConfigError, match=rf"^Ошибка в настройках .*engagement\.yaml:\n  - {re.escape(key)}: "):
        load_engagement(root)


# =====================================================================================
# Not a file: a pipe or a folder where a file should be is named as such (and never read)
# =====================================================================================

@pytest.mark.parametrize("where", ["engagement.yaml", "overrides/settings.yaml", "overrides/maps.yaml",
                                   "overrides/cjm/stages.yaml", "data/sales.csv"])
def test_a_pipe_is_not_a_missing_file(tmp_path, where):
    root = _engagement(tmp_path)
    target = root / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    os.mkfifo(target)
    if where == "overrides/maps.yaml":
        from workbench.io.yamlfiles import read_map_overrides

        with pytest.raises(ConfigError, match=rf"^{target} — не обычный файл \(канал FIFO\): "
                                              r"замените его файлом или удалите$"):
            read_map_overrides(load_engagement(root))
        return
    if where == "overrides/cjm/stages.yaml":
        from workbench.io.cjmfiles import read_cjm_sources

        with pytest.raises(ConfigError) as err:
            read_cjm_sources(ROOT / "templates", root)
        assert f"{target} — не обычный файл (канал FIFO): замените его файлом или удалите" in str(err.value)
        assert "не найден" not in str(err.value)
        return
    out = cli("import", str(root), timeout=30)  # reading a pipe would wait for ever
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    if where == "data/sales.csv":
        assert "sales.csv: не обычный файл (канал FIFO или папка) (1)" in out.stderr
    elif where == "engagement.yaml":  # its language cannot be read: both
        assert out.stderr == (f"{target} — не обычный файл (канал FIFO): замените его файлом или удалите\n"
                              f"{target} is not a regular file (a FIFO pipe): replace it with a file or remove it\n")
    else:
        assert out.stderr == f"{target} — не обычный файл (канал FIFO): замените его файлом или удалите\n"


# =====================================================================================
# Errors blame the file that holds the problem
# =====================================================================================

def test_a_path_escape_in_the_workshop_settings_is_blamed_on_them(tmp_path):
    root = _engagement(tmp_path)
    over = root / "overrides" / "settings.yaml"
    over.parent.mkdir()
    over.write_text("inputs:\n  sales:\n    file: ../../../etc/passwd\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_engagement(root)
    assert str(err.value) == (f"Ошибка в настройках {over}:\n  - inputs.sales.file: путь ../../../etc/passwd "
                              "выходит за пределы папки проекта")
    (root / "engagement.yaml").write_text(BASE_YAML.replace("data/sales.csv", "/etc/passwd"), encoding="utf-8")
    over.unlink()
    with pytest.raises(ConfigError, match=rf"^Ошибка в настройках {root / 'engagement.yaml'}:\n"
                                          r"  - inputs.sales.file: путь /etc/passwd"):
        load_engagement(root)


@pytest.mark.slow
@pytest.mark.parametrize("edit, line", [
    ('{map: ["group:vip"], action: set, item: revenue, target: 1}',
     '  - edits[0].map: ожидалась строка, получено ["group:vip"]'),
    ("{map: 'group:vip', action: set, item: revenue, target: -5}",
     "  - edits[0].target: значение -5 вне допустимого диапазона 0 … 10¹⁵"),
    ("{map: 'group:vip', action: set, item: revenue, target: 1.0e+308}",
     "  - edits[0].target: значение 1e+308 вне допустимого диапазона 0 … 10¹⁵"),
    ("{map: 'group:vip', action: set, item: revenue, target: .nan}",
     "  - edits[0].target: значение NaN вне допустимого диапазона 0 … 10¹⁵"),
])
def test_map_overrides_are_checked_for_shape_and_range(demo_copy, edit, line):
    from workbench import steps

    over = demo_copy / "overrides" / "maps.yaml"
    over.parent.mkdir(exist_ok=True)
    over.write_text(f"edits:\n  - {edit}\n", encoding="utf-8")
    ctx = steps.context(str(demo_copy), "2026-10", "ru", str(demo_copy / "work" / "2026-10"))
    with pytest.raises(ConfigError) as err:
        steps.maps_step(ctx)
    assert str(err.value) == f"Ошибка в {over}:\n{line}"


# =====================================================================================
# Names from engagement.yaml reach the report without control or direction characters
# =====================================================================================

@pytest.mark.slow
def test_client_and_firm_names_are_cleaned_before_the_report(demo_copy, tmp_path):
    from openpyxl import load_workbook

    from workbench.run import build_deliverables

    cfg = demo_copy / "engagement.yaml"
    text = cfg.read_text(encoding="utf-8")
    text = text.replace('client: "ООО «Демо-Дистрибуция»"',
                        'client: "ООО «Демо\\u202eяицуб\\u202c\\x1b[31m-Дистрибуция»\\x07\\u200b\\n"')
    text = text.replace('firm: "Консалтинговая группа «Вектор»"', 'firm: "\\u2067Консалтинговая\\t группа\\u2069 «Вектор»\\x00"')
    cfg.write_text(text, encoding="utf-8")
    eng = load_engagement(demo_copy)
    assert eng.client == "ООО «Демояицуб[31m-Дистрибуция»"
    assert eng.settings["consultant"]["firm"] == "Консалтинговая  группа «Вектор»"
    executed = sorted((demo_copy / "deliverables" / "2026-10" / "notebooks").glob("*.ipynb"))
    build_deliverables(eng, "2026-10", "ru", demo_copy / "work" / "2026-10", tmp_path, executed)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for bad in ("\u202e", "\u202c", "\u2067", "\u2069", "\x1b", "\x07", "\x00", "\u200b"):
        assert bad not in html, repr(bad)
    assert "<title>ООО «Демояицуб[31m-Дистрибуция»" in html
    assert "Консалтинговая  группа «Вектор»" in html
    wb = load_workbook(tmp_path / "workbook.xlsx")
    assert "ООО «Демояицуб[31m-Дистрибуция»" in str(wb.worksheets[0]["A1"].value)
