"""`match` with idle threads spinning and sleeping, alternating, on one index. Spinning
threads take the cores the next stage of a match needs. Three settings:

- ``all-spin``: ONNX Runtime's threads spin between runs (its default) and OpenBLAS's too
  (``OPENBLAS_THREAD_TIMEOUT=28``, its default);
- ``blas-spin``: ONNX Runtime's threads sleep (what scenefit sets), OpenBLAS's spin;
- ``none``: neither spins (what scenefit sets: ``scenefit/_idle_threads.py``).

Medians and p95 over every photo, each setting in a fresh process, run ``--rounds`` times in
turn. From the repository root, e.g. on the bench's synthetic 100k index:

    .venv/bin/python benchmarks/idle_threads.py .scenefit/bench/synthetic-100000 \\
        ../shared/benchmarks/ikea-dev/scenes --photos 20 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from scenefit._idle_threads import IDLE_ENV


SETTINGS = ("all-spin", "blas-spin", "none")


def _one(index: str, scenes: str, photos: int, setting: str) -> dict:
    """In this (fresh) process: warm up, then time every photo twice."""
    import scenefit.embed._onnx as onnx

    if setting == "all-spin":  # the session scenefit opens, minus its no-spinning entry
        plain = onnx.session

        def session(path, **kw):
            options = plain(path, **kw).get_session_options()
            options.add_session_config_entry("session.intra_op.allow_spinning", "1")
            return onnx._ort().InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        onnx.session = session
    from scenefit.engine import Engine

    engine = Engine(index, log=lambda m: None)
    files = sorted(p for p in Path(scenes).iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"})
    data = [p.read_bytes() for p in files[:photos]]
    for d in data[:2]:
        engine.match(d)
    times, encode = [], []
    for d in data * 2:
        t0 = time.perf_counter()
        result = engine.match(d)
        times.append(time.perf_counter() - t0)
        encode.append(result.timings_ms["encode"])
    return {"setting": setting, "openblas_thread_timeout": os.environ["OPENBLAS_THREAD_TIMEOUT"],
            "median_ms": round(1000 * float(np.median(times)), 1),
            "p95_ms": round(1000 * float(np.percentile(times, 95)), 1), "encode_median_ms": round(float(np.median(encode)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", help="an index folder")
    parser.add_argument("scenes", help="a folder of room photos")
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_one(args.index, args.scenes, args.photos, args.child)))
        return
    for _ in range(args.rounds):
        for setting in SETTINGS:
            # OpenBLAS reads its setting when it loads: set before the child starts
            sleep = IDLE_ENV["OPENBLAS_THREAD_TIMEOUT"]
            env = {**os.environ, "OPENBLAS_THREAD_TIMEOUT": sleep if setting == "none" else "28"}
            out = subprocess.run([sys.executable, __file__, args.index, args.scenes, "--photos", str(args.photos),
                                  "--child", setting], capture_output=True, text=True, check=True, env=env)
            print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
