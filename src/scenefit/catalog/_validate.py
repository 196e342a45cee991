"""One row's checks, the same for catalog files and the HTTP API's writes (which build rows
with :meth:`Catalog.from_records`): a row is a :class:`Product` or a :class:`RowError` saying why.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any

from .._types import Product, RowError
from ._normalize import normalize_description

REQUIRED_COLUMNS = ("id", "sku_id", "description", "primary_image")

# Product descriptions are a line of text; anything longer is a mis-mapped column or junk,
# and would only slow down normalising and embedding.
MAX_DESCRIPTION_CHARS = 10_000
# One rule for product ids and attribute sizes, whichever way a product arrives (catalog file
# or HTTP API): an id is a path segment and a database key; every attribute is returned with
# every match that includes the product, so one huge value would bloat every answer.
MAX_ID_CHARS = 512
MAX_ATTRIBUTE_CHARS = 10_000
# Far more columns than any real catalog has; past it, a row is a mis-read file or junk.
MAX_ATTRIBUTES = 200
#: The optional column of further photos: a JSON list of strings, or one string split at "|".
IMAGES_COLUMN = "images"
# Each further photo is fetched and embedded on every ingest that changes its product: a
# product page's gallery fits well under this; past it, the column is mis-mapped or junk.
MAX_IMAGES = 20

# Any lone surrogate (JSON's "\\udfff" escapes give them too) cannot be stored or encoded.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _jsonable(value: Any) -> Any:
    """An attribute value as a JSON-native type, so products can always be saved as JSON."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)  # prices and sizes: a float is what every consumer expects
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()  # lossless and readable; binary columns are rare in catalogs
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)  # durations and anything exotic: readable text rather than a crash later


def is_url(ref: str | None) -> bool:
    """An http(s) image reference (anything else is a local path)."""
    return bool(ref) and ref.lower().startswith(("http://", "https://"))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "binary"
    return "text" if isinstance(value, str) else "a number" if isinstance(value, (int, float)) else f"a {type(value).__name__}"


def _shown(text: str, limit: int = MAX_ID_CHARS) -> str:
    """Text as a rejection shows it: encodable (lone surrogates replaced) and bounded."""
    text = _SURROGATE.sub("\ufffd", text)
    return text if len(text) <= limit else text[:limit] + "…"


def _surrogate(value: Any) -> str | None:
    """The first lone surrogate in a value, nested keys and values included, as U+XXXX."""
    if isinstance(value, str):
        m = _SURROGATE.search(value)
        return None if m is None else f"U+{ord(m.group()):04X}"
    if isinstance(value, dict):
        value = [x for kv in value.items() for x in kv]
    if isinstance(value, (list, tuple)):
        return next((u for u in map(_surrogate, value) if u), None)
    return None


def _unicode_problem(raw: dict[str, Any]) -> str | None:
    """Why a row's text cannot be stored: a lone surrogate in a key or a value, nested ones
    too (it cannot be encoded, so it would fail only when the product is saved, or answered)."""
    try:  # the common case, a row of text (CSV): one search for the whole row
        if not _SURROGATE.search("".join(chain.from_iterable(raw.items()))):
            return None
    except TypeError:  # not all text: looked at one by one
        pass
    for k, v in raw.items():
        if u := _surrogate(k):
            return f"a column name is not valid Unicode text (it has a lone surrogate, {u})"
        if u := _surrogate(v):
            return f"column {_shown(str(k), 60)!r} is not valid Unicode text (it has a lone surrogate, {u})"
    return None


def _attribute_problem(attributes: dict[str, Any]) -> str | None:
    if len(attributes) > MAX_ATTRIBUTES:
        return f"has {len(attributes):,} attribute columns (limit {MAX_ATTRIBUTES})"
    for k, v in attributes.items():
        if len(k) > MAX_ATTRIBUTE_CHARS:
            return f"an attribute name is {len(k):,} characters (limit {MAX_ATTRIBUTE_CHARS:,})"
        # Text is measured as it is; a list or an object as its JSON text (numbers are short).
        if isinstance(v, str) and len(v) > MAX_ATTRIBUTE_CHARS:
            return f"attribute {_shown(k, 60)!r} is {len(v):,} characters (limit {MAX_ATTRIBUTE_CHARS:,})"
        if isinstance(v, (list, dict)) and (size := len(json.dumps(v, ensure_ascii=False))) > MAX_ATTRIBUTE_CHARS:
            return f"attribute {_shown(k, 60)!r} is {size:,} characters as JSON (limit {MAX_ATTRIBUTE_CHARS:,})"
    return None


def _image_list(value: Any) -> list[str] | str:
    """The ``images`` column as a list of references, or why it cannot be one."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith(("[", "{")):  # JSON (a list, or an object: refused below), else a|b
            return [part.strip() for part in text.split("|") if part.strip()]
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return "images is not a valid JSON list (write a JSON list of strings, or separate them with |)"
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    if isinstance(value, (list, tuple)):
        bad = next(v for v in value if not isinstance(v, str))
        return f"images has {_kind(bad)} among its entries, not only image references"
    return f"images is {_kind(value)}, not a list of image references"


def _resolve_image(ref: str, column: str, base: Path, urls_only: bool) -> tuple[str | None, str | None]:
    """(the reference as stored: a URL, or a local path resolved against ``base``; why it is
    refused). Whether a local file exists is the caller's question."""
    if is_url(ref):
        return ref, None
    if urls_only:  # never a path on this machine: not even whether one exists is told
        return None, f"{column} must be an http(s) URL"
    if "://" in ref:
        return None, f"unsupported image reference {ref!r} (use http(s) or a path)"
    local = Path(ref).expanduser()
    return str(local if local.is_absolute() else base / local), None


def validate_row(
    raw: dict[str, Any], reason: str | None, n: int, seen: dict[str, int], base: Path,
    check_local_images: bool, urls_only: bool = False,
) -> Product | RowError:
    # Column names match case-insensitively, one way for every check; attributes keep the
    # file's spelling. Two names that differ only so would leave which one counts to chance.
    by_lower: dict[str, Any] = {}
    dups = []
    for k in raw:
        low = str(k).strip().lower()
        if low in by_lower:
            dups.append(str(k))
        else:
            by_lower[low] = k
    values = {col: raw[by_lower[col]] if col in by_lower else None for col in REQUIRED_COLUMNS}
    raw_id = values["id"]
    pid = None
    if isinstance(raw_id, str) or isinstance(raw_id, (int, float, Decimal)) and not isinstance(raw_id, bool):
        pid = (raw_id if isinstance(raw_id, str) else _as_text(raw_id)) or None
    shown = _shown(pid) if pid and pid.strip() else None  # what the rejections call the row
    if reason is not None:
        return RowError(n, shown, reason)
    if dups:
        return RowError(n, shown, f"duplicate column(s) {', '.join(map(repr, dups))} "
                                  "(names must be unique, ignoring case and surrounding spaces)")
    problem = _unicode_problem(raw)
    if problem:
        return RowError(n, shown, problem)
    for col, v in values.items():
        # A list or object is not text: str() of it would become a description or an id.
        if v is not None and (isinstance(v, bool) or not isinstance(v, (str, int, float, Decimal))):
            return RowError(n, shown, f"{col} is {_kind(v)}, not text")
    if shown is None:
        return RowError(n, None, "missing id")
    # Ids are kept exactly as given (an id is a key and a URL path segment): stripping one
    # would store another id than the one the caller later asks for.
    if pid != pid.strip():
        return RowError(n, shown, "id has leading or trailing spaces")
    if m := _CONTROL.search(pid):
        return RowError(n, shown, f"id has a control character (U+{ord(m.group()):04X})")
    if len(pid) > MAX_ID_CHARS:
        return RowError(n, shown, f"id is {len(pid):,} characters (limit {MAX_ID_CHARS:,})")
    description = _as_text(values["description"])
    if not description:
        return RowError(n, pid, "missing description")
    if len(description) > MAX_DESCRIPTION_CHARS:
        return RowError(
            n, pid, f"description is {len(description):,} characters (limit {MAX_DESCRIPTION_CHARS:,})"
        )
    if pid in seen:
        return RowError(n, pid, f"duplicate id (first seen in row {seen[pid]})")

    image_ref = _as_text(values["primary_image"]) or None
    image: str | None = None
    if image_ref is not None:
        image, problem = _resolve_image(image_ref, "primary_image", base, urls_only)
        if problem:
            return RowError(n, pid, problem)
        local = Path(image)
        if not is_url(image) and check_local_images and not local.is_file():
            what = "is a folder, not an image file" if local.is_dir() else "not found"
            return RowError(n, pid, f"image {what}: {image_ref}")

    # Further photos follow the primary's rules for what a reference may be; one that is
    # missing or unreadable is reported at ingest and leaves the product its other photos.
    refs = _image_list(raw[by_lower[IMAGES_COLUMN]] if IMAGES_COLUMN in by_lower else None)
    if isinstance(refs, str):
        return RowError(n, pid, refs)
    if len(refs) > MAX_IMAGES:
        return RowError(n, pid, f"images lists {len(refs):,} photos (limit {MAX_IMAGES})")
    images: list[str] = []
    for ref in refs:
        resolved, problem = _resolve_image(ref, "each of images", base, urls_only)
        if problem:
            return RowError(n, pid, problem)
        images.append(resolved)
    images = [ref for ref in dict.fromkeys(images) if ref != image]  # each photo once

    attributes = {
        str(k): _jsonable(v) for k, v in raw.items()
        if str(k).strip().lower() not in (*REQUIRED_COLUMNS, IMAGES_COLUMN)
    }
    if images:
        attributes[IMAGES_COLUMN] = images
    problem = _attribute_problem(attributes)
    if problem:
        return RowError(n, pid, problem)
    return Product(id=pid, sku_id=_as_text(values["sku_id"]), description=description, image=image,
                   attributes=attributes, row=n, parsed=normalize_description(description), images=images)
