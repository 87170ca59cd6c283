"""la_core.density: every row counted, equal to numpy.histogram2d (transposed), on edges and outside the
range alike; the torch kernel equals the NumPy one; rebinning on Plotly relayout events."""
from __future__ import annotations


import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from la_core import density as ld


def _reference(xy, bins, x_range, y_range):
    bx, by = (bins, bins) if isinstance(bins, int) else bins
    return np.histogram2d(xy[:, 0], xy[:, 1], bins=(bx, by), range=(x_range, y_range))[0].T


def test_default_range_counts_every_row_like_numpy():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(20_000, 2)).astype(np.float32)
    d = ld.density_2d(xy, bins=50)
    ref, ex, ey = np.histogram2d(xy[:, 0], xy[:, 1], bins=50)
    np.testing.assert_array_equal(d.counts, ref.T)
    np.testing.assert_array_equal(d.x_edges, ex)
    np.testing.assert_array_equal(d.y_edges, ey)
    assert d.counts.dtype == np.int64 and d.counts.shape == (50, 50)
    assert d.n_in_view == d.n_total == 20_000 == int(d.counts.sum())


def test_a_given_range_counts_the_rows_inside_and_rectangular_bins_are_y_by_x():
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(30_000, 2)) * (1.0, 3.0)
    d = ld.density_2d(xy, (-0.5, 1.5), (-2.0, 4.0), bins=(40, 7))
    assert d.counts.shape == (7, 40)
    np.testing.assert_array_equal(d.counts, _reference(xy, (40, 7), (-0.5, 1.5), (-2.0, 4.0)))
    inside = (xy[:, 0] >= -0.5) & (xy[:, 0] <= 1.5) & (xy[:, 1] >= -2.0) & (xy[:, 1] <= 4.0)
    assert d.n_in_view == int(inside.sum()) and d.n_total == 30_000
    assert d.x_range == (-0.5, 1.5) and d.y_range == (-2.0, 4.0)
    np.testing.assert_allclose(d.x_centers, (d.x_edges[1:] + d.x_edges[:-1]) / 2)
    assert d.y_centers.shape == (7,)


def test_points_on_edges_go_where_numpy_puts_them():
    edges = np.linspace(-1, 1, 11)
    x = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
    xy = np.stack([x, x[::-1]], axis=1)
    d = ld.density_2d(xy, (-1, 1), (-1, 1), bins=10)
    np.testing.assert_array_equal(d.counts, _reference(xy, 10, (-1, 1), (-1, 1)))
    assert d.counts[-1, -1] >= 1 or d.counts.sum() > 0        # the last edge counts in the last bin


def test_one_value_is_widened_as_numpy_does():
    xy = np.full((5, 2), 3.0)
    d = ld.density_2d(xy, bins=4)
    assert d.x_range == (2.5, 3.5) and d.n_in_view == 5
    np.testing.assert_array_equal(d.counts, np.histogram2d(xy[:, 0], xy[:, 1], bins=4)[0].T)


def test_the_torch_kernel_equals_the_numpy_kernel():
    rng = np.random.default_rng(2)
    xy = rng.normal(size=(50_000, 2)).astype(np.float32)
    ex, ey = np.linspace(-2, 1, 61), np.linspace(-1, 3, 33)
    np.testing.assert_array_equal(ld._counts_torch(xy, ex, ey, torch.device("cpu")), ld._counts_numpy(xy, ex, ey))


@settings(max_examples=80, deadline=None)
@given(xy=hnp.arrays(np.float64, st.tuples(st.integers(1, 300), st.just(2)),
                     elements=st.one_of(st.floats(-100, 100, allow_nan=False),
                                        st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0]))),
       bins=st.one_of(st.integers(1, 30), st.tuples(st.integers(1, 30), st.integers(1, 30))),
       lo=st.floats(-50, 50), width=st.floats(1e-3, 200), use_range=st.booleans())
def test_property_every_row_in_range_is_counted_once_as_numpy_counts_it(xy, bins, lo, width, use_range):
    x_range = (lo, lo + width) if use_range else None
    y_range = (lo / 2, lo / 2 + width) if use_range else None
    d = ld.density_2d(xy, x_range, y_range, bins=bins)
    ref = _reference(xy, bins, d.x_range, d.y_range)
    np.testing.assert_array_equal(d.counts, ref)
    (xl, xh), (yl, yh) = d.x_range, d.y_range
    inside = (xy[:, 0] >= xl) & (xy[:, 0] <= xh) & (xy[:, 1] >= yl) & (xy[:, 1] <= yh)
    assert d.n_in_view == int(d.counts.sum()) == int(inside.sum())
    if not use_range:
        assert d.n_in_view == len(xy)


def test_a_million_rows_are_all_counted():
    """Every one of a million rows lands in the grid (speed is measured in bench/bench_texts.py, not here)."""
    rng = np.random.default_rng(3)
    xy = rng.normal(size=(1_000_000, 2)).astype(np.float32)
    d = ld.density_2d(xy, bins=200)
    assert d.n_in_view == 1_000_000 and int(d.counts.sum()) == 1_000_000


def test_rebin_counts_the_zoomed_view_with_the_same_bins():
    rng = np.random.default_rng(4)
    xy = rng.normal(size=(10_000, 2))
    full = ld.density_2d(xy, bins=(30, 20))
    zoom = ld.rebin(xy, full, {"xaxis.range[0]": 1.0, "xaxis.range[1]": -0.5})
    assert zoom.x_range == (-0.5, 1.0) and zoom.y_range == full.y_range and zoom.counts.shape == (20, 30)
    np.testing.assert_array_equal(zoom.counts, _reference(xy, (30, 20), (-0.5, 1.0), full.y_range))
    both = ld.rebin(xy, zoom, {"yaxis.range": [0.0, 1.0], "xaxis.range": [0.0, 0.5]})
    assert both.x_range == (0.0, 0.5) and both.y_range == (0.0, 1.0)
    reset = ld.rebin(xy, both, {"xaxis.autorange": True, "yaxis.autorange": True})
    np.testing.assert_array_equal(reset.counts, full.counts)
    assert ld.rebin(xy, both, {"dragmode": "pan"}) is both
    assert ld.rebin(xy, both, {"yaxis.autorange": True}).x_range == (0.0, 0.5)


def test_view_from_relayout():
    assert ld.view_from_relayout({"xaxis.range[0]": 2, "xaxis.range[1]": 3}, (0, 1), None) == ((2.0, 3.0), None)
    assert ld.view_from_relayout({"xaxis.autorange": True}, (0, 1), (4, 5)) == (None, (4, 5))
    assert ld.view_from_relayout({}, (0, 1), (4, 5)) == ((0, 1), (4, 5))
    with pytest.raises(ValueError, match="relayout data"):
        ld.view_from_relayout([("xaxis.range", (0, 1))], None, None)
    with pytest.raises(ValueError, match="xaxis.range in the relayout event must be two numbers"):
        ld.view_from_relayout({"xaxis.range": [1]}, None, None)
    with pytest.raises(ValueError, match=r"yaxis.range\[0\] must be finite"):
        ld.view_from_relayout({"yaxis.range": [float("nan"), 1]}, None, None)


@pytest.mark.parametrize("kw, message", [
    (dict(xy=np.zeros((3, 3))), "xy must have 2 columns"),
    (dict(xy=np.zeros(4)), "xy must be 2-D"),
    (dict(xy=np.zeros((0, 2))), "at least 1 row"),
    (dict(xy=[[0.0, np.nan]]), "NaN or infinite"),
    (dict(xy=[["a", "b"]]), "numeric matrix"),
    (dict(xy=np.zeros((3, 2)), x_range=(1, 1)), r"x_range must be \(low, high\) with low < high"),
    (dict(xy=np.zeros((3, 2)), y_range=(2, 1)), "low < high"),
    (dict(xy=np.zeros((3, 2)), x_range=(-1e308, 1e308)), "finite width"),
    (dict(xy=[[-1e308, 0], [1e308, 1]]), "x_range must be .* a finite width"),
    (dict(xy=np.zeros((3, 2)), x_range=5), r"x_range must be \(low, high\) or None"),
    (dict(xy=np.zeros((3, 2)), x_range=(0, "a")), r"x_range\[1\] must be a number"),
    (dict(xy=np.zeros((3, 2)), bins=0), "bins must be at least 1"),
    (dict(xy=np.zeros((3, 2)), bins=2001), "bins must be at most 2000"),
    (dict(xy=np.zeros((3, 2)), bins=10.0), "bins must be an integer"),
    (dict(xy=np.zeros((3, 2)), bins=(3, 4, 5)), r"bins must be an integer or \(bins_x, bins_y\)"),
    (dict(xy=np.zeros((3, 2)), device="tpu9"), "device must be a torch device"),
])
def test_bad_input_is_refused_with_a_message(kw, message):
    with pytest.raises(ValueError, match=message):
        ld.density_2d(**kw)


def test_rebin_refuses_what_is_not_a_density():
    with pytest.raises(ValueError, match="density must be a Density"):
        ld.rebin(np.zeros((3, 2)), (np.zeros((2, 2)),), {})


@pytest.mark.parametrize("device_kernel", ["numpy", "torch"])
def test_bins_a_few_float32_steps_wide_are_found_by_search(device_kernel):
    """float32 data over a range of a few float32 steps: numpy spaces the edges in float32, several of them
    equal; rows on a repeated edge go past all its copies."""
    xy = np.array([[1.0, 1.0], [np.nextafter(np.float32(1), np.float32(2)), 1.0], [1.0, 2.0]], dtype=np.float32)
    ref, ex, ey = np.histogram2d(xy[:, 0], xy[:, 1], bins=30)
    assert (np.diff(ex) == 0).any()
    if device_kernel == "numpy":
        d = ld.density_2d(xy, bins=30)
        np.testing.assert_array_equal(d.counts, ref.T)
    else:
        got = ld._counts_torch(xy, ex.astype(np.float64), ey.astype(np.float64), torch.device("cpu"))
        np.testing.assert_array_equal(got, ref.T)


def _steps_apart(base, steps) -> np.ndarray:
    """(n, 2) float32 points whose coordinates lie a few float32 steps apart (x rising, y falling)."""
    col = [np.float32(base)]
    for s in steps:
        v = col[-1]
        for _ in range(s % 4):
            v = np.nextafter(v, np.float32(np.inf))
        col.append(v)
    x = np.array(col, dtype=np.float32)
    return np.stack([x, x[::-1]], axis=1)


@settings(max_examples=60, deadline=None)
@given(base=st.floats(-1e4, 1e4, width=32), steps=st.lists(st.integers(0, 40), min_size=1, max_size=50),
       bins=st.integers(1, 60))
def test_property_float32_data_over_tiny_ranges_equals_numpy(base, steps, bins):
    xy = _steps_apart(base, steps)
    d = ld.density_2d(xy, bins=bins)
    np.testing.assert_array_equal(d.counts, np.histogram2d(xy[:, 0], xy[:, 1], bins=bins)[0].T)
    assert d.n_in_view == len(xy)


def test_subnormal_data_a_few_steps_apart_equals_numpy():
    """Among subnormals a float32 step is fixed (1.4e-45), not relative: bins a few steps wide must
    be found by search there too (a random case of this kind failed before)."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        xy = _steps_apart(rng.choice([0.0, 1e-38, -1e-40, 1.0, -3e3]), rng.integers(0, 41, size=rng.integers(1, 51)))
        bins = int(rng.integers(1, 61))
        d = ld.density_2d(xy, bins=bins)
        np.testing.assert_array_equal(d.counts, np.histogram2d(xy[:, 0], xy[:, 1], bins=bins)[0].T)
