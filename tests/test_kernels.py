"""One kernel for the notebooks of a run, each notebook from a clean namespace (issue 20)."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from workbench.kernels import SharedKernel
from workbench.run import execute_notebook


def notebook(folder: Path, name: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('out_dir = ""', metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path


SEEN = ("import json, os, pathlib, sys\n"
        "pathlib.Path(out_dir, '{name}.json').write_text(json.dumps({{'pid': os.getpid(), "
        "'names': sorted(n for n in dir() if not n.startswith('_')), 'figures': len(sys.modules['matplotlib.pyplot']"
        ".get_fignums()) if 'matplotlib.pyplot' in sys.modules else 0}}))")


@pytest.mark.slow
def test_notebooks_share_a_kernel_and_start_from_a_clean_namespace(tmp_path):
    first = notebook(tmp_path, "first.ipynb", "left_behind = 42\nimport matplotlib\nmatplotlib.use('Agg')\n"
                                              "import matplotlib.pyplot as plt\nplt.figure()", SEEN.format(name="first"))
    second = notebook(tmp_path, "second.ipynb", SEEN.format(name="second"))
    with SharedKernel(tmp_path, warm=False) as kernel:
        for nb in (first, second):
            execute_notebook(nb, tmp_path / "out" / nb.name, {"out_dir": str(tmp_path)}, "ru", kernel)
        assert kernel.starts == 1
    one, two = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("first", "second"))
    assert one["pid"] == two["pid"]  # one kernel
    assert "left_behind" in one["names"] and one["figures"] == 1
    assert "left_behind" not in two["names"] and "plt" not in two["names"] and two["figures"] == 0
    # exactly the names the first notebook saw in a fresh kernel, less its own
    assert two["names"] == sorted(set(one["names"]) - {"left_behind", "matplotlib", "plt"})
    executed = nbformat.read(tmp_path / "out" / "second.ipynb", as_version=4)
    assert [c.execution_count for c in executed.cells if c.cell_type == "code"] == [1, 2, 3]


@pytest.mark.slow
def test_a_kernel_that_dies_is_replaced_and_the_notebook_run_again(tmp_path):
    marker = tmp_path / "died-once"
    dying = notebook(tmp_path, "dying.ipynb",
                     f"import os, pathlib\nm = pathlib.Path({str(marker)!r})\n"
                     "if not m.exists():\n    m.write_text('x')\n    os._exit(1)",
                     SEEN.format(name="dying"))
    with SharedKernel(tmp_path, warm=False) as kernel:
        execute_notebook(dying, tmp_path / "out" / "dying.ipynb", {"out_dir": str(tmp_path)}, "ru", kernel)
        assert kernel.starts == 2
    assert marker.exists() and (tmp_path / "dying.json").is_file()
