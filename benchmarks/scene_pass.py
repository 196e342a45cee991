"""Time to analyse one scene photo (the model work of a match, before search and re-rank),
per way of reading the scene, with the offline encoder under a given runtime.

- ``crops``: the whole photo and its 2×2, centre and 3×3 crops through the network (15 views);
- ``dense (two passes)``: the crops' pass and then the dense pass, as dense regions cost
  before one pass replaced the crops (reproduced here from the analyser's own parts);
- ``dense (one pass)``: what ``--regions dense`` does now: one pass over the photo at the
  dense resolution gives the windows and the views, plus the whole photo at 224 px;
- ``network floor``: the dense pass alone on the same pixels, nothing else.

Medians over the photos (each analysed ``--repeats`` times after a warm-up). Run from the
repository root:

    .venv/bin/python benchmarks/scene_pass.py ../shared/benchmarks/ikea-dev/scenes --photos 20
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from PIL import Image

from dense_resolution import at_short_side
from scenefit.embed._offline import OfflineEncoder
from scenefit.embed._preprocess import whole_photo
from scenefit.scene import SceneAnalyzer, SceneConfig
from scenefit.scene._windows import DENSE_SHORT_SIDE


def _median_ms(fn, photos, repeats: int) -> float:
    fn(photos[0])  # warm-up: sessions open, caches fill
    times = []
    for photo in photos:
        for _ in range(repeats):
            start = time.perf_counter()
            fn(photo)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", type=Path, help="a folder of room photos")
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runtime", default="onnx")
    parser.add_argument("--sides", default="", help="also time the one pass and its floor at these short sides, "
                        "e.g. 640,768 (dense_resolution.py)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    files = sorted(p for p in args.scenes.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"})
    photos = [Image.open(p).convert("RGB") for p in files[: args.photos]]
    encoder = OfflineEncoder(runtime=args.runtime)
    crops = SceneAnalyzer(encoder, SceneConfig(regions="crops"))
    dense = SceneAnalyzer(encoder, SceneConfig(regions="dense"))
    rows = {
        "crops": _median_ms(crops.embed, photos, args.repeats),
        "dense (two passes)": _median_ms(lambda im: (crops.embed(im), dense.dense_windows(im)), photos, args.repeats),
        "dense (one pass)": _median_ms(dense.embed, photos, args.repeats),
        "network floor": _median_ms(lambda im: encoder.networks.scene_maps(whole_photo(im, DENSE_SHORT_SIDE)),
                                    photos, args.repeats),
    }
    for side in (int(x) for x in args.sides.split(",") if x):
        with at_short_side(side):
            rows[f"dense (one pass) at {side}"] = _median_ms(dense.embed, photos, args.repeats)
            rows[f"network floor at {side}"] = _median_ms(
                lambda im: encoder.networks.scene_maps(whole_photo(im, side)), photos, args.repeats)
    result = {"machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
              "runtime": args.runtime, "photos": len(photos), "repeats": args.repeats,
              "median_ms": {k: round(v, 1) for k, v in rows.items()}}
    for name, ms in rows.items():
        print(f"{name:28s} {ms:7.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
