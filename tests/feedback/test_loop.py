"""What the loop keeps of a served match."""

from __future__ import annotations


def test_large_photos_are_stored_smaller_and_small_ones_as_they_are():
    import io

    import numpy as np
    from PIL import Image

    from scenefit.feedback._loop import MAX_STORED_BYTES, STORED_SIDE, stored_photo

    noise = np.random.default_rng(0).integers(0, 255, (1800, 2600, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "PNG")
    big = buf.getvalue()
    assert len(big) > MAX_STORED_BYTES
    kept = stored_photo(big)
    assert len(kept) < len(big)
    with Image.open(io.BytesIO(kept)) as im:
        assert im.format == "JPEG" and max(im.size) == STORED_SIDE
    assert stored_photo(b"small") == b"small"
