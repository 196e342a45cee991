"""numpy's BLAS threads sleep when idle once scenefit is imported, unless the user says
otherwise (each case in a fresh interpreter: OpenBLAS reads the setting when it loads)."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.server  # starts interpreters

_SHOW = ("import os, scenefit, numpy; from threadpoolctl import threadpool_info; "
         "print(os.environ['OPENBLAS_THREAD_TIMEOUT'], "
         "any(p['internal_api'] == 'openblas' for p in threadpool_info()))")


def _run(**env) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", _SHOW], env={**base, **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def test_importing_scenefit_lets_blas_threads_sleep_before_numpy_loads_openblas():
    assert _run() == ["4", "True"]


def test_a_value_the_user_set_is_kept():
    assert _run(OPENBLAS_THREAD_TIMEOUT="28") == ["28", "True"]
