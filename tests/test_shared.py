"""pages._shared.cached_figure: one build per distinct arguments, separate entries per builder."""
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from pages._shared import cached_figure

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


def test_a_figure_served_again_is_the_same_figure_with_encoded_arrays():
    CALLS.clear()
    first = cached_figure(animation, 4)
    first_json = json.loads(pio.to_json(first, validate=False))
    assert isinstance(first.frames[2].data[0].y, np.ndarray)            # first use: as built
    again = cached_figure(animation, 4)
    assert CALLS == [("animation", 4, 1.0)]                              # built once
    assert json.loads(pio.to_json(again, validate=False)) == first_json  # the same figure
    assert set(again.frames[2].data[0].y) == {"dtype", "bdata"}          # arrays now pre-encoded
    assert cached_figure(animation, 4) is again                          # copied once
