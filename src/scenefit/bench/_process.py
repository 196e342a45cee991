"""Measurements that need a fresh process: cold start of an index and a serving process's
peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..embed import Runtime

_COLD = """
import json, sys, time
t0 = time.perf_counter()
from scenefit.index import VectorIndex
t1 = time.perf_counter()
index = VectorIndex.open(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "open_s": t2 - t1, "products": len(index)}))
"""

_SERVE = """
import json, sys
def rss():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")) / 1024
stages = {"start": rss()}
from scenefit.engine import Engine
stages["imports"] = rss()
engine = Engine(sys.argv[1], log=lambda m: None, runtime=sys.argv[2])
engine.index.reference_vectors()
stages["index"] = rss()
engine.analyzer, engine.ranker
stages["models"] = rss()
photos = [open(p, "rb").read() for p in sys.argv[3:]]
for data in photos * 2:
    engine.match(data)
stages["matches"] = rss()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child started by a big
# parent would report the parent's peak.
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
names = list(stages)
# what each step added to the resident memory (the matches': the scene pass's working memory
# and what ranking keeps, held for the next match)
added = {b: round(stages[b] - stages[a]) for a, b in zip(names, names[1:])}
print(json.dumps({"peak_rss_mb": peak, "products": len(engine.index), "rss_added_mb": added}))
"""


def _run(script: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_start(index_dir: Path, runs: int) -> dict:
    """Loading the index in a new process (after the first run, as on a server restart: the
    files are in the page cache). Excludes the model, which loads separately."""
    times = [_run(_COLD, str(index_dir)) for _ in range(runs + 1)][1:]
    opens = [t["open_s"] * 1000 for t in times]
    return {"products": times[0]["products"], "runs": runs, "median_ms": round(float(np.median(opens)), 1),
            "p95_ms": round(float(np.percentile(opens, 95)), 1)}


def serving_memory(index_dir: Path, photos: list[Path], runtime: Runtime = Runtime.ONNX) -> dict:
    """Peak RSS of a process that loads the index and the model and runs matches."""
    result = _run(_SERVE, str(index_dir), runtime.value, *map(str, photos[:3]))
    result["runtime"] = runtime.value
    files = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file() and "cache" not in f.parts)
    result["index_bytes_on_disk"] = files
    result["bytes_per_product_on_disk"] = round(files / max(result["products"], 1), 1)
    return result
