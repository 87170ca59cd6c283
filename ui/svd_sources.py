"""The SVD page's matrices: a photo, any 2-D weight of the chosen model, a synthetic matrix, an upload.

:func:`choose_source` draws the source widgets and returns a :class:`Source`; :func:`factored`
decomposes it once per source (``st.cache_data``), so a rank change only rebuilds; the client-side
scrubber's frames and figure are cached the same way (:func:`scrub_figure`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st
from sklearn.datasets import load_sample_image

from figures import svd as fs
from la_core import io as lio
from la_core import svd as ls
from la_core import svd_channels as sc
from la_core import weight_matrices as wm
from la_core.spectra import rounding_floor
from ui.models import current_model

__all__ = ["Source", "SOURCES", "DEFAULT", "choose_source", "load", "factored", "scrub_figure", "scrub_caption",
           "keep_choice"]

PREVIEW_SIDE = 128            # client-side frames: longest side in pixels
MAX_UPLOAD = 2048 * 2048      # entries of an uploaded matrix
MAX_WEIGHT = 2 ** 24          # entries of a model matrix for the interactive SVD (4096×4096): each rank rebuilds it
SOURCES = ["built-in image", "model weight", "synthetic", "upload"]


class Source(NamedTuple):
    """One matrix source: ``kind`` and hashable ``params`` identify it (the cache key)."""

    kind: str                  # image, weight, synthetic, upload
    params: tuple
    upload: bytes | None = None
    upload_name: str = ""


DEFAULT = Source("image", ("china.jpg", False, 320))


def keep_choice(key: str, options: list) -> None:
    """Reset a widget's remembered value when it is no longer among ``options`` (another model)."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


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


def weight_note(model, ref: wm.MatrixRef, head: int) -> str:
    where = f"{model.name}, {ref.group}"
    if ref.kind == wm.QK:
        group = head // (model.n_heads // model.n_kv_heads)
        kv = f" (K/V group {group} of {model.n_kv_heads})" if model.n_kv_heads < model.n_heads else ""
        return f"{where}, head {head}{kv}: W_Q,h W_K,hᵀ"
    return f"{where}: {ref.label(model.d_head)} · {ref.name}"


@st.cache_resource(max_entries=8, show_spinner="Computing the SVD…")
def factored(kind: str, params: tuple, upload: bytes | None = None, upload_name: str = "",
             _model=None) -> sc.FactoredChannels:
    """Load a source and compute its SVD once; a rank change then only rebuilds.

    Kept as a resource, not copied on every rerun (a model matrix and its factors can be hundreds
    of megabytes): callers must not modify the arrays.

    For ``kind == "weight"``, ``params = (model path, MatrixRef, head)`` and ``_model`` is the
    handle (not hashed: the path names it)."""
    if kind == "image":
        name, colour, max_side = params
        chans, note = image_channels(name, colour, max_side)
    elif kind == "weight":
        _, ref, head = params
        m, n = ref.shape
        if m * n > MAX_WEIGHT:
            raise ValueError(f"{ref.name} is {m}×{n} = {m * n:,} entries; the interactive SVD here takes at most "
                             f"{MAX_WEIGHT:,}. Its spectrum is in the atlas below (one matrix at a time).")
        chans, note = wm.read_matrix(_model, ref, head)[None], weight_note(_model, ref, head)
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
def scrub_frames(kind: str, params: tuple, upload: bytes | None = None, upload_name: str = "",
                 _model=None) -> sc.Previews:
    """Small previews of ranks 1…64 and log-spaced ranks beyond, from block means of the factors."""
    data = factored(kind, params, upload, upload_name, _model)
    return data.previews(PREVIEW_SIDE, square=data.image)


def scrub_figure(kind: str, params: tuple, upload: bytes | None, upload_name: str, _model=None):
    """The client-side rank scrubber of one source (built once per source, with all its frames)."""
    data = factored(kind, params, upload, upload_name, _model)
    p = scrub_frames(kind, params, upload, upload_name, _model)
    total = float(np.sqrt((data.s ** 2).sum())) or 1.0
    floor_rel = rounding_floor(data.A.shape, data.s) / total
    return fs.scrubber(p.frames, p.ranks, data.lo, data.hi, data.signed, data.colour,
                       "grey level" if data.image else "matrix entry", data.image, p.rel_errors, floor_rel)


def scrub_caption(kind: str, params: tuple, upload: bytes | None, upload_name: str, _model=None) -> str:
    """What the scrubber's frames are (how many, their size, their ranks), for the caption under it."""
    data = factored(kind, params, upload, upload_name, _model)
    p = scrub_frames(kind, params, upload, upload_name, _model)
    _, M, N, _ = data.shape
    return fs.scrub_note(len(p.ranks), p.frames.shape[1:3], (M, N), p.ranks, data.colour)


def _weight_widgets(c) -> tuple[tuple, object]:
    """``c``: the grid the three pickers go in, one cell each."""
    """Group (layer), matrix and head pickers for the sidebar's model; returns (params, model)."""
    model = current_model()
    refs = wm.model_matrices(model)
    groups = list(dict.fromkeys(r.group for r in refs))
    keep_choice("svd_group", groups)
    group = c.selectbox(f"Layer of {model.name}", groups, key="svd_group",
                           help=f"{model.n_layers} layers; the embeddings and the matrices outside the layers last.")
    in_group = [r for r in refs if r.group == group]
    labels = [r.label(model.d_head) for r in in_group]
    keep_choice("svd_mat", labels)
    label = c.selectbox("Matrix", labels, key="svd_mat",
                           help="Per-layer matrices in (out, in) orientation, y = x Wᵀ; the others as stored.")
    ref = in_group[labels.index(label)]
    per_group = model.n_heads // model.n_kv_heads
    heads = list(range(model.n_heads))
    keep_choice("svd_head", heads)
    head = c.selectbox("Head", heads, key="svd_head", disabled=ref.kind != wm.QK,
                          format_func=(lambda h: f"{h} (K/V group {h // per_group})") if per_group > 1 else str)
    return (model.path, ref, head if ref.kind == wm.QK else 0), model


def choose_source() -> tuple[Source, object]:
    """The source radio and its widgets; returns the chosen source and the model handle (or None)."""
    src = st.radio("Matrix", SOURCES, horizontal=True, key="svd_source")
    if src == "built-in image":
        c = st.grid(3, min_column_width=200)       # side by side, or two and one when the page is narrow
        name = c.selectbox("Image (scikit-learn sample)", ["china.jpg", "flower.jpg"], key="svd_img")
        colour = c.radio("Channels", ["grey", "colour (R, G, B)"], horizontal=True, key="svd_colour") != "grey"
        # block means of f×f pixels, f = 4, 3, 2, 1: the longest side of the 427×640 photo becomes 640 // f
        side = c.select_slider("Longest side (pixels)", [160, 214, 320, 640], value=320, key="svd_side",
                                  format_func=lambda v: f"{640 // int(np.ceil(640 / v))}",
                                  help="The photo is 427×640; smaller is faster. Block means of f×f pixels "
                                       "(f = 4, 3, 2 or 1), not cropping.")
        return Source("image", (name, colour, side)), None
    if src == "model weight":
        # a matrix's name is up to about 300 px ("one head's W_Q,h W_K,hᵀ (384×384, rank ≤ 32)")
        params, model = _weight_widgets(st.grid(3, min_column_width=340))
        return Source("weight", params), model
    if src == "synthetic":
        c = st.grid(4, min_column_width=200)
        m = c.number_input("rows m", 2, 1024, 200, key="svd_m")
        n = c.number_input("columns n", 2, 1024, 150, key="svd_n")
        decay = c.slider("Spectrum decay α (σᵢ = i^−α)", 0.0, 3.0, 1.0, 0.1, key="svd_decay")
        noise = c.slider("Noise level", 0.0, 1.0, 0.01, 0.01, key="svd_noise",
                            help="Gaussian noise scaled so its largest singular value is about 2 × this.")
        return Source("synthetic", (int(m), int(n), float(decay), float(noise), 0)), None
    up = st.file_uploader("A matrix: .npy/.npz (no pickles), .csv/.tsv/.txt (numbers; a header row is fine) "
                          "or .safetensors (the first 2-D tensor); at most 2048×2048 entries",
                          type=["npy", "npz", "csv", "tsv", "txt", "safetensors"], key="svd_upload")
    if up is None:
        st.info("Upload a matrix to decompose it; until then the page shows the built-in image.")
        return DEFAULT, None
    return Source("upload", (), up.getvalue(), up.name), None


def load(source: Source, model) -> tuple[sc.FactoredChannels, Source, object]:
    """The decomposed source; on bad input, a clear message and the built-in image instead."""
    try:
        return factored(*source, _model=model), source, model
    except ValueError as exc:
        accepted = ("" if source.kind == "weight" else " Accepted: a finite 2-D numeric matrix (at least 2×2) in "
                    ".npy, .npz, .csv, .tsv, .txt or .safetensors.")
        st.error(f"{exc}{accepted} Showing the built-in image instead.")
        return factored(*DEFAULT), DEFAULT, None
