"""Attention: softmax(QKᵀ/√d_k + M)V step by step, why √d_k, masks, and the real heads of MiniLM."""
import numpy as np
import pandas as pd
import streamlit as st

from figures import attention as fa
from la_core import attention as la
from la_core import models
from ui.chart import chart
from ui.models import minilm

DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."
MULTIPLIERS = [float(f"{x:.3g}") for x in np.logspace(-2, 2, 41)]  # 0.01× … 100× of 1/√d_k, log-spaced
MASK_KINDS = ["none", "causal", "sliding window", "padding"]
STEP_WINDOW = 128   # step-by-step heatmaps show at most this many tokens per side (a movable window)


def _fmt_mult(x: float) -> str:
    return "1× = 1/√d_k (default)" if x == 1.0 else f"{x:g}×"


@st.cache_resource(max_entries=6, show_spinner="Running MiniLM with attention weights…")
def real_attention(text: str) -> models.ModelAttention:
    return minilm().attention(text, truncate=True)


@st.cache_data(max_entries=16)
def synthetic_qkv(T: int, d_k: int, seed: int):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((T, d_k)), rng.standard_normal((T, d_k)), rng.standard_normal((T, d_k)))


@st.cache_data(max_entries=8)
def study(n_keys: int, seed: int) -> la.ScalingStudy:
    return la.scaling_study(d_ks=tuple(2 ** i for i in range(11)), n_keys=n_keys, n_samples=800, seed=seed)


def build_mask(kind: str, T: int, window: int, n_real: int):
    if kind == "causal":
        return la.causal_mask(T)
    if kind == "sliding window":
        return la.sliding_window_mask(T, window)
    if kind == "padding":
        return la.padding_mask(n_real, T)
    return None


st.title("Attention")
st.markdown(
    "Attention is three matrix products and a softmax: every query vector is compared with every key "
    "vector by a dot product, the scores are scaled by **1/√d_k**, a **mask** removes the pairs that are "
    "not allowed, and a row-wise **softmax** turns each row into weights that mix the value vectors:  \n"
    "`Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V`.  \n"
    "Below you can watch each step, turn the temperature knob, see why the √d_k is there, try the usual "
    "masks, and open up the 72 heads of a real model (all-MiniLM-L6-v2) on your own sentence."
)

text = st.text_area("Text for the real model (used in *Step by step* with a MiniLM head, and in *A real model*)",
                    DEFAULT_TEXT, key="att_text", height=80)
ma = None
try:
    ma = real_attention(text)
except ValueError as exc:
    st.error(f"{exc} Type a sentence (up to 512 tokens are read; longer texts are truncated).")
if ma is not None and ma.truncated:
    st.warning(ma.note)


# ----------------------------------------------------------------------------- 1. step by step
def step_window(T: int, labels):
    """The token window the step heatmaps show: all T tokens, or STEP_WINDOW of them chosen with a
    slider (a 512-token text would otherwise send every T×T stage, about 20 MB, for cells a pixel
    wide). Returns (slice, labels of the shown tokens)."""
    if T <= STEP_WINDOW:
        return slice(0, T), labels
    lo = st.slider(f"First token shown (the heatmaps show {STEP_WINDOW} of the {T} tokens)", 0,
                   T - STEP_WINDOW, 0, key="att_view_start")
    win = slice(lo, lo + STEP_WINDOW)
    st.caption(f"Showing queries and keys **{lo}–{lo + STEP_WINDOW - 1} of {T}** (every value exact). Each "
               f"query's weights still sum to 1 over all {T} keys, so a row of the window can sum to less; "
               "the entropy below uses every token.")
    return win, [f"{i}:{labels[i]}" if labels is not None else str(i) for i in range(win.start, win.stop)]


@st.fragment
def step_by_step():
    st.header("1. Step by step")
    c = st.columns([1.3, 1, 1, 1])
    source = c[0].radio("Q, K, V from", ["synthetic (random)", "a MiniLM head"], key="att_source",
                        horizontal=True, disabled=ma is None)
    labels = None
    if source == "a MiniLM head" and ma is not None:
        layer = c[1].selectbox("Layer", range(ma.n_layers), key="att_step_layer")
        head = c[2].selectbox("Head", range(ma.n_heads), index=0, key="att_step_head")
        q, k, v = ma.q[layer, head], ma.k[layer, head], ma.v[layer, head]
        labels = ma.tokens
        c[3].caption(f"Q, K, V of layer {layer}, head {head}: shape ({len(labels)}, {ma.d_k}) each, "
                     "taken from the model's own forward pass.")
    else:
        T = c[1].slider("Tokens T", 2, 64, 8, key="att_T")
        d_k = c[2].slider("Key dimension d_k", 2, 256, 64, key="att_dk")
        seed = c[3].number_input("Seed", 0, 10_000, 0, key="att_seed")
        q, k, v = synthetic_qkv(T, d_k, int(seed))
    T, d_k = q.shape
    default_scale = 1.0 / np.sqrt(d_k)

    c = st.columns([1.3, 1, 1, 1])
    kind = c[0].radio("Mask", MASK_KINDS, key="att_mask", horizontal=True)
    window = c[1].slider("Window (keys seen, itself included)", 1, T, min(3, T), key="att_window",
                         disabled=kind != "sliding window")
    n_real = c[2].slider("Real tokens (the rest is padding)", 1, T, max(1, T - max(1, T // 4)), key="att_pad",
                         disabled=kind != "padding")
    mult = c[3].select_slider("Scale (× 1/√d_k)", MULTIPLIERS, value=1.0, format_func=_fmt_mult,
                              key="att_scale")
    scale = mult * default_scale
    try:
        mask = build_mask(kind, T, window, n_real)
        steps = la.attention_steps(q, k, v, scale=scale, mask=mask)
    except ValueError as exc:
        st.error(f"{exc}")
        return
    st.caption(f"T = {T} tokens, d_k = {d_k}: scale = {mult:g} × 1/√{d_k} = **{scale:.4g}**. "
               "Rows are queries (who is looking), columns are keys (who is looked at). "
               "Grey crossed cells are masked: −∞ before the softmax, exactly 0 after it.")
    win, shown_labels = step_window(T, labels)
    shown_mask = None if mask is None else mask[win, win]
    # four in a row while the cells stay readable; two by two (twice the size) for longer sequences
    big = T > 24
    cols = [*st.columns(2), *st.columns(2)] if big else st.columns(4)
    figs = fa.steps_figures(steps.scores[win, win], steps.scaled[win, win], steps.masked[win, win],
                            steps.weights[win, win], scale, d_k, mask=shown_mask, labels=shown_labels,
                            height=600 if big else 340)
    for i, (col, fig) in enumerate(zip(cols, figs)):
        with col:
            chart(fig, key=f"att_step_{i}")

    ent = la.attention_entropy(steps.weights)
    curve = la.entropy_by_scale(q, k, np.asarray(MULTIPLIERS) * default_scale, mask=mask)   # (41,)
    c1, c2 = st.columns(2)
    with c1:
        chart(fa.entropy_bars(ent.per_row, ent.max_nats, labels=labels), key="att_entropy_rows")
    with c2:
        chart(fa.entropy_vs_scale(MULTIPLIERS, curve, mult, ent.max_nats), key="att_entropy_curve")
    st.caption(
        f"Mean row entropy now: **{ent.per_row.mean():.3f} nats** (0 = every query picks one key, "
        f"{ent.max_nats:.3f} = log {T} = uniform). Turn the scale down and the softmax flattens toward "
        "uniform; turn it up and it saturates toward the argmax — this is what the temperature of a "
        "language model's sampling does to its output softmax too.")
    if source == "a MiniLM head" and ma is not None:
        base = la.attention_steps(q, k, v)
        diff = float(np.abs(base.weights - ma.attentions[layer, head]).max())
        st.success(f"Rebuilt from this head's own Q and K with softmax(QKᵀ/√{d_k}), the weights match the "
                   f"model's attention to within **{diff:.1e}** (largest absolute difference).")

    st.header("2. Masks")
    st.markdown(
        "A mask sets scores to −∞ before the softmax, so those weights become exactly 0 and the rest of "
        "the row is renormalised. **Causal**: a token may only look at itself and the past (GPT-style "
        "decoders). **Sliding window**: only the last few tokens (Mistral, Longformer). **Padding**: "
        "batches are padded to one length and the padding keys must be ignored (BERT). The same Q and K "
        "as above under each mask:")
    panels = []
    for name in MASK_KINDS:
        mk = build_mask(name, T, window, n_real)
        w = la.attention_steps(q, k, v, scale=scale, mask=mk).weights
        title = name if name not in ("sliding window", "padding") else (
            f"sliding window ({window})" if name == "sliding window" else f"padding ({n_real} real)")
        keep = np.ones((T, T), bool) if mk is None else mk
        panels.append((title, w[win, win], keep[win, win]))
    chart(fa.mask_gallery(panels, labels=shown_labels), key="att_mask_gallery")


step_by_step()


# ---------------------------------------------------------------------------------- 3. why √d_k
@st.fragment
def why_sqrt_dk():
    st.header("3. Why divide by √d_k?")
    st.markdown(
        "If the entries of q and k are independent with mean 0 and variance 1, then q·k is a sum of d_k "
        "such products, so its **variance is d_k**: scores get larger the wider the head. Fed to a "
        "softmax, large scores make one weight close to 1 and the others close to 0 — the row "
        "**saturates**, and the gradient through it almost vanishes. Dividing by √d_k brings the "
        "variance back to 1 whatever d_k is. Sampled here for d_k = 1 … 1024:")
    c = st.columns(3)
    n_keys = c[0].slider("Keys per query (T_k)", 2, 256, 16, key="att_study_keys")
    seed = c[1].number_input("Seed", 0, 10_000, 0, key="att_study_seed")
    s = study(n_keys, int(seed))
    chart(fa.scaling_figure(s.d_k, s.var_raw, s.var_scaled, s.max_weight_raw, s.max_weight_scaled, s.n_keys),
          key="att_study")
    i = int(np.flatnonzero(s.d_k == 256)[0])
    st.caption(f"{s.n_samples} random queries against {n_keys} random keys per d_k. At d_k = 256 the "
               f"unscaled softmax gives its top key **{s.max_weight_raw[i]:.2f}** of the weight on average "
               f"(scaled: {s.max_weight_scaled[i]:.2f}; uniform would be {1 / n_keys:.3f}).")


why_sqrt_dk()


# ------------------------------------------------------------------------------- 4. real model
@st.fragment
def real_model():
    st.header("4. A real model: all-MiniLM-L6-v2")
    if ma is None:
        st.info("Enter some text above to see the model's attention.")
        return
    T = len(ma.tokens)
    st.markdown(
        f"The text above is split into **{T} tokens** (WordPiece, with `[CLS]` and `[SEP]` added). Each of "
        f"the {ma.n_layers} layers has {ma.n_heads} heads; each head is a {T}×{T} matrix of weights. "
        "Hover for the exact weight, drag to zoom, double-click to reset.")
    c = st.columns([1, 1, 2, 1.2])
    layer = c[0].selectbox("Layer", range(ma.n_layers), key="att_layer")
    head = c[1].selectbox("Head", range(ma.n_heads), key="att_head", index=0)
    view = c[2].radio("Show", ["one head", "mean over heads", "max over heads", "rollout up to this layer"],
                      key="att_view", horizontal=True)
    cap = c[3].select_slider("Colour range up to", ["auto", 1.0, 0.5, 0.25, 0.1], value="auto", key="att_cap",
                             help="auto: the largest weight shown. A fixed limit makes charts comparable; "
                                  "weights above it are drawn in the top colour and the hover still shows "
                                  "the exact value.")
    cap = None if cap == "auto" else float(cap)
    a = ma.attentions
    if view == "one head":
        w, title, cb = a[layer, head], f"Layer {layer}, head {head}", "attention weight"
    elif view == "mean over heads":
        w, title, cb = a[layer].mean(0), f"Layer {layer}: mean over the {ma.n_heads} heads", "mean weight"
    elif view == "max over heads":
        w, title, cb = a[layer].max(0), f"Layer {layer}: max over the {ma.n_heads} heads", "max weight"
    else:
        w = la.attention_rollout(a[: layer + 1])[-1]
        title = f"Attention rollout through layer{' 0' if layer == 0 else f's 0…{layer}'}"
        cb = "rollout weight"
    chart(fa.attention_heatmap(w, ma.tokens, title, cb, zmax=cap), key="att_real_heatmap")
    if view == "rollout up to this layer":
        st.caption("Rollout (Abnar & Zuidema, 2020) follows attention through the stack: each layer's "
                   "head-averaged weights are mixed 50/50 with the identity (the residual connection keeps "
                   "the token itself), rows renormalised, and the layers multiplied. Row i estimates how much "
                   "each input token flowed into position i.")
    elif view == "max over heads":
        st.caption("The max over heads shows which pairs *some* head attends to; its rows no longer sum to 1.")

    st.subheader(f"All {ma.n_layers * ma.n_heads} heads")
    fig, note = fa.heads_grid(a, ma.tokens, zmax=cap)
    chart(fig, key="att_grid")
    st.caption(note or "Rows are layers, columns are heads; every tile shares the colour bar. Hover any "
                       "tile for layer, head, tokens and weight.")


real_model()


# ---------------------------------------------------------------------------- 5. shapes
def shapes_table():
    st.header("5. Multi-head attention: the shapes")
    if ma is None:
        return
    T, D, H, dk = len(ma.tokens), ma.d_model, ma.n_heads, ma.d_k
    rows = [
        ("hidden states X", "input of the layer", "(T, d_model)", f"({T}, {D})"),
        ("Q, K, V", "X W_Qᵀ + b_Q (same for K, V); W_Q is (d_model, d_model)", "(T, d_model) each", f"({T}, {D}) each"),
        ("split into heads", "reshape + transpose: d_model = H · d_k", "(H, T, d_k)", f"({H}, {T}, {dk})"),
        ("scores", "Q Kᵀ / √d_k per head", "(H, T, T)", f"({H}, {T}, {T})"),
        ("weights", "softmax over keys (+ mask)", "(H, T, T)", f"({H}, {T}, {T})"),
        ("per-head output", "weights · V", "(H, T, d_k)", f"({H}, {T}, {dk})"),
        ("concatenate heads", "transpose + reshape", "(T, d_model)", f"({T}, {D})"),
        ("attention output", "· W_Oᵀ + b_O", "(T, d_model)", f"({T}, {D})"),
    ]
    st.dataframe(pd.DataFrame(rows, columns=["step", "operation", "shape", f"MiniLM, this text (T = {T})"]),
                 hide_index=True, width="stretch")
    n_params = 4 * (D * D + D)
    st.caption(f"MiniLM: d_model = {D}, H = {H} heads of d_k = {D} / {H} = {dk}, {ma.n_layers} layers. "
               f"One attention block holds 4 × ({D}×{D} + {D}) = {n_params:,} parameters (W_Q, W_K, W_V, W_O "
               f"with biases); the heads do not add parameters, they only split the {D} dimensions.")


shapes_table()
