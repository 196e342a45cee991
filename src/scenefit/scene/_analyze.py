"""Scene analysis: room type, style and palette, and the query vector for retrieval."""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
from scipy.special import softmax
from PIL import Image
from pydantic import BaseModel, Field

from .._types import FITTED, ZERO_SHOT, SceneAnalysis, SceneEmbedding
from ..embed import Box, DenseAppearanceEncoder, Encoder, EncoderCapabilities, l2_normalize
from ..images import centre, grid
from ..taxonomy import ROOMS, STYLES, require_rooms, require_styles
from ._cache import SceneCache, scene_cache_key
from ._palette import dominant_colours, palette_distribution
from ._rooms import RoomClassifier, classified_rooms
from ._windows import DENSE_SHORT_SIDE, window_means

# Several phrasings per class, averaged: zero-shot text prompts are noisy one by one. Room
# prompts name the furniture that makes each room what it is: the offline encoder reads a
# photo through the objects it recognises, so objects are what its scene vectors can match.
# The keys are the rooms and styles of scenefit.taxonomy, every one of them, in its order
# (checked below).
ROOM_PROMPTS: dict[str, tuple[str, ...]] = {
    "living room": ("a living room with a sofa, an armchair and a coffee table",
                    "a lounge with a couch, cushions, a rug and a television"),
    "bedroom": ("a bedroom with a double bed, pillows and a duvet", "a bed with a bedside table and a wardrobe"),
    "dining room": ("a dining room with a dining table and chairs", "a table set for dinner with plates and glasses"),
    "kitchen": ("a kitchen with cabinets, an oven and a sink", "a kitchen worktop with a refrigerator and a stove"),
    "home office": ("a home office with a desk, an office chair and a computer",
                    "a workspace with a desk lamp and bookshelves"),
    "bathroom": ("a bathroom with a bathtub and a washbasin", "a shower, a toilet and towels"),
    "kids room": ("a children's room with toys and a small bed", "a nursery with a crib and stuffed toys"),
    "hallway": ("an entrance hallway with a coat rack and a mirror", "a hall with shoes, coats and a front door"),
    "outdoor": ("an outdoor patio with garden furniture and plants", "a balcony or garden terrace outside"),
    "laundry room": ("a laundry room with a washing machine and a dryer",
                     "a utility room with laundry baskets and an ironing board"),
}

STYLE_PROMPTS: dict[str, tuple[str, ...]] = {
    "modern": ("a modern interior", "sleek modern furniture"),
    "contemporary": ("a contemporary interior", "contemporary home decor"),
    "scandinavian": ("a scandinavian interior with light wood", "nordic minimalist decor"),
    "industrial": ("an industrial loft interior with metal and brick", "industrial style decor"),
    "bohemian": ("a bohemian interior with plants and patterns", "boho decor"),
    "traditional": ("a traditional classic interior", "classic antique furniture"),
    "mid-century modern": ("a mid-century modern interior", "retro mid-century furniture"),
    "rustic": ("a rustic farmhouse interior with natural wood", "rustic decor"),
    "coastal": ("a coastal beach house interior", "nautical seaside decor"),
    "glam": ("a glamorous interior with gold and velvet", "luxurious glam decor"),
}
require_rooms(ROOM_PROMPTS, "scene room prompts")
require_styles(STYLE_PROMPTS, "scene style prompts")
if tuple(ROOM_PROMPTS) != ROOMS or tuple(STYLE_PROMPTS) != STYLES:
    raise ValueError("scene prompts: one prompt group per declared room and style, in scenefit.taxonomy's order")


class SceneConfig(BaseModel):
    """How a scene photo is analysed and turned into a query."""

    regional: bool = Field(True, description="Also embed four quadrant crops and a centre crop of the scene.")
    context_weight: float = Field(0.6, ge=0, le=5, description="Weight of the --context text in the query vector.")
    temperature: float | None = Field(
        None, gt=0,
        description="Softmax temperature over prompt similarities (room, style); "
        "default: the encoder's own (CLIP: its learned scale).",
    )
    colours: int = Field(6, ge=1, le=16, description="Clusters for dominant-colour k-means.")
    regions: Literal["crops", "dense"] = Field(
        "dense", description="How product photos are matched against the scene: dense (one pass "
        "over the photo at a higher resolution, its feature map averaged over a few hundred "
        "windows, the views read from the same pass: the better matching) or crops (the whole "
        "photo and 2×2 and 3×3 crops through the network one by one: a shorter scene encoding). "
        "Dense needs an encoder with a dense appearance space; others match on crops.")


def _prompt_matrix(encoder: Encoder, prompts: dict[str, tuple[str, ...]]) -> np.ndarray:
    flat = [p for group in prompts.values() for p in group]
    vecs = encoder.encode_texts(flat)
    out, i = [], 0
    for group in prompts.values():
        out.append(vecs[i : i + len(group)].mean(axis=0))
        i += len(group)
    return l2_normalize(np.stack(out))


_MIN_REGIONAL_SIDE = 128


class SceneAnalyzer:
    """Embeds class prompts once at construction; each ``analyze`` call is one image pass."""

    def __init__(self, encoder: Encoder, config: SceneConfig | None = None, room_model: RoomClassifier | None = None):
        self.encoder = encoder
        #: what the encoder can do beyond :class:`Encoder`, read once
        self.capabilities = EncoderCapabilities.of(encoder)
        self.config = config or SceneConfig()
        #: fitted on labelled scenes (``scenefit fit``) from appearance regions; replaces the
        #: zero-shot room prompts
        self.room_model = room_model if self.capabilities.appearance is not None else None
        self.rooms = list(ROOM_PROMPTS)
        self.styles = list(STYLE_PROMPTS)
        self.temperature = self.config.temperature or encoder.similarity_temperature
        self.room_vectors = _prompt_matrix(encoder, ROOM_PROMPTS)
        self.style_vectors = _prompt_matrix(encoder, STYLE_PROMPTS)

    def embed_scene(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
        """The query vector and, with an appearance space, the regions' appearance vectors
        (whole photo, 2×2 and 3×3 crops) — from one model pass where the backend allows."""
        # Crops of a small photo are too small to say anything on their own.
        big = min(image.size) >= _MIN_REGIONAL_SIDE
        quads = grid(image, 2) if big else []
        middle = [centre(image)] if big and self.config.regional else []
        nine = grid(image, 3) if big else []
        images = [image, *quads, *middle, *nine]
        bridge = [True, *([self.config.regional] * len(quads)), *([True] * len(middle)), *([False] * len(nine))]
        # Products are small in a room photo: compare product photos with regions of it.
        regions = [True, *([True] * len(quads)), *([False] * len(middle)), *([True] * len(nine))]
        vecs, looks = self.capabilities.encode_with_appearance(images, vectors=bridge, appearance=regions, scene=True)
        return _blend([vecs[i] for i in sorted(vecs)]), (
            np.stack([looks[i] for i in sorted(looks)]).astype(np.float32) if looks else None)

    def one_pass(self, dense: DenseAppearanceEncoder, image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense regions from one pass over the photo: the query vector and the regions'
        appearance vectors of ``embed_scene`` (the same views, read as boxes of the pass's
        feature map instead of crops through the network one by one) and the windows.

        The whole photo's own vector still comes from the network's input size (one small
        image beside the large pass): read from the large pass, the classifier sees parts of
        objects rather than a room, and zero-shot room types suffer (docs/quality.md)."""
        scan = dense.scene_pass(image, DENSE_SHORT_SIDE, _VIEW_BOXES)
        whole = self.capabilities.encode_with_appearance([image], vectors=[True], appearance=[False], scene=True)[0][0]
        parts = scan.vectors[_QUERY_VIEWS] if self.config.regional else []
        windows = dense.appearance_vectors(window_means(scan.feature_map))
        return _blend([whole, *parts]), scan.looks[_REGION_VIEWS].astype(np.float32), windows

    def style_distribution(self, vectors: np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
        """(n, styles) style probabilities for any vectors in the encoder's space, columns in
        ``names`` order (default: :data:`STYLE_PROMPTS` order)."""
        sims = np.atleast_2d(vectors) @ self.style_vectors.T
        probs = softmax(sims / self.temperature, axis=1)
        if names is None:
            return probs
        return probs[:, [self.styles.index(n) for n in names]]

    def embed_cached(self, image: Image.Image, cache: SceneCache | None, digest: str | None) -> SceneEmbedding:
        """:meth:`embed`, through ``cache`` when there is one. What makes scene vectors and the
        analysis settings are part of the key: another index, runtime precision or config must
        never be served this one's embedding."""
        if cache is None or digest is None:
            return self.embed(image)
        key = scene_cache_key(self.capabilities.scene_model_id, self.config, digest)
        embedding = cache.get(key)
        if embedding is None:
            embedding = self.embed(image)
            cache.put(key, embedding)
        return embedding

    def dense_windows(self, image: Image.Image) -> np.ndarray | None:
        """Appearance vectors of the dense windows of one higher-resolution pass over the
        photo; None when the encoder has no dense appearance space."""
        dense = self.capabilities.dense
        if dense is None:
            return None
        return dense.appearance_vectors(window_means(dense.scene_feature_map(image, DENSE_SHORT_SIDE)))

    def embed(self, image: Image.Image) -> SceneEmbedding:
        """The context-free, expensive part of an analysis (one model pass and colour k-means)."""
        dense = self.capabilities.dense if self.config.regions == "dense" else None  # else crops: regions_for
        if dense is not None:
            vec, regions, windows = self.one_pass(dense, image)
        else:
            (vec, regions), windows = self.embed_scene(image), None
        return SceneEmbedding(vec.astype(np.float32), regions, dominant_colours(image, self.config.colours), windows)

    def analyze(self, image: Image.Image, context: str | None = None) -> SceneAnalysis:
        return self.interpret(self.embed(image), context)

    def interpret(self, embedding: SceneEmbedding, context: str | None = None) -> SceneAnalysis:
        """Room, style and palette of an embedded scene, with the context text applied."""
        vec, regions, colours = embedding.vector, embedding.regions, embedding.colours
        context = (context or "").strip() or None
        if context:
            ctx = self.encoder.encode_texts([context])[0]
            vec = l2_normalize(vec + self.config.context_weight * ctx)
        t = self.temperature
        room = softmax(self.room_vectors @ vec / t)
        style = softmax(self.style_vectors @ vec / t)
        room_type, room_source = _as_dist(self.rooms, room), ZERO_SHOT
        if self.room_model is not None and regions is not None:
            room_type, room_source = classified_rooms(self.room_model, regions), FITTED
            if context:  # the text context still counts: average with the prompt reading
                zero_shot = dict(zip(self.rooms, room.tolist()))
                names = sorted(set(room_type) | set(zero_shot))
                mixed = np.array([0.5 * room_type.get(n, 0.0) + 0.5 * zero_shot.get(n, 0.0) for n in names])
                room_type = _as_dist(names, mixed / mixed.sum())
        return SceneAnalysis(
            room_type=room_type,
            room_source=room_source,
            style=_as_dist(self.styles, style),
            palette=palette_distribution(colours),
            colours=colours,
            context=context,
            vector=vec.astype(np.float32),
            regions=regions,
            windows=embedding.windows,
        )


def regions_for(config: SceneConfig, encoder: Encoder) -> str:
    """The regions a scene is read through with this encoder: ``config``'s, except that dense
    falls back to crops for an encoder without a dense appearance space (what a fitted file
    and a report must record)."""
    if config.regions == "dense" and EncoderCapabilities.of(encoder).dense is None:
        return "crops"
    return config.regions


def _grid_boxes(n: int) -> list[Box]:
    """The n×n boxes of a photo, column by column (as ``images.grid`` crops them)."""
    return [(i / n, j / n, (i + 1) / n, (j + 1) / n) for i in range(n) for j in range(n)]


# The views a scene is read through, as boxes of one pass (``one_pass``), in ``embed_scene``'s
# order: the whole photo, the quadrants, the centre, the ninths. As there, the query blends the
# quadrants and the centre into the whole photo's vector, and every view but the centre is a
# region products are compared with.
_VIEW_BOXES: list[Box] = [(0.0, 0.0, 1.0, 1.0), *_grid_boxes(2), (0.25, 0.25, 0.75, 0.75), *_grid_boxes(3)]
_QUERY_VIEWS = [1, 2, 3, 4, 5]
_REGION_VIEWS = [0, 1, 2, 3, 4, *range(6, len(_VIEW_BOXES))]


def _blend(vecs: list[np.ndarray]) -> np.ndarray:
    """The query vector from the views' vectors, the whole photo's first: it carries half the
    weight, the regions (which bring out smaller objects) the other half."""
    if len(vecs) == 1:
        return vecs[0]
    return l2_normalize(0.5 * vecs[0] + 0.5 * np.mean(vecs[1:], axis=0))


def _as_dist(names: list[str], probs: np.ndarray) -> dict[str, float]:
    pairs = sorted(zip(names, probs.tolist()), key=lambda kv: -kv[1])
    return {n: float(p) for n, p in pairs}
