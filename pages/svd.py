"""SVD & low rank: the best rank-r approximation of an image, any weight of the chosen model or your own
matrix; the spectrum atlas of the model; and what a real LoRA adapter's updates use."""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

from figures import svd as fs
from figures.common import num
from la_core import svd as ls
from la_core import svd_channels as sc
from la_core import weight_matrices as wm
from la_core.spectra import rounding_floor
from ui.chart import cached_figure, chart
from ui.models import current_model
from ui.svd_atlas import atlas_section, matrix_spectrum
from ui.svd_lora import adapter_section
from ui.svd_sources import choose_source, keep_choice, load, scrub_caption, scrub_figure

DISPLAY_SIDE = 384            # matrices larger than this are shown as block means
MARKS = (0.9, 0.95, 0.99)
CHART_MIN_PX = 360            # a chart beside another is at least this wide, or they stack (900 px: 440 wide)


def side_by_side(n: int = 2, min_px: int = CHART_MIN_PX):
    """``n`` cells in a row on a wide page; fewer a row, down to one, as the main column narrows."""
    return st.grid(n, min_column_width=min_px)


def block_view(a: np.ndarray, image: bool) -> tuple[np.ndarray, str]:
    """Block means for display; a matrix gets its own factor per side (an embedding table keeps its columns)."""
    fr, fc = sc.block_factors(a.shape[0], a.shape[1], DISPLAY_SIDE, square=image)
    if fr == fc == 1:
        return a, ""
    small = sc.downsample(a, DISPLAY_SIDE, square=image)
    return small, f"showing {small.shape[0]}×{small.shape[1]} block means ({fr}×{fc}) of {a.shape[0]}×{a.shape[1]}"


# ----------------------------------------------------------------------------- page
st.title("SVD & low rank")
st.markdown(
    "Every matrix is a sum of rank-one layers, ordered by importance: "
    "`A = σ₁ u₁ v₁ᵀ + σ₂ u₂ v₂ᵀ + …` with `σ₁ ≥ σ₂ ≥ … ≥ 0`. Keep the first **r** layers and you "
    "get `A_r`, and no other matrix of rank r is closer to A (Eckart–Young). The error is known in "
    "advance: it is the part of the spectrum you dropped, `‖A − A_r‖_F = √(σ²_{r+1} + … )`. "
    "Drag the rank below on a photo, on any weight matrix of the model chosen in the sidebar, on a matrix "
    "with a spectrum you choose, or on your own matrix; then scan every matrix of the model, and see which "
    "rank a real LoRA adapter's updates use."
)


# ----------------------------------------------------------------------------- 1. rank slider
@st.fragment
def rank_section(data: sc.FactoredChannels):
    C, M, N, K = data.shape                             # channels, rows, columns, rank of the full SVD
    s, sc_ = data.s, data.s_centred
    en, en_c = ls.energy(s), ls.energy(sc_)
    # a photo's σ₁ carries its mean brightness: the ranks for an energy are read on the centred matrix
    centred_marks = data.image and sc_[0] > 0
    on = sc_ if centred_marks else s
    marks = {f: ls.rank_for_energy(on, f) for f in MARKS} if on[0] > 0 else {}
    st.header("1. Rank slider")
    r = st.slider("Rank r (server-side: each release rebuilds A_r at full resolution)", 1, K, min(20, K),
                  key="svd_rank") if K > 1 else 1
    t0 = time.perf_counter()
    rec = data.reconstruct(r)                                          # (C, m, n)
    t_rebuild = time.perf_counter() - t0
    A = data.A
    err = A - rec
    # ‖A − A_r‖_F without BLAS (np.linalg.norm): BLAS threads wait for a free core while the browser draws
    measured = float(np.sqrt(np.square(err, dtype=np.float64).sum()))
    predicted = ls.truncation_error(s, r)
    total = float(np.sqrt((s ** 2).sum()))
    floor = rounding_floor(A.shape, s)
    full, stored = ls.storage(M, N, r)
    # the numbers are written into this box after the three panels: the panels' messages then reach the
    # browser first, so the picture under the slider is redrawn sooner; the page looks the same
    box = st.container()
    same = st.toggle("Error image on the same colour range as the original", value=True, key="svd_err_same",
                     help="Off: the error gets its own zero-centred range, so small errors become visible.")
    lo, hi = data.lo, data.hi
    if data.image:
        err_show = err.mean(0)
        ebound = 127.5 if same else float(np.abs(err_show).max()) or 1.0
        etitle = "error, grey levels" + (" (mean of R, G, B)" if C == 3 else "")
    else:
        err_show = err[0]
        ebound = hi if same else float(np.abs(err_show).max()) or 1.0
        etitle = "error A − A_r"
    panels = side_by_side(3, 300)          # three images in a row, or two and one, or one under another
    p = [panels.cell(), panels.cell(), panels.cell()]
    if data.colour:
        clipped = float(((rec < 0) | (rec > 255)).mean())
        with p[0]:
            chart(cached_figure(fs.rgb_panel, np.moveaxis(A, 0, 2), "Original"), key="svd_orig")
        with p[1]:
            chart(fs.rgb_panel(np.moveaxis(rec, 0, 2), f"Rank {r} reconstruction"), key="svd_rec")
            st.caption(f"{clipped:.2%} of the reconstructed values fall outside 0–255 and are drawn clipped.")
    else:
        a_show, note = block_view(A[0], data.image)
        r_show, _ = block_view(rec[0], data.image)
        cbar = "grey level (0–255)" if data.image else "matrix entry"
        with p[0]:
            chart(cached_figure(fs.matrix_panel, a_show, "Original A", cbar, lo, hi, data.signed, data.image),
                  key="svd_orig")                                 # the same on every rank
        with p[1]:
            chart(fs.matrix_panel(r_show, f"Rank-{r} reconstruction A_r", cbar, lo, hi, data.signed, data.image),
                  key="svd_rec")
        if note:
            st.caption(note + " (the numbers above use every entry).")
    e_show, _ = block_view(err_show, data.image)
    with p[2]:
        chart(fs.matrix_panel(e_show, "Error A − A_r", etitle, -ebound, ebound, True, data.image), key="svd_err")
    with box:
        # a row that wraps: six values do not fit a sixth each of a narrow page
        with st.container(horizontal=True, gap="medium"):
            st.metric("rank r", f"{r} of {K}", width="content")
            st.metric("‖A − A_r‖_F measured", f"{measured:.4g}", width="content")
            st.metric("predicted (tail)", f"{predicted:.4g}", width="content",
                      help="Eckart–Young: ‖A − A_r‖_F = √(Σ_{i>r} σᵢ²), the tail of the spectrum.")
            st.metric("energy kept", f"{en[r - 1]:.2%}", width="content",
                      help="Σ_{i≤r} σᵢ² / Σ σᵢ² of A itself; A_r's relative error is √(1 − this).")
            st.metric("energy kept, centred", f"{en_c[r - 1]:.2%}" if sc_[0] > 0 else "–", width="content",
                      help="The same for A − 1μᵀ, each column's mean μ removed: the share of the variation "
                           "around the mean that the best rank-r approximation of the centred matrix keeps.")
            st.metric("stored r(m+n+1)", f"{C * stored:,}", width="content",
                      help=f"the full matrix stores mn = {C * full:,} numbers")
        ratio = f"{full / stored:.1f}× smaller" if full >= stored else f"{stored / full:.2f}× bigger"
        st.caption(f"Stored: {C * stored:,} numbers vs mn = {C * full:,}" + (" (×3 channels)" if C == 3 else "")
                   + f", {ratio}. Relative error {fs.error_text(predicted / total, floor / total) if total else '0'}; "
                   f"spectral-norm error σ_(r+1) = {ls.truncation_error(s, r, kind='spectral'):.4g}. "
                   f"Rebuilt in {t_rebuild * 1e3:.1f} ms.")
        if measured <= floor and predicted <= floor:
            st.info(f"Both errors are below the float32 precision of this matrix, √(mn)·ε₃₂·σ₁ ≈ {floor:.1e} "
                    f"(ε₃₂ = 1.2e-07): A_r equals A up to rounding, and the measured and predicted numbers differ "
                    "only by rounding noise.")
    st.header("2. Spectrum")
    spectra = side_by_side()
    with spectra.cell():
        chart(fs.singular_values(s, r), key="svd_spec")
    with spectra.cell():
        chart(fs.energy(en, r, marks, centred=en_c if sc_[0] > 0 else None, marks_centred=centred_marks),
              key="svd_energy")
    raw = {f: ls.rank_for_energy(s, f) for f in MARKS} if s[0] > 0 else {}
    cen = {f: ls.rank_for_energy(sc_, f) for f in MARKS} if sc_[0] > 0 else {}
    both = " · ".join(f"{f:.0%}: rank {raw[f]} of A" + (f", {cen[f]} centred" if f in cen else "")
                      for f in MARKS if f in raw)
    st.caption(("For colour, σᵢ = √(σ²_R,i + σ²_G,i + σ²_B,i), so the tail still predicts the total error. "
                if C == 3 else "") +
               ("A photo is all positive, so σ₁ mostly carries its average brightness and the energy of A starts "
                "high: the ranks for 90/95/99 % (diamonds) are read on the **centred** matrix (dashed curve), "
                "whose energy is the variation around each column's mean. " if centred_marks else
                "The ranks for 90/95/99 % (diamonds) are read on the energy of **A** itself. ") +
               (f"Energy needs — {both}." if both else ""))


@st.fragment
def matrix_sections():
    """The chosen matrix and everything built from it (sections 1–3): its widgets rerun only this, not
    the sections below."""
    source, model = choose_source()
    data, source, model = load(source, model)
    C, M, N, K = data.shape
    s = data.s
    info = (f"**{data.note}** Shape {M}×{N}{' ×3 channels' if C == 3 else ''}; SVD in "
            f"{data.t_svd * 1e3:.0f} ms (computed once and cached; a rank change only rebuilds).")
    if not data.image and s[0] > 0:
        info += f" Effective rank (Roy & Vetterli): **{ls.effective_rank(s):.1f}** of {K}."
    st.markdown(info)
    if source.kind == "weight" and source.params[1].kind == wm.QK and K > model.d_head:
        d = model.d_head
        numerical = int((s > s[0] * 1e-5).sum())
        st.info(f"W_Q,h W_K,hᵀ is a {M}×{N} matrix built through a {d}-dimensional head, so its rank is at most "
                f"{d}: here {numerical} singular values exceed 10⁻⁵·σ₁, and σ_{d + 1}/σ₁ = {s[d] / s[0]:.1e} "
                f"(rounding noise). Rank {d} rebuilds it exactly; see the cliff in the spectrum and in the "
                "scrubber's error." + (" With RoPE this is the form at equal positions; other distances put a "
                                       "rotation between W_Q,h and W_K,hᵀ." if model.rope_theta else ""))

    rank_section(data)

    # ----------------------------------------------------------------------------- 3. instant scrubbing
    st.header("3. Instant scrubbing")
    st.markdown(
        "The Streamlit slider in section 1 is **server-side**: on release, Python rebuilds `A_r` at full "
        "resolution and sends it back. The slider under this chart is **client-side**: the previews for "
        "ranks 1…64 and a log-spaced set beyond were computed once and sent with the chart, so dragging "
        "swaps frames in your browser with no round trip; each frame's title gives the error of the full "
        "`A_r`. Press ▶ to play them."
    )
    chart(cached_figure(scrub_figure, *source, _model=model), key="svd_scrub")
    st.caption(scrub_caption(*source, _model=model))


matrix_sections()


# ----------------------------------------------------------------------------- 4. 2D geometry
@st.fragment
def geometry_section():
    st.header("4. Geometry of the SVD in 2D")
    st.markdown("Any 2×2 matrix is a rotation (or reflection) **Vᵀ**, a stretch **Σ** along the axes, and "
                "another rotation (or reflection) **U**. Follow the unit circle (the orange arc marks where "
                "it starts) through the three steps: it ends as an ellipse whose axes are σ₁u₁ and σ₂u₂, "
                "and v₁, v₂ are the input directions that land on them.")
    # the matrix's four entries laid out as the matrix, with σ₁, σ₂ beside them (or under them when narrow)
    with st.container(horizontal=True, gap="medium"):
        entries = st.grid(2, min_column_width=130, width=300)
        a11 = entries.number_input("a₁₁", -5.0, 5.0, 2.0, 0.1, key="svd_a11")
        a12 = entries.number_input("a₁₂", -5.0, 5.0, 1.0, 0.1, key="svd_a12")
        a21 = entries.number_input("a₂₁", -5.0, 5.0, 0.5, 0.1, key="svd_a21")
        a22 = entries.number_input("a₂₂", -5.0, 5.0, 1.2, 0.1, key="svd_a22")
        A2 = np.array([[a11, a12], [a21, a22]])
        geo = ls.geometry_2d(A2)
        st.markdown(f"σ₁ = **{geo.S[0]:.3g}**, σ₂ = **{geo.S[1]:.3g}**  \n|det A| = σ₁σ₂ = "
                    f"{abs(np.linalg.det(A2)):.3g}", width=200)
    # one scale for the four steps, with room past the longest arrow for its name
    lim = float(max(1.4, 1.4 * np.abs(np.concatenate(geo.stages)).max()))
    steps = side_by_side(4, 200)
    for i, (pts, name) in enumerate(zip(geo.stages, geo.names), start=1):
        with steps.cell():
            chart(fs.geometry_stage(i, pts, geo.U, geo.S, geo.Vh, f"{i}. {name}", lim), key=f"svd_geo_{i}")
    st.caption("Axes: the coordinates x₁, x₂ of the plane. Orange: v₁, then Vᵀv₁ = e₁, σ₁e₁ and σ₁u₁ = Av₁; "
               "blue: the same for v₂.")
    # the three factors as matrices, side by side while they fit
    with st.container(horizontal=True):
        for sym, M in (("U", geo.U), (r"\Sigma", np.diag(geo.S)), (r"V^\top", geo.Vh)):
            st.latex(sym + r" = \begin{pmatrix} %s & %s \\ %s & %s \end{pmatrix}"
                     % tuple(num(x, ".3f") for x in M.ravel()), width="content")


geometry_section()


# ----------------------------------------------------------------------------- 5. spectrum atlas
atlas_section(5)


# ----------------------------------------------------------------------------- 6. LoRA counts
@st.fragment
def lora_section():
    model = current_model()
    st.header("6. LoRA: a low-rank update")
    st.markdown("LoRA does not train W. It freezes W and trains an update **ΔW = B A** with B of shape m×r "
                "and A of shape r×n, so ΔW has rank at most r and costs r(m + n) numbers instead of mn.")
    refs = wm.layer_matrices(wm.model_matrices(model))
    # sized to their values and wrapping: a matrix's name ("MLP down (MLP out, 384×1536)") needs about 260 px
    with st.container(horizontal=True):
        m = int(st.number_input("m (rows of W)", 1, 65536, model.d_model, key="svd_lora_m", width=150))
        n = int(st.number_input("n (columns of W)", 1, 65536, model.d_model, key="svd_lora_n", width=150))
        layers = sorted({r.layer for r in refs})
        keep_choice("svd_lora_layer", layers)
        layer = st.selectbox(f"Layer of {model.name} (error curve)", layers, key="svd_lora_layer", width=240)
        in_layer = [r for r in refs if r.layer == layer]
        labels = [r.label() for r in in_layer]
        keep_choice("svd_lora_mat", labels)
        ref = in_layer[labels.index(st.selectbox("Matrix", labels, key="svd_lora_mat", width=300))]
    r = st.slider("LoRA rank r", 1, 256, 8, key="svd_lora_r")
    full, low = ls.lora_params(m, n, r)
    s = matrix_spectrum(model.path, ref, model)
    rel = ls.truncation_error(s, np.arange(1, s.shape[0] + 1), kind="relative")
    rr = min(r, s.shape[0])
    with st.container(horizontal=True, gap="medium"):
        st.metric("full ΔW: m·n", f"{full:,}", width="content")
        st.metric("LoRA: r(m+n)", f"{low:,}", width="content")
        st.metric("fraction trained", f"{low / full:.3%}", width="content")
        st.metric(f"best rank-{rr} error of W (rel.)", f"{rel[rr - 1]:.1%}", width="content")
    counts = side_by_side()
    with counts.cell():
        chart(fs.lora_counts(m, n, r), key="svd_lora")
    with counts.cell():
        chart(fs.lora_error(np.arange(1, rel.shape[0] + 1), rel, r, f"{ref.kind}, layer {layer}"), key="svd_lora_err")
    st.caption(f"The error curve is how well the best rank-r matrix can replace the trained weight W itself, "
               f"{model.name}'s layer {layer} {ref.kind} "
               "(Eckart–Young, from its spectrum). Trained weights are far from low rank; LoRA's bet is that "
               "the *change* a fine-tune needs is, which is why a small r usually suffices for ΔW; section 7 "
               "measures it on a real adapter.")


lora_section()

# ----------------------------------------------------------------------------- 7. a real adapter
adapter_section(7)
