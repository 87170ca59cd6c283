"""The Geometry page in Chromium: keyboard on the sliders rotates q, moves the norm balls and
changes the dimension; the shape checker shows torch's message; screenshots for a look."""

import numpy as np
import pytest

from tests.e2e.browser_utils import EXCEPTION, chart_data, open_page, press_slider, screenshot, wait_idle, floats as values

pytestmark = pytest.mark.e2e

PAIR, ANIM, SCORES, OFFSET, SPEEDS, BALLS, HIST, CONTRAST = range(8)




def press(page, name, key="ArrowRight", times=1):
    """One key press per rerun (a quick burst can be lost while a fragment reruns)."""
    for _ in range(times):
        press_slider(page, name, key, 1)
        page.wait_for_timeout(700)
        wait_idle(page)


def submit(page, label, text):
    box = page.get_by_role("textbox", name=label)
    box.fill(text)
    box.press("Enter")
    page.wait_for_timeout(1000)
    wait_idle(page)


def trace(page, chart, prefix):
    return next(t for t in chart_data(page, chart) if str(t.get("name", "")).startswith(prefix))


def tip(t):
    return np.array([values(t["x"])[-1], values(t["y"])[-1]])


def test_rope_position_slider_rotates_q(page, server):
    open_page(page, server, "geometry", wait_charts=8)
    assert page.locator("h1").first.inner_text().startswith("Geometry")
    before = tip(trace(page, PAIR, "q at m"))
    q0 = tip(trace(page, PAIR, "q at position 0"))
    press(page, "Query position m", "ArrowRight", 2)     # m: 3 -> 5
    after = tip(trace(page, PAIR, "q at m"))
    for _ in range(20):                                  # the chart may update a moment after the rerun
        if not np.allclose(before, after):
            break
        page.wait_for_timeout(500)
        after = tip(trace(page, PAIR, "q at m"))
    assert not np.allclose(before, after)
    m = int(trace(page, PAIR, "q at m")["name"].split("= ")[1])
    assert m > 3
    c, s = np.cos(m * 1.0), np.sin(m * 1.0)   # pair 0 turns 1 rad per position
    np.testing.assert_allclose(after, [c * q0[0] - s * q0[1], s * q0[0] + c * q0[1]], atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(after), np.linalg.norm(q0), rtol=1e-4)
    screenshot(page, "geometry-default")


def test_norm_and_dimension_sliders(page, server):
    open_page(page, server, "geometry", wait_charts=8)
    l1_before = trace(page, BALLS, "L1")["name"]
    press(page, "v, x coordinate", "ArrowRight", 5)     # 1.5 -> 2.0
    l1_after = trace(page, BALLS, "L1")["name"]
    assert l1_before != l1_after and "= 2.800" in l1_after       # |2.0| + |0.8|
    page.get_by_text("2. Norms: three ways to measure length").first.scroll_into_view_if_needed()
    screenshot(page, "geometry-norms")
    cos_before = np.std(values(chart_data(page, HIST)[1]["x"]))
    press(page, "Dimension d (log steps)", "ArrowRight", 6)   # 64 -> 4096
    cos_after = np.std(values(chart_data(page, HIST)[1]["x"]))
    assert cos_after < cos_before / 4
    assert cos_after == pytest.approx(1 / 64, rel=0.2)
    screenshot(page, "geometry-highdim")


def test_shape_checker_shows_torch_error_and_bad_text(page, server):
    open_page(page, server, "geometry", wait_charts=8)
    submit(page, "Shape of b", "8, 64")
    assert page.get_by_text("mat1 and mat2 shapes cannot be multiplied (8x64 and 8x64)").count() >= 1
    submit(page, "Shape of a", "4 x 768")
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_text("is not a shape").count() >= 1
    screenshot(page, "geometry-shapes")
