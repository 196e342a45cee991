"""`match` end to end at catalog scale, beside two baselines on the same data and encoder:
an exact flat search of the whole photo's vector over every product vector (no analysis or
re-ranking), and a per-product Python scoring loop over the analysed scene. The result keys
``flat_baseline`` and ``loop_baseline`` name them, as the report reads them. A floor row
times the image network alone on the pixels the default scene reading feeds it, so the report
says how close `match` is to the model's own cost."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..embed import Runtime
from ..engine import Engine
from ..images import open_image
from ..scene import DENSE_SHORT_SIDE
from ._timing import stats

STAGES = ("decode", "encode", "analyze", "filter", "search", "adapter", "appearance", "rerank")


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


def _network_floor(engine: Engine, data: list[bytes], runs: int) -> dict | None:
    """The image networks alone on the inputs one scene reading feeds them, resized
    beforehand: what no reading of the scene can go below with this model and runtime. None
    for an encoder that does not say what its networks are (only the offline one does)."""
    encoder = engine.encoder_for_index()
    floor = getattr(encoder, "scene_network_floor", None)
    if floor is None:
        return None
    calls = [floor(open_image(d), DENSE_SHORT_SIDE) for d in data]
    times = []
    for i in range(2 + runs):  # two warm-up calls
        t0 = time.perf_counter()
        calls[i % len(calls)]()
        times.append(time.perf_counter() - t0)
    return stats(times[2:]).as_dict()


def bench_match(index_dir: Path, photos: list[Path], runs: int, log=print) -> dict:
    """scenefit's default setting (the index's fitted adapter, if any; its regions; ONNX) and,
    last, the same under ``Runtime.TORCH``. The baselines run with the same engine's encoder
    as the scenefit timing they are compared with, so each ratio compares retrieval and
    ranking, not model runtimes."""
    data = [p.read_bytes() for p in photos]
    # ONNX first: once torch has run in a process, its idle worker threads still compete
    # with ONNX Runtime's (a serving process with the ONNX runtime never imports torch).
    engine = Engine(index_dir, log=lambda m: None, runtime=Runtime.ONNX)  # no scene cache
    adapter = engine.appearance_adapter
    total, stages = _time_match(engine, data, runs)
    out: dict = {"photos": len(photos), "products": len(engine.index), "index": engine.index.manifest.ann.model_dump(),
                 "runtime": Runtime.ONNX.value, "regions": engine.analyzer.config.regions,
                 "adapter": None if adapter is None else adapter.source,
                 "total": total, "stages": stages, **_baselines(engine, data, runs)}
    out["speedup_vs_loop"] = round(out["loop_baseline"]["median_ms"] / total["median_ms"], 2)
    out["network_floor"] = _network_floor(engine, data, runs)
    if out["network_floor"] is not None:
        out["vs_floor"] = round(total["median_ms"] / out["network_floor"]["median_ms"], 2)
    del engine
    log(f"  match @ {out['products']:,} ({out['regions']} regions, adapter: {out['adapter']}): "
        f"{total['median_ms']:.0f} ms median (p95 {total['p95_ms']:.0f}); network floor "
        f"{(out['network_floor'] or {}).get('median_ms', float('nan')):.0f} ms; flat search "
        f"{out['flat_baseline']['median_ms']:.0f} ms, scoring loop {out['loop_baseline']['median_ms']:.0f} ms "
        f"→ {out['speedup_vs_loop']}× faster than the loop")
    # PyTorch last, for the reason above.
    torch_engine = Engine(index_dir, log=lambda m: None, runtime=Runtime.TORCH)
    out["torch_total"], out["torch_stages"] = _time_match(torch_engine, data, runs)
    del torch_engine
    return out
