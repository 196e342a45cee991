"""Read a catalog file (CSV, JSONL or Parquet) into validated :class:`Product` rows.

Rows are streamed from the file; each bad row becomes a :class:`RowError` with its reason
and the good rows go on, so ``read == len(products) + len(errors)`` always holds.

CSV, TSV and Parquet have a header: a missing required column, or a name repeated (ignoring
case and surrounding spaces), is a whole-file error. JSONL has no header, so its columns are
the union of the keys seen: each required column must appear in *some* row, and a row that
lacks ``sku_id`` or ``primary_image`` just has them empty (a row that lacks ``id`` or
``description`` is rejected, as in the other formats).

A CSV field whose quote is never closed swallows the lines after it: when whole lines inside
one field read as rows, that row is rejected, or the whole file if the quote runs to its end.
What makes one row valid is in :mod:`._validate`, shared with the HTTP API's writes.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .._errors import CatalogError
from .._hashing import file_sha256
from .._types import Product, RowError
from ._validate import (  # noqa: F401  (the limits are part of this module's interface too)
    MAX_ATTRIBUTE_CHARS, MAX_ATTRIBUTES, MAX_DESCRIPTION_CHARS, MAX_ID_CHARS, REQUIRED_COLUMNS, _kind, is_url,
    validate_row,
)

# csv's default field limit (128 KiB) makes one oversized field abort the whole file with
# csv.Error. Raise it (process-wide, never lowered) so big fields are read and the row is
# judged on its own; a field over 64 MiB is still a whole-file error.
csv.field_size_limit(max(csv.field_size_limit(), 64 << 20))

# Text files are decoded with errors="surrogateescape": an undecodable byte b becomes the
# lone surrogate U+DC00+b, so one bad byte rejects its row instead of the whole file.
_BAD_BYTE = re.compile("[\udc80-\udcff]")
_LINE_BREAK = re.compile("\r\n|\r|\n")  # the breaks the file's lines are split at

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


class _Lines:
    """The file's lines as csv.reader pulls them. ``eof`` turns True only when the reader asks
    past the last line, which it does only while a quoted field is still open."""

    def __init__(self, fh):
        self._it, self.eof = iter(fh), False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            return next(self._it)
        except StopIteration:
            self.eof = True
            raise


def _runaway_quote(values: list[str], width: int, delimiter: str, first_line: int) -> tuple[int, int, int] | None:
    """(line it opened on, lines it spans, whole lines in it that look like rows) for the first
    field of a multi-line row that swallowed rows, else None.

    A real multi-line text field (an address, notes) is kept; a field is judged swallowed when
    a whole line inside it has exactly the header's number of delimiters, i.e. it reads as a
    row of its own. Only whole inner lines count: the first and last pieces of the field are
    parts of the lines the quote opened and closed on."""
    line = first_line
    for v in values:
        parts = _LINE_BREAK.split(v)
        rowlike = sum(1 for part in parts[1:-1] if part.count(delimiter) == width - 1)
        if rowlike:
            return line, len(parts), rowlike
        line += len(parts) - 1
    return None


def _iter_csv(path: Path, delimiter: str) -> tuple[list[str], Rows]:
    # newline="" lets csv handle CRLF and quoted newlines.
    fh = _open_text(path, newline="")
    lines = _Lines(fh)
    reader = csv.reader(lines, delimiter=delimiter)
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
            last = reader.line_num
            try:
                for values in reader:
                    first, last = last + 1, reader.line_num
                    if not values:
                        continue  # a blank line is not a row (as in JSONL)
                    fields = dict(zip(header, values))
                    runaway = _runaway_quote(values, len(header), delimiter, first) if last > first or lines.eof else None
                    if runaway is not None:
                        opened, span, rowlike = runaway
                        if lines.eof:
                            span = last - opened + 1
                            # Everything after the quote became one field: reading on would
                            # report one rejected row for what may be most of the catalog, and
                            # the products it swallowed would silently leave the index.
                            raise CatalogError(
                                f"{path}: a quoted field opened on line {opened} runs to the end of the "
                                f"file, {span:,} lines holding what look like {rowlike:,} rows "
                                '(an unclosed " ?); nothing after it can be read')
                        # The quote closed again (on a stray " further down): the rows after that
                        # read normally, so only this row is rejected, naming where to look.
                        yield fields, (f"a quoted field opened on line {opened} runs on for {span:,} lines, "
                                       f'over what look like {rowlike:,} rows (an unclosed " ?)')
                    elif lines.eof:  # the last row's quote never closed, but swallowed no rows
                        opened = first + sum(len(_LINE_BREAK.split(v)) - 1 for v in values[:-1])
                        yield fields, f'a quoted field opened on line {opened} is never closed (an unclosed " ?)'
                    elif len(values) != len(header):
                        yield fields, f"has {len(values)} fields, the header has {len(header)}"
                    else:
                        yield fields, _bad_utf8("".join(values))
            except csv.Error as exc:
                raise CatalogError(f"{path}: malformed CSV at line {reader.line_num}: {exc}") from None

    it = rows()
    next(it)
    return header, it


@dataclass
class _JsonlSeen:
    """What a JSONL file turned out to hold, known once it has been read."""

    columns: list[str] = field(default_factory=list)  # keys seen (first spelling, case-insensitive)
    objects: int = 0
    first_error: str | None = None  # "line N: why", for a file where no line is an object


def _iter_jsonl(path: Path, state: _JsonlSeen) -> Rows:
    # JSONL has no header: `state.columns` collects the keys seen so that the required ones
    # can be checked once the file has been read.
    columns = state.columns

    def rows() -> Rows:
        seen: set[str] = set()
        with _open_text(path) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                bad = _bad_utf8(line)  # checked on the raw line: a bad byte may be in a key
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    state.first_error = state.first_error or f"line {number}: invalid JSON: {exc.msg}"
                    yield {}, bad or f"invalid JSON: {exc.msg}"
                    continue
                except RecursionError:  # nested deeper than the parser goes: junk, not a row
                    state.first_error = state.first_error or f"line {number}: JSON nested too deeply"
                    yield {}, bad or "invalid JSON: nested too deeply"
                    continue
                if not isinstance(obj, dict):
                    state.first_error = state.first_error or f"line {number} is {_kind(obj)}"
                    yield {}, bad or "line is not a JSON object"
                    continue
                state.objects += 1
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
        jsonl = _JsonlSeen()
        if fmt in ("csv", "tsv"):
            header, rows = _iter_csv(path, "," if fmt == "csv" else "\t")
        elif fmt == "jsonl":
            header, rows = jsonl.columns, _iter_jsonl(path, jsonl)
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
            result = validate_row(raw, reason, n, seen, base, check_local_images)
            if isinstance(result, RowError):
                cat.rejected.append(result)
            else:
                seen[result.id] = n
                cat.products.append(result)
        if cat.rows_read == 0:
            raise CatalogError(f"{path}: the catalog has no data rows")
        if fmt == "jsonl" and jsonl.objects == 0:
            # Not "missing every column": the file is not JSONL at all (a CSV renamed, say).
            raise CatalogError(f"{path}: no line is a JSON object, as each line of a JSONL catalog must be "
                               f"({jsonl.first_error})")
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
            result = validate_row(raw, None, n, seen, Path.cwd(), check_local_images=True,
                                  urls_only=not local_images)
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
