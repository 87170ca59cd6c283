"""Browser responsiveness: time from a slider key press to the chart being redrawn, per page.

Starts `streamlit run app.py` and Debian chromium (the same harness as tests/e2e), presses arrow
keys on the first sliders of every page and waits until some Plotly chart's data changed.
"""
from __future__ import annotations

import os
import statistics
import time

from bench.common import Row
from page_registry import available_topics

_SNAPSHOT = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .map(g => { try { return JSON.stringify(g.data).length + ':' + JSON.stringify(g.data).slice(0, 4000)
              + JSON.stringify(g.data).slice(-4000); } catch (e) { return ''; } })"""
_CHANGED = """(before) => { const now = (%s)();
  if (now.length !== before.length) return true;
  return now.some((s, i) => s !== before[i]); }""" % _SNAPSHOT


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _label(slider) -> str:
    """The visible label of a Streamlit slider (its widget container's label text)."""
    return slider.evaluate(
        "e => { const w = e.closest('[data-testid=\"stSlider\"]');"
        " const l = w && w.querySelector('[data-testid=\"stWidgetLabel\"]');"
        " return (l ? l.innerText : e.getAttribute('aria-label') || 'slider').trim(); }")


def measure(presses_per_slider: int = 6, sliders_per_page: int = 3) -> dict[tuple[str, str], list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser_utils import open_page, wait_idle
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, start_server

    proc, url = start_server()
    out: dict[tuple[str, str], list[float]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            for topic in available_topics():
                open_page(page, url, topic.url, wait_charts=1)
                sliders = page.get_by_role("slider")
                for s in range(min(sliders_per_page, sliders.count())):
                    slider = sliders.nth(s)
                    if not slider.is_visible():
                        continue
                    slider.scroll_into_view_if_needed()
                    times = out.setdefault((topic.title, _label(slider)), [])
                    for i in range(presses_per_slider):
                        before = page.evaluate(_SNAPSHOT)
                        slider.focus()
                        t0 = time.perf_counter()
                        slider.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
                        try:
                            page.wait_for_function(_CHANGED, arg=before, polling="raf", timeout=15_000)
                        except Exception:
                            continue  # this slider does not drive a chart (e.g. a setting)
                        times.append(time.perf_counter() - t0)
                        wait_idle(page)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return out


def run(quick: bool = False) -> list[Row]:
    if not os.path.exists("/usr/bin/chromium"):
        return [Row("slider → chart redraw", "all pages", float("nan"), "", None, note="chromium missing")]
    results = measure(presses_per_slider=4 if quick else 8)
    rows = []
    for (title, label), times in results.items():
        what = f"{title}: slider '{label}'"
        if not times:
            rows.append(Row("slider key press → chart redrawn (p50)", what, float("nan"), "", None,
                            note="no chart changed (a setting slider)"))
            continue
        rows.append(Row("slider key press → chart redrawn (p50)", what, statistics.median(times), "", None,
                        device="browser (chromium)",
                        note=f"p95 {_pct(times, 0.95) * 1e3:.0f} ms over {len(times)} presses"))
    return rows
