"""Product fields as columns, for filters: built once per loaded index, not per query.

A filter then costs a few vectorised comparisons over the catalog instead of a Python loop
over every product record on every request.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._store import ProductRecord


def _norm(value) -> str:
    # Catalog cells are kept as read, so " Acme" must still match acme; a null is empty.
    return "" if value is None else str(value).strip().lower()


class Columns:
    def __init__(self, records: "dict[int, ProductRecord]"):
        self._records = records
        self.keys = np.fromiter(records.keys(), np.int64, count=len(records))
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._known: set[str] | None = None

    @property
    def known(self) -> set[str]:
        """Filterable column names, lower-case: every catalog column plus the record fields."""
        if self._known is None:
            names = {"id", "sku_id", "description", "category"}
            for r in self._records.values():
                names.update(k.strip().lower() for k in r.attributes)
            self._known = names
        return self._known

    def column(self, name: str) -> np.ndarray:
        """Normalised text of column ``name`` for every product, in ``keys`` order ("" where
        absent). ``id``, ``sku_id`` and ``description`` are the record's own fields."""
        name = name.strip().lower()
        with self._lock:
            if name not in self._cache:
                self._cache[name] = np.array([_norm(self._value(r, name)) for r in self._records.values()],
                                             dtype=object)
            return self._cache[name]

    def categories(self) -> np.ndarray:
        """(n, 3) the parsed category and any ``category``/``type`` column, for category filters."""
        with self._lock:
            cached = self._cache.get("\0categories")
        if cached is None:
            parsed = np.array([_norm(r.category) for r in self._records.values()], dtype=object)
            cached = np.stack([parsed, self.column("category"), self.column("type")], axis=1)
            with self._lock:
                self._cache["\0categories"] = cached
        return cached

    def numbers(self, name: str) -> np.ndarray:
        """Column ``name`` parsed as numbers ("$12.50", "1,299"); NaN where it is not one."""
        key = "\0num:" + name
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = np.array([_number(v) for v in self.column(name)], dtype=np.float64)
            with self._lock:
                self._cache[key] = cached
        return cached

    @staticmethod
    def _value(r: "ProductRecord", name: str):
        if name in ("id", "sku_id", "description"):
            return getattr(r, name)
        for k, v in r.attributes.items():
            if k.strip().lower() == name:
                return v
        return None


def _number(text: str) -> float:
    cleaned = text.replace(",", "").strip().lstrip("$€£¥ ").strip()
    try:
        return float(cleaned) if cleaned else float("nan")
    except ValueError:
        return float("nan")
