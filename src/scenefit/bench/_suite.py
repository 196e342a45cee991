"""`scenefit bench`: every benchmark in one run, written as JSON and a readable table."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..embed import Runtime
from ..index import VectorIndex
from . import _process
from ._data import SyntheticCatalog
from ._ingest import bench_ingest
from ._match import bench_match
from ._report import render
from ._search import bench_search
from ._throughput import bench_throughput
from ._timing import machine
from ._workload import copy_fitted, real_vectors, scene_photos, synthetic_index


SECTIONS = ("search", "match", "memory", "throughput", "ingest", "scaleout")


@dataclass
class BenchConfig:
    smoke: bool = False
    out: Path = Path("build/bench")
    work: Path = Path(".scenefit/bench")
    real_index: Path | None = None
    scales: list[int] = field(default_factory=lambda: [10_000, 100_000, 1_000_000])
    match_products: int = 100_000
    memory_products: list[int] = field(default_factory=lambda: [100_000, 1_000_000])
    search_queries: int = 200
    match_runs: int = 40
    cold_runs: int = 5
    ingest_text: int = 1000
    ingest_images: int = 200
    ingest_repeats: int = 3
    throughput_workers: list[int] = field(default_factory=lambda: [1, 2])
    throughput_clients: int = 4
    throughput_requests: int = 60
    scaleout_ingest: int = 1000
    scaleout_search: int = 20_000
    #: which parts to run; the others are kept from the previous report in ``out`` (if any)
    sections: tuple[str, ...] = SECTIONS

    @classmethod
    def smoke_config(cls, **kw) -> "BenchConfig":
        return cls(smoke=True, scales=[3000], match_products=3000, memory_products=[3000], search_queries=30,
                   match_runs=4, cold_runs=2, ingest_text=40, ingest_images=10, ingest_repeats=1,
                   throughput_workers=[1], throughput_clients=2, throughput_requests=4,
                   scaleout_ingest=10, scaleout_search=2000, **kw)


def _write(cfg: BenchConfig, report: dict, stem: str) -> None:
    """After every section, so a long run interrupted later keeps what it measured."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / f"{stem}.json").write_text(json.dumps(report, indent=2))


def run_suite(cfg: BenchConfig, log=print) -> dict:
    cfg.work.mkdir(parents=True, exist_ok=True)
    stem = "bench-smoke" if cfg.smoke else "bench"
    previous = cfg.out / f"{stem}.json"
    report: dict = json.loads(previous.read_text()) if set(cfg.sections) != set(SECTIONS) and previous.is_file() else {}
    report.update({"machine": machine(), "smoke": cfg.smoke, "config": {
        k: str(v) if isinstance(v, Path) else v for k, v in cfg.__dict__.items()}})
    real = real_vectors(cfg.work, cfg.real_index, log)
    synth = SyntheticCatalog(real)
    report["data"] = {"real": real.source, "noise_scale": real.tau, "real_median_nn_cosine": real.nn_cosine}
    log(f"real vectors: {real.source}")

    if "search" in cfg.sections:
        log("search (text space):")
        report["search"] = []
        queries = synth.vectors("text", cfg.search_queries, stream=1)
        for n in cfg.scales:
            report["search"] += bench_search(synth.vectors("text", n, stream=2), queries, log=log)
            _write(cfg, report, stem)

    real_manifest = _real_manifest(cfg, real)
    photos = scene_photos()
    match_index = cfg.work / f"synthetic-{cfg.match_products}"
    if {"match", "memory", "throughput"} & set(cfg.sections):
        synthetic_index(match_index, synth, cfg.match_products, real_manifest)
        # Served as the real index is: through its fitted adapter, when it has one.
        report["match_index_adapter"] = copy_fitted(cfg.real_index or cfg.work / "seed-index", match_index)
    if "match" in cfg.sections:
        log(f"match end to end ({len(photos)} scene photos):")
        report["match"] = bench_match(match_index, photos, cfg.match_runs, log=log)
        _write(cfg, report, stem)

    for n in cfg.memory_products if "memory" in cfg.sections else ():
        if n == cfg.memory_products[0]:
            log("cold start and serving memory:")
            report["cold_start"] = _process.cold_start(match_index, cfg.cold_runs)
            log(f"  cold start @ {report['cold_start']['products']:,}: {report['cold_start']['median_ms']} ms")
            report["memory"] = []
        folder = cfg.work / f"synthetic-{n}"
        # The appearance space of a million photos does not fit this machine's memory while
        # it is built from synthetic fp32 vectors: the largest catalog is text-only.
        text_only = n >= 1_000_000
        synthetic_index(folder, _text_only(synth) if text_only else synth, n, real_manifest)
        for runtime in (Runtime.ONNX, Runtime.TORCH):
            mem = _process.serving_memory(folder, photos, runtime)
            mem["appearance_space"] = not text_only
            report["memory"].append(mem)
            _write(cfg, report, stem)
            log(f"  serving @ {n:,} ({runtime}): peak RSS {mem['peak_rss_mb']:.0f} MB, "
                f"{mem['bytes_per_product_on_disk']:.0f} B/product on disk")

    if "throughput" in cfg.sections:
        log(f"throughput of scenefit serve ({cfg.throughput_requests} matches per setting):")
        report["throughput"] = bench_throughput(match_index, photos, cfg.throughput_workers, cfg.throughput_clients,
                                                cfg.throughput_requests, log=log)
        _write(cfg, report, stem)

    if "ingest" in cfg.sections:
        log("ingestion:")
        report["ingest"] = bench_ingest(cfg.work, cfg.ingest_text, cfg.ingest_images, cfg.ingest_repeats, log=log)

    if "scaleout" in cfg.sections:
        from ._scaleout import bench_milvus_search, bench_ray_ingest

        log("scale-out engines:")
        report["scaleout"] = {
            "ray_ingest": bench_ray_ingest(cfg.work, cfg.scaleout_ingest, cfg.ingest_repeats, log=log),
            "milvus_search": bench_milvus_search(cfg.work, synth.vectors("text", cfg.scaleout_search, stream=3),
                                                 synth.vectors("text", min(100, cfg.search_queries), stream=4), log=log),
        }

    _write(cfg, report, stem)
    (cfg.out / f"{stem}.md").write_text(render(report))
    if cfg.smoke:
        shutil.rmtree(cfg.work, ignore_errors=True)
    return report


def _real_manifest(cfg: BenchConfig, real):
    folder = cfg.real_index or cfg.work / "seed-index"
    return VectorIndex.open(folder).manifest


def _text_only(synth: SyntheticCatalog) -> SyntheticCatalog:
    clone = object.__new__(SyntheticCatalog)
    clone.__dict__.update(synth.__dict__)
    from dataclasses import replace

    clone.real = replace(synth.real, appearance=None)
    return clone
