"""``scenefit adapt``: the appearance adapter fitted from the catalog alone, without a single
labelled scene.

Synthetic scenes (:mod:`._composites`) are analysed exactly as a real scene photo is at match
time (the same regions: crops or dense windows), and each composite becomes the sample a
labelled scene would be: its regions, and the products pasted into it as the relevant ones.
The adapter is then fitted as ``scenefit fit`` fits it, the other pasted products serving as
negatives. Every product with a photo can be a positive, so it also serves products no
labelled scene shows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from .._errors import ConfigError, ImageError
from .._progress import NullProgress, Progress
from ..embed import Encoder, EncoderCapabilities
from ..images import open_image
from ..index import VectorIndex
from ..scene import SceneAnalyzer, SceneConfig
from ._adapter import AdapterFitConfig, AdapterSample, AppearanceAdapter
from ._composites import CompositeConfig, compose, cut_out

#: where composites' backgrounds come from, as recorded in the adapter
SHIPPED, USER = "shipped", "user"


@dataclass
class LabelFreeConfig:
    """How ``scenefit adapt`` fits: how many composites, of what, and the adapter's fit."""

    composites: int = 400
    #: stop making composites after this many seconds (the fit itself follows): bounds the
    #: command's time on a small machine whatever ``composites`` says
    max_seconds: float | None = None
    seed: int = 0
    compose: CompositeConfig = field(default_factory=CompositeConfig)
    fit: AdapterFitConfig = field(default_factory=AdapterFitConfig)


@dataclass
class LabelFreeResult:
    adapter: AppearanceAdapter
    composites: int
    products: int  # distinct products pasted
    backgrounds: int
    seconds: float

    def summary(self) -> dict:
        """How the adapter was fitted (what ``scenefit adapt --json`` prints)."""
        return {"source": self.adapter.source, "regions": self.adapter.regions, **self.adapter.details}


def _scene_looks(analyzer: SceneAnalyzer, image: Image.Image) -> np.ndarray | None:
    """What a match compares product photos with, for this photo: dense windows or crops."""
    if analyzer.config.regions == "dense" and analyzer.capabilities.dense is not None:
        return analyzer.dense_windows(image)  # as match computes them, without the crops' pass
    return analyzer.embed_scene(image)[1]


def composite_samples(photos: Sequence[tuple[int, Path]], backgrounds: Sequence[Path], encoder: Encoder,
                      scene: SceneConfig, config: LabelFreeConfig, progress: Progress | None = None,
                      ) -> tuple[list[AdapterSample], np.ndarray]:
    """Composites of the products in ``photos`` ((row, photo file): ``row`` indexes the
    caller's matrix of appearance vectors) pasted into ``backgrounds``, analysed with
    ``scene``'s regions. Returns the samples (``relevant``: the rows pasted) and the rows used.
    A photo that cannot be read is skipped; so is a background."""
    rng = np.random.default_rng(config.seed)
    analyzer = SceneAnalyzer(encoder, scene)
    rooms = [im for path in backgrounds if (im := _try_open(path)) is not None]
    if not rooms:
        raise ConfigError("no readable background photo to paste products into")
    order = rng.permutation(len(photos))  # each product pasted once before any twice
    cut: dict[int, Image.Image | None] = {}
    samples: list[AdapterSample] = []
    used: set[int] = set()
    start, at = time.monotonic(), 0
    low, high = config.compose.products
    with (progress or NullProgress()).task("Composing and analysing synthetic scenes", config.composites) as advance:
        while len(samples) < config.composites:
            if config.max_seconds is not None and time.monotonic() - start > config.max_seconds:
                break
            chosen, pastes = [], []
            for _ in range(int(rng.integers(low, high + 1))):
                if at >= len(order):
                    order, at = rng.permutation(len(photos)), 0
                row, path = photos[order[at]]
                at += 1
                if row not in cut:
                    photo = _try_open(path)
                    cut[row] = cut_out(photo) if photo is not None else None
                if cut[row] is not None and row not in chosen:
                    chosen.append(row)
                    pastes.append(cut[row])
            if not chosen:
                if not any(v is not None for v in cut.values()) and len(cut) >= len(photos):
                    raise ConfigError("no product photo could be read to make composites from")
                continue
            background = rooms[int(rng.integers(len(rooms)))]
            composite = compose(background, pastes, config.compose, rng)
            looks = _scene_looks(analyzer, composite.image)
            if looks is None:
                raise ConfigError("the encoder has no appearance space: nothing to adapt")
            samples.append(AdapterSample(looks.astype(np.float32), np.asarray(chosen, np.int64)))
            used.update(chosen)
            advance(1)
    return samples, np.array(sorted(used), np.int64)


def fit_label_free(photos: Sequence[tuple[int, Path]], vectors: Callable[[np.ndarray], np.ndarray],
                   backgrounds: Sequence[Path], encoder: Encoder, scene: SceneConfig,
                   config: LabelFreeConfig | None = None, progress: Progress | None = None) -> LabelFreeResult:
    """The adapter fitted on composites of ``photos`` ((index key, photo file)); ``vectors``
    gives the appearance vectors of index keys."""
    config = config or LabelFreeConfig()
    t0 = time.monotonic()
    if not photos:
        raise ConfigError("no product has a readable photo: a label-free adapter needs product photos")
    samples, keys = composite_samples(photos, backgrounds, encoder, scene, config, progress)
    if not samples:
        raise ConfigError("no composite could be made within the time allowed")
    # sample rows are index keys: renumber them as rows of the matrix of the keys used
    for s in samples:
        s.relevant = np.searchsorted(keys, s.relevant)
    adapter = AppearanceAdapter.fit(samples, vectors(keys), config.fit)
    return LabelFreeResult(adapter, len(samples), len(keys), len(backgrounds), round(time.monotonic() - t0, 1))


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def background_photos(folder: Path | None) -> tuple[list[Path], str]:
    """The room photos of ``folder`` (its image files, sorted; not its subfolders), else the
    room photo that ships with the package; with where they come from."""
    if folder is None:
        from .._seed import PHOTO

        return [PHOTO], SHIPPED
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"--scenes {folder}: not a folder of room photos")
    photos = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not photos:
        raise ConfigError(f"--scenes {folder}: no image file ({', '.join(IMAGE_SUFFIXES)}) in it")
    return photos, USER


def adapt_index(index: VectorIndex, encoder: Encoder, image_file: Callable[[str], Path], scenes: Path | None,
                regions: str | None = None, config: LabelFreeConfig | None = None,
                progress: Progress | None = None) -> LabelFreeResult:
    """The label-free adapter of ``index``: composites of a random sample of its products with
    photos (``image_file``: a record's image → its local file) pasted into the photos of
    ``scenes`` (else the shipped room photo), analysed with ``regions`` (default: dense where
    the encoder has a dense appearance space, else crops); its ``details`` say how it was
    fitted."""
    config = config or LabelFreeConfig()
    if regions is None:
        regions = "dense" if EncoderCapabilities.of(encoder).dense is not None else "crops"
    scene = SceneConfig(regions=regions)
    if index.appearance is None or not len(index.appearance):
        raise ConfigError("the index has no product photo in an appearance space (an encoder with one, "
                          "and a catalog with photos): a label-free adapter learns from product photos")
    backgrounds, source = background_photos(scenes)
    keys = index.appearance.key_array()
    high = config.compose.products[1]
    rng = np.random.default_rng(config.seed)
    # a catalog of millions needs no more photos than the composites can show
    sample = np.sort(rng.choice(keys, min(len(keys), config.composites * high), replace=False))
    photos = [(int(k), image_file(r.image)) for k, r in zip(sample, index.records_for(sample))
              if r is not None and r.image and r.image_status == "ok"]
    result = fit_label_free(photos, index.appearance.vectors, backgrounds, encoder, scene, config, progress)
    result.adapter.source, result.adapter.regions = "composites", regions
    result.adapter.details = {"composites": result.composites, "products": result.products,
                              "backgrounds": result.backgrounds, "background_source": source,
                              "seed": config.seed, "seconds": result.seconds}
    return result


def save_label_free(adapter: AppearanceAdapter, folder: str | Path, *, model_id: str) -> Path:
    """Save a label-free adapter beside any labelled one; the caller holds the index folder's
    write lock."""
    adapter.model_id = model_id
    return adapter.save(Path(folder))


def _try_open(path: Path) -> Image.Image | None:
    try:
        return open_image(path)
    except ImageError:  # skipped, as ingest skips an unreadable photo
        return None


__all__ = ["LabelFreeConfig", "LabelFreeResult", "SHIPPED", "USER", "adapt_index", "background_photos", "composite_samples",
           "fit_label_free", "save_label_free"]
