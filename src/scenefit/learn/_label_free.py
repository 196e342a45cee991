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
from ..index import ProductRecord, VectorIndex
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


@dataclass(frozen=True)
class ProductPhotos:
    """A product to paste: its index key and its photo files, primary first."""

    key: int
    files: tuple[Path, ...]


def _packshot(files: Sequence[Path]) -> tuple[int, Image.Image] | None:
    """The first of ``files`` shot on white, cut out (which photo, the cut-out); else the
    first readable one whole; None when none can be read."""
    whole = None
    for i, path in enumerate(files):
        photo = _try_open(path)
        if photo is None:
            continue
        cut, on_white = cut_out(photo)
        if on_white:
            return i, cut
        whole = whole or (i, cut)
    return whole


def composite_samples(products: Sequence[ProductPhotos], backgrounds: Sequence[Path], encoder: Encoder,
                      vectors: Callable[[np.ndarray], np.ndarray], scene: SceneConfig, config: LabelFreeConfig,
                      progress: Progress | None = None) -> tuple[list[AdapterSample], np.ndarray]:
    """Composites of ``products`` pasted into ``backgrounds``, analysed with ``scene``'s
    regions. Returns the samples (``relevant``: rows of the matrix) and the matrix: the
    appearance vector of the photo pasted for each product used (``vectors`` of index keys
    for a product's first photo, which the index holds; a further photo is encoded here).
    A photo or a background that cannot be read is skipped."""
    rng = np.random.default_rng(config.seed)
    analyzer = SceneAnalyzer(encoder, scene)
    appearance = analyzer.capabilities.appearance
    if appearance is None:
        raise ConfigError("the encoder has no appearance space: nothing to adapt")
    rooms = [im for path in backgrounds if (im := _try_open(path)) is not None]
    if not rooms:
        raise ConfigError("no readable background photo to paste products into")
    order = rng.permutation(len(products))  # each product pasted once before any twice
    shots: dict[int, tuple[int, Image.Image] | None] = {}  # position in products → packshot
    rows: dict[int, int] = {}  # position in products → row of the matrix
    samples: list[AdapterSample] = []
    start, at = time.monotonic(), 0
    low, high = config.compose.products
    with (progress or NullProgress()).task("Composing and analysing synthetic scenes", config.composites) as advance:
        while len(samples) < config.composites:
            if config.max_seconds is not None and time.monotonic() - start > config.max_seconds:
                break
            chosen: list[int] = []
            for _ in range(int(rng.integers(low, high + 1))):
                if at >= len(order):
                    order, at = rng.permutation(len(products)), 0
                p, at = int(order[at]), at + 1
                if p not in shots:
                    shots[p] = _packshot(products[p].files)
                if shots[p] is not None and p not in chosen:
                    chosen.append(p)
            if not chosen:
                if len(shots) >= len(products) and not any(shots.values()):
                    raise ConfigError("no product photo could be read to make composites from")
                continue
            composite = compose(rooms[int(rng.integers(len(rooms)))], [shots[p][1] for p in chosen],
                                config.compose, rng)
            looks = _scene_looks(analyzer, composite.image)
            samples.append(AdapterSample(looks.astype(np.float32),
                                         np.array([rows.setdefault(p, len(rows)) for p in chosen], np.int64)))
            advance(1)
    used = sorted(rows, key=rows.get)  # in row order
    stored = [p for p in used if shots[p][0] == 0]
    matrix = np.zeros((len(used), appearance.appearance_dim), np.float32)
    if stored:
        matrix[[rows[p] for p in stored]] = vectors(np.array([products[p].key for p in stored], np.int64))
    further = [p for p in used if shots[p][0] != 0]
    if further:
        files = [products[p].files[shots[p][0]] for p in further]
        matrix[[rows[p] for p in further]] = appearance.encode_appearance([open_image(f) for f in files])
    return samples, matrix


def fit_label_free(products: Sequence[ProductPhotos], vectors: Callable[[np.ndarray], np.ndarray],
                   backgrounds: Sequence[Path], encoder: Encoder, scene: SceneConfig,
                   config: LabelFreeConfig | None = None, progress: Progress | None = None) -> LabelFreeResult:
    """The adapter fitted on composites of ``products``; ``vectors`` gives the appearance
    vectors the index holds for product keys (their first photo's)."""
    config = config or LabelFreeConfig()
    t0 = time.monotonic()
    if not products:
        raise ConfigError("no product has a readable photo: a label-free adapter needs product photos")
    samples, matrix = composite_samples(products, backgrounds, encoder, vectors, scene, config, progress)
    if not samples:
        raise ConfigError("no composite could be made within the time allowed")
    adapter = AppearanceAdapter.fit(samples, matrix, config.fit)
    return LabelFreeResult(adapter, len(samples), len(matrix), len(backgrounds), round(time.monotonic() - t0, 1))


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


def adapt_index(index: VectorIndex, encoder: Encoder, image_files: Callable[[ProductRecord], list[Path]],
                scenes: Path | None,
                regions: str | None = None, config: LabelFreeConfig | None = None,
                progress: Progress | None = None) -> LabelFreeResult:
    """The label-free adapter of ``index``: composites of a random sample of its products with
    photos (``image_files``: a record's readable photo files, primary first) pasted into the photos of
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
    keys = np.array(sorted(index.photo_counts()), np.int64)  # products with a photo
    high = config.compose.products[1]
    rng = np.random.default_rng(config.seed)
    # a catalog of millions needs no more photos than the composites can show
    sample = np.sort(rng.choice(keys, min(len(keys), config.composites * high), replace=False))
    products = [ProductPhotos(int(k), tuple(files)) for k, r in zip(sample, index.records_for(sample))
                if r is not None and (files := image_files(r))]
    result = fit_label_free(products, index.appearance.vectors, backgrounds, encoder, scene, config, progress)
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


__all__ = ["LabelFreeConfig", "ProductPhotos", "LabelFreeResult", "SHIPPED", "USER", "adapt_index", "background_photos", "composite_samples",
           "fit_label_free", "save_label_free"]
