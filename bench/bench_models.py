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

from bench.common import Row, best_time, device_name
from la_core import models

INTRO = ("Opening a model reads config, tokenizer and safetensors headers only; the torch module is "
         "built on the first attention / hidden states / embedding call. Peak RSS of reading one matrix "
         "is measured in a fresh process, against the size of the file it comes from.")

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


def _text(n_tokens: int) -> str:
    return " ".join(["word"] * (n_tokens - 2))       # + [CLS] and [SEP]


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


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    dev = device_name()
    repeat = 3 if quick else 5

    models.load_model()              # first-use imports (tokenizer classes) are not part of opening
    t0 = time.perf_counter()
    m = models.load_model()
    opened = time.perf_counter() - t0
    t0 = time.perf_counter()
    m.model  # noqa: B018  (build the module)
    built = time.perf_counter() - t0
    rows.append(Row("load_model() MiniLM: open (config, tokenizer, headers)", "90 MB folder", opened,
                    "first use: build the torch module (imports its modeling code)", built, dev, "one run each"))
    for n in (128,) if quick else (128, 512):
        text = _text(n)
        enc = m.tokenizer(text, return_tensors="pt").to(m.device)

        @torch.inference_mode()
        def plain():
            return m.model(**enc).last_hidden_state

        rows.append(Row("Model.attention (weights + q, k, v per layer, NumPy)", f"{n} tokens",
                        best_time(lambda: m.attention(text), repeat=repeat),
                        "same module, forward without capture (SDPA)", best_time(plain, repeat=repeat), dev))

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
