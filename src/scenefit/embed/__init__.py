"""Encoders: one interface (``Encoder``), backends kept apart and imported lazily."""

from ._base import Encoder, l2_normalize
from ._cache import EmbeddingCache
from ._registry import EncoderConfig, build_encoder

__all__ = ["Encoder", "EncoderConfig", "EmbeddingCache", "build_encoder", "l2_normalize"]
