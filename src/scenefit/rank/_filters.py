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
    #: inclusive bounds on the catalog's ``price`` column; products without a price fail them
    price_min: float | None = None
    price_max: float | None = None

    @classmethod
    def parse(cls, category: Iterable[str] = (), where: Iterable[str] = (),
              price_min: float | None = None, price_max: float | None = None) -> "Filters":
        attrs: dict[str, list[str]] = {}
        for item in where:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"filter {item!r} is not COLUMN=VALUE")
            attrs.setdefault(key.strip(), []).append(value.strip())
        if price_min is not None and price_max is not None and price_min > price_max:
            raise ConfigError(f"price range is empty: minimum {price_min:g} > maximum {price_max:g}")
        return cls(category=[c.strip() for c in category if c.strip()], attributes=attrs,
                   price_min=price_min, price_max=price_max)

    def __bool__(self) -> bool:
        return bool(self.category or self.attributes or self.price_min is not None or self.price_max is not None)

    def allowed_keys(self, index: VectorIndex) -> np.ndarray | None:
        """Keys that pass, or None when there is no filter. Unknown columns are an error."""
        if not self:
            return None
        known = {k.lower() for r in index.records() for k in r.attributes} | _RECORD_FIELDS
        unknown = [k for k in self.attributes if k.lower() not in known]
        if (self.price_min is not None or self.price_max is not None) and "price" not in known:
            unknown.append("price (for the price range)")
        if unknown:
            raise ConfigError(
                f"unknown filter field(s) {', '.join(unknown)}; columns: {', '.join(sorted(known))}"
            )
        cats = {c.lower() for c in self.category}
        wanted = {k.lower(): {v.lower() for v in vs} for k, vs in self.attributes.items()}
        cats |= wanted.pop("category", set())  # category=VALUE means the same as --category
        keys = [r.key for r in index.records() if self._passes(r, cats, wanted)]
        return np.asarray(keys, dtype=np.int64)

    def _passes(self, r: ProductRecord, cats: set[str], wanted: dict[str, set[str]]) -> bool:
        # Catalog cells are kept as read, so " Acme" must still match acme; a null is empty.
        attrs = {k.lower(): "" if v is None else str(v).strip().lower() for k, v in r.attributes.items()}
        attrs["sku_id"], attrs["id"] = r.sku_id.strip().lower(), r.id.strip().lower()
        attrs["description"] = r.description.strip().lower()
        if cats:
            mine = {(r.category or "").lower(), attrs.get("category", ""), attrs.get("type", "")}
            if not cats & mine:
                return False
        if not all(attrs.get(k) in vs for k, vs in wanted.items()):
            return False
        return self._price_ok(attrs.get("price"))

    def _price_ok(self, raw: str | None) -> bool:
        if self.price_min is None and self.price_max is None:
            return True
        price = _number(raw)
        if price is None:
            return False
        return (self.price_min is None or price >= self.price_min) and (self.price_max is None or price <= self.price_max)


def _number(raw: str | None) -> float | None:
    """A price cell as a number: "12.50", "$12.50", "1,299" ; None when it is not one."""
    if not raw:
        return None
    text = raw.replace(",", "").strip().lstrip("$€£¥ ").strip()
    try:
        return float(text)
    except ValueError:
        return None
