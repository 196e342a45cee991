"""Prototype measurements for the next quality steps, outside the product code.

Cross-validated (5 folds over scenes) on a labelled benchmark in the IKEA format:
- image-to-image regional matching: EfficientNet-Lite0 pooled features of the product photo
  against the whole scene photo, a 2×2 and a 3×3 grid of crops; a product's score is its best
  crop (max) — products are small in room photos;
- a room-type classifier (logistic regression on the scene's pooled features), fitted on the
  training folds only;
- a type-level prior P(product type | room type) counted on the training folds' labels (never
  product ids), applied through the predicted room distribution;
- fusion weights of z-scored signals chosen by grid search on the training folds.

    python benchmarks/quality_prototype.py [--data ../shared/benchmarks/ikea-dev]

Needs scikit-learn (`pip install scikit-learn`), which the package itself does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from offline_bridge import features  # same folder
from scenefit import Catalog
from scenefit.embed import l2_normalize
from scenefit.embed._offline import OfflineEncoder
from scenefit.images import open_image


def _grid(im, n):
    w, h = im.size
    return [im.crop((w * i // n, h * j // n, w * (i + 1) // n, h * (j + 1) // n)) for i in range(n) for j in range(n)]


def _z(a):
    return (a - a.mean(1, keepdims=True)) / (a.std(1, keepdims=True) + 1e-9)


def main() -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/benchmarks/ikea-dev")
    args = ap.parse_args()
    enc = OfflineEncoder()
    products = Catalog.read(args.data / "catalog.csv").products
    n = len(products)
    pos = {p.id: i for i, p in enumerate(products)}
    has = [i for i, p in enumerate(products) if p.image]
    _, pooled = features(enc, [open_image(products[i].image) for i in has])
    prod = np.zeros((n, pooled.shape[1]), np.float32)
    prod[has] = l2_normalize(pooled)
    labels = [json.loads(x) for x in (args.data / "labels.jsonl").read_text().splitlines() if x.strip()]
    scenes = [open_image(args.data / lab["scene"]) for lab in labels]
    crops = [c for im in scenes for c in [im, *_grid(im, 2), *_grid(im, 3)]]
    _, sp = features(enc, crops)
    sp = l2_normalize(sp).reshape(len(scenes), 14, -1)
    rel = [{pos[r] for r in lab["relevant"] if r in pos} for lab in labels]
    rooms = sorted({lab["room_type"] for lab in labels})
    ry = np.array([rooms.index(lab["room_type"]) for lab in labels])
    types = [str(p.attributes.get("type", "")).lower() for p in products]
    vocab = sorted(set(types))
    tix = np.array([vocab.index(t) for t in types])

    def recall(score, idx):
        r = [len(set(np.argsort(-score[row])[:10]) & rel[s]) / len(rel[s]) for row, s in enumerate(idx) if rel[s]]
        return float(np.mean(r))

    sims = np.einsum("scd,pd->scp", sp, prod)
    no_photo = np.ones(n, bool)
    no_photo[has] = False
    signals = {"whole photo": sims[:, 0], "best of whole + 2x2": sims[:, :5].max(1), "best of 14 regions": sims.max(1)}
    every = np.arange(len(scenes))
    print("image-to-image, no fitting (all scenes):")
    for name, a in signals.items():
        a = a.copy()
        a[:, no_photo] = a[:, ~no_photo].mean()
        print(f"  {name:24} Recall@10 {recall(a, every):.4f}")
    img = signals["best of 14 regions"].copy()
    img[:, no_photo] = img[:, ~no_photo].mean()
    img = _z(img)

    X = np.concatenate([sp[:, 0], sp[:, 1:].mean(1)], 1)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    acc, hits, chosen = [], 0.0, []
    for tr, te in folds.split(X, ry):
        def probs(clf, x, classes):
            out = np.zeros((len(x), len(rooms)))
            out[:, classes] = clf.predict_proba(x) if hasattr(clf, "predict_proba") else clf
            return out

        clf = LogisticRegression(C=1.0, max_iter=2000).fit(X[tr], ry[tr])
        p_te = probs(clf, X[te], clf.classes_)
        acc.append(float((p_te.argmax(1) == ry[te]).mean()))
        inner = cross_val_predict(LogisticRegression(C=1.0, max_iter=2000), X[tr], ry[tr], cv=4, method="predict_proba")
        p_tr = np.zeros((len(tr), len(rooms)))
        p_tr[:, np.unique(ry[tr])] = inner
        counts = np.full((len(rooms), len(vocab)), 0.1)
        for s in tr:
            for p in rel[s]:
                counts[ry[s], tix[p]] += 1
        p_type = counts / counts.sum(1, keepdims=True)
        base = np.bincount(tix, minlength=len(vocab)) / n

        def type_signal(room_probs):
            return _z(np.log((room_probs @ p_type)[:, tix] / base[tix]))

        t_tr, t_te = type_signal(p_tr), type_signal(p_te)
        best = max(((recall(img[tr] + w * t_tr, tr), w) for w in (0, 0.1, 0.25, 0.5, 1.0)))
        chosen.append(best[1])
        hits += recall(img[te] + best[1] * t_te, te) * len(te)
    print(f"room-type accuracy, 5-fold CV: {np.mean(acc):.3f}")
    print(f"best-region image match + type prior (weight per fold {chosen}), 5-fold CV Recall@10: "
          f"{hits / len(scenes):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
