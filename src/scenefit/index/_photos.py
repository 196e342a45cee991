"""Several photos per product in one appearance space, under keys derived from the product's.

A product's first usable photo (its primary image when that one works) is held under the
product's own key, as when products had one photo; its n-th further photo under
``key + n * PHOTO_STRIDE``. So "has an appearance" stays "its key is in the space", an index
whose products have one photo each is exactly what it was, and a photo's product is its key
modulo the stride, with no table to keep in step through upserts and deletes.
"""

from __future__ import annotations

import numpy as np

#: Product keys are allocated upward from 0, one per write of a product: they stay far below.
PHOTO_STRIDE = 1 << 40


def owners(keys: np.ndarray) -> np.ndarray:
    """The product key of each photo key (-1, a search's padding, stays -1)."""
    keys = np.asarray(keys, np.int64)
    return np.where(keys >= 0, keys % PHOTO_STRIDE, keys)


def photo_keys(key: int, n: int) -> np.ndarray:
    """The keys of a product's ``n`` photos, in order."""
    return key + np.arange(n, dtype=np.int64) * PHOTO_STRIDE


def further(held: np.ndarray) -> np.ndarray:
    """The keys of further photos among ``held`` (sorted): none in a one-photo index."""
    return held[np.searchsorted(held, PHOTO_STRIDE):]


def photos_of(held: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(photo keys, the position in ``keys`` of each one's product) of the products ``keys``,
    given the space's sorted keys ``held``: the products' own keys that are held first, in
    ``keys`` order, then their further photos."""
    keys = np.asarray(keys, np.int64)
    own = np.flatnonzero(np.isin(keys, held))
    extra = further(held)
    if not len(extra):
        return keys[own], own
    extra = extra[np.isin(owners(extra), keys)]
    order = np.argsort(keys, kind="stable")
    at = order[np.searchsorted(keys, owners(extra), sorter=order)]
    return np.concatenate([keys[own], extra]), np.concatenate([own, at])
