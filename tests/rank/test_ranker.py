"""Ranker, explanations and room priors, on hand-built scenes and small controlled indexes."""

from __future__ import annotations

import numpy as np
import pytest

from scenefit._types import NamedColour, SceneAnalysis
from scenefit.catalog import _vocab as V
from scenefit.index import ProductRecord, VectorIndex
from scenefit.rank import TEXT_WEIGHTS, Filters, RankConfig, Ranker, RankWeights, known_categories, room_affinity
from scenefit.taxonomy import ROOMS
from scenefit.rank._explain import _plural, explain
from scenefit.rank._priors import _AFFINITY

DIM = 8
STYLES = ("modern", "rustic")
Q = np.eye(DIM, dtype=np.float32)[0]  # the scene's query vector


def _rec(i: str, category: str | None = "vase", colours=("white",), **attributes) -> ProductRecord:
    return ProductRecord(
        id=i, sku_id=f"sku-{i}", description=f"item {i}", image=None, text=f"item {i}",
        category=category, colours=list(colours), materials=[], content_hash=f"h{i}",
        image_status="none", attributes=attributes,
    )


def _vec(cos: float, direction: int | np.ndarray) -> np.ndarray:
    """A unit vector with cosine ``cos`` to the query, leaning along ``direction`` (⊥ query)."""
    u = np.eye(DIM, dtype=np.float64)[direction] if isinstance(direction, int) else np.asarray(direction, float)
    u = u - u.dot(Q) * Q
    u /= np.linalg.norm(u)
    return (cos * Q + np.sqrt(1 - cos**2) * u).astype(np.float32)


def _spread(n: int, seed: int = 0) -> list[np.ndarray]:
    """n directions orthogonal to the query, pairwise not too close."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=DIM) for _ in range(n)]


def _index(tmp_path, items: list[tuple[ProductRecord, np.ndarray]]) -> VectorIndex:
    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=DIM, encoder={})
    idx.upsert([r for r, _ in items], np.stack([v for _, v in items]))
    return idx


def _scene(room: str | dict[str, float] = "bedroom", colours=None, context=None) -> SceneAnalysis:
    rooms = room if isinstance(room, dict) else {r: (1.0 if r == room else 0.0) for r in ROOMS}
    return SceneAnalysis(
        room_type=rooms,
        style={"modern": 0.7, "rustic": 0.3},
        palette={},
        colours=colours if colours is not None else [
            NamedColour("blue", "#3b67a8", 0.6), NamedColour("white", "#f4f4f2", 0.4),
        ],
        context=context,
        vector=Q.copy(),
    )


def style_of(vecs: np.ndarray, names=("modern", "rustic")) -> np.ndarray:
    """Deterministic style probabilities from the vector: modern leans on dimension 1."""
    m = np.clip(0.5 + 0.5 * vecs[:, 1], 0.0, 1.0)
    cols = {"modern": m, "rustic": 1 - m}
    return np.stack([cols[n] for n in names], axis=1)


def _no_diversity(**kw) -> RankConfig:
    return RankConfig(diversity=0.0, **kw)


@pytest.fixture
def mixed(tmp_path):
    """Twelve distinct products over four categories, cosines 0.9 … 0.35."""
    cats = ["vase", "bowl", "lamp", "mirror"]
    colours = [("blue",), ("yellow",), ("white",), ("teal",), ()]
    dirs = _spread(12)
    items = [
        (_rec(f"p{i}", cats[i % 4], colours[i % 5]), _vec(0.9 - 0.05 * i, dirs[i]))
        for i in range(12)
    ]
    return _index(tmp_path, items)


# -- the ranker ---------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 5, 12, 40])
def test_at_most_k_without_duplicates(mixed, k):
    recs = Ranker().rank(_scene(), mixed, k, style_of=style_of)
    assert len(recs) == min(k, 12)
    assert len({r.record.id for r in recs}) == len(recs)


def test_sorted_by_score(mixed):
    recs = Ranker().rank(_scene(), mixed, 8, style_of=style_of)
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("weights", [
    RankWeights(),
    RankWeights(similarity=2, room=1, colour=1, style=0),
    RankWeights(similarity=0, room=0, colour=3, style=1),
])
def test_score_is_weight_normalised_sum_of_factors(mixed, weights):
    recs = Ranker(RankConfig(weights=weights)).rank(_scene(), mixed, 6, style_of=style_of)
    for r in recs:
        assert set(r.factors) >= {"similarity", "room", "colour", "style", "cosine"}
        assert "appearance" not in r.factors  # no appearance space in this index
        for name in ("similarity", "room", "colour", "style"):
            assert 0.0 <= r.factors[name] <= 1.0 + 1e-6
        # weights of factors that aren't available are left out, the rest renormalised
        w = {n: v for n, v in weights.model_dump().items() if n in r.factors}
        if sum(w.values()) == 0:  # the defaults rank by appearance: without it, the text weights
            w = {n: v for n, v in TEXT_WEIGHTS.model_dump().items() if n in r.factors}
        total = sum(w.values())
        expected = sum(r.factors[n] * w[n] / total for n in w)
        assert r.score == pytest.approx(expected, abs=1e-3)


def test_similarity_factor_follows_cosine(mixed):
    recs = Ranker(RankConfig(weights=RankWeights(similarity=1, room=0, colour=0, style=0), diversity=0)).rank(
        _scene(), mixed, 12, style_of=style_of)
    assert [r.record.id for r in recs] == [f"p{i}" for i in range(12)]
    # similarity is the cosine's percentile among the catalog (here all 12 products)
    assert recs[0].factors["similarity"] == pytest.approx(1.0)
    assert recs[-1].factors["similarity"] == pytest.approx(1 / 12, abs=1e-4)
    assert recs[0].factors["cosine"] == pytest.approx(0.9, abs=1e-3)


def test_similarity_does_not_depend_on_filters(mixed):
    ranker = Ranker(RankConfig(diversity=0))
    everything = {r.record.id: r for r in ranker.rank(_scene(), mixed, 12, style_of=style_of)}
    lamps = ranker.rank(_scene(), mixed, 12, style_of=style_of, filters=Filters.parse(category=["lamp"]))
    for r in lamps:
        assert r.factors["similarity"] == everything[r.record.id].factors["similarity"]
        assert r.score == everything[r.record.id].score


def test_filters_are_respected(mixed):
    recs = Ranker().rank(_scene(), mixed, 10, style_of=style_of, filters=Filters.parse(category=["lamp"]))
    assert recs and {r.record.category for r in recs} == {"lamp"}
    assert len(recs) == 3  # p2, p6, p10
    none = Ranker().rank(_scene(), mixed, 10, style_of=style_of, filters=Filters.parse(where=["id=nope"]))
    assert none == []


def test_near_identical_products_not_both_picked(tmp_path):
    d = _spread(6, seed=1)
    a = _vec(0.9, d[0])
    twin = a + 0.05 * _vec(0.0, d[1])
    twin /= np.linalg.norm(twin)
    assert float(a @ twin) >= 0.98
    items = [(_rec("a", "vase"), a), (_rec("a-twin", "bowl"), twin)] + [
        (_rec(f"o{i}", "lamp" if i % 2 else "mirror"), _vec(0.6, d[i + 2])) for i in range(4)
    ]
    idx = _index(tmp_path, items)
    recs = Ranker(_no_diversity()).rank(_scene(), idx, 3, style_of=style_of)
    ids = [r.record.id for r in recs]
    assert len(ids) == 3
    assert not {"a", "a-twin"} <= set(ids)
    # with nothing else left, the twin may fill the list
    only = _index(tmp_path / "only", [(_rec("a", "vase"), a), (_rec("a-twin", "bowl"), twin)])
    assert len(Ranker(_no_diversity()).rank(_scene(), only, 2, style_of=style_of)) == 2


def test_category_cap_holds_when_other_categories_exist(tmp_path):
    d = _spread(8, seed=2)
    items = [(_rec(f"v{i}", "vase"), _vec(0.9 - 0.02 * i, d[i])) for i in range(5)]
    items += [(_rec("b", "bowl"), _vec(0.5, d[5])), (_rec("l", "lamp"), _vec(0.45, d[6]))]
    idx = _index(tmp_path, items)
    recs = Ranker(_no_diversity(max_per_category=2)).rank(_scene(), idx, 4, style_of=style_of)
    cats = [r.record.category for r in recs]
    assert len(recs) == 4 and cats.count("vase") == 2
    assert {"bowl", "lamp"} <= set(cats)


def test_category_cap_yields_when_only_one_category(tmp_path):
    d = _spread(6, seed=3)
    idx = _index(tmp_path, [(_rec(f"v{i}", "vase"), _vec(0.9 - 0.05 * i, d[i])) for i in range(6)])
    recs = Ranker(_no_diversity(max_per_category=2)).rank(_scene(), idx, 5, style_of=style_of)
    assert len(recs) == 5


def test_category_cap_still_fills_k_when_other_categories_run_out(tmp_path):
    # One bowl and many vases: after the bowl, only vases are left, so they must fill k.
    d = _spread(6, seed=4)
    items = [(_rec(f"v{i}", "vase"), _vec(0.9 - 0.02 * i, d[i])) for i in range(5)]
    items.append((_rec("b", "bowl"), _vec(0.4, d[5])))
    idx = _index(tmp_path, items)
    recs = Ranker(_no_diversity(max_per_category=1)).rank(_scene(), idx, 3, style_of=style_of)
    ids = [r.record.id for r in recs]
    assert len(ids) == 3
    assert "b" in ids and "v0" in ids  # the bowl got its slot; the best vase is kept


def test_room_factor_prefers_bed_in_a_bedroom(tmp_path):
    d = _spread(2, seed=5)
    items = [(_rec("stand", "umbrella stand"), _vec(0.7, d[0])), (_rec("bed", "bed"), _vec(0.7, d[1]))]
    idx = _index(tmp_path, items)
    flat = lambda v, names: np.full((len(v), len(names)), 0.5)  # noqa: E731 - same style for both
    # the room factor weighs here (the defaults rank by appearance, or text similarity alone)
    ranker = Ranker(RankConfig(weights=RankWeights(similarity=0.5, room=0.5, appearance=0.0)))
    recs = ranker.rank(_scene("bedroom"), idx, 2, style_of=flat)
    assert [r.record.id for r in recs] == ["bed", "stand"]
    bed, stand = recs
    assert bed.factors["room"] == pytest.approx(1.0) and stand.factors["room"] == pytest.approx(0.2)
    assert bed.factors["colour"] == stand.factors["colour"]
    # …and the other way round in a hallway
    recs = ranker.rank(_scene("hallway"), idx, 2, style_of=flat)
    assert recs[0].record.id == "stand"


def test_room_factor_averages_over_room_probabilities(tmp_path):
    idx = _index(tmp_path, [(_rec("bed", "bed"), _vec(0.7, 1)), (_rec("x", "unknown thing"), _vec(0.7, 2))])
    scene = _scene({r: 0.0 for r in ROOMS} | {"bedroom": 0.5, "hallway": 0.5})
    recs = {r.record.id: r for r in Ranker().rank(scene, idx, 2, style_of=style_of)}
    assert recs["bed"].factors["room"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.2)
    assert recs["x"].factors["room"] == pytest.approx(0.5)  # no prior: neutral


def test_colour_factor(tmp_path):
    d = _spread(4, seed=6)
    items = [
        (_rec("match", "vase", ("blue",)), _vec(0.7, d[0])),
        (_rec("clash", "vase", ("teal",)), _vec(0.7, d[1])),
        (_rec("unknown", "vase", ()), _vec(0.7, d[2])),
        (_rec("multi", "vase", ("multicolor",)), _vec(0.7, d[3])),
    ]
    idx = _index(tmp_path, items)
    scene = _scene(colours=[NamedColour("blue", "#3b67a8", 0.8), NamedColour("white", "#f4f4f2", 0.2)])
    recs = {r.record.id: r for r in Ranker().rank(scene, idx, 4, style_of=style_of)}
    assert recs["match"].factors["colour"] > recs["clash"].factors["colour"]
    assert recs["match"].factors["colour"] == pytest.approx(0.8 * 1.0 + 0.2 * 0.8, abs=1e-3)
    assert recs["unknown"].factors["colour"] == 0.5
    assert recs["multi"].factors["colour"] == 0.5  # no representative value: unknown, not grey
    no_colours = {r.record.id: r for r in Ranker().rank(_scene(colours=[]), idx, 4, style_of=style_of)}
    assert all(r.factors["colour"] == 0.5 for r in no_colours.values())


def test_style_factor_is_one_when_distributions_agree(tmp_path):
    idx = _index(tmp_path, [(_rec("a"), _vec(0.7, 1)), (_rec("b", "bowl"), _vec(0.7, 2))])
    scene = _scene()
    same = lambda v, names: np.tile([scene.style[n] for n in names], (len(v), 1))  # noqa: E731
    recs = Ranker().rank(scene, idx, 2, style_of=same)
    assert all(r.factors["style"] == pytest.approx(1.0, abs=1e-4) for r in recs)
    opposite = lambda v, names: np.tile([{"modern": 0.0, "rustic": 1.0}[n] for n in names], (len(v), 1))  # noqa: E731
    recs = Ranker().rank(scene, idx, 2, style_of=opposite)
    assert all(r.factors["style"] == pytest.approx(np.sqrt(0.3), abs=1e-3) for r in recs)


def test_style_columns_are_matched_by_name_not_position(tmp_path):
    idx = _index(tmp_path, [(_rec("a"), _vec(0.7, 1))])
    scene = _scene()
    scene.style = {"rustic": 0.8, "modern": 0.2}  # best first, unlike the analyser's prompt order
    product = {"modern": 0.9, "rustic": 0.1}
    by_name = lambda v, names: np.tile([product[n] for n in names], (len(v), 1))  # noqa: E731
    rec = Ranker().rank(scene, idx, 1, style_of=by_name)[0]
    expected = np.sqrt(0.8 * 0.1) + np.sqrt(0.2 * 0.9)
    assert rec.factors["style"] == pytest.approx(expected, abs=1e-4)


def test_reasons_are_single_non_empty_lines(mixed):
    for scene in (_scene(), _scene("outdoor", context="a cosy\nreading corner"), _scene(colours=[])):
        for r in Ranker().rank(scene, mixed, 12, style_of=style_of):
            assert r.reason.strip() and "\n" not in r.reason and "\r" not in r.reason
            assert r.reason[0].isupper()


def test_empty_index_gives_nothing(tmp_path):
    idx = VectorIndex.create(tmp_path / "e", model_id="m", dim=DIM, encoder={})
    assert Ranker().rank(_scene(), idx, 5, style_of=style_of) == []


# -- explanations -------------------------------------------------------------------------

def _factors(**kw) -> dict[str, float]:
    base = {"similarity": 0.0, "room": 0.0, "colour": 0.0, "style": 0.0, "cosine": 0.3}
    base.update(kw)
    return base


@pytest.mark.parametrize("word, plural", [
    ("shelf", "shelves"), ("vase", "vases"), ("box", "boxes"), ("bench", "benches"),
    ("bookends", "bookends"), ("wall art", "wall art pieces"), ("toy", "toys"),
    ("candle holder", "candle holders"), ("lighting", "lights"),
])
def test_plural(word, plural):
    assert _plural(word) == plural


def test_explain_room_phrase_uses_plural():
    text = explain(_rec("s", "shelf"), _factors(room=0.9), _scene("kitchen"))
    assert text == "Shelves suit a kitchen"


def test_explain_outdoor_reads_as_english():
    text = explain(_rec("p", "planter"), _factors(room=1.0), _scene("outdoor"))
    assert "a outdoor" not in text
    assert text == "Planters suit an outdoor space"


def test_explain_colour_echoes_a_near_identical_colour():
    scene = _scene(colours=[NamedColour("white", "#f4f4f2", 0.7), NamedColour("navy", "#1f2b4a", 0.3)])
    text = explain(_rec("n", "vase", ("navy",)), _factors(colour=0.9), scene)
    assert text == "Its navy echoes the room's navy"


def test_explain_colour_goes_with_a_harmonious_one():
    scene = _scene(colours=[NamedColour("blue", "#3b67a8", 1.0)])
    text = explain(_rec("y", "vase", ("yellow",)), _factors(colour=0.8), scene)
    assert text == "Its yellow goes with the room's blue"


def test_explain_orders_by_strength_and_caps_at_three():
    text = explain(
        _rec("l", "lamp", ("blue",)),
        _factors(similarity=0.7, cosine=0.41, room=1.0, colour=0.8, style=0.95),
        _scene("bedroom", context="cosy"),
    )
    parts = text.split("; ")
    assert len(parts) == 3
    assert parts[0] == "Lamps suit a bedroom"
    assert parts[1] == "fits the modern style"
    assert "blue" in parts[2] and "close match" not in text


def test_explain_without_a_strong_signal_says_so():
    text = explain(_rec("x", None), _factors(similarity=0.3, room=0.5, colour=0.55, style=0.2), _scene())
    assert text.startswith("Best available on colour (0.55)")


# -- room priors --------------------------------------------------------------------------

# Categories the normaliser can produce that are deliberately left neutral (0.5 everywhere).
NEUTRAL_CATEGORIES: frozenset[str] = frozenset()


def test_room_affinity_covers_all_rooms():
    for cat in known_categories():
        aff = room_affinity(cat)
        assert aff is not None and set(aff) == set(ROOMS)
        assert set(aff.values()) <= {1.0, 0.6, 0.2}
        assert max(aff.values()) == 1.0, f"{cat} is at home nowhere"


def test_room_affinity_unknown_is_none():
    assert room_affinity("spaceship") is None
    assert room_affinity(None) is None
    assert room_affinity("") is None


def test_priors_name_only_known_rooms():
    for cat, (high, mid) in _AFFINITY.items():
        assert set(high) | set(mid) <= set(ROOMS), cat
        assert not set(high) & set(mid), cat


def test_every_normaliser_category_has_a_prior():
    produced = set(V.CATEGORIES.values()) | {V.FIGURE_CATEGORY, V.OBJECT_CATEGORY}
    missing = produced - set(known_categories()) - NEUTRAL_CATEGORIES
    assert not missing, f"categories without a room prior: {sorted(missing)}"
    assert NEUTRAL_CATEGORIES <= produced  # the allow-list holds no stale names


@pytest.mark.parametrize("cat, home", [
    ("candle", "living room"), ("ottoman", "living room"), ("room divider", "living room"),
    ("bed", "bedroom"), ("umbrella stand", "hallway"), ("kitchenware", "kitchen"),
])
def test_some_priors_are_sensible(cat, home):
    assert room_affinity(cat)[home] == 1.0


def test_appearance_retrieves_and_ranks_products_that_look_like_a_region(tmp_path):
    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=DIM, encoder={}, appearance_dim=3)
    d = _spread(30, seed=9)
    items = [(_rec(f"t{i}", "vase"), _vec(0.8 - 0.01 * i, d[i])) for i in range(25)]
    hidden = (_rec("look", "vase"), _vec(-0.5, d[25]))  # text far from the scene: not in text top-k
    records = [r for r, _ in items] + [hidden[0], _rec("nophoto", "vase")]
    vectors = np.stack([v for _, v in items] + [hidden[1], _vec(0.1, d[26])])
    rng = np.random.default_rng(3)
    looks = {r.id: (lambda v: v / np.linalg.norm(v))(rng.normal(size=3).astype(np.float32)) for r in records[:25]}
    looks["look"] = np.array([0, 0, 1], np.float32)
    idx.upsert(records, vectors, looks)
    scene = _scene()
    scene.regions = np.array([[1, 0, 0], [0, 0, 1]], np.float32)  # the second region shows "look"
    cfg = RankConfig(candidates=5, weights=_only_weights(appearance=1.0), diversity=0)
    recs = Ranker(cfg).rank(scene, idx, 3, style_of=style_of)
    assert recs[0].record.id == "look"
    assert recs[0].factors["appearance"] == pytest.approx(1.0)
    everything = Ranker(RankConfig(candidates=100, weights=_only_weights(appearance=1.0))).rank(
        scene, idx, 27, style_of=style_of)
    assert {r.record.id: r.factors["appearance"] for r in everything}["nophoto"] == 0.5
    scene.regions = None  # an encoder without appearance: the factor is simply absent
    assert all("appearance" not in r.factors for r in Ranker(cfg).rank(scene, idx, 3, style_of=style_of))


def _only_weights(**w):
    return RankWeights(**{"similarity": 0.0, "room": 0.0, "colour": 0.0, "style": 0.0, "appearance": 0.0, **w})


def test_explain_mentions_a_strong_appearance_match():
    text = explain(_rec("a", "vase"), _factors(appearance=0.97), _scene())
    assert text == "Its photo resembles part of the scene (top 3% of photos)"
    assert "photo" not in explain(_rec("a", "vase"), _factors(appearance=0.5, room=1.0), _scene("bedroom"))


@pytest.mark.parametrize("with_adapter", [False, True])
def test_ranker_scores_appearance_through_the_adapter(tmp_path, with_adapter):
    """A region that matches product "b" only once the clutter dimension is damped."""
    from scenefit.embed import l2_normalize
    from scenefit.learn import AppearanceAdapter

    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=DIM, encoder={}, appearance_dim=3)
    records = [_rec("a"), _rec("b")]
    looks = {"a": np.array([1, 0, 0], np.float32), "b": np.array([0, 1, 0], np.float32)}
    idx.upsert(records, np.eye(DIM, dtype=np.float32)[:2], looks)
    scene = _scene()
    scene.regions = l2_normalize(np.array([[0.8, 0.6, 0]], np.float32))  # closer to "a" as is
    damp_x = np.diag([-0.9, 0, 0]).astype(np.float32)  # x ↦ x + x·A damps the first dimension
    adapter = AppearanceAdapter(damp_x) if with_adapter else None
    weights = RankWeights(similarity=0, room=0, colour=0, style=0, appearance=1)
    timings: dict[str, float] = {}
    recs = Ranker(RankConfig(weights=weights, diversity=0), adapter).rank(scene, idx, 2, style_of=style_of,
                                                                          timings=timings)
    assert recs[0].record.id == ("b" if with_adapter else "a")
    # the adapter's projection is timed apart from the search; without one there is none to time
    assert set(timings) == {"filter", "search", "appearance"} | ({"adapter"} if with_adapter else set())
    assert all(seconds >= 0 for seconds in timings.values())


@pytest.mark.parametrize("with_adapter", [False, True])
def test_ranker_retrieves_candidates_through_the_adapter(tmp_path, with_adapter):
    """Product "b" is the region's match once the clutter dimension is damped, but 20 others
    are nearer to the raw region: only a search through the adapter brings it into the pool."""
    from scenefit.embed import l2_normalize
    from scenefit.learn import AppearanceAdapter

    n = 21
    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=DIM, encoder={}, appearance_dim=3)
    records = [_rec("b")] + [_rec(f"x{i}", category=f"c{i}") for i in range(n - 1)]
    rng = np.random.default_rng(0)
    looks = {"b": np.array([0, 1, 0], np.float32)}
    for i in range(n - 1):  # mostly clutter, a little of the region's other direction
        looks[f"x{i}"] = l2_normalize(np.array([1, 0.3, 0.1 * rng.normal()], np.float32))
    # the text-side search (scene vector Q) must not find "b" either
    idx.upsert(records, np.stack([np.eye(DIM, dtype=np.float32)[1]] + [_vec(0.9, j % (DIM - 1) + 1)
                                                                       for j in range(n - 1)]), looks)
    scene = _scene()
    scene.regions = l2_normalize(np.array([[0.8, 0.6, 0]], np.float32))
    adapter = AppearanceAdapter(np.diag([-0.95, 0, 0]).astype(np.float32)) if with_adapter else None
    config = RankConfig(candidates=1, weights=RankWeights(similarity=0, room=0, colour=0, style=0, appearance=1),
                        diversity=0)
    pool = Ranker(config, adapter).pool(scene, idx, 1, style_of=style_of)  # 5 candidates per search
    assert ("b" in [r.id for r in pool.records]) is with_adapter
    if with_adapter:
        assert Ranker(config, adapter).rank(scene, idx, 1, style_of=style_of)[0].record.id == "b"


def test_factor_names_are_the_weight_fields_and_the_pool_keys():
    from scenefit.rank import COSINE, Factor, RankWeights

    assert list(RankWeights.model_fields) == [f.value for f in Factor] and COSINE not in set(Factor)
    assert RankWeights(**{Factor.ROOM: 1.0}).room == 1.0


def test_a_product_whose_second_photo_matches_a_region_scores_by_that_photo(tmp_path):
    """Several photos per product: retrieval and the appearance factor take the best photo,
    filtered searches included."""
    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=DIM, encoder={}, appearance_dim=3)
    d = _spread(30, seed=4)
    rng = np.random.default_rng(5)

    def unit(v):
        return (v / np.linalg.norm(v)).astype(np.float32)

    fillers = [(_rec(f"t{i}", "vase"), _vec(0.8 - 0.01 * i, d[i])) for i in range(20)]
    looks = {r.id: unit(np.array([1, 1, 0]) + 0.3 * rng.normal(size=3)) for r, _ in fillers}
    # Both far from the scene's text: only their photos can bring them in.
    second, plain = _rec("second", "lamp"), _rec("plain", "lamp")
    looks["second"] = np.stack([unit(np.array([1.0, -1.0, 0.0])), np.array([0, 0, 1], np.float32)])
    looks["plain"] = unit(np.array([1.0, -1.0, 0.0]))
    idx.upsert([r for r, _ in fillers] + [second, plain],
               np.stack([v for _, v in fillers] + [_vec(-0.5, d[25]), _vec(-0.5, d[26])]), looks)
    idx.save()
    idx = VectorIndex.open(tmp_path / "ix")
    scene = _scene()
    scene.regions = np.array([[0, 0, 1], [0.2, 0.1, 0.97]], np.float32)
    cfg = RankConfig(candidates=5, weights=_only_weights(appearance=1.0), diversity=0)
    for filters in (None, Filters(category=["lamp"])):
        recs = Ranker(cfg).rank(scene, idx, 3, style_of=style_of, filters=filters)
        assert recs[0].record.id == "second", filters
        assert recs[0].factors["appearance"] == pytest.approx(1.0)
    everything = {r.record.id: r for r in Ranker(RankConfig(candidates=100, weights=_only_weights(appearance=1.0),
                                                            diversity=0)).rank(scene, idx, 22, style_of=style_of)}
    assert everything["second"].score > everything["plain"].score
    assert everything["plain"].factors["appearance"] < 0.5


def test_equal_scores_are_ordered_by_cosine_then_id_whatever_order_the_candidates_came_in():
    from scenefit.rank import Pool

    recs = [_rec(i, category=f"c{i}") for i in ("b", "a", "c", "d")]
    vecs = np.stack([_vec(0.5, d) for d in _spread(4, seed=2)])
    sims = np.array([0.30, 0.30, 0.35, 0.10], np.float32)
    scores = np.array([1.0, 1.0, 1.0, 0.5])  # a saturated percentile: three ties at the top
    ranker = Ranker(RankConfig(diversity=0.0))
    expected = ["c", "a", "b", "d"]  # the higher cosine first; equal cosines by id
    for perm in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        pool = Pool([recs[i] for i in perm], vecs[perm], sims[perm], {})
        order = ranker.order(pool, scores[perm], 4)
        assert [pool.records[i].id for i in order] == expected
