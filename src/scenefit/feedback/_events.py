"""The vocabulary of feedback, declared once: which events exist, who may send them, and what
each one says about whether a shown product fits its scene."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class Event(str, Enum):
    """Something a shopper did with a shown product, or a curator's judgement of it."""

    click = "click"
    save = "save"
    add_to_cart = "add_to_cart"
    purchase = "purchase"
    dismiss = "dismiss"
    relevant = "relevant"
    irrelevant = "irrelevant"


#: Judgements that need the write key: a storefront's browser may only report what it saw.
CURATOR_EVENTS = frozenset({Event.relevant, Event.irrelevant})
#: Shopper events that say "this fits" strongly enough to outweigh a dismiss.
COMMITTED = frozenset({Event.save, Event.add_to_cart, Event.purchase})
POSITIVE = COMMITTED | {Event.click, Event.relevant}
NEGATIVE = frozenset({Event.dismiss, Event.irrelevant})


def verdict(events: list[Event]) -> bool | None:
    """Whether a product fits a scene, from every event on it (oldest first): True, False, or
    None when the events say nothing. A curator's latest judgement decides; otherwise a save,
    add-to-cart or purchase beats a dismiss, and a dismiss beats a click (the shopper opened
    it, looked, and turned it down)."""
    curated = [e for e in events if e in CURATOR_EVENTS]
    if curated:
        return curated[-1] is Event.relevant
    if any(e in COMMITTED for e in events):
        return True
    if Event.dismiss in events:
        return False
    return True if Event.click in events else None


class ShownItem(BaseModel):
    """One product as a match showed it."""

    product_id: str
    rank: int = Field(ge=1)
    score: float


class MatchRecord(BaseModel):
    """A served match: what was shown, to which variant, for which scene photo."""

    match_id: str
    created_at: str = Field(description="UTC, ISO 8601")
    scene_digest: str = Field(description="sha256 of the photo's bytes; the photo is stored once under it")
    variant: str
    subject: str | None = Field(None, description="A keyed hash of the user or session id, never the id itself")
    k: int
    context: str | None = None
    filters: dict = Field(default_factory=dict)
    shown: list[ShownItem]

    def rank_of(self, product_id: str) -> int | None:
        return next((s.rank for s in self.shown if s.product_id == product_id), None)


class FeedbackEvent(BaseModel):
    match_id: str
    product_id: str
    event: Event
    rank: int = Field(ge=1, description="Where the match showed the product")
    created_at: str
    event_id: str | None = Field(None, description="The client's id: a repeat of it is recorded once")
