"""Product fields as columns, for the FAISS spaces' filters: built once per loaded index, not
per query.

A filter then costs a few vectorised comparisons over the catalog instead of a Python loop
over every product record on every request; the keys a filter allows are kept for the
filters asked for most recently (one query searches two spaces with the same filter).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Iterable

import numpy as np

from .._lru import LockedLRU

from ._filters import FilterSpec

if TYPE_CHECKING:
    from ._product import ProductRecord

_ALLOWED_CACHE = 32  # distinct filters whose allowed keys are kept


def _norm(value) -> str:
    # Catalog cells are kept as read, so " Acme" must still match acme; a null is empty.
    return "" if value is None else str(value).strip().lower()


def filter_values(record: "ProductRecord") -> dict[str, str]:
    """The text fields a filter can test, by lower-cased column name, normalised: every
    attribute plus id, sku_id and description. FAISS's columns and Milvus's filter fields are
    both built from it, so a filter means the same on either backend."""
    values = {str(k).strip().lower(): _norm(v) for k, v in record.attributes.items()}
    values["id"], values["sku_id"], values["description"] = _norm(record.id), _norm(record.sku_id), _norm(record.description)
    return values


class Columns:
    """Built in one pass over the records; only normalised text columns are kept."""

    def __init__(self, keys: np.ndarray, records: "Iterable[ProductRecord]"):
        self.keys = keys
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}
        self._allowed: LockedLRU[FilterSpec, np.ndarray] = LockedLRU(_ALLOWED_CACHE)
        cols: dict[str, list[str]] = {}
        parsed: list[str] = []
        n = 0
        for n, r in enumerate(records, start=1):
            parsed.append(_norm(r.category))
            values = filter_values(r)
            for name, value in values.items():
                col = cols.get(name)
                if col is None:
                    col = cols[name] = [""] * (n - 1)  # a column first seen now: empty before
                col.append(value)
            for name, col in cols.items():
                if len(col) < n:
                    col.append("")
        self._columns = {name: np.array(col, dtype=object) for name, col in cols.items()}
        self._parsed = np.array(parsed, dtype=object)
        if len(self._parsed) != len(keys):
            raise RuntimeError("columns and keys disagree")  # records changed while building

    def column(self, name: str) -> np.ndarray:
        """Normalised text of column ``name`` for every product, in ``keys`` order ("" where absent)."""
        col = self._columns.get(name.strip().lower())
        return col if col is not None else np.full(len(self.keys), "", dtype=object)

    def categories(self) -> np.ndarray:
        """(n, 3) the parsed category and any ``category``/``type`` column, for category filters."""
        return np.stack([self._parsed, self.column("category"), self.column("type")], axis=1)

    def numbers(self, name: str) -> np.ndarray:
        """Column ``name`` parsed as numbers ("$12.50", "1,299"); NaN where it is not one."""
        with self._lock:
            cached = self._cache.get(name)
        if cached is None:
            cached = np.array([_number(v) for v in self.column(name)], dtype=np.float64)
            with self._lock:
                self._cache[name] = cached
        return cached

    def allowed(self, spec: FilterSpec) -> np.ndarray:
        """The keys (in ``keys`` order) of the products that pass ``spec``."""
        cached = self._allowed.get(spec)
        if cached is not None:
            return cached
        mask = np.ones(len(self.keys), dtype=bool)
        if spec.categories:
            mask &= np.isin(self.categories(), list(spec.categories)).any(axis=1)
        for name, values in spec.attributes:
            mask &= np.isin(self.column(name), list(values))
        if spec.has_price_range:
            price = self.numbers("price")
            ok = ~np.isnan(price)
            if spec.price_min is not None:
                ok &= price >= spec.price_min
            if spec.price_max is not None:
                ok &= price <= spec.price_max
            mask &= ok
        keys = self.keys[mask]
        self._allowed.put(spec, keys)
        return keys


def _number(text: str) -> float:
    cleaned = text.replace(",", "").strip().lstrip("$€£¥ ").strip()
    try:
        return float(cleaned) if cleaned else float("nan")
    except ValueError:
        return float("nan")
