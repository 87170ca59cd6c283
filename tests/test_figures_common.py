"""figures.common: the common layout (style, layout), subplot grids checked against make_subplots,
arrows, heatmaps and the frame encoding, on what the figures show."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from figures.common import FONT, GRID_COLOR, ZERO_COLOR, style


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
def test_style_titles_the_chart_and_every_axis(make):
    fig = style(make(), title="T", x_title="x", y_title="y", height=300)
    lay = fig.layout
    assert lay.title.text == "T" and lay.title.x == 0.01 and lay.title.xanchor == "left"
    assert lay.height == 300 and lay.font.family == FONT["family"] and lay.font.size == FONT["size"]
    assert lay.margin.t == 50
    assert lay.plot_bgcolor is None and lay.paper_bgcolor is None        # the theme's template gives them
    assert lay.legend.orientation == "h" and lay.legend.y == 1.0
    xs, ys = list(fig.select_xaxes()), list(fig.select_yaxes())
    assert len(xs) == len(ys) == (1 if make is single else 4)
    for ax, text in [(ax, "x") for ax in xs] + [(ax, "y") for ax in ys]:
        assert ax.title.text == text and ax.showgrid and ax.gridcolor == GRID_COLOR
        assert ax.zeroline and ax.zerolinecolor == ZERO_COLOR
    assert lay.yaxis.scaleanchor is None                                 # free aspect unless asked


@pytest.mark.parametrize("make", [single, grid])
def test_style_without_title_drops_the_old_one_and_equal_axes_lock_the_aspect(make):
    fig = style(make(), x_title="only x", equal_axes=True)
    lay = fig.layout
    assert lay.title.text is None and lay.margin.t == 20 and lay.height == 420
    assert lay.xaxis.title.text == "only x" and lay.yaxis.title.text is None
    assert lay.yaxis.scaleanchor == "x" and lay.yaxis.scaleratio == 1
    assert lay.xaxis.constrain == lay.yaxis.constrain == "domain"


# ----------------------------------------------------------------------------- one-step figures
from figures.common import arrow, figure, layout as common_layout, subplots  # noqa: E402


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


def test_arrow_is_a_line_with_a_head_at_its_end():
    fig = figure([arrow([0, 0], [1, 2], "#123456", "v", dash="dot", showlegend=False, xaxis="x2", yaxis="y2")], {})
    tr = fig.data[0]
    assert tr.type == "scatter" and tr.mode == "lines+markers" and tr.name == "v"
    assert list(tr.x) == [0, 1] and list(tr.y) == [0, 2]
    assert list(tr.marker.symbol) == ["circle", "arrow"] and list(tr.marker.size) == [1, 14]
    assert tr.marker.angleref == "previous"                             # the head points along the line
    assert tr.line.color == tr.marker.color == "#123456" and tr.line.dash == "dot" and tr.line.width == 3
    assert tr.showlegend is False and tr.xaxis == "x2" and tr.yaxis == "y2"


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


@pytest.mark.parametrize("height, gap", [(340, 56), (600, 90), (470, 56)])
def test_colorbar_below_sits_a_fixed_distance_under_the_plot(height, gap):
    """The bar's title starts ``gap`` px under the plot area whatever the chart's height (a fraction of the
    plot's height ran into the x-axis title once the plot filled its box), and the bottom margin holds it."""
    from figures.common import colorbar_below, layout

    lay = layout("t", "key j", "query i", height=height)
    bar = colorbar_below(lay, "weight", gap)
    plot_h = lay["height"] - lay["margin"]["t"] - lay["margin"]["b"]
    assert bar["yanchor"] == "top" and bar["orientation"] == "h" and bar["title"]["text"] == "weight"
    assert -bar["y"] * plot_h == pytest.approx(gap + 20)                     # the bar under its 20 px title
    assert lay["margin"]["b"] >= gap + 20 + bar["thickness"] + 20            # and its tick labels under it
