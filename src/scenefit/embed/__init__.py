"""Encoders: one interface (``Encoder``) and the capabilities a backend may declare on top
(``AppearanceEncoder``, ``DenseAppearanceEncoder``, read once by ``EncoderCapabilities``);
backends kept apart and imported lazily."""

from ._base import AppearanceEncoder, Box, DenseAppearanceEncoder, Encoder, Preparable, ScenePass, l2_normalize
from ._cache import EmbeddingCache
from ._capabilities import EncoderCapabilities, appearance_of
from ._loader import EncoderLoader
from ._registry import EncoderConfig, build_encoder
from ._runtime import Runtime
from ._threads import inference_threads, set_inference_threads, threads_per_worker

__all__ = ["Encoder", "AppearanceEncoder", "DenseAppearanceEncoder", "Preparable", "ScenePass", "Box", "EncoderCapabilities", "EncoderLoader", "appearance_of",
           "EncoderConfig", "EmbeddingCache", "Runtime", "build_encoder", "inference_threads", "set_inference_threads", "threads_per_worker", "l2_normalize"]
