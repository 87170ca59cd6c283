"""The Geometry page's RoPE sections: the rotation on a synthetic q and k (started at the chosen
model's own base θ and head size), and the real q and k of a Llama-family model rotated by position.

- :func:`rope_intro`: what the chosen model does for positions (RoPE with its θ, or learned positions),
  and the controls' starting values for it.
- :func:`rope_section`: the synthetic demo (one pair in its plane, the animation, scores, speeds).
- :func:`model_rope_section`: a layer, head and token pair of the model; q and k before RoPE
  (the model's rotation undone) placed at every pair of positions.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

from figures import geometry as fg
from la_core import rope as lr
from la_core.models import FAMILIES, Model
from ui.chart import cached_figure, chart

__all__ = ["BASES", "N_POS", "MODEL_MAX_TOKENS", "rope_intro", "rope_section", "model_rope_section", "model_qk",
           "slow_pair", "side_by_side"]

BASES = [100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000]
HEAD_DIMS = [64, 128, 384]
N_POS = 64
MODEL_MAX_TOKENS = 256    # positions of the model section's score matrix (P × P)
MODEL_TEXT = "The cat sat on the mat because it was warm."
CHART_MIN_PX = 360        # narrowest a chart beside another gets before the two stack: its title fits


def slow_pair(d: int) -> int:
    """The pair whose θ = base^(−1/4): slow enough that the base visibly changes it (pair 0 has θ = 1
    for every base)."""
    return d // 8


def _base_value(theta: float) -> int | float:
    return int(theta) if float(theta).is_integer() else float(theta)


def _set_if_missing_or_out(key: str, options, default) -> None:
    """Put ``default`` in the widget's state when it has none or holds a value no longer offered."""
    if key not in st.session_state or st.session_state[key] not in options:
        st.session_state[key] = default


def rope_intro(model: Model, rope: lr.ModelRope | None) -> None:
    """Say how the chosen model encodes positions; start the controls at its θ and d_head (again when
    the model changes)."""
    d0 = model.d_head if rope else 64
    base0 = _base_value(rope.base) if rope else 10_000
    if st.session_state.get("geo_rope_for") != model.path:
        st.session_state["geo_rope_for"] = model.path
        for key in ("geo_rope_d", "geo_rope_base", "geo_rope_pair"):
            st.session_state.pop(key, None)
    _set_if_missing_or_out("geo_rope_d", sorted({*HEAD_DIMS, d0}), d0)
    _set_if_missing_or_out("geo_rope_base", sorted({*BASES, base0}), base0)
    if rope is None:
        if model.rope_theta is not None:     # RoPE whose settings could not be read: the page said why
            return
        st.info(f"**{model.name}** is a {FAMILIES[model.family]} model: it has **no RoPE**. BERT and GPT-2 learn "
                "a position embedding that is added to each token's vector before the first layer, so their "
                "queries and keys are not rotated by position. The demo below starts at d = 64 and base "
                "10,000; pick a Llama, Mistral or Qwen2 folder in the sidebar's Model picker to see a "
                "model's own RoPE.")
        return
    rescaled = "" if rope.rope_type == "default" else (
        f" (rope_type **{rope.rope_type}**: some frequencies are rescaled for long context; the demo uses the "
        "plain base^(−2i/d), the real q and k below use the model's own)")
    st.markdown(f"**{model.name}** ({FAMILIES[model.family]}) rotates its queries and keys this way, with base "
                f"**θ = {rope.base:,.0f}** and head size **d_head = {model.d_head}**{rescaled}; the controls "
                "below start at its values.")


def side_by_side():
    """Two charts beside each other on a wide window, one under the other when the main column is narrower
    than two readable charts (at 900 px with the sidebar open it is about 440 px)."""
    return st.grid(2, min_column_width=CHART_MIN_PX)


def _on_d_change() -> None:
    st.session_state["geo_rope_pair"] = slow_pair(st.session_state["geo_rope_d"])


@st.cache_data(show_spinner=False)
def synthetic_qk(d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(d)
    k = q + 0.6 * rng.standard_normal(d)   # a key that resembles the query, so scores are visible
    return q, k


@st.cache_data(show_spinner=False)
def scores(d: int, base: float, seed: int = 0) -> np.ndarray:
    q, k = synthetic_qk(d, seed)
    return lr.rope_scores(q, k, N_POS, base)


def _diagonal_spread(S: np.ndarray) -> float:
    P = S.shape[0]
    return max(float(np.ptp(np.diagonal(S, offset=o))) for o in range(-P + 1, P))


@st.fragment
def rope_section(model_d: int | None) -> None:
    """The synthetic demo; ``model_d`` (the model's d_head, None without RoPE) joins the d options."""
    c1, c2 = st.columns(2)        # a selectbox and a slider: both still fit half of a 440 px main column
    dims = sorted({*HEAD_DIMS, *([model_d] if model_d else [])})
    d = c1.selectbox("Head dimension d", dims, key="geo_rope_d", on_change=_on_d_change,
                     help="64 and 128 are common head sizes; 384 is MiniLM's whole embedding width"
                          + (f"; {model_d} is the chosen model's d_head." if model_d else "."))
    bases = sorted({*BASES, st.session_state["geo_rope_base"]})
    base = c2.select_slider("RoPE base (log steps)", options=bases, key="geo_rope_base", format_func=lambda b: f"{b:,}")
    theta = lr.rope_frequencies(d, base)
    c3, c4, c5 = st.columns(3)
    if st.session_state.get("geo_rope_pair", -1) not in range(d // 2):
        st.session_state["geo_rope_pair"] = slow_pair(d)
    pair = c3.slider("Pair i (0 = fastest)", 0, d // 2 - 1, key="geo_rope_pair")
    m = c4.slider("Query position m", 0, N_POS - 1, 3, key="geo_rope_m")
    n = c5.slider("Key position n", 0, N_POS - 1, 0, key="geo_rope_n")
    q, k = synthetic_qk(d)
    q2, k2 = q[2 * pair:2 * pair + 2], k[2 * pair:2 * pair + 2]
    wl = 2 * np.pi / theta[pair]
    st.caption(f"Pair {pair}: θ = base^(−2·{pair}/{d}) = {theta[pair]:.4g} rad per position, one full turn every "
               f"{wl:,.1f} positions. Pair 0 turns by 1 rad per position for every base (θ₀ = base⁰ = 1): the "
               "base only slows the later pairs. Move m and n together: the angle between the arrows, and "
               "q·k, stay the same.")
    pair_charts = side_by_side()
    with pair_charts.cell():
        chart(fg.rope_pair_figure(q2, k2, m, n, float(theta[pair])), key="geo_chart_pair")
    with pair_charts.cell():
        chart(cached_figure(fg.rope_pair_animation, q2, float(theta[pair]), np.arange(N_POS)),
              key="geo_chart_anim")   # m and n are not inputs
    S = scores(d, float(base))
    st.markdown(
        f"**All d = {d} dimensions**: a random q and a similar k, rotated at every position 0 … {N_POS - 1}. "
        f"Along each diagonal (fixed m − n) the score varies by at most {_diagonal_spread(S):.1e} (rounding)."
    )
    score_charts = side_by_side()
    with score_charts.cell():
        chart(fg.rope_scores_figure(S), key="geo_chart_scores")
    with score_charts.cell():
        chart(fg.rope_offset_figure(S), key="geo_chart_offset")
    st.caption("Left: the score of q at position m with k at position n; along each diagonal (fixed m − n) it "
               "does not change. Right: the same scores plotted against m − n fall on one curve.")
    st.markdown(
        f"**Rotation speeds.** With base {base:,} the fastest pair turns once every {2 * np.pi:.2f} positions and "
        f"the slowest once every {2 * np.pi / theta[-1]:,.0f}. Fast pairs tell neighbouring tokens apart; slow "
        "pairs change little over a long text, so they can carry meaning that survives distance. A larger base "
        "stretches the slow wavelengths further (long-context models raise it)."
    )
    speed_charts = side_by_side()
    with speed_charts.cell():
        chart(fg.rope_speeds_figure(theta, np.arange(N_POS)), key="geo_chart_speeds")
    with speed_charts.cell():
        chart(fg.rope_wavelength_figure(theta), key="geo_chart_wavelength")
    st.caption("Left: cos(m θ_i) for every pair i over positions m: the fast pairs at the top spin, the slow ones "
               "at the bottom barely move. Right: how many positions one full turn of pair i takes.")


# ---------------------------------------------------------------------------------------------
# The chosen model's own q and k
# ---------------------------------------------------------------------------------------------

class ModelQK(NamedTuple):
    """Queries and keys of one forward pass (read-only, shared by the sessions)."""

    tokens: list
    q: np.ndarray   # (L, H, T, d_head), after RoPE
    k: np.ndarray   # (L, H, T, d_head), after RoPE, grouped heads repeated


@st.cache_resource(max_entries=2, show_spinner=False)
def model_qk(_model: Model, path: str, text: str) -> ModelQK:
    """One forward pass, cached by (model folder, text): layer, head and token choices reuse it."""
    ma = _model.attention(text)
    for a in (ma.q, ma.k):
        a.setflags(write=False)
    return ModelQK(ma.tokens, ma.q, ma.k)


def _token_label(tokens: list):
    return lambda i: f"{i}: {tokens[i]}"


@st.fragment
def model_rope_section(model: Model, rope: lr.ModelRope) -> None:
    """A layer, head and token pair of the model; q and k with the rotation undone, placed at every
    pair of positions."""
    st.subheader(f"Inside {model.name}: its own q and k, rotated by position")
    st.markdown(
        "The model hands its attention **q and k after RoPE**. Undoing the rotation with the model's own "
        "frequencies gives the vectors before it, **q_pre = R(−mθ) q** and **k_pre = R(−nθ) k** (what the "
        "q and k projections computed). Placing those two vectors at other positions shows that the score "
        "depends only on the offset m − n. In transformers' layout pair i is `(x[i], x[i + d/2])` rather than "
        "two neighbours; the rotation is the same.")
    text = st.text_input("Text for the model", MODEL_TEXT, key="geo_rope_text", max_chars=600)
    if not text.strip():
        st.info("Type some text to see the model's queries and keys.")
        return
    try:
        with st.spinner(f"Running {model.name} on the text…"):
            qk = model_qk(model, model.path, text)
    except ValueError as exc:
        st.error(f"{exc}")
        return
    T, d = len(qk.tokens), model.d_head
    if T > MODEL_MAX_TOKENS:
        st.warning(f"The text has {T} tokens; this section places q and k at up to {MODEL_MAX_TOKENS} positions. "
                   "Shorten the text.")
        return
    _set_if_missing_or_out("geo_mr_layer", range(model.n_layers), 0)
    _set_if_missing_or_out("geo_mr_head", range(model.n_heads), 0)
    _set_if_missing_or_out("geo_mr_m", range(T), T - 1)
    _set_if_missing_or_out("geo_mr_n", range(T), max(0, T - 4))
    _set_if_missing_or_out("geo_mr_pair", range(d // 2), slow_pair(d))
    c = st.grid(5, min_column_width=180)       # five in a row on a wide window, two or three when narrow
    layer = c.selectbox("Layer", range(model.n_layers), key="geo_mr_layer")
    head = c.selectbox("Head", range(model.n_heads), key="geo_mr_head")
    m = c.selectbox("Query token (position m)", range(T), key="geo_mr_m", format_func=_token_label(qk.tokens))
    n = c.selectbox("Key token (position n)", range(T), key="geo_mr_n", format_func=_token_label(qk.tokens))
    pair = c.slider("Pair i", 0, d // 2 - 1, key="geo_mr_pair")
    q_post = qk.q[layer, head, m].astype(np.float64)                 # (d,)
    k_post = qk.k[layer, head, n].astype(np.float64)                 # (d,)
    q_pre = lr.model_rope_unrotate(q_post, m, rope)                  # (d,)
    k_pre = lr.model_rope_unrotate(k_post, n, rope)                  # (d,)
    P = max(N_POS, T)
    S = rope.scaling ** 2 * lr.rope_scores(q_pre, k_pre, P, layout="half", frequencies=rope.frequencies)  # (P, P)
    score = float(q_post @ k_post)
    masked = " (the model masks keys after the query, but the dot product exists)" if model.causal and n > m else ""
    st.markdown(
        f"Layer {layer}, head {head}: the model's **q·k = {score:.4f}** for “{qk.tokens[m]}” (m = {m}) and "
        f"“{qk.tokens[n]}” (n = {n}){masked}; its softmax sees q·k/√{d} = {score / np.sqrt(d):.4f}. The same "
        f"q_pre and k_pre placed at every pair of positions 0 … {P - 1} give **{S[m, n]:.4f}** at (m, n), and "
        f"along each diagonal (fixed m − n) the score varies by at most {_diagonal_spread(S):.1e} (rounding).")
    first, second = lr.pair_indices(d, "half")
    i, j = int(first[pair]), int(second[pair])
    th = float(rope.frequencies[pair])
    st.caption(f"Pair {pair} = dimensions ({i}, {j}): θ = {th:.4g} rad per position (one turn every "
               f"{2 * np.pi / th:,.1f} positions). The dashed arrow (q at position 0) is q_pre; turned by mθ it is "
               "the model's own q in this pair." + ("" if rope.scaling == 1 else
                                  f" This model's RoPE also multiplies q and k by {rope.scaling:.4g}; the arrows "
                                  "leave that factor out, the scores include it."))
    model_charts = side_by_side()
    with model_charts.cell():
        chart(fg.rope_pair_figure(q_pre[[i, j]], k_pre[[i, j]], m, n, th, axes=(f"dimension {i}", f"dimension {j}")),
              key="geo_chart_model_pair")
    with model_charts.cell():
        chart(fg.rope_offset_figure(S, mark=(m - n, score, "the model's q·k at (m, n)"),
                                    title="q_pre·k_pre at every (m, n), against m − n"),
              key="geo_chart_model_offset")
