"""Read a catalog file (CSV, JSONL or Parquet) into validated :class:`Product` rows.

Rows are streamed from the file; each bad row becomes a :class:`RowError` with its reason
and the good rows go on, so ``read == len(products) + len(errors)`` always holds.

CSV, TSV and Parquet have a header: a missing required column, or a name repeated (ignoring
case and surrounding spaces), is a whole-file error. JSONL has no header, so its columns are
the union of the keys seen: each required column must appear in *some* row, and a row that
lacks ``sku_id`` or ``primary_image`` just has them empty (a row that lacks ``id`` or
``description`` is rejected, as in the other formats).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from .._errors import CatalogError
from .._hashing import file_sha256
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

# csv's default field limit (128 KiB) makes one oversized field abort the whole file with
# csv.Error. Raise it (process-wide, never lowered) so big fields are read and the row is
# judged on its own; a field over 64 MiB is still a whole-file error.
csv.field_size_limit(max(csv.field_size_limit(), 64 << 20))

# Text files are decoded with errors="surrogateescape": an undecodable byte b becomes the
# lone surrogate U+DC00+b, so one bad byte rejects its row instead of the whole file.
_BAD_BYTE = re.compile("[\udc80-\udcff]")

_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".parquet": "parquet", ".pq": "parquet"}


def _detect_format(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CatalogError(
            f"{path}: unknown catalog format {path.suffix!r}; use .csv, .tsv, .jsonl or .parquet"
        )
    return fmt


# Each row iterator yields (fields, reason): reason is None for a row to validate, or why the
# row is rejected outright. (Not a magic key in the dict, which a file's own column could spoof.)
Rows = Iterator[tuple[dict[str, Any], "str | None"]]


def _bad_utf8(text: str) -> str | None:
    m = _BAD_BYTE.search(text)
    return None if m is None else f"not valid UTF-8 (byte 0x{ord(m.group()) - 0xDC00:02x})"


def _check_text(path: Path) -> None:
    # Per-row rejection suits a stray bad byte, not a file in another encoding entirely, where
    # every row would be "rejected": say what the file is instead.
    with path.open("rb") as fh:
        head = fh.read(1024)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CatalogError(f"{path}: not UTF-8 text (it starts with a UTF-16 byte-order mark); save it as UTF-8")
    if b"\0" in head:
        raise CatalogError(f"{path}: not UTF-8 text (it has NUL bytes: binary, or UTF-16); save it as UTF-8")


def _open_text(path: Path, **kw: Any):
    _check_text(path)
    # utf-8-sig drops a BOM if there is one.
    return path.open("r", encoding="utf-8-sig", errors="surrogateescape", **kw)


def _iter_csv(path: Path, delimiter: str) -> tuple[list[str], Rows]:
    # newline="" lets csv handle CRLF and quoted newlines.
    fh = _open_text(path, newline="")
    reader = csv.reader(fh, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        fh.close()
        raise CatalogError(f"{path}: the catalog is empty (no header row)") from None
    except csv.Error as exc:
        fh.close()
        raise CatalogError(f"{path}: malformed CSV header: {exc}") from None
    bad = _bad_utf8("".join(header))
    if bad:
        fh.close()
        raise CatalogError(f"{path}: the header row is {bad}")

    def rows() -> Rows:
        with fh:
            yield {}, None  # primed below: from here on, closing the generator closes the file
            try:
                for values in reader:
                    if not values:
                        continue  # a blank line is not a row (as in JSONL)
                    fields = dict(zip(header, values))
                    if len(values) != len(header):
                        yield fields, f"has {len(values)} fields, the header has {len(header)}"
                    else:
                        yield fields, _bad_utf8("".join(values))
            except csv.Error as exc:
                raise CatalogError(f"{path}: malformed CSV at line {reader.line_num}: {exc}") from None

    it = rows()
    next(it)
    return header, it


def _iter_jsonl(path: Path, columns: list[str]) -> Rows:
    # JSONL has no header: `columns` collects the keys seen (first spelling, case-insensitive)
    # so that the required ones can be checked once the file has been read.
    def rows() -> Rows:
        seen: set[str] = set()
        with _open_text(path) as fh:
            for line in fh:
                if not line.strip():
                    continue
                bad = _bad_utf8(line)  # checked on the raw line: a bad byte may be in a key
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield {}, bad or f"invalid JSON: {exc.msg}"
                    continue
                if not isinstance(obj, dict):
                    yield {}, bad or "line is not a JSON object"
                    continue
                if bad is None:
                    for k in obj:
                        if k.strip().lower() not in seen:
                            seen.add(k.strip().lower())
                            columns.append(k)
                yield obj, bad

    return rows()


def _iter_parquet(path: Path) -> tuple[list[str], Rows]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise CatalogError(f"{path}: not a readable Parquet file ({exc})") from None
    header = list(pf.schema_arrow.names)

    def rows() -> Rows:
        for batch in pf.iter_batches(batch_size=65_536):
            for fields in batch.to_pylist():
                yield fields, None

    return header, rows()


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


@dataclass
class Catalog:
    """A catalog file read into products, with every rejected row and why.

    >>> cat = Catalog.read("examples/product-catalog.csv")
    >>> cat.rows_read == len(cat.products) + len(cat.rejected)
    True
    """

    path: Path
    products: list[Product] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    columns: list[str] = field(default_factory=list)
    sha256: str = ""
    #: what the catalog is called when ``path`` is a local copy (e.g. an s3:// URI)
    source: str = ""

    @property
    def name(self) -> str:
        return self.source or str(self.path)

    @classmethod
    def read(cls, path: str | Path, *, check_local_images: bool = True, source: str | None = None,
             base: Path | None = None) -> "Catalog":
        """Read and validate a catalog file. ``source``: the name it is known by when ``path``
        is a local copy (a catalog read from object storage); ``base``: the folder relative
        image paths are resolved against (default: the file's own)."""
        path = Path(path)
        if not path.exists():
            raise CatalogError(f"{path}: no such catalog file")
        if not path.is_file():
            raise CatalogError(f"{path}: not a file")
        fmt = _detect_format(path)
        jsonl_columns: list[str] = []
        if fmt in ("csv", "tsv"):
            header, rows = _iter_csv(path, "," if fmt == "csv" else "\t")
        elif fmt == "jsonl":
            header, rows = jsonl_columns, _iter_jsonl(path, jsonl_columns)
        else:
            header, rows = _iter_parquet(path)
        if fmt != "jsonl":
            try:
                _check_header(path, header)
            except CatalogError:
                rows.close()  # closes the CSV file opened to read the header
                raise

        cat = cls(path=path, columns=header, sha256=file_sha256(path), source=source or "")
        seen: dict[str, int] = {}
        base = base or path.absolute().parent  # image paths must not depend on the cwd later
        for n, (raw, reason) in enumerate(rows, start=1):
            cat.rows_read = n
            result = _validate(raw, reason, n, seen, base, check_local_images)
            if isinstance(result, RowError):
                cat.rejected.append(result)
            else:
                seen[result.id] = n
                cat.products.append(result)
        if cat.rows_read == 0:
            raise CatalogError(f"{path}: the catalog has no data rows")
        if fmt == "jsonl":
            _check_header(path, header)  # the keys seen: known only now
        return cat


    @classmethod
    def from_records(cls, rows: list[dict[str, Any]], *, source: str = "<api>",
                     local_images: bool = False) -> "Catalog":
        """Products given as dicts (the HTTP API's writes), validated like file rows.

        ``local_images`` False: an image must be an http(s) URL, never a path on this machine.
        """
        cat = cls(path=Path(source), rows_read=len(rows))
        seen: dict[str, int] = {}
        for n, raw in enumerate(rows, start=1):
            if not isinstance(raw, dict):
                cat.rejected.append(RowError(n, None, "not a JSON object"))
                continue
            ref = _as_text(next((v for k, v in raw.items() if str(k).strip().lower() == "primary_image"), None))
            if not local_images and ref and not is_url(ref):
                cat.rejected.append(RowError(n, _as_text(raw.get("id")) or None,
                                             "primary_image must be an http(s) URL"))
                continue
            result = _validate(raw, None, n, seen, Path.cwd(), check_local_images=True)
            if isinstance(result, RowError):
                cat.rejected.append(result)
            else:
                seen[result.id] = n
                cat.products.append(result)
        cat.columns = sorted({str(k) for r in rows if isinstance(r, dict) for k in r})
        return cat


def _check_header(path: Path, header: list[str]) -> None:
    lowered: dict[str, list[str]] = {}
    for h in header:
        lowered.setdefault(h.strip().lower(), []).append(h)
    dups = [names[0] for names in lowered.values() if len(names) > 1]
    if dups:  # a dict row would silently keep only the last of them
        raise CatalogError(
            f"{path}: duplicate column(s) {', '.join(map(repr, dups))}"
            " (names must be unique, ignoring case)"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in lowered]
    if missing:
        raise CatalogError(
            f"{path}: missing required column(s) {', '.join(missing)}"
            f" (found: {', '.join(header) or 'none'})"
        )


def _validate(
    raw: dict[str, Any], reason: str | None, n: int, seen: dict[str, int], base: Path,
    check_local_images: bool,
) -> Product | RowError:
    # Column names match case-insensitively; attributes keep the file's spelling.
    by_lower = {str(k).strip().lower(): k for k in raw}

    def get(col: str) -> str:
        key = by_lower.get(col)
        return _as_text(raw.get(key)) if key is not None else ""

    pid = get("id") or None
    if reason is not None:
        # A bad byte may be in the id itself: keep the reported id printable and encodable.
        clean = pid and pid.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return RowError(n, clean, reason)
    if pid is None:
        return RowError(n, None, "missing id")
    description = get("description")
    if not description:
        return RowError(n, pid, "missing description")
    if len(description) > MAX_DESCRIPTION_CHARS:
        return RowError(
            n, pid, f"description is {len(description):,} characters (limit {MAX_DESCRIPTION_CHARS:,})"
        )
    if pid in seen:
        return RowError(n, pid, f"duplicate id (first seen in row {seen[pid]})")

    image_ref = get("primary_image") or None
    image: str | None = None
    if image_ref is not None:
        if is_url(image_ref):
            image = image_ref
        elif "://" in image_ref:
            return RowError(n, pid, f"unsupported image reference {image_ref!r} (use http(s) or a path)")
        else:
            local = Path(image_ref).expanduser()
            local = local if local.is_absolute() else base / local
            if check_local_images and not local.is_file():
                return RowError(n, pid, f"image not found: {image_ref}")
            image = str(local)

    attributes = {
        str(k): _jsonable(v) for k, v in raw.items() if str(k).strip().lower() not in REQUIRED_COLUMNS
    }
    return Product(id=pid, sku_id=get("sku_id"), description=description, image=image,
                   attributes=attributes, row=n, parsed=normalize_description(description))
