"""Tokens through the layers: one PCA shared by every layer, token similarity per layer, the logit lens.

- :func:`token_states`: the residual stream of one text, ``(n_layers + 1, T, d_model)``, with the
  last layer taken *before* the model's final norm (see below), so that every layer is on the
  same footing.
- :func:`layer_pca`: one PCA fitted on the tokens of all layers together (``(L+1)·T`` rows), so the
  axes are shared and a token's movement from layer to layer is a movement in one picture; with
  the share of each layer's own token spread that the shared axes show.
- :func:`mean_cosine`: the mean cosine similarity between the different tokens of each layer (it
  grows in many models as the layers go up: the tokens crowd into a narrow cone).
- :func:`logit_lens`: each layer's hidden state read as if it were the last one, through the final
  norm and the unembedding matrix: the top next tokens and their probabilities per layer and position.

About the final norm: GPT-2 (``ln_f``) and the Llama family (``norm``) normalise the last layer's
output before the unembedding. transformers (5.x) returns ``hidden_states[-1]`` *after* that norm
(it is replaced by ``last_hidden_state``), while ``hidden_states[0 … L-1]`` are the raw residual
stream, so :meth:`la_core.models.Model.hidden_states` mixes the two kinds. :func:`token_states`
reads the input of the final norm with a forward hook and puts it in the last place instead, and
:func:`logit_lens` applies the norm exactly once to every layer; its last layer therefore gives
transformers' own logits. BERT-style encoders have no final norm (each layer ends with its own
LayerNorm) and their hidden states are used as they are.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from la_core.checks import as_int, as_matrix
from la_core.pca import PCA

__all__ = ["TokenStates", "LayerPCA", "LogitLens", "token_states", "layer_pca", "mean_cosine", "logit_lens",
           "layer_names", "FINAL_NORMS"]

# attribute names of the final norm on the base modules transformers' AutoModel builds
FINAL_NORMS = ("norm", "ln_f", "final_layernorm", "final_layer_norm")
_CAUSAL_LM = ("ForCausalLM", "LMHeadModel")
_LOGITS_PER_CHUNK = 1 << 25   # logits held at once (128 MiB of float32): a long text times a big vocabulary


class TokenStates(NamedTuple):
    """The residual stream of one text."""

    tokens: list[str]          # (T,) the tokenizer's tokens, special ones included
    states: np.ndarray         # (n_layers + 1, T, d_model) float32: embeddings, then after each layer
    final_norm: str | None     # the final norm's attribute name ("norm", "ln_f"), None without one


@dataclass
class LayerPCA:
    """One PCA of the tokens of every layer (see :func:`layer_pca`).

    Attributes
    ----------
    coords : numpy.ndarray, shape (n_layers + 1, T, k), float32
        Each token's coordinates on the shared axes, per layer.
    components : numpy.ndarray, shape (k, d)
        The shared principal axes.
    mean : numpy.ndarray, shape (d,)
        Mean of all the stacked rows (the origin of the picture).
    explained_variance_ratio : numpy.ndarray, shape (k,)
        Share of the variance of all the stacked rows along each axis.
    layer_share : numpy.ndarray, shape (n_layers + 1,)
        Per layer, the share of its tokens' spread around their own mean that lies in the shared
        axes (1 for a layer whose tokens are all the same point: nothing is lost).
    layer_variance : numpy.ndarray, shape (n_layers + 1,)
        Per layer, the total variance of its tokens around their own mean (trace of the covariance,
        divided by T − 1).
    """

    coords: np.ndarray
    components: np.ndarray
    mean: np.ndarray
    explained_variance_ratio: np.ndarray
    layer_share: np.ndarray
    layer_variance: np.ndarray


@dataclass
class LogitLens:
    """The logit lens of one text (see :func:`logit_lens`).

    Attributes
    ----------
    tokens : list of str
        The input tokens (T); position t predicts the token after ``tokens[t]``.
    top_ids : numpy.ndarray, shape (n_layers + 1, T, top), int64
        Most probable next tokens per layer and position, most probable first.
    top_tokens : numpy.ndarray, shape (n_layers + 1, T, top), object (str)
        Their tokenizer tokens (``"<id N>"`` for ids past the tokenizer's vocabulary).
    top_probs : numpy.ndarray, shape (n_layers + 1, T, top), float32
        Their probabilities (softmax over the whole vocabulary).
    layer_names : list of str
        ``"embeddings"``, ``"layer 1"`` … ``"layer L"``.
    head : str
        Where the unembedding matrix came from: ``"lm_head.weight"`` or ``"input embeddings (tied)"``.
    final_norm : str
        The final norm applied to every layer (``"norm"``, ``"ln_f"``).
    """

    tokens: list[str]
    top_ids: np.ndarray
    top_tokens: np.ndarray
    top_probs: np.ndarray
    layer_names: list[str]
    head: str
    final_norm: str


def layer_names(n_layers: int) -> list[str]:
    """``["embeddings", "layer 1", …, "layer n_layers"]``: the rows of a hidden-states array."""
    n_layers = as_int(n_layers, "n_layers", min_value=0)
    return ["embeddings"] + [f"layer {i}" for i in range(1, n_layers + 1)]


# ----------------------------------------------------------------------------- arrays
def _as_states(h, name: str = "hidden_states") -> np.ndarray:
    """(L+1, T, d) float32/float64 without a copy when possible; T ≥ 2, finite."""
    if isinstance(h, torch.Tensor):
        h = h.detach().float().cpu().numpy()
    try:
        arr = np.asarray(h)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array (n_layers + 1, T, d); got {type(h).__name__} "
                         f"({exc}).") from None
    if arr.ndim != 3:
        raise ValueError(f"{name} must be 3-D (n_layers + 1, T tokens, d); got shape {arr.shape}.")
    n_l, t, d = arr.shape
    if n_l < 1 or t < 2 or d < 1:
        raise ValueError(f"{name} needs at least 1 layer, 2 tokens and 1 dimension; got shape {arr.shape}.")
    flat = as_matrix(arr.reshape(n_l * t, d), name)                          # (L+1·T, d)
    if not np.isfinite(flat).all():
        raise ValueError(f"{name} contains NaN or infinite values; only finite numbers are accepted.")
    return flat.reshape(n_l, t, d)


def mean_cosine(hidden_states) -> np.ndarray:
    """Mean cosine similarity between the different tokens of each layer.

    Parameters
    ----------
    hidden_states : array_like, shape (n_layers + 1, T, d)
        T ≥ 2 tokens.

    Returns
    -------
    numpy.ndarray, shape (n_layers + 1,), float64
        The mean of ``cos(h_i, h_j)`` over the ``T (T − 1)`` ordered pairs ``i ≠ j`` (the diagonal
        left out); a zero vector counts as cosine 0 with every other token.
    """
    h = torch.from_numpy(np.ascontiguousarray(_as_states(hidden_states))).to(torch.float64)   # (L+1, T, d)
    t = h.shape[1]
    scale = h.abs().amax(dim=2, keepdim=True)                                 # (L+1, T, 1): no overflow below
    u = h / torch.where(scale > 0, scale, 1.0)
    norm = torch.linalg.vector_norm(u, dim=2, keepdim=True)                   # (L+1, T, 1)
    u = u / torch.where(norm > 0, norm, 1.0)                                  # unit rows (or zero)
    total = torch.linalg.vector_norm(u.sum(1), dim=1) ** 2                    # (L+1,) = Σ_i Σ_j u_i·u_j
    diag = (u * u).sum((1, 2))                                                # (L+1,) = Σ_i |u_i|²
    return ((total - diag) / (t * (t - 1))).clamp(-1.0, 1.0).numpy()


def layer_pca(hidden_states, k: int = 2) -> LayerPCA:
    """One PCA fitted on the tokens of every layer stacked, so all layers share the same axes.

    Parameters
    ----------
    hidden_states : array_like, shape (n_layers + 1, T, d)
        The residual stream (e.g. :func:`token_states`), T ≥ 2 tokens.
    k : {2, 3}
        Number of shared axes.

    Returns
    -------
    LayerPCA
        Coordinates ``(n_layers + 1, T, k)`` equal to scikit-learn's ``PCA(k).fit_transform`` of the
        ``((n_layers + 1)·T, d)`` stacked rows (signs as its ``svd_flip``), reshaped.
    """
    h = _as_states(hidden_states)
    k = as_int(k, "k", min_value=2, max_value=3)
    n_l, t, d = h.shape
    if k > min(n_l * t, d):
        raise ValueError(f"k={k} axes need at least {k} dimensions and {k} stacked tokens; got shape {h.shape}.")
    flat = h.reshape(n_l * t, d)                                              # (L+1·T, d)
    pca = PCA(k).fit(flat)
    coords = pca.transform(flat).reshape(n_l, t, k)                          # (L+1, T, k)
    hl = torch.from_numpy(np.ascontiguousarray(h)).to(torch.float64)          # (L+1, T, d)
    centred = hl - hl.mean(1, keepdim=True)                                   # each layer around its own mean
    scale = centred.abs().amax().clamp_min(torch.finfo(torch.float64).tiny)   # squares stay finite
    centred = centred / scale
    total = (centred ** 2).sum((1, 2))                                        # (L+1,)
    W = torch.from_numpy(pca.components_).to(torch.float64)                   # (k, d)
    shown = ((centred @ W.T) ** 2).sum((1, 2))                                # (L+1,)
    share = torch.where(total > 0, shown / torch.where(total > 0, total, 1.0), 1.0).clamp(0.0, 1.0)
    variance = total * scale.double() ** 2 / (t - 1)
    if not torch.isfinite(variance).all():
        raise ValueError("hidden_states has values so large that their variance overflows; "
                         "only finite variances are accepted.")
    return LayerPCA(coords=coords.astype(np.float32), components=pca.components_, mean=pca.mean_,
                    explained_variance_ratio=pca.explained_variance_ratio_, layer_share=share.numpy(),
                    layer_variance=variance.numpy())


# ----------------------------------------------------------------------------- running a model
def _check_model(model):
    if not all(hasattr(model, a) for a in ("hidden_states", "tokenizer", "config", "n_layers")):
        raise ValueError(f"model must be a la_core.models.Model (load_model()); got {type(model).__name__}.")
    return model


def _final_norm(module: torch.nn.Module):
    for name in FINAL_NORMS:
        norm = getattr(module, name, None)
        if isinstance(norm, torch.nn.Module):
            return name, norm
    return None, None


def _run(model, text: str):
    """Hidden states as torch in the module's dtype, with the last layer before the final norm."""
    module = model.model
    name, norm = _final_norm(module)
    caught = {}
    me = threading.get_ident()

    def hook(mod, args, out):                  # other sessions may run the same module meanwhile
        if threading.get_ident() == me:
            caught["in"] = args[0].detach()

    handle = norm.register_forward_hook(hook) if norm is not None else None
    try:
        states = model.hidden_states(text)                                   # (L+1, T, d) float32, checks text
    finally:
        if handle is not None:
            handle.remove()
    dtype = next(module.parameters()).dtype
    h = torch.from_numpy(states).to(model.device, dtype)                      # exact: float32 holds bf16/f16
    if norm is not None:
        h[-1] = caught["in"][0].to(dtype)                                     # (T, d) the raw last layer
    ids = model.tokenizer(text)["input_ids"]
    tokens = model.tokenizer.convert_ids_to_tokens(ids)
    return tokens, h, name, norm


@torch.inference_mode()
def token_states(model, text: str) -> TokenStates:
    """The residual stream of ``text``: embeddings, then the output of every layer.

    The last layer is taken before the final norm (GPT-2's ``ln_f``, Llama's ``norm``), unlike
    transformers' ``hidden_states[-1]``; encoders without a final norm are unchanged.

    Parameters
    ----------
    model : la_core.models.Model
    text : str
        Non-empty, at most ``model.token_limit`` tokens.

    Returns
    -------
    TokenStates
    """
    _check_model(model)
    tokens, h, name, _ = _run(model, text)
    return TokenStates(tokens=list(tokens), states=h.float().cpu().numpy(), final_norm=name)


def _unembedding(model, module) -> tuple[torch.Tensor, str]:
    """The (V, d) unembedding matrix: ``lm_head.weight`` from the files, or the tied input embeddings."""
    if "lm_head.weight" in model.weight_names():
        return torch.from_numpy(model.weight("lm_head.weight")), "lm_head.weight"
    archs = getattr(model.config, "architectures", None) or []
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    if tied and any(str(a).endswith(_CAUSAL_LM) for a in archs):
        return module.get_input_embeddings().weight.detach().float(), "input embeddings (tied)"
    raise ValueError(f"{model.name} has no language-model head: no lm_head.weight in its files, and its config "
                     f"(architectures {archs or 'not given'}, tie_word_embeddings={tied}) does not say the input "
                     "embeddings serve as one. The logit lens needs a causal LM folder (…ForCausalLM, "
                     "GPT2LMHeadModel).")


@torch.inference_mode()
def logit_lens(model, text: str, top: int = 5) -> LogitLens:
    """Read every layer's hidden state as the next-token prediction it would give if it were the last.

    ``softmax(W_U · final_norm(h_l))`` for each layer l = 0 … L and position t, where ``W_U`` is the
    unembedding matrix (``lm_head``, or the input embeddings when the model ties them). The norm is
    applied once to each layer, so the last layer gives exactly the model's own next-token
    probabilities.

    Parameters
    ----------
    model : la_core.models.Model
        A decoder (GPT-2, Llama, Mistral, Qwen2) whose folder holds a language-model head.
    text : str
        Non-empty, at most ``model.token_limit`` tokens.
    top : int, default 5
        Tokens kept per layer and position (1 … 50).

    Returns
    -------
    LogitLens

    Raises
    ------
    ValueError
        An encoder, a folder without an LM head or without a final norm, or a bad text.
    """
    _check_model(model)
    top = as_int(top, "top", min_value=1, max_value=50)
    if not model.causal:
        raise ValueError(f"{model.name} is an encoder ({model.family}); it has no next-token head, so there is "
                         "no logit lens. Pick a decoder such as GPT-2, Llama, Mistral or Qwen2.")
    module = model.model
    W, head = _unembedding(model, module)
    if _final_norm(module)[1] is None:
        raise ValueError(f"{model.name} has no final norm ({', '.join(FINAL_NORMS)}) on its base module; "
                         "the logit lens reads hidden states through it.")
    tokens, h, name, norm = _run(model, text)
    W = W.to(model.device, torch.float32)                                     # (V, d)
    n_tok = len(model.tokenizer)
    ids, probs = [], []
    step = max(1, _LOGITS_PER_CHUNK // W.shape[0])                            # positions per chunk
    for layer in h:                                                           # (T, d)
        for c in range(0, layer.shape[0], step):                             # V can be 150k: (T, V) in chunks
            logits = norm(layer[c:c + step]).float() @ W.T                    # (t, V)
            p, i = torch.softmax(logits, dim=-1).topk(top, dim=-1)            # (t, top)
            ids.append(i.cpu())
            probs.append(p.cpu())
    n_l, t = h.shape[0], h.shape[1]
    top_ids = torch.cat(ids).reshape(n_l, t, top).numpy().astype(np.int64)   # (L+1, T, top)
    known = [int(i) for i in np.unique(top_ids) if i < n_tok]
    names = dict(zip(known, model.tokenizer.convert_ids_to_tokens(known)))
    top_tokens = np.array([names.get(int(i), f"<id {int(i)}>") for i in top_ids.ravel()],
                          dtype=object).reshape(top_ids.shape)
    return LogitLens(tokens=list(tokens), top_ids=top_ids, top_tokens=top_tokens,
                     top_probs=torch.cat(probs).reshape(n_l, t, top).numpy().astype(np.float32),
                     layer_names=layer_names(n_l - 1), head=head, final_norm=name)
