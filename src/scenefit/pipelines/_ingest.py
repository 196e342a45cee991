"""The ingest pipeline: catalog → images → embed (with cache) → index.

Each stage is timed; the report accounts for every row read: ``read == indexed + rejected``.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Literal, Protocol, Sequence

import numpy as np
from PIL import Image
from pydantic import AliasChoices, BaseModel, Field

from .._errors import BackendError, CatalogError, ImageError
from .._hashing import content_hash, file_sha256
from .._progress import Progress
from .._types import Product, RowError
from ._photos import Photo, appearance_vectors
from ._report import ImageFailure, IngestReport, write_report
from ..catalog import Catalog, is_url, normalize_description
from ..embed import EmbeddingCache, Encoder, EncoderCapabilities, appearance_of, l2_normalize
from ..images import FetchConfig, FetchResult, ImageFetcher, open_image
from ..index import AnnConfig, ProductRecord, VectorIndex


def image_cache(index_dir: Path) -> Path:
    """Where an index folder keeps the images its ingests downloaded (unless the FetchConfig
    names another folder)."""
    return index_dir / "cache" / "images"


class IngestConfig(BaseModel):
    """How products are embedded and written to the index."""

    image_weight: float = Field(
        0.5, ge=0, le=1, description="Share of the image vector in a product vector (rest: text)."
    )
    batch_size: int = Field(64, ge=1, description="Products embedded per encoder call.")
    sync: bool = Field(True, description="Remove index products that are no longer in the catalog.")
    allow_shrink: bool = Field(
        False, description="Let a sync remove more than a fifth of the index (and over 10 products) in "
        "one ingest; without it such an ingest is refused and the index left as it was.")
    ann: AnnConfig | None = Field(None, description="How the vector index is chosen (exact or IVF); "
                                  "None: as recorded in the index (auto for a new one).")
    write_report: bool = Field(True, description="Write reports/ingest-*.json (off for API writes, "
                               "which answer with the report instead).")
    runner: Literal["local", "ray"] = Field(
        "local", validation_alias=AliasChoices("runner", "engine"),  # engine: its former name
        description="local: fetch and embed in this process. ray: fetch images and embed "
        "on a Ray cluster (encoder actors, embeddings written as Parquet shards); the index is "
        "built here from the shards.")
    ray_address: str | None = Field(
        None, description="Ray cluster for runner=ray: auto (a running cluster), ray://HOST:PORT, "
        "or unset for a local cluster on this machine's CPUs.")

    @property
    def engine(self) -> str:
        """The former name of :attr:`runner` ("engine" is the :class:`scenefit.Engine` class)."""
        return self.runner


@dataclass
class EmbedItem:
    """One distinct content to embed: the unit of work sent to an embedding runner."""

    content_hash: str
    text: str
    image_path: str | None  # local file holding the image bytes (downloads: the cache file)
    image_sha: str | None
    image_label: str  # what messages call the image (the URL for a download)
    want_appearance: bool  # also compute this photo's appearance vector


@dataclass
class EmbedOutput:
    """What a runner gives back for a batch of items."""

    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # content hash → product vector
    appearance: dict[str, np.ndarray] = field(default_factory=dict)  # image sha → appearance vector
    bad_images: dict[str, str] = field(default_factory=dict)  # image sha → why it cannot be decoded


class Runner(Protocol):
    """Where image fetching and embedding run: this process (:class:`LocalRunner`) or a Ray
    cluster (``scenefit.pipelines.RayRunner``). Everything else in an ingest is the same code."""

    name: str

    def fetch(self, sources: Sequence[str], fetch: FetchConfig, advance: Callable[[int], None]) -> dict[str, FetchResult]: ...

    def embed(self, items: list[EmbedItem]) -> Iterator[EmbedOutput]: ...


class LocalRunner:
    name = "local"

    def __init__(self, encoder: Encoder, config: IngestConfig):
        self.encoder, self.config = encoder, config

    def fetch(self, sources, fetch, advance):
        return ImageFetcher(fetch).fetch_many(sources, progress=advance)

    def embed(self, items):
        size = self.config.batch_size
        for start in range(0, len(items), size):
            yield embed_items(items[start : start + size], self.encoder, self.config.image_weight)


# A sync that would remove more than this share of the index, and more than this many products,
# is refused unless asked for: a catalog that lost most of its rows (a truncated export, a
# stray quote that swallowed lines) is far likelier than a catalog that lost most of its products.
SHRINK_SHARE = 0.2
SHRINK_MIN = 10


def check_shrink(name: str, index: VectorIndex, present: set[str], rejected: Sequence[RowError],
                 config: IngestConfig) -> None:
    """Refuse (CatalogError) a sync that would remove a large share of the index: of its
    products, those not in ``present``."""
    if not config.sync or config.allow_shrink:
        return
    ids = index.ids()
    gone = [i for i in ids if i not in present]
    if len(gone) <= SHRINK_MIN or len(gone) <= SHRINK_SHARE * len(ids):
        return
    named = ", ".join(repr(i if len(i) <= 40 else i[:40] + "…") for i in gone[:3])
    why = ""
    if rejected:
        first = min(rejected, key=lambda e: e.row)
        why = f"; {len(rejected):,} catalog row(s) were rejected (row {first.row}: {first.reason})"
    raise CatalogError(
        f"{name}: this sync would remove {len(gone):,} of the index's {len(ids):,} products "
        f"({named}{', …' if len(gone) > 3 else ''}){why}; nothing was changed. If they really left the "
        "catalog, ingest again with --allow-shrink; to keep them, with --keep-missing"
    )


def run_ingest(
    catalog: Catalog,
    index: VectorIndex,
    encoder: Encoder,
    cache: EmbeddingCache,
    *,
    config: IngestConfig,
    fetch: FetchConfig,
    progress: Progress,
    runner: Runner | None = None,
) -> IngestReport:
    runner = runner or LocalRunner(encoder, config)
    # Before any image is fetched or embedded: the catalog's ids against the index's are enough.
    check_shrink(catalog.name, index, {p.id for p in catalog.products}, catalog.rejected, config)
    index.preload()  # every product is compared with its indexed record below
    report = IngestReport(catalog.name, str(index.path), encoder.model_id, runner=runner.name)
    report.read = catalog.rows_read
    report.rejected = list(catalog.rejected)
    products = catalog.products

    # 1. images: fetch (URLs) / check (paths) concurrently, through the on-disk cache; every
    # photo of a product alike, its further ones too.
    t0 = time.perf_counter()
    sources = sorted({p.image for p in products if p.image} | {ref for p in products for ref in p.images})
    fetched = {}
    if sources:
        fetch = fetch.model_copy(update={"cache_dir": fetch.cache_dir or image_cache(index.path)})
        with progress.task("Fetching images", len(sources)) as advance:
            fetched = runner.fetch(sources, fetch, advance)
    report.timings_s["images"] = time.perf_counter() - t0

    # 2. content hashes: the text that is embedded, the image bytes, and the mixing weight.
    t0 = time.perf_counter()
    state = _ContentState(report, config.image_weight, cache)
    for p in products:
        if p.image:
            res = fetched.get(p.image)
            if res is not None and res.path is not None:
                state.set_image(p, res.path)
            else:
                state.image_failed(p, res.error if res is not None else "not fetched")
        for ref in p.images:
            res = fetched.get(ref)
            if res is not None and res.path is not None:
                state.set_further(p, ref, res.path)
            else:
                state.further_failed(p, ref, res.error if res is not None else "not fetched")
    state.apply_known_bad()
    keep = [p for p in products if p.id not in state.rejected_ids]

    # 3. embed what the cache doesn't have. Each distinct content is embedded once (wholesale
    # catalogs repeat descriptions); an image that turns out undecodable sends its rows back
    # round as text-only (URL) or rejected (local file), so the loop runs at most twice.
    found: dict[str, np.ndarray] = {}
    keeps_appearance = index.appearance is not None and appearance_of(encoder) is not None
    new_appearance: dict[str, np.ndarray] | None = {} if keeps_appearance else None
    first = True
    with progress.task("Embedding products", len(keep)) as advance:
        while True:
            hashes = {p.id: state.hash(p) for p in keep}
            found.update(cache.get_many(encoder.model_id, [h for h in set(hashes.values()) if h not in found]))
            if first:
                report.cached = sum(1 for p in keep if hashes[p.id] in found)
                advance(report.cached)
                first = False
            missing = list({hashes[p.id]: p for p in keep if hashes[p.id] not in found}.values())
            if not missing:
                break
            waiting = Counter(hashes[p.id] for p in keep if hashes[p.id] not in found)  # rows per content
            items = state.items(missing, new_appearance)
            bad: set[str] = set()
            for out in runner.embed(items):
                advance(sum(waiting.get(h, 0) for h in out.vectors))
                # Rows whose image just failed: rejected (local file) or text-only (URL, no
                # image hash); they come round again with their new content hash.
                for sha, error in out.bad_images.items():
                    state.mark_bad(sha, error)
                bad.update(out.bad_images)
                if new_appearance is not None:
                    new_appearance.update(out.appearance)
                cache.put_many(encoder.model_id, out.vectors)  # kept even if a later batch fails
                found.update(out.vectors)
                report.embedded += len(out.vectors)
            lost = [it for it in items if it.content_hash not in found and it.image_sha not in bad]
            if lost:
                # Every item comes back as a vector or a bad image; anything else (e.g. shards
                # a cluster wrote where this machine cannot read them) must not loop forever.
                raise BackendError(f"{len(lost)} of {len(items)} products came back from the {runner.name} "
                                   "runner without a vector (see docs/scale-out.md: shared paths)")
            keep = [p for p in keep if p.id not in state.rejected_ids]
    # ``hashes`` is the last pass's: the loop only ends right after computing it for ``keep``.
    appearance = {}
    if keeps_appearance:
        appearance = appearance_vectors(keep, {p.id: state.photos(p) for p in keep}, encoder, cache,
                                        new_appearance, state.further_failed)
    report.rejected.sort(key=lambda e: e.row)
    report.image_failures.sort(key=lambda f: f.row)
    kept = {p.id for p in keep}
    report.further_image_failures = sorted((f for f in report.further_image_failures if f.id in kept),
                                           key=lambda f: f.row)
    report.further_images = sum(len(p.images) for p in keep)
    report.further_images_ok = report.further_images - len(report.further_image_failures)
    report.timings_s["embed"] = time.perf_counter() - t0

    if not keep:
        # Nothing usable: keep the index as it was and fail loudly, with the per-row reasons.
        where = "see the errors"
        if config.write_report:
            report.report_path = str(write_report(report, index.path))
            where = f"reasons in {report.report_path}"
        raise CatalogError(f"{catalog.name}: no valid rows (all {report.read} rejected; {where})")

    # 4. index: upsert what changed, drop what left the catalog, save atomically.
    t0 = time.perf_counter()
    # Again with the rows left after images were checked (unreadable local files reject rows),
    # before anything in the index changes.
    check_shrink(catalog.name, index, {p.id for p in keep}, report.rejected, config)
    changed: list[ProductRecord] = []
    held = index.photo_counts()  # photos with an appearance vector, per product key
    for p in keep:
        rec = _record(p, hashes[p.id], state.failures.get(p.id))
        old = index.get(p.id)
        if old is None:
            report.added += 1
            changed.append(rec)
        elif _same(old, rec) and (p.id not in appearance
                                  or held.get(old.key, 0) == len(np.atleast_2d(appearance[p.id]))):
            report.unchanged += 1
        else:
            report.updated += 1
            changed.append(rec)
    if changed:
        index.upsert(changed, np.stack([found[r.content_hash] for r in changed]), appearance)
    if config.sync:
        present = {p.id for p in keep}
        report.removed = index.delete([i for i in index.ids() if i not in present])
    # A catalog file's hash is recorded; products written over the API (no file) keep it.
    new_file = bool(catalog.sha256) and index.manifest.catalog_hash != catalog.sha256
    if changed or report.removed or new_file or index.manifest.generation == 0:
        index.save(catalog_hash=catalog.sha256 or None, ann=config.ann)
    report.indexed = len(keep)
    report.timings_s["index"] = time.perf_counter() - t0
    if config.write_report:
        report.report_path = str(write_report(report, index.path))
    return report


class _ContentState:
    """Per product: the image bytes' hash and whether the image works; the content hash."""

    def __init__(self, report: IngestReport, image_weight: float, cache: EmbeddingCache):
        self.report = report
        self.weight = image_weight
        self.cache = cache
        self.paths: dict[str, Path] = {}  # product id → local file with the image bytes
        self.image_sha: dict[str, str] = {}
        self.failures: dict[str, str] = {}  # product id → why its image was not used
        self.rejected_ids: set[str] = set()
        self._by_sha: dict[str, list[Product]] = {}
        #: product id → its further photos that were fetched: (reference, local file, bytes' hash)
        self.further: dict[str, list[tuple[str, Path, str]]] = {}
        self._products: dict[str, Product] = {}

    def set_image(self, p: Product, path: Path) -> None:
        sha = file_sha256(path)
        self.paths[p.id], self.image_sha[p.id] = path, sha
        self._by_sha.setdefault(sha, []).append(p)

    def set_further(self, p: Product, ref: str, path: Path) -> None:
        self._products[p.id] = p
        self.further.setdefault(p.id, []).append((ref, path, file_sha256(path)))

    def further_failed(self, p: Product, ref: str, error: str) -> None:
        """A further photo that cannot be used: reported; the product keeps its other photos."""
        self.further[p.id] = [f for f in self.further.get(p.id, []) if f[0] != ref]
        self.report.further_image_failures.append(ImageFailure(p.row, p.id, ref, error))

    def photos(self, p: Product) -> list[Photo]:
        """(bytes' hash, local file, reference) of each usable photo, the primary first, each
        content once."""
        out = {}
        if p.id in self.image_sha:
            out[self.image_sha[p.id]] = (self.paths[p.id], p.image or "")
        for ref, path, sha in self.further.get(p.id, []):
            out.setdefault(sha, (path, ref))
        return [(sha, path, ref) for sha, (path, ref) in out.items()]

    def image_failed(self, p: Product, error: str) -> None:
        self.failures[p.id] = error
        self.report.image_failures.append(ImageFailure(p.row, p.id, p.image or "", error))

    def hash(self, p: Product) -> str:
        sha = self.image_sha.get(p.id, "")
        # The weight is part of the content: the same text and image mixed otherwise is
        # another vector.
        return content_hash(p.parsed.text, sha, f"w={self.weight:g}" if sha else "")

    def items(self, products: list[Product], appearance: dict[str, np.ndarray] | None) -> list[EmbedItem]:
        """Work items for these products; each photo's appearance is asked for once, and not
        at all when ``appearance`` (the vectors computed so far) is None."""
        wanted: set[str] = set()
        out = []
        for p in products:
            sha = self.image_sha.get(p.id)
            want = appearance is not None and sha is not None and sha not in appearance and sha not in wanted
            if want:
                wanted.add(sha)
            path = self.paths.get(p.id)
            out.append(EmbedItem(self.hash(p), p.parsed.text, str(path) if path else None, sha,
                                 p.image or (str(path) if path else ""), want))
        return out

    def apply_known_bad(self) -> None:
        further = {sha for photos in self.further.values() for _, _, sha in photos}
        bad = self.cache.bad_images(set(self.image_sha.values()) | further)
        for sha, error in bad.items():
            self.mark_bad(sha, error, record=False)
        for pid, photos in list(self.further.items()):
            for ref, _, sha in photos:
                if sha in bad:
                    self.further_failed(self._products[pid], ref, bad[sha])

    def mark_bad(self, sha: str, error: str, *, record: bool = True) -> None:
        """Every product with these image bytes: rejected (local file) or text-only (URL)."""
        if record:
            self.cache.put_bad_image(sha, error)
        for p in self._by_sha.pop(sha, []):
            self.paths.pop(p.id, None)
            self.image_sha.pop(p.id, None)
            if is_url(p.image):
                self.image_failed(p, error)
            else:
                # A local image that exists but cannot be read is a bad row: the catalog is wrong, not the host.
                self.report.rejected.append(RowError(p.row, p.id, f"image unreadable: {error}"))
                self.rejected_ids.add(p.id)


def embed_items(items: list[EmbedItem], encoder: Encoder, weight: float) -> EmbedOutput:
    """Product vectors (text mixed with image by ``weight``) and asked-for appearance vectors
    for a batch of items. An item whose image cannot be decoded gets no vector here: its
    image is reported in ``bad_images`` and the caller decides what the row becomes."""
    out = EmbedOutput()
    # Decode first: a row whose image is bad costs no embedding in this pass.
    images: dict[int, Image.Image] = {}
    for i, it in enumerate(items):
        if it.image_path is None or it.image_sha in out.bad_images:
            continue
        try:
            images[i] = open_image(Path(it.image_path))
        except ImageError as exc:
            # Messages name the file; for a download that is a cache file, so name the URL.
            out.bad_images[it.image_sha] = str(exc).replace(it.image_path, it.image_label or it.image_path)
    usable = [i for i, it in enumerate(items) if it.image_path is None or i in images]
    if not usable:
        return out
    batch = [items[i] for i in usable]
    vecs = encoder.encode_texts([it.text for it in batch])
    with_image = [j for j, i in enumerate(usable) if i in images]
    if with_image:
        photos = [images[usable[j]] for j in with_image]
        # Appearance from the same model pass as the image vectors where the encoder allows.
        img_vecs, looks = EncoderCapabilities.of(encoder).encode_with_appearance(photos, vectors=[True] * len(photos),
                                                 appearance=[batch[j].want_appearance for j in with_image])
        vecs[with_image] = (1 - weight) * vecs[with_image] + weight * np.stack([img_vecs[k] for k in range(len(photos))])
        out.appearance.update((batch[with_image[k]].image_sha, look) for k, look in looks.items())
    vecs = l2_normalize(vecs)
    out.vectors = {it.content_hash: vecs[j] for j, it in enumerate(batch)}
    return out


def _record(p: Product, content_hash: str, image_error: str | None) -> ProductRecord:
    parsed = p.parsed
    category = parsed.category
    # An explicit category/type column beats parsing the description; it is mapped onto the
    # same canonical categories ("Wall shelf" → "shelf") so room priors apply to it.
    for k, v in p.attributes.items():
        if k.lower() in ("category", "type") and str(v).strip():
            category = normalize_description(str(v)).category or str(v).strip().lower()
            break
    status = "none" if not p.image else (f"failed: {image_error}" if image_error else "ok")
    return ProductRecord(
        id=p.id, sku_id=p.sku_id, description=p.description, image=p.image, text=parsed.text,
        category=category, colours=list(parsed.colours), materials=list(parsed.materials),
        content_hash=content_hash, image_status=status, attributes=p.attributes,
    )


def _same(a: ProductRecord, b: ProductRecord) -> bool:
    """The same product content, whatever vector key each carries."""
    return a.with_key(b.key) == b
