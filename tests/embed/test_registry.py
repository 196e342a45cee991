"""build_encoder: choosing a backend, resolving "auto", and refusing bad settings."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pydantic import ValidationError

import scenefit.embed._clip as clip_mod
from scenefit._errors import ConfigError, ModelError
from scenefit.embed import Encoder, EncoderConfig, build_encoder
from scenefit.embed._offline import OfflineEncoder

DEFAULT_HUB_NAME = EncoderConfig().clip_model


@pytest.fixture
def hub_offline(monkeypatch, tmp_path):
    """HF_HUB_OFFLINE set and an empty Hugging Face cache, whatever this machine has cached."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))


@pytest.fixture
def no_clip(monkeypatch):
    """Any attempt to check for or load a CLIP model fails the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the clip backend was consulted")

    monkeypatch.setattr(clip_mod, "clip_available", forbidden)
    monkeypatch.setattr(clip_mod, "ClipEncoder", forbidden)


def test_default_config():
    cfg = EncoderConfig()
    assert cfg.backend == "auto"
    assert DEFAULT_HUB_NAME == "openai/clip-vit-base-patch32"


def test_auto_offline_hub_falls_back_to_offline(hub_offline):
    cfg = EncoderConfig(offline_top_k=7)
    start = time.monotonic()
    enc, resolved, reason = build_encoder(cfg)
    assert time.monotonic() - start < 2  # no network wait
    assert isinstance(enc, OfflineEncoder)
    assert enc.top_k == 7
    assert resolved.backend == "offline"
    assert resolved.offline_top_k == 7 and resolved.clip_model == DEFAULT_HUB_NAME
    assert cfg.backend == "auto"  # the caller's config is not mutated
    assert reason.startswith("auto chose offline")
    assert "clip unavailable" in reason and "HF_HUB_OFFLINE" in reason


def test_auto_missing_folder_falls_back_to_offline(tmp_path):
    enc, resolved, reason = build_encoder(EncoderConfig(clip_model=str(tmp_path / "nope")))
    assert isinstance(enc, OfflineEncoder)
    assert resolved.backend == "offline"
    assert "no such folder" in reason


def test_auto_picks_clip_from_local_folder(tiny_clip_dir, hub_offline):
    enc, resolved, reason = build_encoder(EncoderConfig(clip_model=str(tiny_clip_dir)))
    assert isinstance(enc, clip_mod.ClipEncoder)
    assert isinstance(enc, Encoder)
    assert resolved.backend == "clip"
    assert resolved.clip_model == str(tiny_clip_dir)
    assert reason.startswith("auto chose clip") and str(tiny_clip_dir) in reason
    vecs = enc.encode_texts(["a red sofa"])
    assert vecs.shape == (1, 16) and enc.dim == 16
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_offline_never_consults_clip(no_clip):
    enc, resolved, reason = build_encoder(EncoderConfig(backend="offline", offline_top_k=3, offline_block_weight=1.5))
    assert isinstance(enc, OfflineEncoder)
    assert enc.top_k == 3 and enc.block_weight == 1.5
    assert resolved.backend == "offline"
    assert reason == "offline backend requested"
    assert not {"image_model", "text_model"} & set(vars(enc.networks))  # still lazy


def test_clip_requested_skips_the_availability_probe(tiny_clip_dir, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("clip_available called for an explicit clip backend")

    monkeypatch.setattr(clip_mod, "clip_available", forbidden)
    enc, resolved, reason = build_encoder(EncoderConfig(backend="clip", clip_model=str(tiny_clip_dir)))
    assert isinstance(enc, clip_mod.ClipEncoder)
    assert resolved.backend == "clip"
    assert reason == "clip backend requested"


def test_clip_missing_folder_raises(tmp_path):
    with pytest.raises(ModelError, match="no such folder"):
        build_encoder(EncoderConfig(backend="clip", clip_model=str(tmp_path / "missing")))


def test_clip_offline_uncached_hub_name_raises(hub_offline):
    # An explicit clip backend never falls back to offline.
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE"):
        build_encoder(EncoderConfig(backend="clip"))


@pytest.mark.parametrize("backend", ["auto", "clip", "offline"])
def test_resolved_backend_is_never_auto_and_rebuilds_the_same(backend, tiny_clip_dir, hub_offline):
    for clip_model in (str(tiny_clip_dir), DEFAULT_HUB_NAME):
        cfg = EncoderConfig(backend=backend, clip_model=clip_model, offline_top_k=4)
        if backend == "clip" and clip_model == DEFAULT_HUB_NAME:
            continue  # raises, covered above
        enc, resolved, _ = build_encoder(cfg)
        assert resolved.backend in ("clip", "offline")
        assert resolved.backend == ("offline" if isinstance(enc, OfflineEncoder) else "clip")
        assert resolved.model_dump(exclude={"backend"}) == cfg.model_dump(exclude={"backend"})
        # What an index manifest stores rebuilds the same encoder, with no "auto" guess.
        again, resolved2, reason2 = build_encoder(EncoderConfig.model_validate(resolved.model_dump()))
        assert again.model_id == enc.model_id
        assert resolved2 == resolved
        assert reason2 == f"{resolved.backend} backend requested"


@pytest.mark.parametrize("backend", ["gpu", "CLIP", "", None, 1])
def test_invalid_backend_rejected_by_pydantic(backend):
    with pytest.raises(ValidationError):
        EncoderConfig(backend=backend)
    with pytest.raises(ValidationError):
        EncoderConfig.model_validate({"backend": backend})


@pytest.mark.parametrize("top_k", [0, 1001, -3])
def test_invalid_top_k_rejected_by_pydantic(top_k):
    with pytest.raises(ValidationError):
        EncoderConfig(offline_top_k=top_k)


def test_block_weight_default_is_the_encoders():
    from scenefit.embed._offline import BLOCK_WEIGHT

    assert EncoderConfig().offline_block_weight == BLOCK_WEIGHT
    with pytest.raises(ValidationError):
        EncoderConfig(offline_block_weight=-0.5)


def test_unvalidated_backend_raises_config_error(no_clip):
    cfg = EncoderConfig.model_construct(backend="gpu")  # bypasses validation
    with pytest.raises(ConfigError, match="unknown encoder backend 'gpu'"):
        build_encoder(cfg)


def test_auto_falls_back_to_offline_when_clip_weights_are_broken(tmp_path):
    from scenefit.embed import EncoderConfig, build_encoder

    broken = tmp_path / "broken-clip"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "clip"}')
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    encoder, resolved, reason = build_encoder(EncoderConfig(backend="auto", clip_model=str(broken)))
    assert resolved.backend == "offline"
    assert reason.startswith("auto chose offline") and "cannot load CLIP model" in reason


def test_relative_clip_folder_is_recorded_absolute(tiny_clip_dir, monkeypatch):
    from scenefit.embed import EncoderConfig, build_encoder

    monkeypatch.chdir(tiny_clip_dir.parent)
    _, resolved, _ = build_encoder(EncoderConfig(backend="clip", clip_model=tiny_clip_dir.name))
    assert resolved.clip_model == str(tiny_clip_dir.resolve())
