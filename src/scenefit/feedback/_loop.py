"""The feedback loop of one index: which variant a match is served with, what is recorded of
it, which events are accepted, and what is learnt from them (export, report, retention)."""

from __future__ import annotations

import io
import secrets
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from .._errors import ConfigError, FeedbackError, InvalidIndexError, NotFoundError
from ._events import Event, FeedbackEvent, MatchRecord, ShownItem
from ._experiments import FILE as EXPERIMENTS_FILE
from ._experiments import Experiment, Variant
from ._export import ExportReport, export_labels
from ._report import ExperimentReport, experiment_report
from ._store import FeedbackStore, Purged, utc_iso

#: Events one match may receive: a page shows at most 100 picks, and a shopper acts on a few.
MAX_EVENTS_PER_MATCH = 200
#: A scene photo larger than this is stored re-encoded (JPEG, at most STORED_SIDE px on its
#: long side): anyone may upload matches, and each stored photo stays for the retention period.
MAX_STORED_BYTES = 1_000_000
#: Above the dense pass's resolution, so a fit on the stored copy sees what the match saw.
STORED_SIDE = 2048


def stored_photo(photo: bytes) -> bytes:
    """What is kept of a scene photo: itself, or a smaller copy when it is large. Only called
    after the match has decoded it (the image guard has passed it)."""
    if len(photo) <= MAX_STORED_BYTES:
        return photo
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(photo)) as im:
        im.draft("RGB", (STORED_SIDE, STORED_SIDE))  # a JPEG decodes at a fraction of its size: cheap
        image = ImageOps.exif_transpose(im).convert("RGB")
    image.thumbnail((STORED_SIDE, STORED_SIDE))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue() if buf.tell() < len(photo) else photo


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class FeedbackLoop:
    """``store``: where matches and events live; ``index_dir``: where ``experiments.json`` is."""

    def __init__(self, index_dir: str | Path, store: FeedbackStore):
        self.index_dir, self.store = Path(index_dir), store
        self._experiment: tuple[tuple | None, Experiment] | None = None
        self._lock = threading.Lock()

    # -- experiments -----------------------------------------------------------------------
    @property
    def experiment(self) -> Experiment:
        """The experiments file as it is now: read again when it changes, so a new variant is
        served without a restart. A broken file is an error, not a silent fallback."""
        path = self.index_dir / EXPERIMENTS_FILE
        try:
            st = path.stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        cached = self._experiment
        if cached is None or cached[0] != stamp:
            try:
                experiment = Experiment.load(self.index_dir)
            except ConfigError as exc:
                raise InvalidIndexError(str(exc)) from None
            for v in experiment.variants:
                if not (self.index_dir / v.fit).is_dir():
                    raise InvalidIndexError(f"{path}: variant {v.name!r} ranks with {v.fit!r}, which is not a folder "
                                        f"in {self.index_dir} (`scenefit fit --into {v.fit}` makes one)")
            with self._lock:
                self._experiment = cached = (stamp, experiment)
        return cached[1]

    def assign(self, session_id: str | None) -> tuple[Variant, str | None]:
        """The variant of a user or session id, and what is stored for the id (its keyed
        hash), both from one reading of the experiments file."""
        experiment = self.experiment
        return experiment.assign(session_id), experiment.subject_key(session_id) if session_id else None

    # -- recording -------------------------------------------------------------------------
    def record(self, photo: bytes, digest: str, *, variant: str, subject: str | None, k: int,
               context: str | None, filters: dict, shown: list[ShownItem]) -> MatchRecord:
        """Store a served match (and its photo, once); returns it with its new ``match_id``,
        which is unguessable: it is all a storefront's browser needs to send events.
        ``subject``: the stored form of the session id, as :meth:`assign` gives it."""
        record = MatchRecord(match_id=secrets.token_urlsafe(18), created_at=now_iso(), scene_digest=digest,
                             variant=variant, subject=subject, k=k, context=context, filters=filters, shown=shown)
        self.store.record_match(record, stored_photo(photo))
        return record

    def event(self, match_id: str, product_id: str, event: Event, *,
              event_id: str | None = None) -> tuple[FeedbackEvent, MatchRecord, bool]:
        """Record an event on a product a match showed: (the event, its match, whether it is
        new, not a repeat of its ``event_id``). Who may send which event is the caller's
        check (the service's: curator judgements need the write key)."""
        match = self.store.get_match(match_id)
        if match is None:
            raise NotFoundError(f"no match with id {match_id!r} (never served, or deleted after the retention period)")
        rank = match.rank_of(product_id)
        if rank is None:
            raise FeedbackError(f"product {product_id!r} was not shown in match {match_id!r}")
        if self.store.count_events(match_id) >= MAX_EVENTS_PER_MATCH:
            raise FeedbackError(f"match {match_id!r} already has {MAX_EVENTS_PER_MATCH} events", code="too_many_events")
        recorded = FeedbackEvent(match_id=match_id, product_id=product_id, event=event, rank=rank,
                                 created_at=now_iso(), event_id=event_id)
        return recorded, match, self.store.add_event(recorded)

    # -- learning and upkeep ---------------------------------------------------------------
    def export(self, out: str | Path, *, since: str | datetime | None = None,
               variant: str | None = None, passed_over: bool = False) -> ExportReport:
        return export_labels(self.store, out, since=utc_iso(since), variant=variant, passed_over=passed_over)

    def report(self, *, k: int = 10, since: str | datetime | None = None) -> ExperimentReport:
        return experiment_report(self.store, self.experiment, k=k, since=utc_iso(since))

    def purge(self, retention_days: float) -> Purged:
        """Forget matches (their photos and events) older than ``retention_days``."""
        before = datetime.now(timezone.utc) - timedelta(days=retention_days)
        return self.store.purge(before.isoformat(timespec="microseconds"))

    def delete_match(self, match_id: str) -> None:
        if not self.store.delete_match(match_id):
            raise NotFoundError(f"no match with id {match_id!r}")

    def delete_photo(self, digest: str) -> int:
        return self.store.delete_scene(digest)


def open_feedback(index_dir: str | Path, uid: str, database_url: str | None,
                  log: Callable[[str], None] | None = None) -> FeedbackLoop:
    """The loop of an index: its store is PostgreSQL when ``database_url`` is given (the index
    keeps its products there), else SQLite in the index folder."""
    store = FeedbackStore(uid, database_url=database_url) if database_url else FeedbackStore(uid, folder=Path(index_dir))
    return FeedbackLoop(index_dir, store)
