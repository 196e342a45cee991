"""`match` with ONNX Runtime's threads allowed to spin between runs (its default) and without
(what scenefit sets), alternating, on one index: spinning threads take the cores the rest of
a match (window means, the adapter's products, search) needs.

Medians and p95 over every photo, each setting in a fresh process, run ``--rounds`` times in
turn. From the repository root, e.g. on the bench's synthetic 100k index:

    .venv/bin/python benchmarks/ort_spinning.py .scenefit/bench/synthetic-100000 \\
        ../shared/benchmarks/ikea-dev/scenes --photos 20 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _one(index: str, scenes: str, photos: int, spin: bool) -> dict:
    """In this (fresh) process: warm up, then time every photo twice."""
    import scenefit.embed._onnx as onnx

    if spin:  # the session scenefit opens, minus its no-spinning entry
        plain = onnx.session

        def session(path):
            options = plain(path).get_session_options()
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
    return {"spin": spin, "median_ms": round(1000 * float(np.median(times)), 1),
            "p95_ms": round(1000 * float(np.percentile(times, 95)), 1), "encode_median_ms": round(float(np.median(encode)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", help="an index folder")
    parser.add_argument("scenes", help="a folder of room photos")
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=["spin", "nospin"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_one(args.index, args.scenes, args.photos, args.child == "spin")))
        return
    for _ in range(args.rounds):
        for mode in ("spin", "nospin"):
            out = subprocess.run([sys.executable, __file__, args.index, args.scenes, "--photos", str(args.photos),
                                  "--child", mode], capture_output=True, text=True, check=True)
            print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
