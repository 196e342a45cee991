from pathlib import Path

import pytest

from scenefit._atomic import atomic_path, atomic_write


def test_atomic_write_replaces_content_and_leaves_no_temp(tmp_path: Path):
    target = tmp_path / "sub" / "a.json"
    atomic_write(target, "one")
    atomic_write(target, b"two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.json"]


def test_failed_write_keeps_the_old_file_and_removes_its_temp(tmp_path: Path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_two_open_writers_get_distinct_temp_files(tmp_path: Path):
    target = tmp_path / "m.json"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second and first.parent == second.parent == tmp_path
        first.write_text("first")
        second.write_text("second")
    assert target.read_text() == "first"  # the outer writer finished last
