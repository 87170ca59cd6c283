"""UI helpers shared by the pages (streamlit only; compute lives in la_core, plots in figures)."""
from __future__ import annotations

import filecmp
import gc
import json
import os
import shutil
import sys
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from la_core import models


@st.cache_resource(show_spinner="Loading all-MiniLM-L6-v2 (about 90 MB, offline)…")
def minilm() -> models.MiniLM:
    """The real model, loaded once per server process."""
    return models.load_minilm()          # its heap is frozen at the end of the run: freeze_long_lived


# Modebar: no Plotly logo, the camera button saves a 2× PNG.
CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
STATIC = Path(__file__).resolve().parent.parent / "static"   # served at app/static/ (enableStaticServing)


def _serve_chart_assets() -> bool:
    """Copy plotly.js (from the installed plotly package) and the chart template into static/.

    Once per server process. True when the browser can load them from ``app/static/`` (static
    serving on and the copies in place); False leaves every chart to ``st.plotly_chart``.
    """
    if not st.get_option("server.enableStaticServing"):
        return False
    here = Path(__file__).parent
    try:
        for src in (Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                    here / "plotly_template.json"):
            dst = STATIC / src.name
            if not (dst.is_file() and filecmp.cmp(src, dst, shallow=False)):
                STATIC.mkdir(exist_ok=True)
                tmp = STATIC / f".{src.name}.{os.getpid()}"       # servers starting together never
                shutil.copyfile(src, tmp)                         # see a half-written file
                tmp.replace(dst)
    except OSError:
        return False
    return True


_LIVE = _serve_chart_assets()
_live_chart = st.components.v2.component(
    "la_lens_plotly", js=Path(__file__).with_name("plotly_live.js").read_text(), isolate_styles=False)


def chart(fig, key: str | None = None, on_click=None, extra: list[dict] | None = None):
    """Render a Plotly figure full width with the PNG download button in the modebar.

    A keyed chart is drawn by a small component (pages/plotly_live.js) that updates it in place
    with ``Plotly.react`` when a rerun sends a new figure. ``st.plotly_chart`` builds a new plot
    instead, because the figure is part of its element id: with it, the time from a slider press
    until every changed chart was redrawn was 1.4–2× as long on the attention, eigenvector and SVD
    pages (bench/bench_browser.py, same machine). Without a key, or without static serving, the
    chart is an ``st.plotly_chart``.

    ``on_click``: a callback run when a point is clicked (read the point with
    :func:`clicked_point`), as ``st.plotly_chart(on_select=..., selection_mode="points")`` does.

    ``extra``: trace dicts drawn on top of ``fig``, typically a kept figure (:func:`kept_figure`):
    its JSON is reused as it is and only these traces are encoded.
    """
    if key is None or not _LIVE:
        if extra:
            fig = go.Figure(fig).add_traces(extra)
        select = dict(on_select=on_click, selection_mode="points") if on_click else {}
        return st.plotly_chart(fig, width="stretch", config=CONFIG, key=key, **select)
    spec = _with_traces(fig, extra) if extra else _figure_json(fig)   # what st.plotly_chart sends
    extra = {"config": CONFIG, **({"la_clicks": True} if on_click else {})}
    spec = spec[:-1] + ", " + pio.json.to_json_plotly(extra)[1:]
    events = {"on_select_change": on_click} if on_click else {}
    return _live_chart(key=key, data=spec.encode(), width="stretch", **events)


def clicked_point(key: str) -> dict | None:
    """The point last clicked in the chart with this key ({"customdata", "x", "y", ...}), or None.

    Works for both kinds of chart: the component's "select" trigger and ``st.plotly_chart``'s
    selection state have the same shape."""
    event = st.session_state.get(key)
    if not event:
        return None
    if "select" in event:                                         # the component's trigger
        event = event["select"]
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    return points[0] if points else None


def cached_figure(build, *args, **kwargs):
    """``build(*args, **kwargs)``, built once per distinct arguments and kept for the server's life.

    For figures with many precomputed animation frames (Plotly spends about 1 ms of Python per
    frame trace building them): a slider that does not change their inputs then reruns without
    rebuilding them. Arguments must be hashable by Streamlit (numbers, strings, arrays). The
    figure is shared between sessions, so callers must not modify it.

    A Plotly figure's JSON is kept with it, so :func:`chart` does not serialise it again on every
    rerun (a 73-frame animation took about 25 ms per press to encode, on a page whose press
    otherwise costs a few ms of Python).
    """
    name = f"{build.__code__.co_filename}:{build.__qualname__}"
    return _cached_figure(name, build, *args, **kwargs)


def kept_figure(key: tuple, build, *args, **kwargs):
    """:func:`cached_figure`, but kept under ``key`` (hashable values that identify the inputs) rather
    than under the arguments, so that big arrays need not be hashed on every rerun. ``key`` must change
    whenever the figure would."""
    name = f"{build.__code__.co_filename}:{build.__qualname__}"
    return _kept_figure(name, key, build, args, kwargs)


def _with_json(fig):
    if isinstance(fig, go.Figure):
        fig._la_json = pio.to_json(fig, validate=False)      # read by _figure_json; goes with the entry
    return fig


@st.cache_resource(max_entries=64, show_spinner=False)
def _cached_figure(name: str, _build, *args, **kwargs):
    return _with_json(_build(*args, **kwargs))


@st.cache_resource(max_entries=16, show_spinner=False)
def _kept_figure(name: str, key: tuple, _build, _args: tuple, _kwargs: dict):
    return _with_json(_build(*_args, **_kwargs))


def _with_traces(fig, extra: list[dict]) -> str:
    """The JSON of ``fig`` with the trace dicts ``extra`` appended to its data, without building or
    validating a figure: the PCA scatter (18 traces) took about 25 ms to build and encode on every
    Neighbours k press, its two highlight traces well under 1 ms."""
    parts = getattr(fig, "_la_parts", None)
    if parts is None:
        d = json.loads(_figure_json(fig))
        data = d.pop("data", [])
        parts = (json.dumps(data, separators=(",", ":"))[:-1], bool(data), json.dumps(d, separators=(",", ":")))
        if hasattr(fig, "_la_json"):
            fig._la_parts = parts                             # kept with a cached figure
    head, nonempty, rest = parts
    items = pio.json.to_json_plotly(extra)[1:-1]
    sep = "," if nonempty and items else ""
    return '{"data":' + head + sep + items + "]" + ("," + rest[1:] if rest != "{}" else "}")


def _figure_json(fig) -> str:
    """The figure's JSON: kept for figures from :func:`cached_figure`, serialised otherwise."""
    return getattr(fig, "_la_json", None) or pio.to_json(fig, validate=False)


# Streamlit runs gc.collect(2) after every script and fragment run. Over everything torch,
# transformers, scikit-learn and the model keep alive (about 500k objects) one pass took about
# 0.2 s here, holding the GIL, and a run's last messages (often the chart) waited for it. Objects
# alive now (modules) are moved out of the collector's reach, so the pass only looks at what the
# runs create; freeze_long_lived does the same for what pages import or load later.
gc.freeze()
_modules_at_freeze = len(sys.modules)


def freeze_long_lived() -> None:
    """After a run that imported modules (scipy, scikit-learn, PIL, plotly's validators, the model's
    transformers code), collect once and freeze what is left, as at import.

    Those imports left 40–70k objects for every later post-run pass to scan (25–60 ms a pass on
    the SVD and PCA pages here, against 3–8 ms with them frozen). Collecting first keeps the run's
    garbage collectable; the few live objects of the run that get frozen with the modules are freed
    by reference counting when they go (only cycles among them would stay), and this happens only
    when new modules appear, so a handful of times per server process.
    """
    global _modules_at_freeze
    if len(sys.modules) != _modules_at_freeze:
        gc.collect()
        gc.freeze()
        _modules_at_freeze = len(sys.modules)
