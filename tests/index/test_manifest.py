"""The manifest write leaves no half-written temporary file behind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scenefit.index._manifest import MANIFEST, Manifest


def _dead_pid() -> int:
    # A process that has exited and been reaped: its pid names no process (barring reuse,
    # which the test would only see as a file left alone).
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True, timeout=60)
    return int(proc.stdout)


def _tmps(folder):
    return sorted(p.name for p in folder.glob(f".{MANIFEST}.*.tmp"))


@pytest.mark.skipif(os.name == "nt", reason="liveness is probed with os.kill(pid, 0)")
def test_stale_tmp_of_a_dead_writer_is_removed_on_the_next_write(tmp_path):
    dead = _dead_pid()
    (tmp_path / f".{MANIFEST}.{dead}.tmp").write_text('{"half": ')  # a writer killed mid-write
    (tmp_path / f".{MANIFEST}.{dead}.k3x9_q2a.tmp").write_text('{"half": ')  # scenefit._atomic's naming
    alive = tmp_path / f".{MANIFEST}.{os.getppid()}.tmp"  # a live process's: not ours to judge
    alive.write_text("{}")
    (tmp_path / f".{MANIFEST}.notapid.tmp").write_text("{}")
    Manifest(model_id="m", dim=4).write_atomic(tmp_path)
    assert _tmps(tmp_path) == sorted([alive.name, f".{MANIFEST}.notapid.tmp"])
    assert Manifest.load(tmp_path).model_id == "m"


def test_a_failed_write_leaves_no_tmp_and_the_old_manifest(tmp_path, monkeypatch):
    Manifest(model_id="old", dim=4).write_atomic(tmp_path)

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        Manifest(model_id="new", dim=4).write_atomic(tmp_path)
    monkeypatch.undo()
    assert _tmps(tmp_path) == []
    assert Manifest.load(tmp_path).model_id == "old"


def test_interrupted_write_leaves_no_tmp(tmp_path, monkeypatch):
    def interrupt(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        Manifest(model_id="m", dim=4).write_atomic(tmp_path)
    assert _tmps(tmp_path) == [] and not (tmp_path / MANIFEST).exists()
