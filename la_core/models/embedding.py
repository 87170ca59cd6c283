"""Text embeddings: hidden states of the last layer, mean-pooled over the real (non-padding) tokens.

A folder saved by sentence-transformers also says how long its inputs may be
(``sentence_bert_config.json``) and whether the pooled vector is L2-normalised (a ``Normalize``
module in ``modules.json``); both are followed, so MiniLM embeds exactly as sentence-transformers
does.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from la_core.device import to_numpy

__all__ = ["PoolingSettings", "pooling_settings", "check_texts", "mean_pooled"]


class PoolingSettings(NamedTuple):
    """How a folder's model turns token states into one vector per text."""

    normalize: bool            # L2-normalise the mean (sentence-transformers' Normalize module)
    max_length: int | None     # sentence-transformers' max_seq_length; None = the model's limit


def _json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def pooling_settings(folder: str) -> PoolingSettings:
    """Read sentence-transformers' settings from a model folder (defaults when there are none)."""
    modules = _json(os.path.join(folder, "modules.json"))
    normalize = isinstance(modules, list) and any(
        isinstance(m, dict) and str(m.get("type", "")).endswith(".Normalize") for m in modules)
    st = _json(os.path.join(folder, "sentence_bert_config.json"))
    max_len = st.get("max_seq_length") if isinstance(st, dict) else None
    max_len = int(max_len) if isinstance(max_len, int) and not isinstance(max_len, bool) and max_len > 0 else None
    return PoolingSettings(normalize=normalize, max_length=max_len)


def check_texts(texts) -> list[str]:
    """A list of strings, or ``ValueError``."""
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise ValueError(f"texts must be a list of strings; got {type(texts).__name__}.")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ValueError(f"texts must be a list of strings; item {i} is {type(t).__name__}.")
    return list(texts)


@torch.inference_mode()
def mean_pooled(forward: Callable, tokenizer, device, texts: list[str], batch_size: int, max_length: int,
                normalize: bool, d_model: int, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Mean of the last hidden states over each text's real tokens, batch by batch.

    Parameters
    ----------
    forward : callable
        ``forward(encoding) -> last hidden state (B, T, d_model)``.
    tokenizer
        A transformers tokenizer with a pad token, padding on the right (so a decoder's real
        tokens keep positions 0, 1, … and never see the padding).
    device : torch.device
    texts : list of str
    batch_size, max_length : int
        Texts longer than ``max_length`` tokens are cut there, as sentence-transformers does.
    normalize : bool
        L2-normalise each vector.
    d_model : int
    progress : callable, optional
        Called as ``progress(done, total)`` after every batch.

    Returns
    -------
    numpy.ndarray, shape (len(texts), d_model), float32
    """
    out = []
    total = len(texts)
    for i in range(0, total, batch_size):
        batch = tokenizer(texts[i:i + batch_size], padding=True, truncation=True, max_length=max_length,
                          return_tensors="pt").to(device)
        hidden = forward(batch).float()                                   # (B, T, d_model)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)     # (B, T, 1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)     # (B, d_model)
        if normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        out.append(to_numpy(pooled))
        if progress is not None:
            progress(min(i + batch_size, total), total)
    return np.concatenate(out, axis=0) if out else np.zeros((0, d_model), np.float32)
