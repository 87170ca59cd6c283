"""SVD & low rank: the best rank-r approximation of an image, a real weight matrix or your own matrix."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st
from sklearn.datasets import load_sample_image

from figures import svd as fs
from la_core import io as lio
from la_core import svd as ls
from la_core import svd_channels as sc
from ui.chart import cached_figure, chart
from ui.models import minilm

PREVIEW_SIDE = 128            # client-side frames: longest side in pixels
MAX_UPLOAD = 2048 * 2048      # entries of an uploaded matrix
DISPLAY_SIDE = 384            # matrices larger than this are shown as block means
MINILM_MATS = {               # label -> the model handle's matrix kind ("qk": one head's W_Q,h W_K,hᵀ)
    "W_Q (query, 384×384)": "Q",
    "W_K (key, 384×384)": "K",
    "W_V (value, 384×384)": "V",
    "W_O (attention output, 384×384)": "O",
    "FFN in (1536×384)": "MLP up",
    "FFN out (384×1536)": "MLP down",
    "one head's W_Q,h W_K,hᵀ (384×384, rank ≤ 32)": "qk",
}


# ----------------------------------------------------------------------------- cached data
def minilm_matrix(layer: int, label: str, head: int = 0) -> tuple[np.ndarray, str]:
    """One MiniLM matrix, read lazily from the model's memory-mapped safetensors."""
    m, kind = minilm(), MINILM_MATS[label]
    if kind == "qk":
        a = ls.head_qk(m.layer_weight(layer, "Q"), m.layer_weight(layer, "K"), head, m.n_heads)
        return a, f"layer {layer}, head {head}: W_Q,h W_K,hᵀ"
    return m.layer_weight(layer, kind), f"layer {layer} {label.split(' (')[0]}"


def image_channels(name: str, colour: bool, max_side: int) -> tuple[np.ndarray, str]:
    img = load_sample_image(name).astype(np.float32)                 # (h, w, 3) in 0…255
    small = sc.downsample(img, max_side)
    note = (f"{name}: {img.shape[0]}×{img.shape[1]} pixels, downsampled to {small.shape[0]}×{small.shape[1]} "
            "(block means) so every rank rebuilds at once." if small.shape[:2] != img.shape[:2]
            else f"{name}: {img.shape[0]}×{img.shape[1]} pixels.")
    if colour:
        return np.moveaxis(small, 2, 0), note + " Colour: one SVD per channel (R, G, B)."
    grey = small @ np.array([0.299, 0.587, 0.114], np.float32)
    return grey[None], note + " Grey = 0.299 R + 0.587 G + 0.114 B."


@st.cache_data(max_entries=12, show_spinner="Computing the SVD…")
def prepare(kind: str, params: tuple, upload: bytes | None = None, upload_name: str = "") -> sc.FactoredChannels:
    """Load a source and compute its SVD once; a rank change then only rebuilds."""
    if kind == "image":
        name, colour, max_side = params
        chans, note = image_channels(name, colour, max_side)
    elif kind == "minilm":
        layer, label, head = params
        a, note = minilm_matrix(layer, label, head)
        chans = a[None]
    elif kind == "synthetic":
        m, n, decay, noise, seed = params
        chans = ls.synthetic(m, n, decay, noise, seed)[None]
        note = f"random {m}×{n} matrix with σᵢ = i^(−{decay:g}) plus noise {noise:g}."
    else:
        emb = lio.load_embeddings(upload, upload_name)
        if emb.vectors.size > MAX_UPLOAD:
            raise ValueError(f"{upload_name} has {emb.vectors.shape[0]}×{emb.vectors.shape[1]} = "
                             f"{emb.vectors.size:,} entries; an interactive SVD here takes at most "
                             f"{MAX_UPLOAD:,} (e.g. 2048×2048). Upload a slice of it.")
        chans = np.array(emb.vectors, np.float32)[None]
        note = f"{emb.source}: {chans.shape[1]}×{chans.shape[2]} matrix." + (f" {emb.note}." if emb.note else "")
    return sc.factor_channels(chans, image=kind == "image", note=note)


@st.cache_data(max_entries=12, show_spinner="Precomputing the frames for the client-side slider…")
def scrub_frames(kind: str, params: tuple, upload: bytes | None = None, upload_name: str = "") -> sc.Previews:
    """Small previews of ranks 1…64 and log-spaced ranks beyond, from block means of the factors."""
    return prepare(kind, params, upload, upload_name).previews(PREVIEW_SIDE)


def scrub_figure(kind: str, params: tuple, upload: bytes | None, upload_name: str):
    """The client-side rank scrubber of one source (built once per source, with all its frames)."""
    data = prepare(kind, params, upload, upload_name)
    frames, f_ranks, factor = scrub_frames(kind, params, upload, upload_name)
    _, M, N, _ = data.shape
    h, w = frames.shape[1:3]
    note = (f"{len(f_ranks)} precomputed frames, showing {h}×{w} block means of {M}×{N}" if factor > 1
            else f"{len(f_ranks)} precomputed frames at full size {M}×{N}")
    if not data.colour:
        note += " · 256 colour levels"
    return fs.scrubber(frames, f_ranks, data.lo, data.hi, data.signed, data.colour, note,
                       "grey level" if data.image else "matrix entry", data.image)


def block_view(a: np.ndarray) -> tuple[np.ndarray, str]:
    f = int(np.ceil(max(a.shape[:2]) / DISPLAY_SIDE))
    if f <= 1:
        return a, ""
    small = sc.downsample(a, DISPLAY_SIDE)
    return small, f"showing {small.shape[0]}×{small.shape[1]} block means ({f}×{f}) of {a.shape[0]}×{a.shape[1]}"


# ----------------------------------------------------------------------------- page
st.title("SVD & low rank")
st.markdown(
    "Every matrix is a sum of rank-one layers, ordered by importance: "
    "`A = σ₁ u₁ v₁ᵀ + σ₂ u₂ v₂ᵀ + …` with `σ₁ ≥ σ₂ ≥ … ≥ 0`. Keep the first **r** layers and you "
    "get `A_r`, and no other matrix of rank r is closer to A (Eckart–Young). The error is known in "
    "advance: it is the part of the spectrum you dropped, `‖A − A_r‖_F = √(σ²_{r+1} + … )`. "
    "Drag the rank below on a photo, on the real weights of all-MiniLM-L6-v2, on a matrix with a "
    "spectrum you choose, or on your own matrix, and see why LoRA can fine-tune a model with few numbers."
)


# ----------------------------------------------------------------------------- 1. rank slider
@st.fragment
def rank_section(data: sc.FactoredChannels):
    C, M, N, K = data.shape                             # channels, rows, columns, rank of the full SVD
    s = data.s
    en = ls.energy(s)
    marks = {f: ls.rank_for_energy(s, f) for f in (0.9, 0.95, 0.99)} if en[-1] > 0 else {}
    st.header("1. Rank slider")
    default = min(20, K)
    r = st.slider("Rank r (server-side: each release rebuilds A_r at full resolution)", 1, K, default,
                  key="svd_rank")
    t0 = time.perf_counter()
    rec = data.reconstruct(r)                                          # (C, m, n)
    t_rebuild = time.perf_counter() - t0
    A = data.A
    err = A - rec
    # ‖A − A_r‖_F without BLAS (np.linalg.norm): BLAS threads wait for a free core while the browser draws
    measured = float(np.sqrt(np.square(err, dtype=np.float64).sum()))
    predicted = ls.truncation_error(s, r)
    total = float(np.sqrt((s ** 2).sum()))
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
    p = st.columns(3)
    if data.colour:
        clipped = float(((rec < 0) | (rec > 255)).mean())
        with p[0]:
            chart(cached_figure(fs.rgb_panel, np.moveaxis(A, 0, 2), "Original"), key="svd_orig")
        with p[1]:
            chart(fs.rgb_panel(np.moveaxis(rec, 0, 2), f"Rank {r} reconstruction"), key="svd_rec")
            st.caption(f"{clipped:.2%} of the reconstructed values fall outside 0–255 and are drawn clipped.")
    else:
        a_show, note = block_view(A[0])
        r_show, _ = block_view(rec[0])
        cbar = "grey level (0–255)" if data.image else "matrix entry"
        with p[0]:
            chart(cached_figure(fs.matrix_panel, a_show, "Original A", cbar, lo, hi, data.signed, data.image),
                  key="svd_orig")                                 # the same on every rank
        with p[1]:
            chart(fs.matrix_panel(r_show, f"Rank-{r} reconstruction A_r", cbar, lo, hi, data.signed, data.image),
                  key="svd_rec")
        if note:
            st.caption(note + " (the numbers above use every entry).")
    e_show, _ = block_view(err_show)
    with p[2]:
        chart(fs.matrix_panel(e_show, "Error A − A_r", etitle, -ebound, ebound, True, data.image), key="svd_err")
    with box:
        cols = st.columns(6)
        cols[0].metric("rank r", f"{r} of {K}")
        cols[1].metric("‖A − A_r‖_F measured", f"{measured:.4g}")
        cols[2].metric("predicted (tail)", f"{predicted:.4g}",
                       help="Eckart–Young: ‖A − A_r‖_F = √(Σ_{i>r} σᵢ²), the tail of the spectrum.")
        cols[3].metric("energy kept", f"{en[r - 1]:.2%}", help="Σ_{i≤r} σᵢ² / Σ σᵢ²")
        cols[4].metric("stored r(m+n+1)", f"{C * stored:,}", help=f"the full matrix stores mn = {C * full:,} numbers")
        cols[4].caption(f"vs mn = {C * full:,}" + (" (×3 channels)" if C == 3 else ""))
        cols[5].metric("compression", f"{full / stored:.1f}×" if full >= stored else f"{full / stored:.2f}× (bigger)")
        st.caption(f"Relative error {predicted / total:.2%}; spectral-norm error σ_(r+1) = "
                   f"{ls.truncation_error(s, r, kind='spectral'):.4g}. Rebuilt in {t_rebuild * 1e3:.1f} ms.")
    st.header("2. Spectrum")
    chart(fs.spectrum(s, r, en, marks), key="svd_spec")
    st.caption(("For colour, σᵢ = √(σ²_R,i + σ²_G,i + σ²_B,i), so the tail still predicts the total error. "
                if C == 3 else "") +
               ("A photo is all positive, so σ₁ mostly carries its average brightness and the energy starts high. "
                if data.image else "") +
               " · ".join(f"{f:.0%} of the energy needs rank {v}" for f, v in marks.items()))


@st.fragment
def matrix_sections():
    """The chosen matrix and everything built from it (sections 1–3): its widgets rerun only this, not
    the 2D geometry or LoRA sections below."""
    src = st.radio("Matrix", ["built-in image", "MiniLM weight", "synthetic", "upload"], horizontal=True,
                   key="svd_source")
    kind, params, upload, upload_name = None, None, None, ""
    c = st.columns(4)
    if src == "built-in image":
        name = c[0].selectbox("Image (scikit-learn sample)", ["china.jpg", "flower.jpg"], key="svd_img")
        colour = c[1].radio("Channels", ["grey", "colour (R, G, B)"], horizontal=True, key="svd_colour") != "grey"
        # block means of f×f pixels, f = 4, 3, 2, 1: the longest side of the 427×640 photo becomes 640 // f
        side = c[2].select_slider("Longest side (pixels)", [160, 214, 320, 640], value=320, key="svd_side",
                                  format_func=lambda v: f"{640 // int(np.ceil(640 / v))}",
                                  help="The photo is 427×640; smaller is faster. Block means of f×f pixels "
                                       "(f = 4, 3, 2 or 1), not cropping.")
        kind, params = "image", (name, colour, side)
    elif src == "MiniLM weight":
        layer = c[0].selectbox("Layer", range(6), key="svd_layer")
        label = c[1].selectbox("Matrix", list(MINILM_MATS), key="svd_mat")
        head = c[2].selectbox("Head", range(minilm().n_heads), key="svd_head", disabled=MINILM_MATS[label] != "qk")
        kind, params = "minilm", (layer, label, head if MINILM_MATS[label] == "qk" else 0)
    elif src == "synthetic":
        m = c[0].number_input("rows m", 2, 1024, 200, key="svd_m")
        n = c[1].number_input("columns n", 2, 1024, 150, key="svd_n")
        decay = c[2].slider("Spectrum decay α (σᵢ = i^−α)", 0.0, 3.0, 1.0, 0.1, key="svd_decay")
        noise = c[3].slider("Noise level", 0.0, 1.0, 0.01, 0.01, key="svd_noise",
                            help="Gaussian noise scaled so its largest singular value is about 2 × this.")
        kind, params = "synthetic", (int(m), int(n), float(decay), float(noise), 0)
    else:
        up = st.file_uploader("A matrix: .npy/.npz (no pickles), .csv/.tsv/.txt (numbers; a header row is fine) "
                              "or .safetensors (the first 2-D tensor); at most 2048×2048 entries",
                              type=["npy", "npz", "csv", "tsv", "txt", "safetensors"], key="svd_upload")
        if up is None:
            st.info("Upload a matrix to decompose it; until then the page shows the built-in image.")
            kind, params = "image", ("china.jpg", False, 320)
        else:
            kind, params, upload, upload_name = "upload", (), up.getvalue(), up.name

    try:
        data = prepare(kind, params, upload, upload_name)
    except ValueError as exc:
        st.error(f"{exc} Accepted: a finite 2-D numeric matrix (at least 2×2) in .npy, .npz, .csv, .tsv, .txt or "
                 ".safetensors. Showing the built-in image instead.")
        kind, params, upload, upload_name = "image", ("china.jpg", False, 320), None, ""
        data = prepare(kind, params)

    C, M, N, K = data.shape
    s = data.s
    info = (f"**{data.note}** Shape {M}×{N}{' ×3 channels' if C == 3 else ''}; SVD in "
            f"{data.t_svd * 1e3:.0f} ms (computed once and cached; a rank change only rebuilds).")
    if not data.image and s[0] > 0:
        info += f" Effective rank (Roy & Vetterli): **{ls.effective_rank(s):.1f}** of {K}."
    st.markdown(info)
    if kind == "minilm" and MINILM_MATS[params[1]] == "qk":
        numerical = int((s > s[0] * 1e-5).sum())
        st.info(f"W_Q,h W_K,hᵀ is a 384×384 matrix built through a 32-dimensional head, so its rank is at most 32: "
                f"here {numerical} singular values exceed 10⁻⁵·σ₁, and σ₃₃/σ₁ = {s[32] / s[0]:.1e} "
                "(rounding noise). Rank 32 rebuilds it exactly; see the cliff in the spectrum.")

    rank_section(data)

    # ----------------------------------------------------------------------------- 3. instant scrubbing
    st.header("3. Instant scrubbing")
    st.markdown(
        "The Streamlit slider in section 1 is **server-side**: on release, Python rebuilds `A_r` at full "
        "resolution and sends it back. The slider under this chart is **client-side**: the previews for "
        "ranks 1…64 and a log-spaced set beyond were computed once and sent with the chart, so dragging "
        "swaps frames in your browser with no round trip. Press ▶ to play them."
    )
    chart(cached_figure(scrub_figure, kind, params, upload, upload_name), key="svd_scrub")


matrix_sections()


# ----------------------------------------------------------------------------- 4. 2D geometry
@st.fragment
def geometry_section():
    st.header("4. Geometry of the SVD in 2D")
    st.markdown("Any 2×2 matrix is a rotation (or reflection) **Vᵀ**, a stretch **Σ** along the axes, and "
                "another rotation (or reflection) **U**. Follow the unit circle (the orange arc marks where "
                "it starts) through the three steps: it ends as an ellipse whose axes are σ₁u₁ and σ₂u₂, "
                "and v₁, v₂ are the input directions that land on them.")
    g = st.columns(5)
    a11 = g[0].number_input("a₁₁", -5.0, 5.0, 2.0, 0.1, key="svd_a11")
    a12 = g[1].number_input("a₁₂", -5.0, 5.0, 1.0, 0.1, key="svd_a12")
    a21 = g[2].number_input("a₂₁", -5.0, 5.0, 0.5, 0.1, key="svd_a21")
    a22 = g[3].number_input("a₂₂", -5.0, 5.0, 1.2, 0.1, key="svd_a22")
    A2 = np.array([[a11, a12], [a21, a22]])
    geo = ls.geometry_2d(A2)
    g[4].markdown(f"σ₁ = **{geo.S[0]:.3g}**, σ₂ = **{geo.S[1]:.3g}**  \n|det A| = σ₁σ₂ = {abs(np.linalg.det(A2)):.3g}")
    chart(fs.geometry(geo.U, geo.S, geo.Vh, geo.stages, geo.names), key="svd_geo")
    st.dataframe(pd.DataFrame({"U": [np.array2string(geo.U, precision=3)], "Σ": [np.array2string(np.diag(geo.S), precision=3)],
                               "Vᵀ": [np.array2string(geo.Vh, precision=3)]}), hide_index=True)


geometry_section()


# ----------------------------------------------------------------------------- 5. LoRA
@st.fragment
def lora_section():
    st.header("5. LoRA: a low-rank update")
    st.markdown("LoRA does not train W. It freezes W and trains an update **ΔW = B A** with B of shape m×r "
                "and A of shape r×n, so ΔW has rank at most r and costs r(m + n) numbers instead of mn.")
    g = st.columns(4)
    m = int(g[0].number_input("m (rows of W)", 1, 65536, 384, key="svd_lora_m"))
    n = int(g[1].number_input("n (columns of W)", 1, 65536, 384, key="svd_lora_n"))
    layer = g[2].selectbox("MiniLM layer for the error curve", range(6), key="svd_lora_layer")
    label = g[3].selectbox("MiniLM matrix", [k for k in MINILM_MATS if MINILM_MATS[k] != "qk"], key="svd_lora_mat")
    r = st.slider("LoRA rank r", 1, 256, 8, key="svd_lora_r")
    full, low = ls.lora_params(m, n, r)
    d = prepare("minilm", (layer, label, 0))
    rel = ls.truncation_error(d.s, np.arange(1, d.s.shape[0] + 1), kind="relative")
    rr = min(r, d.s.shape[0])
    cols = st.columns(4)
    cols[0].metric("full ΔW: m·n", f"{full:,}")
    cols[1].metric("LoRA: r(m+n)", f"{low:,}")
    cols[2].metric("fraction trained", f"{low / full:.3%}")
    cols[3].metric(f"best rank-{rr} error of W (rel.)", f"{rel[rr - 1]:.1%}")
    chart(fs.lora(np.arange(1, rel.shape[0] + 1), rel, r, m, n, d.note), key="svd_lora")
    st.caption("The right chart is how well the best rank-r matrix can replace the trained weight W itself "
               "(Eckart–Young, from its spectrum). Trained weights are far from low rank; LoRA's bet is that "
               "the *change* a fine-tune needs is, which is why a small r usually suffices for ΔW.")


lora_section()
