"""Filters on product fields and attribute columns, resolved to the index keys they allow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .._errors import ConfigError
from ..index import VectorIndex




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

    def allowed_keys(self, index: VectorIndex) -> np.ndarray | str | None:
        """Keys that pass, or None when there is no filter. Unknown columns are an error.

        Vectorised over the index's cached columns: no per-product Python per query. For an
        index that pushes filters down (Milvus), the filter expression instead."""
        if not self:
            return None
        cols = index.columns
        known = cols.known
        unknown = [k for k in self.attributes if k.strip().lower() not in known]
        if (self.price_min is not None or self.price_max is not None) and "price" not in known:
            unknown.append("price (for the price range)")
        if unknown:
            raise ConfigError(
                f"unknown filter field(s) {', '.join(unknown)}; columns: {', '.join(sorted(known))}"
            )
        cats = {c.strip().lower() for c in self.category}
        wanted: dict[str, set[str]] = {}
        for k, vs in self.attributes.items():
            wanted.setdefault(k.strip().lower(), set()).update(v.strip().lower() for v in vs)
        cats |= wanted.pop("category", set())  # category=VALUE means the same as --category
        if index.pushes_down_filters:
            from ..index import filter_expression

            return filter_expression(cats, wanted, self.price_min, self.price_max)
        mask = np.ones(len(cols.keys), dtype=bool)
        if cats:
            mask &= np.isin(cols.categories(), list(cats)).any(axis=1)
        for name, values in wanted.items():
            mask &= np.isin(cols.column(name), list(values))
        if self.price_min is not None or self.price_max is not None:
            price = cols.numbers("price")
            ok = ~np.isnan(price)
            if self.price_min is not None:
                ok &= price >= self.price_min
            if self.price_max is not None:
                ok &= price <= self.price_max
            mask &= ok
        return cols.keys[mask]
