"""`ingest --runner ray` on a real local Ray cluster (2 CPUs): the same rows, accounting and
vectors as the local runner, on the seed catalog and on a subset of the IKEA dev catalog."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from scenefit import ConfigError
from scenefit.pipelines._ingest import IngestConfig
from scenefit.cli import main
from scenefit.embed import EncoderConfig
from scenefit.engine import Engine
from scenefit.index import VectorIndex

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
IKEA = ROOT.parent / "shared" / "benchmarks" / "ikea-dev"


@pytest.fixture(scope="module")
def cluster(ray_cluster):
    return ray_cluster


def _ingest(catalog: Path, index: Path, runner: str):
    eng = Engine(index, encoder=EncoderConfig(backend="offline", runtime="onnx"), log=lambda m: None,
                 ingest=IngestConfig(runner=runner))
    return eng.ingest(catalog)


def _assert_same(local_dir: Path, ray_dir: Path, a, b):
    """Same accounting, rejected rows, image failures and (to float precision) vectors."""
    assert (a.read, a.indexed, a.added, a.embedded) == (b.read, b.indexed, b.added, b.embedded)
    assert [(e.row, e.id, e.reason) for e in a.rejected] == [(e.row, e.id, e.reason) for e in b.rejected]
    assert [(f.row, f.id) for f in a.image_failures] == [(f.row, f.id) for f in b.image_failures]
    assert (a.runner, b.runner) == ("local", "ray")
    la, lb = VectorIndex.open(local_dir), VectorIndex.open(ray_dir)
    ids = sorted(la.ids())
    assert ids == sorted(lb.ids()) and len(ids) == a.indexed
    va = la.vectors([la.get(i).key for i in ids])
    vb = lb.vectors([lb.get(i).key for i in ids])
    assert np.all((va * vb).sum(axis=1) >= 0.9999)
    assert [la.get(i).content_hash for i in ids] == [lb.get(i).content_hash for i in ids]
    return la, lb, ids


def test_seed_catalog_same_as_local(cluster, tmp_path):
    catalog = ROOT / "examples" / "product-catalog.csv"
    a = _ingest(catalog, tmp_path / "local", "local")
    b = _ingest(catalog, tmp_path / "ray", "ray")
    _assert_same(tmp_path / "local", tmp_path / "ray", a, b)
    assert a.read == 500 and a.embedded > 0
    assert not list((tmp_path / "ray" / "shards").glob("run-*"))  # shards removed once indexed

    again = _ingest(catalog, tmp_path / "ray", "ray")  # the content-hash cache works here too
    assert again.embedded == 0 and again.unchanged == again.indexed == b.indexed


@pytest.fixture(scope="module")
def ikea_subset(tmp_path_factory):
    if not (IKEA / "catalog.csv").is_file():
        pytest.skip(f"IKEA benchmark not found at {IKEA} (it lives in ../shared, never in the repo)")
    rows = list(csv.DictReader((IKEA / "catalog.csv").open(encoding="utf-8")))
    keep = random.Random(1).sample([r for r in rows if r["primary_image"]], 70)
    out = tmp_path_factory.mktemp("ikea-ray")
    broken = out / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    for r in keep:
        r["primary_image"] = str(IKEA / r["primary_image"])
    keep[3]["description"] = ""  # rejected: missing description
    keep[5]["primary_image"] = str(broken)  # rejected: a local image that cannot be decoded
    keep[7]["primary_image"] = "http://127.0.0.1:9/gone.jpg"  # image fails: indexed text-only
    keep[9]["id"] = keep[8]["id"]  # rejected: duplicate id
    with (out / "catalog.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(keep)
    return out / "catalog.csv"


def test_ikea_subset_same_as_local_with_bad_rows(cluster, ikea_subset, tmp_path):
    a = _ingest(ikea_subset, tmp_path / "local", "local")
    b = _ingest(ikea_subset, tmp_path / "ray", "ray")
    la, lb, ids = _assert_same(tmp_path / "local", tmp_path / "ray", a, b)
    reasons = " | ".join(e.reason for e in b.rejected)
    assert len(b.rejected) == 3 and "missing description" in reasons and "image unreadable" in reasons
    assert "duplicate id" in reasons and len(b.image_failures) == 1
    # The image-to-image appearance vectors are computed by the actors too.
    with_photo = [i for i in ids if la.get(i).image_status == "ok"]
    assert len(with_photo) >= 60
    ka = [la.get(i).key for i in with_photo]
    kb = [lb.get(i).key for i in with_photo]
    pa, pb = la.appearance.vectors(ka), lb.appearance.vectors(kb)
    assert np.all((pa * pb).sum(axis=1) >= 0.9999)


def test_cli_runner_ray(cluster, tmp_path, capsys):
    code = main(["ingest", str(ROOT / "examples" / "product-catalog.csv"), "--index", str(tmp_path / "ix"),
                 "--encoder", "offline", "--runner", "ray", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    import json

    report = json.loads(out)
    assert report["runner"] == "ray" and report["read"] == report["indexed"] + report["rejected_count"]


def test_missing_ray_gives_the_install_hint(block_import):
    from scenefit.pipelines import _ray

    block_import("ray")
    with pytest.raises(ConfigError, match=r"scenefit\[ray\]"):
        _ray.connect("auto")


def test_catalog_read_through_ray_from_a_uri(cluster, tmp_path, capsys):
    uri = (ROOT / "examples" / "product-catalog.csv").as_uri()  # file:///…: what Ray's readers take
    code = main(["ingest", uri, "--index", str(tmp_path / "ix"), "--encoder", "offline", "--runner", "ray", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    import json

    report = json.loads(out)
    assert report["catalog"] == uri and report["read"] == 500 and report["runner"] == "ray"
    code = main(["ingest", str(tmp_path / "missing.csv"), "--index", str(tmp_path / "ix"), "--runner", "ray"])
    assert code == 2 and "no such catalog file" in capsys.readouterr().err
