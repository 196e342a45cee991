"""`match` end to end at catalog scale, beside the seed's two approaches on the same data:
seed A (exact flat search of the whole photo's vector over product vectors, no analysis or
re-ranking) and seed B (a per-product Python scoring loop)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

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


def bench_match(index_dir: Path, photos: list[Path], runs: int, log=print) -> dict:
    """scenefit under both runtimes; the seeds use the ONNX engine's encoder too, so the
    ratios compare retrieval and ranking, not model runtimes."""
    data = [p.read_bytes() for p in photos]
    # ONNX first: once torch has run in a process, its idle worker threads still compete
    # with ONNX Runtime's (a serving process with --runtime onnx never imports torch).
    engine = Engine(index_dir, log=lambda m: None, runtime="onnx")  # no scene cache
    total, stages = _time_match(engine, data, runs)
    out = {"products": len(engine.index), "index": engine.index.manifest.ann.model_dump(),
           "photos": len(photos), "total": total, "stages": stages, "runtime": "onnx"}

    # Seed A: whole-photo vector, exact flat search over every product vector.
    import faiss

    index = engine.index
    keys = index.keys()
    flat = faiss.IndexFlatIP(index.manifest.dim)
    flat.add(index.vectors(keys))
    encoder = engine.encoder_for_index()
    seed_a = []
    for i in range(runs):
        t0 = time.perf_counter()
        image = open_image(data[i % len(data)])
        flat.search(encoder.encode_images([image]), 10)
        seed_a.append(time.perf_counter() - t0)
    out["seed_a_flat"] = stats(seed_a).as_dict()

    # Seed B: the same scene embedding, then a Python loop scoring every product.
    analyzer = engine.analyzer
    records = index.records_for(keys)
    vectors = index.vectors(keys)
    seed_b = []
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
        seed_b.append(time.perf_counter() - t0)
    out["seed_b_loop"] = stats(seed_b).as_dict()
    out["speedup_vs_seed_b"] = round(out["seed_b_loop"]["median_ms"] / out["total"]["median_ms"], 2)
    # PyTorch last, for the reason above.
    torch_engine = Engine(index_dir, log=lambda m: None, runtime="torch")
    out["torch_total"], out["torch_stages"] = _time_match(torch_engine, data, runs)
    del torch_engine
    log(f"  match @ {out['products']:,}: {out['total']['median_ms']:.0f} ms median (p95 {out['total']['p95_ms']:.0f}); "
        f"seed A {out['seed_a_flat']['median_ms']:.0f} ms, seed B {out['seed_b_loop']['median_ms']:.0f} ms "
        f"→ {out['speedup_vs_seed_b']}× faster than seed B")
    return out
