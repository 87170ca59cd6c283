"""Attention benchmarks: MiniLM with every head's weights and Q/K/V, and attention_steps vs SDPA."""
from __future__ import annotations

import numpy as np
import torch

from bench.common import Row, best_time, device_name
from la_core import attention as la
from la_core import models
from la_core.device import get_device


def _text(n_tokens: int) -> str:
    return " ".join(["word"] * (n_tokens - 2))       # + [CLS] and [SEP]


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    dev = device_name()
    repeat = 3 if quick else 7
    m = models.load_model()
    from sentence_transformers import SentenceTransformer

    st_model = SentenceTransformer(models.bundled_path(), device=str(get_device()))
    for n in (16, 128) if quick else (16, 128, 512):
        text = _text(n)
        ma = m.attention(text, truncate=True)
        assert ma.attentions.shape[-1] == n, ma.attentions.shape
        enc = m.tokenizer(text, return_tensors="pt").to(m.device)

        @torch.inference_mode()
        def plain():
            return m.model(**enc).last_hidden_state

        ours = best_time(lambda: m.attention(text, truncate=True), repeat=repeat)
        rows.append(Row("Model.attention of MiniLM (6×12 weights + Q/K/V as NumPy)", f"{n} tokens", ours,
                        "same BertModel forward without capture (SDPA)", best_time(plain, repeat=repeat), dev,
                        "goal ≤ 100 ms at 128 tokens" if n == 128 else ""))
        rows.append(Row("Model.attention of MiniLM (6×12 weights + Q/K/V as NumPy)", f"{n} tokens", ours,
                        "sentence-transformers encode (1 text)",
                        best_time(lambda: st_model.encode([text]), repeat=repeat), dev))
    d_k = 64
    for T in (512,) if quick else (512, 2048):
        rng = np.random.default_rng(0)
        q, k, v = (rng.standard_normal((T, d_k)).astype(np.float32) for _ in range(3))
        qt, kt, vt = (torch.as_tensor(x, device=get_device()) for x in (q, k, v))
        mask = la.causal_mask(T)
        mt = torch.as_tensor(mask, device=get_device())

        def sdpa(m_=None):
            with torch.inference_mode():
                return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=m_).cpu()

        ref = best_time(sdpa, repeat=repeat)
        ref_m = best_time(lambda: sdpa(mt), repeat=repeat)
        for dtype in ("float32", "float64"):
            rows.append(Row(f"attention_steps ({dtype}, keeps 4 T×T matrices)", f"T={T}, d_k={d_k}",
                            best_time(lambda: la.attention_steps(q, k, v, dtype=dtype), repeat=repeat),
                            "torch SDPA float32 (output only)", ref, dev))
        rows.append(Row("attention_steps (float32, causal mask)", f"T={T}, d_k={d_k}",
                        best_time(lambda: la.attention_steps(q, k, v, mask=mask, dtype="float32"), repeat=repeat),
                        "torch SDPA float32 with the same mask", ref_m, dev))
    return rows
