"""Which ranking factors help? Recall/nDCG/HitRate/MRR@10 of `match` under factor ablations.

Reuses an index built by `scenefit eval` (so the catalog is embedded once), then re-ranks
every labelled scene with each configuration:

    scenefit eval --catalog CATALOG --labels LABELS --index .scenefit/eval-ikea-dev --encoder offline
    python benchmarks/rank_ablation.py --index .scenefit/eval-ikea-dev --labels LABELS
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scenefit import Engine, RankConfig, RankWeights, SceneConfig
from scenefit.evaluate import mean_metrics, ranking_metrics, read_labels
from scenefit.images import open_image


def _only(**w) -> RankWeights:
    return RankWeights(**{"similarity": 0.0, "room": 0.0, "colour": 0.0, "style": 0.0, "appearance": 0.0, **w})


FLAT = dict(diversity=0.0, max_per_category=1000, duplicate_cosine=1.0)
CONFIGS = {
    "appearance only (best region)": (RankConfig(weights=_only(appearance=1), **FLAT), SceneConfig()),
    "appearance 0.5 + similarity 0.5": (RankConfig(weights=_only(appearance=0.5, similarity=0.5), **FLAT), SceneConfig()),
    "appearance + similarity + colour": (
        RankConfig(weights=_only(appearance=0.45, similarity=0.35, colour=0.2), **FLAT), SceneConfig()),
    "appearance + similarity + colour, MMR": (
        RankConfig(weights=_only(appearance=0.45, similarity=0.35, colour=0.2)), SceneConfig()),
    "default (all factors, MMR + caps)": (RankConfig(), SceneConfig()),
    "default factors, no diversity": (RankConfig(**FLAT), SceneConfig()),
    "similarity only (regional query)": (RankConfig(weights=_only(similarity=1), **FLAT), SceneConfig()),
    "similarity only (whole photo)": (RankConfig(weights=_only(similarity=1), **FLAT), SceneConfig(regional=False)),
    "similarity 0.7 + room 0.3": (RankConfig(weights=_only(similarity=0.7, room=0.3), **FLAT), SceneConfig()),
    "similarity 0.7 + colour 0.3": (RankConfig(weights=_only(similarity=0.7, colour=0.3), **FLAT), SceneConfig()),
    "similarity 0.7 + style 0.3": (RankConfig(weights=_only(similarity=0.7, style=0.3), **FLAT), SceneConfig()),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--only", nargs="*", help="run only configurations whose name starts with these")
    args = ap.parse_args()
    scenes = read_labels(args.labels)
    images = [open_image(s.path) for s in scenes]
    print(f"{'configuration':38} {'R@k':>7} {'nDCG@k':>7} {'Hit@k':>7} {'MRR@k':>7}")
    for name, (rank, scene) in CONFIGS.items():
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        engine = Engine(args.index, rank=rank, scene=scene, log=lambda m: None)
        known = set(engine.index.ids())
        rows = []
        for s, im in zip(scenes, images):
            if s.relevant & known:
                ranked = [r.id for r in engine.match(im, k=args.k).recommendations]
                rows.append(ranking_metrics(ranked, s.relevant & known, args.k))
        m = mean_metrics(rows)
        print(f"{name:38} {m['recall']:7.4f} {m['ndcg']:7.4f} {m['hit_rate']:7.4f} {m['mrr']:7.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
