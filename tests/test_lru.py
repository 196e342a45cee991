import threading

from scenefit._lru import LockedLRU


def test_the_least_recently_used_entry_goes_first_and_a_read_counts_as_use():
    lru: LockedLRU[str, int] = LockedLRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "b" is now the oldest
    lru.put("c", 3)
    assert lru.get_many(["a", "b", "c"]) == [1, None, 3] and len(lru) == 2


def test_resize_to_unbounded_keeps_everything_from_then_on():
    lru: LockedLRU[int, int] = LockedLRU(1)
    lru.put(1, 1)
    lru.resize(None)
    lru.put_many((i, i) for i in range(2, 50))
    assert len(lru) == 49 and 1 in lru
    lru.discard([1, 2])
    assert 1 not in lru and 2 not in lru


def test_threads_sharing_it_never_see_it_torn():
    lru: LockedLRU[int, int] = LockedLRU(64)
    errors = []

    def hammer(seed: int) -> None:
        try:
            for i in range(3000):
                key = (seed * 7919 + i) % 200
                lru.put(key, key)
                got = lru.get(key ^ 1)
                assert got is None or got == key ^ 1
        except Exception as exc:  # noqa: BLE001 - reported below, on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(lru) <= 64
