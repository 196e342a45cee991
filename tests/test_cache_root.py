"""The user cache folder: one resolution, one layout, for every component that caches."""

from __future__ import annotations

from pathlib import Path

from scenefit._cache_root import cache_root
from scenefit.images._fetch import default_cache_dir


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(tmp_path / "a"))
    assert cache_root() == tmp_path / "a"
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", " ")  # blank: unset
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "scenefit"
    monkeypatch.delenv("SCENEFIT_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() == Path.home() / ".cache" / "scenefit"


def test_every_component_keeps_its_files_under_the_one_root(monkeypatch, tmp_path):
    from scenefit.embed._offline import cache_dir as _cache_dir

    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "images"
    assert _cache_dir() == tmp_path
