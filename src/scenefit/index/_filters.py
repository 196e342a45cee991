"""Filters on product fields and attribute columns: the query-side data type.

It lives below the ranker so that every vector space can take it: each implementation turns
the normalised form (:class:`FilterSpec`) into its own (FAISS: a key mask over the index's
columns; Milvus: a boolean expression the server evaluates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .._errors import ConfigError

#: record fields a filter can test besides the catalog's columns
RECORD_FIELDS = frozenset({"id", "sku_id", "description", "category"})


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

    def spec(self, known: set[str]) -> "FilterSpec | None":
        """The normalised filter (None when there is none). ``known``: the filterable column
        names, lower-case; an unknown one is an error that lists them."""
        if not self:
            return None
        known = set(known) | RECORD_FIELDS
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
        return FilterSpec(frozenset(cats), tuple(sorted((k, frozenset(v)) for k, v in wanted.items())),
                          self.price_min, self.price_max)


@dataclass(frozen=True)
class FilterSpec:
    """Filters checked against the index's columns and normalised (trimmed, lower-cased);
    hashable, so each vector space can keep its translation of a repeated filter."""

    categories: frozenset[str] = frozenset()
    #: (column, any of these values), sorted by column; all must hold
    attributes: tuple[tuple[str, frozenset[str]], ...] = ()
    price_min: float | None = None
    price_max: float | None = None

    @property
    def has_price_range(self) -> bool:
        return self.price_min is not None or self.price_max is not None
