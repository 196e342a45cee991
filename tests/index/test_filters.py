"""Filters: parsing --category / --where and restricting an index search to the products they allow."""

from __future__ import annotations

import numpy as np
import pytest

from scenefit import ConfigError
from scenefit.index import ProductRecord, VectorIndex
from scenefit.index import Filters
from scenefit.rank import Filters as RankFilters


def _rec(i: str, category: str | None, **attributes) -> ProductRecord:
    return ProductRecord(
        id=i, sku_id=f"SKU-{i}", description=f"item {i}", image=None, text=f"item {i}",
        category=category, colours=[], materials=[], content_hash=f"h{i}", image_status="none",
        attributes=attributes,
    )


@pytest.fixture
def index(tmp_path):
    idx = VectorIndex.create(tmp_path, model_id="m", dim=8, encoder={})
    records = [
        _rec("a", "vase", Brand="Acme", Category="Vases"),
        _rec("b", "bowl", Brand="acme ", Category="Bowls"),
        _rec("c", None, Brand="Other", Type="Vase"),  # the parser found nothing; a column says vase
        _rec("d", "figurine", Brand="Other", Category="Decor"),
        _rec("e", "vase", Brand="Zeta"),
        _rec("f", "lamp", Brand=None),  # a null cell (Parquet / JSONL)
    ]
    idx.upsert(records, np.eye(8, dtype=np.float32)[: len(records)])
    return idx


def _allowed(f: Filters, index: VectorIndex) -> np.ndarray:
    """The keys a search with ``f`` can return (every product scores above zero)."""
    keys, _ = index.search(np.ones(8, np.float32) / np.sqrt(8), 100, f)
    return np.sort(keys)


def _ids(index: VectorIndex, keys) -> set[str]:
    return {index.record(int(k)).id for k in keys}


def test_filters_are_importable_from_rank_and_the_package():
    import scenefit

    assert RankFilters is Filters and scenefit.Filters is Filters


def test_no_filters_is_none(index):
    f = Filters.parse()
    assert not f
    assert index.resolve(f) is None
    assert index.resolve(Filters.parse(category=["", "  "], where=[])) is None


def test_category_matches_parsed_category_and_columns_case_insensitively(index):
    assert _ids(index, _allowed(Filters.parse(category=["VASE"]), index)) == {"a", "c", "e"}
    # "Vases" is the column's spelling; it matches the column, not the parsed "vase"
    assert _ids(index, _allowed(Filters.parse(category=["vases"]), index)) == {"a"}
    assert _ids(index, _allowed(Filters.parse(category=["decor"]), index)) == {"d"}


def test_several_categories_are_alternatives(index):
    allowed = _allowed(Filters.parse(category=["bowl", " Figurine "]), index)
    assert _ids(index, allowed) == {"b", "d"}


def test_where_filters_on_attribute_columns(index):
    allowed = _allowed(Filters.parse(where=["brand=other"]), index)
    assert _ids(index, allowed) == {"c", "d"}
    # column names are case-insensitive too
    assert _ids(index, _allowed(Filters.parse(where=["BRAND = Zeta"]), index)) == {"e"}


def test_where_value_with_stray_spaces_in_the_catalog_still_matches(index):
    assert _ids(index, _allowed(Filters.parse(where=["brand=acme"]), index)) == {"a", "b"}


def test_repeated_column_means_any_of_and_columns_combine_with_and(index):
    either = _allowed(Filters.parse(where=["brand=zeta", "brand=acme"]), index)
    assert _ids(index, either) == {"a", "b", "e"}
    both = _allowed(Filters.parse(category=["vase"], where=["brand=acme"]), index)
    assert _ids(index, both) == {"a"}


def test_id_and_sku_filters(index):
    assert _ids(index, _allowed(Filters.parse(where=["sku_id=sku-c"]), index)) == {"c"}
    assert _ids(index, _allowed(Filters.parse(where=["id=D"]), index)) == {"d"}


def test_filter_matching_nothing_gives_empty_keys(index):
    allowed = _allowed(Filters.parse(where=["brand=nobody"]), index)
    assert allowed is not None and len(allowed) == 0 and allowed.dtype == np.int64


def test_unknown_column_lists_the_known_ones(index):
    with pytest.raises(ConfigError) as exc:
        _allowed(Filters.parse(where=["colour=red"]), index)
    msg = str(exc.value)
    assert "colour" in msg
    for col in ("brand", "category", "type", "id", "sku_id"):
        assert col in msg.split("columns:")[1]


@pytest.mark.parametrize("bad", ["brand", "=acme", "  =x", ""])
def test_malformed_where(bad):
    with pytest.raises(ConfigError, match="COLUMN=VALUE"):
        Filters.parse(where=[bad])


def test_value_may_contain_equals_sign():
    assert Filters.parse(where=["note=a=b"]).attributes == {"note": ["a=b"]}


def test_null_cell_is_empty_not_the_word_none(index):
    assert len(_allowed(Filters.parse(where=["brand=none"]), index)) == 0
    assert _ids(index, _allowed(Filters.parse(where=["brand="]), index)) == {"f"}


def test_record_fields_are_filterable_without_a_column(tmp_path):
    from scenefit.index import ProductRecord, VectorIndex

    idx = VectorIndex.create(tmp_path / "ix", model_id="m", dim=8, encoder={})
    recs = [
        ProductRecord("1", "s1", "Gold Vase", None, "gold vase", "vase", [], [], "h1", "none", {}),
        ProductRecord("2", "s2", "Oak Table", None, "oak table", "table", [], [], "h2", "none", {}),
    ]
    idx.upsert(recs, np.eye(8, dtype=np.float32)[:2])
    by = lambda f: sorted(idx.record(int(k)).id for k in _allowed(f, idx))  # noqa: E731
    assert by(Filters.parse(where=["category=vase"])) == ["1"]
    assert by(Filters.parse(where=["description=oak table"])) == ["2"]
    assert by(Filters.parse(["table"], ["category=vase"])) == ["1", "2"]  # same column: any of
