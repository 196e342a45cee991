"""Per-client rate limits for the endpoints a storefront's browser may call without a key."""

from __future__ import annotations

import threading
import time

from cachetools import TTLCache

#: Clients remembered at once: a flood of addresses forgets the oldest, it cannot grow memory.
MAX_CLIENTS = 100_000


class RateLimiter:
    """A token bucket per client: ``per_minute`` tokens a minute, at most ``per_minute`` held."""

    def __init__(self, per_minute: int):
        self.rate, self.burst = per_minute / 60.0, float(per_minute)
        # A client idle for a minute has a full bucket again: forgetting it then changes nothing.
        self._buckets: TTLCache = TTLCache(maxsize=MAX_CLIENTS, ttl=60)
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return False
            self._buckets[client] = (tokens - 1, now)
            return True

    def retry_after(self) -> int:
        """Seconds until a drained bucket holds a token again."""
        return max(1, round(1 / self.rate))
