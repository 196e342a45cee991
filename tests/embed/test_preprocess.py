"""Pixels as the image network reads them, prepared one run ahead of the network."""

import threading

import numpy as np
from PIL import Image

from scenefit.embed._preprocess import INPUT_SIZE, prepared_batches, preprocess_many


def _photos(n):
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (60 + 7 * i, 90, 3), dtype=np.uint8)) for i in range(n)]


def test_runs_hold_the_same_pixels_in_the_same_order_as_one_batch():
    photos = _photos(11)
    runs = list(prepared_batches(photos, 4))
    assert [len(r) for r in runs] == [4, 4, 3]
    assert runs[0].shape[1:] == (3, INPUT_SIZE, INPUT_SIZE)
    np.testing.assert_array_equal(np.concatenate(runs), preprocess_many(photos))


def test_the_next_run_is_prepared_in_another_thread_while_the_caller_holds_one():
    seen = []
    photos = _photos(6)

    def watch(im):  # records which thread converts each photo
        convert = im.convert

        def converted(*a, **kw):
            seen.append(threading.current_thread().name)
            return convert(*a, **kw)

        im.convert = converted
        return im

    runs = prepared_batches([watch(p) for p in photos], 2)
    next(runs)
    assert 2 <= len(seen) <= 4  # the first run, perhaps part of the second: never the third
    assert len(list(runs)) == 2
    assert len(seen) == 6 and all(name.startswith("scenefit-preprocess") for name in seen)


def test_nothing_or_one_run_needs_no_thread():
    assert list(prepared_batches([], 8)) == []
    before = threading.active_count()
    (only,) = prepared_batches(_photos(3), 8)
    assert only.shape[0] == 3 and threading.active_count() == before
