"""The MiniLM-only API the pages used before :class:`~la_core.models.Model` existed.

Thin wrappers over the handle, kept until the pages switch to ``load_model`` / ``Model``; then
this module goes.
"""
from __future__ import annotations

import numpy as np

from la_core.models.attention_result import ModelAttention
from la_core.models.handle import Model, bundled_path, load_model

MAX_TOKENS = 512          # MiniLM's position limit (BERT position embeddings)
MiniLM = Model            # the handle of the bundled model

__all__ = ["MAX_TOKENS", "MiniLM", "model_path", "load_minilm", "embed", "weight_names", "weight",
           "minilm_attention"]


def model_path() -> str:
    """Folder of the bundled all-MiniLM-L6-v2 files inside site-packages."""
    return bundled_path()


def load_minilm(device=None) -> Model:
    """The bundled MiniLM with its torch module already built (the caller's spinner covers it)."""
    m = load_model(None, device)
    m.model  # noqa: B018  (build now, as before)
    return m


def embed(texts: list[str], m: Model, batch_size: int = 64, normalize: bool = True) -> np.ndarray:
    """``m.embed(texts, batch_size, normalize=normalize)``."""
    return m.embed(texts, batch_size=batch_size, normalize=normalize)


def weight_names(m: Model) -> list[str]:
    """``m.weight_names()``."""
    return m.weight_names()


def weight(m: Model, name: str) -> np.ndarray:
    """``m.weight(name)``."""
    return m.weight(name)


def minilm_attention(text: str, m: Model) -> ModelAttention:
    """``m.attention(text, truncate=True)``: a longer text is cut at 512 tokens and flagged."""
    return m.attention(text, truncate=True)
