"""Real inputs for the benchmarks: real product vectors to sample around, scene photos, and
synthetic indexes of any size built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .. import _seed
from ..embed import EncoderConfig
from ..engine import Engine
from ..index import AnnConfig, VectorIndex
from ._data import RealVectors, SyntheticCatalog, from_index

# The IKEA benchmark is never shipped nor copied into the repository: it is used when it sits
# beside a source checkout (../shared), and an installed package falls back to the seed data.
IKEA = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks" / "ikea-dev"


def real_vectors(work: Path, real_index: Path | None, log) -> RealVectors:
    """From ``real_index`` (e.g. one `scenefit eval` built on the IKEA catalog), else from the
    seed catalog (text) plus crops of the example photo (appearance: the seed's product photos
    cannot be downloaded here)."""
    if real_index is not None:
        return from_index(real_index)
    index = work / "seed-index"
    engine = Engine(index, encoder=EncoderConfig(backend="offline"), log=lambda m: None)
    if not VectorIndex.exists(index):
        log("embedding the seed catalog for real product vectors …")
        engine.ingest(_seed.CATALOG)
    real = from_index(index)
    from PIL import Image

    photo = Image.open(_seed.PHOTO).convert("RGB")
    rng = np.random.default_rng(0)
    crops = []
    for _ in range(96):
        side = int(rng.integers(64, min(photo.size) // 2))
        x, y = int(rng.integers(0, photo.width - side)), int(rng.integers(0, photo.height - side))
        crops.append(photo.crop((x, y, x + side, y + side)))
    encoder = engine.encoder_for_index()
    real.appearance = encoder.encode_appearance(crops)
    real.source += " + appearance of 96 crops of examples/living-room.webp"
    return real


def scene_photos(limit: int = 20) -> list[Path]:
    photos = [_seed.PHOTO]
    if (IKEA / "scenes").is_dir():
        photos += sorted(p for p in (IKEA / "scenes").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    return photos[:limit]


def copy_fitted(source: Path, target: Path) -> str | None:
    """The fitted adapter files of ``source`` (same encoder) into ``target``, replacing any
    there: a synthetic index is then scored as the real one is. The name of the file that
    serves matches (the labelled adapter wins), or None."""
    from ..learn import ADAPTER_FILE, LABEL_FREE_FILE

    served = None
    for name in (LABEL_FREE_FILE, ADAPTER_FILE):
        (target / name).unlink(missing_ok=True)
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
            served = name
    return served


def synthetic_index(path: Path, synth: SyntheticCatalog, n: int, real_index_manifest, ann: AnnConfig | None = None,
                    chunk: int = 100_000) -> VectorIndex:
    """A real index folder (manifest, FAISS, product database) of ``n`` synthetic products,
    queryable by the real encoder."""
    if VectorIndex.exists(path) and VectorIndex.open(path).manifest.count == n:
        return VectorIndex.open(path)
    m = real_index_manifest
    index = VectorIndex.create(path, model_id=m.model_id, dim=m.dim, encoder=m.encoder,
                               appearance_dim=m.appearance_dim if synth.real.appearance is not None else 0, ann=ann)
    records = synth.records(n)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        text = synth.vectors("text", stop - start, stream=10 + start // chunk)
        looks = None
        if index.appearance is not None:
            vecs = synth.vectors("appearance", stop - start, stream=1000 + start // chunk)
            looks = {r.id: vecs[i] for i, r in enumerate(records[start:stop])}
        index.upsert(records[start:stop], text, looks)
    index.save()
    return index
