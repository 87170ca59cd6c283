"""Geometry: rotations (RoPE), norms, what high dimensions do to distances, and shape rules."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from figures import geometry as fg
from la_core import geometry as lg
from la_core import rope as lr
from la_core.device import device_label
from ui.chart import chart
from ui.geometry_rope import model_rope_section, rope_intro, rope_section, side_by_side
from ui.models import current_model, minilm

DIMS = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
N_POINTS = 200
SHAPE_CASES = [
    # (label, op, a, b)
    ("Q Kᵀ scores: (T, d) @ (d, T)", "@", "8, 64", "64, 8"),
    ("forgot the transpose: (T, d) @ (T, d)", "@", "8, 64", "8, 64"),
    ("bias (d,) added to (T, d)", "+", "8, 768", "768"),
    ("centering: (32, 768) − (768,)", "-", "32, 768", "768"),
    ("wrong axis: (32, 768) − (32,)", "-", "32, 768", "32"),
    ("keepdim fix: (32, 768) − (32, 1)", "-", "32, 768", "32, 1"),
    ("batched heads: (B, H, T, d_k) @ (B, H, d_k, T)", "@", "2, 12, 5, 32", "2, 12, 32, 5"),
    ("batched, no transpose: (B, H, T, d_k) @ (B, H, T, d_k)", "@", "2, 12, 5, 32", "2, 12, 5, 32"),
    ("causal mask (T, T) on scores (B, H, T, T)", "masked_fill", "2, 12, 5, 5", "5, 5"),
    ("padding mask (B, T) on scores (B, H, T, T)", "masked_fill", "2, 12, 5, 5", "2, 5"),
    ("padding mask fixed: (B, 1, 1, T)", "masked_fill", "2, 12, 5, 5", "2, 1, 1, 5"),
    ("matrix @ vector: (T, d) @ (d,)", "@", "8, 64", "64"),
]
OP_LABELS = {"@": "a @ b (matmul)", "+": "a + b", "-": "a − b", "*": "a * b", "masked_fill": "a.masked_fill(b, −inf)"}

st.title("Geometry")
st.markdown(
    "Four pieces of geometry that sit inside every transformer: **rotations** that encode where a token "
    "is (RoPE), the **norms** that measure vector length, the odd behaviour of **distances in high "
    "dimensions**, and the **shape rules** that decide whether `@` and `+` work at all. "
    f"Compute runs in torch on {device_label()}."
)


@st.cache_data(show_spinner="Sampling random vectors…")
def concentration(dims: tuple[int, ...], n_points: int, seed: int = 0):
    c = lg.distance_concentration(list(dims), n_points, seed)
    return c


# ---------------------------------------------------------------------------------------------
st.header("1. RoPE: position as a rotation")
st.markdown(
    "Rotary position embedding splits a query or key of dimension d into d/2 pairs and turns pair i by "
    "the angle **m·θ_i** at position m, with θ_i = base^(−2i/d). Rotating both q (at m) and k (at n) leaves "
    "their dot product depending only on the **offset m − n**, because the two rotations cancel except for "
    "the difference. Position 0 is no rotation at all, and lengths never change."
)


model = current_model()
try:
    rope = lr.model_rope(model.config)
except ValueError as exc:
    st.warning(f"{model.name}: its RoPE settings cannot be read ({exc}); the demo uses d = 64 and base 10,000.")
    rope = None
rope_intro(model, rope)
rope_section(model.d_head if rope else None)
if rope is not None:
    model_rope_section(model, rope)

# ---------------------------------------------------------------------------------------------
st.header("2. Norms: three ways to measure length")
st.markdown(
    "L2 is the straight-line length, L1 adds absolute values (the taxicab distance), and L∞ keeps the largest "
    "coordinate. Their unit balls are a circle, a diamond and a square; for every vector "
    "‖v‖∞ ≤ ‖v‖₂ ≤ ‖v‖₁."
)


@st.fragment
def norms_section() -> None:
    c1, c2, c3 = st.columns([1, 1, 1])
    vx = c1.slider("v, x coordinate", -3.0, 3.0, 1.5, 0.1, key="geo_vx")
    vy = c2.slider("v, y coordinate", -3.0, 3.0, 0.8, 0.1, key="geo_vy")
    mode = c3.radio("Balls", ["scaled through v", "unit balls"], key="geo_ball_mode", horizontal=True)
    v = np.array([vx, vy])
    cells = side_by_side()
    with cells.cell():
        chart(fg.norm_balls_figure(v, scaled=mode == "scaled through v"), key="geo_chart_balls")
    with cells.cell():
        word = st.text_input("A word or sentence for a real MiniLM embedding", "king", key="geo_word",
                             max_chars=2000)
        rows = {}
        nv = lg.norms(v)
        rows["v"] = nv
        if word.strip():
            m = minilm()
            raw = m.embed([word], normalize=False)[0]
            rows["MiniLM raw"] = lg.norms(raw)
            rows["MiniLM unit"] = lg.norms(m.embed([word])[0])
        else:
            st.info("Type a word to see the norms of its embedding.")
        table = pd.DataFrame({k: {"L1": r.l1, "L2": r.l2, "L∞": r.linf} for k, r in rows.items()}).T
        st.table(table.style.format("{:.4f}"))            # a static table: every column shown at any width
        st.caption(f"v = ({vx:.1f}, {vy:.1f}). MiniLM raw: the 384-d mean-pooled embedding of “{word[:40]}”; "
                   "MiniLM unit: the same after L2 normalisation (what the model returns). In 384 dimensions L1 is far larger than L2 and L∞ far smaller: the length is spread over "
                   "many small coordinates. The sentence-transformers model normalises to L2 = 1.")
    st.subheader("Frobenius norm of a matrix")
    st.markdown("‖A‖_F is the L2 norm of all entries taken together; it also equals √(σ₁² + σ₂² + …).")
    default = pd.DataFrame([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [2.0, 0.0, 1.0]], columns=["c1", "c2", "c3"])
    edited = st.data_editor(default, key="geo_matrix", num_rows="fixed")
    try:
        a = edited.to_numpy(dtype=float)
        res = lg.norms(a)
        sv = np.linalg.svd(a, compute_uv=False)
        st.markdown(f"‖A‖_F = **{res.fro:.4f}**  ·  √(Σσ²) = {np.sqrt((sv ** 2).sum()):.4f}  ·  "
                    f"row L2 norms = {', '.join(f'{x:.3f}' for x in res.l2)}")
    except (ValueError, TypeError) as exc:
        st.error(f"The matrix must hold finite numbers in every cell; {exc}")


norms_section()

# ---------------------------------------------------------------------------------------------
st.header("3. High dimensions: every point is about as far as every other")
st.markdown(
    f"{N_POINTS} random Gaussian vectors, all {N_POINTS * (N_POINTS - 1) // 2:,} pairs. In 2-D some pairs are "
    "almost on top of each other and others far apart; as d grows the distances bunch around their mean and "
    "the cosine similarities bunch around 0 (spread ≈ 1/√d)."
)


@st.fragment
def highdim_section() -> None:
    d = st.select_slider("Dimension d (log steps)", options=DIMS, value=64, key="geo_dim")
    c = concentration(tuple(DIMS), N_POINTS)
    j = DIMS.index(d)
    st.markdown(f"d = **{d}**: contrast (max − min)/min of the distances = **{c.contrast[j]:.3g}**, "
                f"cosine similarity mean {c.cos_mean[j]:+.3f}, std {c.cos_std[j]:.3f} (1/√d = {1 / np.sqrt(d):.3f}).")
    hists = side_by_side()
    with hists.cell():
        chart(fg.distance_hist_figure(c.distances[j], d), key="geo_chart_hist")
    with hists.cell():
        chart(fg.cosine_hist_figure(c.cosines[j], d), key="geo_chart_cos")
    chart(fg.contrast_figure(c.dims, c.contrast, c.cos_std, current=d), key="geo_chart_contrast")
    st.caption("The contrast (max − min)/min of the distances and the spread of the cosines, for every d: the "
               "nearest and the farthest point become almost equally far.")
    st.info(
        "Why it matters: when the nearest and the farthest neighbour are almost equally far, exact "
        "Euclidean nearest-neighbour search on raw vectors says little. Real embeddings are not random and keep "
        "structure, and comparing directions with cosine on normalised vectors ignores length differences that "
        "would otherwise dominate. For unit vectors ‖a − b‖² = 2 − 2 cos(a, b), so both rank neighbours alike."
    )


highdim_section()

# ---------------------------------------------------------------------------------------------
st.header("4. Shapes: what torch says")
st.markdown(
    "`@` needs the inner sizes to match (a's last axis = b's second-to-last); leading axes broadcast. "
    "Elementwise ops broadcast from the right: each pair of sizes must be equal or one of them 1. The table "
    "below is real: each row ran in torch on zero tensors of those shapes."
)


@st.cache_data(show_spinner=False)
def case_table() -> pd.DataFrame:
    rows = []
    for label, op, a, b in SHAPE_CASES:
        r = lg.shape_op(op, a, b)
        rows.append({"mistake / pattern": label, "operation": OP_LABELS[op], "a": str(r.a_shape),
                     "b": str(r.b_shape), "result": str(r.shape) if r.ok else "error: " + r.error})
    return pd.DataFrame(rows)


def apply_case() -> None:
    label = st.session_state["geo_shape_case"]
    case = next((c for c in SHAPE_CASES if c[0] == label), None)
    if case is not None:
        st.session_state["geo_shape_op"], st.session_state["geo_shape_a"], st.session_state["geo_shape_b"] = case[1:]


def own_shapes() -> None:
    """The user changed a, b or the operation: the loaded case no longer describes what is shown."""
    st.session_state["geo_shape_case"] = None


def parsed(text: str, name: str) -> tuple | None:
    """The shape typed as ``text``, or None after saying what is wrong with it."""
    try:
        return lg.parse_shape(text, name)
    except ValueError as exc:
        st.error(f"{exc}")
        return None


@st.fragment
def shapes_section() -> None:
    # a static table wraps its cells: every case and torch's whole message stay readable at any width
    st.table(case_table()[["mistake / pattern", "a", "b", "result"]], hide_index=True)
    st.caption("Load a case below to try it with your own shapes and to see how to fix an error.")
    if "geo_shape_a" not in st.session_state:
        st.session_state["geo_shape_case"] = SHAPE_CASES[0][0]
        st.session_state["geo_shape_op"], st.session_state["geo_shape_a"], st.session_state["geo_shape_b"] = \
            SHAPE_CASES[0][1:]
    st.selectbox("Load a case", [c[0] for c in SHAPE_CASES], key="geo_shape_case", on_change=apply_case,
                 index=None, placeholder="your own shapes (pick a case to load one)")
    c = st.grid(3, min_column_width=200)           # three in a row, or two and one on a narrow page
    a_text = c.text_input("Shape of a", key="geo_shape_a", on_change=own_shapes,
                           help="Whole numbers separated by commas, spaces, × or x, e.g. 4, 768 or 4 × 768")
    op = c.selectbox("Operation", list(OP_LABELS), format_func=OP_LABELS.get, key="geo_shape_op",
                      on_change=own_shapes)
    b_text = c.text_input("Shape of b", key="geo_shape_b", on_change=own_shapes,
                           help="For masked_fill, b is the boolean mask")
    a_shape, b_shape = parsed(a_text, "shape of a"), parsed(b_text, "shape of b")   # both, so both are reported
    if a_shape is None or b_shape is None:
        return
    try:
        r = lg.shape_op(op, a_shape, b_shape)
    except ValueError as exc:
        st.error(f"{exc}")
        return
    sym = {"@": "@", "+": "+", "-": "−", "*": "*"}
    A, B = f"a{r.a_shape}", f"b{r.b_shape}"
    expr = f"{A}.masked_fill({B}, −inf)" if op == "masked_fill" else f"{A} {sym[op]} {B}"
    if r.ok:
        st.success(f"{expr} → result shape **{r.shape}**")
    else:
        st.warning(f"{expr} fails. torch says:")
        st.code(r.error, language=None)
        for hint in r.hints:
            st.info(f"Fix: {hint}.")
    if not r.ran_real:
        st.caption("These shapes are too large to run for real; the answer comes from torch meta tensors "
                   "(shapes only, no data), whose error texts can differ from the CPU ones.")


shapes_section()
