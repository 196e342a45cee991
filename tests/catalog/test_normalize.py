"""Description normaliser, on real rows of the seed catalog (copied literally)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from scenefit._types import Dimensions
from scenefit.catalog import colour_hex, normalize_description
from scenefit.catalog._vocab import COLOUR_ALIASES
from scenefit.taxonomy import COLOURS as COLOUR_HEX

_CATALOG_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "examples" / "product-catalog.csv",
    Path("/work/shared/seed-data/product-catalog.csv"),
)

# description → (category, materials, colours, dimensions, set_size, assorted)
ROWS = [
    ("8X7X3 RSN TRI GEO ELEPHANT 2/A BLK/WHT", "figurine", ("resin",), ("black", "white"), (8, 7, 3), None, 2),
    ('PAPER MACHE, 10" EARED VASE, IVORY', "vase", ("paper mache",), ("ivory",), (10,), None, None),
    ("GARDEN STOOL, CERAMIC, PEARL SNAKE", "garden stool", ("ceramic",), ("pearl",), None, None, None),
    ("COVERED JAR CERAMIC - PEARL SNAKE", "jar", ("ceramic",), ("pearl",), None, None, None),
    ("GUNMETAL CERAMIC ELEPHANT", "figurine", ("ceramic",), ("gunmetal",), None, None, None),
    ("CERAMIC BOTTLE, GUN METAL", "bottle", ("ceramic",), ("gunmetal",), None, None, None),
    ("CERAMIC COVERED JAR, GREEN MARBLE", "jar", ("ceramic",), ("green",), None, None, None),
    ("CERAMIC MONKEY W/ TRAY FIGURINE, WHITE", "figurine", ("ceramic",), ("white",), None, None, None),
    ("CERAMIC VASE WITH METAL HANDLES, GUN METAL", "vase", ("ceramic", "metal"), ("gunmetal",), None, None, None),
    ("CERAMIC VASE, LIGHT GREEN", "vase", ("ceramic",), ("light green",), None, None, None),
    ("CERAMIC VASE, DARK RED BUTTERFLY", "vase", ("ceramic",), ("dark red",), None, None, None),
    ("CERAMIC COVERED JAR, VIRIDIANGREEN", "jar", ("ceramic",), ("viridian green",), None, None, None),
    ("CERAMIC COVERED JAR, BLUE/BRONZE", "jar", ("ceramic",), ("blue", "bronze"), None, None, None),
    ("CERAMIC CIRCULAR CUTOUT VASE,BLACK", "vase", ("ceramic",), ("black",), None, None, None),
    ('BLACK LIGHTBULB BUD VASE 5"', "vase", (), ("black",), (5,), None, None),
    ("CERAMIC RECTANGULAR VASE, OMBRE ORANGE", "vase", ("ceramic",), ("orange ombre",), None, None, None),
    ("GEO DECORATIVE OBJECT, CERAMIC, GLOSS WHITE", "sculpture", ("ceramic",), ("white",), None, None, None),
    ("SILVER CERAMIC BUDDHA HEAD", "figurine", ("ceramic",), ("silver",), None, None, None),
    ("DECORATIVE CERAMIC PITCHER, BLUE", "tableware", ("ceramic",), ("blue",), None, None, None),
    ('BLUE CERAMIC PUFFER FISH 10"', "figurine", ("ceramic",), ("blue",), (10,), None, None),
    ('CERAMIC BLOWFISH FIGURINE 8", BLUE', "figurine", ("ceramic",), ("blue",), (8,), None, None),
    ("EC, BLUE CERAMIC SEASHELL, CONE", "figurine", ("ceramic",), ("blue",), None, None, None),
    ('WHITE/BLUE CERAMIC CURVE VASE17.5"', "vase", ("ceramic",), ("white", "blue"), (17.5,), None, None),
    ('WHITE/BLUE CERAMIC CURVE VASE11.75"', "vase", ("ceramic",), ("white", "blue"), (11.75,), None, None),
    ("LION WALL DECOR, BRONZE", "wall decor", (), ("bronze",), None, None, None),
    ("BRONZE CERAMIC ROPE KNOT", "sculpture", ("ceramic",), ("bronze",), None, None, None),
    ("GARDEN STOOL, CERAMIC, NAVY", "garden stool", ("ceramic",), ("navy",), None, None, None),
    ("CERAMIC BOOTS UMBRELLA STAND,ORANGE", "umbrella stand", ("ceramic",), ("orange",), None, None, None),
    ("DECORATIVE CERAMIC MINI TEMPLEJAR, GRAY", "jar", ("ceramic",), ("gray",), None, None, None),
    ("DECORATIVE CERAMIC VASE, DISTRESSED GRAY", "vase", ("ceramic",), ("gray",), None, None, None),
    ("S/2 CERAMIC CHESS BOOKENDS, BRONZE", "bookends", ("ceramic",), ("bronze",), None, 2, None),
    ("EC, S/2 BLACK ALLIGATOR BOOKENDS", "bookends", (), ("black",), None, 2, None),
    ('SLEEK COPPER VASE 32.25"', "vase", (), ("copper",), (32.25,), None, None),
    ("DECORATIVE CERAMIC SEA URCHINCOVERED JAR, BEIGE", "jar", ("ceramic",), ("beige",), None, None, None),
    ("DECORATIVE CERAMIC SEA URCHINORB, BEIGE", "sculpture", ("ceramic",), ("beige",), None, None, None),
    ("CANDLEHOLDER, CERAMIC, BEIGE", "candle holder", ("ceramic",), ("beige",), None, None, None),
    ("DECORATIVE CERAMIC SITTING DOGFIGURINE, WHITE", "figurine", ("ceramic",), ("white",), None, None, None),
    ("DECORATIVE CERAMIC VASE, MULTICOLOR", "vase", ("ceramic",), ("multicolor",), None, None, None),
    ("DECORATIVE CERAMIC PLATE, PEARL GRAY", "plate", ("ceramic",), ("pearl gray",), None, None, None),
    ('BRONZE/GRAY STONE VASE 19.75"', "vase", ("stone",), ("bronze", "gray"), (19.75,), None, None),
    ("DECORATIVE CERAMIC VASE, BLUEOMBRE", "vase", ("ceramic",), ("blue ombre",), None, None, None),
    ('BRONZE CERAMIC TEALIGHT HOLDER11.25"', "candle holder", ("ceramic",), ("bronze",), (11.25,), None, None),
    ("3/ASST CERAMIC VOTIVE CANDLE HOLDERS", "candle holder", ("ceramic",), (), None, None, 3),
    ("DECORATIVE CERAMIC VASE, TAN/BROWN/BLACK", "vase", ("ceramic",), ("tan", "brown", "black"), None, None, None),
    ("DECORATIVE CERAMIC PUSSYWILLOWVASE, BLUE", "vase", ("ceramic",), ("blue",), None, None, None),
    ("EIFFEL TOWER COVERED JAR, GRAYGREEN", "jar", (), ("gray green",), None, None, None),
    ('White Basket Weave Jar 16"', "jar", (), ("white",), (16,), None, None),
    ('White Basket Weave Jar 19.25"', "jar", (), ("white",), (19.25,), None, None),
    ("TURQUOISE/GOLD HOLE VASE 15", "vase", (), ("turquoise", "gold"), (15,), None, None),
    ("BLACK/GOLD CANDLE HOLDER 10", "candle holder", (), ("black", "gold"), (10,), None, None),
    ("BABY BLUE PLANTER W/ GOLD EDGE", "planter", (), ("baby blue", "gold"), None, None, None),
    ("LARGE BLACK KNIGHT CHESS PIECE", "chess piece", (), ("black",), None, None, None),
    ("CERAMIC HAMMERED SILVER PLATE12.5", "plate", ("ceramic",), ("silver",), (12.5,), None, None),
    ("TURQUOISE CERAMIC TRAY W/ GOLDEDGE", "tray", ("ceramic",), ("turquoise", "gold"), None, None, None),
    ("DECORATIVE CERAMIC TRAY, LIGHTBLUE", "tray", ("ceramic",), ("light blue",), None, None, None),
    ('ANTIQUE SILVER CERAMIC VASE 7.2"5', "vase", ("ceramic",), ("antique silver",), (7.25,), None, None),
    ("ANTIQUE SILVER CERAMIC VASE 9", "vase", ("ceramic",), ("antique silver",), (9,), None, None),
    ("CERAMIC PHOTO FRAME, ANTIQUE WHITE", "photo frame", ("ceramic",), ("antique white",), None, None, None),
    ('10”, NAVY BLUE CERAMIC SEATED BUDDHA', "figurine", ("ceramic",), ("navy",), (10,), None, None),
    ("SILVER CERAMIC @ SYMBOL", "sculpture", ("ceramic",), ("silver",), None, None, None),
    ("GOLD WIRE WALL DECOR 31.75", "wall decor", ("metal",), ("gold",), (31.75,), None, None),
    ('WALL ART, "LOVE", WOOD, NATURAL', "wall art", ("wood",), ("natural",), None, None, None),
    ("GOLD CIRCLES WALL ART, NATURALWOOD FRAME", "wall art", ("wood",), ("gold", "natural wood"), None, None, None),
    ("GOLD HORSESHOE TABLE SCULPTURE", "sculpture", (), ("gold",), None, None, None),
    ("METAL TRI SUPPORT ACCENT TABLE, GOLD", "table", ("metal",), ("gold",), None, None, None),
    ("METAL COAT RACK, ANTIQUE GOLD", "coat rack", ("metal",), ("antique gold",), None, None, None),
    ("METAL CIRCLE SCULPTURE MIRROR,GOLD", "mirror", ("metal",), ("gold",), None, None, None),
    ("METAL WALL SHELF/ORGANIZER, GRAY", "shelf", ("metal",), ("gray",), None, None, None),
    ("RUSTIC WOOD DRESSER, NATURAL", "dresser", ("wood",), ("natural",), None, None, None),
    ("METAL GEO FRAME MIRROR, GOLD,WINDOW BOX", "mirror", ("metal",), ("gold",), None, None, None),
    ("S/2 ROUND METAL ACCENT TABLES, WOOD TOP", "table", ("metal", "wood"), (), None, 2, None),
    ('DIMPLED GOLD VASE W/ HANDLES 11.75"', "vase", (), ("gold",), (11.75,), None, None),
    ("S/2 WOOD/METAL BAR CART & TABLE", "cart", ("wood", "metal"), (), None, 2, None),
    ("METAL WALL ORGANIZER: BASKETS/HOOKS", "organizer", ("metal",), (), None, None, None),
    ("ALUMINUM SPLIT GLOBE WALL ART,WOOD FRAME", "wall art", ("aluminum", "wood"), (), None, None, None),
]


@pytest.mark.parametrize("desc, category, materials, colours, dims, set_size, assorted", ROWS)
def test_seed_rows(desc, category, materials, colours, dims, set_size, assorted):
    p = normalize_description(desc)
    assert p.original == desc
    assert p.category == category
    assert p.materials == materials
    assert p.colours == colours
    assert p.dimensions == (Dimensions(tuple(float(v) for v in dims)) if dims else None)
    assert p.set_size == set_size
    assert p.assorted == assorted


TEXTS = [
    ("8X7X3 RSN TRI GEO ELEPHANT 2/A BLK/WHT",
     "resin tri geometric elephant figurine, black and white, 8×7×3 in, assorted 2"),
    ('PAPER MACHE, 10" EARED VASE, IVORY', "paper mache, eared vase, ivory, 10 in"),
    ("CERAMIC VASE, PEARL STRIPES", "ceramic vase, pearl stripes"),
    ("EC, SILVER CERAMIC PUG DOG", "silver ceramic pug dog figurine"),
    ("DECORATIVE CERAMIC SEA URCHINVASE, BEIGE", "decorative ceramic sea urchin vase, beige"),
    ("DECORATIVE CERAMIC BEADED VASE, CERAMIC, BLUE", "decorative ceramic beaded vase, blue"),
    ("DECORATIVE CERAMIC VASE, YELLOW/WHITE", "decorative ceramic vase, yellow and white"),
    ("CERAMIC BOWL W/ CUTOUTS, COPPER", "ceramic bowl with cutouts, copper"),
    ("METAL & WOOD SERVING CART, BLACK", "metal and wood serving cart, black"),
    ("S/2 EIFFEL TOWER BOOKENDS", "eiffel tower bookends, set of 2"),
    ('White Basket Weave Jar 16"', "white basket weave jar, 16 in"),
    ("WHITE ZIG ZAG JUG VASE 7.5", "white zig zag jug vase, 7.5 in"),
    ("3/ASST CERAMIC VOTIVE CANDLE HOLDERS", "ceramic votive candle holders, assorted 3"),
    ("GOLD CIRCLES WALL ART, NATURALWOOD FRAME", "gold circles wall art, natural wood frame"),
]


@pytest.mark.parametrize("desc, text", TEXTS)
def test_seed_texts(desc, text):
    assert normalize_description(desc).text == text


# Not from the seed catalog: the metric, sentence-style rows of furniture-store catalogs.
@pytest.mark.parametrize(
    "desc, category, materials, dims, text",
    [
        ("Wall shelf, Stainless steel, 80 cm. Saves space on the worktop.", "shelf",
         ("stainless steel",), (31.5,), "wall shelf, stainless steel, 31.5 in. saves space on the worktop"),
        ("Vase, Clear glass, 20 cm", "vase", ("glass",), (7.87,), "vase, clear glass, 7.87 in"),
        ("Coffee table, black-brown, 90x55 cm", "table", (), (35.43, 21.65), None),
        ("Chest of drawers with 6 drawers, white, 160x78 cm", "dresser", (), (62.99, 30.71), None),
        ("Sofa, 3-seat, Hillared dark blue", "sofa", (), None, "sofa, 3 seat, hillared dark blue"),
        ('12"W x 8"D x 30"H ACCENT TABLE', "table", (), (12, 8, 30), "accent table, 12×8×30 in"),
        ('CANDLE HOLDER 10 1/2"', "candle holder", (), (10.5,), None),
        ("Art Deco Vase", "vase", (), None, "art deco vase"),
    ],
)
def test_other_catalog_styles(desc, category, materials, dims, text):
    p = normalize_description(desc)
    assert p.category == category
    assert p.materials == materials
    assert p.dimensions == (Dimensions(tuple(float(v) for v in dims)) if dims else None)
    if text is not None:
        assert p.text == text


@pytest.mark.parametrize("desc", ["", "   ", "!!!", '"""', "/ / /", "W/", "12 x", "EC, ", "x" * 5000, "1" * 400])
def test_odd_input_never_raises(desc):
    p = normalize_description(desc)
    assert isinstance(p.text, str)


def test_non_string_input():
    assert normalize_description(None).text == ""  # type: ignore[arg-type]
    assert normalize_description(123).text == "123"  # type: ignore[arg-type]


def test_colour_hex():
    assert colour_hex("gray") == colour_hex("Grey") == COLOUR_HEX["gray"]
    assert colour_hex("gun metal") == COLOUR_HEX["gunmetal"]
    assert colour_hex("navy blue") == COLOUR_HEX["navy"]
    assert colour_hex("multicolor") is None  # no single representative colour
    assert colour_hex("no such colour") is None
    assert colour_hex("") is None
    for name, value in COLOUR_HEX.items():
        assert re.fullmatch(r"#[0-9a-f]{6}", value), name
    # every colour the parser can report either has a hex or is one of the known exceptions
    assert {c for c in COLOUR_ALIASES.values() if c not in COLOUR_HEX} == {"multicolor", "clear"}


def test_scene_colours_are_named_colours_of_the_one_table():
    from scenefit.taxonomy import SCENE_COLOURS

    for name, value in SCENE_COLOURS.items():
        assert COLOUR_HEX[name] == value, name
        assert colour_hex(name) == value, name


def test_the_catalog_declares_no_colour_values_of_its_own():
    from scenefit.catalog import _vocab

    assert not hasattr(_vocab, "COLOUR_HEX")
    assert set(COLOUR_ALIASES.values()) - {"multicolor", "clear"} <= set(COLOUR_HEX)


# --- the whole seed catalog --------------------------------------------------------------

_PUFFERY = ("premium", "luxury", "luxurious", "elegant", "beautiful", "stunning", "gorgeous",
            "exquisite", "stylish", "chic", "perfect", "quality", "handcrafted", "unique")
# A simple, independent notion of "names a product": if one of these is in the source,
# the row must get a category.
_PRODUCT_NOUN = re.compile(
    r"\b(VASES?|JARS?|FIGURINES?|SCULPTURES?|BOWLS?|PLATES?|TRAYS?|BOX|BOTTLES?|PLANTERS?|MIRRORS?"
    r"|BOOKENDS|TABLES?|CART|CHEST|DRESSER|SHELF|BASKETS?|RACK|FRAMES?|CHESS PIECE|CANDLE ?HOLDERS?"
    r"|STOOLS?|UMBRELLA STAND|WALL ART|WALL DECOR|PITCHER|ELEPHANT|PIG|DOG|CAT|OWL|HORSE|BIRD|BUDDHA"
    r"|ANCHOR|SAILBOAT|PINEAPPLE|SEASHELL|STARFISH|ORB|EGG|OBJECT)\b",
    re.IGNORECASE,
)


def _seed_descriptions() -> list[str]:
    for path in _CATALOG_CANDIDATES:
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as f:
                return [row["description"] for row in csv.DictReader(f)]
    pytest.skip("seed catalog not found")


def test_whole_seed_catalog():
    descriptions = _seed_descriptions()
    assert len(descriptions) == 500
    with_category = 0
    for desc in descriptions:
        p = normalize_description(desc)
        assert p.text.strip(), desc
        assert p.text == p.text.lower(), desc
        source = desc.lower()
        for word in _PUFFERY:
            if re.search(rf"\b{word}\b", p.text):
                assert word in source, (desc, p.text)
        if _PRODUCT_NOUN.search(desc):
            assert p.category is not None, desc
        with_category += p.category is not None
        for c in p.colours:
            assert c in COLOUR_HEX or c in ("multicolor", "clear"), (desc, c)
        if p.dimensions is not None:
            assert p.dimensions.unit == "in"
            assert all(0 < v < 200 for v in p.dimensions.values), desc
    assert with_category >= 0.95 * len(descriptions)
