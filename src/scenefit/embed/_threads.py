"""How many cores a process's model may use: declared once, read by every runtime.

A serving machine runs one process per worker. If each process's model used every core, two
workers would run twice as many busy threads as there are cores and each match would wait on
the other's. The server therefore gives each worker its share of the cores before any model
loads (``set_inference_threads``); a lone process keeps them all. The same share bounds
numpy's BLAS here and FAISS's threads (``index.set_search_threads``), or they would
oversubscribe the cores in the same way.
"""

from __future__ import annotations

import os
import sys

_threads: int | None = None


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


def set_inference_threads(threads: int | None) -> None:
    """Threads for the models loaded from now on (``None``: every available core), and for
    numpy's BLAS from now on. Call it before the first model loads: ONNX Runtime
    fixes a session's threads when it opens."""
    global _threads
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    _threads = threads
    n = inference_threads()
    torch = sys.modules.get("torch")  # only if already imported: a serving process never imports it
    if torch is not None:
        torch.set_num_threads(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n, user_api="blas")  # numpy's BLAS, loaded with scenefit


def inference_threads() -> int:
    return _threads if _threads is not None else available_cores()


def threads_per_worker(workers: int) -> int:
    """Each of ``workers`` processes' share of the cores (at least one)."""
    return max(1, available_cores() // max(1, workers))
