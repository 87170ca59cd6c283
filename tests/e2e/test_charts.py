"""LA Lens's chart component (ui/chart.py, ui/plotly_live.js) in Chromium: charts update in
place, keep their animation frames, and look like st.plotly_chart's."""
import json
from pathlib import Path

import pytest

from bench.bench_browser import _ARM, _PLOTLY_SLIDERS
from tests.conftest import ROOT
from tests.e2e.browser_utils import chart_data, open_page, press_slider, wait_charts_drawn
from tests.e2e.conftest import start_server

pytestmark = pytest.mark.e2e

_TAG = "(i) => { document.querySelectorAll('.js-plotly-plot')[i].__laTag = 'kept'; }"
_HAS_TAG = "(i) => document.querySelectorAll('.js-plotly-plot')[i].__laTag === 'kept'"


def _assert_updated_in_place(page, slider: str, times: int) -> None:
    """Pressing the slider changes the first chart's data, and its DOM node survives (Plotly.react)."""
    before = chart_data(page, 0)
    page.evaluate(_TAG, 0)
    press_slider(page, slider, times=times)
    assert chart_data(page, 0) != before
    assert page.evaluate(_HAS_TAG, 0), "the chart was rebuilt instead of updated"


def test_a_slider_updates_its_chart_in_place(page, server):
    """The chart's DOM node survives the rerun (Plotly.react), and its data is the new figure's."""
    open_page(page, server, "projections", wait_charts=6)
    _assert_updated_in_place(page, "length of x", times=5)
    # the component draws no stale copy next to it: still six charts on the page
    assert page.locator(".js-plotly-plot").count() == 6
    # its modebar has the full-screen button that replaces st.plotly_chart's toolbar one
    button = page.locator('.la-chart .modebar-btn[data-title="Full screen"]').first
    page.locator(".la-chart").first.hover()
    button.click()
    page.wait_for_function("() => document.fullscreenElement && document.fullscreenElement.classList.contains('la-chart')",
                           timeout=5_000)
    page.evaluate("() => document.exitFullscreen()")


def test_an_animation_still_plays_after_its_figure_changed(page, server):
    """A server-side slider that changes an animated figure (the eigen sweep depends on the matrix)
    must leave its frames in place: the Plotly slider of the new figure still animates."""
    open_page(page, server, "eigenvectors", wait_charts=7)
    press_slider(page, "a₁₁", times=2)
    wait_charts_drawn(page, 7)
    animated = page.evaluate(_PLOTLY_SLIDERS)
    assert animated, "no visible Plotly slider on the page"
    i = animated[0]
    assert page.evaluate("(i) => document.querySelectorAll('.js-plotly-plot')[i]._transitionData._frames.length",
                         i) > 10
    rail = page.locator(".js-plotly-plot").nth(i).locator(".slider-rail-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.evaluate(_ARM, i)
    page.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + box["height"] / 2)
    page.wait_for_function("() => window.__laAnim !== null", timeout=5_000)


TEMPLATES = {"light": "plotly_template.json", "dark": "plotly_template_dark.json"}


def test_templates_are_the_ones_st_plotly_chart_applies(browser):
    """ui/plotly_template.json and ui/plotly_template_dark.json are what Streamlit's "streamlit" chart
    theme makes of this app's light and dark themes: compare with a chart drawn by st.plotly_chart
    itself (bench/floor_app.py) in a browser that prefers each (the app follows the system's choice).
    To regenerate a template, write ``native`` below to its file (json.dumps(..., indent=1, sort_keys=True))."""
    proc, url = start_server(script=str(ROOT / "bench" / "floor_app.py"))
    try:
        for theme, name in TEMPLATES.items():
            context = browser.new_context(viewport={"width": 1000, "height": 800}, color_scheme=theme)
            page = context.new_page()
            open_page(page, url, "", wait_charts=1)
            native = json.loads(page.evaluate(
                "() => JSON.stringify(document.querySelector('.js-plotly-plot').layout.template)"))
            context.close()
            ours = json.loads((Path(ROOT) / "ui" / name).read_text())
            assert native == ours, f"Streamlit's {theme} chart theme changed: regenerate ui/{name}"
            assert (native["layout"]["paper_bgcolor"].upper() == "#FFFFFF") == (theme == "light")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_fragment_reference_of_the_benchmark_draws_and_updates_its_chart(page):
    """bench/floor_fragment_app.py (the browser benchmark's second reference) runs outside the app:
    its chart component must still find its scripts (bench/static) and update the chart in place."""
    from bench.bench_browser import _link_static

    _link_static()
    proc, url = start_server(script=str(ROOT / "bench" / "floor_fragment_app.py"))
    try:
        open_page(page, url, "", wait_charts=1)
        _assert_updated_in_place(page, "value", times=3)
        assert "could not be drawn" not in page.inner_text("body")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


_FRAMES = """() => { const seen = window.__laFrames = [];
  const snap = () => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => g.data);
  let prev = snap(), frame = 0;
  const tick = () => {
    frame++;
    const now = snap();
    now.forEach((d, i) => { if (i < prev.length && d !== prev[i]) seen.push([i, frame]); });
    prev = now;
    if (window.__laFrames === seen) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick); }"""


def test_the_first_changed_chart_is_painted_before_the_next_is_drawn(page, server):
    """A matrix slider changes every chart of the eigenvector page. The component draws them one per
    animation frame, in page order, so the chart under the slider is on screen before the others
    are drawn (drawn back to back, they all appeared in the same frame)."""
    open_page(page, server, "eigenvectors", wait_charts=7)
    page.evaluate(_FRAMES)
    press_slider(page, "a₁₁", times=1)
    count = -1
    while count != len(page.evaluate("() => window.__laFrames")):   # until no chart changed for 1 s
        count = len(page.evaluate("() => window.__laFrames"))
        page.wait_for_timeout(1000)
    seen = page.evaluate("() => { const s = window.__laFrames; window.__laFrames = null; return s; }")
    frame = {}
    for i, f in seen:
        frame.setdefault(i, f)
    assert len(frame) >= 4, f"expected most charts to change, saw {seen}"
    assert frame[0] == min(frame.values()), f"the plane chart (first on the page) was not drawn first: {seen}"
    assert len(set(frame.values())) == len(frame), f"two charts were drawn in the same frame: {seen}"


_WIDTHS = """() => Array.from(document.querySelectorAll('.la-chart')).map(g => {
  g.scrollIntoView();
  const svg = g.querySelector('.main-svg');
  return [Math.round(g.getBoundingClientRect().width), svg ? Math.round(svg.getBoundingClientRect().width) : 0,
          getComputedStyle(g).contentVisibility]; })"""


def test_charts_off_screen_are_skipped_yet_drawn_at_their_width(page, server):
    """Every chart box has content-visibility: auto, so the browser skips the style, layout and paint
    of the charts off screen on every update of the page. A chart redrawn while off screen (a
    matrix slider changes the charts further down too) must still fill its column when shown."""
    open_page(page, server, "eigenvectors", wait_charts=7)
    press_slider(page, "a₁₁", times=1)
    wait_charts_drawn(page, 7)
    page.wait_for_timeout(1500)                 # the last charts are drawn one frame after another
    shown = page.evaluate(_WIDTHS)
    assert len(shown) >= 7
    for box, svg, visibility in shown:
        assert visibility == "auto"
        assert box > 200 and abs(svg - box) <= 2, shown
