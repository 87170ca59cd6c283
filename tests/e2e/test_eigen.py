"""The Eigenvectors page in Chromium: keyboard on the sliders moves x, Ax and the matrix; presets; sweep."""
import math

import numpy as np

import pytest

from tests.e2e.browser_utils import (EXCEPTION, chart_data, open_page, press_slider, screenshot, stale_after_press,
                                     wait_idle, floats as values)

from tests.e2e.layout_checks import assert_fits, layout_report

pytestmark = pytest.mark.e2e

ANGLE = "Angle of the test vector x (degrees)"


def trace(page, chart, name, timeout_s: float = 30.0):
    """The trace called ``name`` of the chart-th chart, once Plotly has drawn it (charts mount one by one)."""
    for _ in range(int(timeout_s / 0.25)):
        found = [t for t in chart_data(page, chart) if t.get("name") == name]
        if found:
            return found[0]
        page.wait_for_timeout(250)
    raise AssertionError(f"no trace {name!r} in chart {chart}")




def tip(t):
    return values(t["x"])[-1], values(t["y"])[-1]


def goto(page, server):
    open_page(page, server, "eigenvectors", wait_charts=7)
    assert page.locator("h1").first.inner_text().startswith("Eigenvectors")


def test_angle_slider_finds_the_eigenline(page, server):
    goto(page, server)
    screenshot(page, "eigen-default")
    x0 = tip(trace(page, 0, "x"))
    assert x0[0] == pytest.approx(math.cos(math.radians(20)), abs=1e-3)
    press_slider(page, ANGLE, "ArrowRight", 25)                  # 20° -> 45°, the λ = 2 eigenline (1, 1)
    c45 = math.cos(math.radians(45))

    def settled():
        x, ax = tip(trace(page, 0, "x")), tip(trace(page, 0, "Ax"))
        return (abs(x[0] - c45) < 1e-3 and abs(ax[0] - 2 * x[0]) < 1e-3 and abs(ax[1] - 2 * x[1]) < 1e-3
                and page.get_by_text("lies on an eigenline").count() >= 1)

    for _ in range(160):                    # intermediate key presses may rerun first: wait for 45°
        if settled():
            break
        page.wait_for_timeout(250)
    assert settled(), (tip(trace(page, 0, "x")), tip(trace(page, 0, "Ax")))
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "eigen-on-eigenline")


def test_matrix_slider_and_complex_preset(page, server):
    goto(page, server)
    before = trace(page, 0, "image A·(circle)")
    press_slider(page, "a₁₂", "ArrowLeft", 20)                  # a12: 1 -> 0
    # the image of (cos t, sin t) has first coordinate cos t + a12·sin t; under load some key presses
    # may rerun separately, so compare against the a12 the slider shows once the chart has caught up
    circle = trace(page, 0, "unit circle")
    cx, cy = np.array(values(circle["x"])), np.array(values(circle["y"]))

    def a12():
        return float(page.locator('[data-testid="stSlider"]').filter(has_text="a₁₂")
                     .locator('[data-testid="stSliderThumbValue"]').first.inner_text())

    for _ in range(120):
        after = trace(page, 0, "image A·(circle)")
        if a12() < 1.0 and np.allclose(values(after["x"]), cx + a12() * cy, atol=1e-5):
            break
        page.wait_for_timeout(250)
    assert a12() < 1.0
    np.testing.assert_allclose(values(after["x"]), cx + a12() * cy, atol=1e-5)
    assert values(after["x"]) != values(before["x"])
    assert page.locator(EXCEPTION).count() == 0
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Preset").first.click()
    page.get_by_role("option", name="rotation + shrink (spiral)").first.click()
    page.wait_for_timeout(500)
    wait_idle(page)
    assert page.get_by_text("Complex eigenvalues").count() >= 1
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "eigen-spiral")


def test_client_side_sweep(page, server):
    goto(page, server)
    sweep = page.locator(".js-plotly-plot").nth(1)
    sweep.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    rail = sweep.locator(".slider-rail-rect").first
    box = rail.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.wait_for_timeout(600)
    active = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[1].layout.sliders[0].active")
    assert active > 20
    x = tip(trace(page, 1, "x"))
    assert x[0] < 0                                             # about 180°
    assert page.locator('[data-testid="stStatusWidget"]').count() == 0
    screenshot(page, "eigen-sweep")


def test_a_matrix_slider_reruns_only_what_depends_on_the_matrix(page, server):
    """Issue 9: the entry sliders rerun sections 1–4 (a fragment), not the point cloud or the random
    spectra, whose elements Streamlit would otherwise mark stale while the page reran."""
    goto(page, server)
    stale = stale_after_press(page, "a₁₁", "ArrowRight")
    # the fragment did rerun (which of its elements Streamlit marks stale depends on timing)
    ours = ("st-key-eig_preset", "st-key-eig_a11", "st-key-eig_a21", "st-key-eig_a12", "st-key-eig_a22",
            "st-key-eig_angle", "st-key-eig_plane", "st-key-eig_spiral", "st-key-eig_qlq")
    assert any(k in c for c in stale for k in ours), stale
    assert not [c for c in stale if "st-key-eig_kind" in c or "st-key-eig_npts" in c], stale


@pytest.mark.parametrize("width", [900, 1920])
def test_defective_preset_reads_well_from_900_to_1920_px(browser, server, width):
    """The defective preset: the note speaks of 1/k convergence beside a chart that shows it, the step labels
    do not pile up, and metrics, titles and legends stay whole at 900 px (sidebar open) and at 1,920 px."""
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        goto(page, server)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Preset").first.click()
        page.get_by_role("option", name="defective").first.click()
        page.wait_for_function("() => document.body.innerText.includes('not diagonalisable')", timeout=30_000)
        wait_idle(page)
        press_slider(page, "Step k", "End")                                  # k = 40
        page.wait_for_function("() => document.body.innerText.includes('After k = 40 steps')", timeout=30_000)
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert "1/k" in text and "does not converge" not in text and "e+16" not in text
        report = layout_report(page)
        screenshot(page, f"eigen-defective-{width}px")
        assert report["metrics"] >= 4 and len(report["titles"]) >= 6, report
        assert_fits(report)
        assert page.locator(EXCEPTION).count() == 0
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Preset").first.click()
        page.get_by_role("option", name="rotation + shrink (spiral)").first.click()
        page.wait_for_function("() => document.body.innerText.includes('0.75 + 0.5i')", timeout=30_000)
        wait_idle(page)
        report = layout_report(page)                                         # complex λ: the widest metrics
        screenshot(page, f"eigen-spiral-{width}px")
        assert_fits(report)
    finally:
        context.close()
