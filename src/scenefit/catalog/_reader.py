"""Read a catalog file (CSV, JSONL or Parquet) into validated :class:`Product` rows.

Rows are streamed from the file; each bad row becomes a :class:`RowError` with its reason
and the good rows go on, so ``read == len(products) + len(errors)`` always holds.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .._errors import CatalogError
from .._hashing import file_sha256
from .._types import Product, RowError
from ._normalize import normalize_description

REQUIRED_COLUMNS = ("id", "sku_id", "description", "primary_image")

_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def _detect_format(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CatalogError(
            f"{path}: unknown catalog format {path.suffix!r}; use .csv, .tsv, .jsonl or .parquet"
        )
    return fmt


def _iter_csv(path: Path, delimiter: str) -> tuple[list[str], Iterator[dict[str, Any]]]:
    # utf-8-sig drops a BOM if there is one; newline="" lets csv handle CRLF and quoted newlines.
    fh = path.open("r", encoding="utf-8-sig", newline="")
    reader = csv.reader(fh, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        fh.close()
        raise CatalogError(f"{path}: the catalog is empty (no header row)") from None
    except UnicodeDecodeError as exc:
        fh.close()
        raise CatalogError(f"{path}: not UTF-8 text ({exc.reason})") from None
    header = [h.strip() for h in header]

    def rows() -> Iterator[dict[str, Any]]:
        with fh:
            yield {}  # primed below: from here on, closing the generator closes the file
            try:
                for values in reader:
                    if not values:
                        continue  # a blank line is not a row (as in JSONL)
                    if len(values) != len(header):
                        yield {
                            "__error__": f"has {len(values)} fields, the header has {len(header)}",
                            **dict(zip(header, values)),
                        }
                        continue
                    yield dict(zip(header, values))
            except UnicodeDecodeError as exc:
                raise CatalogError(
                    f"{path}: not UTF-8 text near data row {reader.line_num} ({exc.reason})"
                ) from None
            except csv.Error as exc:
                raise CatalogError(f"{path}: malformed CSV at line {reader.line_num}: {exc}") from None

    it = rows()
    next(it)
    return header, it


def _iter_jsonl(path: Path) -> tuple[list[str], Iterator[dict[str, Any]]]:
    def rows() -> Iterator[dict[str, Any]]:
        with path.open("r", encoding="utf-8-sig") as fh:
            lineno = 0
            try:
                for lineno, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield {"__error__": f"invalid JSON: {exc.msg}"}
                        continue
                    if not isinstance(obj, dict):
                        yield {"__error__": "line is not a JSON object"}
                        continue
                    yield obj
            except UnicodeDecodeError as exc:
                raise CatalogError(f"{path}: not UTF-8 text near line {lineno + 1} ({exc.reason})") from None

    # JSONL has no header: the columns are the union of keys, so required columns are checked
    # per row (a row missing `id` is rejected) rather than up front.
    return list(REQUIRED_COLUMNS), rows()


def _iter_parquet(path: Path) -> tuple[list[str], Iterator[dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise CatalogError(f"{path}: not a readable Parquet file ({exc})") from None
    header = list(pf.schema_arrow.names)

    def rows() -> Iterator[dict[str, Any]]:
        for batch in pf.iter_batches(batch_size=65_536):
            yield from batch.to_pylist()

    return header, rows()


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_url(ref: str) -> bool:
    return ref.lower().startswith(("http://", "https://"))


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

    @classmethod
    def read(cls, path: str | Path, *, check_local_images: bool = True) -> "Catalog":
        path = Path(path)
        if not path.exists():
            raise CatalogError(f"{path}: no such catalog file")
        if not path.is_file():
            raise CatalogError(f"{path}: not a file")
        fmt = _detect_format(path)
        if fmt in ("csv", "tsv"):
            header, rows = _iter_csv(path, "," if fmt == "csv" else "\t")
        elif fmt == "jsonl":
            header, rows = _iter_jsonl(path)
        else:
            header, rows = _iter_parquet(path)

        lowered = {h.lower(): h for h in header}
        missing = [c for c in REQUIRED_COLUMNS if c not in lowered]
        if missing:
            rows.close()  # closes the CSV file opened to read the header
            raise CatalogError(
                f"{path}: missing required column(s) {', '.join(missing)}"
                f" (found: {', '.join(header) or 'none'})"
            )

        cat = cls(path=path, columns=header, sha256=file_sha256(path))
        seen: dict[str, int] = {}
        base = path.absolute().parent  # image paths must not depend on the cwd later
        for n, raw in enumerate(rows, start=1):
            cat.rows_read = n
            result = _validate(raw, n, seen, base, check_local_images)
            if isinstance(result, RowError):
                cat.rejected.append(result)
            else:
                seen[result.id] = n
                cat.products.append(result)
        if cat.rows_read == 0:
            raise CatalogError(f"{path}: the catalog has no data rows")
        return cat


def _validate(
    raw: dict[str, Any], n: int, seen: dict[str, int], base: Path, check_local_images: bool
) -> Product | RowError:
    # Column names match case-insensitively; attributes keep the file's spelling.
    by_lower = {str(k).strip().lower(): k for k in raw}

    def get(col: str) -> str:
        key = by_lower.get(col)
        return _as_text(raw.get(key)) if key is not None else ""

    pid = get("id") or None
    if "__error__" in raw:
        return RowError(n, pid, str(raw["__error__"]))
    if pid is None:
        return RowError(n, None, "missing id")
    description = get("description")
    if not description:
        return RowError(n, pid, "missing description")
    if pid in seen:
        return RowError(n, pid, f"duplicate id (first seen in row {seen[pid]})")

    image_ref = get("primary_image") or None
    image: str | None = None
    if image_ref is not None:
        if _is_url(image_ref):
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
        str(k): v for k, v in raw.items() if str(k).strip().lower() not in REQUIRED_COLUMNS
    }
    return Product(
        id=pid,
        sku_id=get("sku_id"),
        description=description,
        image=image,
        attributes=attributes,
        row=n,
        parsed=normalize_description(description),
    )
