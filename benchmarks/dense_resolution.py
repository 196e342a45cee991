"""Run any `scenefit` command with the dense scene pass at another short side, to choose the
default resolution by measurement (quality with `adapt` + `eval`, time with `scene_pass.py`).

The window sides and stride (in feature cells) are scaled with the resolution, so each window
covers the same share of the photo as at the default. An adapter fitted at one resolution is
only meaningful at that resolution: adapt and eval under the same ``--short-side``, on a copy
of the index. From the repository root:

    D=../shared/benchmarks/ikea-dev; I=.scenefit/dev-640
    cp -r .scenefit/dev-base $I
    .venv/bin/python benchmarks/dense_resolution.py 640 adapt --index $I
    .venv/bin/python benchmarks/dense_resolution.py 640 eval --catalog $D/catalog.csv \\
        --labels $D/labels.jsonl --index $I --json lf-640.json
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import scenefit.scene._analyze as analyze
import scenefit.scene._windows as windows


@contextmanager
def at_short_side(side: int):
    """The analyser's dense pass at ``side`` pixels, windows scaled to match, inside the block."""
    saved = windows.DENSE_SHORT_SIDE, analyze.DENSE_SHORT_SIDE, analyze.window_means
    scale = side / windows.DENSE_SHORT_SIDE
    sizes = tuple(max(2, round(s * scale)) for s in windows.WINDOW_SIZES)
    stride = max(1, round(windows.STRIDE * scale))
    windows.DENSE_SHORT_SIDE = analyze.DENSE_SHORT_SIDE = side
    analyze.window_means = lambda fmap: windows.window_means(fmap, sizes, stride)
    try:
        yield sizes, stride
    finally:
        windows.DENSE_SHORT_SIDE, analyze.DENSE_SHORT_SIDE, analyze.window_means = saved


def main() -> None:
    side = int(sys.argv.pop(1))
    from scenefit.cli import main as scenefit

    with at_short_side(side) as (sizes, stride):
        print(f"dense pass at {side} px, windows {sizes} cells, stride {stride}", file=sys.stderr)
        scenefit()


if __name__ == "__main__":
    main()
