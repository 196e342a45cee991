"""Lookup tables for the product-description normaliser (:mod:`._normalize`).

Every key is lower case; multi-word keys are matched as whole-token phrases, longest
first, so "gun metal" wins over "metal" and "candle holder" over "candle".
Plurals are handled by the matcher, so tables only list singular forms.
"""

from __future__ import annotations

from ..taxonomy import COLOURS, require_categories

# Abbreviations of home-décor wholesale feeds. Only unambiguous ones are listed: "TRI" stays
# (it is "three" in "TRI SUPPORT TABLE", so "triangular" would be invented), and so do "FIG"
# (the fruit), "POLY" (polyresin / polyester / polystone), "ORG", "RD" and "SS".
ABBREVIATIONS: dict[str, str] = {
    # materials
    "rsn": "resin", "cer": "ceramic", "porc": "porcelain", "mtl": "metal", "stl": "steel",
    "wd": "wood", "wdn": "wooden", "gls": "glass", "alum": "aluminum", "alu": "aluminum",
    "plstc": "plastic", "acryl": "acrylic", "galv": "galvanized",
    # colours
    "blk": "black", "wht": "white", "wh": "white", "blu": "blue", "brn": "brown",
    "brwn": "brown", "brz": "bronze", "brnz": "bronze", "brs": "brass", "cpr": "copper",
    "crm": "cream", "clr": "clear", "gld": "gold", "grn": "green", "gry": "gray",
    "ivr": "ivory", "nvy": "navy", "orng": "orange", "pnk": "pink", "prpl": "purple",
    "slv": "silver", "slvr": "silver", "trq": "turquoise", "turq": "turquoise",
    "ylw": "yellow", "yel": "yellow", "bge": "beige", "chrcl": "charcoal", "nat": "natural",
    "natl": "natural", "dk": "dark", "lt": "light",
    # shape / finish / style
    "geo": "geometric", "rect": "rectangular", "rnd": "round", "sq": "square", "ovl": "oval",
    "antq": "antique", "distr": "distressed", "vtg": "vintage", "deco": "decorative",
    "dec": "decorative", "decr": "decorative", "asst": "assorted", "ast": "assorted",
    "asstd": "assorted", "assrt": "assorted", "ftd": "footed",
    # size
    "sm": "small", "sml": "small", "med": "medium", "md": "medium", "lg": "large",
    "lrg": "large", "xl": "extra large",
    # product words
    "cndl": "candle", "hldr": "holder", "plntr": "planter", "tbl": "table", "bskt": "basket",
    "frm": "frame", "mirr": "mirror", "lntrn": "lantern", "orn": "ornament",
    "ornmt": "ornament", "sculpt": "sculpture", "bx": "box", "btl": "bottle", "hndl": "handle",
    "pc": "piece", "pcs": "pieces",
}

# Previous word → abbreviation that must stay as written ("art deco" is a style).
ABBREVIATION_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset({("art", "deco")})

MATERIALS: dict[str, str] = {
    "ceramic": "ceramic", "porcelain": "porcelain", "stoneware": "stoneware",
    "earthenware": "earthenware", "terracotta": "terracotta", "terra cotta": "terracotta",
    "clay": "clay", "dolomite": "dolomite", "resin": "resin", "polyresin": "resin",
    "poly resin": "resin", "polystone": "resin", "metal": "metal", "iron": "iron",
    "wrought iron": "iron", "cast iron": "iron", "steel": "steel",
    "stainless steel": "stainless steel", "galvanized steel": "steel",
    "aluminum": "aluminum", "aluminium": "aluminum", "tin": "tin", "zinc": "zinc",
    "wire": "metal",  # "GOLD WIRE WALL DECOR": wire is the metal the piece is bent from
    "wood": "wood", "wooden": "wood", "solid wood": "wood", "mango wood": "mango wood",
    "acacia": "acacia", "oak": "oak", "pine": "pine", "birch": "birch", "walnut": "walnut",
    "teak": "teak", "beech": "beech", "bamboo": "bamboo", "rattan": "rattan",
    "wicker": "wicker", "seagrass": "seagrass", "jute": "jute", "water hyacinth": "water hyacinth",
    "paper mache": "paper mache", "papier mache": "paper mache", "paper": "paper",
    "cardboard": "cardboard", "glass": "glass", "tempered glass": "glass",
    "crystal": "crystal", "marble": "marble", "stone": "stone", "concrete": "concrete",
    "cement": "cement", "plastic": "plastic", "acrylic": "acrylic",
    "polypropylene": "plastic", "fiberglass": "fiberglass", "fibreglass": "fiberglass",
    "fabric": "fabric", "cotton": "cotton", "linen": "linen", "wool": "wool",
    "velvet": "velvet", "polyester": "polyester", "leather": "leather",
    "faux leather": "faux leather", "mdf": "mdf", "particleboard": "particleboard",
    "plywood": "plywood", "cork": "cork",
}

# Words that are more often a finish than the body ("CERAMIC JAR, GREEN MARBLE" is a
# marbled glaze): kept as a material only when nothing else names one.
FINISH_MATERIALS: frozenset[str] = frozenset({"marble"})

# Spelling → canonical colour (the names of scenefit.taxonomy.COLOURS), on top of those names. "gray" is the
# canonical spelling (the seed catalog's); "grey" variants are added below.
COLOUR_ALIASES: dict[str, str] = {
    **{name: name for name in COLOURS},
    "multicolor": "multicolor", "multicolour": "multicolor", "multicolored": "multicolor",
    "multi color": "multicolor", "multi colour": "multicolor", "multi colored": "multicolor",
    "clear": "clear", "transparent": "clear",
    "gun metal": "gunmetal", "navy blue": "navy", "golden": "gold", "offwhite": "off white",
    "ombre orange": "orange ombre", "ombre blue": "blue ombre",
    "natural wood": "natural wood", "black-brown": "black brown", "nickel": "silver",
    "chrome": "silver",
}
COLOUR_ALIASES.update(
    {k.replace("gray", "grey"): v for k, v in list(COLOUR_ALIASES.items()) if "gray" in k}
)

# Modifiers that narrow a colour without changing it; "pale teal" counts as "teal" when
# the pair has no entry of its own. Finishes (distressed, gloss, matte) are not modifiers:
# they stay as words of the text and the colour after them is found on its own.
COLOUR_MODIFIERS: frozenset[str] = frozenset(
    {"light", "dark", "pale", "deep", "bright", "soft", "antique", "dusty", "muted", "baby"}
)

# Product-type phrase → canonical category (scenefit.taxonomy.CATEGORIES, checked below, so
# the room prior applies). Last matching noun of the first noun phrase wins ("TABLE SCULPTURE" is a
# sculpture, "SCULPTURE MIRROR" a mirror).
CATEGORIES: dict[str, str] = {
    # décor
    "vase": "vase", "bud vase": "vase", "urn": "vase", "jar": "jar", "temple jar": "jar",
    "ginger jar": "jar", "canister": "jar", "bottle": "bottle", "decanter": "bottle",
    "bowl": "bowl", "plate": "plate", "platter": "plate", "charger plate": "plate",
    "tray": "tray", "box": "box", "jewelry box": "box", "trinket box": "box", "basket": "basket",
    "hamper": "basket", "planter": "planter", "plant pot": "planter", "flower pot": "planter",
    "flowerpot": "planter", "cachepot": "planter", "window box": "planter",
    "terrarium": "planter",
    "pot": "planter",  # décor catalogs: a "CERAMIC POT" is a planter; cookware says "saucepan"
    "candle holder": "candle holder", "candleholder": "candle holder",
    "tealight holder": "candle holder", "tea light holder": "candle holder",
    "votive holder": "candle holder", "candlestick": "candle holder",
    "candelabra": "candle holder", "hurricane": "candle holder",
    "lantern": "candle holder",  # sold and placed like one, LED or not
    "candle": "candle", "tealight": "candle", "tea light": "candle",
    "figurine": "figurine", "figure": "figurine", "statue": "figurine",
    "statuette": "figurine", "sculpture": "sculpture", "bust": "sculpture",
    "wall art": "wall art", "canvas art": "wall art", "painting": "wall art",
    "poster": "wall art", "art print": "wall art", "tapestry": "wall art",
    "wall decor": "wall decor", "wall hanging": "wall decor", "wall plaque": "wall decor",
    "plaque": "wall decor", "mirror": "mirror", "photo frame": "photo frame",
    "picture frame": "photo frame", "frame": "photo frame", "clock": "clock",
    "bookend": "bookends", "bookends": "bookends", "book end": "bookends",
    "umbrella stand": "umbrella stand", "garden stool": "garden stool", "stool": "stool",
    "footstool": "stool", "chess piece": "chess piece", "organizer": "organizer",
    "organiser": "organizer", "caddy": "organizer", "magazine holder": "organizer",
    "letter holder": "organizer",
    "hook": "organizer", "coat rack": "coat rack", "coatrack": "coat rack",
    "coat stand": "coat rack", "hat stand": "coat rack",
    "artificial plant": "plant", "faux plant": "plant", "artificial flower": "plant",
    "faux flower": "plant", "potted plant": "plant", "plant": "plant",
    "plant stand": "planter",
    # furniture
    "table": "table", "nightstand": "table", "night stand": "table", "bedside table": "table",
    "desk": "desk", "chair": "chair", "armchair": "armchair", "accent chair": "armchair",
    "wing chair": "armchair", "lounge chair": "armchair", "recliner": "armchair",
    "sofa": "sofa", "couch": "sofa", "loveseat": "sofa", "settee": "sofa",
    "sofa bed": "sofa", "bench": "bench", "ottoman": "ottoman", "pouf": "ottoman",
    "pouffe": "ottoman", "bed": "bed", "bed frame": "bed", "headboard": "bed",
    "daybed": "bed", "bunk bed": "bed", "crib": "bed", "mattress": "bed",
    "wardrobe": "wardrobe", "armoire": "wardrobe", "dresser": "dresser",
    "chest of drawers": "dresser", "chest": "chest", "trunk": "chest", "cabinet": "cabinet",
    "cupboard": "cabinet", "sideboard": "cabinet", "buffet": "cabinet", "credenza": "cabinet",
    "hutch": "cabinet", "tv bench": "cabinet", "tv unit": "cabinet", "tv stand": "cabinet",
    "drawer unit": "cabinet", "bookcase": "bookcase", "bookshelf": "bookcase",
    "shelf": "shelf", "wall shelf": "shelf", "shelving unit": "shelf", "ledge": "shelf",
    "cart": "cart", "trolley": "cart", "rack": "storage", "storage box": "storage",
    "storage bin": "storage", "storage unit": "storage", "bin": "storage", "crate": "storage",
    "room divider": "room divider", "folding screen": "room divider",
    # lighting and textiles
    "lamp": "lamp", "lampshade": "lamp", "lamp shade": "lamp", "chandelier": "lighting",
    "sconce": "lighting", "pendant lamp": "lighting", "ceiling lamp": "lighting",
    "ceiling light": "lighting", "light fixture": "lighting", "string light": "lighting",
    "rug": "rug", "carpet": "rug", "doormat": "rug", "door mat": "rug", "bath mat": "rug",
    "cushion": "cushion", "pillow": "cushion", "cushion cover": "cushion",
    "curtain": "curtain", "drape": "curtain", "blind": "curtain", "valance": "curtain",
    "throw": "textile", "blanket": "textile", "duvet": "textile", "duvet cover": "textile",
    "quilt": "textile", "comforter": "textile", "bedspread": "textile", "bed linen": "textile",
    "pillowcase": "textile", "sheet": "textile", "towel": "textile", "tablecloth": "textile",
    "table runner": "textile", "placemat": "textile", "place mat": "textile",
    "napkin": "textile",
    # kitchen and dining
    "pitcher": "tableware", "jug": "tableware", "carafe": "tableware", "teapot": "tableware",
    "mug": "tableware", "cup": "tableware", "tumbler": "tableware", "goblet": "tableware",
    "wine glass": "tableware", "drinking glass": "tableware", "cutlery": "tableware",
    "serving dish": "tableware", "dish": "tableware", "saucepan": "kitchenware",
    "frying pan": "kitchenware", "pan": "kitchenware", "wok": "kitchenware",
    "casserole": "kitchenware", "kettle": "kitchenware", "cutting board": "kitchenware",
    "chopping board": "kitchenware", "colander": "kitchenware", "utensil": "kitchenware",
    "toy": "toy", "soft toy": "toy", "plush": "toy",
}

# Subjects that, with no product-type word, make the piece a figurine ("SILVER CERAMIC PIG").
FIGURE_NOUNS: tuple[str, ...] = (
    "elephant", "monkey", "dog", "puppy", "cat", "kitten", "horse", "pony", "bird", "owl", "fish",
    "puffer fish", "pufferfish", "blowfish", "whale", "turtle", "tortoise", "spider", "rhino",
    "rhinoceros", "peacock", "seahorse", "sea horse", "alligator", "crocodile", "lion",
    "tiger", "leopard", "cheetah", "giraffe", "zebra", "deer", "stag", "reindeer", "rabbit",
    "bunny", "hare", "bear", "frog", "snail", "dolphin", "shark", "octopus", "crab", "lobster",
    "starfish", "sea star", "sea urchin", "urchin", "shell", "seashell", "sea shell", "conch",
    "whelk", "coral", "snake", "butterfly", "pug", "scottie", "poodle", "bulldog", "foo dog",
    "buddha", "buddha head", "horse head", "angel", "cherub", "skull", "unicorn", "dragon",
    "dinosaur", "fox", "hedgehog", "squirrel", "mouse", "cow", "bull", "pig", "goat", "sheep",
    "rooster", "hen", "duck",
    "swan", "flamingo", "parrot", "pelican", "heron", "camel", "panda", "gorilla", "sloth",
    "bee", "dragonfly", "pineapple", "apple", "pear", "lemon", "cactus", "mushroom", "acorn",
    "anchor", "sailboat", "boat", "ship", "phone booth", "fire hydrant", "eiffel tower",
    "lighthouse", "binoculars", "shoe", "boot", "camera", "bicycle", "typewriter",
)

# Abstract pieces: with no product-type word they are small sculptures ("CERAMIC GEO
# OBJECT", "BLUE OMBRE CERAMIC EGG", "SILVER CERAMIC AMPERSAND").
OBJECT_NOUNS: tuple[str, ...] = (
    "orb", "sphere", "ball", "object", "decorative object", "decor", "ornament", "egg",
    "knot", "rope knot", "ampersand", "symbol", "letter", "monogram", "finial", "globe",
    "obelisk", "antler",
)
OBJECT_CATEGORY = "sculpture"
FIGURE_CATEGORY = "figurine"
require_categories([*CATEGORIES.values(), OBJECT_CATEGORY, FIGURE_CATEGORY], "catalog category phrases")

# Phrases whose words would otherwise be read as something they are not here.
PLAIN_PHRASES: tuple[str, ...] = ("basket weave", "art deco", "zig zag")

# Irregular plurals; regular ones ("vases", "boxes", "holders") are handled by the matcher.
IRREGULAR_PLURALS: dict[str, str] = {
    "shelves": "shelf", "knives": "knife", "mice": "mouse", "geese": "goose",
    "benches": "bench", "dishes": "dish", "glasses": "glass", "boxes": "box",
    "bookcases": "bookcase", "cacti": "cactus", "leaves": "leaf", "bookends": "bookends",
    "binoculars": "binoculars", "scissors": "scissors",
}

# Extra words that may appear glued to a neighbour in the data ("URCHINCOVERED JAR",
# "GOLDEDGE", "TEMPLEJAR"), plus compounds that must never be split ("horseshoe" is not a
# horse and a shoe). Together with every word of the tables above they form the lexicon
# the glue splitter checks both halves against.
EXTRA_WORDS: tuple[str, ...] = (
    "covered", "edge", "temple", "weave", "urchin", "viridian", "ombre", "lightbulb",
    "snakeskin", "horseshoe", "pussywillow", "cutout", "evergreen", "goldfish", "seashell",
    "seahorse", "starfish", "blowfish", "pineapple", "tealight", "candleholder", "cupboard",
    "sideboard", "headboard", "armchair", "bookcase", "bookshelf", "bookend", "doormat",
    "scalloped", "hammered", "ribbed", "dimpled", "tribal", "feathered", "beaded", "banded",
    "flared", "swirl", "sleek", "rustic", "modern", "floral", "design", "handle", "top",
    "support", "accent", "serving", "sitting", "standing", "seated", "gliding", "circular",
    "wide", "curve", "hole", "mini", "triple", "leaf", "circle", "square", "round", "hexagon",
    "quote", "metallic", "split", "stripe", "cone", "poppies", "with", "and", "set", "wall",
    "bar", "cover", "led", "tv", "tall", "small", "large", "medium", "distressed", "gloss", "matte",
)
