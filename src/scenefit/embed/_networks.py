"""The offline encoder's two networks (EfficientNet-Lite0 for images, all-MiniLM-L6-v2 for
texts) behind one small interface, with the runtime that runs them chosen once, here.

The encoder does everything else (batching, the label bridge, appearance vectors) the same
way under every runtime; an implementation only runs the networks.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ._runtime import Runtime


class Networks(Protocol):
    """The networks under one runtime; each loads what it needs on first use."""

    #: Appended to the model id to name what makes scene vectors: empty when scene photos go
    #: through the same image network as products.
    scene_id_suffix: str

    def encode_texts(self, texts: list[str], batch_size: int) -> np.ndarray:
        """(n, 384) L2-normalised float32 sentence embeddings of ``texts`` (n ≥ 1)."""
        ...

    def classify(self, batch: np.ndarray, temperature: float, *, scene: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """For a (n, 3, 224, 224) batch: the (n, 1000) softmax of the ImageNet logits divided
        by ``temperature``, and the (n, 1600) pooled statistics (``logits_and_pooled``).
        ``scene``: the batch holds views of a scene photo."""
        ...

    def scene_maps(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For a (1, 3, H, W) photo: the (1600, h, w) per-cell statistics and the (1280, h, w)
        plain head features (``maps_and_head``), from one pass."""
        ...

    def classify_pooled(self, head_means: np.ndarray, temperature: float) -> np.ndarray:
        """(n, 1000) softmax of the ImageNet logits of (n, 1280) mean head features divided by
        ``temperature`` (``classifier``)."""
        ...

    def prepare(self) -> None:
        """Build what would otherwise be built on first use (the ONNX runtime's exported
        graphs); afterwards queries only load."""
        ...


def networks_for(runtime: Runtime | str) -> Networks:
    """The networks under ``runtime`` (a ConfigError names the choices for an unknown one);
    nothing is loaded yet, and the ONNX runtime never imports torch once its graphs exist."""
    runtime = Runtime.parse(runtime)
    if runtime is Runtime.TORCH:
        from ._torch_nets import TorchNetworks

        return TorchNetworks()
    from ._onnx import OnnxNetworks

    return OnnxNetworks(int8_scenes=runtime is Runtime.ONNX_INT8)
