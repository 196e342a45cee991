"""From a product's events to whether it fits its scene."""

from __future__ import annotations

import pytest

from scenefit.feedback import Event, verdict

E = Event


@pytest.mark.parametrize("events, fits", [
    ([], None),
    ([E.click], True),
    ([E.dismiss], False),
    ([E.click, E.dismiss], False),  # opened, looked, turned down
    ([E.dismiss, E.purchase], True),  # bought anyway
    ([E.save, E.dismiss], True),
    ([E.add_to_cart], True),
    ([E.purchase, E.irrelevant], False),  # a curator's judgement decides
    ([E.irrelevant, E.relevant], True),  # the latest one
    ([E.relevant, E.dismiss], True),
])
def test_verdict(events, fits):
    assert verdict(events) is fits
