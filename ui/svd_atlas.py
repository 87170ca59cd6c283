"""The spectrum atlas: how much rank every weight matrix of the chosen model uses, layer by kind.

Each matrix's singular values come from :func:`matrix_spectrum` (``torch.linalg.svdvals``, one
matrix at a time, read lazily from the model's files) and are kept per model with ``st.cache_data``
keyed by the model's path and the matrix, so the fraction slider and every other widget reuse them.
While spectra are being computed a progress bar shows how far the scan is.
"""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

from figures.spectra import layer_kind_heatmap
from la_core import weight_matrices as wm
from la_core.spectra import atlas_grid, svdvals
from ui.chart import chart
from ui.models import current_model

__all__ = ["matrix_spectrum", "weight_svdvals", "model_spectra", "atlas_section"]

KIND_ORDER = ("Q", "K", "V", "O", "MLP gate", "MLP up", "MLP down")
AUTO_COST = 5e9          # Σ m·n·min(m, n) below which the atlas is computed without asking (MiniLM: 4·10⁹)
SLOW_CALL = 0.02         # a spectrum that took longer than this was computed, not found in the cache


@st.cache_data(max_entries=4096, show_spinner=False)
def matrix_spectrum(model_path: str, ref: wm.MatrixRef, _model) -> np.ndarray:
    """Singular values of one model matrix (float32 ``torch.linalg.svdvals``), cached per model and matrix."""
    return svdvals(wm.read_matrix(_model, ref))


@st.cache_data(max_entries=256, show_spinner="Singular values of the base weight…")
def weight_svdvals(model_path: str, name: str, _model) -> np.ndarray:
    """Singular values of one stored weight by its checkpoint name (orientation does not change them)."""
    return svdvals(_model.weight(name))


def model_spectra(model, refs, what: str = "spectra") -> dict:
    """``{(layer, kind): singular values}`` of ``refs``; a progress bar appears while any is computed."""
    out, bar = {}, None
    for i, ref in enumerate(refs):
        t0 = time.perf_counter()
        out[(ref.layer, ref.kind)] = matrix_spectrum(model.path, ref, model)
        if bar is None and time.perf_counter() - t0 > SLOW_CALL:
            bar = st.progress(0.0)
        if bar is not None:
            bar.progress((i + 1) / len(refs), text=f"{what} of {model.name}: {i + 1} of {len(refs)} matrices "
                                                   f"({ref.group} {ref.kind}, {ref.shape[0]}×{ref.shape[1]})")
    if bar is not None:
        bar.empty()
    return out


def _cost(refs) -> float:
    return float(sum(r.shape[0] * r.shape[1] * min(r.shape) for r in refs))


@st.fragment
def atlas_section(number: int) -> None:
    model = current_model()
    st.header(f"{number}. Spectrum atlas")
    refs = wm.layer_matrices(wm.model_matrices(model))
    if not refs:
        st.info(f"{model.name} has no per-layer weight matrices to scan.")
        return
    kinds = [k for k in KIND_ORDER if any(r.kind == k for r in refs)]
    st.markdown(
        f"Every weight matrix of every layer of **{model.name}**, summarised by its singular values: the "
        "**effective rank** `exp(H(σ/Σσ))` (Roy & Vetterli: 1 for a rank-one matrix, k for a flat spectrum) "
        "and the **rank that keeps a fraction of the energy** `Σᵢ≤ᵣ σᵢ² / Σ σᵢ²`. Dark cells are matrices "
        "whose energy sits in few directions; a cell near its full rank (in the hover) uses all of them.")
    cost = _cost(refs)
    # one switch per model: switching the sidebar to a large model must not start its scan unasked
    on = st.toggle(f"Compute the atlas ({len(refs)} matrices of {model.name})", value=cost <= AUTO_COST,
                   key=f"svd_atlas_on:{model.path}", help="One torch.linalg.svdvals per matrix, read one at a time from the model "
                                            "files; computed once per model and kept.")
    if not on:
        st.info(f"{len(refs)} matrices, about {cost:.1e} floating-point operations in all: switch on to compute "
                "their spectra (a progress bar shows how far it is; the result is kept for this model).")
        return
    spectra = model_spectra(model, refs, "Spectra")
    frac = st.select_slider("Energy kept", [0.5, 0.75, 0.8, 0.9, 0.95, 0.99], value=0.9, key="svd_atlas_frac",
                            format_func=lambda f: f"{f:.0%}")
    grid = atlas_grid(spectra, model.n_layers, kinds, frac)
    c = st.grid(2, min_column_width=360)              # side by side, or one under the other when narrow
    with c.cell():
        chart(layer_kind_heatmap(grid.effective_rank, kinds, "Effective rank", "effective rank", of=grid.full_rank,
                                 fmt=".0f"), key="svd_atlas_eff")
    with c.cell():
        chart(layer_kind_heatmap(grid.rank_energy, kinds, f"Rank for {frac:.0%} of the energy",
                                 f"rank for {frac:.0%}", of=grid.full_rank), key="svd_atlas_rank")
    shapes = sorted({f"{r.kind} {r.shape[0]}×{r.shape[1]}" for r in refs}, key=lambda t: KIND_ORDER.index(
        t.rsplit(" ", 1)[0]))
    outside = [r for r in wm.model_matrices(model) if r.layer is None]
    st.caption(f"{len(refs)} matrices: {', '.join(shapes)}. Not in the atlas: the {len(outside)} matrices outside "
               "the layers (embeddings, pooler, head) and the per-head W_Q,h W_K,hᵀ; pick them in section 1 as "
               "'model weight'. Grey cells: that layer has no matrix of that kind.")
