"""The topic pages of LA Lens, in menu order: app.py builds the navigation from this list and the
home page shows a card for each (tests/test_page_registry.py checks every file exists)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    path: str      # script path relative to the repository root
    title: str
    icon: str
    url: str       # URL path of the page
    summary: str   # one line for the home page card


TOPICS = [
    Topic("pages/projections.py", "Projections & linear maps", ":material/open_with:", "projections",
          "Dot product, cosine and projection; a 2D grid bent by a matrix; Wx as a mix of W's columns."),
    Topic("pages/attention.py", "Attention", ":material/visibility:", "attention",
          "softmax(QKᵀ/√d_k + mask)V step by step with a temperature knob, and the real heads of any model."),
    Topic("pages/eigen.py", "Eigenvectors", ":material/swap_calls:", "eigenvectors",
          "How a matrix stretches space: eigenlines, iterates, complex eigenvalues and QΛQᵀ."),
    Topic("pages/svd.py", "SVD & low rank", ":material/layers:", "svd",
          "Drag a rank slider: the best rank-r approximation, spectra of every weight, and real LoRA adapters."),
    Topic("pages/pca.py", "PCA of embeddings", ":material/scatter_plot:", "pca",
          "Upload embeddings: exact PCA on every row, neighbours, analogies and semantic axes."),
    Topic("pages/geometry.py", "Geometry", ":material/rotate_right:", "geometry",
          "Rotary position embeddings, norms, and what high dimensions do to distances."),
]

