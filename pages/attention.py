"""Attention: softmax(QKᵀ/√d_k + M)V step by step, why √d_k, masks, and the real heads of the chosen model."""
import numpy as np
import streamlit as st

from figures import attention as fa
from figures import attention_model as fam
from la_core import attention as la
from la_core import models
from la_core.models.weight_kinds import weight_kind
from ui.chart import chart, kept_figure
from ui.models import current_model

DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."
MULTIPLIERS = [float(f"{x:.3g}") for x in np.logspace(-2, 2, 41)]  # 0.01× … 100× of 1/√d_k, log-spaced
MASK_KINDS = ["none", "causal", "sliding window", "padding"]
STEP_WINDOW = 128   # step-by-step heatmaps show at most this many tokens per side (a movable window)
OVERVIEW_MAX = 128  # a real head with more tokens is drawn as block means, with an exact zoom window
ZOOM_SIZES = [16, 32, 64, 128]
CHART_MIN_PX = 360  # a chart beside another gets at least this wide, or they stack (900 px window: 440 px)


def grid_of(n: int, min_px: int):
    """``n`` cells a row on a wide page, fewer (down to one) as the main column narrows below n × min_px."""
    return st.grid(n, min_column_width=min_px)


def _fmt_mult(x: float) -> str:
    return "1× = 1/√d_k (default)" if x == 1.0 else f"{x:g}×"


@st.cache_resource(max_entries=6, show_spinner="Running the model with attention weights…")
def real_attention(path: str, text: str, _model: models.Model) -> models.ModelAttention:
    """Every head's weights and q, k, v for one text, kept per (model folder, text): the page's
    sliders and selectors never run the model again."""
    return _model.attention(text, truncate=True)


@st.cache_data(max_entries=64, show_spinner=False)
def rebuild_error(path: str, text: str, layer: int, head: int, _ma: models.ModelAttention) -> float:
    """Largest |softmax(q kᵀ/√d_head + mask) − the model's weights| for one head."""
    T = len(_ma.tokens)
    rebuilt = la.attention_steps(_ma.q[layer, head], _ma.k[layer, head], _ma.v[layer, head], mask=_ma.mask[layer],
                                 dtype="float64" if T <= 512 else "float32").weights
    return float(np.abs(rebuilt - _ma.attentions[layer, head]).max())


@st.cache_data(max_entries=8, show_spinner=False)
def attention_parameters(path: str, _model: models.Model) -> tuple[int, str]:
    """Parameters of layer 0's W_Q, W_K, W_V, W_O (biases included), and which of Q, K, V, O have a bias."""
    n, bias = 0, ""
    for name, p in _model.model.named_parameters():
        base = name[: -len("bias")] + "weight" if name.endswith(".bias") else name
        layer, kind = weight_kind(_model.family, base)
        if layer == 0 and kind in ("Q", "K", "V", "QKV", "O"):
            n += p.numel()
            bias += kind if name.endswith(".bias") else ""
    return n, bias


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


@st.cache_data(max_entries=16, show_spinner=False)
def entropy_curve(q, k, kind: str, window: int, n_real: int) -> np.ndarray:
    """Mean row entropy at every scale of MULTIPLIERS: it does not change with the scale slider."""
    scales = np.asarray(MULTIPLIERS) / np.sqrt(q.shape[-1])
    return la.entropy_by_scale(q, k, scales, mask=build_mask(kind, q.shape[0], window, n_real))   # (41,)


def use_model_settings(desc: la.MaskKind) -> None:
    """On switching Q, K, V to a model head: start from the model's own mask and scale."""
    if st.session_state.get("att_source", "").startswith("synthetic") or desc.kind not in MASK_KINDS:
        return
    st.session_state["att_mask"] = desc.kind
    if desc.kind == "sliding window":               # (Streamlit logs once that these sliders also have defaults)
        st.session_state["att_window"] = desc.size
    elif desc.kind == "padding":
        st.session_state["att_pad"] = desc.size
    st.session_state["att_scale"] = 1.0


def unless_set(key: str, default):
    """A keyed widget's default, or None once its key holds a value (use_model_settings may have set it,
    and Streamlit warns when a widget gets both). Only for widgets whose identity is their key."""
    return None if key in st.session_state else default


model = current_model()
SHORT = "MiniLM" if model.name == models.BUNDLED_NAME else model.name
st.title("Attention")
st.markdown(
    "Attention is three matrix products and a softmax: every query vector is compared with every key "
    "vector by a dot product, the scores are scaled by **1/√d_k**, a **mask** removes the pairs that are "
    "not allowed, and a row-wise **softmax** turns each row into weights that mix the value vectors:  \n"
    "`Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V`.  \n"
    "Below you can watch each step, turn the temperature knob, see why the √d_k is there, try the usual "
    f"masks, and open up the {model.n_layers * model.n_heads} heads of a real model ({model.name}, chosen in "
    "the sidebar) on your own sentence."
)

text = st.text_area(f"Text for the real model (used in *Step by step* with a {SHORT} head, and in *A real model*)",
                    DEFAULT_TEXT, key="att_text", height=80)
ma = None
try:
    ma = real_attention(model.path, text, model)
except ValueError as exc:
    st.error(f"{exc} Type a sentence (up to {model.token_limit} tokens are read; longer texts are truncated).")
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


def model_check(weights, mask, keep, mult: float, layer: int, head: int) -> None:
    """Compare the weights on screen with the model's own, saying which settings they use: the
    weights match the model only with its mask and the default scale."""
    own = ma.mask[layer]
    desc = la.describe_mask(own)
    diff = float(np.abs(weights - ma.attentions[layer, head]).max())
    d_k = ma.d_k
    if np.array_equal(keep, own) and mult == 1.0:
        st.success(f"Rebuilt from this head's own Q and K with softmax(QKᵀ/√{d_k}"
                   f"{' + mask' if mask is not None else ''}), the weights match the model's attention to within "
                   f"**{diff:.1e}** (largest absolute difference).")
        return
    used, fix = [], []
    if not np.array_equal(keep, own):
        used.append(f"**{fam.mask_phrase(la.describe_mask(keep))}**")
        if desc.kind in MASK_KINDS:
            fix.append(f"the mask to **{desc.kind}**" + (f" (window {desc.size})" if desc.kind == "sliding window"
                                                        else f" ({desc.size} real)" if desc.kind == "padding" else ""))
    if mult != 1.0:
        used.append(f"**scale {mult:g}× 1/√d_k**")
        fix.append("the scale to **1×**")
    st.info(f"These weights use {' and '.join(used)}, not the model's own settings ({fam.mask_phrase(desc)}, scale "
            f"1/√{d_k}), so they are not what layer {layer}, head {head} computes in {model.name}: they differ from "
            f"its weights by up to **{diff:.3g}**."
            + (f" Set {' and '.join(fix)} to rebuild the model's weights." if fix else ""))


@st.fragment
def step_by_step():
    st.header("1. Step by step")
    c = grid_of(4, 190)                    # four controls a row, two when narrow
    model_head = f"a {SHORT} head"
    layer = min(st.session_state.get("att_step_layer", 0), ma.n_layers - 1) if ma is not None else 0
    source = c.radio("Q, K, V from", ["synthetic (random)", model_head], key="att_source", horizontal=True,
                        disabled=ma is None, on_change=use_model_settings,
                        args=(la.describe_mask(ma.mask[layer]) if ma is not None else None,))
    from_model = source == model_head and ma is not None
    labels = None
    if from_model:
        kv = la.kv_head_of(ma.n_heads, ma.n_kv_heads)
        layer = c.selectbox("Layer", range(ma.n_layers), key="att_step_layer")
        head = c.selectbox("Head", range(ma.n_heads), index=0, key="att_step_head",
                           format_func=lambda h: fam.head_label(h, kv))
        q, k, v = ma.q[layer, head], ma.k[layer, head], ma.v[layer, head]
        labels = ma.tokens
        c.caption(f"Q, K, V of layer {layer}, head {head}: shape ({len(labels)}, {ma.d_k}) each, "
                     "taken from the model's own forward pass"
                     + (" (q and k after RoPE)." if model.rope_theta else "."))
    else:
        T = c.slider("Tokens T", 2, 64, 8, key="att_T")
        d_k = c.slider("Key dimension d_k", 2, 256, 64, key="att_dk")
        seed = c.number_input("Seed", 0, 10_000, 0, key="att_seed")
        q, k, v = synthetic_qkv(T, d_k, int(seed))
    T, d_k = q.shape
    default_scale = 1.0 / np.sqrt(d_k)

    c = grid_of(4, 190)
    kind = c.radio("Mask", MASK_KINDS, key="att_mask", horizontal=True)
    window = c.slider("Window (keys seen, itself included)", 1, max(T, 2), min(3, T), key="att_window",
                         disabled=kind != "sliding window")
    n_real = c.slider("Real tokens (the rest is padding)", 1, max(T, 2), max(1, T - max(1, T // 4)),
                         key="att_pad", disabled=kind != "padding")
    mult = c.select_slider("Scale (× 1/√d_k)", MULTIPLIERS, value=unless_set("att_scale", 1.0),
                              format_func=_fmt_mult, key="att_scale")
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
    # four in a row while the cells stay readable, two by two on a narrower page; two a row (twice the size),
    # or one under another, for longer sequences and for a model's tokens, whose labels need the room
    big = T > 24 or labels is not None
    cells = grid_of(4, 200) if not big else grid_of(2, 380)
    figs = fa.steps_figures(steps.scores[win, win], steps.scaled[win, win], steps.masked[win, win],
                            steps.weights[win, win], scale, d_k, mask=shown_mask, labels=shown_labels,
                            height=600 if big else 340)
    for i, fig in enumerate(figs):
        with cells.cell():
            chart(fig, key=f"att_step_{i}")

    keep = np.ones((T, T), bool) if mask is None else mask
    ent = la.attention_entropy(steps.weights)
    most = la.max_entropy(keep)                                         # (T,) log of the keys row i may see
    curve = entropy_curve(q, k, kind, window, n_real)                   # (41,)
    if mask is None:
        uniform = f"{most.mean():.3f} = log {T} = uniform"
        curve_label = "uniform"
    else:
        uniform = (f"{most.mean():.3f} = uniform over the keys each query may see: the mean over rows of log n_i, "
                   f"n_i = the keys row i may see (log {T} = {np.log(T):.3f} would need all {T})")
        curve_label = "uniform over allowed keys"
    entropy = grid_of(2, CHART_MIN_PX)
    with entropy.cell():
        chart(fa.entropy_bars(ent.per_row, most, labels=labels), key="att_entropy_rows")
    with entropy.cell():
        chart(fa.entropy_vs_scale(MULTIPLIERS, curve, mult, float(most.mean()), uniform_label=curve_label),
              key="att_entropy_curve")
    st.caption(
        f"Mean row entropy now: **{ent.per_row.mean():.3f} nats** (0 = every query picks one key, {uniform}). "
        "Turn the scale down and the softmax flattens toward uniform; turn it up and it saturates toward the "
        "argmax — this is what the temperature of a language model's sampling does to its output softmax too.")
    if from_model:
        model_check(steps.weights, mask, keep, mult, layer, head)

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
        title = {"none": "no mask", "sliding window": f"sliding window ({window})",
                 "padding": f"padding ({n_real} real)"}.get(name, name)
        keep = np.ones((T, T), bool) if mk is None else mk
        panels.append((title, w[win, win], keep[win, win]))
    cells = grid_of(4, 200) if not big else grid_of(2, 380)
    for i, fig in enumerate(fa.mask_panels(panels, labels=shown_labels, height=600 if big else 340)):
        with cells.cell():
            chart(fig, key=f"att_mask_{i}")
    st.caption("The four panels share one colour scale, 0 to the largest weight shown, so they compare; grey "
               "crossed cells are masked.")


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
    c = grid_of(3, 190)
    n_keys = c.slider("Keys per query (T_k)", 2, 256, 16, key="att_study_keys")
    seed = c.number_input("Seed", 0, 10_000, 0, key="att_study_seed")
    s = study(n_keys, int(seed))
    charts = grid_of(2, CHART_MIN_PX)
    with charts.cell():
        chart(fa.variance_figure(s.d_k, s.var_raw, s.var_scaled), key="att_study")
    with charts.cell():
        chart(fa.max_weight_figure(s.d_k, s.max_weight_raw, s.max_weight_scaled, s.n_keys), key="att_study_max")
    i = int(np.flatnonzero(s.d_k == 256)[0])
    st.caption(f"{s.n_samples} random queries against {n_keys} random keys per d_k. At d_k = 256 the "
               f"unscaled softmax gives its top key **{s.max_weight_raw[i]:.2f}** of the weight on average "
               f"(scaled: {s.max_weight_scaled[i]:.2f}; uniform would be {1 / n_keys:.3f}).")


why_sqrt_dk()


# ------------------------------------------------------------------------------- 4. real model
def describe_model(T: int) -> str:
    kind = "WordPiece, with `[CLS]` and `[SEP]` added" if model.family == "bert" else \
        "by its own tokenizer, special tokens included"
    out = (f"The text above is split into **{T} tokens** ({kind}). Each of the {ma.n_layers} layers has "
           f"{ma.n_heads} heads; each head is a {T}×{T} matrix of weights. ")
    own = la.describe_mask(ma.mask[-1])
    if ma.causal:
        out += (f"{model.name} is a **decoder**: each token sees only itself and earlier tokens ({fam.mask_phrase(own)}), "
                "so the weights above the diagonal are masked, drawn grey. ")
    else:
        out += f"{model.name} is an **encoder**: every token sees every token. "
    if ma.n_kv_heads < ma.n_heads:
        g = ma.n_heads // ma.n_kv_heads
        out += (f"**Grouped-query attention**: the {ma.n_heads} query heads share {ma.n_kv_heads} key/value heads, "
                f"{g} query heads a group (heads 0–{g - 1} read K/V head 0, and so on). ")
    if model.rope_theta:
        out += f"Positions enter by rotating q and k (RoPE, base θ = {model.rope_theta:g}). "
    return out + "Hover for the exact weight, drag to zoom, double-click to reset."


def zoom_window(T: int) -> tuple[int, int]:
    """The exact-value window of a long text: (first token, size)."""
    c = grid_of(2, 200)
    size = c.select_slider("Zoom size (tokens)", [s for s in ZOOM_SIZES if s < T] or [T], value=min(64, T),
                              key="att_zoom_size")
    lo = c.slider("Zoom: first token", 0, T - size, 0, key="att_zoom_start")
    return lo, size


@st.fragment
def real_model():
    st.header(f"4. A real model: {model.name}")
    if ma is None:
        st.info("Enter some text above to see the model's attention.")
        return
    T, H = len(ma.tokens), ma.n_heads
    kv = la.kv_head_of(H, ma.n_kv_heads)
    st.markdown(describe_model(T))
    views = ["one head", "mean over heads", "max over heads"] + ([] if ma.causal else ["rollout up to this layer"])
    c = grid_of(4, 190)
    layer = c.selectbox("Layer", range(ma.n_layers), key="att_layer")
    head = c.selectbox("Head", range(H), key="att_head", index=0, format_func=lambda h: fam.head_label(h, kv))
    view = c.radio("Show", views, key="att_view", horizontal=True)
    cap = c.select_slider("Colour range up to", ["auto", 1.0, 0.5, 0.25, 0.1], value="auto", key="att_cap",
                             help="auto: the largest weight shown. A fixed limit makes charts comparable; "
                                  "weights above it are drawn in the top colour and the hover still shows "
                                  "the exact value.")
    cap = None if cap == "auto" else float(cap)
    a, shown_mask = ma.attentions, ma.mask[layer]
    if view == "one head":
        w, title, cb = a[layer, head], f"Layer {layer}, head {head}", "attention weight"
    elif view == "mean over heads":
        w, title, cb = a[layer].mean(0), f"Layer {layer}: mean over the {H} heads", "mean weight"
    elif view == "max over heads":
        w, title, cb = a[layer].max(0), f"Layer {layer}: max over the {H} heads", "max weight"
    else:
        w, shown_mask = la.attention_rollout(a[: layer + 1])[-1], None
        title = f"Attention rollout through layer{' 0' if layer == 0 else f's 0…{layer}'}"
        cb = "rollout weight"
    if T <= OVERVIEW_MAX:
        chart(fam.attention_heatmap(w, ma.tokens, title, cb, zmax=cap, mask=shown_mask), key="att_real_heatmap")
    else:
        lo, size = zoom_window(T)
        block = -(-T // OVERVIEW_MAX)
        chart(fam.attention_heatmap(w, ma.tokens, f"{title}: all {T} tokens, block-averaged", cb, zmax=cap,
                                    mask=shown_mask, block=block, window=(lo, size)), key="att_real_heatmap")
        st.caption(f"**Block-averaged**: each tile is the mean of {block}×{block} weights ({T} tokens in "
                   f"{-(-T // block)}×{-(-T // block)} tiles; masked weights count as the 0 they are, a tile with "
                   "no allowed pair is grey). The orange square is the zoom below, where every weight is exact.")
        part = slice(lo, lo + size)
        chart(fam.attention_heatmap(w[part, part], ma.tokens[part], f"Zoom: tokens {lo}–{lo + size - 1} of {T}",
                                    cb, zmax=cap, mask=None if shown_mask is None else shown_mask[part, part],
                                    first=lo, window=(lo, size)), key="att_real_zoom")
        st.caption(f"Queries and keys {lo}–{lo + size - 1} of {T}, exact weights. Each query's weights sum to 1 over "
                   "all its keys, so a row of the window can sum to less.")
    if shown_mask is not None and not shown_mask.all():
        st.caption(f"Grey cells are masked ({fam.mask_phrase(la.describe_mask(ma.mask[layer]))}): −∞ before the softmax, "
                   "so no weight at all — not a weight that happens to be 0.")
    if view == "rollout up to this layer":
        st.caption("Rollout (Abnar & Zuidema, 2020) follows attention through the stack: each layer's "
                   "head-averaged weights are mixed 50/50 with the identity (the residual connection keeps "
                   "the token itself), rows renormalised, and the layers multiplied. Row i estimates how much "
                   "each input token flowed into position i.")
    elif view == "max over heads":
        st.caption("The max over heads shows which pairs *some* head attends to; its rows no longer sum to 1.")
    if ma.causal:
        st.caption("No attention rollout for a decoder: under the causal mask token i can only draw on tokens "
                   "0…i, so multiplying the layers piles weight onto the first tokens whatever the text says "
                   "(the first row is always [1, 0, …]), and the result shows position more than flow.")
    err = rebuild_error(model.path, text, layer, head, ma)
    how = [*(["after RoPE"] if model.rope_theta else []),
           *([f"K/V head {kv[head]}, shared by its group"] if ma.n_kv_heads < H else [])]
    detail = f" ({'; '.join(how)})" if how else ""
    rebuilt = (f"Rebuild check, layer {layer}, head {head}: softmax(q kᵀ/√{ma.d_k} + mask) from this head's own q "
               f"and k{detail}, against {model.name}'s weights: largest absolute difference **{err:.1e}**.")
    (st.success if err <= 1e-4 else st.warning)(rebuilt)

    st.subheader(f"All {ma.n_layers * H} heads")
    fig, note = kept_figure((model.path, text, cap), fam.heads_grid, a, ma.tokens, zmax=cap, mask=ma.mask,
                            kv_of=kv)
    chart(fig, key="att_grid")
    if H <= 12:
        heads = " (h0, h1, …)" + (" with, under each, the K/V head it reads (\"kv g\": heads with the same g share "
                                  "K and V)" if ma.n_kv_heads < H else "")
    else:
        heads = ", every few numbered" + (" (the hover also names each head's K/V head)" if ma.n_kv_heads < H else "")
    st.caption(f"Rows are layers, columns are heads{heads}; every tile shares the colour bar. Hover any tile for "
               "layer, head, tokens and weight." + (f" {note}" if note else "") + (" Grey: masked." if ma.causal else ""))


real_model()


# ---------------------------------------------------------------------------- 5. shapes
def shapes_table():
    st.header("5. Multi-head attention: the shapes")
    if ma is None:
        return
    T, D, H, G, dk = len(ma.tokens), ma.d_model, ma.n_heads, ma.n_kv_heads, ma.d_k
    n_params, bias = attention_parameters(model.path, model)
    st.table(fam.shapes_table(T, D, H, G, dk, rope=bool(model.rope_theta), causal=ma.causal, bias=bias,
                              column=f"{SHORT}, this text (T = {T})"))
    kv_txt = f", {G} key/value heads" if G < H else ""
    st.caption(f"{SHORT}: d_model = {D}, H = {H} heads of d_head = {dk}{kv_txt}, {ma.n_layers} layers. One attention "
               f"block holds {n_params:,} parameters (W_Q, W_K, W_V, W_O{' with biases' if bias else ''}); the heads "
               f"do not add parameters, they only split the {H * dk} dimensions.")


shapes_table()
