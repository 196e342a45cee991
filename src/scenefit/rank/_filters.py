"""Filters on product fields and attribute columns, resolved to the index keys they allow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .._errors import ConfigError
from ..index import ProductRecord, VectorIndex


# Product fields every index has, filterable besides the catalog's own columns.
_RECORD_FIELDS = frozenset({"id", "sku_id", "description", "category"})


@dataclass
class Filters:
    """Equality filters, case-insensitive. ``category`` matches the parsed category or a
    ``category``/``type`` column; ``attributes`` match any catalog column by name."""

    category: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, category: Iterable[str] = (), where: Iterable[str] = ()) -> "Filters":
        attrs: dict[str, list[str]] = {}
        for item in where:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"filter {item!r} is not COLUMN=VALUE")
            attrs.setdefault(key.strip(), []).append(value.strip())
        return cls(category=[c.strip() for c in category if c.strip()], attributes=attrs)

    def __bool__(self) -> bool:
        return bool(self.category or self.attributes)

    def allowed_keys(self, index: VectorIndex) -> np.ndarray | None:
        """Keys that pass, or None when there is no filter. Unknown columns are an error."""
        if not self:
            return None
        known = {k.lower() for r in index.records() for k in r.attributes} | _RECORD_FIELDS
        unknown = [k for k in self.attributes if k.lower() not in known]
        if unknown:
            raise ConfigError(
                f"unknown filter field(s) {', '.join(unknown)}; columns: {', '.join(sorted(known))}"
            )
        cats = {c.lower() for c in self.category}
        wanted = {k.lower(): {v.lower() for v in vs} for k, vs in self.attributes.items()}
        cats |= wanted.pop("category", set())  # category=VALUE means the same as --category
        keys = [r.key for r in index.records() if self._passes(r, cats, wanted)]
        return np.asarray(keys, dtype=np.int64)

    @staticmethod
    def _passes(r: ProductRecord, cats: set[str], wanted: dict[str, set[str]]) -> bool:
        # Catalog cells are kept as read, so " Acme" must still match acme; a null is empty.
        attrs = {k.lower(): "" if v is None else str(v).strip().lower() for k, v in r.attributes.items()}
        attrs["sku_id"], attrs["id"] = r.sku_id.strip().lower(), r.id.strip().lower()
        attrs["description"] = r.description.strip().lower()
        if cats:
            mine = {(r.category or "").lower(), attrs.get("category", ""), attrs.get("type", "")}
            if not cats & mine:
                return False
        return all(attrs.get(k) in vs for k, vs in wanted.items())
