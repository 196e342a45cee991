"""What the index keeps about a product besides its vector, and its row in the store of record."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProductRecord:
    """What the index keeps about a product besides its vector."""

    id: str
    sku_id: str
    description: str
    image: str | None
    text: str
    category: str | None
    colours: list[str]
    materials: list[str]
    content_hash: str
    image_status: str  # "ok", "failed: <reason>", or "none"
    attributes: dict[str, Any] = field(default_factory=dict)
    key: int = -1  # the vector's id, assigned by the index

    def with_key(self, key: int) -> "ProductRecord":
        """A copy keyed ``key``: the index never changes a caller's record."""
        return dataclasses.replace(self, key=int(key))

    def to_row(self) -> dict[str, Any]:
        """The row the store of record keeps (a deep copy: later edits of the record don't reach it)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ProductRecord":
        return cls(**row)
