"""Catalog.read: formats, per-row rejection with reasons, and whole-file errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from scenefit import CatalogError
from scenefit.catalog import Catalog

SEED = Path(__file__).resolve().parents[2] / "examples" / "product-catalog.csv"
HEADER = "id,sku_id,description,primary_image"


def _write(path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def _balanced(cat: Catalog) -> None:
    assert cat.rows_read == len(cat.products) + len(cat.rejected)


def _reasons(cat: Catalog) -> dict[int, str]:
    return {e.row: e.reason for e in cat.rejected}


# -- the real seed catalog ----------------------------------------------------------------

@pytest.fixture(scope="module")
def seed():
    if not SEED.is_file():
        pytest.skip("seed catalog not present")
    return Catalog.read(SEED)


def test_seed_catalog_reads_every_row(seed):
    assert seed.rows_read == 500
    assert len(seed.products) == 500 and seed.rejected == []
    assert len({p.id for p in seed.products}) == 500
    assert seed.columns == ["id", "sku_id", "description", "primary_image"]
    assert [p.row for p in seed.products] == list(range(1, 501))


def test_seed_catalog_empty_image_is_none(seed):
    p = next(p for p in seed.products if p.id == "0f8b63e1-c7df-4d7f-97e2-3e2146842f5b")
    assert p.description == 'PAPER MACHE, 10" EARED VASE, IVORY'
    assert p.image is None
    assert sum(p.image is None for p in seed.products) == 1


def test_seed_catalog_curly_quote_row_is_intact(seed):
    p = next(p for p in seed.products if p.id == "ded41a12-7246-4937-9661-a913498616f4")
    assert p.description == "10\u201d, NAVY BLUE CERAMIC SEATED BUDDHA"
    assert p.sku_id == "10901-02"
    assert p.image == "https://fileserver-g-p.sourcerer.tech/files/292d243a-ad9d-4254-815b-50c54981af51"
    assert p.parsed is not None and p.parsed.category == "figurine"


def test_seed_catalog_urls_kept_and_hash_set(seed):
    urls = [p.image for p in seed.products if p.image]
    assert len(urls) == 499
    assert all(u.startswith("https://") for u in urls)
    assert seed.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()


# -- formats ------------------------------------------------------------------------------

def test_csv_with_bom_and_crlf(tmp_path):
    path = _write(
        tmp_path / "c.csv",
        f'{HEADER},price\n1,s1,"GOLD VASE, 10""",https://x.test/1.jpg,9.5\n2,s2,BLUE BOWL,,3\n',
        encoding="utf-8-sig", newline="\r\n",
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in path.read_bytes()
    cat = Catalog.read(path)
    assert cat.columns == ["id", "sku_id", "description", "primary_image", "price"]
    assert [p.id for p in cat.products] == ["1", "2"]  # not "\ufeffid" trouble
    assert cat.products[0].description == 'GOLD VASE, 10"'
    assert cat.products[1].attributes == {"price": "3"}  # no stray "\r"
    assert cat.rejected == []
    _balanced(cat)


def test_tsv(tmp_path):
    path = _write(
        tmp_path / "c.tsv",
        "id\tsku_id\tdescription\tprimary_image\tcolour\n"
        "1\ts1\tGOLD VASE, TALL\thttps://x.test/1.jpg\tgold\n"
        "2\ts2\tWHITE JAR\t\twhite\n",
    )
    cat = Catalog.read(path)
    assert [(p.id, p.description, p.image) for p in cat.products] == [
        ("1", "GOLD VASE, TALL", "https://x.test/1.jpg"),
        ("2", "WHITE JAR", None),
    ]
    assert cat.products[0].attributes == {"colour": "gold"}
    _balanced(cat)


def test_jsonl_with_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "1", "sku_id": "s1", "description": "GOLD VASE", "primary_image": "https://x.test/1.jpg",
                    "price": 12.5}),
        "{not json",
        json.dumps(["a", "list"]),
        "",  # blank lines are not rows
        json.dumps({"id": 4, "description": "WHITE JAR"}),  # numeric id, no image or sku columns
        json.dumps({"sku_id": "s5", "description": "NO ID"}),
    ]
    cat = Catalog.read(_write(tmp_path / "c.jsonl", "\n".join(lines) + "\n"))
    assert [p.id for p in cat.products] == ["1", "4"]
    assert cat.products[0].attributes == {"price": 12.5}
    assert cat.products[1].image is None and cat.products[1].sku_id == ""
    reasons = _reasons(cat)
    assert reasons[2].startswith("invalid JSON")
    assert reasons[3] == "line is not a JSON object"
    assert reasons[5] == "missing id"
    assert cat.rows_read == 5
    _balanced(cat)


def test_jsonl_line_nested_too_deep_rejects_only_its_line(tmp_path):
    lines = [json.dumps({"id": "1", "sku_id": "s1", "description": "GOLD VASE", "primary_image": ""}),
             "[" * 100_000 + "]" * 100_000,
             json.dumps({"id": "2", "description": "WHITE JAR"})]
    cat = Catalog.read(_write(tmp_path / "c.jsonl", "\n".join(lines) + "\n"))
    assert [p.id for p in cat.products] == ["1", "2"]
    assert _reasons(cat) == {2: "invalid JSON: nested too deeply"}
    _balanced(cat)


def test_parquet_keeps_numeric_columns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({
        "ID": ["1", "2", None],
        "sku_id": ["s1", "s2", "s3"],
        "description": ["GOLD VASE", "BLUE BOWL", "NO ID HERE"],
        "primary_image": ["https://x.test/1.jpg", None, None],
        "price": [9.5, 12.0, 1.0],
        "stock": pa.array([3, 0, 7], pa.int64()),
    })
    path = tmp_path / "c.parquet"
    pq.write_table(table, path)
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["1", "2"]
    assert cat.products[0].attributes == {"price": 9.5, "stock": 3}
    assert cat.products[1].image is None
    assert _reasons(cat) == {3: "missing id"}
    _balanced(cat)


# -- bad rows are reported, good rows go on -----------------------------------------------

def test_bad_rows_reported_per_row(tmp_path, write_image):
    write_image(tmp_path / "img" / "ok.png")
    path = _write(tmp_path / "c.csv", "\n".join([
        HEADER,
        "1,s1,GOLD VASE,img/ok.png",            # 1 good, local image
        ",s2,NO ID,",                           # 2 missing id
        "3,s3,,",                               # 3 missing description
        "1,s4,GOLD VASE AGAIN,",                # 4 duplicate of row 1
        "5,s5,WHITE JAR,img/missing.png",       # 5 image not found
        "6,s6,BLUE BOWL,ftp://x.test/6.jpg",    # 6 unsupported scheme
        "7,s7,TOO,MANY,FIELDS",                 # 7 wrong field count
        "8,s8,RED BOX",                         # 8 too few fields
        "9,s9,GREEN TRAY,https://x.test/9.jpg", # 9 good, after all the bad ones
    ]) + "\n")
    cat = Catalog.read(path)
    assert [(p.id, p.row) for p in cat.products] == [("1", 1), ("9", 9)]
    reasons = _reasons(cat)
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8]
    assert reasons[2] == "missing id"
    assert reasons[3] == "missing description"
    assert "duplicate id" in reasons[4] and "row 1" in reasons[4]
    assert reasons[5].startswith("image not found") and "img/missing.png" in reasons[5]
    assert "unsupported" in reasons[6] and "ftp://" in reasons[6]
    assert "5 fields" in reasons[7] and "header has 4" in reasons[7]
    assert "3 fields" in reasons[8]
    ids = {e.row: e.id for e in cat.rejected}
    assert ids[2] is None and ids[4] == "1" and ids[6] == "6"
    assert cat.rows_read == 9
    _balanced(cat)


def test_duplicate_reason_names_first_accepted_row(tmp_path):
    path = _write(tmp_path / "c.csv", f"{HEADER}\na,s,X,\nb,s,Y,\nc,s,Z,\nb,s,Y2,\nb,s,Y3,\n")
    reasons = _reasons(Catalog.read(path))
    assert reasons == {4: "duplicate id (first seen in row 2)", 5: "duplicate id (first seen in row 2)"}


def test_missing_local_image_kept_when_not_checked(tmp_path):
    path = _write(tmp_path / "c.csv", f"{HEADER}\n1,s1,GOLD VASE,nope.png\n")
    cat = Catalog.read(path, check_local_images=False)
    assert cat.rejected == [] and cat.products[0].image == str(tmp_path / "nope.png")


def test_local_images_resolve_against_catalog_folder(tmp_path, write_image, monkeypatch):
    folder = tmp_path / "data"
    img = write_image(folder / "pics" / "a.png")
    path = _write(folder / "c.csv", f"{HEADER}\n1,s1,GOLD VASE,pics/a.png\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # nothing called pics/a.png here
    cat = Catalog.read(path)
    assert cat.rejected == []
    assert Path(cat.products[0].image).resolve() == img.resolve()


def test_local_image_path_survives_a_change_of_cwd(tmp_path, write_image, monkeypatch):
    # A catalog named by a relative path must still give image paths that work from anywhere.
    img = write_image(tmp_path / "data" / "pics" / "a.png")
    _write(tmp_path / "data" / "c.csv", f"{HEADER}\n1,s1,GOLD VASE,pics/a.png\n")
    monkeypatch.chdir(tmp_path)
    cat = Catalog.read("data/c.csv")
    assert cat.rejected == []
    monkeypatch.chdir(tmp_path / "data")
    assert Path(cat.products[0].image).is_file()
    assert Path(cat.products[0].image).resolve() == img.resolve()


def test_extra_columns_kept_and_required_matched_case_insensitively(tmp_path):
    path = _write(
        tmp_path / "c.csv",
        "ID,SKU_ID,Description,Primary_Image,Price,category,Tags\n"
        '1,s1,GOLD VASE,,19.99,Vases,"gold, tall"\n',
    )
    cat = Catalog.read(path)
    (p,) = cat.products
    assert (p.id, p.sku_id, p.description, p.image) == ("1", "s1", "GOLD VASE", None)
    assert p.attributes == {"Price": "19.99", "category": "Vases", "Tags": "gold, tall"}
    assert cat.columns == ["ID", "SKU_ID", "Description", "Primary_Image", "Price", "category", "Tags"]


# -- whole-file errors --------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="no such catalog file"):
        Catalog.read(tmp_path / "absent.csv")


def test_directory(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(CatalogError, match="not a file"):
        Catalog.read(tmp_path / "dir.csv")


@pytest.mark.parametrize("name", ["e.csv", "e.tsv", "e.jsonl"])
def test_empty_file(tmp_path, name):
    path = _write(tmp_path / name, "")
    with pytest.raises(CatalogError, match="empty|no data rows"):
        Catalog.read(path)


@pytest.mark.parametrize("text", [HEADER + "\n", HEADER])
def test_header_only(tmp_path, text):
    with pytest.raises(CatalogError, match="no data rows"):
        Catalog.read(_write(tmp_path / "h.csv", text))


def test_missing_required_columns_are_listed(tmp_path):
    path = _write(tmp_path / "m.csv", "id,desc,image\n1,GOLD VASE,\n")
    with pytest.raises(CatalogError) as exc:
        Catalog.read(path)
    msg = str(exc.value)
    assert "missing required column" in msg
    listed = msg.split("column(s)")[1].split("(found")[0]
    assert [c.strip() for c in listed.split(",")] == ["sku_id", "description", "primary_image"]
    assert "found: id, desc, image" in msg


def _open_paths() -> set[Path]:
    fds = Path("/proc/self/fd")
    out = set()
    for fd in fds.iterdir():
        try:
            out.add(Path(fd.readlink()))
        except OSError:
            pass
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_missing_column_does_not_leave_the_file_open(tmp_path):
    path = _write(tmp_path / "m.csv", "x,y\n1,2\n")
    with pytest.raises(CatalogError) as exc:
        Catalog.read(path)
    # While the error (and its traceback) is alive, the file must already be closed.
    assert exc.value is not None and path.resolve() not in _open_paths()


def test_unknown_extension(tmp_path):
    path = _write(tmp_path / "c.xlsx", "whatever")
    with pytest.raises(CatalogError, match=r"unknown catalog format '\.xlsx'"):
        Catalog.read(path)


def test_non_utf8_byte_rejects_only_its_row(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes((HEADER + "\n1,s1,GOLD VASE,\n").encode() + b"2,s2,CAF\xc9 VASE,\n3,s3,BLUE BOWL,\n")
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["1", "3"]
    assert _reasons(cat) == {2: "not valid UTF-8 (byte 0xc9)"}
    assert cat.rejected[0].id == "2"
    _balanced(cat)


def test_non_utf8_deep_in_a_large_csv(tmp_path):
    good = "".join(f"{i},s{i},GOLD VASE NUMBER {i},\n" for i in range(1, 3000))
    path = tmp_path / "big.csv"
    path.write_bytes((HEADER + "\n" + good).encode() + b"3000,s,CAF\xc9 VASE,\n3001,s,LAST,\n")
    cat = Catalog.read(path)
    assert len(cat.products) == 3000 and cat.products[-1].id == "3001"
    assert _reasons(cat) == {3000: "not valid UTF-8 (byte 0xc9)"}
    _balanced(cat)


def test_non_utf8_id_is_reported_printably(tmp_path):
    # The rejection is shown and saved later: its id must be encodable, not a lone surrogate.
    path = tmp_path / "c.tsv"
    path.write_bytes(b"id\tsku_id\tdescription\tprimary_image\nA\xff1\ts\tVASE\t\n")
    cat = Catalog.read(path)
    (err,) = cat.rejected
    assert err.reason == "not valid UTF-8 (byte 0xff)"
    err.id.encode("utf-8")  # no UnicodeEncodeError
    assert err.id == "A\ufffd1"


def test_non_utf8_jsonl_rejects_only_its_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        b'{"id": "1", "sku_id": "s", "description": "CAF\xc9 VASE", "primary_image": ""}\n'
        b'{"id": "2", "sku_id": "s", "description": "GOLD VASE", "primary_image": ""}\n'
    )
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["2"]
    assert _reasons(cat) == {1: "not valid UTF-8 (byte 0xc9)"}
    assert cat.rejected[0].id == "1"
    _balanced(cat)


def test_non_utf8_header_is_a_file_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,sku_id,descripci\xf3n,primary_image\n1,s,VASE,\n")
    with pytest.raises(CatalogError, match=r"header.*not valid UTF-8 \(byte 0xf3\)"):
        Catalog.read(path)


@pytest.mark.parametrize("name", ["c.csv", "c.tsv", "c.jsonl"])
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_file_is_a_file_error(tmp_path, name, encoding):
    # "utf-16" writes a BOM, "utf-16-le" does not (caught by its NUL bytes).
    text = f"{HEADER}\n1,s1,GOLD VASE,\n" if name != "c.jsonl" else '{"id": "1", "description": "X"}\n'
    path = _write(tmp_path / name, text, encoding=encoding)
    with pytest.raises(CatalogError, match="not UTF-8.*UTF-16"):
        Catalog.read(path)


def test_binary_file_is_a_file_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4)
    with pytest.raises(CatalogError, match="not UTF-8.*NUL"):
        Catalog.read(path)


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "c.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(CatalogError, match="not a readable Parquet file"):
        Catalog.read(path)


# -- review fixes: required JSONL keys, duplicate headers, big fields, typed Parquet ------

def test_jsonl_missing_required_key_everywhere_is_a_file_error(tmp_path):
    lines = [json.dumps({"sku_id": f"s{i}", "primary_image": "", "name": "VASE"}) for i in range(3)]
    path = _write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(CatalogError) as exc:
        Catalog.read(path)
    msg = str(exc.value)
    listed = msg.split("missing required column(s)")[1].split("(found")[0]
    assert [c.strip() for c in listed.split(",")] == ["id", "description"]
    assert "found: sku_id, primary_image, name" in msg


def test_jsonl_required_keys_only_need_to_appear_somewhere(tmp_path):
    lines = [
        json.dumps({"ID": "1", "Description": "GOLD VASE"}),  # no sku_id / primary_image: fine
        json.dumps({"id": "2", "description": "BLUE BOWL", "SKU_ID": "s2", "primary_image": "https://x.test/2.jpg"}),
    ]
    cat = Catalog.read(_write(tmp_path / "c.jsonl", "\n".join(lines) + "\n"))
    assert [(p.id, p.sku_id, p.image) for p in cat.products] == [
        ("1", "", None), ("2", "s2", "https://x.test/2.jpg")]
    assert cat.columns == ["ID", "Description", "SKU_ID", "primary_image"]


def test_jsonl_missing_sku_and_image_columns_entirely(tmp_path):
    path = _write(tmp_path / "c.jsonl", json.dumps({"id": "1", "description": "VASE"}) + "\n")
    with pytest.raises(CatalogError, match="missing required column.*sku_id, primary_image"):
        Catalog.read(path)


@pytest.mark.parametrize("header", [
    "id,sku_id,description,primary_image,color,color,ID",
    "id,sku_id,description,primary_image, Color ,color",
])
def test_duplicate_csv_header_is_a_file_error(tmp_path, header):
    path = _write(tmp_path / "c.csv", header + "\n" + ",".join("x" * (header.count(",") + 1)) + "\n")
    with pytest.raises(CatalogError, match=r"(?i)duplicate column.*'color'"):
        Catalog.read(path)


def test_duplicate_csv_header_names_every_duplicate(tmp_path):
    path = _write(tmp_path / "c.tsv", "id\tsku_id\tdescription\tprimary_image\tcolor\tcolor\tID\n1\t2\t3\t4\t5\t6\t7\n")
    with pytest.raises(CatalogError) as exc:
        Catalog.read(path)
    assert "'id'" in str(exc.value) and "'color'" in str(exc.value)


def test_duplicate_parquet_columns_are_a_file_error(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    cols = ["id", "sku_id", "description", "primary_image", "Color", "color"]
    table = pa.Table.from_arrays([pa.array(["1"])] * len(cols), names=cols)
    pq.write_table(table, tmp_path / "c.parquet")
    with pytest.raises(CatalogError, match=r"duplicate column.*'Color'"):
        Catalog.read(tmp_path / "c.parquet")


def test_huge_csv_field_rejects_only_its_row(tmp_path):
    huge = "GOLD VASE " * 20_000  # 200 KB: over csv's default 128 KiB field limit
    path = _write(tmp_path / "c.csv", f'{HEADER}\n1,s1,"{huge}",\n2,s2,BLUE BOWL,\n')
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["2"]
    (err,) = cat.rejected
    assert (err.row, err.id) == (1, "1")
    assert "description is 199,999 characters" in err.reason and "10,000" in err.reason
    _balanced(cat)


def test_big_attribute_field_rejects_only_its_row_and_one_at_the_cap_is_kept(tmp_path):
    # Read whatever its size (no csv.Error for the file), but every attribute is returned with
    # every match that includes the product: one over MAX_ATTRIBUTE_CHARS rejects its row.
    from scenefit.catalog import MAX_ATTRIBUTE_CHARS

    at_cap, over = "x" * MAX_ATTRIBUTE_CHARS, "x" * 200_000
    cat = Catalog.read(_write(tmp_path / "c.csv", f"{HEADER},notes\n1,s1,VASE,,{at_cap}\n2,s2,BOWL,,{over}\n"))
    assert [p.id for p in cat.products] == ["1"] and cat.products[0].attributes == {"notes": at_cap}
    assert _reasons(cat) == {2: "attribute 'notes' is 200,000 characters (limit 10,000)"}
    _balanced(cat)


def test_description_at_the_cap_is_accepted(tmp_path):
    lines = [json.dumps({"id": "1", "sku_id": "", "description": "V" * 10_000, "primary_image": ""}),
             json.dumps({"id": "2", "sku_id": "", "description": "V" * 10_001, "primary_image": ""})]
    cat = Catalog.read(_write(tmp_path / "c.jsonl", "\n".join(lines) + "\n"))
    assert [p.id for p in cat.products] == ["1"] and [e.row for e in cat.rejected] == [2]


def test_typed_parquet_attributes_are_json_serialisable(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import datetime as dt
    from decimal import Decimal

    import pyarrow.parquet as pq

    table = pa.table({
        "id": ["1"], "sku_id": ["s1"], "description": ["GOLD VASE"], "primary_image": [None],
        "price": pa.array([Decimal("19.99")], pa.decimal128(10, 2)),
        "added": pa.array([dt.date(2024, 3, 1)], pa.date32()),
        "updated": pa.array([dt.datetime(2024, 3, 1, 12, 30)], pa.timestamp("us")),
        "blob": pa.array([b"\x00\xffab"], pa.binary()),
        "stock": pa.array([3], pa.int32()),
        "weight": [1.5], "active": [True], "note": [None], "label": ["gold"],
        "sizes": pa.array([[Decimal("1.5"), None]], pa.list_(pa.decimal128(4, 1))),
    })
    pq.write_table(table, tmp_path / "c.parquet")
    (p,) = Catalog.read(tmp_path / "c.parquet").products
    assert p.attributes == {
        "price": 19.99, "added": "2024-03-01", "updated": "2024-03-01T12:30:00",
        "blob": "00ff6162", "stock": 3, "weight": 1.5, "active": True, "note": None,
        "label": "gold", "sizes": [1.5, None],
    }
    assert type(p.attributes["price"]) is float and type(p.attributes["stock"]) is int
    json.dumps(p.attributes, allow_nan=False)


def test_field_named_error_is_just_an_attribute(tmp_path):
    # A column called __error__ must not be mistaken for the reader's own row-error marker.
    line = json.dumps({"id": "1", "sku_id": "", "description": "VASE", "primary_image": "", "__error__": "x"})
    cat = Catalog.read(_write(tmp_path / "c.jsonl", line + "\n"))
    assert cat.rejected == [] and cat.products[0].attributes == {"__error__": "x"}
