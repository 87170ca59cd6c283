"""A million rows on the PCA page in Chromium: the heatmap counts every row, and a zoom counts again.

The data folder holds a generated 1,000,000 × 16 .npy (a separate server, started with
LA_LENS_DATA_DIR pointing at it); the zoom goes through Plotly's own relayout event, as a drag does.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from tests.e2e.browser_utils import EXCEPTION, open_page, screenshot, wait_charts_drawn, wait_idle
from tests.e2e.conftest import start_server

pytestmark = pytest.mark.e2e

N = 1_000_000

# The scatter with the heatmap: its heatmap's bins, the rows it counts and the chart's title.
_HEAT = """() => { const g = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(p => p.data && p.data[0] && p.data[0].type === 'heatmap');
  if (!g) return null;
  const h = g._fullData[0];
  let sum = 0; for (const row of h.customdata) for (const c of row) sum += c;
  return {x0: h.x0, dx: h.dx, y0: h.y0, dy: h.dy, rows: sum, title: g._fullLayout.title.text,
          xr: g._fullLayout.xaxis.range, yr: g._fullLayout.yaxis.range,
          points: g._fullData.slice(1).reduce((s, t) => s + (t.x ? t.x.length : 0), 0)}; }"""


@pytest.fixture(scope="module")
def million_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("million")
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(12, 16)).astype(np.float32) * 4
    X = centres[rng.integers(0, 12, N)] + rng.normal(size=(N, 16)).astype(np.float32)
    np.save(folder / "million.npy", X)
    proc, url = start_server({"LA_LENS_DATA_DIR": str(folder)})
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _heat(page, timeout: float = 120_000) -> dict:
    page.wait_for_function(f"() => ({_HEAT})() !== null", timeout=timeout)
    return page.evaluate(_HEAT)


def test_a_zoom_counts_every_row_in_the_new_view(page, million_server):
    page.set_viewport_size({"width": 1440, "height": 1400})
    open_page(page, million_server, "pca", wait_charts=2)
    page.get_by_text("Data folder", exact=True).click()
    wait_idle(page, timeout=240_000)
    first = _heat(page)
    assert first["rows"] == N and f"{N:,} of {N:,} rows in view" in first["title"]
    assert first["points"] >= 20_000                        # the sample drawn over it
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="counts every row").first
    assert f"{N:,} of {N:,} rows fall in the current view" in caption.inner_text()
    screenshot(page, "pca_million_full")

    # zoom on the middle of the picture, as a drag on the chart would (Plotly's relayout event)
    x0, x1 = first["x0"] - first["dx"] / 2, first["x0"] + first["dx"] * 199.5
    y0, y1 = first["y0"] - first["dy"] / 2, first["y0"] + first["dy"] * 199.5
    zx, zy = (x0 + 0.3 * (x1 - x0), x0 + 0.6 * (x1 - x0)), (y0 + 0.3 * (y1 - y0), y0 + 0.6 * (y1 - y0))
    page.evaluate("""([zx, zy]) => { const g = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(p => p.data && p.data[0] && p.data[0].type === 'heatmap');
      return window.Plotly.relayout(g, {'xaxis.range[0]': zx[0], 'xaxis.range[1]': zx[1],
                                        'yaxis.range[0]': zy[0], 'yaxis.range[1]': zy[1]}); }""", [zx, zy])
    page.wait_for_function(f"() => {{ const h = ({_HEAT})(); return h && h.rows < {N}; }}", timeout=60_000)
    wait_idle(page)
    zoomed = _heat(page)
    # the grid now spans the zoomed view, 200 bins a side, and the title and caption say how many rows it holds
    assert zoomed["dx"] == pytest.approx((zx[1] - zx[0]) / 200, rel=1e-6)
    assert zoomed["x0"] == pytest.approx(zx[0] + zoomed["dx"] / 2, rel=1e-6, abs=1e-9)
    assert zoomed["dy"] == pytest.approx((zy[1] - zy[0]) / 200, rel=1e-6)
    n_in = int(zoomed["rows"])
    assert 0 < n_in < N and f"{n_in:,} of {N:,} rows in view" in zoomed["title"]
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="counts every row").first
    assert re.search(rf"{n_in:,} of {N:,} rows fall in the current view", caption.inner_text())
    # the user's zoom is kept (the chart is not reset to every row's range by the new heatmap)
    assert zoomed["xr"] == pytest.approx(list(zx), rel=1e-6) and zoomed["yr"] == pytest.approx(list(zy), rel=1e-6)
    assert zoomed["points"] == first["points"]             # the same sample, not sent again
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "pca_million_zoomed")

    # the button under the caption counts every row's range again
    page.get_by_role("button", name="Count every row's range again").click()
    page.wait_for_function(f"() => {{ const h = ({_HEAT})(); return h && h.rows === {N}; }}", timeout=60_000)
    wait_idle(page)
    back = _heat(page)                                      # and the chart shows that whole range again
    assert back["xr"][0] <= x0 + 1e-6 and back["xr"][1] >= x1 - 1e-6
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.parametrize("scheme,width", [("dark", 900), ("light", 1920)])
def test_the_sample_over_the_shading_reads_in_both_themes_and_widths(browser, million_server, scheme, width):
    """20,000 small translucent points over the heatmap: the chart fits the column and keeps its colour
    bar, in the dark theme at 900 px and the light one at 1,920 px (screenshots looked at)."""
    context = browser.new_context(viewport={"width": width, "height": 1200}, color_scheme=scheme)
    page = context.new_page()
    try:
        open_page(page, million_server, "pca", wait_charts=2)
        page.get_by_text("Data folder", exact=True).click()
        wait_idle(page, timeout=240_000)
        heat = _heat(page)
        assert heat["rows"] == N and 20_000 <= heat["points"] <= 20_011
        look = page.evaluate("""() => { const g = Array.from(document.querySelectorAll('.js-plotly-plot'))
            .find(p => p.data && p.data[0] && p.data[0].type === 'heatmap');
          const pts = g._fullData.find(t => t.type === 'scattergl');
          const box = g.getBoundingClientRect(), col = g.closest('[data-testid="stMain"]').getBoundingClientRect();
          return {opacity: pts.marker.opacity, size: pts.marker.size, bar: !!g.querySelector('.colorbar'),
                  inside: box.left >= col.left - 1 && box.right <= col.right + 1, width: box.width}; }""")
        assert look["opacity"] == 0.5 and look["size"] == 2 and look["bar"], look
        assert look["inside"] and look["width"] > 300, look
        assert page.locator(EXCEPTION).count() == 0
        screenshot(page, f"pca_million_{scheme}_{width}")
    finally:
        context.close()
