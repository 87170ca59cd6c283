"""Eigenvectors: how a matrix stretches space; eigenlines, iterates, complex pairs, QΛQᵀ and spectra."""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

from figures import eigen as fe
from figures.common import num
from la_core import eigen as le
from la_core import random_matrices as lr
from la_core.device import device_label
from ui.chart import cached_figure, chart

PRESETS = {
    "general (non-symmetric)": [[1.0, 1.0], [0.5, 1.5]],
    "symmetric": [[2.0, 1.0], [1.0, 2.0]],
    "shear": [[1.0, 1.0], [0.0, 1.0]],
    "rotation (90°)": [[0.0, -1.0], [1.0, 0.0]],
    "rotation + shrink (spiral)": [[0.75, -0.5], [0.5, 0.75]],
    "reflection (across y = x)": [[0.0, 1.0], [1.0, 0.0]],
    "projection (onto y = x)": [[0.5, 0.5], [0.5, 0.5]],
    "scaling": [[2.0, 0.0], [0.0, 0.5]],
    "defective": [[2.0, 1.0], [-1.0, 0.0]],
}
KEYS = [["eig_a11", "eig_a12"], ["eig_a21", "eig_a22"]]
KINDS = {
    "Gaussian / √n (circular law)": "gaussian",
    "symmetric (Wigner)": "symmetric",
    "orthogonal (random rotation)": "orthogonal",
    "row-stochastic (softmax, like attention)": "stochastic",
}


def apply_preset() -> None:
    m = PRESETS[st.session_state["eig_preset"]]
    for i in range(2):
        for j in range(2):
            st.session_state[KEYS[i][j]] = float(m[i][j])


def current_matrix() -> np.ndarray:
    return np.array([[st.session_state[KEYS[i][j]] for j in range(2)] for i in range(2)], float)


@st.cache_data(max_entries=16, show_spinner="Computing the eigenvalues…")
def random_spectrum(kind: str, n: int, seed: int) -> tuple[np.ndarray, float]:
    a = lr.random_matrix(kind, n, seed)
    t0 = time.perf_counter()
    vals = lr.spectrum(a)
    return vals, time.perf_counter() - t0


def angle_vec(deg: float) -> np.ndarray:
    return np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg))])


# ----------------------------------------------------------------------------- page
st.title("Eigenvectors")
st.markdown(
    "A matrix moves almost every vector off its line. The few directions it only **stretches** "
    "(or flips) are its eigenvectors: `A v = λ v`, and λ is the stretch factor. Set a 2×2 matrix "
    "below, watch the unit circle turn into an ellipse, and find the lines that stay put. Then see why "
    "repeated multiplication drifts towards the top eigenvector (power iteration), why a symmetric "
    "matrix such as a covariance or Gram matrix is *rotate, stretch, rotate back* (`QΛQᵀ`, the basis "
    "of PCA), and what the eigenvalues of big random matrices look like.")

for i in range(2):
    for j in range(2):
        st.session_state.setdefault(KEYS[i][j], float(PRESETS["general (non-symmetric)"][i][j]))


@st.fragment
def section_plane(A, vals, vecs) -> None:
    deg = st.slider("Angle of the test vector x (degrees)", 0, 359, 20, key="eig_angle")
    x = angle_vec(deg)
    ax = A @ x
    circle, image = le.unit_circle_image(A, 240)
    on_line = le.line_angle(x, ax) < np.radians(1.0) if np.linalg.norm(ax) > 1e-9 else True
    left, right = st.columns(2)
    with left:
        chart(fe.plane_figure(A, circle, image, vals, vecs, x, ax, on_line, height=560), key="eig_plane")
    with right:
        chart(cached_figure(fe.sweep_figure, A, vals, vecs, height=560), key="eig_sweep")  # not x
    if on_line:
        lam = float(np.dot(ax, x))
        st.success(f"x at {deg}° lies on an eigenline: Ax = {lam:.3g}·x (angle between x and Ax < 1°).")
    else:
        st.caption(f"Angle between x and Ax: {np.degrees(le.line_angle(x, ax)):.1f}° (as lines). "
                   "Turn x until Ax falls on the same line: that is an eigenvector. "
                   "Click 'grid after A' in the legend to see the whole plane move.")
    st.caption("Right: the same picture with x swept round the circle by Plotly in your browser "
               "(drag its slider or press play; no server round trip).")


@st.fragment
def section_iterates(A, vals, vecs) -> None:
    st.header("3. Iterates and power iteration")
    norm = st.toggle("Normalise every step (power iteration)", value=True, key="eig_norm")   # a row of its own:
    c1, c2 = st.columns(2)                                     # a toggle's label is cut, not wrapped, when narrow
    deg0 = c1.slider("Start angle of x₀ (degrees)", 0, 359, 100, key="eig_start")
    step = c2.slider("Step k", 0, 40, 8, key="eig_step")
    x0 = angle_vec(deg0)
    pts = le.iterate(A, x0, 40, normalize=norm)
    left, right = st.columns(2)
    with left:
        chart(fe.iterates_figure(A, pts, step, vals, vecs, norm, height=500), key="eig_iter")
    pi = le.power_iteration(A, x0, 40)
    big = abs(vals[0])                         # scale of the round-off in λ₂ (0 for a singular A)
    l1, l2 = fe._fmt(vals[0], big), fe._fmt(vals[1], big)
    if pi.converges:                           # geometric, or like 1/k for a defective matrix
        ang = np.degrees(pi.angles)
        defective = pi.behaviour == "algebraic"
        with right:
            chart(fe.convergence_figure(ang, pi.ratio, step, height=500, defective=defective), key="eig_conv")
        now = (f"After k = {step} steps the angle is "
               f"{f'{num(ang[step])}°' if np.isfinite(ang[step]) else 'undefined (Aᵏx = 0)'} and the Rayleigh quotient "
               f"xᵀAx = {num(pi.estimates[step], '.4g')} (true λ₁ = {l1}).")
        if defective:
            st.markdown(
                f"**Defective**: λ₁ = λ₂ = {l1} with a single eigenline, so |λ₂/λ₁| = 1, and yet the iterates "
                "do close in on that line, only slowly: A shears along its eigenline, so each step adds about the "
                "same multiple of the eigenvector while the other part stays, and the angle shrinks like **1/k** "
                "(halving it takes twice as many steps), not by a fixed factor per step (it bends on the log "
                f"scale instead of falling in a straight line). {now}")
        else:
            st.markdown(
                f"|λ₂/λ₁| = {num(abs(vals[1]), '.3g', big)}/{num(big)} = **{num(pi.ratio)}**: each step keeps the "
                f"λ₁ part and multiplies the λ₂ part by {num(pi.ratio)} relative to it, so the angle to the top "
                "eigenvector shrinks by about that factor per step (a straight line on the log scale). "
                f"{now} Angles of exactly 0 (below double precision) are not drawn on the log scale.")
    elif pi.behaviour == "rotates":
        right.info("Complex eigenvalues: no dominant real direction, so power iteration never settles; the "
                   "normalised iterates keep rotating. Turn normalisation off to see the raw spiral "
                   f"(radius × {num(big)} per step).")
    elif pi.behaviour == "alternates":
        right.info(f"|λ₂/λ₁| = |{l2}|/|{l1}| = 1 with λ₂ ≠ λ₁: both eigen-directions keep their size, so neither "
                   "wins and power iteration does not converge: the iterate flips between two directions at every "
                   "step (a reflection swaps them), unless x₀ lies on an eigenline.")
    elif pi.behaviour == "fixed":
        right.info(f"λ₁ = λ₂ = {l1} with two independent eigenvectors: A = {l1}·I multiplies every vector by "
                   f"{l1}, so every direction is an eigenvector and the iterate never moves (nothing to converge to).")
    else:                                      # vanishes: nilpotent
        right.info("λ₁ = λ₂ = 0: A is nilpotent (A ≠ 0 but A² = 0), so A²x = 0 for every x: the iterates vanish "
                   "after at most two steps and leave no direction to converge to."
                   if np.any(A) else "A = 0 sends every vector to 0: the iterates vanish after one step.")


@st.fragment
def section_symmetric(A) -> None:
    st.header("4. Symmetric = QΛQᵀ")
    st.markdown("A symmetric matrix has real eigenvalues and perpendicular eigenvectors, so "
                "`A = Q Λ Qᵀ`: **rotate** into the eigenvector axes (Qᵀ), **stretch** each axis by its λ (Λ), "
                "**rotate back** (Q). Covariance and Gram matrices are symmetric; that is why PCA works.")
    S = A if le.is_symmetric(A) else (A + A.T) / 2
    if not le.is_symmetric(A):
        st.caption("The matrix above is not symmetric; the panels use its symmetric part (A + Aᵀ)/2 = "
                   f"[[{S[0, 0]:.3g}, {S[0, 1]:.3g}], [{S[1, 0]:.3g}, {S[1, 1]:.3g}]].")
    q, lam = le.symmetric_factors(S)
    chart(fe.qlq_panels(q, lam), key="eig_qlq")
    rot = np.degrees(np.arctan2(q[1, 0], q[0, 0]))
    st.caption(f"Q rotates by {rot:.1f}°; Λ = diag({lam[0]:.3g}, {lam[1]:.3g}). "
               "The red and green arrows are the eigenvectors q₁, q₂ and where each step sends them: "
               "Qᵀ turns them onto the axes, Λ stretches them by λ₁, λ₂, Q turns them back.")


@st.fragment
def matrix_sections() -> None:
    """Everything that depends on A (sections 1–4): a matrix slider reruns only this, not the
    point cloud or the random spectra below (whose messages would otherwise delay the plane chart)."""
    st.header("1. Stretching in 2D")
    # Layout order: controls, summary, plane. Run order: the plane first, so the chart under a
    # slider is redrawn before the text around it (the matrix sliders rerun this whole fragment).
    controls, summary = st.container(), st.container()
    A = current_matrix()
    try:
        vals, vecs = le.eigen(A)
        cond = le.eigvec_condition(vecs)
    except ValueError as exc:       # cannot happen with sliders, but never show a traceback
        st.error(f"{exc}")
        st.stop()
    is_complex = np.iscomplexobj(vals)
    defective = (not is_complex) and le.is_defective(A)
    if is_complex:
        r, theta = le.complex_rotation(A)       # scale |λ| and turn angle θ, used by sections 1 and 2

    section_plane(A, vals, vecs)

    with controls:
        c_pre, c1, c2 = st.columns([1.2, 1, 1])
        with c_pre:
            st.selectbox("Preset", list(PRESETS), key="eig_preset", on_change=apply_preset,
                         help="Loads the four entries; then fine-tune them with the sliders.")
        with c1:
            st.slider("a₁₁", -3.0, 3.0, step=0.05, key="eig_a11")
            st.slider("a₂₁", -3.0, 3.0, step=0.05, key="eig_a21")
        with c2:
            st.slider("a₁₂", -3.0, 3.0, step=0.05, key="eig_a12")
            st.slider("a₂₂", -3.0, 3.0, step=0.05, key="eig_a22")

    with summary:
        st.latex(r"A = \begin{pmatrix} %.3g & %.3g \\ %.3g & %.3g \end{pmatrix}" % (A[0, 0], A[0, 1], A[1, 0], A[1, 1]))
        big = max(1.0, float(np.abs(A).max()))
        # a row that wraps: a complex λ such as 0.75 + 0.5i is too wide for a quarter of a narrow page
        with st.container(horizontal=True, gap="large"):
            st.metric("λ₁", fe._fmt(vals[0], abs(vals[0])), width="content")
            st.metric("λ₂", fe._fmt(vals[1], abs(vals[0])), width="content")
            st.metric("det A = λ₁λ₂", num(np.linalg.det(A), ".3g", big * big), width="content")
            st.metric("trace A = λ₁+λ₂", num(np.trace(A), ".3g", big), width="content")
        if is_complex:
            st.info(f"**Complex eigenvalues** λ = {fe._fmt(vals[0])}, {fe._fmt(vals[1])}: no real direction stays on "
                    f"its line, so there are no eigenlines. In a suitable basis A rotates by **θ = {theta:.1f}°** and "
                    f"scales by **|λ| = {r:.3g}** each time: iterates spiral "
                    f"{'outwards' if r > 1 + 1e-9 else 'inwards' if r < 1 - 1e-9 else 'round a closed ellipse'} "
                    "(section 2).")
        elif defective:
            st.warning(f"**Defective**: λ = {fe._fmt(vals[0])} is repeated but A has only one eigenline, so the "
                       "eigenvectors do not span the plane: A is **not diagonalisable** (it shears along that line; "
                       "the eigenvector matrix V is singular, its condition number infinite). Power iteration still "
                       "converges to the eigenline, but only like 1/k (section 3).")
        elif le.is_symmetric(A):
            st.success("**Symmetric**: real eigenvalues and perpendicular eigenlines (section 4 shows A = QΛQᵀ).")
        else:
            st.caption(f"Real eigenvalues, eigenlines not perpendicular (A is not symmetric); "
                       f"condition number of V: {cond:.3g}.")

    st.header("2. Complex eigenvalues")
    if is_complex:
        left, right = st.columns([3, 2])
        right.markdown(f"This matrix has the complex pair **λ = {r:.3g}·e^(±i·{theta:.1f}°)**. Each multiplication "
                       f"turns by {theta:.1f}° (in the basis of the real and imaginary parts of the eigenvector) and "
                       f"scales by {r:.3g}, so the raw iterates x, Ax, A²x, … of x = (1, 0) spiral "
                       f"{'outwards' if r > 1 + 1e-9 else 'inwards' if r < 1 - 1e-9 else 'round a closed curve'}.")
        k = 40 if r <= 1 else int(max(4, min(40, np.floor(np.log(1e3) / np.log(r)))))
        spiral = le.iterate(A, [1.0, 0.0], k)
        with left:
            chart(fe.iterates_figure(A, spiral, k, vals, vecs, False, height=520,
                                     title=f"Spiral of iterates Aᵏx, k = 0…{k}"),
                  key="eig_spiral")
        if k < 40:
            right.caption(f"Showing {k} steps: after that |Aᵏx| passes 1000.")
    else:
        st.markdown("The current matrix has real eigenvalues. Pick *rotation (90°)* (λ = ±i) or "
                    "*rotation + shrink (spiral)* in the preset menu: a 2×2 real matrix has complex eigenvalues "
                    "exactly when (trace)² < 4·det.")

    section_iterates(A, vals, vecs)
    section_symmetric(A)


matrix_sections()


@st.fragment
def section_cloud() -> None:
    st.subheader("A point cloud and its principal axes")
    c1, c2, c3, c4 = st.columns(4)
    sx = c1.slider("std of feature 1", 0.1, 3.0, 2.0, 0.1, key="eig_sx")
    sy = c2.slider("std of feature 2", 0.1, 3.0, 1.0, 0.1, key="eig_sy")
    rho = c3.slider("correlation ρ", -0.99, 0.99, 0.6, 0.01, key="eig_rho")
    n = c4.select_slider("points", [200, 1000, 5000, 20000], 1000, key="eig_npts")
    cov = np.array([[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]])
    pts = le.sample_cloud(cov, n, seed=0)
    mean = pts.mean(0)
    emp = np.cov(pts.T)
    lam_e, v_e = le.eigen(emp, symmetric=True)
    lam_t, v_t = le.eigen(cov, symmetric=True)
    left, right = st.columns([3, 2])
    with left:
        chart(fe.cloud_figure(pts, mean, lam_e, v_e, lam_t, v_t, height=560), key="eig_cloud")
    right.markdown(
        f"Sample covariance eigenvalues {lam_e[0]:.3g} and {lam_e[1]:.3g} (true {lam_t[0]:.3g}, {lam_t[1]:.3g}); "
        f"the first principal component explains **{100 * lam_e[0] / lam_e.sum():.1f}%** of the variance. "
        "The arrows have length √λ, the standard deviation along each axis: this is exactly what PCA of "
        "embeddings computes, in 384 dimensions instead of 2 (see the PCA page).")


section_cloud()


@st.fragment
def section_random() -> None:
    st.header("5. Higher dimensions")
    c1, c2, c3 = st.columns([2, 1, 1])
    label = c1.selectbox("Random matrix kind", list(KINDS), key="eig_kind")
    n = c2.select_slider("n", [8, 16, 32, 64, 128, 256, 512], 128, key="eig_n")
    seed = int(c3.number_input("seed", 0, 10_000, 0, key="eig_seed"))
    kind = KINDS[label]
    vals, secs = random_spectrum(kind, n, seed)
    left, right = st.columns([3, 2])
    with left:
        chart(fe.spectrum_figure(vals, f"Eigenvalues, {n}×{n} {label.split(' (')[0]}"),
              key="eig_spec")
    n_real = int(np.sum(np.abs(vals.imag) < 1e-9))
    a = b = c = right
    a.metric("spectral radius max |λ|", f"{np.abs(vals).max():.3g}")
    b.metric("real eigenvalues", f"{n_real} of {n}")
    c.metric("computed in", f"{secs * 1000:.0f} ms", help=device_label())
    notes = {
        "gaussian": f"Circular law: the eigenvalues of an n×n matrix with N(0, 1/n) entries fill the unit disc "
                    f"uniformly as n grows; about √(2n/π) ≈ {np.sqrt(2 * n / np.pi):.1f} of them are real.",
        "symmetric": "Symmetric: every eigenvalue is real (all on the horizontal axis), spread over [−2, 2] "
                     "following Wigner's semicircle law.",
        "orthogonal": "Orthogonal: lengths are preserved, so every |λ| = 1: all eigenvalues sit on the unit circle.",
        "stochastic": "Row-stochastic (rows sum to 1, like softmax attention weights): λ = 1 with the all-ones "
                      "eigenvector, every other eigenvalue is inside the disc and small; repeated attention "
                      "averaging therefore converges to one vector (rank collapse).",
    }
    right.markdown(notes[kind] + f" Computed with torch.linalg on {device_label()}.")


section_random()
