"""Image stage: fetch catalog images (URLs → on-disk cache) and decode them to RGB."""

from __future__ import annotations

from ._crops import centre, centre_square, grid
from ._decode import open_image
from ._fetch import FetchConfig, FetchResult, ImageFetcher
from ._guard import AddressPolicy, GuardedTransport, UnsafeURLError, fetch_url_bytes

__all__ = ["open_image", "grid", "centre", "centre_square", "ImageFetcher", "FetchConfig", "FetchResult", "AddressPolicy",
           "GuardedTransport", "UnsafeURLError", "fetch_url_bytes"]
