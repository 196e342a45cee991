"""The one vocabulary: every table elsewhere names only declared rooms, styles and categories."""

from __future__ import annotations

import importlib

import pytest

from scenefit.taxonomy import (CATEGORIES, COLOURS, ROOMS, SCENE_COLOURS, STYLES, require_categories, require_rooms,
                               require_styles)


def test_names_are_declared_once_and_in_canonical_form():
    for names in (ROOMS, STYLES, CATEGORIES):
        assert len(set(names)) == len(names)
        assert all(n == " ".join(n.lower().split()) for n in names)


@pytest.mark.parametrize("require, good, typo", [
    (require_rooms, "living room", "livingroom"),
    (require_styles, "scandinavian", "scandinavain"),
    (require_categories, "candle holder", "candleholder"),
])
def test_a_typo_is_an_error_that_names_the_table(require, good, typo):
    require([good], "somewhere")  # no error
    with pytest.raises(ValueError, match=rf"somewhere: '{typo}'"):
        require([good, typo], "somewhere")


def test_every_room_in_the_priors_is_declared():
    from scenefit.rank import _priors

    rooms = {room for high, mid in _priors._AFFINITY.values() for room in (*high, *mid)}
    assert rooms <= set(ROOMS)
    assert set(_priors._AFFINITY) <= set(CATEGORIES)


def test_every_prompt_room_and_style_is_declared():
    from scenefit.scene import ROOM_PROMPTS, STYLE_PROMPTS

    assert tuple(ROOM_PROMPTS) == ROOMS
    assert tuple(STYLE_PROMPTS) == STYLES


def test_every_catalog_category_is_declared():
    from scenefit.catalog import _vocab as V

    produced = set(V.CATEGORIES.values()) | {V.FIGURE_CATEGORY, V.OBJECT_CATEGORY}
    assert produced == set(CATEGORIES)  # and nothing declared that the catalog never assigns


def test_a_room_the_taxonomy_does_not_declare_fails_the_priors_at_import(monkeypatch):
    from scenefit.rank import _priors
    from scenefit.taxonomy import _rooms

    # As if "laundry room" were misspelt in the taxonomy: the priors still name it.
    monkeypatch.setattr(_rooms, "ROOMS", tuple(r for r in ROOMS if r != "laundry room"))
    try:
        with pytest.raises(ValueError, match="rank room priors: 'laundry room'"):
            importlib.reload(_priors)
    finally:
        monkeypatch.undo()
        importlib.reload(_priors)


def test_scene_colours_are_a_subset_of_the_one_table():
    assert set(SCENE_COLOURS) <= set(COLOURS)
    assert all(SCENE_COLOURS[n] == COLOURS[n] for n in SCENE_COLOURS)
    assert "silver" in COLOURS and "silver" not in SCENE_COLOURS
