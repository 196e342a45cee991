"""The feedback store of record, on SQLite (the default) and on a real PostgreSQL server."""

from __future__ import annotations

import uuid

import pytest

from scenefit.feedback import Event, FeedbackEvent, FeedbackStore, MatchRecord, ShownItem


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.server)])
def store(request, tmp_path):
    uid = uuid.uuid4().hex
    if request.param == "sqlite":
        yield FeedbackStore(uid, folder=tmp_path)
        return
    s = FeedbackStore(uid, database_url=request.getfixturevalue("postgres_url"))
    try:
        yield s
    finally:
        s.drop()


def _match(match_id: str, digest: str = "d1", when: str = "2026-12-01T10:00:00+00:00", variant: str = "default"):
    return MatchRecord(match_id=match_id, created_at=when, scene_digest=digest, variant=variant, subject="s",
                       k=3, context="cosy", filters={"price_max": 50.0},
                       shown=[ShownItem(product_id=f"p{i}", rank=i, score=1 - i / 10) for i in (1, 2, 3)])


def _event(match_id: str, product: str = "p2", event: Event = Event.click, event_id: str | None = None,
           when: str = "2026-12-01T10:00:01+00:00"):
    return FeedbackEvent(match_id=match_id, product_id=product, event=event, rank=2, created_at=when,
                         event_id=event_id)


def test_a_match_round_trips_and_its_photo_is_stored_once(store):
    store.record_match(_match("m1"), b"photo-bytes")
    store.record_match(_match("m2"), b"photo-bytes")  # the same photo again
    got = store.get_match("m1")
    assert got == _match("m1") and got.rank_of("p3") == 3 and got.rank_of("zz") is None
    assert store.scene_photo("d1") == b"photo-bytes"
    assert store.counts() == {"matches": 2, "events": 0, "scenes": 1}
    assert store.get_match("nope") is None


def test_an_event_id_is_recorded_once_and_events_without_one_always(store):
    store.record_match(_match("m1"), b"x")
    assert store.add_event(_event("m1", event_id="e-1"))
    assert not store.add_event(_event("m1", event_id="e-1"))  # a client's retry
    assert store.add_event(_event("m1")) and store.add_event(_event("m1"))
    assert store.count_events("m1") == 3
    assert [e.event_id for e in store.events()] == ["e-1", None, None]


def test_event_ids_are_the_clients_own_per_match(store):
    store.record_match(_match("m1"), b"x")
    store.record_match(_match("m2"), b"x")
    assert store.add_event(_event("m1", event_id="1"))
    assert store.add_event(_event("m2", event=Event.purchase, event_id="1"))  # another page counting from 1
    assert [e.event for e in store.events()] == [Event.click, Event.purchase]


def test_an_event_never_outlives_its_match(store):
    store.record_match(_match("m1"), b"x")
    store.delete_match("m1")
    assert not store.add_event(_event("m1"))  # it was looked up just before the delete
    assert store.counts() == {"matches": 0, "events": 0, "scenes": 0}


def test_a_photo_shown_again_is_kept_by_retention(store):
    store.record_match(_match("old", when="2026-01-01T00:00:00+00:00"), b"x")
    store.record_match(_match("new", when="2026-12-01T00:00:00+00:00"), b"x")
    store.purge("2026-06-01T00:00:00+00:00")
    assert store.scene_photo("d1") == b"x" and store.get_match("new") is not None


def test_since_may_carry_a_zone_or_none(store):
    store.record_match(_match("a", when="2026-12-01T10:00:00+00:00"), b"x")
    assert [m.match_id for m in store.matches(since="2026-12-01T11:30:00+02:00")] == ["a"]  # 09:30 UTC
    assert [m.match_id for m in store.matches(since="2026-12-01 10:00:01")] == []
    from scenefit import ConfigError

    with pytest.raises(ConfigError, match="ISO 8601"):
        list(store.matches(since="yesterday"))


def test_a_failing_database_is_a_backend_error(tmp_path):
    import sqlite3

    from scenefit import BackendError

    store = FeedbackStore("u", folder=tmp_path)
    holder = sqlite3.connect(tmp_path / "feedback.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    store._connection().execute("PRAGMA busy_timeout = 50")
    with pytest.raises(BackendError, match="locked"):
        store.record_match(_match("m1"), b"x")
    holder.execute("ROLLBACK")
    store.record_match(_match("m1"), b"x")  # a new connection, and it works again
    assert store.get_match("m1") is not None


def test_deleting_a_match_keeps_a_photo_another_match_showed(store):
    store.record_match(_match("m1"), b"x")
    store.record_match(_match("m2"), b"x")
    store.add_event(_event("m1"))
    assert store.delete_match("m1") and not store.delete_match("m1")
    assert store.counts() == {"matches": 1, "events": 0, "scenes": 1}
    assert store.delete_match("m2")
    assert store.counts() == {"matches": 0, "events": 0, "scenes": 0}
    assert store.scene_photo("d1") is None


def test_deleting_a_photo_deletes_every_match_of_it(store):
    store.record_match(_match("m1"), b"x")
    store.record_match(_match("m2"), b"x")
    store.record_match(_match("m3", digest="d2"), b"y")
    store.add_event(_event("m2"))
    assert store.delete_scene("d1") == 2
    assert store.counts() == {"matches": 1, "events": 0, "scenes": 1}
    assert store.get_match("m3") is not None


def test_purge_forgets_what_is_past_retention(store):
    store.record_match(_match("old", digest="d-old", when="2026-01-01T00:00:00+00:00"), b"o")
    store.record_match(_match("new", digest="d-new", when="2026-12-01T00:00:00+00:00"), b"n")
    store.add_event(_event("old"))
    store.add_event(_event("new"))
    purged = store.purge("2026-06-01T00:00:00+00:00")
    assert (purged.matches, purged.events, purged.scenes) == (1, 1, 1)
    assert store.get_match("old") is None and store.scene_photo("d-old") is None
    assert [e.match_id for e in store.events()] == ["new"]


def test_since_limits_matches_and_their_events(store):
    store.record_match(_match("a", when="2026-11-01T00:00:00+00:00"), b"x")
    store.record_match(_match("b", when="2026-12-01T00:00:00+00:00"), b"x")
    store.add_event(_event("a"))
    store.add_event(_event("b"))
    assert [m.match_id for m in store.matches(since="2026-11-15")] == ["b"]
    assert [e.match_id for e in store.events(since="2026-11-15")] == ["b"]


def test_two_indexes_share_a_database_without_seeing_each_other(store, tmp_path):
    other = FeedbackStore(uuid.uuid4().hex, folder=tmp_path) if store.kind == "sqlite" else \
        FeedbackStore(uuid.uuid4().hex, database_url=store._url)
    try:
        store.record_match(_match("m1"), b"x")
        assert other.get_match("m1") is None and other.counts()["matches"] == 0
    finally:
        other.drop()


def test_a_store_needs_exactly_one_place(tmp_path):
    from scenefit import ConfigError

    with pytest.raises(ConfigError):
        FeedbackStore("u")
    with pytest.raises(ConfigError):
        FeedbackStore("u", folder=tmp_path, database_url="postgresql://x")


@pytest.mark.server
def test_processes_creating_the_tables_at_once_do_not_collide(postgres_url):
    import subprocess
    import sys

    import psycopg

    name = f"fb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        code = f"from scenefit.feedback import FeedbackStore; FeedbackStore('u', database_url={url!r})"
        procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(6)]
        failures = [p.communicate(timeout=120)[1] for p in procs if p.wait(timeout=120) != 0]
        assert not failures, failures[0][-2000:]
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as con:
            con.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.server
def test_an_unreachable_database_is_a_backend_error():
    from scenefit import BackendError

    with pytest.raises(BackendError, match="unreachable"):
        FeedbackStore("u", database_url="postgresql://nobody@127.0.0.1:1/none")

