"""Tiny random models of every supported family, saved as real model folders (session fixtures).

Each folder is what ``save_pretrained`` writes (config.json, model.safetensors) plus MiniLM's
tokenizer, so the loading code under test runs exactly as on a user's folder. Test modules import
the fixtures: ``from tests.model_fixtures import tiny_models  # noqa: F401``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

D_MODEL, N_LAYERS, N_HEADS, N_KV = 64, 2, 4, 2
FAMILIES = ("bert", "gpt2", "llama", "mistral", "qwen2")
INIT = 0.2   # larger than the usual 0.02, so the random heads attend unevenly


def _tokenizer():
    from transformers import AutoTokenizer

    from la_core.models import bundled_path

    return AutoTokenizer.from_pretrained(bundled_path())


def build(family: str, vocab: int):
    """A random model of ``family`` (some saved with a head, so names carry a prefix)."""
    import transformers as tr

    llama_like = dict(vocab_size=vocab, hidden_size=D_MODEL, intermediate_size=2 * D_MODEL,
                      num_hidden_layers=N_LAYERS, num_attention_heads=N_HEADS, num_key_value_heads=N_KV,
                      max_position_embeddings=256, initializer_range=INIT)
    torch.manual_seed(FAMILIES.index(family))
    if family == "bert":
        cfg = tr.BertConfig(vocab_size=vocab, hidden_size=D_MODEL, num_hidden_layers=N_LAYERS,
                            num_attention_heads=N_HEADS, intermediate_size=2 * D_MODEL,
                            max_position_embeddings=128, initializer_range=INIT)
        return tr.BertModel(cfg)
    if family == "gpt2":   # per-layer score scaling: q must carry the extra factor
        cfg = tr.GPT2Config(vocab_size=vocab, n_embd=D_MODEL, n_layer=N_LAYERS, n_head=N_HEADS, n_positions=128,
                            scale_attn_by_inverse_layer_idx=True, initializer_range=INIT)
        return tr.GPT2LMHeadModel(cfg)
    if family == "llama":
        cfg = tr.LlamaConfig(**llama_like, rope_parameters={"rope_type": "default", "rope_theta": 500000.0})
        return tr.LlamaForCausalLM(cfg)
    if family == "mistral":   # a window shorter than the test texts: the mask is not just causal
        return tr.MistralForCausalLM(tr.MistralConfig(**llama_like, sliding_window=4))
    return tr.Qwen2Model(tr.Qwen2Config(**llama_like))


def save(model, tokenizer, folder: Path, **kw) -> Path:
    model.save_pretrained(folder, **kw)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """``{family: folder}`` for every family, plus ``"sharded"`` (a Llama in several shards) and the
    broken folders ``"bin_only"``, ``"no_tokenizer"``, ``"no_config"``, ``"t5"``."""
    import transformers as tr

    root = tmp_path_factory.mktemp("models")
    tok = _tokenizer()
    out = {}
    for fam in FAMILIES:
        out[fam] = save(build(fam, tok.vocab_size), tok, root / fam)
        assert (out[fam] / "model.safetensors").is_file()
    out["sharded"] = save(build("llama", tok.vocab_size), tok, root / "sharded", max_shard_size="200KB")
    assert (out["sharded"] / "model.safetensors.index.json").is_file()

    bin_only = root / "bin_only"
    bin_only.mkdir()
    shutil.copy(out["bert"] / "config.json", bin_only)
    tok.save_pretrained(bin_only)
    (bin_only / "pytorch_model.bin").write_bytes(b"a pickle that must never be opened")
    out["bin_only"] = bin_only

    no_tok = root / "no_tokenizer"
    no_tok.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(out["gpt2"] / name, no_tok)
    out["no_tokenizer"] = no_tok

    no_cfg = root / "no_config"
    shutil.copytree(out["bert"], no_cfg)
    (no_cfg / "config.json").unlink()
    out["no_config"] = no_cfg

    t5 = root / "t5"
    save(tr.T5Model(tr.T5Config(vocab_size=tok.vocab_size, d_model=32, d_ff=64, num_layers=1, num_heads=2,
                                d_kv=16)), tok, t5)
    out["t5"] = t5
    return out


@pytest.fixture
def models_dir(tiny_models, tmp_path, monkeypatch):  # noqa: F811
    """LA_LENS_MODELS_DIR with copies of the tiny Llama and GPT-2 (tiny-llama, tiny-gpt2) and a folder that is no model."""
    root = tmp_path / "models"
    root.mkdir()
    for fam in ("llama", "gpt2"):
        shutil.copytree(tiny_models[fam], root / f"tiny-{fam}")
    (root / "not-a-model").mkdir()
    monkeypatch.setenv("LA_LENS_MODELS_DIR", str(root))
    return root
