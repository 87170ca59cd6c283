"""Every page in the light and the dark theme, at 900 and 1,400 px: screenshots into tests/artifacts/
(<page>-<width>-<theme>.png), the page background of the theme, charts drawn on that background with
text that stands out from it, no exception; and the charts change theme with the user's choice."""
import pytest

from page_registry import TOPICS
from tests.e2e.browser_utils import _WATCH_RUNS, EXCEPTION, open_page, screenshot, wait_idle

pytestmark = pytest.mark.e2e

PAGES = {"home": "", **{t.url: t.url for t in TOPICS}}      # name -> URL path (home is the root)
WIDTHS = (1400, 900)
THEMES = ("light", "dark")
MIN_CONTRAST = 3.0        # WCAG's minimum for large text and graphics; chart labels must reach it

# Colours as the browser resolves them ([r, g, b, alpha]), one over another, the contrast ratio of
# WCAG 2, and the charts on screen.
_COLOR_JS = """
const rgba = (c) => { const x = document.createElement('canvas').getContext('2d');
  x.fillStyle = '#010203'; x.fillStyle = c; const v = x.fillStyle;
  if (v[0] === '#') return [1, 3, 5].map(i => parseInt(v.slice(i, i + 2), 16)).concat([1]);
  const n = v.match(/[\\d.]+/g).map(Number); return n.length > 3 ? n : n.concat([1]); };
const over = (top, alpha, under) => top.slice(0, 3).map((v, i) => Math.round(v * alpha + under[i] * (1 - alpha)));
const lum = (c) => { const [r, g, b] = c.slice(0, 3).map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05); };
const visible = (e) => e.getClientRects().length > 0;
const charts = () => Array.from(document.querySelectorAll('.stBidiComponent, [data-testid="stPlotlyChart"]'))
  .filter(visible);
const plotOf = (c) => c.querySelector('.js-plotly-plot');
"""

# True once every visible chart is drawn, those of the chart component in ``theme``.
_DRAWN = _COLOR_JS + """
return charts().length >= least && charts().every(c => { const g = plotOf(c);
  return g && g._fullLayout && g.querySelector('.main-svg')
    && (!g.classList.contains('la-chart') || g.dataset.laTheme === theme); });
"""

# The page background; per visible chart its paper colour, and every SVG text with its colour and its
# contrast against what lies under it: the paper, or the box of its legend or annotation.
_INSPECT = _COLOR_JS + """
const bg = rgba(getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor).slice(0, 3);
const under = (t, paper) => { const box = t.closest('.legend, .annotation');
  const rect = box && box.querySelector('.bg'); if (!rect) return paper;
  const st = getComputedStyle(rect); if (st.fill === 'none') return paper;
  const f = rgba(st.fill); return over(f, f[3] * parseFloat(st.fillOpacity || '1'), paper); };
return { bg, charts: charts().map((c, i) => { const g = plotOf(c);
  const paper = rgba(g._fullLayout.paper_bgcolor).slice(0, 3);
  // cell labels of a heatmap are skipped: Plotly gives each the colour that contrasts with its own cell
  const texts = Array.from(g.querySelectorAll('.main-svg text'))
    .filter(t => t.textContent.trim() && visible(t) && !t.closest('.heatmaplayer'))
    .map(t => { const st = getComputedStyle(t); const f = rgba(st.fill); const back = under(t, paper);
                const color = over(f, f[3] * parseFloat(st.fillOpacity || '1'), back);
                return [t.textContent.trim().slice(0, 40), color, back,
                        Math.round(contrast(color, back) * 100) / 100]; });
  const component = g.classList.contains('la-chart');   // its box is what a full-screen chart shows around it
  return { index: i, paper, ticks: g.querySelectorAll('.xtick text, .ytick text').length, texts, component,
           box: component ? rgba(getComputedStyle(g).backgroundColor).slice(0, 3) : paper }; }) };
"""


def _wait_charts(page, theme: str, least: int = 0) -> None:
    """Wait until at least ``least`` charts are on screen and every one is drawn (in ``theme``)."""
    page.wait_for_function(f"() => {{ const theme = '{theme}', least = {int(least)}; {_DRAWN} }}", timeout=90_000)


def _inspect(page) -> dict:
    return page.evaluate(f"() => {{ {_INSPECT} }}")


def _luminance(c) -> float:
    r, g, b = (v / 255 for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _check(page, name: str, theme: str) -> None:
    assert page.locator(EXCEPTION).count() == 0, (name, page.locator(EXCEPTION).first.inner_text())
    assert page.get_by_text("Page not found").count() == 0, name
    seen = _inspect(page)
    bg = seen["bg"]
    if theme == "dark":
        assert _luminance(bg) < 0.2, f"{name}: the dark theme's page background is {bg}"
    else:
        assert _luminance(bg) > 0.8, f"{name}: the light theme's page background is {bg}"
    if name != "home":
        assert seen["charts"], f"{name}: no chart on the page"
        assert any(c["ticks"] for c in seen["charts"]), f"{name}: no chart with tick labels"
    for chart in seen["charts"]:
        where = f"{name} ({theme}), chart {chart['index']}"
        assert max(abs(a - b) for a, b in zip(chart["paper"], bg)) <= 2, \
            f"{where}: paper {chart['paper']} on a page of {bg}"
        assert chart["box"] == chart["paper"], f"{where}: chart box {chart['box']}, paper {chart['paper']}"
        faint = [t for t in chart["texts"] if t[3] < MIN_CONTRAST]
        assert not faint, f"{where}: text that does not stand out from the background: {faint}"


@pytest.fixture(params=THEMES)
def themed_page(request, browser):
    """A page in a browser whose system preference is the light or the dark theme (Streamlit follows it
    by default: "System" in the settings menu)."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 1000}, color_scheme=request.param)
    yield context.new_page(), request.param
    context.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_in_both_themes_at_both_widths(themed_page, server, name):
    page, theme = themed_page
    open_page(page, server, PAGES[name])
    least = 0 if name == "home" else 1
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        wait_idle(page)
        _wait_charts(page, theme, least)
        screenshot(page, f"{name}-{width}-{theme}")
        _wait_charts(page, theme, least)
        _check(page, name, theme)


def test_charts_follow_the_theme_chosen_in_the_settings_menu(browser, server):
    """The user switches theme in the main menu (System, Light, Dark): the page and every chart of the
    component change without a rerun of the script, back and forth."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="light")
    page = context.new_page()
    try:
        open_page(page, server, "projections", wait_charts=6)
        page.evaluate(_WATCH_RUNS)
        for theme in ("dark", "light"):
            page.get_by_test_id("stMainMenuButton").click()
            page.get_by_test_id(f"stMainMenuItem-theme-{theme.capitalize()}").click()
            page.keyboard.press("Escape")
            _wait_charts(page, theme)
            seen = _inspect(page)
            assert (_luminance(seen["bg"]) < 0.2) == (theme == "dark"), seen["bg"]
            assert len(seen["charts"]) >= 6 and all(c["component"] for c in seen["charts"])
            for chart in seen["charts"]:
                assert chart["paper"] == chart["box"] == seen["bg"]
                assert all(t[3] >= MIN_CONTRAST for t in chart["texts"]), chart["texts"]
        assert page.evaluate("() => window.__laRuns") == 0          # redrawn in the browser alone
    finally:
        context.close()
