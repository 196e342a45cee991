"""Which way of putting images and texts in one space works best for the offline encoder?

Plain retrieval (scene vector · product vector, no re-ranking) on a labelled scene → products
benchmark in the IKEA format (labels.jsonl + catalog.csv, see shared/benchmarks/ikea-dev):
Recall@10 and HitRate@10 for each variant.

    python benchmarks/offline_bridge.py [--data ../shared/benchmarks/ikea-dev] [--out docs/offline-bridge.json]

Variants:
- product side: text only | image bridged into text space | both averaged | image features
  (EfficientNet pooled features, image-to-image; products without a photo fall back to 0)
- scene side: whole photo | whole + four quadrants + centre crop (regional)
- bridge: top-k labels 5 / 10 / 50, softmax temperature 1 / 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from scenefit import Catalog
from scenefit.embed import l2_normalize
from scenefit.embed._offline import OfflineEncoder
from scenefit.embed._preprocess import preprocess as _preprocess
from scenefit.images import open_image
from scenefit.scene._analyze import _crops


def features(enc: OfflineEncoder, images) -> tuple[np.ndarray, np.ndarray]:
    """ImageNet logits and pooled 1280-d features for a list of PIL images."""
    logits, pooled = [], []
    model = enc.networks.image_model
    for start in range(0, len(images), 32):
        batch = torch.from_numpy(np.stack([_preprocess(im) for im in images[start:start + 32]]))
        with torch.inference_mode():
            fmap = model.extract_features(batch)
            pool = fmap.mean(dim=(2, 3))
            logits.append(model._fc(pool).numpy())
            pooled.append(pool.numpy())
    return np.concatenate(logits), np.concatenate(pooled)


def bridge(enc: OfflineEncoder, logits: np.ndarray, k: int, t: float) -> np.ndarray:
    z = logits / t
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    top = np.argpartition(-p, k - 1, axis=1)[:, :k]
    w = np.take_along_axis(p, top, axis=1)
    w /= w.sum(axis=1, keepdims=True)
    return l2_normalize(np.einsum("nk,nkd->nd", w, enc.label_matrix[top]))


def evaluate(scene_vecs, product_vecs, relevant, k=10) -> dict[str, float]:
    sims = scene_vecs @ product_vecs.T
    top = np.argsort(-sims, axis=1)[:, :k]
    recall = [len(set(t) & rel) / len(rel) for t, rel in zip(top, relevant)]
    hit = [float(bool(set(t) & rel)) for t, rel in zip(top, relevant)]
    return {"recall@10": round(float(np.mean(recall)), 4), "hit@10": round(float(np.mean(hit)), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/benchmarks/ikea-dev")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if not (args.data / "labels.jsonl").is_file():
        print(f"no benchmark at {args.data}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    enc = OfflineEncoder()
    cat = Catalog.read(args.data / "catalog.csv")
    products = cat.products
    pos = {p.id: i for i, p in enumerate(products)}
    text = enc.encode_texts([p.parsed.text for p in products])
    has_img = [i for i, p in enumerate(products) if p.image]
    p_logits, p_pool = features(enc, [open_image(products[i].image) for i in has_img])
    labels = [json.loads(line) for line in (args.data / "labels.jsonl").read_text().splitlines() if line.strip()]
    relevant = [{pos[r] for r in lab["relevant"] if r in pos} for lab in labels]
    scenes = [open_image(args.data / lab["scene"]) for lab in labels]
    s_logits, s_pool = features(enc, scenes)
    c_logits, c_pool = features(enc, [c for im in scenes for c in _crops(im)])
    c_logits = c_logits.reshape(len(scenes), 5, -1)
    c_pool = c_pool.reshape(len(scenes), 5, -1)
    print(f"features in {time.perf_counter() - t0:.0f}s: {len(products)} products "
          f"({len(has_img)} with photos), {len(scenes)} scenes", file=sys.stderr)

    rows = []
    for k in (5, 10, 50):
        for t in (1.0, 2.0):
            img = text.copy()
            img[has_img] = bridge(enc, p_logits, k, t)
            both = text.copy()
            both[has_img] = l2_normalize(text[has_img] + img[has_img])
            whole = bridge(enc, s_logits, k, t)
            crops = np.stack([bridge(enc, c_logits[:, j], k, t) for j in range(5)], axis=1)
            regional = l2_normalize(0.5 * whole + 0.5 * crops.mean(axis=1))
            for scene_name, sv in (("whole", whole), ("regional", regional)):
                for prod_name, pv in (("text", text), ("bridged image", img), ("text + bridged image", both)):
                    rows.append({"product": prod_name, "scene": scene_name, "top_k": k, "temperature": t,
                                 **evaluate(sv, pv, relevant)})
    pool = np.zeros((len(products), p_pool.shape[1]), np.float32)
    pool[has_img] = l2_normalize(p_pool)
    whole = l2_normalize(s_pool)
    regional = l2_normalize(0.5 * whole + 0.5 * l2_normalize(c_pool.reshape(-1, c_pool.shape[2])).reshape(c_pool.shape).mean(axis=1))
    for scene_name, sv in (("whole", whole), ("regional", regional)):
        rows.append({"product": "image features (image-to-image)", "scene": scene_name, "top_k": None,
                     "temperature": None, **evaluate(sv, pool, relevant)})
    rng = np.random.default_rng(0)
    rows.append({"product": "random", "scene": "-", "top_k": None, "temperature": None,
                 **evaluate(rng.normal(size=(len(scenes), 8)), rng.normal(size=(len(products), 8)), relevant)})
    rows.sort(key=lambda r: -r["recall@10"])
    print(f"{'product vector':34} {'scene':9} {'k':>3} {'T':>4} {'R@10':>7} {'Hit@10':>7}")
    for r in rows:
        print(f"{r['product']:34} {r['scene']:9} {str(r['top_k'] or '-'):>3} {str(r['temperature'] or '-'):>4} "
              f"{r['recall@10']:7.4f} {r['hit@10']:7.4f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"data": str(args.data), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
