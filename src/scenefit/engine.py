"""The one object the CLI and the API talk to: it wires catalog → images → embed → index →
scene → rank, and owns the loaded models and index."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from PIL import Image

from ._version import __version__
from ._errors import ConfigError, InvalidIndexError, NotFoundError
from .pipelines import Encoders, IndexWriter, IngestConfig, IngestReport, read_source
from ._progress import NullProgress, Progress
from ._schema import MatchResult
from .catalog import Catalog
from .embed import Encoder, EncoderConfig, EncoderLoader, Runtime, build_encoder
from .evaluate import EvalReport, read_labels
from .feedback import FeedbackLoop, ShownItem, Variant, inside_index, open_feedback
from .images import FetchConfig
from .index import ProductRecord, VectorIndex, canonical_store
from .learn import (AppearanceAdapter, FitResult, FittedBundle, LabelFreeConfig, LabelFreeResult, adapt_index,
                    evaluate_scenes, fit_labelled, save_fit, save_label_free)
from .rank import Filters, RankConfig, Ranker, match_result
from .scene import SceneAnalyzer, SceneCache, SceneConfig, photo_digest, read_scene, regions_for


#: Scene analysers kept (most recent first): one per experiment variant's room model and regions.
_ANALYZERS = 4


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


class Engine:
    """An index folder plus the encoder it was built with.

    >>> engine = Engine("my-index")
    >>> engine.ingest("catalog.csv")            # build or update
    >>> result = engine.match("room.jpg", k=10, context="cosy reading corner")
    >>> result.model_dump_json()

    ``encoder`` None means: the encoder recorded in the index, or ``auto`` for a new index.
    An explicit encoder that differs from the index's raises ModelMismatchError.
    """

    def __init__(self, index_dir: str | Path, *, encoder: EncoderConfig | None = None,
                 scene: SceneConfig | None = None, rank: RankConfig | None = None,
                 ingest: IngestConfig | None = None, fetch: FetchConfig | None = None,
                 progress: Progress | None = None, log: Callable[[str], None] = _stderr,
                 database_url: str | None = None, scene_cache: SceneCache | None = None,
                 runtime: Runtime | str | None = None, vector_store: str | None = None):
        self.index_dir = Path(index_dir)
        #: Milvus store for a new index's vectors, canonical (x.db and ./x.db are one store);
        #: None: FAISS files in the folder. Parsed now: a malformed URI fails before embedding.
        self.vector_store = canonical_store(vector_store) if vector_store else None
        #: PostgreSQL for product metadata (new indexes; required by indexes built with one)
        self.database_url = database_url
        #: scene embeddings by photo content hash (None: no caching)
        self.scene_cache = scene_cache
        # The offline encoder's runtime (None: as configured or recorded; an unknown one fails
        # here); build_encoder is looked up at each build: tests replace the module's name.
        self._encoders = EncoderLoader(lambda c: build_encoder(c), log=log,
                                       runtime=Runtime.parse(runtime) if runtime is not None else None)
        # Serving threads share one engine: lazy loading and index swaps happen under it.
        self._lock = threading.RLock()
        self.encoder_config = encoder
        self._explicit_scene = scene  # None: on the regions the appearance adapter was fitted on
        self._explicit_rank = rank  # None: fitted weights from the index folder, else defaults
        self.ingest_config = ingest or IngestConfig()
        self.fetch_config = fetch or FetchConfig()
        self.progress = progress or NullProgress()
        self.log = log
        self._index: VectorIndex | None = None
        self._fitted: FittedBundle | None = None  # what `scenefit fit` saved, loaded on first use
        self._variant_fits: dict[str, FittedBundle] = {}  # an experiment's other fit folders
        self._feedback: FeedbackLoop | None = None
        #: analysers, each with the (encoder, room model, scene config) it was built on
        self._analyzers: list[tuple[tuple, SceneAnalyzer]] = []

    # -- wiring ----------------------------------------------------------------------------
    @property
    def index(self) -> VectorIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = VectorIndex.open(self.index_dir, database_url=self.database_url)
        return self._index

    @property
    def loaded_index(self) -> VectorIndex | None:
        """The index if it is loaded, without loading it (for metrics)."""
        return self._index

    def refresh(self) -> bool:
        """Reload the index if another process (or engine) saved a newer generation since it
        was loaded; True if it did. Fitted files another process saved (`fit`, `adapt`) are
        read again too. Serving calls this per request: one small file read and a few stats."""
        current, bundle = self._index, self._fitted
        if current is None or current.is_current():
            if current is not None and bundle is not None and not bundle.is_current(self.index_dir):
                with self._lock:  # swapped whole: files left alone are kept, not reread
                    self._fitted = FittedBundle.load(self.index_dir, current.manifest.model_id, self.log, bundle)
            return False
        with self._lock:
            if self._index is not current and self._index.is_current():
                # Another thread reloaded it meanwhile. Checked again, not trusted: that thread
                # may have read the manifest before a write this request must see.
                return True
            fresh = VectorIndex.open(self.index_dir, database_url=self.database_url)
            if fresh.manifest.model_id != self._index.manifest.model_id:
                self._encoders.forget()  # rebuilt with another model
            self._index = fresh
            if self._fitted is not None:  # swapped whole; files a write left alone are kept, not reread
                self._fitted = FittedBundle.load(self.index_dir, fresh.manifest.model_id, self.log, self._fitted)
            return True

    def encoder_for_index(self, index: VectorIndex | None = None) -> Encoder:
        """The encoder to query the index (default: the loaded one) with, checked against the
        model it was built with."""
        with self._lock:
            index = index if index is not None else self.index
            if self.encoder_config is None:
                encoder = self._encoders.load_recorded(index.manifest.encoder)
            else:
                encoder = self._encoders.load(self.encoder_config)
            index.check_model(encoder.model_id, encoder.dim)
            return encoder

    @property
    def fitted(self) -> FittedBundle:
        """What ``scenefit fit`` saved in the index folder that applies to the index (read
        once; a refit or a newer index generation swaps in a new bundle)."""
        bundle = self._fitted
        if bundle is None:
            if not VectorIndex.exists(self.index_dir):
                return FittedBundle()  # nothing applies to an index not built yet; not kept
            with self._lock:
                if self._fitted is None:
                    self._fitted = FittedBundle.load(self.index_dir, self.index.manifest.model_id, self.log)
                bundle = self._fitted
        return bundle

    def _reload_fitted(self) -> None:  # after a fit: read the files again on next use
        with self._lock:
            self._fitted = None

    def _fitted_for(self, variant: Variant | None) -> FittedBundle:
        """The fitted files an experiment variant ranks with (its folder's; a file changed
        since is read again)."""
        if variant is None or variant.fit == ".":
            return self.fitted
        folder, model_id = self.index_dir / variant.fit, self.index.manifest.model_id
        if not folder.is_dir():  # removed since the experiments file was read: never rank blind
            raise InvalidIndexError(f"variant {variant.name!r} ranks with {folder}, which is gone")
        with self._lock:
            bundle = self._variant_fits.get(variant.fit)
            if bundle is None or bundle.model_id != model_id or not bundle.is_current(folder):
                bundle = self._variant_fits[variant.fit] = FittedBundle.load(folder, model_id, self.log, bundle)
            return bundle

    @property
    def feedback(self) -> FeedbackLoop:
        """Served matches, shoppers' events and experiments, in the index's store of record:
        PostgreSQL for an index that keeps its products there, else SQLite in its folder."""
        if self._feedback is None:
            with self._lock:
                if self._feedback is None:
                    manifest = self.index.manifest
                    url = self.database_url if manifest.store == "postgres" else None
                    self._feedback = open_feedback(self.index_dir, manifest.uid, url)
        return self._feedback

    @property
    def analyzer(self) -> SceneAnalyzer:
        """The scene analyser: the index's encoder, the scene config and the fitted room model."""
        return self._analyzer_for(self.fitted)

    def _analyzer_for(self, bundle: FittedBundle) -> SceneAnalyzer:
        """The analyser of a bundle's room model and scene config; one per experiment variant
        that differs in them is kept, so alternating variants never re-embed the prompts."""
        room_model, config = bundle.room_model, self._scene_config(bundle)

        def find(encoder) -> SceneAnalyzer | None:
            return next((a for (e, r, c), a in self._analyzers if e is encoder and r is room_model and c == config), None)

        if (found := find(self._encoders.encoder)) is not None:
            return found
        with self._lock:
            encoder = self.encoder_for_index()
            if (found := find(encoder)) is None:
                found = SceneAnalyzer(encoder, config, room_model)
                self._analyzers = [((encoder, room_model, config), found), *self._analyzers][:_ANALYZERS]
            return found

    @property
    def rank_config(self) -> RankConfig:
        """The explicit ranking config, else the weights ``scenefit fit`` saved, else defaults."""
        return self._explicit_rank if self._explicit_rank is not None else self.fitted.rank_config

    @property
    def scene_config(self) -> SceneConfig:
        """The explicit scene config, else the defaults matching on the regions the index's
        appearance adapter was fitted on: after ``fit --regions dense``, a plain ``match``
        uses dense windows and the adapter rather than ignoring it."""
        return self._scene_config(self.fitted)

    def _scene_config(self, bundle: FittedBundle) -> SceneConfig:
        return self._explicit_scene if self._explicit_scene is not None else bundle.scene_config

    @property
    def appearance_adapter(self) -> AppearanceAdapter | None:
        """The fitted appearance adapter if it applies: the index's encoder, these regions."""
        return self.fitted.adapter_for(self.scene_config.regions, self.log)

    def ranker(self) -> Ranker:
        """The ranker match uses: the rank config and the fitted appearance adapter."""
        return self._ranker_for(self.fitted)

    def _ranker_for(self, bundle: FittedBundle, rank: RankConfig | None = None) -> Ranker:
        rank = rank or (self._explicit_rank if self._explicit_rank is not None else bundle.rank_config)
        return Ranker(rank, bundle.adapter_for(self._scene_config(bundle).regions, self.log))

    # -- ingest ----------------------------------------------------------------------------
    def ingest(self, catalog: Catalog | str | Path, *, rebuild: bool = False, sync: bool | None = None,
               config: IngestConfig | None = None, fetch: FetchConfig | None = None) -> IngestReport:
        """Build or update the index. ``sync`` (default: the IngestConfig's) removes index
        products absent from this catalog; ``config`` and ``fetch`` override the engine's."""
        config = config or self.ingest_config
        catalog = read_source(catalog, config)
        if sync is not None:
            config = config.model_copy(update={"sync": sync})
        index, report = self._writer().ingest(catalog, rebuild=rebuild, config=config, fetch=fetch or self.fetch_config)
        self._written(index)
        self._encoders.prepare()  # so a serving process started later only loads
        return report

    def _writer(self) -> IndexWriter:
        encoders = Encoders(
            for_index=lambda index: (self.encoder_for_index(index), self._encoders.resolved),
            for_new_index=lambda: (self._encoders.load(self.encoder_config or EncoderConfig()), self._encoders.resolved),
        )
        return IndexWriter(self.index_dir, encoders, database_url=self.database_url,
                           vector_store=self.vector_store, progress=self.progress, log=self.log)

    def _written(self, index: VectorIndex | None) -> None:
        """Serve the generation a write just made, with the fitted files checked against it."""
        if index is not None:
            with self._lock:
                self._index = index
                if self._fitted is not None:  # files the write left alone are kept, not reread
                    self._fitted = FittedBundle.load(self.index_dir, index.manifest.model_id, self.log, self._fitted)

    # -- match -----------------------------------------------------------------------------
    def match(self, scene: str | Path | bytes | Image.Image, *, k: int = 10, context: str | None = None,
              filters: Filters | None = None, variant: Variant | None = None) -> MatchResult:
        """``variant``: the experiment variant whose fitted files and ranking config rank it."""
        if not 1 <= k <= 100:
            raise ConfigError(f"k must be between 1 and 100, got {k}")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        image = read_scene(scene)
        digest = photo_digest(scene) if self.scene_cache is not None else None  # for the scene cache
        timings["decode"] = time.perf_counter() - t0
        self.refresh()
        index = self.index
        if len(index) == 0:
            raise InvalidIndexError(f"{self.index_dir}: the index is empty; ingest a catalog first")
        t0 = time.perf_counter()
        bundle = self._fitted_for(variant)  # one fit for the whole match, even if a refresh swaps it meanwhile
        analyzer = self._analyzer_for(bundle)
        timings["load"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        embedding = analyzer.embed_cached(image, self.scene_cache, digest)
        timings["encode"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        analysis = analyzer.interpret(embedding, context)
        timings["analyze"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        stages: dict[str, float] = {}
        ranker = self._ranker_for(bundle, variant.rank if variant else None)
        recs = ranker.rank(analysis, index, k, style_of=analyzer.style_distribution, filters=filters, timings=stages)
        total = time.perf_counter() - t0
        timings.update(stages)
        timings["rerank"] = total - sum(stages.values())  # factors, MMR, explanations
        return match_result(analysis, recs, index, self.index_dir, timings)

    def serve_match(self, scene: bytes, *, k: int = 10, context: str | None = None, filters: Filters | None = None,
                    session_id: str | None = None) -> MatchResult:
        """A match as the service serves it: ranked by the experiment variant of ``session_id``
        (a user or session id), and recorded (photo, request, picks) under a new ``match_id``
        that feedback events refer to."""
        loop = self.feedback
        variant, subject = loop.assign(session_id)
        result = self.match(scene, k=k, context=context, filters=filters, variant=variant)
        shown = [ShownItem(product_id=r.id, rank=r.rank, score=r.score) for r in result.recommendations]
        record = loop.record(scene, photo_digest(scene), variant=variant.name, subject=subject, k=k,
                             context=context, filters=dataclasses.asdict(filters) if filters else {}, shown=shown)
        result.match_id, result.variant = record.match_id, variant.name
        return result

    # -- products (the HTTP API's reads and writes) ----------------------------------------
    def get_product(self, product_id: str) -> ProductRecord:
        self.refresh()
        record = self.index.get(product_id)
        if record is None:
            raise NotFoundError(f"no product with id {product_id!r}")
        return record

    def product_image(self, product_id: str) -> Path:
        """The local file of a product's photo: its catalog path, or the downloaded copy of
        its URL in the index's image cache. Only photos indexed as readable are served."""
        return self._writer().primary_image(self.get_product(product_id), self.fetch_config)

    def product_images(self, product_id: str) -> list[Path]:
        """The local files of every readable photo of a product: its primary image first, then
        its further ``images`` in catalog order."""
        return self._writer().product_images(self.get_product(product_id), self.fetch_config)

    def upsert_products(self, rows: list[dict]) -> IngestReport:
        """Add or replace products given as dicts (catalog columns), embedding only what
        changed. All or nothing: if any row is invalid, nothing is written. Images must be
        http(s) URLs of public hosts, all in within the FetchConfig's ``total_deadline_s``
        (default ``pipelines.WRITE_FETCH_DEADLINE_S``); one that fails or is late leaves its product
        text-only, as in a catalog ingest."""
        index, report = self._writer().upsert(Catalog.from_records(rows), self.ingest_config, self.fetch_config)
        self._written(index)
        return report

    def delete_products(self, product_ids: list[str]) -> int:
        """Remove products; returns how many existed. Atomic, like every index write."""
        index, removed = self._writer().delete(product_ids)
        self._written(index)
        return removed

    # -- evaluate and fit ------------------------------------------------------------------
    def evaluate(self, catalog: Catalog | str | Path, labels: str | Path, *, k: int = 10, cv: int = 0,
                 seed: int = 0, adapt: bool = True) -> EvalReport:
        """Ingest the catalog (incrementally), then rank every labelled scene with scenefit and
        with two baselines using the same encoder: plain cosine between the whole photo's
        vector and product vectors (no analysis, no re-ranking), and a random ranking.

        ``cv`` > 1: scenefit's appearance adapter (unless ``adapt`` is False), weights and room
        model are fitted on the other folds for each scene (as ``scenefit fit`` would), so its
        figures are held-out estimates.
        """
        scenes, report_in = read_labels(labels), self.ingest(catalog)  # labels checked before the ingest
        return evaluate_scenes(scenes, self.index, self.encoder_for_index(), k=k, cv=cv, seed=seed, adapt=adapt,
                               scene=self.scene_config, rank=self._explicit_rank or RankConfig(),
                               fitted=self.fitted.ranking, match=lambda image: self.match(image, k=k),
                               progress=self.progress, catalog=str(report_in.catalog), labels=labels,
                               index_dir=self.index_dir, start=self.fitted.label_free_for(self.scene_config.regions))

    def fit(self, catalog: Catalog | str | Path | None, labels: str | Path, *, k: int = 10,
            adapt: bool = True, into: str | None = None) -> FitResult:
        """Fit on labelled scenes and save, in the index folder where match and eval pick them
        up (or its subfolder ``into``, for an experiment variant), the appearance adapter (when
        the encoder has an appearance space and ``adapt``; without ``adapt`` an earlier one is
        removed), the fusion weights and MMR diversity, and a room-type model (when the labels
        carry room types): see :mod:`scenefit.learn`. ``catalog`` None: the index as it is."""
        if into and not inside_index(into):
            raise ConfigError(f"--into must be a folder inside the index folder, got {into!r}")
        scenes = read_labels(labels)
        if catalog is not None:
            self.ingest(catalog, sync=False)  # fitting adds the labelled catalog, never removes products
        index = self.index
        encoder = self.encoder_for_index()
        regions = regions_for(self.scene_config, encoder)
        start = self.fitted.label_free_for(regions)
        result = fit_labelled(scenes, index, encoder, scene=self.scene_config, rank=self._explicit_rank or RankConfig(),
                              k=k, labels=str(labels), adapt=adapt, progress=self.progress, start=start)
        with self._writer().lock():  # like every write into the index folder
            folder = self.index_dir / into if into else self.index_dir
            folder.mkdir(parents=True, exist_ok=True)
            save_fit(result, folder, model_id=index.manifest.model_id, regions=regions)
            if into and start is not None:  # a variant's folder is whole: what its weights were fitted through
                start.save(folder)
        self._reload_fitted()  # the next match uses the new weights, adapter and room model
        return result

    def adapt(self, scenes: str | Path | None = None, *, regions: str | None = None,
              config: LabelFreeConfig | None = None) -> LabelFreeResult:
        """Fit the appearance adapter from product photos pasted into ``scenes`` (a folder of room
        photos; default: the shipped one), no labels, and save it: see :mod:`scenefit.learn`."""
        writer = self._writer()
        result = adapt_index(self.index, self.encoder_for_index(), lambda record: writer.product_images(record, self.fetch_config),
                             Path(scenes) if scenes is not None else None, regions, config, self.progress)
        with writer.lock():
            save_label_free(result.adapter, self.index_dir, model_id=self.index.manifest.model_id)
        self._reload_fitted()
        return result


__all__ = ["Engine", "__version__"]
