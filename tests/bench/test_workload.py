"""What the benchmarks are run on: distinct photos and the adapter a synthetic index is served with."""

import hashlib

from PIL import Image

from scenefit.bench._throughput import distinct_photos
from scenefit.bench._workload import copy_fitted
from scenefit.learn import ADAPTER_FILE, LABEL_FREE_FILE


def test_distinct_photos_differ_in_their_bytes_and_keep_the_photo(tmp_path):
    paths = []
    for i, colour in enumerate(((200, 10, 10), (10, 200, 10))):
        Image.new("RGB", (64, 48), colour).save(tmp_path / f"{i}.png")
        paths.append(tmp_path / f"{i}.png")
    bodies = distinct_photos(paths, 5)
    assert len({hashlib.sha256(b).hexdigest() for b in bodies}) == 5  # no scene cache can answer
    from io import BytesIO

    third = Image.open(BytesIO(bodies[2])).convert("RGB")
    assert third.size == (64, 48) and max(abs(a - b) for a, b in zip(third.getpixel((32, 24)), (200, 10, 10))) < 8


def test_copy_fitted_serves_the_labelled_adapter_first_and_clears_stale_files(tmp_path):
    source, target = tmp_path / "real", tmp_path / "synthetic"
    source.mkdir(), target.mkdir()
    (target / ADAPTER_FILE).write_bytes(b"stale")
    assert copy_fitted(source, target) is None and not (target / ADAPTER_FILE).exists()
    (source / LABEL_FREE_FILE).write_bytes(b"label-free")
    assert copy_fitted(source, target) == LABEL_FREE_FILE
    (source / ADAPTER_FILE).write_bytes(b"labelled")
    assert copy_fitted(source, target) == ADAPTER_FILE
    assert (target / LABEL_FREE_FILE).read_bytes() == b"label-free" and (target / ADAPTER_FILE).read_bytes() == b"labelled"
