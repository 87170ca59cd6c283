"""Projections & linear maps: dot product and projection, a grid bent by W, Wx as column mixing,
and projection onto a plane in 3D."""
from __future__ import annotations

import numpy as np
import streamlit as st

from figures import projections as fp
from figures.common import num, tidy
from la_core import projections as lp
from ui.chart import cached_figure, chart

PRESETS = {
    "identity": [[1.0, 0.0], [0.0, 1.0]],
    "rotation (45°)": [[0.7071, -0.7071], [0.7071, 0.7071]],
    "reflection (across the x₁ axis)": [[1.0, 0.0], [0.0, -1.0]],
    "shear": [[1.0, 1.0], [0.0, 1.0]],
    "projection onto x₁ (rank 1)": [[1.0, 0.0], [0.0, 0.0]],
    "singular (columns parallel, rank 1)": [[1.0, 2.0], [0.5, 1.0]],
    "scaling": [[2.0, 0.0], [0.0, 0.5]],
}
W_KEYS = [["pj_w11", "pj_w12"], ["pj_w21", "pj_w22"]]
MIX_PRESETS = {
    "2×2: a shear": [[1.0, 1.0], [0.0, 1.0]],
    "2×2: rotate 90°": [[0.0, -1.0], [1.0, 0.0]],
    "2×3: three columns into the plane": [[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]],
}


def polar(angle_deg: float, length: float) -> np.ndarray:
    """The vector of this angle and length; cos 90° is 0 here, not 6e-17."""
    t = np.radians(angle_deg)
    return tidy(length * np.array([np.cos(t), np.sin(t)]), length)


def fmt_vec(v: np.ndarray, scale: float = 1.0) -> str:
    """``(a, b)`` with 3 significant digits; entries below 1e-12·scale (round-off) show as 0."""
    return "(" + ", ".join(num(c, ".3g", scale) for c in v) + ")"


DOT_ANGLES = np.arange(0, 361, 5.0)       # client-side frames of x turning round u
GRID_ANGLES = np.arange(-180, 181, 10.0)  # client-side frames of the grid's rotation


def dot_animation(au: float, lu: float, lx: float):
    """Client-side frames: x turns round u (every 5°) at length lx; independent of x's own angle."""
    u = polar(au, lu)
    angles = DOT_ANGLES
    xs = np.stack([polar(au + a, lx if lx > 0 else 1.0) for a in angles])     # (F, 2)
    projs, _ = lp.project(xs, u)                                               # (F, 2)
    return fp.projection_animation(xs, u, projs, angles, np.cos(np.radians(angles)))


def grid_rotation_animation(sx: float, sy: float, sh: float):
    """Client-side frames: the grid under W(angle) for every 10°, at fixed scale and shear."""
    lines = lp.grid_lines(2, extent=4.0, n_lines=9)
    square = lp.unit_cell(2)
    angles = GRID_ANGLES
    frames, titles = [], []
    for a in angles:
        Wa = lp.map_2x2(a, sx, sy, sh)
        da = float(np.linalg.det(Wa))
        frames.append(fp.grid_traces(Wa, lines, lp.apply(Wa, lines), square, lp.apply(Wa, square), da))
        titles.append(f"angle {a:g}°: " + fp.grid_title(da, lp.rank(Wa)))
    return fp.grid_animation([], [f"{a:g}°" for a in angles], frames, titles)


st.title("Projections & linear maps")
st.markdown(
    "An embedding is a point, a list of numbers. A matrix moves points: `Wx` takes x's coordinates as "
    "a recipe for mixing W's columns. A dot product tells how much two vectors point the same way, and a "
    "projection keeps the part of x that lies along a direction (or inside a subspace) and drops the rest. "
    "Attention scores, LoRA updates and PCA are all built from these few moves."
)


# ------------------------------------------------------------------ 1. dot product & projection
@st.fragment
def dot_section() -> None:
    st.header("1. Dot product and projection")
    exact = st.toggle("type exact values instead of sliders", key="pj_exact")
    c1, c2, c3, c4 = st.columns(4)
    widget = (lambda c, label, lo, hi, v, step, key: c.number_input(label, lo, hi, v, step, key=key)) if exact \
        else (lambda c, label, lo, hi, v, step, key: c.slider(label, lo, hi, v, step, key=key))
    ax = widget(c1, "angle of x (degrees)", 0.0, 360.0, 60.0, 1.0, "pj_ax" + ("_n" if exact else ""))
    lx = widget(c2, "length of x", 0.0, 5.0, 2.0, 0.1, "pj_lx" + ("_n" if exact else ""))
    au = widget(c3, "angle of u (degrees)", 0.0, 360.0, 0.0, 1.0, "pj_au" + ("_n" if exact else ""))
    lu = widget(c4, "length of u", 0.1, 5.0, 1.5, 0.1, "pj_lu" + ("_n" if exact else ""))
    x, u = polar(ax, lx), polar(au, lu)
    proj, resid = (tidy(v, max(lx, lu)) for v in lp.project(x, u))   # at 90°: 0, not 1e-16
    d = lp.dot(x, u)
    left, right = st.columns([3, 2])
    with left:
        chart(fp.projection_figure(x, u, proj, "the shadow of x on u's line"), key="pj_dot_chart")
    with right:
        if lx == 0:
            st.info("x is the zero vector: its dot product with anything is 0 and its angle is undefined.")
            cos = ang = None
        else:
            cos, ang = lp.cosine_similarity(x, u), lp.angle_deg(x, u)
        # a row that wraps: one metric a line in a narrow window, several side by side in a wide one
        with st.container(horizontal=True, gap="medium"):
            st.metric("x · u", num(d, ".3f", lx * lu), width="content")
            st.metric("cos θ", "undefined" if cos is None else num(cos, "+.3f"), width="content")
            st.metric("angle θ", "undefined" if ang is None else f"{ang:.1f}°", width="content")
            st.metric("|x| cos θ", num(d / lu, "+.3f", lx), width="content",
                      help="The signed length of the projection: negative when it points away from u.")
        st.caption(
            f"x · u = |x| |u| cos θ = {lx:.2f} × {lu:.2f} × {'0' if cos is None else num(cos, '+.3f')} = "
            f"{num(d, '.3f', lx * lu)}. Positive: x leans towards u; zero: perpendicular; negative: x points "
            f"away. The projection {fmt_vec(proj, lx)} is the part of x along u; the dashed residual "
            f"{fmt_vec(resid, lx)} is what is left, at a right angle to u (residual · u = "
            f"{num(lp.dot(resid, u), '.2g', lx * lu)}). An attention score qᵀk is this same number for a query "
            "and a key."
        )
    with st.expander("Scrub the angle in the browser (precomputed frames, no server round trip)"):
        chart(cached_figure(dot_animation, au, lu, lx), key="pj_dot_anim")   # the angle of x is not an input
        st.caption(f"{len(DOT_ANGLES)} frames, one every 5°; x keeps length {lx if lx > 0 else 1.0:.2f}.")


# ------------------------------------------------------------------ 2. grid deformation
def apply_preset() -> None:
    m = PRESETS[st.session_state["pj_preset"]]
    for i in range(2):
        for j in range(2):
            st.session_state[W_KEYS[i][j]] = float(m[i][j])


@st.fragment
def grid_section() -> None:
    st.header("2. A linear map bends the whole grid")
    st.markdown("Each column of W is where a basis vector lands: W e₁ is the first column, W e₂ the second. "
                "Straight lines stay straight, parallel lines stay parallel, and every area is multiplied "
                "by |det W|.")
    mode = st.radio("Build W from", ["angle, scale and shear sliders", "presets / typed entries"],
                    horizontal=True, key="pj_mode")
    if mode.startswith("angle"):
        c1, c2, c3, c4 = st.columns(4)
        angle = c1.slider("rotation angle (degrees)", -180.0, 180.0, 30.0, 1.0, key="pj_angle")
        sx = c2.slider("scale x", -2.0, 2.0, 1.5, 0.1, key="pj_sx")
        sy = c3.slider("scale y", -2.0, 2.0, 1.0, 0.1, key="pj_sy")
        sh = c4.slider("shear", -2.0, 2.0, 0.5, 0.1, key="pj_shear")
        W = lp.map_2x2(angle, sx, sy, sh)
        W = tidy(W, np.abs(W).max())                   # a 90° turn has cos 0, not 6e-17
        st.caption("W = R(angle) · [[1, shear], [0, 1]] · diag(scale x, scale y): first scale, then shear, "
                   "then rotate. Set a scale to 0 to collapse the plane onto a line; a negative scale flips it.")
    else:
        for i in range(2):
            for j in range(2):
                st.session_state.setdefault(W_KEYS[i][j], PRESETS["shear"][i][j])
        st.selectbox("preset", list(PRESETS), index=3, key="pj_preset", on_change=apply_preset)
        c1, c2 = st.columns(2)
        vals = [[c.number_input(f"W[{i + 1},{j + 1}]", -5.0, 5.0, step=0.1, key=W_KEYS[i][j])
                 for j, c in enumerate((c1, c2))] for i in range(2)]
        W = np.array(vals, float)
        angle = sx = sy = sh = None
    det, rk = tidy(lp.determinant(W), max(1.0, float(np.abs(W).max())) ** 2), lp.rank(W)  # 0, not 1e-17
    lines = lp.grid_lines(2, extent=4.0, n_lines=9)
    moved = lp.apply(W, lines)
    square = lp.unit_cell(2)
    square_img = lp.apply(W, square)
    left, right = st.columns([2, 1])
    with left:
        chart(fp.grid_figure(W, lines, moved, square, square_img, det, rk), key="pj_grid_chart")
    with right:
        st.markdown(f"W = [[{num(W[0, 0])}, {num(W[0, 1])}], [{num(W[1, 0])}, {num(W[1, 1])}]]")
        st.metric("determinant", num(det))
        st.metric("rank", rk)
        if rk < 2:
            st.warning("Rank 1: both columns lie on one line, so every point lands on that line. "
                       "The map cannot be undone (no inverse): information is lost.")
        elif det < 0:
            st.info("det < 0: the map flips orientation (e₁→e₂ now turns clockwise), like a mirror.")
    if angle is not None:
        with st.expander("Scrub the rotation angle in the browser (precomputed frames)"):
            chart(cached_figure(grid_rotation_animation, sx, sy, sh), key="pj_grid_anim")  # not the angle
            st.caption(f"{len(GRID_ANGLES)} frames, one every 10°, with the current scale and shear. "
                       "Rotation never changes the determinant.")


# ------------------------------------------------------------------ 3. Wx as column mixing
@st.fragment
def mix_section() -> None:
    st.header("3. Wx is a mix of W's columns")
    preset = st.selectbox("W", list(MIX_PRESETS), key="pj_mix_preset")
    W0 = np.array(MIX_PRESETS[preset])
    n = W0.shape[1]
    with st.expander("edit W's entries"):
        cols = st.columns(n)
        W = np.array([[cols[j].number_input(f"W[{i + 1},{j + 1}]", -5.0, 5.0, float(W0[i, j]), 0.1,
                                            key=f"pj_mix_{preset}_{i}{j}") for j in range(n)] for i in range(2)])
    cs = st.columns(n)
    defaults = [1.5, 1.0, 0.5]
    x = np.array([cs[i].slider(f"x{i + 1}", -3.0, 3.0, defaults[i], 0.1, key=f"pj_x{i + 1}") for i in range(n)])
    contrib, total = lp.column_mix(W, x)
    chart(fp.column_mix_figure(W, x, contrib, total), key="pj_mix_chart")
    terms = " + ".join(f"{num(x[i], '.2f')}·{fmt_vec(W[:, i])}" for i in range(n))
    st.caption(f"Wx = {terms} = {fmt_vec(total, np.abs(contrib).max(initial=1.0))}. Each coordinate of x says how much of one column to take; "
               "the arrows add tip to tail. A weight matrix in a transformer does exactly this with "
               "hundreds of columns.")


# ------------------------------------------------------------------ 4. projection onto a subspace
@st.fragment
def subspace_section() -> None:
    st.header("4. Projection onto a plane in 3D")
    st.markdown("Two vectors a and b span a plane. The projection of x is the closest point of that plane; "
                "the residual is perpendicular to it. With dependent vectors the span is a line and the "
                "same code still works.")
    c1, c2 = st.columns(2)
    text_a = c1.text_input("a (three numbers)", "1, 0, 0.3", key="pj_a")
    text_b = c2.text_input("b (three numbers)", "0, 1, 0.3", key="pj_b")
    s1, s2, s3 = st.columns(3)
    x = np.array([s1.slider("x₁", -3.0, 3.0, 1.0, 0.1, key="pj_x3_1"),
                  s2.slider("x₂", -3.0, 3.0, 1.0, 0.1, key="pj_x3_2"),
                  s3.slider("x₃", -3.0, 3.0, 2.0, 0.1, key="pj_x3_3")])
    try:
        a = np.array([float(t) for t in text_a.replace(";", ",").split(",")])
        b = np.array([float(t) for t in text_b.replace(";", ",").split(",")])
        if a.shape != (3,) or b.shape != (3,):
            raise ValueError("each vector needs exactly three numbers")
        q = lp.orthonormal_basis(np.stack([a, b]))
        proj, resid = lp.project(x, np.stack([a, b]))
    except ValueError as exc:
        st.error(f"Could not use a and b: {exc}. Type three numbers separated by commas, e.g. `1, 0, 0.3`, "
                 "and at least one of a, b must be non-zero.")
        return
    scale = max(np.linalg.norm(x), np.linalg.norm(a), np.linalg.norm(b))
    proj, resid = tidy(proj, scale), tidy(resid, scale)
    left, right = st.columns([2, 1])
    with left:
        chart(fp.subspace_figure(a, b, x, proj, q), key="pj_sub_chart")
    with right:
        st.metric("dim span{a, b}", q.shape[0], help="The dimension of the span of a and b: 2 for a plane, "
                  "1 when a and b are parallel (or one is 0).")
        st.metric("|residual|", num(np.linalg.norm(resid), ".3f", scale))
        st.caption(f"residual · a = {num(resid @ a, '.2g', scale ** 2)}, residual · b = "
                   f"{num(resid @ b, '.2g', scale ** 2)}: the residual is perpendicular to the span.")
        st.caption("`la_core.projections.project(x, basis)` takes any number of rows in any dimension: the same "
                   "function projects 384-dimensional MiniLM embeddings onto the span of a few anchor words.")


dot_section()
grid_section()
mix_section()
subspace_section()
