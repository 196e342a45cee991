"""Label-free with the user's own unlabelled room photos, scored on *other* rooms
(docs/quality.md).

A user without labels may still have a folder of room photos. This measures what
``scenefit adapt --scenes FOLDER`` buys with such a folder, honestly: the labelled rooms are
split into folds; for each fold, the adapter is fitted on the photos of the *other* folds'
rooms (their labels are never read) and ``scenefit eval`` scores the fold's rooms. No room is
scored by an adapter that saw its photo, and no label is used for fitting anything.

    python benchmarks/label_free_rooms.py --index .scenefit/eval-ikea-dev \
        --data ../shared/benchmarks/ikea-dev --regions dense --json docs/quality/label-free-rooms-dense.json

The index is copied (its label-free adapter is replaced per fold); the room photos are linked
into a temporary folder, never copied into the repository. Prints the figures over all rooms
(each scored once, by the fold that held it out) and per fold.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from scenefit import Engine
from scenefit.learn import LabelFreeConfig, kfold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="an index of --data's catalog (scenefit ingest)")
    ap.add_argument("--data", type=Path, required=True, help="benchmark folder: catalog.csv, labels.jsonl, scenes/")
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="fold split and adapter seed")
    ap.add_argument("--regions", choices=["crops", "dense"], default="dense")
    ap.add_argument("--composites", type=int, default=LabelFreeConfig.composites)
    ap.add_argument("--runtime", default="onnx")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()

    lines = [json.loads(line) for line in (args.data / "labels.jsonl").read_text().splitlines() if line.strip()]
    for line in lines:
        line["scene"] = str((args.data / line["scene"]).resolve())
    folds, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        index = tmp / "index"
        shutil.copytree(args.index, index, ignore=shutil.ignore_patterns("*.lock"))
        for n, fold in enumerate(kfold(len(lines), args.folds, args.seed)):
            rooms = tmp / f"rooms-{n}"
            rooms.mkdir()
            for i in fold.train:  # their photos only: the labels stay unread
                photo = Path(lines[i]["scene"])
                (rooms / f"{i:04d}{photo.suffix}").symlink_to(photo)
            labels = tmp / f"labels-{n}.jsonl"
            labels.write_text("".join(json.dumps(lines[i]) + "\n" for i in fold.test))
            engine = Engine(index, runtime=args.runtime)
            fitted = engine.adapt(rooms, regions=args.regions,
                                  config=LabelFreeConfig(composites=args.composites, seed=args.seed))
            report = Engine(index, runtime=args.runtime).evaluate(args.data / "catalog.csv", labels, k=10).to_dict()
            folds.append({"fold": n, "rooms_for_backgrounds": len(fold.train), "rooms_scored": len(fold.test),
                          "adapt": fitted.summary(), "methods": {m: v["overall"] for m, v in report["methods"].items()},
                          "room_accuracy": report["room_accuracy"]["overall"]})
            rows.extend(report["scenes"])
            print(json.dumps(folds[-1]), flush=True)
    weights = np.array([f["rooms_scored"] for f in folds], float)
    overall = {m: {k: round(float(np.average([f["methods"][m][k] for f in folds], weights=weights)), 4)
                   for k in folds[0]["methods"][m]} for m in folds[0]["methods"]}
    out = {"protocol": f"{args.folds}-fold: adapt on the other folds' room photos, eval on the fold",
           "regions": args.regions, "composites": args.composites, "seed": args.seed, "overall": overall,
           "folds": folds}
    print(json.dumps({"overall": overall}, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
