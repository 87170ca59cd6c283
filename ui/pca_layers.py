"""The PCA page's "Tokens through the layers" section: one text's tokens at every layer of the chosen
model, in PCA axes shared by all layers (a layer slider swaps precomputed frames in the browser, no
rerun), the per-layer share of variance those axes show with the mean cosine between tokens, and, for a
decoder with a language-model head, the logit lens (the next token each layer would predict).

Hidden states, the PCA and the logit lens are cached per (model, text).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from figures import layers as fl
from la_core import layers as ll
from ui.chart import cached_figure, chart
from ui.models import current_model

__all__ = ["DEFAULT_TEXT", "layer_view", "lens", "layers_section"]

DEFAULT_TEXT = "The quick brown fox jumps over the lazy dog because it wants to reach the river."


@st.cache_data(max_entries=16, show_spinner="Running the text through every layer…")
def layer_view(model_key: str, text: str, dims: int, _model):
    """(tokens, LayerPCA, mean cosine per layer) of ``text`` through ``_model`` (cached per model and text)."""
    states = ll.token_states(_model, text)
    return states.tokens, ll.layer_pca(states.states, k=dims), ll.mean_cosine(states.states)


@st.cache_data(max_entries=16, show_spinner="Reading every layer through the language-model head…")
def lens(model_key: str, text: str, _model) -> ll.LogitLens:
    """The logit lens (top 5) of ``text`` through ``_model`` (cached per model and text)."""
    return ll.logit_lens(_model, text, top=5)


@st.fragment
def layers_section(number: int = 5) -> None:
    """The whole section (a fragment: its widgets rerun only it)."""
    model = current_model()
    st.header(f"{number}. Tokens through the layers")
    st.markdown(f"One text, token by token, as it goes through the {model.n_layers} layers of **{model.name}**. "
                "Every token's hidden state at every layer is stacked and **one** PCA is fitted on all of them, "
                "so the axes are the same for every layer and a token's movement on screen is a movement in the "
                "model. Move the layer slider under the chart (the frames are in the browser: no rerun); the grey "
                "lines are each token's path from the embeddings to the last layer.")
    c = st.columns([4, 1])
    # a text area: the whole sentence stays in view on a narrow page (a one-line box scrolled it)
    text = c[0].text_area("Text", DEFAULT_TEXT, key="pca_layers_text", height="content").strip()
    dims = 3 if c[1].radio("View", ["2D", "3D"], key="pca_layers_dims", horizontal=True) == "3D" else 2
    if not text:
        st.info("Type a text to follow its tokens through the layers.")
        return
    key = f"{model.name}@{model.path}"
    try:
        tokens, res, cos = layer_view(key, text, dims, model)
    except ValueError as exc:
        st.error(f"{exc}")
        return
    names = ll.layer_names(res.coords.shape[0] - 1)
    axes = [f"PC{i + 1} ({100 * r:.1f}%)" for i, r in enumerate(res.explained_variance_ratio)]
    fig = cached_figure(fl.token_paths, res.coords, tokens, layer_names=names, layer_share=res.layer_share,
                        axis_titles=axes, title=f"{len(tokens)} tokens of {model.name}, shared PCA axes")
    chart(fig, key="pca_layers_plot", config={"scrollZoom": False} if dims == 3 else None)
    st.caption(f"{len(tokens)} tokens × {len(names)} hidden states (embeddings and {len(names) - 1} layers). "
               f"The shared axes explain {100 * res.explained_variance_ratio.sum():.1f}% of the variance of "
               "all stacked states; each frame's title gives the share of that layer's own spread they show.")
    chart(cached_figure(fl.layer_stats, res.layer_share, cos, layer_names=names), key="pca_layers_stats")
    st.caption("Blue: the share of each layer's token spread (around that layer's mean) that lies in the shared "
               "axes: a low value means the picture hides most of how that layer's tokens differ. Dotted: the "
               "mean cosine similarity between different tokens of the layer; in many models it grows with depth "
               "as the tokens crowd into a narrow cone.")
    if not model.causal:
        st.info(f"The logit lens needs a decoder with a language-model head; {model.name} is an encoder "
                f"({model.family}). Pick a GPT-2, Llama, Mistral or Qwen2 folder in the sidebar to see it.")
        return
    try:
        lz = lens(key, text, model)
    except ValueError as exc:
        st.info(f"No logit lens: {exc}")
        return
    st.subheader("Logit lens")
    st.markdown(f"Each layer's hidden state read as if it were the last: through the final norm (`{lz.final_norm}`) "
                f"and the unembedding ({lz.head}). A cell shows the most probable **next** token after the input "
                "token of its column; hover for the top 5 with probabilities. The top row is the model's own "
                "prediction.")
    chart(cached_figure(fl.logit_lens_figure, lz.top_tokens, lz.top_probs, lz.tokens, layer_names=lz.layer_names),
          key="pca_layers_lens")
