"""The Geometry page in Chromium: keyboard on the sliders rotates q, moves the norm balls and
changes the dimension; the animation's buttons leave its slider free; the shape checker shows
torch's message; a tiny Llama's own q and k; screenshots for a look."""

import shutil

import numpy as np
import pytest

from tests.conftest import ARTIFACTS
from tests.e2e.browser_utils import EXCEPTION, chart_data, open_page, press_slider, screenshot, wait_idle, floats as values
from tests.e2e.layout_details import check_page_fits
from tests.model_fixtures import tiny_models  # noqa: F401

pytestmark = pytest.mark.e2e

PAIR, ANIM, SCORES, OFFSET, SPEEDS, WAVELENGTH, BALLS, HIST, COS, CONTRAST = range(10)
MODEL_OFFSET = 7          # with a RoPE model: its pair and offset charts follow the wavelengths




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
    open_page(page, server, "geometry", wait_charts=10)
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
    theta = 10_000 ** (-2 * 8 / 64)           # the page starts on pair d/8 = 8 of d = 64, base 10,000
    c, s = np.cos(m * theta), np.sin(m * theta)
    np.testing.assert_allclose(after, [c * q0[0] - s * q0[1], s * q0[0] + c * q0[1]], atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(after), np.linalg.norm(q0), rtol=1e-4)
    screenshot(page, "geometry-default")


def test_norm_and_dimension_sliders(page, server):
    open_page(page, server, "geometry", wait_charts=10)
    l1_before = trace(page, BALLS, "L1")["name"]
    press(page, "v, x coordinate", "ArrowRight", 5)     # 1.5 -> 2.0
    l1_after = trace(page, BALLS, "L1")["name"]
    assert l1_before != l1_after and "= 2.800" in l1_after       # |2.0| + |0.8|
    page.get_by_text("2. Norms: three ways to measure length").first.scroll_into_view_if_needed()
    screenshot(page, "geometry-norms")
    cos_before = np.std(values(chart_data(page, COS)[0]["x"]))
    press(page, "Dimension d (log steps)", "ArrowRight", 6)   # 64 -> 4096
    cos_after = np.std(values(chart_data(page, COS)[0]["x"]))
    assert cos_after < cos_before / 4
    assert cos_after == pytest.approx(1 / 64, rel=0.2)
    screenshot(page, "geometry-highdim")


def test_shape_checker_shows_torch_error_and_bad_text(page, server):
    open_page(page, server, "geometry", wait_charts=10)
    submit(page, "Shape of b", "8, 64")
    assert page.get_by_text("mat1 and mat2 shapes cannot be multiplied (8x64 and 8x64)").count() >= 1
    assert page.get_by_text("use b.T: (64, 8); a @ b.T gives (8, 8)").count() >= 1
    submit(page, "Shape of a", "4; 768")
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_text("';' is not a separator").count() >= 1
    screenshot(page, "geometry-shapes")


def section_screenshot(page, heading: str, next_heading: str, name: str) -> str:
    """A screenshot of the page from ``heading`` down to ``next_heading`` into tests/artifacts/NAME.png."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 4000})   # off-screen charts draw too
    page.wait_for_timeout(1500)
    wait_idle(page)
    top = page.get_by_text(heading, exact=True).first.bounding_box()
    bottom = page.get_by_text(next_heading, exact=True).first.bounding_box()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True,
                    clip=dict(x=0, y=top["y"] - 10, width=size["width"], height=bottom["y"] - top["y"]))
    page.set_viewport_size(size)
    return str(path)


_BOXES = """(i) => { const plot = document.querySelectorAll('.js-plotly-plot')[i];
  const box = e => { const r = e.getBoundingClientRect();
                     return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  return {plot: box(plot), rail: box(plot.querySelector('.slider-rail-rect')),
          label: box(plot.querySelector('.slider-label')),
          buttons: Array.from(plot.querySelectorAll('.updatemenu-button')).map(box)}; }"""


def test_animation_buttons_do_not_cover_the_slider(page, server):
    open_page(page, server, "geometry", wait_charts=10)
    page.get_by_text("1. RoPE: position as a rotation", exact=True).first.scroll_into_view_if_needed()
    b = page.evaluate(_BOXES, ANIM)
    assert len(b["buttons"]) == 2
    for btn in b["buttons"]:
        assert btn["left"] >= b["plot"]["left"] - 1 and btn["bottom"] <= b["plot"]["bottom"] + 1   # inside the chart
        overlaps_rail = btn["right"] > b["rail"]["left"] and btn["bottom"] > b["rail"]["top"] \
            and btn["top"] < b["rail"]["bottom"]
        assert not overlaps_rail, (btn, b["rail"])
        assert btn["right"] <= b["label"]["left"] or btn["bottom"] <= b["label"]["top"], (btn, b["label"])
    assert b["rail"]["right"] <= b["plot"]["right"] + 1
    section_screenshot(page, "1. RoPE: position as a rotation", "2. Norms: three ways to measure length",
                       "geometry-rope")


@pytest.fixture
def llama_server(tiny_models, tmp_path):  # noqa: F811
    from tests.e2e.conftest import start_server

    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(tiny_models["llama"], root / "tiny-llama")
    proc, url = start_server({"LA_LENS_MODELS_DIR": str(root)})
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_tiny_llama_shows_its_own_rope(page, llama_server):
    open_page(page, llama_server, "geometry?model=tiny-llama", wait_charts=12)
    body = page.inner_text("body")
    assert "θ = 500,000" in body and "d_head = 16" in body
    assert "Inside tiny-llama: its own q and k, rotated by position" in body
    star = next(t for t in chart_data(page, MODEL_OFFSET) if t.get("name", "").startswith("the model's q·k"))
    curve = chart_data(page, MODEL_OFFSET)[0]
    x, y = np.array(values(curve["x"])), np.array(values(curve["y"]))
    np.testing.assert_allclose(y[x == values(star["x"])[0]], values(star["y"])[0], rtol=1e-4)
    section_screenshot(page, "Inside tiny-llama: its own q and k, rotated by position",
                       "2. Norms: three ways to measure length", "geometry-rope-tiny-llama")


@pytest.mark.parametrize("width", [900, 1920])
def test_geometry_reads_well_from_900_to_1920_px(browser, server, width):
    """At 900 px (sidebar open: a main column of about 440 px) and at 1,920 px: chart titles, subplot titles,
    legends, colour bars and the animation's buttons inside their charts and clear of each other; the
    operation's selectbox and both tables whole (every norm column, torch's messages)."""
    report, _ = check_page_fits(browser, server, "geometry", width, "geometry", wait_charts=10)
    assert len(report["titles"]) >= 10, report
