"""Model handle benchmarks: opening a model, attention with capture, and one weight from a large file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bench.common import Row, best_times_interleaved, device_name
from la_core import models

INTRO = ("Opening a model reads config, tokenizer and safetensors headers only; the torch module is "
         "built on the first attention / hidden states / embedding call. Model.attention goal: at most 1.3× "
         "the same module's forward without capture. What it adds is eager attention that writes every "
         "(H, T, T) weight array (SDPA never forms them) into arrays allocated once per text on huge pages; "
         "the families other than MiniLM are random models of MiniLM's size (6 layers, 12 heads of 32; "
         "Llama, Mistral and Qwen2 with 4 key/value heads and RoPE). Peak RSS of reading one matrix is "
         "measured in a fresh process, against the size of the file it comes from (goal: it grows by less "
         "than 2× the matrix).")

# Runs in a fresh process so its peak RSS is that of opening the folder and reading one matrix.
_PROBE = r"""
import json, sys, time
from la_core import models
models.load_model(device="cpu")   # first-use imports (tokenizer classes) are not part of opening a folder

def kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

t0 = time.perf_counter()
models.load_model(sys.argv[1], device="cpu")     # first open in this process: imports its config class
cold = time.perf_counter() - t0
with open("/proc/self/clear_refs", "w") as f:   # reset the peak (VmHWM) to the current RSS
    f.write("5")
base = kib("VmRSS")
t0 = time.perf_counter()
m = models.load_model(sys.argv[1], device="cpu")
t1 = time.perf_counter()
w = m.weight(sys.argv[2])
t2 = time.perf_counter()
print(json.dumps({"cold_s": cold, "open_s": t1 - t0, "read_s": t2 - t1, "extra_kb": kib("VmHWM") - base,
                  "nbytes": w.nbytes, "loaded": m.loaded}))
"""


def _text(tokenizer, n_tokens: int) -> str:
    """A text of exactly ``n_tokens`` tokens (special tokens included) for this tokenizer."""
    def count(text: str) -> int:
        return len(tokenizer(text)["input_ids"])

    per_word = count("word word") - count("word")   # 1 for MiniLM's; 4 where Qwen2's tokenizer reads letters
    text = " ".join(["word"] * ((n_tokens - count("")) // per_word))
    while count(text) < n_tokens:
        text += " a"
    assert count(text) == n_tokens, (count(text), n_tokens)
    return text


def _big_folder(root: Path, gib: float) -> tuple[Path, str]:
    """A Llama-shaped bfloat16 checkpoint of about ``gib`` GiB (zeros), with MiniLM's tokenizer."""
    from safetensors.torch import save_file
    from transformers import AutoTokenizer, LlamaConfig

    d, inter = 2048, 8192
    per_layer = (4 * d * d + 3 * d * inter) * 2                       # bytes in bfloat16
    n_layers = max(1, round(gib * 2**30 / per_layer))
    tok = AutoTokenizer.from_pretrained(models.bundled_path())
    LlamaConfig(vocab_size=tok.vocab_size, hidden_size=d, intermediate_size=inter, num_hidden_layers=n_layers,
                num_attention_heads=16, num_key_value_heads=4, dtype="bfloat16").save_pretrained(root)
    tok.save_pretrained(root)
    tensors = {"model.embed_tokens.weight": torch.zeros(tok.vocab_size, d, dtype=torch.bfloat16)}
    for i in range(n_layers):
        p = f"model.layers.{i}."
        for name, shape in (("self_attn.q_proj", (d, d)), ("self_attn.k_proj", (d // 4, d)),
                            ("self_attn.v_proj", (d // 4, d)), ("self_attn.o_proj", (d, d)),
                            ("mlp.gate_proj", (inter, d)), ("mlp.up_proj", (inter, d)),
                            ("mlp.down_proj", (d, inter))):
            tensors[p + name + ".weight"] = torch.zeros(shape, dtype=torch.bfloat16)
    save_file(tensors, str(root / "model.safetensors"))
    return root, f"model.layers.{n_layers - 1}.mlp.down_proj.weight"


def _family_folder(root: Path, family: str) -> Path:
    """A random model of ``family`` shaped like MiniLM (6 layers, 12 heads of 32, d_model 384), saved
    as a model folder; Llama-family models get grouped-query attention (4 key/value heads) and RoPE."""
    import transformers as tr

    tok = tr.AutoTokenizer.from_pretrained(models.bundled_path())
    size = dict(vocab_size=tok.vocab_size, hidden_size=384, intermediate_size=1536, num_hidden_layers=6,
                num_attention_heads=12)
    llama_like = dict(size, num_key_value_heads=4, max_position_embeddings=1024)
    torch.manual_seed(0)
    model = {"bert": lambda: tr.BertModel(tr.BertConfig(**size, max_position_embeddings=1024)),
             "gpt2": lambda: tr.GPT2Model(tr.GPT2Config(vocab_size=tok.vocab_size, n_embd=384, n_layer=6, n_head=12,
                                                        n_positions=1024)),
             "llama": lambda: tr.LlamaModel(tr.LlamaConfig(**llama_like)),
             "mistral": lambda: tr.MistralModel(tr.MistralConfig(**llama_like)),
             "qwen2": lambda: tr.Qwen2Model(tr.Qwen2Config(**llama_like))}[family]()
    folder = root / family
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return folder


def _attention_rows(m, label: str, sizes, repeat: int, dev: str) -> list[Row]:
    """Model.attention against the same module's forward without capture (transformers' SDPA)."""
    rows = []
    for n in sizes:
        text = _text(m.tokenizer, n)
        enc = m.tokenizer(text, return_tensors="pt").to(m.device)
        inputs = m._inputs(enc)             # what Model.attention passes to the module

        @torch.inference_mode()
        def plain():
            return m.model(**inputs, use_cache=False).last_hidden_state

        t_ours, t_ref = best_times_interleaved([lambda: m.attention(text), plain], repeat=repeat)
        rows.append(Row(f"{label}: Model.attention (weights + q, k, v per layer, NumPy)", f"{n} tokens",
                        t_ours, "same module, forward without capture (SDPA)", t_ref, dev))
    return rows


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    dev = device_name()
    repeat = 3 if quick else 9

    models.load_model()              # first-use imports (tokenizer classes) are not part of opening
    t0 = time.perf_counter()
    m = models.load_model()
    opened = time.perf_counter() - t0
    t0 = time.perf_counter()
    m.model  # noqa: B018  (build the module)
    built = time.perf_counter() - t0
    rows.append(Row("load_model() MiniLM: open (config, tokenizer, headers)", "90 MB folder", opened,
                    "first use: build the torch module (imports its modeling code)", built, dev, "one run each"))
    sizes = (128,) if quick else (128, 512)
    rows += _attention_rows(m, "MiniLM", sizes, repeat, dev)
    with tempfile.TemporaryDirectory() as tmp:
        for family in ("bert", "gpt2", "llama", "mistral", "qwen2"):
            folder = _family_folder(Path(tmp), family)
            t0 = time.perf_counter()
            fm = models.load_model(str(folder))
            opened = time.perf_counter() - t0
            t0 = time.perf_counter()
            fm.model  # noqa: B018  (build the module)
            built = time.perf_counter() - t0
            rows.append(Row(f"{family}, MiniLM-sized random: load_model (open)",
                            f"{sum(f.stat().st_size for f in folder.glob('*.safetensors')) / 2**20:.0f} MB folder",
                            opened, "first use: build the torch module", built, dev, "one run each"))
            rows += _attention_rows(fm, family, sizes, repeat, dev)

    with tempfile.TemporaryDirectory() as tmp:
        folder, name = _big_folder(Path(tmp), 0.25 if quick else 1.1)
        size = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), HF_HUB_OFFLINE="1")
        out = subprocess.run([sys.executable, "-c", _PROBE, str(folder), name], capture_output=True, text=True,
                             env=env, check=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        assert not r["loaded"]
        rows.append(Row("load_model(folder) + weight(one bf16 matrix)", f"{size / 2**30:.2f} GiB file",
                        r["open_s"] + r["read_s"], "", None, dev,
                        f"open {r['open_s'] * 1e3:.0f} ms (first in a process {r['cold_s']:.1f} s), read {r['read_s'] * 1e3:.0f} ms; peak RSS +"
                        f"{r['extra_kb'] / 1024:.0f} MiB for a {r['nbytes'] / 2**20:.0f} MiB float32 matrix "
                        f"({r['extra_kb'] * 1024 / size:.1%} of the file)"))
    return rows
