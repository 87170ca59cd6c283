"""Browser: the Projections page renders, and keyboard slider moves redraw its charts."""
import pytest

from tests.e2e.browser_utils import EXCEPTION, chart_data, open_page, press_slider, screenshot, wait_charts_drawn
from tests.e2e.layout_checks import assert_fits, layout_report, open_expanders

pytestmark = pytest.mark.e2e


def tip(trace):
    return trace["x"][-1], trace["y"][-1]


def named(data, start):
    return next(t for t in data if t.get("name", "").startswith(start))


def find(page, start):
    """The first rendered trace whose name starts with ``start``, in any chart on the page."""
    n = page.locator(".js-plotly-plot").count()
    for i in range(n):
        for t in chart_data(page, i):
            if str(t.get("name", "")).startswith(start):
                return t
    raise AssertionError(f"no trace named {start!r}")


def changed_tip(page, start, before, timeout_s=20.0):
    """Poll until the tip of trace ``start`` differs from ``before``; return it (or the last seen)."""
    import time

    deadline = time.time() + timeout_s
    now = tip(find(page, start))
    while now == before and time.time() < deadline:
        page.wait_for_timeout(250)
        now = tip(find(page, start))
    return now


def test_projection_page_sliders(page, server):
    open_page(page, server, "projections", wait_charts=6)
    screenshot(page, "projections-default")
    before = tip(find(page, "projection of x on u"))
    press_slider(page, "angle of x (degrees)", "ArrowRight", times=5)
    after = changed_tip(page, "projection of x on u", before)
    assert after != before
    grid_before = tip(find(page, "W e₁"))
    press_slider(page, "rotation angle (degrees)", "ArrowRight", times=3)
    assert changed_tip(page, "W e₁", grid_before) != grid_before


def test_singular_preset_in_browser(page, server):
    open_page(page, server, "projections", wait_charts=6)
    page.get_by_text("presets / typed entries").click()
    page.wait_for_timeout(500)
    page.get_by_text("Rank 1", exact=False).count()
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="preset").first
    box.click()
    page.get_by_role("option", name="singular (columns parallel, rank 1)").click()
    page.wait_for_function("() => document.body.innerText.includes('Rank 1: both columns')", timeout=30_000)
    screenshot(page, "projections-singular")


@pytest.mark.parametrize("width", [900, 1920])
def test_metrics_and_chart_titles_fit_the_window(browser, server, width):
    """At 900 px (sidebar open) and at 1,920 px every metric value and label is whole, every chart title
    lies inside its chart, and no title, legend or slider runs into another."""
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        open_page(page, server, "projections", wait_charts=4)
        press_slider(page, "angle of x (degrees)", "End")                 # 360°
        press_slider(page, "angle of x (degrees)", "ArrowLeft", times=90)  # 270°: x ⟂ u, projection 0
        page.wait_for_function("() => document.body.innerText.includes('270.00')", timeout=30_000)
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert "-0.000" not in text and "−0.000" not in text and "e-1" not in text, text
        open_expanders(page)
        wait_charts_drawn(page, 6)
        report = layout_report(page)
        screenshot(page, f"projections-{width}px")
        assert report["metrics"] >= 8 and len(report["titles"]) >= 5, report
        assert_fits(report)
        assert page.locator(EXCEPTION).count() == 0
    finally:
        context.close()
