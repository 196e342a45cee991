"""A tiny progress protocol so stages report progress without knowing about terminals."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator, Protocol


class Progress(Protocol):
    def task(self, description: str, total: int) -> ContextManager[Callable[[int], None]]:
        """Context manager yielding ``advance(n)`` for a task of ``total`` steps."""
        ...


class NullProgress:
    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        yield lambda n=1: None
