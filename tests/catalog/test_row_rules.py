"""The row rules files and the HTTP API share: runaway quotes, one column lookup, ids, sizes,
text-only required columns, lone surrogates, and the messages of whole-file errors."""

from __future__ import annotations

import json

import pytest

from scenefit import CatalogError
from scenefit.catalog import MAX_ATTRIBUTE_CHARS, MAX_ATTRIBUTES, MAX_ID_CHARS, Catalog

HEADER = "id,sku_id,description,primary_image"


def _rows(n: int, *, broken: dict[int, str] | None = None) -> str:
    broken = broken or {}
    return HEADER + "\n" + "".join(broken.get(i, f"{i},s{i},VASE NUMBER {i},") + "\n" for i in range(1, n + 1))


def _reasons(cat: Catalog) -> dict[int, str]:
    return {e.row: e.reason for e in cat.rejected}


def _csv(tmp_path, text: str):
    """``text`` as a catalog file, byte for byte (its line endings kept)."""
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode())
    return path


def _one(row: dict, **kw) -> str:
    """The reason the API's path (from_records) gives for this one row."""
    cat = Catalog.from_records([row], **kw)
    assert cat.products == [] and len(cat.rejected) == 1, cat
    return cat.rejected[0].reason


# -- a stray quote --------------------------------------------------------------------------

def test_unclosed_quote_that_runs_to_the_end_refuses_the_file(tmp_path):
    path = _csv(tmp_path, _rows(200, broken={2: '2,s2,"GOLD VASE,'}))
    with pytest.raises(CatalogError) as exc:
        Catalog.read(path)
    msg = str(exc.value)
    # Row 2 is line 3; it swallows every line after it, through line 201.
    assert "quoted field opened on line 3 runs to the end of the file" in msg
    assert "199 lines" in msg and "198 rows" in msg and 'unclosed "' in msg


def test_stray_quote_closed_further_down_rejects_its_row_and_the_rest_reads(tmp_path):
    # The quote opened in row 2 closes on row 60's 10" (line 61): rows 61.. read normally.
    path = _csv(tmp_path, _rows(200, broken={2: '2,s2,"GOLD VASE,', 60: '60,s60,10" VASE,'}))
    cat = Catalog.read(path)
    assert _reasons(cat) == {2: 'a quoted field opened on line 3 runs on for 59 lines, '
                                'over what look like 57 rows (an unclosed " ?)'}
    assert [p.id for p in cat.products] == ["1"] + [str(i) for i in range(61, 201)]
    assert cat.rows_read == len(cat.products) + len(cat.rejected)


def test_the_line_named_is_where_the_quote_opened_after_a_real_multiline_field(tmp_path):
    path = tmp_path / "c.tsv"
    rows = ["id\tsku_id\tdescription\tprimary_image\tnotes",
            '1\ts1\t"VASE\nTALL"\t\t"a\nb\nc"',  # lines 2-3 and 3-5: legitimate
            '2\ts2\tBOWL\t\t"never closed',            # line 6
            "3\ts3\tJAR\t\tx", "4\ts4\tPOT\t\ty"]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(CatalogError, match="opened on line 6 runs to the end of the file, 3 lines"):
        Catalog.read(path)


def test_legitimate_multiline_fields_are_kept(tmp_path):
    # Addresses and notes over several lines, commas included, CRLF line ends too.
    text = (f"{HEADER},notes\r\n"
            '1,s1,"GOLD VASE\r\nTALL, WITH HANDLES",,"line one\r\nline two, with a comma\r\nline three"\r\n'
            '2,s2,BLUE BOWL,,"a\r\nb, c\r\nd\r\ne"\r\n'
            "3,s3,JAR,,\r\n")
    path = _csv(tmp_path, text)
    cat = Catalog.read(path)
    assert cat.rejected == [] and [p.id for p in cat.products] == ["1", "2", "3"]
    assert cat.products[0].description == "GOLD VASE\r\nTALL, WITH HANDLES"
    assert cat.products[1].attributes == {"notes": "a\r\nb, c\r\nd\r\ne"}


def test_last_rows_unclosed_quote_rejects_that_row(tmp_path):
    path = _csv(tmp_path, f'{HEADER}\n1,s1,VASE,\n2,s2,BOWL,"https://x.test/2.jpg\n')
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["1"]
    assert _reasons(cat) == {2: 'a quoted field opened on line 3 is never closed (an unclosed " ?)'}


# -- one column lookup ------------------------------------------------------------------------

@pytest.mark.parametrize("image", ["/etc/passwd", "/etc/nope"])
def test_case_variant_column_is_rejected_not_checked_another_way(image):
    # What the API builds for PUT {"PRIMARY_IMAGE": ...}: no path accepted, no existence told.
    reason = _one({"id": "x", "description": "d", "primary_image": None, "PRIMARY_IMAGE": image})
    assert "duplicate column(s) 'PRIMARY_IMAGE'" in reason and "not found" not in reason


def test_case_variant_keys_in_a_jsonl_line_reject_that_line(tmp_path):
    lines = [json.dumps({"id": "1", "sku_id": "", "description": "VASE", "primary_image": ""}),
             json.dumps({"id": "2", "sku_id": "", "description": "BOWL", "primary_image": "", " Description": "X"})]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n")
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["1"]
    assert "duplicate column(s) ' Description'" in _reasons(cat)[2]


def test_api_rows_need_url_images_whatever_the_key_spelling(tmp_path):
    assert _one({"ID": "x", "Description": "d", " Primary_Image ": "/etc/passwd"}) == \
        "primary_image must be an http(s) URL"
    cat = Catalog.from_records([{"id": "x", "description": "d", "Primary_Image": "https://x.test/a.jpg"}])
    assert cat.rejected == [] and cat.products[0].image == "https://x.test/a.jpg"


# -- ids --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pid", "needle"), [
    (" pad ", "id has leading or trailing spaces"),
    ("pad\t", "id has leading or trailing spaces"),
    ("a\0b", "id has a control character (U+0000)"),
    ("a\x1bb", "id has a control character (U+001B)"),
    ("x" * (MAX_ID_CHARS + 1), f"id is {MAX_ID_CHARS + 1:,} characters (limit {MAX_ID_CHARS:,})"),
    ("x" * 60_000, "id is 60,000 characters"),
])
def test_bad_ids_are_rejected_not_altered(pid, needle):
    assert needle in _one({"id": pid, "description": "d"})


def test_reported_long_id_is_bounded():
    (err,) = Catalog.from_records([{"id": "x" * 60_000, "description": "d"}]).rejected
    assert len(err.id) <= MAX_ID_CHARS + 1


def test_id_at_the_cap_and_inner_spaces_are_kept():
    cat = Catalog.from_records([{"id": "x" * MAX_ID_CHARS, "description": "d"}, {"id": "a b", "description": "d"},
                                {"id": 7, "description": "d"}, {"id": 8.0, "description": "d"}])
    assert cat.rejected == [] and [p.id for p in cat.products] == ["x" * MAX_ID_CHARS, "a b", "7", "8"]


def test_padded_id_in_a_csv_is_rejected(tmp_path):
    path = _csv(tmp_path, f"{HEADER}\n pad ,s,VASE,\nok,s,BOWL,\n")
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["ok"]
    assert _reasons(cat) == {1: "id has leading or trailing spaces"}


# -- sizes and types --------------------------------------------------------------------------

def test_attribute_over_the_cap_is_rejected_at_the_cap_kept():
    ok = Catalog.from_records([{"id": "1", "description": "d", "notes": "n" * MAX_ATTRIBUTE_CHARS}])
    assert ok.rejected == []
    assert _one({"id": "1", "description": "d", "notes": "n" * 10_000_000}) == \
        "attribute 'notes' is 10,000,000 characters (limit 10,000)"
    assert "as JSON" in _one({"id": "1", "description": "d", "sizes": ["n" * 100] * 200})


def test_too_many_attributes():
    row = {"id": "1", "description": "d", **{f"c{i}": i for i in range(MAX_ATTRIBUTES)}}
    assert Catalog.from_records([row]).rejected == []
    row["one_more"] = 1
    assert _one(row) == f"has {MAX_ATTRIBUTES + 1} attribute columns (limit {MAX_ATTRIBUTES})"


@pytest.mark.parametrize(("col", "value", "kind"), [
    ("description", ["a", "b"], "a list"), ("description", {"a": 1}, "an object"),
    ("id", ["x"], "a list"), ("sku_id", {"k": "v"}, "an object"), ("primary_image", ["https://x.test/a"], "a list"),
    ("id", True, "true/false"),
])
def test_required_columns_must_be_text(col, value, kind):
    row = {"id": "1", "sku_id": "s", "description": "d", "primary_image": None, col: value}
    assert _one(row) == f"{col} is {kind}, not text"


def test_parquet_list_description_is_rejected(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["1", "2"], "sku_id": ["s", "s"], "description": [["GOLD", "VASE"], ["BOWL"]],
                             "primary_image": [None, None]}), tmp_path / "c.parquet")
    cat = Catalog.read(tmp_path / "c.parquet")
    assert cat.products == [] and _reasons(cat) == {1: "description is a list, not text", 2: "description is a list, not text"}


# -- lone surrogates ---------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "where"), [
    ({"id": "1", "description": "d", "colour": "\udfff"}, "column 'colour'"),
    ({"id": "1", "description": "d", "tags": {"x": ["ok", "\ud800"]}}, "column 'tags'"),
    ({"id": "1", "description": "d", "tags": {"\udc00": 1}}, "column 'tags'"),
    ({"id": "1", "description": "d\udfff"}, "column 'description'"),
    ({"id": "1", "description": "d", "\udfffkey": "v"}, "a column name"),
])
def test_lone_surrogates_anywhere_reject_the_row(row, where):
    reason = _one(row)
    assert reason.startswith(f"{where} is not valid Unicode text") and "lone surrogate" in reason


def test_lone_surrogate_id_is_reported_encodably():
    (err,) = Catalog.from_records([{"id": "a\udfff", "description": "d"}]).rejected
    assert "lone surrogate" in err.reason
    json.dumps(err.id, ensure_ascii=False).encode("utf-8")  # no UnicodeEncodeError


def test_jsonl_surrogate_escape_rejects_only_its_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "1", "sku_id": "", "description": "VASE", "primary_image": "", "c": "\\udfff"}\n'
                    '{"id": "2", "sku_id": "", "description": "BOWL", "primary_image": ""}\n')
    cat = Catalog.read(path)
    assert [p.id for p in cat.products] == ["2"] and "lone surrogate" in _reasons(cat)[1]


# -- messages ----------------------------------------------------------------------------------

def test_all_malformed_jsonl_says_so_with_the_first_lines_error(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n" + HEADER + "\n1,s,VASE,\n")  # a CSV under a .jsonl name
    with pytest.raises(CatalogError) as exc:
        Catalog.read(path)
    msg = str(exc.value)
    assert "no line is a JSON object" in msg and "line 2: invalid JSON" in msg
    assert "missing required column" not in msg


def test_jsonl_of_non_objects_names_what_the_first_line_is(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('["a", "list"]\n3\n')
    with pytest.raises(CatalogError, match=r"no line is a JSON object.*\(line 1 is a list\)"):
        Catalog.read(path)


def test_a_folder_as_product_image_says_it_is_a_folder(tmp_path):
    (tmp_path / "pics").mkdir()
    path = _csv(tmp_path, f"{HEADER}\n1,s,VASE,pics\n2,s,BOWL,nope.png\n")
    assert _reasons(Catalog.read(path)) == {1: "image is a folder, not an image file: pics",
                                            2: "image not found: nope.png"}


def test_files_and_api_share_one_rule(tmp_path):
    # The same bad id gives the same reason whichever way it arrives.
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "a\u0000b", "sku_id": "", "description": "d", "primary_image": ""}) + "\n")
    (err,) = Catalog.read(path).rejected
    assert err.reason == _one({"id": "a\u0000b", "description": "d"}) == "id has a control character (U+0000)"
