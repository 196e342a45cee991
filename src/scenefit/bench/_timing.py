"""Repeated timings (medians and p95 after warm-up, never one run) and the machine's description."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass
class Stats:
    median_ms: float
    p95_ms: float
    runs: int

    def as_dict(self) -> dict:
        return {"median_ms": round(self.median_ms, 3), "p95_ms": round(self.p95_ms, 3), "runs": self.runs}


def stats(seconds: list[float]) -> Stats:
    arr = np.asarray(seconds) * 1000
    return Stats(float(np.median(arr)), float(np.percentile(arr, 95)), len(arr))


def repeat(fn: Callable[[int], object], runs: int, warmup: int = 3) -> Stats:
    """Time ``fn(i)`` for i in range(runs) after ``warmup`` untimed calls."""
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(runs):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return stats(out)


def machine() -> dict:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import faiss
    import torch

    from .._version import __version__

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu, "cpus": affinity, "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(), "python": platform.python_version(),
        "scenefit": __version__, "torch": torch.__version__, "faiss": faiss.__version__, "numpy": np.__version__,
        "torch_threads": torch.get_num_threads(),
    }
