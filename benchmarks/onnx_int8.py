"""The offline image network in fp32 vs int8 (static QDQ, and dynamic) under ONNX Runtime.

For each held-out room photo, the 15 views a match encodes go through each network; the
script reports the median time per 15-view batch, the pooled-feature cosine to fp32 and
how often the top-1 ImageNet class agrees (docs/performance.md, "int8 quantisation").

    python benchmarks/onnx_int8.py ../shared/benchmarks/ikea-dev/scenes
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from scenefit.embed._offline import OfflineEncoder, _calibration_batch, _preprocess_many
from scenefit.embed._onnx import _session, quantize_image_net


def views(photo: Image.Image) -> list[Image.Image]:
    w, h = photo.size
    out = [photo]
    for n in (2, 3):
        out += [photo.crop((w * i // n, h * j // n, w * (i + 1) // n, h * (j + 1) // n)) for i in range(n) for j in range(n)]
    out.append(photo.crop((w // 4, h // 4, 3 * w // 4, 3 * h // 4)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenes", type=Path, help="folder of room photos")
    ap.add_argument("--photos", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    fp32 = OfflineEncoder(runtime="onnx")._onnx_image  # exported into the user cache if needed
    paths = sorted(p for p in args.scenes.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    # The last photos: the packaged calibration photo is not one of them.
    batches = [_preprocess_many(views(Image.open(p).convert("RGB"))) for p in paths[-args.photos:]]

    with tempfile.TemporaryDirectory() as tmp:
        static = Path(tmp) / "static.onnx"
        quantize_image_net(fp32.path, static, _calibration_batch())
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.quantization.shape_inference import quant_pre_process

        prepared, dynamic = Path(tmp) / "prepared.onnx", Path(tmp) / "dynamic.onnx"
        quant_pre_process(str(fp32.path), str(prepared))
        quantize_dynamic(str(prepared), str(dynamic), weight_type=QuantType.QUInt8)
        sessions = {"fp32": _session(fp32.path), "int8 static (QDQ)": _session(static),
                    "int8 dynamic": _session(dynamic)}
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
