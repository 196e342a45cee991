"""numpy's BLAS threads sleep as soon as they are idle instead of spinning.

A match runs ONNX Runtime, numpy's BLAS (the adapter's products, window means) and FAISS in
turn on the same few cores. OpenBLAS keeps its threads spinning for a long while after every
call by default, and that spin takes the cores the next stage (the network above all) needs;
letting them sleep makes a match markedly faster (docs/performance.md, with the command).

OpenBLAS reads the setting once, when it loads, so this module must run before anything
imports numpy: it is the first import of ``scenefit/__init__.py``. A value the user set wins
(``setdefault``); a program that imported numpy before scenefit keeps OpenBLAS's default.
"""

from __future__ import annotations

import os

#: OpenBLAS: idle threads wait 2**value cycles before sleeping (its smallest allowed value)
IDLE_ENV = {"OPENBLAS_THREAD_TIMEOUT": "4"}

for _name, _value in IDLE_ENV.items():
    os.environ.setdefault(_name, _value)
