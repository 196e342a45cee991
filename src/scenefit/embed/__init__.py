"""Encoders: one interface (``Encoder``), backends kept apart and imported lazily."""

from ._base import Encoder, appearance_of, encode_with_appearance, l2_normalize
from ._cache import EmbeddingCache
from ._registry import EncoderConfig, build_encoder

__all__ = ["Encoder", "appearance_of", "encode_with_appearance", "EncoderConfig", "EmbeddingCache", "build_encoder", "l2_normalize"]
