"""Every write into one index folder: a catalog ingest, API upserts and deletes.

What must stay true:

- each write holds the folder's inter-process write lock, and works on its own copy of the
  newest generation: serving threads keep searching the generation they loaded (FAISS must
  not change under a search) and switch on their next refresh;
- API upserts download their images *before* taking the lock, within a total deadline, so a
  slow image host holds up neither other writers nor the request for long; an image that
  failed there stays failed under the lock (the product goes in text-only).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .._errors import CatalogError, ImageError, InvalidIndexError, NotFoundError
from .._progress import NullProgress, Progress
from ..catalog import IMAGES_COLUMN, Catalog, is_url
from ..embed import EmbeddingCache, Encoder, EncoderCapabilities, EncoderConfig, appearance_of
from ..images import FetchConfig, FetchResult, ImageFetcher, open_image
from ..index import ProductRecord, VectorIndex
from ._ingest import IngestConfig, LocalRunner, Runner, image_cache, run_ingest
from ._report import IngestReport

#: Seconds an API write may spend downloading its product images, unless the FetchConfig's
#: total_deadline_s says otherwise.
WRITE_FETCH_DEADLINE_S = 15.0


def read_source(source: Catalog | str | Path, config: IngestConfig) -> Catalog:
    """The catalog an ingest reads: as given, or read from its file by the configured runner
    (the Ray runner reads it on the cluster, which may see files this process does not)."""
    if isinstance(source, Catalog):
        return source
    if config.runner == "ray":
        from ._ray import read_catalog

        return read_catalog(str(source), config.ray_address)
    return Catalog.read(source)


@dataclass
class Encoders:
    """How a writer gets its encoder and that encoder's resolved config: the one an existing
    index was built with (checked against it), or the one a new index is created with (the
    manifest records its config)."""

    for_index: Callable[[VectorIndex], tuple[Encoder, EncoderConfig]]
    for_new_index: Callable[[], tuple[Encoder, EncoderConfig]]


@dataclass
class IndexWriter:
    folder: Path
    encoders: Encoders
    database_url: str | None = None
    #: Milvus store for a new index's vectors (canonical form); None: FAISS files
    vector_store: str | None = None
    progress: Progress = field(default_factory=NullProgress)
    log: Callable[[str], None] = print

    def image_cache(self, fetch: FetchConfig) -> Path:
        """Where ``fetch`` keeps downloaded images: its own folder, else the index's cache."""
        return Path(fetch.cache_dir or image_cache(self.folder)).absolute()

    def image_file(self, image: str, fetch: FetchConfig) -> Path:
        """Where a product's photo is on disk: its catalog path, or the copy of its URL that
        the write downloaded into the image cache."""
        if not is_url(image):
            return Path(image)
        return ImageFetcher(fetch.model_copy(update={"cache_dir": self.image_cache(fetch)})).cache_path(image)

    def primary_image(self, record: ProductRecord, fetch: FetchConfig) -> Path:
        """The local file of a product's photo, when it was indexed as readable (else
        NotFoundError)."""
        if not record.image or record.image_status != "ok":
            raise NotFoundError(f"product {record.id!r} has no photo ({record.image_status})")
        path = self.image_file(record.image, fetch)
        if not path.is_file():
            raise NotFoundError(f"product {record.id!r}: its photo is no longer at {path}")
        return path

    def product_images(self, record: ProductRecord, fetch: FetchConfig) -> list[Path]:
        """The local files of every readable photo of a product: its primary image (when
        indexed as readable) first, then its further ``images`` in catalog order. A photo that
        failed, or is no longer there, is left out."""
        further = record.attributes.get(IMAGES_COLUMN)
        refs = [record.image] if record.image and record.image_status == "ok" else []
        refs += [ref for ref in further if isinstance(ref, str)] if isinstance(further, list) else []
        out: list[Path] = []
        for path in (self.image_file(ref, fetch) for ref in refs):
            try:
                if path not in out:
                    open_image(path)  # decodes: "readable" is what embedding would find
                    out.append(path)
            except ImageError:
                continue
        return out

    @contextmanager
    def lock(self) -> Iterator[None]:
        """The index folder's inter-process write lock, held for the block."""
        lock = VectorIndex.write_lock(self.folder)
        try:
            lock.acquire(timeout=0)
        except TimeoutError:  # filelock.Timeout subclasses it
            self.log(f"waiting for another ingest into {self.folder} to finish…")
            try:
                lock.acquire()
            except TimeoutError:
                raise InvalidIndexError(f"{self.folder}: another ingest still holds the write lock") from None
        try:
            yield
        finally:
            lock.release()

    def ingest(self, catalog: Catalog, *, rebuild: bool, config: IngestConfig, fetch: FetchConfig,
               prefetched: dict[str, FetchResult] | None = None) -> tuple[VectorIndex, IngestReport]:
        """Ingest under the write lock; returns the generation written and the report."""
        with self.lock():
            return self._ingest_locked(catalog, rebuild, config, fetch, prefetched)

    def upsert(self, catalog: Catalog, config: IngestConfig, fetch: FetchConfig) -> tuple[VectorIndex, IngestReport]:
        """Add or replace a validated batch of products (all or nothing), images fetched first."""
        if catalog.rejected:
            raise CatalogError("; ".join(
                f"product {e.row}{f' ({e.id})' if e.id else ''}: {e.reason}" for e in catalog.rejected[:20]
            ) + ("" if len(catalog.rejected) <= 20 else f"; … {len(catalog.rejected) - 20} more"))
        if not VectorIndex.exists(self.folder):
            raise InvalidIndexError(f"{self.folder}: no index to write to; build one with `scenefit ingest`")
        total = fetch.total_deadline_s or WRITE_FETCH_DEADLINE_S
        fetch = fetch.model_copy(update={
            "public_only": True,
            "cache_dir": self.image_cache(fetch),
            "total_deadline_s": total,
            "deadline_s": min(fetch.deadline_s or total, total),
        })
        sources = sorted({p.image for p in catalog.products if p.image}
                         | {ref for p in catalog.products for ref in p.images})
        prefetched = ImageFetcher(fetch).fetch_many(sources) if sources else {}
        config = config.model_copy(update={"write_report": False, "sync": False})
        return self.ingest(catalog, rebuild=False, config=config, fetch=fetch, prefetched=prefetched)

    def delete(self, product_ids: list[str]) -> tuple[VectorIndex | None, int]:
        """Remove products; returns the generation written (None when nothing existed) and
        how many existed."""
        with self.lock():
            index = VectorIndex.open(self.folder, database_url=self.database_url)  # newest, private
            removed = index.delete(product_ids)
            if not removed:
                return None, 0
            index.save()
            return index, removed

    def _ingest_locked(self, catalog: Catalog, rebuild: bool, config: IngestConfig, fetch: FetchConfig,
                       prefetched: dict[str, FetchResult] | None) -> tuple[VectorIndex, IngestReport]:
        if VectorIndex.exists(self.folder) and not rebuild:
            index = VectorIndex.open(self.folder, database_url=self.database_url)
            index.check_store(self.vector_store)
            encoder, resolved = self.encoders.for_index(index)
            if index.appearance is None and appearance_of(encoder) is not None:
                self.log(f"{self.folder} predates the image-to-image appearance space; "
                         "`scenefit ingest … --rebuild` adds it (vectors come from the cache)")
        else:
            encoder, resolved = self.encoders.for_new_index()
            index = VectorIndex.create(
                self.folder, model_id=encoder.model_id, dim=encoder.dim, encoder=resolved.model_dump(),
                appearance_dim=EncoderCapabilities.of(encoder).appearance_dim,
                database_url=self.database_url, ann=config.ann, vector_store=self.vector_store,
            )
        runner: Runner | None = None
        if config.runner == "ray":
            from ._ray import RayRunner, shards_root

            # Workers may run elsewhere and in other directories: every path they get is absolute.
            fetch = fetch.model_copy(update={"cache_dir": self.image_cache(fetch)})
            runner = RayRunner(resolved, config, shards_root(self.folder).absolute())
        if prefetched is not None:
            runner = _Prefetched(runner or LocalRunner(encoder, config), prefetched)
        with EmbeddingCache(self.folder / "cache" / "embeddings.sqlite") as cache:
            report = run_ingest(catalog, index, encoder, cache, config=config, fetch=fetch,
                                progress=self.progress, runner=runner)
        return index, report


class _Prefetched:
    """A runner whose image downloads were done before the write lock: each source's result
    (a file in the image cache, or its failure) is handed back as it was, so nothing is
    fetched, resolved or tried again under the lock."""

    def __init__(self, inner: Runner, results: dict[str, FetchResult]):
        self.inner, self.results = inner, results
        self.name = inner.name

    def fetch(self, sources: Sequence[str], fetch: FetchConfig,
              advance: Callable[[int], None]) -> dict[str, FetchResult]:
        known = {s: self.results[s] for s in sources if s in self.results}
        missing = [s for s in sources if s not in known]  # none: the same catalog's sources
        out = ImageFetcher(fetch).fetch_many(missing, progress=advance) if missing else {}
        advance(len(known))
        return {**out, **known}

    def embed(self, items):
        return self.inner.embed(items)
