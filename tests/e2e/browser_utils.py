"""Helpers for Playwright tests of LA Lens pages."""
from __future__ import annotations

import json

from tests.conftest import ARTIFACTS

EXCEPTION = '[data-testid="stException"]'
# True when no script run is going on: no status widget or spinner, the app not "running", and no
# stale or retained elements (while a run is in progress Streamlit keeps the previous copy of a
# changed chart, whose id depends on the figure, next to the new one).
IDLE = ("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSpinner\"]')"
        " && !document.querySelector('[data-retained], [data-stale=\"true\"]')"
        " && document.querySelector('[data-testid=\"stApp\"]').getAttribute('data-test-script-state')"
        " !== 'running'")


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait until the Streamlit script run has finished (no 'Running…' status widget)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_function(IDLE, timeout=timeout)
    page.wait_for_timeout(300)


def open_page(page, base_url: str, url_path: str = "", wait_charts: int = 0) -> None:
    """Load ``base_url/url_path`` and wait for the run to finish and ``wait_charts`` Plotly charts."""
    page.goto(f"{base_url}/{url_path}", wait_until="domcontentloaded")
    wait_idle(page)
    if wait_charts:
        wait_charts_drawn(page, wait_charts)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


# Number of Plotly charts drawn on the page. A drawn chart holds two or three `.main-svg`
# layers, so counting those would overstate it.
_DRAWN = ("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
          ".filter(e => e.querySelector('.main-svg') && Array.isArray(e.data)).length")


def wait_charts_drawn(page, n: int, timeout: float = 60_000) -> None:
    """Wait until at least ``n`` Plotly charts are drawn (each with its trace data)."""
    page.wait_for_function(f"() => ({_DRAWN})() >= {int(n)}", timeout=timeout)


def chart_data(page, index: int = 0) -> list:
    """The trace data of the index-th Plotly chart on the page (as rendered in the browser).

    Typed arrays (Plotly decodes float32 data into them) come back as plain lists."""
    wait_charts_drawn(page, index + 1)
    raw = page.evaluate(
        "(i) => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[i].data,"
        " (k, v) => ArrayBuffer.isView(v) ? Array.from(v) : v)", index)
    return _plain(json.loads(raw))


def _plain(v):
    """Decode Plotly's binary arrays ({"dtype", "bdata"}) into lists, recursively."""
    if isinstance(v, dict):
        if "bdata" in v and "dtype" in v:
            import base64

            import numpy as np

            arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
            if "shape" in v:
                shape = [int(n) for n in str(v["shape"]).split(",")]
                arr = arr.reshape(shape)
            return arr.tolist()
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


# Counts the script runs the page starts (stApp's data-test-script-state leaving "notRunning").
_WATCH_RUNS = """() => { const app = document.querySelector('[data-testid="stApp"]');
  window.__laRuns = 0;
  if (window.__laRunObserver) window.__laRunObserver.disconnect();
  window.__laRunObserver = new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') !== 'notRunning') window.__laRuns += 1; });
  window.__laRunObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""


def press_slider(page, name: str, key: str = "ArrowRight", times: int = 1) -> None:
    """Focus the slider with accessible name ``name``, press an arrow key and wait for the run
    it starts to finish (a key press at the end of the range starts none)."""
    slider = page.get_by_role("slider", name=name).first
    slider.focus()
    page.evaluate(_WATCH_RUNS)
    for _ in range(times):
        slider.press(key)
    try:
        page.wait_for_function("() => window.__laRuns > 0", timeout=5_000)
    except Exception:
        pass  # the value did not change
    wait_idle(page)


def screenshot(page, name: str) -> str:
    """Full-page screenshot into tests/artifacts/NAME.png; returns the path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Streamlit scrolls inside its own container, so grow the viewport to the content first. Charts
    # that were off screen hold a placeholder height until shown (content-visibility: auto), so
    # the content can grow once the viewport does: grow it until the height settles.
    size = page.viewport_size or {"width": 1440, "height": 1000}
    current = size["height"]
    for _ in range(4):
        height = page.evaluate(
            "() => Math.max(...Array.from(document.querySelectorAll("
            "'[data-testid=\"stMain\"], [data-testid=\"stAppViewContainer\"], section.main'))"
            ".map(e => e.scrollHeight), document.body.scrollHeight)")
        wanted = min(max(int(height) + 40, size["height"]), 12000)
        if wanted == current:
            break
        current = wanted
        page.set_viewport_size({"width": size["width"], "height": wanted})
        page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return str(path)


def floats(v) -> list[float]:
    """A rendered trace array (as returned by :func:`chart_data`) as a list of floats."""
    return [float(e) for e in v]


def stale_after_press(page, label: str, key: str) -> list[str]:
    """Press ``key`` on the slider labelled ``label`` and return the class names (they include
    ``st-key-<widget key>``) of every element Streamlit marked stale until the run was over: it
    marks the elements a run will redraw, so the list shows what the press reran."""
    page.evaluate("""() => { window.__laStale = [];
      new MutationObserver(ms => ms.forEach(m => {
        if (m.target.getAttribute('data-stale') === 'true') window.__laStale.push(m.target.className);
      })).observe(document.body, {attributes: true, subtree: true, attributeFilter: ['data-stale']}); }""")
    press_slider(page, label, key)
    wait_idle(page)
    return page.evaluate("() => window.__laStale")
