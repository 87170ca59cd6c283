"""The chart component shared by the pages: Plotly figures drawn full width, updated in place, with
cached and kept figures whose JSON is encoded once."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from ui import runtime

__all__ = ["chart", "clicked_point", "relayout_event", "cached_figure", "kept_figure"]

# Modebar: no Plotly logo, the camera button saves a 2× PNG.
CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}

_live_chart = st.components.v2.component(
    "la_lens_plotly", js=Path(__file__).with_name("plotly_live.js").read_text(), isolate_styles=False)


def chart(fig, key: str | None = None, on_click=None, extra: list[dict] | None = None, config: dict | None = None,
          under: list[dict] | None = None, layout: dict | None = None, on_relayout=None):
    """Render a Plotly figure full width with the PNG download button in the modebar.

    A keyed chart is drawn by a small component (ui/plotly_live.js) that updates it in place
    with ``Plotly.react`` when a rerun sends a new figure. ``st.plotly_chart`` builds a new plot
    instead, because the figure is part of its element id, so every changed chart is drawn again
    from scratch (bench/bench_browser.py measures the difference). Without a key, or when
    :func:`ui.runtime.setup` has not served the component's assets (static serving off, or no
    set-up, as in a unit test that imports a page), the chart is an ``st.plotly_chart``.

    ``on_click``: a callback run when a point is clicked (read the point with
    :func:`clicked_point`), as ``st.plotly_chart(on_select=..., selection_mode="points")`` does.

    ``extra``: trace dicts drawn on top of ``fig``, typically a kept figure (:func:`kept_figure`):
    its JSON is reused as it is and only these traces are encoded.

    ``under``: trace dicts drawn beneath ``fig``'s traces (a heatmap under a scatter), and ``layout``:
    layout entries over ``fig``'s (each a dict merged into the figure's, or a value); both, like
    ``extra``, leave a kept figure's JSON as it is.

    ``on_relayout``: a callback run when the user zooms, pans or resets the axes (read the event with
    :func:`relayout_event`). Only the component reports it; an ``st.plotly_chart`` never calls it.

    ``config``: Plotly config entries over the defaults. ``{"scrollZoom": False}`` also lets the mouse
    wheel scroll the page over a 3D chart (plotly.js's 3D camera takes every wheel event otherwise).
    """
    config = {**CONFIG, **(config or {})}
    if key is None or not runtime.chart_assets_served():
        if extra or under or layout:
            fig = go.Figure(data=[*(under or []), *fig.data, *(extra or [])], layout=fig.layout, frames=fig.frames)
            for name, value in (layout or {}).items():
                fig.update_layout({name: value})
        select = dict(on_select=on_click, selection_mode="points") if on_click else {}
        return st.plotly_chart(fig, width="stretch", config=config, key=key, **select)
    # what st.plotly_chart sends; with extra traces, the figure's own traces as one string
    spec = _with_base(fig, extra or [], under or []) if extra or under else _figure_json(fig)
    extra = {"config": config, **({"la_clicks": True} if on_click else {}),
             **({"la_relayout": True} if on_relayout else {}), **({"la_layout": layout} if layout else {})}
    spec = spec[:-1] + ", " + pio.json.to_json_plotly(extra)[1:]
    events = {**({"on_select_change": on_click} if on_click else {}),
              **({"on_relayout_change": on_relayout} if on_relayout else {})}
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


def relayout_event(key: str) -> dict | None:
    """The last zoom, pan or reset of the chart with this key, as Plotly's relayout data
    (``{"xaxis.range[0]": a, ...}`` or ``{"xaxis.autorange": True, ...}``), or None."""
    event = st.session_state.get(key)
    value = event.get("relayout") if isinstance(event, dict) else None
    return value if isinstance(value, dict) else None


def cached_figure(build, *args, **kwargs):
    """``build(*args, **kwargs)``, built once per distinct arguments and kept for the server's life.

    For figures with many precomputed animation frames (Plotly spends Python time on every frame
    trace it builds): a slider that does not change their inputs then reruns without rebuilding them. Arguments must be hashable by Streamlit (numbers, strings, arrays). The
    figure is shared between sessions, so callers must not modify it.

    A Plotly figure's JSON is kept with it, so :func:`chart` does not serialise it again on every
    rerun: encoding a long animation costs more than the rest of a typical press.
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


def _split(fig) -> tuple[str, str]:
    """The JSON of ``fig``'s data array and of the rest of the figure."""
    d = json.loads(_figure_json(fig))
    return json.dumps(d.pop("data", []), separators=(",", ":")), json.dumps(d, separators=(",", ":"))


def _with_traces(fig, extra: list[dict], under: list[dict] = ()) -> str:
    """The JSON of the whole figure ``fig`` with the trace dicts ``under`` before its data and ``extra``
    after: what the chart component draws once it has put :func:`_with_base`'s string back in place."""
    data, rest = _split(fig)
    traces = [pio.json.to_json_plotly(list(t))[1:-1] for t in (under, extra)]
    items = ",".join(p for p in (traces[0], data[1:-1], traces[1]) if p)
    return '{"data":[' + items + "]" + ("," + rest[1:] if rest != "{}" else "}")


def _with_base(fig, extra: list[dict], under: list[dict]) -> str:
    """:func:`_with_traces` as the chart component gets it: the figure's own traces travel as one JSON
    string with a hash (``la_base``), which ui/plotly_live.js parses only when the hash is new. When a
    press changes only the marks of a kept figure, the browser then keeps its parsed points, and Plotly,
    given the same trace objects, does not compute them again (the PCA page's 100,000 sampled points)."""
    base = getattr(fig, "_la_base", None)
    if base is None:
        data, rest = _split(fig)
        base = (hashlib.md5(data.encode()).hexdigest(), json.dumps(data), rest)
        if hasattr(fig, "_la_json"):
            fig._la_base = base                               # kept with the cached figure
    digest, literal, rest = base
    traces = pio.json.to_json_plotly([*under, *extra])
    head = '{"data":' + traces + ',"la_base":{"hash":"' + digest + f'","at":{len(under)},"json":' + literal + "}"
    return head + ("," + rest[1:] if rest != "{}" else "}")


def _figure_json(fig) -> str:
    """The figure's JSON: kept for figures from :func:`cached_figure`, serialised otherwise."""
    return getattr(fig, "_la_json", None) or pio.to_json(fig, validate=False)
