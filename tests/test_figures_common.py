"""figures.common.style sets the same layout as Plotly's update_layout / update_xaxes calls it
replaced (they take about three times as long)."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from figures.common import FONT, style


def reference(fig, title=None, x_title=None, y_title=None, height=420, equal_axes=False):
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left") if title else None,
        height=height, font=FONT, margin=dict(l=55, r=20, t=50 if title else 20, b=50),
        plot_bgcolor="white", paper_bgcolor="white",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0))
    fig.update_xaxes(title_text=x_title, showgrid=True, gridcolor="#eee", zeroline=True, zerolinecolor="#bbb")
    fig.update_yaxes(title_text=y_title, showgrid=True, gridcolor="#eee", zeroline=True, zerolinecolor="#bbb")
    if equal_axes:
        fig.update_xaxes(constrain="domain")
        fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def layout(fig):
    lay = fig.to_plotly_json()["layout"]
    lay.pop("template", None)
    if not lay.get("title"):
        lay.pop("title", None)          # {} and absent both mean "no title"
    return lay


def single():
    return go.Figure(go.Scatter(x=np.arange(3.0), y=np.arange(3.0)), layout=dict(title="old title"))


def grid():
    fig = make_subplots(rows=2, cols=2)
    fig.add_scatter(x=[0, 1], y=[1, 0], row=2, col=2)
    return fig


@pytest.mark.parametrize("make", [single, grid])
@pytest.mark.parametrize("kw", [dict(), dict(title="T", x_title="x", y_title="y", height=300),
                                dict(x_title="only x", equal_axes=True)])
def test_style_matches_update_layout(make, kw):
    assert layout(style(make(), **kw)) == layout(reference(make(), **kw))


# ----------------------------------------------------------------------------- one-step figures
from figures.common import add_arrow, arrow, figure, layout as common_layout, subplots  # noqa: E402


@pytest.mark.parametrize("kw", [dict(), dict(title="T", x_title="x", y_title="y", height=300),
                                dict(x_title="only x", equal_axes=True)])
def test_layout_dict_is_what_style_sets(kw):
    assert layout(go.Figure(layout=common_layout(**kw))) == layout(style(go.Figure(), **kw))


@pytest.mark.parametrize("kw", [dict(subplot_titles=("left", "", "right", "last")),
                                dict(horizontal_spacing=0.2, vertical_spacing=0.3),
                                dict(specs=[[{"type": "scene"}, {"type": "xy"}], [{"type": "xy"}, {"type": "xy"}]])])
def test_subplots_grid_matches_make_subplots(kw):
    ref = make_subplots(rows=2, cols=2, **kw)
    for _ in range(2):                          # the second call comes from the cache
        lay, refs = subplots(2, 2, **kw)
        fig = go.Figure(layout=lay)
        assert layout(fig) == layout(go.Figure(layout=ref.layout))
        for (r, c), where in refs.items():      # a trace lands where add_trace(row, col) puts it
            kind = "scatter3d" if "scene" in where else "scatter"
            one = make_subplots(rows=2, cols=2, **kw)
            one.add_trace(dict(type=kind, x=[0, 1], y=[1, 0], **({"z": [0, 1]} if kind == "scatter3d" else {})),
                          row=r, col=c)
            mine = dict(type=kind, x=[0, 1], y=[1, 0], **({"z": [0, 1]} if kind == "scatter3d" else {}), **where)
            assert json.loads(go.Figure(mine).data[0].to_json()) == json.loads(one.data[-1].to_json())


def test_subplot_titles_are_filled_in_per_call_and_the_cache_is_not_changed():
    a, _ = subplots(1, 2, subplot_titles=("first", "second"))
    b, _ = subplots(1, 2, subplot_titles=("third", "fourth"))
    assert [x["text"] for x in a["annotations"]] == ["first", "second"]
    assert [x["text"] for x in b["annotations"]] == ["third", "fourth"]
    a["annotations"][0]["text"] = "changed"
    assert subplots(1, 2, subplot_titles=("x", "y"))[0]["annotations"][0]["text"] == "x"


def test_arrow_trace_is_add_arrows():
    old = add_arrow(go.Figure(), [0, 0], [1, 2], "#123456", "v", dash="dot", showlegend=False)
    new = figure([arrow([0, 0], [1, 2], "#123456", "v", dash="dot", showlegend=False)], {})
    assert new.data[0].to_json() == old.data[0].to_json()


def test_heatmap_has_one_trace_and_a_titled_colour_bar():
    from figures.common import heatmap

    fig = heatmap(np.array([[1.0, -2.0], [0.5, 3.0]]), "weight", title="W")
    assert [t.type for t in fig.data] == ["heatmap"]
    assert fig.data[0].colorbar.title.text == "weight"
    assert fig.data[0].zmid == 0 and fig.data[0].zmin == -3 and fig.data[0].zmax == 3   # signed: centred
    assert fig.layout.yaxis.autorange == "reversed"


def test_frames_send_few_point_arrays_as_lists_and_keep_long_ones_float32():
    import plotly.io as pio

    from figures.common import FRAME_LIST_MAX, figure
    from tests.apptest_utils import arr

    tip = np.array([0.0, 0.1234567891, np.nan], np.float32)                  # a few values, one missing
    line = np.linspace(0, 1, FRAME_LIST_MAX + 1, dtype=np.float32)           # longer than the limit
    frames = [dict(data=[dict(type="scatter", x=tip, y=line)], name="0")]
    spec = json.loads(pio.to_json(figure([dict(type="scatter", x=tip, y=line)], {}, frames), validate=False))
    x, y = spec["frames"][0]["data"][0]["x"], spec["frames"][0]["data"][0]["y"]
    assert x == [0.0, 0.1234568, None]                                        # 7 significant digits, NaN → gap
    assert y["dtype"] == "f4" and np.array_equal(arr(y), line)
    assert spec["data"][0]["x"]["dtype"] == "f4"                              # the base traces are untouched
