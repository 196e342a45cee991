"""The API tests' small index over the fake encoder, for a real server to scrape."""

from ..api.conftest import fake_backend, index_dir  # noqa: F401 - imported, pytest registers them here
