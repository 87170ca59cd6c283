"""A real LoRA adapter on the SVD page: which rank each update uses, and how it sits against W.

The adapter comes from the built-in example (``data/example_adapter``, trained on MiniLM), a folder
under ``LA_LENS_MODELS_DIR`` holding ``adapter_config.json``, or an upload of its two files. The
last adapter that loaded stays on screen when another one fails, with the loader's message.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from figures import lora as fl
from figures.spectra import layer_kind_heatmap
from la_core import lora_base as lb
from la_core import svd as ls
from la_core.lora import load_adapter
from la_core.lora_files import CONFIG_NAME, KINDS, WEIGHTS_NAME
from ui.chart import chart
from ui.models import MODELS_DIR_ENV, current_model, minilm
from ui.svd_atlas import weight_svdvals
from ui.svd_sources import keep_choice

__all__ = ["EXAMPLE", "adapter_section"]

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example_adapter"
SOURCES = ["built-in example (MiniLM, r = 8)", "a folder in the models folder", "upload the two files"]
_LAST = "svd_ad_last"          # session state: (key, adapter, label) of the last adapter that loaded
_SUMMARY = "svd_ad_summary"    # session state: {key: summary DataFrame}
ORDER = [*KINDS, "other"]


@st.cache_resource(max_entries=4, show_spinner="Opening the adapter…")
def open_adapter_folder(path: str, mtime: float):
    """The adapter in a folder (``mtime`` of its weights: a changed file is read again)."""
    return load_adapter(path)


def _folder_key(path: str) -> tuple:
    try:
        mtime = os.path.getmtime(os.path.join(path, WEIGHTS_NAME))
    except OSError:
        mtime = 0.0
    return path, mtime


def _choose() -> tuple[tuple | None, object]:
    """The source widgets; returns (key, loader) of the chosen adapter, or (None, None) for none yet."""
    src = st.radio("Adapter", SOURCES, horizontal=True, key="svd_ad_source")
    if src == SOURCES[0]:
        path = str(EXAMPLE)
        return ("example", path), lambda: open_adapter_folder(*_folder_key(path))
    if src == SOURCES[1]:
        root = os.environ.get(MODELS_DIR_ENV, "").strip()
        try:
            folders = lb.list_adapter_folders(root) if root else []
        except ValueError as exc:
            st.warning(f"{exc}")
            folders = []
        if not folders:
            st.info(f"No folder under {MODELS_DIR_ENV}{f' = {root!r}' if root else ' (not set)'} holds {CONFIG_NAME}; "
                    "save an adapter there with peft's save_pretrained.")
            return None, None
        keep_choice("svd_ad_folder", folders)
        name = st.selectbox("Adapter folder", folders, key="svd_ad_folder")

        def from_folder():
            return open_adapter_folder(*_folder_key(lb.resolve_adapter_folder(root, name)))
        return ("folder", root, name), from_folder
    files = st.file_uploader(f"{CONFIG_NAME} and {WEIGHTS_NAME} (both; pickled .bin files are never opened)",
                             type=["json", "safetensors"], accept_multiple_files=True, key="svd_ad_upload")
    if not files:
        st.info(f"Upload the adapter's two files, {CONFIG_NAME} and {WEIGHTS_NAME}, together.")
        return None, None
    key = ("upload", tuple((f.name, f.file_id, f.size) for f in files))
    return key, lambda: load_adapter({f.name: f.getvalue() for f in files})


def _current_adapter():
    """(key, adapter, label) to show: the chosen one if it loads, else the last that did (message shown)."""
    key, loader = _choose()
    last = st.session_state.get(_LAST)
    if key is not None and (last is None or last[0] != key):
        try:
            adapter = loader()
        except ValueError as exc:
            st.error(f"This adapter cannot be read: {exc}")
            if last is not None:
                st.caption(f"Still showing the last adapter that loaded: **{last[2]}**.")
        else:
            label = {"example": "the built-in example", "folder": key[-1], "upload": "the uploaded adapter"}[key[0]]
            last = (key, adapter, label)
            st.session_state[_LAST] = last
    return last


def _summary(key, adapter) -> pd.DataFrame:
    """Adapter.summary, once per adapter and session, with a progress bar while it runs."""
    store = st.session_state.setdefault(_SUMMARY, {})
    if key not in store:
        bar = st.progress(0.0, text="Spectra of the updates…")
        df = adapter.summary(progress=lambda done, total: bar.progress(
            done / total, text=f"Spectrum of ΔW: {done} of {total} modules"))
        bar.empty()
        store.clear()                          # one adapter per session is enough to keep
        store[key] = df
    return store[key]


def _heatmap(df: pd.DataFrame):
    rows = df[df["layer"].notna()]
    kinds = [k for k in ORDER if (rows["kind"] == k).any()]
    if rows.empty:
        return None
    n_layers = int(rows["layer"].max()) + 1
    z, of = np.full((n_layers, len(kinds)), np.nan), np.full((n_layers, len(kinds)), np.nan)
    for _, row in rows.iterrows():
        j = kinds.index(row["kind"])
        z[int(row["layer"]), j] = np.nan if pd.isna(row["rank_90"]) else float(row["rank_90"])
        of[int(row["layer"]), j] = row["r"]
    return layer_kind_heatmap(z, kinds, "Rank that keeps 90 % of ‖ΔW‖²_F", "rank for 90 %", of=of, of_name="r",
                              zmax=float(rows["r"].max()))


def _table(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["shape"] = [f"{a}×{b}" for a, b in df["shape"]]
    return out


def _base(adapter, example: bool):
    """(model, match) of the adapter's base model, or (None, message) when the model does not fit."""
    model = minilm() if example else current_model()
    try:
        return model, lb.match_base(model, adapter)
    except ValueError as exc:
        return None, f"{exc} Choose the adapter's base model in the sidebar to compare ΔW with W."


@st.cache_data(max_entries=32, show_spinner="Principal angles between ΔW and W…")
def _angles(adapter_key, module: str, model_path: str, k: int, _adapter, _model, _match) -> np.ndarray:
    return _adapter.principal_angles(module, lb.base_weight(_model, _match, module), k)


def _module_view(key, adapter, df: pd.DataFrame, example: bool) -> None:
    modules = list(adapter.modules)
    keep_choice("svd_ad_module", modules)
    module = st.selectbox("Module", modules, key="svd_ad_module", format_func=lambda m: (
        f"{m} ({adapter.shape_of(m)[0]}×{adapter.shape_of(m)[1]}, r = {adapter.rank_of(m)})"))
    s = adapter.singular_values(module)                              # (k,) descending
    r = adapter.rank_of(module)
    if not s.any():
        st.info(f"ΔW of {module} is zero (an untrained lora_B): it has no spectrum.")
        return
    marks = {f: ls.rank_for_energy(s, f) for f in (0.9, 0.99)}
    model, match = _base(adapter, example)
    base_s = weight_svdvals(model.path, match[module][0], model)[: 2 * r] if model is not None else None
    layer = adapter.layer_of(module)
    short = f"{adapter.kind_of(module)}, layer {layer}" if layer is not None else module
    cells = st.grid(2, min_column_width=360)          # side by side, or one under the other when narrow
    with cells.cell():
        chart(fl.delta_spectrum(s, r, short, base_s), key="svd_ad_spec")
    with cells.cell():
        chart(fl.delta_energy(ls.energy(s), r, marks), key="svd_ad_energy")
    st.caption(f"ΔW = {adapter.scale_of(module):g} · B A has rank ≤ r = {r}; the update uses "
               f"{marks[0.9]} direction(s) for 90 % of ‖ΔW‖²_F = {float((s ** 2).sum()):.4g} and {marks[0.99]} for "
               "99 % (diamonds)."
               + (" The dotted line is the base weight W's leading σᵢ, for scale." if base_s is not None else ""))
    if model is None:
        st.info(match)
        return
    w = lb.base_weight(model, match, module)
    k_max = int(min(s.shape[0], min(w.shape)))
    with st.container(horizontal=True, gap="medium", vertical_alignment="bottom"):   # wraps when narrow
        st.metric("‖ΔW‖_F / ‖W‖_F", f"{adapter.relative_update(module, w):.2%}", width="content",
                  help=f"W: {match[module][0]} of {model.name}")
        k = st.slider("k leading directions", 1, k_max, min(marks[0.99], k_max), key="svd_ad_k", width=300,
                      help="u₁…u_k of ΔW and of W; the default keeps 99 % of ‖ΔW‖²_F.") if k_max > 1 else 1
    theta = _angles(key, module, model.path, k, adapter, model, match)
    chart(fl.angles(theta, short), key="svd_ad_angles")
    st.caption(f"The angles between the top-{k} output directions (left singular vectors) of ΔW and of the base "
               f"weight W, {model.name}'s {match[module][0]}. Small angles: ΔW writes into the output directions W "
               "already uses most; near 90°: it opens new ones.")


@st.fragment
def adapter_section(number: int) -> None:
    st.header(f"{number}. A real LoRA adapter")
    st.markdown(
        "A LoRA adapter stores `A` (r × in) and `B` (out × r) for each adapted layer; the layer's weight becomes "
        "`W + ΔW` with `ΔW = (α/r) · B A`. **r** is the rank the adapter was *given*; the spectrum of ΔW shows "
        "the rank it *uses*. The spectrum comes from two thin QRs and an r×r SVD, never forming ΔW.")
    shown = _current_adapter()
    if shown is None:
        return
    key, adapter, label = shown
    st.markdown(f"**Showing {label}**: {len(adapter.modules)} modules, r = {adapter.r}, α = {adapter.alpha:g} "
                f"(scale {adapter.scale:g}{', rsLoRA' if adapter.use_rslora else ''}), targets "
                f"{', '.join(adapter.target_modules) if not isinstance(adapter.target_modules, str) else adapter.target_modules}.")
    df = _summary(key, adapter)
    fig = _heatmap(df)
    if fig is not None:
        chart(fig, key="svd_ad_heat")
    _module_view(key, adapter, df, key[0] == "example")
    st.subheader("Every module")
    table = _table(df)
    # many columns: on a narrow page the table scrolls sideways, the module's name pinned at the left
    st.dataframe(table, hide_index=True, key="svd_ad_table", column_config={
        "module": st.column_config.TextColumn("module", pinned=True),
        "rank_used": st.column_config.NumberColumn("rank_used", format="percent", help="rank_90 / r"),
        "norm_fro": st.column_config.NumberColumn("‖ΔW‖_F", format="%.4g"),
        "effective_rank": st.column_config.NumberColumn("effective rank", format="%.2f")})
    st.download_button("Download the summary (CSV)", table.to_csv(index=False).encode(), key="svd_ad_csv",
                       file_name="lora_summary.csv", mime="text/csv")
    st.caption("Click a column header to sort. rank_90 / rank_99: the smallest rank keeping 90 % / 99 % of "
               "‖ΔW‖²_F; rank_used = rank_90 / r.")
