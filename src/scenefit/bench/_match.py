"""`match` end to end at catalog scale, beside two baselines on the same data and encoder:
an exact flat search of the whole photo's vector over every product vector (no analysis or
re-ranking), and a per-product Python scoring loop over the analysed scene. The result keys
``flat_baseline`` and ``loop_baseline`` name them, as the report reads them."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..embed import Runtime
from ..engine import Engine
from ..images import open_image
from ._timing import stats

STAGES = ("decode", "encode", "analyze", "filter", "search", "rerank")


def _time_match(engine: Engine, data: list[bytes], runs: int) -> tuple[dict, dict]:
    for d in data[:2]:  # warm-up: model load, first passes
        engine.match(d)
    totals, stages = [], {s: [] for s in STAGES}
    for i in range(runs):
        t0 = time.perf_counter()
        result = engine.match(data[i % len(data)])
        totals.append(time.perf_counter() - t0)
        for s in STAGES:
            stages[s].append(result.timings_ms.get(s, 0.0) / 1000)
    return stats(totals).as_dict(), {s: stats(v).as_dict() for s, v in stages.items()}


def _baselines(engine: Engine, data: list[bytes], runs: int) -> dict:
    """The flat-search and scoring-loop baselines on the engine's index, with its encoder."""
    import faiss

    index = engine.index
    keys = index.keys()
    # Flat: whole-photo vector, exact search over every product vector.
    flat = faiss.IndexFlatIP(index.manifest.dim)
    flat.add(index.vectors(keys))
    encoder = engine.encoder_for_index()
    flat_times = []
    for i in range(runs):
        t0 = time.perf_counter()
        image = open_image(data[i % len(data)])
        flat.search(encoder.encode_images([image]), 10)
        flat_times.append(time.perf_counter() - t0)

    # Loop: the same scene embedding, then a Python loop scoring every product.
    analyzer = engine.analyzer
    records = index.records_for(keys)
    vectors = index.vectors(keys)
    loop_times = []
    for i in range(max(3, runs // 4)):  # it is slow: fewer runs, still a median
        t0 = time.perf_counter()
        image = open_image(data[i % len(data)])
        analysis = analyzer.analyze(image)
        palette = {c.name for c in analysis.colours}
        scored = []
        for rec, vec in zip(records, vectors):
            score = 0.6 * float(np.dot(vec, analysis.vector))
            score += 0.2 * (1.0 if palette & set(rec.colours) else 0.5)
            score += 0.2 * analysis.room_type.get("living room", 0.0)
            scored.append((score, rec.id))
        scored.sort(reverse=True)
        loop_times.append(time.perf_counter() - t0)
    return {"flat_baseline": stats(flat_times).as_dict(), "loop_baseline": stats(loop_times).as_dict()}


def bench_match(index_dir: Path, photos: list[Path], runs: int, log=print) -> dict:
    """scenefit under each runtime. The baselines run with the same engine's encoder as the
    scenefit timing they are compared with, so each ratio compares retrieval and ranking,
    not model runtimes. Top-level timings are ``Runtime.ONNX`` (the exact one); the ``int8``
    entry repeats them with ``Runtime.ONNX_INT8``."""
    data = [p.read_bytes() for p in photos]
    out: dict = {"photos": len(photos)}
    # ONNX first: once torch has run in a process, its idle worker threads still compete
    # with ONNX Runtime's (a serving process with the ONNX runtime never imports torch).
    for runtime in (Runtime.ONNX, Runtime.ONNX_INT8):
        engine = Engine(index_dir, log=lambda m: None, runtime=runtime)  # no scene cache
        total, stages = _time_match(engine, data, runs)
        part = {"total": total, "stages": stages, "runtime": runtime.value, **_baselines(engine, data, runs)}
        part["speedup_vs_loop"] = round(part["loop_baseline"]["median_ms"] / total["median_ms"], 2)
        out.setdefault("products", len(engine.index))
        out.setdefault("index", engine.index.manifest.ann.model_dump())
        if runtime is Runtime.ONNX:
            out.update(part)
        else:
            out["int8"] = part
        del engine
        log(f"  match @ {out['products']:,} ({runtime}): {total['median_ms']:.0f} ms median (p95 {total['p95_ms']:.0f}); "
            f"flat search {part['flat_baseline']['median_ms']:.0f} ms, scoring loop {part['loop_baseline']['median_ms']:.0f} ms "
            f"→ {part['speedup_vs_loop']}× faster than the loop")
    # PyTorch last, for the reason above.
    torch_engine = Engine(index_dir, log=lambda m: None, runtime=Runtime.TORCH)
    out["torch_total"], out["torch_stages"] = _time_match(torch_engine, data, runs)
    del torch_engine
    return out
