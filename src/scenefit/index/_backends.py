"""The one place that picks where an index's vectors live: at creation from ``--store``, at
opening from the manifest. Everything else talks to the spaces through ``VectorSpace``."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ._columns import Columns
from ._manifest import Manifest
from ._space import VectorSpace

Spaces = tuple[VectorSpace, "VectorSpace | None"]  # products, appearance


def create_spaces(manifest: Manifest, columns: Callable[[], Columns], old: Manifest | None,
                  store: str | None) -> Spaces:
    """Empty spaces for a new index: FAISS files, or Milvus when ``store`` names one (the
    manifest then records it)."""
    if store:
        from . import _milvus

        return _milvus.create_spaces(manifest, columns, old, store)
    from . import _faiss

    return _faiss.create_spaces(manifest, columns, old)


def open_spaces(folder: Path, manifest: Manifest, keys: set[int], columns: Callable[[], Columns]) -> Spaces:
    """The spaces of the manifest's generation (``folder``), as the manifest says they are kept."""
    if manifest.vector_store:
        from . import _milvus

        return _milvus.open_spaces(folder, manifest, keys, columns)
    from . import _faiss

    return _faiss.open_spaces(folder, manifest, keys, columns)


def canonical_store(store: str) -> str:
    """A ``--store`` value as a manifest records it (checked; x.db and ./x.db are one store)."""
    from ._milvus_client import MilvusTarget

    return MilvusTarget.parse(store).canonical
