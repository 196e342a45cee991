"""Dense regional matching, measured outside the product code (docs/quality.md, "Next").

Instead of cropping the scene photo into 14 views and encoding each, run EfficientNet-Lite0
once on the whole photo at a higher resolution and average its feature maps over
windows of several sizes (an integral image makes each window one subtraction). Each window
approximates the pooled features of that part of the photo; a product's score is its best
window's cosine with the product photo's pooled features (from an existing index's
appearance space). Reports Recall@10 over the labelled scenes, max-only scoring, no fitting.

    python benchmarks/dense_regions.py --index .scenefit/eval-ikea-dev \
        --data ../shared/benchmarks/ikea-dev 896:6,8,12,16:3 672:3,4,6,8,12:1
    python benchmarks/dense_regions.py --index … --data … --time   # scene encoding, crops vs dense

Each configuration is SHORT_SIDE:WINDOW_SIZES[:STRIDE] (window sizes and stride in feature
cells of 32 pixels).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from scenefit.embed import EncoderConfig, build_encoder, l2_normalize
from scenefit.embed._offline import OfflineEncoder
from scenefit.images import open_image
from scenefit.index import VectorIndex
from scenefit.scene._windows import window_means


def time_scene_encoding(data: Path, photos: int = 20) -> None:
    """Median SceneAnalyzer.embed time (ONNX runtime, warm) with crops and with dense windows."""
    from scenefit.scene import SceneAnalyzer, SceneConfig

    encoder = OfflineEncoder(runtime="onnx")
    labels = [json.loads(x) for x in (data / "labels.jsonl").read_text().splitlines() if x.strip()][:photos]
    images = [open_image(data / lab["scene"]) for lab in labels]
    print("| regions | median ms per scene | p95 ms |")
    print("|---|---:|---:|")
    for mode in ("crops", "dense"):
        analyzer = SceneAnalyzer(encoder, SceneConfig(regions=mode))
        for im in images[:2]:
            analyzer.embed(im)  # warm-up (and the ONNX export on first use)
        times = []
        for _ in range(2):
            for im in images:
                t0 = time.perf_counter()
                analyzer.embed(im)
                times.append(time.perf_counter() - t0)
        print(f"| {mode} | {np.median(times) * 1000:.0f} | {np.percentile(times, 95) * 1000:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="an index built from --data's catalog (offline encoder)")
    ap.add_argument("--data", type=Path, required=True, help="benchmark folder: labels.jsonl and scenes")
    ap.add_argument("--time", action="store_true", help="time scene encoding, crops vs dense, and stop")
    ap.add_argument("configs", nargs="*")
    args = ap.parse_args()
    if args.time:
        time_scene_encoding(args.data)
        return

    index = VectorIndex.open(args.index)
    keys = index.appearance.key_array()
    ids = [index.record(int(k)).id for k in keys]
    products = l2_normalize(index.appearance.vectors(keys))
    encoder = build_encoder(EncoderConfig.model_validate(index.manifest.encoder))[0]  # the index's own
    labels = [json.loads(x) for x in (args.data / "labels.jsonl").read_text().splitlines() if x.strip()]
    print(f"{len(labels)} scenes, {len(ids)} products with a photo")
    print("| short side | window sizes (cells) | stride | windows per scene | Recall@10 |")
    print("|---:|---|---:|---:|---:|")
    for cfg in args.configs:
        short, sizes, *rest = cfg.split(":")
        sizes_ = [int(s) for s in sizes.split(",")]
        stride = int(rest[0]) if rest else 1
        recalls, counts, t0 = [], [], time.perf_counter()
        for lab in labels:
            fmap = encoder.scene_feature_map(open_image(args.data / lab["scene"]), int(short))
            regions = encoder.appearance_vectors(window_means(fmap, sizes_, stride))
            counts.append(len(regions))
            top = np.argsort(-(regions @ products.T).max(axis=0))[:10]
            relevant = set(lab["relevant"])
            recalls.append(len({ids[i] for i in top} & relevant) / len(relevant))
        print(f"| {short} | {sizes} | {stride} | {int(np.median(counts))} | {np.mean(recalls):.4f} |"
              f"  <!-- {time.perf_counter() - t0:.0f} s -->")


if __name__ == "__main__":
    main()
