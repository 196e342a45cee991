"""CLIP / SigLIP / SigLIP2 encoder through Hugging Face transformers.

torch and transformers are imported inside the functions that need them, so ``import
scenefit`` stays fast and the offline backends work where they are not installed.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from .._errors import ConfigError, ModelError
from ._threads import inference_threads
from ._base import l2_normalize

DEFAULT_MODEL = "openai/clip-vit-base-patch32"

# Any one of these means the weights are present (sharded checkpoints have an index).
_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
# "org/name" or "name": anything else (absolute, ./relative, ~, backslashes) is a folder.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_PROBE_TIMEOUT_S = 3.0


def _short(exc: BaseException) -> str:
    """First non-empty line of an exception, bounded, so errors stay one line."""
    text = str(exc).strip() or type(exc).__name__
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), text)
    return line if len(line) <= 200 else line[:197] + "..."


def _local_path(name_or_path: str) -> Path | None:
    """The folder meant by ``name_or_path``, or None when it is a hub id."""
    path = Path(name_or_path).expanduser()
    if path.exists() or not _HUB_ID.match(name_or_path):
        return path
    return None


def _offline() -> bool:
    # huggingface_hub reads HF_HUB_OFFLINE once at import; the environment may change later.
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return constants.HF_HUB_OFFLINE or env.strip().upper() in {"1", "ON", "YES", "TRUE"}


def _in_hf_cache(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    def cached(filename: str) -> bool:
        try:
            return isinstance(try_to_load_from_cache(repo_id, filename), str)
        except Exception:  # invalid repo id and the like: simply not cached
            return False

    return cached("config.json") and any(cached(f) for f in _WEIGHT_FILES)


def _probe_hub(repo_id: str) -> tuple[bool, str]:
    """One HEAD request with a short timeout and no retries: (reachable and found, why not)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError

    try:
        get_hf_file_metadata(hf_hub_url(repo_id, "config.json"), timeout=_PROBE_TIMEOUT_S)
    except HfHubHTTPError as exc:  # the hub answered: missing, gated, private...
        return False, f"not available on the Hugging Face hub: {_short(exc)}"
    except Exception as exc:
        return False, f"not in the local cache and the hub is unreachable: {_short(exc)}"
    return True, "available on the Hugging Face hub (will be downloaded)"


def clip_available(name_or_path: str) -> tuple[bool, str]:
    """Whether :class:`ClipEncoder` can load ``name_or_path`` right now, and why (not).

    Never waits on the network for long: local folder and cache first, then one short
    probe of the hub unless HF_HUB_OFFLINE is set.
    """
    local = _local_path(name_or_path)
    if local is not None:
        if not local.is_dir():
            return False, f"no such folder: {local}"
        if not (local / "config.json").is_file():
            return False, f"no config.json in folder {local}"
        if not any((local / f).is_file() for f in _WEIGHT_FILES):
            return False, f"no model weights in folder {local}"
        return True, f"found in local folder {local}"
    try:
        if _in_hf_cache(name_or_path):
            return True, "found in the Hugging Face cache"
        if _offline():
            return False, "not in the local cache and HF_HUB_OFFLINE is set"
    except ImportError:
        return False, "transformers is not installed (pip install 'transformers>=5')"
    return _probe_hub(name_or_path)


def _fingerprint(folder: Path) -> str:
    """Short hash of what makes the vectors: configs, tokenizer, weights.

    Small files are hashed whole; big ones (weights) by size plus their first and last MiB,
    which differ between any two trainings yet cost milliseconds to read.
    """
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if not f.is_file() or f.suffix not in {".json", ".txt", ".model", ".safetensors", ".bin"}:
            continue
        size = f.stat().st_size
        h.update(f"{f.name}\0{size}\0".encode())
        with f.open("rb") as fh:
            if size <= 2 << 20:
                h.update(fh.read())
            else:
                h.update(fh.read(1 << 20))
                fh.seek(-(1 << 20), os.SEEK_END)
                h.update(fh.read())
    return h.hexdigest()[:10]


class ClipEncoder:
    """Image and text encoder for CLIP-family checkpoints (CLIP, SigLIP, SigLIP2)."""

    def __init__(self, name_or_path: str = DEFAULT_MODEL, *, device: str = "cpu",
                 batch_size: int = 32, local_files_only: bool = False) -> None:
        if int(batch_size) < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.name_or_path = name_or_path
        self.device = device
        self.batch_size = int(batch_size)
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as exc:
            hint = "pip install 'transformers>=5' torch"
            raise ModelError(f"the clip encoder needs {exc.name or 'transformers'}: {hint}") from exc

        local = _local_path(name_or_path)
        if local is not None:
            if not local.is_dir():
                raise ModelError(f"cannot load CLIP model {name_or_path!r}: no such folder")
            self.model_id = f"clip:{local.resolve().name}@{_fingerprint(local)}"
            self._load(str(local), local_only=True)
            return
        self.model_id = f"clip:{name_or_path}"
        try:
            # Cache first: a cached model must never wait on (or retry against) the network.
            self._load(name_or_path, local_only=True)
            return
        except ModelError as exc:
            if local_files_only or _offline():
                if _in_hf_cache(name_or_path):  # cached but broken: that error is the story
                    raise
                why = "local_files_only" if local_files_only else "HF_HUB_OFFLINE is set"
                msg = f"cannot load CLIP model {name_or_path!r}: not in the local cache ({why})"
                raise ModelError(msg) from exc
        # transformers retries an unreachable hub at length; one short probe fails fast instead.
        ok, why = _probe_hub(name_or_path)
        if not ok:
            raise ModelError(f"cannot load CLIP model {name_or_path!r}: {why}")
        self._load(name_or_path, local_only=False)

    def _load(self, source: str, *, local_only: bool) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

        torch.set_num_threads(inference_threads())

        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars are noise on our stderr
        name = self.name_or_path
        try:
            # float32 on purpose: transformers 5 defaults to the checkpoint dtype (often fp16),
            # which is slow or unsupported on CPU and would change the vectors per machine.
            model = AutoModel.from_pretrained(source, local_files_only=local_only, dtype=torch.float32)
            if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
                kind = type(model).__name__
                raise ModelError(f"cannot load CLIP model {name!r}: {kind} is not an image-text model")
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            # The PIL backend: torchvision is not a dependency, and it matches the reference
            # preprocessing, so vectors do not change if torchvision happens to be installed.
            processor = AutoImageProcessor.from_pretrained(
                source, local_files_only=local_only, backend="pil"
            )
            model.to(self.device).eval()
        except ModelError:
            raise
        except ImportError as exc:  # e.g. SigLIP's sentencepiece tokenizer
            raise ModelError(f"cannot load CLIP model {name!r}: missing package: {_short(exc)}") from exc
        except Exception as exc:
            raise ModelError(f"cannot load CLIP model {name!r}: {_short(exc)}") from exc

        cfg = model.config
        # CLIP projects both towers to projection_dim; SigLIP has no projection, its
        # embedding is the vision width (the text head maps to the same size).
        self.dim = int(getattr(cfg, "projection_dim", None) or cfg.vision_config.hidden_size)
        limits = [getattr(getattr(cfg, "text_config", None), "max_position_embeddings", None)]
        if 0 < getattr(tokenizer, "model_max_length", 0) < 100_000:  # unset reads as 1e30
            limits.append(tokenizer.model_max_length)
        self._max_length = min((n for n in limits if n), default=77)
        self._model, self._tokenizer, self._processor = model, tokenizer, processor
        # Zero-shot softmax temperature the model was trained with (CLIP: 1/100). Scene
        # analysis uses it so room/style distributions are as sharp as the model means them.
        scale = getattr(model, "logit_scale", None)
        self.similarity_temperature = (
            float(min(max(1.0 / float(scale.detach().exp()), 0.005), 0.1)) if scale is not None else 0.01
        )

    def _run(self, fn: Any, inputs: Any) -> np.ndarray:
        import torch

        # Pass only what the method names: tokenizers may add e.g. token_type_ids.
        accepted = inspect.signature(fn).parameters
        kwargs = {k: v.to(self.device) for k, v in inputs.items() if k in accepted}
        with torch.inference_mode():
            out = fn(**kwargs)
        # transformers 5 returns a BaseModelOutputWithPooling (projected embeds in
        # pooler_output); 4.x returned the tensor itself.
        emb = out if isinstance(out, torch.Tensor) else getattr(out, "pooler_output", None)
        if emb is None or emb.ndim != 2 or emb.shape[1] != self.dim:
            shape = None if emb is None else tuple(emb.shape)
            msg = f"CLIP model {self.name_or_path!r} gave embeddings of shape {shape}, not (n, {self.dim})"
            raise ModelError(msg)
        return emb.float().cpu().numpy()

    def _encode(self, items: Sequence[Any], one_batch: Any) -> np.ndarray:
        parts = [one_batch(items[i : i + self.batch_size]) for i in range(0, len(items), self.batch_size)]
        if not parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalize(np.concatenate(parts, axis=0))

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        def one_batch(batch: Sequence[Image.Image]) -> np.ndarray:
            # Not every image processor converts (SigLIP2's fails on "L" images).
            rgb = [im if im.mode == "RGB" else im.convert("RGB") for im in batch]
            inputs = self._processor(images=rgb, return_tensors="pt")
            return self._run(self._model.get_image_features, inputs)

        return self._encode(list(images), one_batch)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        def one_batch(batch: Sequence[str]) -> np.ndarray:
            # Always pad to max_length, on the right: SigLIP pools the last position and was
            # trained that way; CLIP pools the first EOS (= pad id), so left padding, which
            # some tokenizer configs default to, would pool a pad. Fixed length also keeps a
            # text's vector independent of its batch. Longer texts are truncated.
            inputs = self._tokenizer(
                list(batch),
                padding="max_length",
                padding_side="right",
                truncation=True,
                max_length=self._max_length,
                return_tensors="pt",
            )
            return self._run(self._model.get_text_features, inputs)

        return self._encode(list(texts), one_batch)

    def __repr__(self) -> str:
        return f"ClipEncoder({self.model_id!r}, dim={self.dim}, device={self.device!r})"


__all__ = ["ClipEncoder", "clip_available", "DEFAULT_MODEL"]
