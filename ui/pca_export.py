"""The PCA page's export: the coordinates of every row on the principal axes and, once built, on the
semantic axes, with the labels and the metadata, as CSV or Parquet."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

__all__ = ["SemanticColumns", "axis_column", "export_frame", "to_csv", "to_parquet", "semantic_store"]


@dataclass
class SemanticColumns:
    """The semantic axes the page shows, as export columns.

    Attributes
    ----------
    names : list of str
        One column name per axis (:func:`axis_column`).
    coords : numpy.ndarray, shape (n, m)
        Every row's coordinate on each axis (``la_core.neighbors.SemanticAxes.coords``).
    """

    names: list[str]
    coords: np.ndarray


def axis_column(i: int, away: str, towards: str) -> str:
    """Export column of semantic axis ``i``: its coordinate grows from ``away`` towards ``towards``."""
    return f"semantic axis {i}: {away} → {towards}"


def export_frame(labels, Z, pcs: list[str], meta: pd.DataFrame | None = None,
                 semantic: SemanticColumns | None = None) -> pd.DataFrame:
    """One row per data row: its label, its principal-axis coordinates, its semantic-axis coordinates
    (when axes are built) and its metadata columns.

    Parameters
    ----------
    labels : array_like, shape (n,)
    Z : array_like, shape (n, k)
        Coordinates on the first k principal axes, named ``pcs``.
    meta : pandas.DataFrame, optional
        n rows of metadata (a "label" column is left out: it is the first column already).
    semantic : SemanticColumns, optional
    """
    df = pd.DataFrame(np.asarray(Z, np.float32), columns=pcs)
    df.insert(0, "label", labels)
    if semantic is not None:
        for name, col in zip(semantic.names, np.asarray(semantic.coords).T):
            df[name] = col.astype(np.float32)
    if meta is not None:
        for col in meta.columns:
            if str(col) != "label":
                df[str(col)] = meta[col].to_numpy()
    return df


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def to_parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def semantic_store() -> dict:
    """``{data key: SemanticColumns}`` of this session. The semantic-axes section writes it and the
    export's download buttons read it when clicked, so a file holds the axes on screen then, even after
    only the axes section has rerun."""
    return st.session_state.setdefault("pca_semantic_export", {})
