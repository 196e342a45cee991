"""Fixtures for the encoder tests: tiny random-weight CLIP checkpoints saved to folders.

The checkpoints are built with ``save_pretrained``, so the real loading code (AutoModel,
AutoTokenizer, AutoImageProcessor from a folder) runs without the hub. Shared through
fixtures because pytest runs with ``--import-mode=importlib`` (test modules cannot import
each other or this file).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

CORPUS = [
    "a red sofa in a bright living room",
    "a wooden dining table with four chairs",
    "a blue lamp standing on a white desk",
    "a green plant next to the big window",
    "a grey rug under a low coffee table",
] * 4
TINY = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2)
MAX_TOKENS = 16


def _trained_bpe(pre_tokenizer, specials: list[str], **bpe_kw) -> tuple[dict, list]:
    """Train a ~200-token BPE on CORPUS; returns (vocab, merges) for a tokenizer class."""
    from tokenizers import Tokenizer, models, trainers

    tok = Tokenizer(models.BPE(unk_token=specials[-1], **bpe_kw))
    tok.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(vocab_size=200, special_tokens=specials, show_progress=False, **bpe_kw)
    tok.train_from_iterator(CORPUS, trainer)
    model = json.loads(tok.to_str())["model"]
    return model["vocab"], [tuple(m) for m in model["merges"]]


def _save_tiny_clip(folder: Path, seed: int = 0) -> Path:
    """A 16-d CLIP checkpoint with random weights (seeded) and a trained tokenizer."""
    import torch
    from tokenizers import pre_tokenizers
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPTokenizer

    # Same pre-tokenisation as CLIPTokenizer (words, no space marker, "</w>" suffix).
    vocab, merges = _trained_bpe(
        pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.ByteLevel(add_prefix_space=False)]),
        ["<|startoftext|>", "<|endoftext|>"],
        end_of_word_suffix="</w>",
    )
    tok = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_TOKENS)
    # The text tower pools at the EOS position, so its id must be the tokenizer's.
    ids = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    config = CLIPConfig(
        text_config=dict(TINY, vocab_size=len(vocab), max_position_embeddings=MAX_TOKENS, **ids),
        vision_config=dict(TINY, image_size=32, patch_size=8),
        projection_dim=16,
    )
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_hf():
    """The builder kit: ``TINY`` layer sizes, ``MAX_TOKENS``, ``CORPUS``, ``trained_bpe`` and
    ``save_clip(folder, seed=0)`` (projection_dim 16)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return SimpleNamespace(
        TINY=dict(TINY), MAX_TOKENS=MAX_TOKENS, CORPUS=list(CORPUS),
        trained_bpe=_trained_bpe, save_clip=_save_tiny_clip,
    )


@pytest.fixture(scope="session")
def tiny_clip_dir(tiny_hf, tmp_path_factory) -> Path:
    """One tiny CLIP checkpoint folder (seed 0, 16-d), built once per session."""
    return tiny_hf.save_clip(tmp_path_factory.mktemp("tiny-clip") / "clip", seed=0)
