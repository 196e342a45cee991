"""ONNX Runtime for the offline encoder's networks (``EncoderConfig.runtime = "onnx"``).

The PyTorch modules are exported once, at first use, into the user cache (nothing is
downloaded) and then run by ONNX Runtime, about 4× faster than eager PyTorch on this
machine's CPU for EfficientNet-Lite0 (see docs/performance.md). Outputs match PyTorch to
float precision; tests check cosine ≥ 0.999 on real photos and texts.

``onnx-int8`` adds a statically quantised copy of the image network (int8 weights per
channel, uint8 activations, QDQ format), calibrated on the packaged example photo. It is
about 2.3× faster than fp32 but only approximately the same model (pooled-feature cosine
≈ 0.99), so it encodes scene photos only: product vectors stay fp32 and an index built with
any runtime can be served with it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from .._errors import ModelError

#: Bump when the exported graphs change: the cache key includes it.
EXPORT_VERSION = 3  # 2: the image graphs also give the last block's features; 3: the head squared


def _ort():
    try:
        import onnxruntime
    except ImportError:
        raise ModelError("--runtime onnx needs ONNX Runtime: pip install 'scenefit[onnx]'") from None
    return onnxruntime


def _session(path: Path):
    ort = _ort()
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    options.log_severity_level = 3  # warnings about unused initialisers are noise
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_or_export(path: Path, export: Callable[[Path], None]):
    """An ONNX Runtime session for ``path``, exporting it first (atomically) if missing or
    unreadable."""
    _ort()  # fail with the install hint before spending time on an export
    for attempt in range(2):
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                export(tmp)
                os.replace(tmp, path)  # concurrent exporters: each publishes a complete file
            finally:
                tmp.unlink(missing_ok=True)
        try:
            return _session(path)
        except Exception as exc:  # noqa: BLE001 - ORT raises its own types for a bad file
            if attempt:
                raise ModelError(f"{path}: cannot load the exported model ({exc})") from None
            path.unlink(missing_ok=True)  # damaged cache file: export again


def export_module(model, forward: Callable, example: tuple, path: Path, inputs: list[str], outputs: list[str],
                  dynamic: dict[str, dict[int, str]]) -> None:
    """Export ``forward(model, *inputs)`` (the part of a PyTorch model scenefit runs) as ONNX."""
    import warnings

    import torch

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = model

        def forward(self, *args):
            return forward(self.m, *args)

    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
        torch.onnx.export(Graph().eval(), example, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic, opset_version=17, dynamo=False)


class ImageNet:
    """EfficientNet features + classifier as one graph: (n, 3, 224, 224) → logits, pooled
    (the head's 1280 pooled statistics, then the last block's 320: ``logits_and_pooled``)."""

    def __init__(self, path: Path, torch_model: Callable[[], object]):
        def export(target: Path) -> None:
            import torch

            from ._offline import logits_and_pooled

            export_module(torch_model(), logits_and_pooled, (torch.zeros(2, 3, 224, 224),), target, ["pixels"], ["logits", "pooled"],
                          {"pixels": {0: "n"}, "logits": {0: "n"}, "pooled": {0: "n"}})

        self.path = path
        self.session = load_or_export(path, export)

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, pooled = self.session.run(None, {"pixels": np.ascontiguousarray(batch, np.float32)})
        return logits, pooled


class FeatureMapNet:
    """EfficientNet's head and last-block per-cell statistics, stacked (``stacked_maps``),
    for a photo of any size: (1, 3, H, W) → (1, 1280 + 320, H/32, W/32)."""

    def __init__(self, path: Path, torch_model: Callable[[], object]):
        def export(target: Path) -> None:
            import torch

            from ._offline import stacked_maps

            export_module(torch_model(), stacked_maps, (torch.zeros(1, 3, 256, 320),), target,
                          ["pixels"], ["fmap"], {"pixels": {2: "h", 3: "w"}, "fmap": {2: "fh", 3: "fw"}})

        self.session = load_or_export(path, export)

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"pixels": np.ascontiguousarray(pixels, np.float32)})[0]


def quantize_image_net(fp32: Path, target: Path, calibration: np.ndarray, batch: int = 7,
                       method: str = "MinMax") -> None:
    """Static int8 quantisation of an exported image network. ``calibration`` is
    (n, 3, 224, 224) with n a multiple of ``batch`` (the calibrator needs equal batches);
    ``method``: an onnxruntime CalibrationMethod name (benchmarks/onnx_int8.py compares them)."""
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"pixels": calibration[i : i + batch]} for i in range(0, len(calibration), batch)])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"  # shapes inferred and graph folded, as ORT advises
        quant_pre_process(str(fp32), str(prepared))
        quantize_static(str(prepared), str(target), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=True, calibrate_method=CalibrationMethod[method])


class ImageNetInt8(ImageNet):
    """:class:`ImageNet`'s graph quantised to int8; same inputs and outputs."""

    def __init__(self, path: Path, fp32: ImageNet, calibration: Callable[[], np.ndarray]):
        self.path = path
        self.session = load_or_export(path, lambda target: quantize_image_net(fp32.path, target, calibration()))


class TextNet:
    """A sentence-transformers model's transformer as a graph; tokenising, mean pooling and
    normalising are done here as sentence-transformers does them for all-MiniLM-L6-v2. Once
    exported, neither PyTorch nor the sentence-transformers model is loaded."""

    def __init__(self, path: Path, model_dir: Path, st_model: Callable[[], object]):
        import json

        from tokenizers import Tokenizer  # the fast tokenizer alone: no transformers, no torch

        config = model_dir / "sentence_bert_config.json"
        self.max_length = json.loads(config.read_text()).get("max_seq_length", 256) if config.is_file() else 256
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")

        def export(target: Path) -> None:
            import torch

            def body(m, input_ids, attention_mask, token_type_ids):
                return m(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids).last_hidden_state

            ids = torch.ones(2, 8, dtype=torch.long)
            export_module(st_model()[0].auto_model, body, (ids, ids, torch.zeros_like(ids)), target,
                          ["input_ids", "attention_mask", "token_type_ids"], ["hidden"],
                          {n: {0: "n", 1: "t"} for n in ("input_ids", "attention_mask", "token_type_ids", "hidden")})

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
