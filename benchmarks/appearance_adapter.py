"""Does the appearance adapter carry over to products it never saw? (docs/quality.md)

The held-out rooms of a benchmark reuse its catalog, so a room-level cross-validation could
reward an adapter that merely learned which products tend to be relevant. This script holds
out the *products* too: for each of 5 scene folds, the adapter is fitted on the other folds'
scenes with every product relevant to a test scene removed from the positives (they stay in
the catalog as negatives, which works against them). Scoring is max-only (a product's best
dense window, no other factor), so it isolates the adapter.

    python benchmarks/appearance_adapter.py --index .scenefit/eval-ikea-dev \
        --data ../shared/benchmarks/ikea-dev

    python benchmarks/appearance_adapter.py --index … --data … --time   # cost per match
    python benchmarks/appearance_adapter.py --index … --data … --scoring
    python benchmarks/appearance_adapter.py --index … --data … --variants mean:0,mean:0.5,gem:0.5

Reports Recall@10 and nDCG@10 of the raw cosine and of the adapter, per protocol, with the
negatives of the fit drawn from the whole catalog (as `scenefit fit` does) or only from
products relevant to some training scene (every negative is also a positive somewhere, so the
fit cannot learn that a product is never relevant).

``--scoring`` measures how match scores through an adapter fitted as ``scenefit fit`` fits it
(rooms held out, negatives: positives elsewhere): the candidate pool (the 200 products with
the best window, found through the raw vectors or through the adapter's retrieval queries, or
the whole catalog) and the pooling over windows (the best one, or the adapter's soft
maximum), ordered by match's own ``Ranker.order`` (no MMR, as fitted here: its cap of 3 picks
per product type and its duplicate skipping). ``--fold-seed N`` draws the fold split of
``eval --cv 5 --seed N`` and ``--seed`` the adapter fits' own seed, so the spread over adapter
seeds can be set beside the spread over splits.

``--variants`` runs ``--scoring`` with appearance vectors built other ways: ``POOLING:WEIGHT``,
the head pooled as a ``mean`` or a generalised mean (``gem``: exponent ``HEAD_POWER``, as the
encoder pools), and the weight of the network's last block beside it
(``OfflineEncoder.block_weight``; 0: the head alone). Product photos and scenes go through the
network once; each variant pools their feature maps its own way.

It measures the encoder's and the ranker's internals on purpose (feature maps, window means,
the appearance fit), so it imports some private names; tests/benchmarks checks they exist.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from scenefit.embed._offline import HEAD_CHANNELS, HEAD_POWER, OfflineEncoder
from scenefit.evaluate import ranking_metrics
from scenefit.images import centre_square, open_image  # centre_square: as product photos are read
from scenefit.index import VectorIndex
from scenefit.learn import AdapterFitConfig, AdapterSample, AppearanceAdapter, kfold
from scenefit.rank import Pool, RankConfig, Ranker, pool_regions
from scenefit.rank._ranker import _appearance_fit
from scenefit.scene import SceneAnalyzer, SceneConfig


def read_labels(data: Path) -> list[dict]:
    return [json.loads(x) for x in (data / "labels.jsonl").read_text().splitlines() if x.strip()]


def scene_looks(encoder: OfflineEncoder, data: Path, labels: list[dict], regions: str) -> list[np.ndarray]:
    """What match compares product photos with, for each labelled scene (crops or dense windows)."""
    analyzer = SceneAnalyzer(encoder, SceneConfig(regions=regions))
    return [analyzer.analyze(open_image(data / lab["scene"])).looks for lab in labels]


def time_appearance_factor(index_dir: Path, data: Path, scenes: int = 20) -> None:
    """Median time of the appearance factor of one match (a pool of 400 candidates, as
    ``match`` retrieves with dense windows), raw and through an adapter (random weights: the
    cost does not depend on them), the adapter's also with its retrieval queries."""
    index = VectorIndex.open(index_dir)
    encoder = OfflineEncoder(runtime="onnx")
    labels = read_labels(data)[:scenes]
    keys = index.appearance.key_array()
    rng = np.random.default_rng(0)
    adapter = AppearanceAdapter(rng.normal(scale=0.01, size=(index.appearance.dim,) * 2).astype(np.float32),
                                pooling=AdapterFitConfig.pooling)
    print("| regions | adapter | median ms | p95 ms |")
    print("|---|---|---:|---:|")
    for mode in ("crops", "dense"):
        looks = scene_looks(encoder, data, labels, mode)
        for name, a in (("none", None), ("fitted", adapter)):
            _appearance_fit(looks[0], index, keys[:400], a)  # warm: the reference projection is cached
            times = []
            for lk in looks:
                pool = np.sort(rng.choice(keys, 400, replace=False))
                t0 = time.perf_counter()
                if a is not None:  # as Ranker.pool: the regions through the adapter once
                    lk = a.apply(lk)
                    a.retrieval_queries(lk)  # the search itself costs the same with either queries
                _appearance_fit(lk, index, pool, a)
                times.append(time.perf_counter() - t0)
            print(f"| {mode} | {name} | {np.median(times) * 1000:.1f} | {np.percentile(times, 95) * 1000:.1f} |")


def variant_looks(encoder: OfflineEncoder, data: Path, labels: list[dict], ids: list[str]):
    """Per-cell features (the head's, no longer squared, then the last block's) of every
    product photo, in ``ids`` order, and of every labelled scene at the dense resolution. The
    head is ReLU6 (≥ 0), so the root of the encoder's per-cell statistics gives it back."""
    from scenefit import Catalog
    from scenefit.scene._windows import DENSE_SHORT_SIDE

    def cells(image, short_side):
        maps = encoder.scene_feature_map(image, short_side)
        maps[:HEAD_CHANNELS] = np.maximum(maps[:HEAD_CHANNELS], 0) ** (1 / HEAD_POWER)
        return maps

    photos = {p.id: p.image for p in Catalog.read(data / "catalog.csv").products}
    products = np.stack([cells(centre_square(open_image(photos[p])), 224).reshape(encoder.appearance_dim, -1) for p in ids])
    scenes = [cells(open_image(data / lab["scene"]), DENSE_SHORT_SIDE) for lab in labels]
    return products, scenes


def variant_vectors(variant: str, products: np.ndarray, scenes: list[np.ndarray]):
    """Appearance vectors of the product photos and of every scene's dense windows, pooled as
    ``variant`` says (``mean:0.5``, ``gem:0.5``, …)."""
    from scenefit.scene._windows import window_means

    pooling, weight = variant.split(":")
    if pooling not in ("mean", "gem"):
        raise SystemExit(f"--variants: pooling must be mean or gem, not {pooling!r}")
    encoder = OfflineEncoder(block_weight=float(weight))

    def vectors(means_of):  # means_of(what each head cell contributes) -> (n, 1600) means
        if pooling == "gem":  # as the encoder pools
            return encoder.appearance_vectors(means_of(lambda head: head**HEAD_POWER))
        means = means_of(lambda head: head)
        means[:, :HEAD_CHANNELS] **= HEAD_POWER  # appearance_vectors takes the root again
        return encoder.appearance_vectors(means)

    def stats(maps, head_cell):
        return np.concatenate([head_cell(maps[:HEAD_CHANNELS]), maps[HEAD_CHANNELS:]])

    catalog = vectors(lambda head_cell: np.stack([stats(m, head_cell).mean(axis=1) for m in products]))
    windows = [vectors(lambda head_cell, m=m: window_means(stats(m, head_cell))) for m in scenes]
    return catalog, windows


def scoring(index: VectorIndex, keys: np.ndarray, catalog: np.ndarray, ids: list[str], looks: list[np.ndarray],
            labels: list[dict], relevant: list[np.ndarray], indexed: set, folds: int, steps: int, seed: int,
            fold_seed: int = 0) -> None:
    # match's own ordering without MMR (as fitted here): its per-type cap and duplicate skipping
    ranker = Ranker(RankConfig(diversity=0))
    records, vectors = [index.record(int(k)) for k in keys], index.vectors(keys)
    pools = ("raw vectors", "through the adapter", "whole catalog")
    results: dict[tuple[str, str], list[dict]] = {(p, s): [] for p in pools for s in ("best window", "soft")}
    for f, fold in enumerate(kfold(len(labels), folds, fold_seed)):  # the folds of eval --cv --seed
        test, train = fold.test, fold.train
        rows = np.unique(np.concatenate([relevant[i] for i in train]))
        samples = [AdapterSample(looks[i], np.searchsorted(rows, relevant[i])) for i in train if len(relevant[i])]
        adapter = AppearanceAdapter.fit(samples, catalog[rows], AdapterFitConfig(steps=steps, seed=seed))
        projected = adapter.apply(catalog)
        for i in test:
            regions = adapter.apply(looks[i])
            cosines = regions @ projected.T
            candidates = {
                "raw vectors": np.argsort(-(looks[i] @ catalog.T).max(axis=0))[:200],
                "through the adapter": np.argsort(-(adapter.retrieval_queries(regions) @ catalog.T).max(axis=0))[:200],
                "whole catalog": np.arange(len(catalog)),
            }
            for (pool, score), out in results.items():
                found = candidates[pool]
                values = pool_regions(cosines[:, found], adapter.pooling if score == "soft" else 0.0)
                picks = ranker.order(Pool([records[j] for j in found], vectors[found], values, {}), values, 10)
                ranked = [ids[found[j]] for j in picks]
                out.append(ranking_metrics(ranked, set(labels[i]["relevant"]) & indexed, 10))
        print(f"fold {f + 1}/{folds} done", flush=True)
    print(f"| candidates | pooling over windows (soft: t = {AdapterFitConfig.pooling}) | Recall@10 | nDCG@10 |")
    print("|---|---|---:|---:|")
    for (pool, score), ms in results.items():
        print(f"| {pool} | {score} | {np.mean([m['recall'] for m in ms]):.4f} | {np.mean([m['ndcg'] for m in ms]):.4f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="an index built from --data's catalog (offline encoder)")
    ap.add_argument("--data", type=Path, required=True, help="benchmark folder: labels.jsonl and scenes")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=AdapterFitConfig.steps)
    ap.add_argument("--seed", type=int, default=AdapterFitConfig.seed, help="seed of the --scoring adapter fits (their batch order)")
    ap.add_argument("--fold-seed", type=int, default=0, help="--scoring's fold split, as eval --cv --seed draws it")
    ap.add_argument("--time", action="store_true", help="time the appearance factor with and without an adapter")
    ap.add_argument("--scoring", action="store_true", help="candidate pool and pooling over windows, as match scores")
    ap.add_argument("--variants", help="comma-separated POOLING:WEIGHT (mean|gem : the last block's weight): --scoring at each")
    args = ap.parse_args()
    if args.time:
        time_appearance_factor(args.index, args.data)
        return

    index = VectorIndex.open(args.index)
    keys = index.appearance.key_array()
    ids = [index.record(int(k)).id for k in keys]
    row = {pid: i for i, pid in enumerate(ids)}
    catalog = index.appearance.vectors(keys)
    indexed = set(index.ids())  # products without a photo count as relevant too, as in eval
    encoder = OfflineEncoder(runtime="onnx")
    labels = read_labels(args.data)
    relevant = [np.array(sorted(row[p] for p in lab["relevant"] if p in row), np.int64) for lab in labels]
    if args.variants:
        t0 = time.perf_counter()
        products, scenes = variant_looks(encoder, args.data, labels, ids)
        print(f"{len(labels)} scenes, {len(ids)} product photos encoded in {time.perf_counter() - t0:.0f} s")
        for variant in args.variants.split(","):
            catalog_v, windows = variant_vectors(variant, products, scenes)
            print(f"\nhead pooling:block weight = {variant}:")
            scoring(index, keys, catalog_v, ids, windows, labels, relevant, indexed, args.folds, args.steps, args.seed,
                    args.fold_seed)
        return
    t0 = time.perf_counter()
    looks = scene_looks(encoder, args.data, labels, "dense")
    print(f"{len(labels)} scenes, {len(ids)} products with a photo, windows in {time.perf_counter() - t0:.0f} s")
    if args.scoring:
        scoring(index, keys, catalog, ids, looks, labels, relevant, indexed, args.folds, args.steps, args.seed,
                args.fold_seed)
        return

    names = ["adapter, rooms held out", "adapter, rooms and their products held out"]
    variants = [(n, neg) for neg in ("catalog", "positives") for n in names]
    results: dict[str, list[dict]] = {"raw cosine": [], **{f"{n} (negatives: {neg})": [] for n, neg in variants}}
    for f, fold in enumerate(kfold(len(labels), args.folds, 0)):
        test, train = fold.test, fold.train
        unseen = np.unique(np.concatenate([relevant[i] for i in test]))
        fits = {
            names[0]: [AdapterSample(looks[i], relevant[i]) for i in train],
            names[1]: [AdapterSample(looks[i], np.setdiff1d(relevant[i], unseen)) for i in train],
        }
        adapters = {}
        for name, neg in variants:
            samples = fits[name]
            if neg == "positives":  # only products that are relevant somewhere in training
                rows = np.unique(np.concatenate([s.relevant for s in samples]))
                samples = [AdapterSample(s.looks, np.searchsorted(rows, s.relevant)) for s in samples]
                adapter = AppearanceAdapter.fit(samples, catalog[rows], AdapterFitConfig(steps=args.steps))
            else:
                adapter = AppearanceAdapter.fit(samples, catalog, AdapterFitConfig(steps=args.steps))
            adapters[f"{name} (negatives: {neg})"] = adapter
        for i in test:
            truth = set(labels[i]["relevant"])
            for name in results:
                a = adapters.get(name)
                project = a.apply if a else (lambda x: x)
                best = (project(looks[i]) @ project(catalog).T).max(axis=0)
                ranked = [ids[j] for j in np.argsort(-best)[:10]]
                results[name].append(ranking_metrics(ranked, truth & indexed, 10))
        print(f"fold {f + 1}/{args.folds} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    print("| scoring (max over dense windows) | Recall@10 | nDCG@10 |")
    print("|---|---:|---:|")
    for name, ms in results.items():
        print(f"| {name} | {np.mean([m['recall'] for m in ms]):.4f} | {np.mean([m['ndcg'] for m in ms]):.4f} |")


if __name__ == "__main__":
    main()
