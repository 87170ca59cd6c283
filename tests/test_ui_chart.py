"""ui.chart: cached and kept figures (one build per distinct arguments or key, JSON encoded once) and the
in-place chart component, with st.plotly_chart as its fallback."""
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from ui.chart import cached_figure

CALLS = []


def square(a, scale=1.0):
    CALLS.append(("square", float(a.sum()), scale))
    return {"value": a * a * scale}


def cube(a, scale=1.0):
    CALLS.append(("cube", float(a.sum()), scale))
    return {"value": a * a * a * scale}


def test_same_arguments_build_once_and_share_the_result():
    CALLS.clear()
    a = np.arange(3.0)
    first = cached_figure(square, a, scale=2.0)
    again = cached_figure(square, a.copy(), scale=2.0)          # equal content, another array
    assert again is first and CALLS == [("square", 3.0, 2.0)]
    np.testing.assert_array_equal(first["value"], [0.0, 2.0, 8.0])


def test_other_arguments_or_builder_build_again():
    CALLS.clear()
    a = np.arange(3.0)
    cached_figure(square, a, scale=3.0)
    cached_figure(square, a + 1, scale=3.0)
    out = cached_figure(cube, a, scale=3.0)                       # same arguments, other builder
    assert [c[0] for c in CALLS] == ["square", "square", "cube"]
    np.testing.assert_array_equal(out["value"], [0.0, 3.0, 24.0])


def animation(n):
    CALLS.append(("animation", n, 1.0))
    x = np.linspace(0, 1, 5, dtype=np.float32)
    return go.Figure(go.Scatter(x=x, y=x), frames=[go.Frame(data=[go.Scatter(x=x, y=x * k)]) for k in range(n)])


def test_a_cached_figure_is_serialised_once(monkeypatch):
    """chart() sends a cached figure's JSON kept from its first use, not a new encoding per rerun."""
    import ui.chart as ui_chart

    CALLS.clear()
    first = cached_figure(animation, 4)
    expected = pio.to_json(first, validate=False)
    encoded = []
    real = pio.to_json
    monkeypatch.setattr(ui_chart.pio, "to_json", lambda *a, **k: encoded.append(1) or real(*a, **k))
    for _ in range(3):
        fig = cached_figure(animation, 4)
        assert fig is first and ui_chart._figure_json(fig) == expected
    assert CALLS == [("animation", 4, 1.0)] and encoded == []           # built and encoded once
    other = animation(2)                                                 # not cached: encoded each time
    ui_chart._figure_json(other), ui_chart._figure_json(other)
    assert len(encoded) == 2


# ------------------------------------------------------------------ chart(): the in-place chart component
def _chart_script():
    import numpy as np
    import plotly.graph_objects as go
    import streamlit as st

    from ui import runtime
    from ui.chart import chart

    runtime.setup()                                                        # as app.py does
    x = np.linspace(0, 1, 5, dtype=np.float32)
    fig = go.Figure(go.Scatter(x=x, y=x * st.slider("k", 1, 5, 2)))
    chart(fig, key="live")
    chart(fig, key="select", on_click=lambda: None)                        # click events
    chart(fig)                                                             # no key


def test_keyed_charts_use_the_component_and_carry_the_figure():
    from streamlit.testing.v1 import AppTest

    from tests.apptest_utils import chart_json, charts

    at = AppTest.from_function(_chart_script, default_timeout=30).run()
    assert not at.exception
    els = charts(at)
    assert [e.type for e in els] == ["bidi_component", "bidi_component", "plotly_chart"]
    spec = json.loads(chart_json(els[0]))
    assert spec["config"] == {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
    assert "la_clicks" not in spec and json.loads(chart_json(els[1]))["la_clicks"] is True
    native = json.loads(chart_json(els[2]))                                # the figure st.plotly_chart gets
    assert spec["data"] == native["data"] and spec["layout"] == native["layout"]
    first_id = els[0].proto.id
    at.slider[0].set_value(4).run()
    els = charts(at)
    assert els[0].proto.id == first_id                                   # same element: updated in place
    y = np.frombuffer(__import__("base64").b64decode(json.loads(chart_json(els[0]))["data"][0]["y"]["bdata"]),
                      np.float32)
    np.testing.assert_allclose(y, np.linspace(0, 1, 5) * 4, rtol=1e-6)


def _unset_up_script():
    import numpy as np
    import plotly.graph_objects as go

    from ui.chart import chart

    x = np.linspace(0, 1, 5, dtype=np.float32)
    chart(go.Figure(go.Scatter(x=x, y=x)), key="live")
    chart(go.Figure(go.Scatter(x=x, y=x)), key="select", on_click=lambda: None)


def test_without_set_up_keyed_charts_fall_back_to_st_plotly_chart(monkeypatch):
    """A page run without app.py's ui.runtime.setup() (assets not served): every chart is an
    st.plotly_chart, clicks included."""
    from streamlit.testing.v1 import AppTest

    from tests.apptest_utils import charts
    from ui import runtime

    monkeypatch.setattr(runtime, "_assets_served", None)
    at = AppTest.from_function(_unset_up_script, default_timeout=30).run()
    assert not at.exception
    els = charts(at)
    assert [e.type for e in els] == ["plotly_chart", "plotly_chart"]
    assert els[1].proto.selection_mode


# ----------------------------------------------------------------------------- kept figures + extra traces
from figures import pca as fp  # noqa: E402
from ui.chart import _figure_json, _with_traces, kept_figure  # noqa: E402
from tests.e2e.browser_utils import _plain  # noqa: E402


def _decoded(spec: str) -> dict:
    """A figure's JSON with Plotly's binary arrays as lists and numbers as float32 (the browser's view)."""
    def norm(v):
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        if isinstance(v, list):
            return [norm(x) for x in v]
        return float(np.float32(v)) if isinstance(v, float) else v
    return norm(_plain(json.loads(spec)))


def test_extra_traces_on_a_kept_figure_are_the_whole_figure():
    """chart(kept, extra=...) sends what the whole figure would: the points' JSON as kept, then the
    highlight traces, in the order scatter() draws them."""
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(40, 2)).astype(np.float32)
    labels = np.array([f"w{i}" for i in range(40)])
    cats = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, 40)]
    kw = dict(labels=labels, color=cats, color_name="category", title="t", index=np.arange(100, 140))
    full = fp.scatter(xy, selected=3, neighbors=[5, 7, 9], **kw)
    kept = kept_figure(("test", 1), fp.scatter_points, xy, **kw)
    marks = fp.highlight_traces(xy, labels, selected=3, neighbors=[5, 7, 9], index=kw["index"])
    spec = _with_traces(kept, marks)
    assert _decoded(spec) == _decoded(pio.to_json(full, validate=False))
    assert _decoded(_with_traces(kept, marks[:1]))["data"][-1]["name"] == "nearest neighbours"
    again = kept_figure(("test", 1), fp.scatter_points, xy * 0, **kw)     # same key: kept, not rebuilt
    assert again is kept and _figure_json(again) == _figure_json(kept)


def test_extra_traces_on_an_empty_figure():
    fig = go.Figure(layout=dict(title=dict(text="empty")))
    out = json.loads(_with_traces(fig, [dict(type="scatter", x=[1.0], y=[2.0])]))
    assert out["data"] == [{"type": "scatter", "x": [1.0], "y": [2.0]}]
    assert out["layout"]["title"]["text"] == "empty"


def test_traces_under_a_kept_figure_come_first_and_its_json_is_not_rebuilt():
    """chart(kept, under=[heatmap], extra=marks): the heatmap, then the kept points, then the marks —
    what figures.density.with_density draws — with no trace of the kept figure encoded again."""
    from figures.density import density_overlay, with_density
    from la_core.density import density_2d

    rng = np.random.default_rng(1)
    xy = rng.normal(size=(300, 2)).astype(np.float32)
    kept = kept_figure(("test-under", 1), fp.scatter_points, xy, title="t", index=np.arange(300))
    d = density_2d(xy, bins=20)
    heat, patch = density_overlay(d.counts, d.x_edges, d.y_edges, "t", kept.layout.margin.b, d.n_in_view, d.n_total)
    marks = fp.highlight_traces(xy, None, selected=3, neighbors=[5, 7], index=np.arange(300))
    spec = _decoded(_with_traces(kept, marks, [heat]))
    full = with_density(kept, d.counts, d.x_edges, d.y_edges, d.n_in_view, d.n_total).add_traces(marks)
    want = _decoded(pio.to_json(full, validate=False))
    assert spec["data"][1:] == want["data"][1:]
    got, ref = spec["data"][0], want["data"][0]           # the heatmap: as sent (colour scale by name, gaps null)
    assert got["type"] == "heatmap" and got["colorscale"] == "Blues"
    assert all(got[k] == ref[k] for k in ("x0", "dx", "y0", "dy", "customdata", "zmin", "zmax", "colorbar"))
    np.testing.assert_array_equal(np.array(got["z"], dtype=float), np.array(ref["z"], dtype=float))
    for name, value in patch.items():          # the layout changes, merged as ui/plotly_live.js does
        spec["layout"][name] = {**spec["layout"].get(name, {}), **value}
    assert spec["layout"]["title"] == want["layout"]["title"] and spec["layout"]["margin"] == want["layout"]["margin"]
    assert _decoded(_with_traces(go.Figure(), [], [heat]))["data"][0]["type"] == "heatmap"   # under an empty figure


def test_a_kept_figure_travels_as_one_string_with_a_hash():
    """The component's spec for a kept figure with marks: the kept traces as one JSON string under a hash
    that names their content, the marks and the heatmap as traces; put back together (as
    ui/plotly_live.js and tests.apptest_utils do) it is the whole figure."""
    from ui.chart import _with_base
    from tests.apptest_utils import _patched

    rng = np.random.default_rng(2)
    xy = rng.normal(size=(50, 2)).astype(np.float32)
    kept = kept_figure(("test-base", 1), fp.scatter_points, xy, title="t", index=np.arange(50))
    marks = fp.highlight_traces(xy, None, selected=1, neighbors=[2, 3], index=np.arange(50))
    heat = dict(type="heatmap", z=[[1.0, 2.0]], name="every row")
    raw = json.loads(_with_base(kept, marks, [heat]))
    assert raw["la_base"]["at"] == 1 and [t["name"] for t in raw["data"]] == ["every row", "nearest neighbours", "selected"]
    assert _decoded(json.dumps(_patched(json.loads(json.dumps(raw))))) == _decoded(_with_traces(kept, marks, [heat]))
    again = json.loads(_with_base(kept, marks[:1], []))           # other marks: the same string and hash
    assert again["la_base"] == {**raw["la_base"], "at": 0}
    other = kept_figure(("test-base", 2), fp.scatter_points, xy * 2, title="t", index=np.arange(50))
    assert json.loads(_with_base(other, marks, []))["la_base"]["hash"] != raw["la_base"]["hash"]


# ----------------------------------------------------------------------------- light and dark themes
def test_the_component_can_fetch_the_template_of_either_theme():
    """ui/plotly_live.js picks plotly_template.json or plotly_template_dark.json by the page's theme:
    both must be among the assets ui.runtime serves, with the light and the dark background."""
    import re
    from pathlib import Path

    from ui import runtime

    js = (Path(runtime.__file__).with_name("plotly_live.js")).read_text()
    names = dict(re.findall(r'(light|dark): "(plotly_template[\w]*\.json)"', js))
    assert set(names) == {"light", "dark"}
    served = {p.name: p for p in runtime.CHART_ASSETS}
    backgrounds = {theme: json.loads(served[name].read_text())["layout"]["paper_bgcolor"].lower()
                   for theme, name in names.items()}
    assert backgrounds["light"] == "#ffffff" and backgrounds["dark"] != "#ffffff"


def test_the_app_offers_light_dark_and_the_system_choice():
    """No fixed base theme: Streamlit then offers System (the default), Light and Dark in the main menu,
    which the toolbar must show ("minimal" hides the whole menu); the primary colour is kept in both."""
    import tomllib
    from pathlib import Path

    from tests.conftest import ROOT

    cfg = tomllib.loads((Path(ROOT) / ".streamlit" / "config.toml").read_text())
    theme = cfg["theme"]
    assert "base" not in theme
    assert theme["light"]["primaryColor"] == theme["dark"]["primaryColor"] == theme["primaryColor"]
    assert cfg["client"]["toolbarMode"] in ("viewer", "auto", "developer")
