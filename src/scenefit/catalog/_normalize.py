"""Normalise terse wholesale product descriptions into text worth embedding.

``"8X7X3 RSN TRI GEO ELEPHANT 2/A BLK/WHT"`` →
``"resin tri geometric elephant figurine, black and white, 8×7×3 in, assorted 2"``.

Conventions:

* Dimensions are always inches (``Dimensions.unit == "in"``): centimetres, millimetres and
  feet are converted (rounded to 0.01 in) so sizes compare across catalogs. Numbers
  without a unit are inches, the wholesale default.
* The embedding text keeps the source's own words in their order (abbreviations
  expanded, glued words split); it only moves sizes, set and assortment counts to the
  end of the first sentence, and adds the word "figurine" when the category was inferred
  from the subject ("SILVER CERAMIC PIG"). It never adds adjectives.
* A leading two- or three-letter upper-case token followed by a comma ("EC, BLUE CERAMIC
  SEASHELL") is taken as a vendor/status code and dropped, unless it is a known word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .._types import Dimensions, ParsedDescription
from . import _vocab as V
from ..taxonomy import COLOURS

_COLOUR, _MATERIAL, _CATEGORY, _FIGURE, _OBJECT = "colour", "material", "cat", "fig", "obj"
_Kinds = tuple[tuple[str, str], ...]  # ((kind, canonical), ...): a word may be two things
_PHRASES: dict[tuple[str, ...], _Kinds] = {}


def _add(pairs, kind: str | None) -> None:
    for key, canon in pairs:
        words = tuple(key.split())
        _PHRASES[words] = _PHRASES.get(words, ()) + (((kind, canon),) if kind else ())


# "walnut" and "terracotta" land in two tables, and honestly are both.
_add(V.MATERIALS.items(), _MATERIAL)
_add(V.COLOUR_ALIASES.items(), _COLOUR)
_add(V.CATEGORIES.items(), _CATEGORY)
_add(((w, V.FIGURE_CATEGORY) for w in V.FIGURE_NOUNS), _FIGURE)
_add(((w, V.OBJECT_CATEGORY) for w in V.OBJECT_NOUNS), _OBJECT)
_add(((w, "") for w in V.PLAIN_PHRASES), None)
_PHRASES[("natural", "wood")] = ((_COLOUR, "natural wood"), (_MATERIAL, "wood"))

_MAX_PHRASE = max(len(k) for k in _PHRASES)
_KNOWN = frozenset(
    {w for k in _PHRASES for w in k} | set(V.ABBREVIATIONS.values()) | set(V.EXTRA_WORDS)
    | set(V.IRREGULAR_PLURALS)
)
# What the data glues onto an unknown word ("PUSSYWILLOWVASE"): product nouns and colours.
_SPLIT_SUFFIXES = frozenset(
    k[0] for k, v in _PHRASES.items() if len(k) == 1 and any(x[0] in (_CATEGORY, _COLOUR) for x in v)
)
_CONJ = frozenset({"/", "&", "and", "or", "+"})
_WITH_WORDS = frozenset({"with", "without"})
_FIGURE_WORDS = frozenset({"figurine", "figurines", "figure", "figures", "statue", "statuette"})
_NOUN_KINDS = frozenset({_CATEGORY, _FIGURE, _OBJECT})
_STRONG, _WEAK = frozenset({_CATEGORY}), frozenset({_FIGURE, _OBJECT})

_TRANS = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u02ba": '"',
    "\u2018": "'", "\u2019": "'", "\u2032": "'", "\u00d7": "x", "\u2013": "-", "\u2014": "-",
    "\u00a0": " ", "\u00bd": " 1/2", "\u00bc": " 1/4", "\u00be": " 3/4",
})
_VENDOR_CODE = re.compile(r"^\s*([A-Z]{2,3})\s*,\s*(?=\S)")
_WITH_RE = re.compile(r"\bw/o\b|\bw/(?=[\sa-z]|$)")
_NUM = r"(?:\d+\s+)?\d+/\d+|\d+(?:\.\d+)?|\.\d+"
_INCH = r"(?:\"|'')"
_UNIT = r"(?:\"|''|in\b\.?|inch(?:es)?\b|cm\b|mm\b|ft\b|feet\b)"
_LABEL = r"(?:\s*(?:[hwdl]|dia|diam)\b\.?)?"  # 12"W x 8"D x 30"H
_SET_RE = re.compile(
    r"\bs/(\d{1,3})\b|\bset\s*(?:of|/)\s*(\d{1,3})\b"
    r"|(?<![\d./])(\d{1,3})\s*-?\s*(?:pcs?|pieces?)\b(?:\s+set\b)?"
)
_ASST_RE = re.compile(
    r"(?<![\d./])(\d{1,3})\s*/\s*(?:a|as|ast|asst|asstd|assorted)\b"
    r"|\b(?:asst|asstd|assorted)\.?\s*(?:of\s+)?(\d{1,3})\b"
    r"(?![\s\d.]*(?:\"|''|in\b|inch|cm\b|mm\b|x\s*\d))"  # "ASST 10\" VASES" is a size
    r"|(?<![\d./])(\d{1,3})\s+(?:asst|asstd|assorted)\b"
)
_MULTI_DIM_RE = re.compile(
    rf"(?<![\d.])({_NUM})\s*{_INCH}?{_LABEL}\s*[x*]\s*({_NUM})\s*{_INCH}?{_LABEL}"
    rf"(?:\s*[x*]\s*({_NUM})\s*{_INCH}?{_LABEL})?\s*({_UNIT})?"
)
# 'VASE 7.2"5': the inch mark slipped one digit left of a quarter-inch size; read 7.25.
_SLIPPED_INCH_RE = re.compile(r"(?<![\d.])(\d+\.\d)\"(\d)(?![\d.])")
_SINGLE_DIM_RE = re.compile(
    rf"(?<![\d./])(?:(?:ø|\b(?:dia|diam|h|w))\.?\s*)?({_NUM})\s*({_UNIT}){_LABEL}"
)
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)")  # "VASE17.5" → "vase 17.5"
_SEGMENT_SPLIT = re.compile(r"\s*([,;:()\[\]|{}]|\.(?=\s|$)|\s-\s)\s*")
_TOKEN = re.compile(r"[a-z0-9@#]+(?:['.][a-z0-9]+)*|[/&+]")
_NUMBER_TOKEN = re.compile(r"\d+(?:\.\d+)?")
_DIGIT = re.compile(r"\d")
_ABBR_DOT = re.compile(r"\b([a-z]{1,5})\.(?=\s|$)")  # "CER. VASE" is no sentence end
_TO_INCH = {"cm": 1 / 2.54, "mm": 1 / 25.4, "ft": 12.0, "feet": 12.0}
_PLAUSIBLE_INCHES = (0.5, 120.0)  # a bare trailing number outside this is not a size


class _Tok:
    __slots__ = ("word", "kinds", "kindset", "drop")
    _sets: dict[_Kinds, frozenset[str]] = {}

    def __init__(self, word: str, kinds: _Kinds = ()):
        self.word, self.kinds, self.drop = word, kinds, False
        ks = self._sets.get(kinds)
        if ks is None:
            ks = self._sets[kinds] = frozenset(k for k, _ in kinds)
        self.kindset = ks

    def has(self, kind: str) -> bool:
        return kind in self.kindset

    def is_noun(self) -> bool:
        return not self.kindset.isdisjoint(_NOUN_KINDS)

    def canon(self) -> str | None:
        return next((c for k, c in self.kinds if k in _NOUN_KINDS), None)


@lru_cache(maxsize=65536)
def _singulars(word: str) -> tuple[str, ...]:
    if word in V.IRREGULAR_PLURALS:
        return (V.IRREGULAR_PLURALS[word],)
    if len(word) < 4 or not word.endswith("s") or word.endswith("ss"):
        return ()
    out = [word[:-1]]
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    return tuple(out)


def _is_known(word: str) -> bool:
    return word in _KNOWN or any(s in _KNOWN for s in _singulars(word))


@lru_cache(maxsize=131072)
def _expand(tok: str, caps: bool) -> tuple[str, ...]:
    """Abbreviation expansion and glue splitting ("URCHINCOVERED" → urchin covered).

    A glued token whose head is not a known word ("PUSSYWILLOWVASE") is split only in
    all-caps text: that is where the data glues words, while mixed-case catalogs are full
    of product names ("Hillared") that merely end in a colour.
    """
    if tok in V.ABBREVIATIONS:
        return tuple(V.ABBREVIATIONS[tok].split())
    if len(tok) > 3 and tok[-1] == "s" and tok[:-1] in V.ABBREVIATIONS:  # "PLNTRS"
        *lead, last = V.ABBREVIATIONS[tok[:-1]].split()
        return (*lead, last + "s")
    if not 6 <= len(tok) <= 40 or not tok.isalpha() or _is_known(tok):
        return (tok,)
    for i in range(3, len(tok) - 2):
        head, tail = tok[:i], tok[i:]
        if _is_known(tail) and (
            _is_known(head) or (caps and tail in _SPLIT_SUFFIXES and i >= 4 and len(tail) >= 4)
        ):
            return (head, tail)
    return (tok,)


def _lookup(words: tuple[str, ...]) -> _Kinds | None:
    hit = _PHRASES.get(words)
    if hit is None:
        for s in _singulars(words[-1]):
            hit = _PHRASES.get(words[:-1] + (s,))
            if hit is not None:
                break
    return hit


def _match(words: list[str]) -> list[_Tok]:
    """Longest-first phrase matching over one segment's words."""
    toks: list[_Tok] = []
    i, n = 0, len(words)
    while i < n:
        for size in range(min(_MAX_PHRASE, n - i), 0, -1):
            key = tuple(words[i:i + size])
            hit = _lookup(key)
            if hit is not None:
                toks.append(_Tok(" ".join(key), hit))
                i += size
                break
        else:
            w = words[i]
            nxt = _lookup((words[i + 1],)) if i + 1 < n and w in V.COLOUR_MODIFIERS else None
            base = next((c for k, c in nxt or () if k == _COLOUR), None)
            if base:  # "pale teal" with no entry of its own is teal
                toks.append(_Tok(f"{w} {words[i + 1]}", ((_COLOUR, base),)))
                i += 2
            else:
                toks.append(_Tok(w))
                i += 1
    return toks


def _segments(s: str, caps: bool) -> tuple[list[list[_Tok]], list[str]]:
    """Tokenised segments and the separator after each ('.' ends a sentence)."""
    parts = _SEGMENT_SPLIT.split(s)
    segments: list[list[_Tok]] = []
    seps: list[str] = []
    for idx in range(0, len(parts), 2):
        words: list[str] = []
        prev = ""
        for tok in _TOKEN.findall(parts[idx]):
            if (prev, tok) in V.ABBREVIATION_EXCEPTIONS:
                words.append(tok)
            else:
                words.extend(_expand(tok, caps))
            prev = tok
        sep = parts[idx + 1].strip() if idx + 1 < len(parts) else ""
        if words:
            segments.append(_match(words))
            seps.append(sep)
        elif sep == "." and seps:
            seps[-1] = "."
    return segments, seps


def _parse_num(s: str) -> float:  # "12.5", "10 1/2", "1/2"
    *whole, frac = s.split()
    if "/" not in frac:
        return float(frac)
    n, d = (float(x) for x in frac.split("/"))
    return (float(whole[0]) if whole else 0.0) + (n / d if d else 0.0)


def _counts_and_size(s: str) -> tuple[str, int | None, int | None, tuple[float, ...] | None]:
    """Take the set size, assortment count and first size out of lower-cased text."""
    counts: list[int | None] = []
    for rx in (_SET_RE, _ASST_RE):
        m = rx.search(s)
        counts.append(int(next(g for g in m.groups() if g)) if m else None)
        if m:
            s = s[:m.start()] + " " + s[m.end():]
    set_size, assorted = counts
    dims = None
    m = _MULTI_DIM_RE.search(s)
    if m:
        f = _TO_INCH.get((m.group(4) or "").rstrip("."), 1.0)
        dims = tuple(_parse_num(g) * f for g in m.groups()[:3] if g)
    elif m := _SLIPPED_INCH_RE.search(s):
        dims = (float(m.group(1) + m.group(2)),)
    elif m := _SINGLE_DIM_RE.search(s):
        dims = (_parse_num(m.group(1)) * _TO_INCH.get(m.group(2).rstrip("."), 1.0),)
    if dims and all(0 < v < 1e5 for v in dims):  # no zero or astronomically long sizes
        s = s[:m.start()] + " " + s[m.end():]
    else:
        dims = None
    return s, set_size, assorted, dims


def _head(seg: list[_Tok], kinds: frozenset[str]) -> _Tok | None:
    """Last noun of the first noun phrase that has one; phrases end at conjunctions and
    before with/without ("TABLE SCULPTURE" → sculpture, "BAR CART & TABLE" → cart,
    "MONKEY W/ TRAY FIGURINE" → figurine, "VASE W/ HANDLES" → vase)."""
    last = None
    for t in seg:
        if t.word in _CONJ or t.word in _WITH_WORDS:
            if last is not None:
                return last
        elif not t.drop and not t.kindset.isdisjoint(kinds):
            last = t
    return last


def _render(toks: list[_Tok]) -> str:
    out: list[str] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if t.has(_COLOUR) and not t.has(_MATERIAL):  # "BLK/WHT" → "black and white"
            run, j = [t.word], i + 1
            while j + 1 < n and toks[j].word in _CONJ and toks[j + 1].has(_COLOUR):
                run.append(toks[j + 1].word)
                j += 2
            out.append(run[0] if len(run) == 1 else ", ".join(run[:-1]) + " and " + run[-1])
            i = j
        elif t.word == "/" and out and i + 1 < n:
            if toks[i - 1].has(_MATERIAL) and toks[i + 1].has(_MATERIAL):
                out.append("and " + toks[i + 1].word)
            else:
                out[-1] += "/" + toks[i + 1].word  # "shelf/organizer"
            i += 2
        else:
            if t.word != "/":
                out.append("and" if t.word in ("&", "+") else t.word)
            i += 1
    return " ".join(out)


def _compose(segments, seps, head: _Tok | None, add_figurine: bool, extras: list[str]) -> str:
    """Join the segments back, splitting trailing colours off the product phrase and
    skipping repeated material-only segments ("BEADED VASE, CERAMIC, BLUE")."""
    pieces: list[tuple[str, str]] = []
    seen: set[str] = set()
    for seg, sep in zip(segments, seps):
        live = [t for t in seg if not t.drop]
        if add_figurine and head in live:
            live.insert(live.index(head) + 1, _Tok("figurine"))
        if not live or (all(t.has(_MATERIAL) and t.word in seen for t in live)):
            continue
        seen.update(t.word for t in live)
        k = len(live)
        while k > 0 and (live[k - 1].has(_COLOUR) or live[k - 1].word in _CONJ):
            k -= 1
        while k < len(live) and live[k].word in _CONJ:
            k += 1
        if 0 < k < len(live) and (live[k - 1].word == "figurine" or live[k - 1].is_noun()):
            pieces.append((_render(live[:k]), ","))
            pieces.append((_render(live[k:]), sep))
        else:
            pieces.append((_render(live), sep))
    sentences: list[list[str]] = [[]]
    for piece, sep in pieces:
        if piece:
            sentences[-1].append(piece)
        if sep == "." and sentences[-1]:
            sentences.append([])
    sentences[0].extend(extras)
    return ". ".join(", ".join(p) for p in sentences if p).strip()


def colour_hex(name: str | None) -> str | None:
    """Representative ``#rrggbb`` for a colour name (any known spelling), else None."""
    if not name:
        return None
    key = " ".join(name.lower().replace("-", " ").split())
    return COLOURS.get(key) or COLOURS.get(V.COLOUR_ALIASES.get(key, ""))


def normalize_description(text: str) -> ParsedDescription:
    """Parse one wholesale description; never raises on odd input."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return _normalize(text)


# Wholesale catalogs repeat descriptions a lot ("DECORATIVE CERAMIC VASE, BLUE"), and the
# result is immutable, so identical rows share one parse.
@lru_cache(maxsize=65536)
def _normalize(original: str) -> ParsedDescription:
    s = original.translate(_TRANS)
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    m = _VENDOR_CODE.match(s)
    if m and not _is_known(m.group(1).lower()) and m.group(1).lower() not in V.ABBREVIATIONS:
        s = s[m.end():]
    caps = s.isupper()
    s = s.lower()
    if "." in s:
        s = _ABBR_DOT.sub(lambda mm: mm.group(1) if mm.group(1) in V.ABBREVIATIONS else mm.group(), s)
    if "w/" in s:
        s = _WITH_RE.sub(lambda mm: " without " if mm.group().endswith("o") else " with ", s)
    set_size = assorted = dims = None
    if _DIGIT.search(s):
        s, set_size, assorted, dims = _counts_and_size(s)
        s = _LETTER_DIGIT.sub(" ", s)
    segments, seps = _segments(s, caps)

    if dims is None:  # a bare number right after a product noun is its height ("HOLE VASE 15")
        for seg in segments:
            if len(seg) >= 2 and seg[-2].is_noun() and _NUMBER_TOKEN.fullmatch(seg[-1].word):
                v = float(seg[-1].word)
                if _PLAUSIBLE_INCHES[0] <= v <= _PLAUSIBLE_INCHES[1]:
                    dims, seg[-1].drop = (v,), True
                    break

    # The first segment with a noun decides; product-type words beat subjects.
    head = None
    for seg in segments:
        head = _head(seg, _STRONG) or _head(seg, _WEAK)
        if head is not None:
            break
    category = head.canon() if head is not None else None

    materials: list[str] = []
    colours: list[str] = []
    for seg in segments:
        for t in seg:
            for kind, canon in t.kinds:
                target = materials if kind == _MATERIAL else colours if kind == _COLOUR else None
                if target is not None and canon not in target:
                    target.append(canon)
    if len(materials) > 1:
        materials = [x for x in materials if x not in V.FINISH_MATERIALS]

    size = Dimensions(tuple(round(v, 2) for v in dims)) if dims else None
    extras = [size.as_text()] if size else []
    extras += [f"set of {set_size}"] * bool(set_size) + [f"assorted {assorted}"] * bool(assorted)
    add_figurine = (
        head is not None and not head.has(_CATEGORY) and category == V.FIGURE_CATEGORY
        and not any(t.word in _FIGURE_WORDS for seg in segments for t in seg)
    )
    out = _compose(segments, seps, head, add_figurine, extras) or " ".join(original.lower().split())
    return ParsedDescription(
        original=original, text=out, category=category, materials=tuple(materials),
        colours=tuple(colours), dimensions=size, set_size=set_size, assorted=assorted,
    )


__all__ = ["colour_hex", "normalize_description"]
