"""The seed data shipped in the package is the repository's examples/, byte for byte."""

from pathlib import Path

import pytest

from scenefit import _seed
from scenefit.cli._demo import demo_files

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("packaged", [_seed.CATALOG, _seed.PHOTO], ids=lambda p: p.name)
def test_packaged_seed_is_the_examples_copy(packaged):
    assert packaged.read_bytes() == (EXAMPLES / packaged.name).read_bytes(), (
        f"src/scenefit/_seed/{packaged.name} and examples/{packaged.name} differ: copy one onto the other")


def test_the_demo_reads_the_packaged_files_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no examples/ here
    catalog, photo = demo_files()
    assert (catalog, photo) == (_seed.CATALOG, _seed.PHOTO)
    assert catalog.read_bytes().startswith(b"id,sku_id,description,primary_image")


def test_a_broken_install_is_one_clear_error(tmp_path, monkeypatch):
    from scenefit import ConfigError

    monkeypatch.setattr(_seed, "PHOTO", tmp_path / "missing.webp")
    with pytest.raises(ConfigError, match="lacks its package data"):
        demo_files()
