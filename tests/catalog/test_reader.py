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


def test_non_utf8_csv(tmp_path):
    path = _write(tmp_path / "c.csv", f"{HEADER}\n1,s1,CAF\u00c9 VASE,\n", encoding="latin-1")
    with pytest.raises(CatalogError, match="not UTF-8"):
        Catalog.read(path)


def test_non_utf8_deep_in_a_large_csv(tmp_path):
    good = "".join(f"{i},s{i},GOLD VASE NUMBER {i},\n" for i in range(1, 3000))
    path = tmp_path / "big.csv"
    path.write_bytes((HEADER + "\n" + good).encode() + b"3000,s,CAF\xc9 VASE,\n")
    with pytest.raises(CatalogError, match="not UTF-8"):
        Catalog.read(path)


def test_non_utf8_jsonl(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id": "1", "sku_id": "s", "description": "CAF\xc9 VASE", "primary_image": ""}\n')
    with pytest.raises(CatalogError, match="not UTF-8"):
        Catalog.read(path)


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "c.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(CatalogError, match="not a readable Parquet file"):
        Catalog.read(path)
