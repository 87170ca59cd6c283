"""What a model is, read from its config: family, sizes, causality, RoPE base, position limit.

Only the families LA Lens knows how to look inside are accepted, so every later step (attention
capture, weight kinds) can rely on the names and shapes of that family.
"""
from __future__ import annotations

from typing import NamedTuple

# config.model_type -> short description for messages
FAMILIES = {
    "bert": "BERT-style encoder (MiniLM is one)",
    "gpt2": "GPT-2",
    "llama": "Llama",
    "mistral": "Mistral (Llama family)",
    "qwen2": "Qwen2 (Llama family)",
}
LLAMA_LIKE = ("llama", "mistral", "qwen2")
ATTENTION_TOKEN_CAP = 2048   # attention and hidden states keep (L, H, T, T) arrays; T is capped here

__all__ = ["FAMILIES", "LLAMA_LIKE", "ATTENTION_TOKEN_CAP", "ModelSpec", "check_family", "read_spec",
           "supported_text"]


class ModelSpec(NamedTuple):
    """Sizes and kind of a model, as its config states them."""

    family: str
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_model: int
    d_head: int
    causal: bool
    rope_theta: float | None
    max_tokens: int


def supported_text() -> str:
    return ", ".join(f"{k} ({v})" for k, v in FAMILIES.items())


def check_family(model_type, where: str) -> str:
    """``model_type`` if LA Lens supports it, else ``ValueError`` naming it and the supported ones."""
    if not isinstance(model_type, str) or not model_type:
        raise ValueError(f"{where}: config.json has no model_type, so the model family is unknown; "
                         f"supported families: {supported_text()}.")
    if model_type not in FAMILIES:
        raise ValueError(f"{where}: the model family is {model_type!r}, which LA Lens cannot look inside; "
                         f"supported families: {supported_text()}.")
    return model_type


def _rope_theta(config) -> float | None:
    params = getattr(config, "rope_parameters", None)   # transformers 5 keeps the base here
    if isinstance(params, dict):
        if "rope_theta" in params:
            return float(params["rope_theta"])
        for sub in params.values():                       # per layer type: {"full_attention": {...}}
            if isinstance(sub, dict) and "rope_theta" in sub:
                return float(sub["rope_theta"])
    theta = getattr(config, "rope_theta", None)
    return float(theta) if theta is not None else None


def read_spec(config) -> ModelSpec:
    """Sizes of a loaded transformers config of a supported family.

    Parameters
    ----------
    config : transformers.PretrainedConfig

    Returns
    -------
    ModelSpec
    """
    family = check_family(getattr(config, "model_type", None), "config")
    n_layers = int(config.num_hidden_layers)
    n_heads = int(config.num_attention_heads)
    d_model = int(config.hidden_size)
    if family in LLAMA_LIKE:
        n_kv = getattr(config, "num_key_value_heads", None) or n_heads
        d_head = getattr(config, "head_dim", None) or d_model // n_heads
        causal, theta = True, _rope_theta(config)
    else:
        n_kv, d_head = n_heads, d_model // n_heads
        causal = family == "gpt2" or bool(getattr(config, "is_decoder", False))
        theta = None
    return ModelSpec(family=family, n_layers=n_layers, n_heads=n_heads, n_kv_heads=int(n_kv),
                     d_model=d_model, d_head=int(d_head), causal=causal, rope_theta=theta,
                     max_tokens=int(config.max_position_embeddings))
