"""Browser responsiveness: time from a slider key press to the charts being redrawn, per page.

Starts `streamlit run app.py` and Debian chromium (the same harness as tests/e2e), presses arrow
keys on the first sliders of every page and records, inside the page, the keydown event and when
each Plotly chart received new data. Plotly.react swaps a chart's ``data`` array and draws
synchronously, so a new array identity seen in an animation frame means that chart has been redrawn. The watcher only
compares references (no serialisation), so it does not slow down what it measures.

Per server-side (Streamlit) slider: the first chart redrawn (the figure the goal is about), and
"settled" (every chart the run changed is redrawn and the run is over). The reference, measured
in the same run, is the smallest possible Streamlit page (bench/floor_app.py). Client-side
(Plotly) sliders over precomputed frames are timed from the click on their rail to Plotly's
``plotly_animated`` event.
"""
from __future__ import annotations

import os
import re
import statistics
import time
from pathlib import Path

from bench.common import Row
from page_registry import TOPICS

# Runs in the page: remember each chart's data array, then check every animation frame.
_WATCH = """() => {
  const snap = () => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => g.data);
  let prev = snap();
  const w = window.__laWatch = {first: null, last: null, on: true, key: null};
  // the clock starts when the key press reaches the page, not when the harness asks for it
  document.addEventListener('keydown', (e) => { w.key = e.timeStamp; }, {capture: true, once: true});
  const tick = () => {
    const now = snap();
    if (now.length !== prev.length || now.some((d, i) => d !== prev[i])) {
      const t = performance.now();
      if (w.first === null) w.first = t;
      w.last = t;
      prev = now;
    }
    if (w.on) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return performance.now();
}"""


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _label(slider) -> str:
    """The visible label of a Streamlit slider (its widget container's label text)."""
    return slider.evaluate(
        "e => { const w = e.closest('[data-testid=\"stSlider\"]');"
        " const l = w && w.querySelector('[data-testid=\"stWidgetLabel\"]');"
        " return (l ? l.innerText : e.getAttribute('aria-label') || 'slider').trim(); }")


def _settle(page, quiet_ms: float = 400, timeout_s: float = 30) -> None:
    """Wait until no script runs and no chart changed for ``quiet_ms``."""
    from tests.e2e.browser_utils import IDLE

    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        state = page.evaluate("() => [performance.now(), window.__laWatch.last]")
        if page.evaluate(IDLE) and (state[1] is None or state[0] - state[1] >= quiet_ms):
            return
        page.wait_for_timeout(50)


def press_and_time(page, slider, key: str) -> tuple[float, float] | None:
    """Press ``key`` on ``slider``; return (first, last) chart redraw in seconds, or None.

    Timed from the keydown event in the page. The key goes to the focused slider through the
    keyboard, not through a locator: resolving a locator queries the whole DOM between the two
    (6 ms on the reference page, 19 ms on the 17k-node attention page), the harness's time, not
    the app's."""
    slider.focus()
    page.evaluate(_WATCH)
    page.keyboard.press(key)
    try:
        page.wait_for_function("() => window.__laWatch.first !== null", polling=20, timeout=15_000)
    except Exception:
        page.evaluate("() => { window.__laWatch.on = false; }")
        return None  # this slider does not drive a chart (e.g. a setting)
    _settle(page)
    first, last, t0 = page.evaluate("() => { const w = window.__laWatch; w.on = false;"
                                    " return [w.first, w.last, w.key]; }")
    return (first - t0) / 1e3, (last - t0) / 1e3


# Client-side sliders: a Plotly slider over precomputed frames. Time from the click on its rail to
# Plotly's 'plotly_animated' event (the new frame is drawn).
_PLOTLY_SLIDERS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .map((g, i) => [i, g.layout && g.layout.sliders && g.layout.sliders.length
                     && g.querySelector('.slider-rail-rect') && g.checkVisibility()])
  .filter(p => p[1]).map(p => p[0])"""
_ARM = """(i) => { const g = document.querySelectorAll('.js-plotly-plot')[i];
  window.__laAnim = null;
  if (!g.__laHooked) { g.on('plotly_animated', () => { window.__laAnim = performance.now(); }); g.__laHooked = true; }
  return performance.now(); }"""


def _client_side(page, title: str, presses: int, out: dict) -> None:
    """Click along the rail of each visible Plotly slider; time until the frame is drawn."""
    for i in page.evaluate(_PLOTLY_SLIDERS):
        chart = page.locator(".js-plotly-plot").nth(i)
        chart.scroll_into_view_if_needed()
        rail = chart.locator(".slider-rail-rect").first
        box = rail.bounding_box()
        name = page.evaluate("(i) => { const t = document.querySelectorAll('.js-plotly-plot')[i].layout.title;"
                             " return (t && (t.text || t)) || 'chart'; }", i)
        name = re.sub(r"<[^>]+>", "", str(name))
        times = out.setdefault((title, f"client-side (Plotly) slider of '{name[:60]}'"), [])
        for k in range(presses):
            frac = 0.2 + 0.6 * ((k * 0.37) % 1.0)
            t0 = page.evaluate(_ARM, i)
            page.mouse.click(box["x"] + frac * box["width"], box["y"] + box["height"] / 2)
            try:
                page.wait_for_function("() => window.__laAnim !== null", polling="raf", timeout=5_000)
            except Exception:
                continue
            t = page.evaluate("() => window.__laAnim") - t0
            times.append((t / 1e3, t / 1e3))
            page.wait_for_timeout(150)


def _server_side(page, title: str, presses: int, sliders_per_page: int, out: dict) -> None:
    from tests.e2e.browser_utils import wait_idle

    sliders = page.get_by_role("slider")
    for s in range(min(sliders_per_page, sliders.count())):
        slider = sliders.nth(s)
        if not slider.is_visible():
            continue
        slider.scroll_into_view_if_needed()
        times = out.setdefault((title, _label(slider)), [])
        for i in range(presses):
            t = press_and_time(page, slider, "ArrowRight" if i % 2 == 0 else "ArrowLeft")
            if t is not None:
                times.append(t)
            wait_idle(page)


def measure(presses_per_slider: int = 6, sliders_per_page: int = 3,
            only: str | None = None) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """{(page, slider): [(first chart redrawn, all settled) in seconds per press]}; the page
    "reference" is the minimal app in bench/floor_app.py."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser_utils import open_page
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, start_server

    out: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        _link_static()
        for name, script in ((REFERENCE, "floor_app.py"), (FRAGMENT_REFERENCE, "floor_fragment_app.py")):
            proc, url = start_server(script=str(Path(__file__).with_name(script)))
            try:
                open_page(page, url, "", wait_charts=1)
                _server_side(page, name, presses_per_slider, 1, out)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        proc, url = start_server()
        try:
            for topic in TOPICS:
                if only and only.lower() not in topic.title.lower():
                    continue
                open_page(page, url, topic.url, wait_charts=1)
                _server_side(page, topic.title, presses_per_slider, sliders_per_page, out)
                _client_side(page, topic.title, presses_per_slider, out)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        browser.close()
    return out


REFERENCE = "reference"
FRAGMENT_REFERENCE = "fragment reference"


def _link_static() -> None:
    """Streamlit serves app/static/ from the folder of the script it runs: give bench/ the app's."""
    here = Path(__file__).resolve().parent
    (here.parent / "static").mkdir(exist_ok=True)
    link = here / "static"
    if not link.exists():
        link.symlink_to(Path("..") / "static", target_is_directory=True)


INTRO = ("Goal: p50 ≤ 150 ms from a slider key press to its chart redrawn, timed in the page from the keydown "
         "event (until 2026-11-25 the clock started before the harness looked the slider up, which added "
         "6–19 ms). *ours* is the first chart "
         "redrawn after the press; the note adds *settled*: every chart the run changed is redrawn, the "
         "replaced copies are gone and the run is over. The reference, measured in the same run, is the "
         "smallest Streamlit page there is (bench/floor_app.py: one slider, one 50-point chart, a full rerun "
         "and a new st.plotly_chart per press). The second reference row (since 2026-11-26) is the smallest "
         "page built the way LA Lens pages are (bench/floor_fragment_app.py: the slider and the chart in a "
         "fragment, the chart updated in place by LA Lens's chart component): the floor for our sliders on "
         "this machine, so what a page takes beyond it is that page's own elements and charts. Client-side "
         "(Plotly) sliders swap precomputed frames in the browser: click on the rail → `plotly_animated`."
         " The speed of this shared machine varies from run to run by more than the differences between "
         "versions (the first reference took 55–136 ms in different runs; on 2026-11-26 the same code "
         "measured 98 and 136 ms): compare the ratio to the reference, which moves much less.")


def run(quick: bool = False) -> list[Row]:
    if not os.path.exists("/usr/bin/chromium"):
        return [Row("slider → chart redraw", "all pages", float("nan"), "", None, note="chromium missing")]
    results = measure(presses_per_slider=6 if quick else 12)
    floor = [t[0] for t in results.pop((REFERENCE, next(k[1] for k in results if k[0] == REFERENCE)))]
    ref_name = "minimal Streamlit app (bench/floor_app.py: one slider, one 50-point chart)"
    rows = []
    for (title, label), times in results.items():
        what = (f"{title}: '{label}'" if title != FRAGMENT_REFERENCE else
                "second reference: minimal fragment page (bench/floor_fragment_app.py: one slider and one "
                "50-point chart in st.fragment, drawn by LA Lens's chart component)")
        if not times:
            rows.append(Row("slider → chart redrawn (p50)", what, float("nan"), "", None,
                            note="no chart changed (a setting slider)"))
            continue
        first = [t[0] for t in times]
        last = [t[1] for t in times]
        client = label.startswith("client-side")
        note = (f"p95 {_pct(first, 0.95) * 1e3:.0f} ms" if client else
                f"p95 {_pct(first, 0.95) * 1e3:.0f} ms; every chart redrawn and the run over: p50 "
                f"{statistics.median(last) * 1e3:.0f} ms, p95 {_pct(last, 0.95) * 1e3:.0f} ms")
        rows.append(Row("slider → chart redrawn (p50)", what, statistics.median(first),
                        "" if client else ref_name, None if client else statistics.median(floor),
                        device="browser (chromium)", note=f"{note}; {len(times)} presses"))
    return rows


if __name__ == "__main__":
    import sys

    res = measure(presses_per_slider=8, only=sys.argv[1] if len(sys.argv) > 1 else None)
    for (title, label), times in res.items():
        if times:
            f = [t[0] * 1e3 for t in times]
            la = [t[1] * 1e3 for t in times]
            print(f"{title:28s} {label[:40]:40s} first p50 {statistics.median(f):6.0f}  last p50 "
                  f"{statistics.median(la):6.0f}  p95 {_pct(la, 0.95):6.0f} ms")
        else:
            print(f"{title:28s} {label[:40]:40s} no chart change")
