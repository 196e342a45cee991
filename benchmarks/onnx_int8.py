"""The offline image network in fp32 vs int8 (static QDQ, and dynamic) under ONNX Runtime.

For each held-out room photo, the 15 views a match encodes go through each network; the
script reports the median time per 15-view batch, the pooled-feature cosine to fp32 and
how often the top-1 ImageNet class agrees (docs/performance.md, "int8 quantisation").

    python benchmarks/onnx_int8.py ../shared/benchmarks/ikea-dev/scenes

It quantises and times the encoder's own networks, so it imports private names of
scenefit.embed; tests/benchmarks checks they exist.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from scenefit.embed._offline import OfflineEncoder
from scenefit.embed._onnx import session as _session
from scenefit.embed._onnx_export import calibration_batch as _calibration_batch, quantize_image_net
from scenefit.embed._preprocess import preprocess_many as _preprocess_many
from scenefit.images import centre, grid


def views(photo: Image.Image) -> list[Image.Image]:
    """The 15 views a match encodes: whole, 2×2, 3×3 and the centre."""
    return [photo, *grid(photo, 2), *grid(photo, 3), centre(photo)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenes", type=Path, help="folder of room photos")
    ap.add_argument("--photos", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    fp32 = OfflineEncoder(runtime="onnx").networks.image_net  # exported into the user cache if needed
    paths = sorted(p for p in args.scenes.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    # The last photos: the packaged calibration photo is not one of them.
    batches = [_preprocess_many(views(Image.open(p).convert("RGB"))) for p in paths[-args.photos:]]

    # The choices docs/performance.md mentions: calibration method, and calibrating on the
    # packaged photo (what scenefit ships) or on 8 other rooms of the benchmark (not the test ones).
    packaged = _calibration_batch()
    rooms = np.concatenate([_preprocess_many(views(Image.open(p).convert("RGB"))[:14])
                            for p in paths[: 8]])  # 8 × 14 = 112, a multiple of the batch of 7
    variants = {"int8 static (QDQ), MinMax": (packaged, "MinMax"),
                "int8 static, Percentile": (packaged, "Percentile"),
                "int8 static, Entropy": (packaged, "Entropy"),
                "int8 static, MinMax, calibrated on 8 rooms": (rooms, "MinMax")}
    with tempfile.TemporaryDirectory() as tmp:
        sessions = {"fp32": _session(fp32.path)}
        for i, (name, (calibration, method)) in enumerate(variants.items()):
            path = Path(tmp) / f"static-{i}.onnx"
            quantize_image_net(fp32.path, path, calibration, method=method)
            sessions[name] = _session(path)
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.quantization.shape_inference import quant_pre_process

        prepared, dynamic = Path(tmp) / "prepared.onnx", Path(tmp) / "dynamic.onnx"
        quant_pre_process(str(fp32.path), str(prepared))
        quantize_dynamic(str(prepared), str(dynamic), weight_type=QuantType.QUInt8)
        sessions["int8 dynamic"] = _session(dynamic)
        ref = [sessions["fp32"].run(None, {"pixels": b}) for b in batches]
        print(f"{len(batches)} photos × 15 views, {args.repeats} repeats")
        print("| network | median ms / 15 views | cosine median | cosine min | top-1 agrees |")
        print("|---|---:|---:|---:|---:|")
        for name, sess in sessions.items():
            for b in batches[:2]:
                sess.run(None, {"pixels": b})  # warm-up
            times = []
            for _ in range(args.repeats):
                for b in batches:
                    t0 = time.perf_counter()
                    sess.run(None, {"pixels": b})
                    times.append(time.perf_counter() - t0)
            outs = [sess.run(None, {"pixels": b}) for b in batches]
            cos = np.concatenate([(o[1] * r[1]).sum(1) / np.linalg.norm(o[1], axis=1) / np.linalg.norm(r[1], axis=1)
                                  for o, r in zip(outs, ref)])
            top1 = np.mean(np.concatenate([o[0].argmax(1) == r[0].argmax(1) for o, r in zip(outs, ref)]))
            print(f"| {name} | {np.median(times) * 1000:.1f} | {np.median(cos):.4f} | {cos.min():.4f} | {top1:.0%} |")


if __name__ == "__main__":
    main()
