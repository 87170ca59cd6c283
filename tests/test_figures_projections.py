"""Figure helpers behind the Projections page: numbers shown as people read them, arrows without a
stray head, titles that fit a narrow chart."""
import math

import numpy as np
import pytest

from figures import projections as fp
from figures.common import arrow, figure, num, tidy


def test_tidy_snaps_round_off_and_negative_zero():
    assert tidy(math.cos(math.radians(90))) == 0.0                     # 6.1e-17
    assert math.copysign(1.0, tidy(-0.0)) == 1.0
    assert math.copysign(1.0, tidy(-1e-17)) == 1.0
    assert tidy(1e-10) == 1e-10                                        # above 1e-12 · scale: kept
    assert tidy(1e-10, scale=1e3) == 0.0
    v = tidy(2 * np.array([np.cos(np.radians(270)), np.sin(np.radians(270))]), 2.0)
    np.testing.assert_array_equal(v, [0.0, -2.0])
    assert not np.signbit(v[0])
    assert np.isnan(tidy(np.nan))


@pytest.mark.parametrize("value, spec, scale, shown", [
    (math.cos(math.radians(270)), "+.3f", 1.0, "0.000"),              # −1.8e-16
    (-0.0004, ".3f", 1.0, "0.000"),                                    # rounds to a signed zero
    (-0.0, ".3g", 1.0, "0"),
    (1.22e-16, ".3g", 2.0, "0"),
    (3e-13, ".2g", 1.0, "0"),
    (-0.5, "+.3f", 1.0, "-0.500"),
    (0.5, "+.3f", 1.0, "+0.500"),
    (-0.0, ".1%", 1.0, "0.0%"),
    (1e-9, ".2g", 1.0, "1e-09"),
])
def test_num(value, spec, scale, shown):
    assert num(value, spec, scale) == shown


def test_zero_length_arrow_has_no_head():
    tr = figure([arrow([1, 2], [1, 2 + 1e-15], "#123456", "p")], {}).data[0]
    assert tr.mode == "lines"
    tr = figure([arrow([0, 0], [1e-9, 0], "#123456", "p")], {}).data[0]
    assert tr.mode == "lines+markers" and list(tr.marker.symbol) == ["circle", "arrow"]


def test_projection_coords_leave_a_zero_projection_undrawn():
    x, u = np.array([0.0, 2.0]), np.array([1.5, 0.0])
    line, ua, xa, pa, res, corner = fp.projection_coords(x, u, np.zeros(2))
    assert np.isnan(pa[0]).all() and np.isnan(pa[1]).all()
    np.testing.assert_array_equal(xa[1], [0.0, 2.0])
    np.testing.assert_array_equal(res[1], [0.0, 2.0])


@pytest.mark.parametrize("det, rank", [(1.5, 2), (-3.96, 2), (-12.5, 2), (0.0, 1), (0.0, 0)])
def test_grid_titles_fit_a_narrow_chart(det, rank):
    """About 6.7 px a character at the title's font: 40 characters fit a 280 px chart (the grid chart at
    900 px with the sidebar); the browser test measures the real width."""
    title = fp.grid_title(det, rank)
    assert len(title) <= 40, title
    assert ("flipped" in title) == (det < 0 and rank == 2)
    assert f"rank {rank}" in title if rank < 2 else f"det = {num(det)}" in title
