"""The clip backend through the whole engine: ingest with product photos, then match."""

import pytest

from scenefit import EncoderConfig, Engine, ModelMismatchError


def test_tiny_clip_ingest_and_match(tiny_clip_dir, tmp_path, write_image):
    for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200)), ("green", (30, 160, 60))):
        write_image(tmp_path / "img" / f"{name}.png", colour)
    (tmp_path / "c.csv").write_text(
        "id,sku_id,description,primary_image\n"
        "1,a,CERAMIC VASE RED,img/red.png\n2,b,BLUE CUSHION,img/blue.png\n"
        "3,c,GREEN PLANTER,img/green.png\n4,d,WOOD CHEST,\n"
    )
    logs = []
    engine = Engine(tmp_path / "ix", encoder=EncoderConfig(backend="auto", clip_model=str(tiny_clip_dir)),
                    log=logs.append)
    report = engine.ingest(tmp_path / "c.csv")
    assert report.indexed == 4 and report.image_failures == []
    assert any("auto chose clip" in m for m in logs)
    assert engine.index.manifest.model_id.startswith("clip:") and engine.index.manifest.dim == 16
    result = engine.match(tmp_path / "img" / "red.png", k=3, context="a bright living room")
    assert result.model.backend == "clip" and len(result.recommendations) == 3
    assert sum(result.scene.room_type.values()) == pytest.approx(1.0, abs=1e-5)
    # Reopened without saying which encoder: the index's own CLIP folder is used again.
    again = Engine(tmp_path / "ix", log=lambda m: None).match(tmp_path / "img" / "blue.png", k=2)
    assert again.model.id == result.model.id
    # The offline encoder on a CLIP index is refused.
    with pytest.raises(ModelMismatchError):
        Engine(tmp_path / "ix", encoder=EncoderConfig(backend="offline"), log=lambda m: None).match(
            tmp_path / "img" / "blue.png")
