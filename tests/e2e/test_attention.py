"""The Attention page in Chromium: renders, the scale slider moves the softmax, long texts stay readable."""
import numpy as np
import pytest

from la_core import models

from tests.e2e.browser_utils import EXCEPTION, open_page, press_slider, screenshot, wait_charts_drawn, wait_idle
from tests.e2e.layout_details import check_page_fits

pytestmark = pytest.mark.e2e

N_CHARTS = 14
REAL, GRID = 12, 13     # the real model's heatmap (after 4 steps, 2 entropy charts, 4 masks, 2 √d_k charts), the heads


def goto_attention(page, server) -> None:
    """Open the app at its root (so app.py builds the navigation), then follow the sidebar link.

    A direct /attention URL can make Streamlit fall back to its legacy pages/ folder mode (no app.py,
    no wide layout), so the tests go through the navigation as a user does.
    """
    open_page(page, server)
    # wait for app.py's navigation (the legacy pages/ sidebar can show for a moment first)
    page.wait_for_function("() => (document.querySelector('[data-testid=\"stSidebar\"]') || {}).innerText"
                           "?.includes('Compute device')", timeout=60_000)
    page.locator('[data-testid="stSidebarNav"] a[href$="/attention"]').first.click()
    page.wait_for_timeout(500)
    wait_idle(page)
    wait_charts_drawn(page, N_CHARTS)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def tall(page, height: int = 4200) -> None:
    """Streamlit scrolls inside its own container, so a full-page screenshot needs a tall viewport."""
    page.set_viewport_size({"width": 1440, "height": height})
    page.wait_for_timeout(800)


def heat_z(page, index: int) -> np.ndarray:
    """z of the first trace of the index-th chart as Plotly drew it (typed arrays decoded; NaN kept)."""
    wait_charts_drawn(page, index + 1)
    rows = page.evaluate(
        """(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
                   return Array.from(gd._fullData[0].z, r => Array.from(r, v => Number.isNaN(v) ? null : v)); }""",
        index)
    return np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float)


def pick_minilm_head(page, T: int) -> None:
    """Take Q, K, V from a MiniLM head and wait for its (T, T) softmax heatmap."""
    page.get_by_text("a MiniLM head", exact=True).first.click()
    page.wait_for_timeout(500)
    wait_idle(page)
    for _ in range(40):
        if heat_z(page, 3).shape == (T, T):
            break
        page.wait_for_timeout(250)
    assert heat_z(page, 3).shape == (T, T)


def test_attention_page_and_scale_slider(page, server):
    goto_attention(page, server)
    assert page.locator("h1").first.inner_text().startswith("Attention")
    # every chart has the PNG download button in its modebar
    page.locator(".js-plotly-plot").nth(3).hover()
    assert page.locator(".js-plotly-plot").nth(3).locator('.modebar-btn[data-title*="PNG"]').count() == 1
    before = heat_z(page, 3)
    np.testing.assert_allclose(before.sum(1), 1.0, atol=1e-5)
    assert "Compute device" in page.locator('[data-testid="stSidebar"]').inner_text()  # app.py ran
    tall(page)
    screenshot(page, "attention-default")
    page.set_viewport_size({"width": 1440, "height": 1000})
    press_slider(page, "Scale (× 1/√d_k)", "ArrowRight", 10)             # 1× -> 10×
    page.wait_for_timeout(500)
    after = heat_z(page, 3)
    assert after.max(1).mean() > before.max(1).mean() + 0.05                 # sharper rows
    press_slider(page, "Tokens T", "ArrowRight", 4)
    T = int(page.get_by_role("slider", name="Tokens T").first.evaluate(
        "el => el.getAttribute('aria-valuenow') || el.getAttribute('aria-valuetext') || el.value"))
    assert T > 8
    for _ in range(40):                      # the chart follows the slider's final value
        if heat_z(page, 3).shape == (T, T):
            break
        page.wait_for_timeout(250)
    assert heat_z(page, 3).shape == (T, T)
    page.get_by_text("causal", exact=True).first.click()
    page.wait_for_timeout(500)
    wait_idle(page)
    z = heat_z(page, 3)
    assert np.isnan(z[np.triu_indices(T, 1)]).all()
    tall(page, 2200)
    screenshot(page, "attention-causal-hot")


def test_attention_long_text(page, server):
    goto_attention(page, server)
    box = page.get_by_label("Text for the real model", exact=False)
    text = "The quick brown fox jumps over the lazy dog while the cat watches. " * 12
    box.fill(text)
    box.press("Control+Enter")
    wait_idle(page)
    page.wait_for_timeout(1000)
    T = len(models.load_model().tokenizer(text)["input_ids"])
    assert T > 150
    wait_charts_drawn(page, N_CHARTS + 1)                   # a zoom chart joins the block-averaged overview
    z = heat_z(page, REAL)
    assert z.shape == (-(-T // 2), -(-T // 2))               # 2×2 block means
    assert heat_z(page, REAL + 1).shape == (64, 64)           # the zoom: exact weights
    assert page.get_by_text("Block-averaged", exact=False).count() >= 1
    tall(page, 5200)
    screenshot(page, "attention-long-text")
    page.set_viewport_size({"width": 1440, "height": 1000})
    pick_minilm_head(page, 128)                                       # more tokens than the step window
    assert page.get_by_text(f"0–127 of {T}").count() == 1
    tall(page, 3000)
    screenshot(page, "attention-long-steps")


def test_attention_minilm_head_and_rollout(page, server):
    goto_attention(page, server)
    pick_minilm_head(page, 16)
    w = heat_z(page, 3)
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-5)
    assert page.get_by_text("match the model's attention").count() == 1
    page.get_by_text("rollout up to this layer", exact=True).first.click()
    page.wait_for_timeout(500)
    wait_idle(page)
    r = heat_z(page, REAL)
    np.testing.assert_allclose(r.sum(1), 1.0, atol=1e-4)
    assert np.all(np.diag(r) > 0.05)                 # the residual keeps each token partly itself
    tall(page, 4400)
    screenshot(page, "attention-minilm-rollout")


def test_attention_default_page_is_readable(page, server):
    """The default page at 1440 px as a new user sees it: every token of a MiniLM head labelled on the
    step heatmaps, square tiles in the grid of all heads, the shapes table's text whole."""
    goto_attention(page, server)
    pick_minilm_head(page, 16)
    ticks = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')[3]
                              .querySelectorAll('.xtick text'), t => t.textContent)""")
    assert len(ticks) == 16 and ticks[1] == "the"                       # every token, none skipped
    tiles = page.evaluate("""(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
        return ['xy', 'x2y2', 'x40y40'].map(id => { const r = gd.querySelector(`.draglayer .${id} .nsewdrag`)
                                                                  .getBoundingClientRect();
                                                    return [r.width, r.height]; }); }""", GRID)
    for w, h in tiles:
        assert w > 40 and abs(w - h) <= 1.5, tiles                       # square tiles
    cell = page.get_by_text("X W_Qᵀ + b_Q (same for K, V); W_Q is (d_model, d_model)", exact=True)
    assert cell.count() == 1 and cell.first.is_visible()              # the whole text, in a static table
    tall(page, 5600)
    screenshot(page, "attention-default-1440")


@pytest.mark.parametrize("width", [900, 1920])
@pytest.mark.parametrize("source", ["synthetic", "head"])
def test_attention_reads_well_from_900_to_1920_px(browser, server, width, source):
    """At 900 px (sidebar open: a main column of about 440 px) and at 1,920 px, on the synthetic Q, K, V and
    on a MiniLM head (token labels): step and mask titles whole, each heatmap's colour bar a fixed distance
    under its axis title, entropy and temperature titles clear of their legends and labels, no subplot title
    on another (the √d_k charts, the grid of all heads), the shapes table whole."""
    def head(page):
        pick_minilm_head(page, 16)
    report, _ = check_page_fits(browser, server, "attention", width, f"attention-{source}", wait_charts=N_CHARTS,
                                prepare=head if source == "head" else None)
    assert len(report["titles"]) >= 13, report
