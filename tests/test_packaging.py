"""The built wheel, installed outside the checkout, runs `scenefit demo` and `scenefit bench`.

Everything the two commands read must come from the installed package (its package data),
never from the repository: the install below sees the test environment's dependencies but
not the source tree, and runs in an empty folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # the demo embeds the seed catalog


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    """(python, scenefit script, env): a fresh venv holding only the wheel built from a copy
    of the sources, with this environment's site-packages on its path for the dependencies."""
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src-copy"  # a copy: the build writes build/ and *.egg-info beside its sources
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp / "dist"), str(src)], check=True, env=env, cwd=tmp)
    wheel = next((tmp / "dist").glob("scenefit-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # Only the dependencies' folder: a .pth line adds a path, and .pth files found there (an
    # editable install's finder among them) are not run, so the source tree stays out.
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # --target: pip puts the wheel into the venv and looks at nothing installed elsewhere.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, env=env)
    return python, site / "bin" / "scenefit", env


def test_installed_package_runs_demo_and_bench_outside_the_checkout(installed_wheel, tmp_path):
    python, script, env = installed_wheel
    run_in = tmp_path / "elsewhere"
    run_in.mkdir()

    def scenefit(*args):
        done = subprocess.run([str(python), str(script), *args], cwd=run_in, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    where = subprocess.run([str(python), "-c", "import scenefit; print(scenefit.__file__)"], cwd=run_in, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(script.parents[1]), where  # the wheel's copy, not src/

    demo = scenefit("demo", "-k", "3", "--json")
    assert len(json.loads(demo.stdout)["recommendations"]) == 3
    assert "Rows read 500" in " ".join(demo.stderr.split())

    # The bench's own inputs (the seed rows for ingestion, the scene photo) from the package;
    # its real vectors from the demo's index, which is already embedded.
    bench = scenefit("bench", "--smoke", "--only", "ingest", "--real-index", ".scenefit/demo-index")
    report = json.loads((run_in / "build" / "bench" / "bench-smoke.json").read_text())
    assert report["ingest"]["text_only"]["products_per_s_median"] > 0
    assert bench.stdout.startswith("# scenefit bench (smoke)")
