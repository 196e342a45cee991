"""Ingestion throughput: text-only and with local product photos, and index build time."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

from .. import _seed
from ..embed import EncoderConfig
from ..engine import Engine
from ._timing import stats
from ._workload import IKEA


def _seed_rows() -> list[dict]:
    with _seed.CATALOG.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _catalog(path: Path, n: int, images: list[Path] | None) -> Path:
    seed = _seed_rows()
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "sku_id", "description", "primary_image"])
        writer.writeheader()
        for i in range(n):
            row = seed[i % len(seed)]
            # Unique text per row: the pipeline embeds each distinct content once, and a
            # benchmark of repeated rows would only measure the cache. Absolute image paths: a
            # catalog's relative ones are read from its own folder, not from where bench runs.
            writer.writerow({"id": f"b{i}", "sku_id": f"B{i}", "description": f"{row['description']} LOT {i}",
                             "primary_image": str(images[i % len(images)].resolve()) if images else ""})
    return path


def _photos(work: Path, n: int) -> list[Path]:
    """Real product photos (IKEA dev catalog) when present, else generated JPEGs."""
    if (IKEA / "images").is_dir():
        found = sorted(p for p in (IKEA / "images").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
        if len(found) >= n:
            return found[:n]
    from PIL import Image, ImageDraw

    folder = work / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        path = folder / f"{i}.jpg"
        if not path.exists():
            im = Image.new("RGB", (400, 400), tuple(int(c) for c in rng.integers(150, 255, 3)))
            draw = ImageDraw.Draw(im)
            for _ in range(4):
                x0, y0 = (int(v) for v in rng.integers(0, 300, 2))
                draw.rectangle((x0, y0, x0 + 100, y0 + 100), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
            im.save(path, quality=90)
        out.append(path)
    return out


def bench_ingest(work: Path, n_text: int, n_images: int, repeats: int, log=print) -> dict:
    out = {}
    photos = _photos(work, n_images)
    for label, n, images in (("text_only", n_text, None), ("with_local_images", n_images, photos)):
        catalog = _catalog(work / f"{label}.csv", n, images)
        rates, builds = [], []
        for r in range(repeats):
            index = work / f"ingest-{label}-{r}"
            shutil.rmtree(index, ignore_errors=True)  # a fresh index and embedding cache each time
            engine = Engine(index, encoder=EncoderConfig(backend="offline"), log=lambda m: None)
            report = engine.ingest(catalog)
            seconds = sum(report.timings_s.values())  # the pipeline, not the one-off model load
            rates.append(n / seconds)
            builds.append(report.timings_s["index"])
            shutil.rmtree(index, ignore_errors=True)
        out[label] = {"products": n, "repeats": repeats, "products_per_s_median": round(float(np.median(rates)), 1),
                      "products_per_s_all": [round(x, 1) for x in rates],
                      "index_build": stats(builds).as_dict()}
        log(f"  ingest {label}: {np.median(rates):.0f} products/s (n={n}, {repeats} runs)")
    out["photos"] = "IKEA dev catalog" if (IKEA / "images").is_dir() else "generated 400×400 JPEGs"
    return out
