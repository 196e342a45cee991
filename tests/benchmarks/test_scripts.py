"""Every script in benchmarks/ still imports against the package, and says how to run it.

The scripts are not run here (they need the IKEA benchmark, a built index or minutes of
CPU); importing them is what catches a name that moved or was renamed in the package.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def test_the_folder_has_scripts_and_a_readme():
    assert SCRIPTS, f"no scripts in {BENCHMARKS}"
    readme = (BENCHMARKS / "README.md").read_text()
    for script in SCRIPTS:  # each is listed there
        assert f"`{script.name}`" in readme, f"{script.name} is not described in benchmarks/README.md"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_imports(script, monkeypatch):
    name = f"_benchmark_{script.stem}"
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # a script may import another, as when run as a file
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)  # runs the imports and definitions, never main()
    assert callable(getattr(module, "main", None)), f"{script.name} has no main()"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_says_what_it_measures_and_how_to_run_it(script):
    tree = ast.parse(script.read_text())
    doc = ast.get_docstring(tree) or ""
    assert f"python benchmarks/{script.name}" in doc, f"{script.name}: its docstring shows no command line"
    guarded = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert guarded, f"{script.name} runs on import (no `if __name__ == \"__main__\":`)"


def test_dense_resolution_scales_the_windows_and_restores_the_default(monkeypatch):
    import numpy as np

    import scenefit.scene._analyze as analyze
    import scenefit.scene._windows as windows

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from dense_resolution import at_short_side

    default = windows.DENSE_SHORT_SIDE
    fmap = np.random.default_rng(0).random((4, 20, 30)).astype(np.float32)
    with at_short_side(default * 5 // 7) as (sizes, stride):
        assert analyze.DENSE_SHORT_SIDE == default * 5 // 7
        assert all(s < w for s, w in zip(sizes, windows.WINDOW_SIZES)) and stride <= windows.STRIDE
        np.testing.assert_allclose(analyze.window_means(fmap), windows.window_means(fmap, sizes, stride))
    assert analyze.DENSE_SHORT_SIDE == windows.DENSE_SHORT_SIDE == default
    np.testing.assert_allclose(analyze.window_means(fmap), windows.window_means(fmap))
