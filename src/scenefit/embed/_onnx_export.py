"""Building the ONNX graphs the ONNX runtime runs: exported from the torch modules
(``_graphs``) and, for ``onnx-int8``, an image network quantised from the fp32 one.

Every function here writes the file it is given; publishing it atomically in the cache is
the caller's (``_onnx.load_or_export``).
"""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from ..images import grid
from ._graphs import classifier, logits_and_pooled, maps_and_head
from ._preprocess import INPUT_SIZE, preprocess_many

#: Bump when the exported graphs change: the cache file names include it.
EXPORT_VERSION = 3


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


def export_image_net(image_model, target: Path) -> None:
    """(n, 3, 224, 224) pixels → logits, pooled (``logits_and_pooled``)."""
    import torch

    export_module(image_model, logits_and_pooled, (torch.zeros(2, 3, INPUT_SIZE, INPUT_SIZE),), target,
                  ["pixels"], ["logits", "pooled"], {"pixels": {0: "n"}, "logits": {0: "n"}, "pooled": {0: "n"}})


def export_scene_maps_net(image_model, target: Path) -> None:
    """(1, 3, H, W) pixels of any size → fmap, head (``maps_and_head``)."""
    import torch

    export_module(image_model, maps_and_head, (torch.zeros(1, 3, 256, 320),), target, ["pixels"], ["fmap", "head"],
                  {"pixels": {2: "h", 3: "w"}, "fmap": {2: "fh", 3: "fw"}, "head": {2: "fh", 3: "fw"}})


def export_classifier_net(image_model, target: Path) -> None:
    """(n, 1280) mean head features → logits (``classifier``)."""
    import torch

    export_module(image_model, classifier, (torch.zeros(2, 1280),), target, ["pooled"], ["logits"],
                  {"pooled": {0: "n"}, "logits": {0: "n"}})


def export_text_net(transformer, target: Path) -> None:
    """A Hugging Face transformer (token ids, mask, type ids) → its last hidden state."""
    import torch

    def body(m, input_ids, attention_mask, token_type_ids):
        return m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones(2, 8, dtype=torch.long)
    names = ("input_ids", "attention_mask", "token_type_ids", "hidden")
    export_module(transformer, body, (ids, ids, torch.zeros_like(ids)), target,
                  list(names[:3]), ["hidden"], {n: {0: "n", 1: "t"} for n in names})


def quantize_image_net(fp32: Path, target: Path, calibration: np.ndarray, batch: int = 7,
                       method: str = "MinMax") -> None:
    """Static int8 quantisation of an exported image network (int8 weights per channel,
    uint8 activations, QDQ format). ``calibration`` is (n, 3, 224, 224) with n a multiple of
    ``batch`` (the calibrator needs equal batches); ``method``: an onnxruntime
    CalibrationMethod name (benchmarks/onnx_int8.py compares them)."""
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
        # reduce_range: 7-bit weights. x86 CPUs without VNNI (AVX2 only) multiply uint8 by int8
        # through 16-bit sums that saturate at full range, which moved scene vectors far from
        # fp32 on such machines; ONNX Runtime's advice for them, harmless on the others.
        quantize_static(str(prepared), str(target), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=True, reduce_range=True, calibrate_method=CalibrationMethod[method])


def calibration_batch() -> np.ndarray:
    """The packaged example room photo as a scene is viewed (whole, 2×2 and 3×3 grids), and
    its mirror image: int8 calibration data shaped like real queries, 28 views in all (a
    multiple of ``quantize_image_net``'s batch)."""
    from PIL import ImageOps

    with resources.files(__package__).joinpath("data/calibration-living-room.webp").open("rb") as fh:
        photo = Image.open(fh).convert("RGB")
    views = [v for im in (photo, ImageOps.mirror(photo)) for v in (im, *grid(im, 2), *grid(im, 3))]
    return preprocess_many(views)
