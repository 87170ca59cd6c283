"""pages._shared.cached_figure: one build per distinct arguments, separate entries per builder."""
import numpy as np

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
