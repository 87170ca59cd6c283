"""The PCA page in Chromium: example view, neighbours slider, real uploads, session isolation."""
import io
import re

import numpy as np
import pytest

from tests.e2e.browser_utils import (EXCEPTION, chart_data, open_page, press_slider, screenshot, stale_after_press,
                                     wait_charts_drawn, wait_idle)
from tests.e2e.layout_details import check_page_fits

pytestmark = pytest.mark.e2e

N_CHARTS = 4


def tall(page, height: int = 4600) -> None:
    page.set_viewport_size({"width": 1440, "height": height})
    page.wait_for_timeout(800)


def npy(n: int, d: int, seed: int) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32))
    return buf.getvalue()


def traces(page, chart: int = 1) -> list[dict]:
    """Name and point count of every trace as Plotly drew it (typed arrays decoded by Plotly)."""
    wait_charts_drawn(page, chart + 1)
    return page.evaluate(
        """(i) => document.querySelectorAll('.js-plotly-plot')[i]._fullData.map(
               t => ({name: t.name, n: t.x ? t.x.length : 0}))""", chart)


def n_points(page, chart: int = 1) -> int:
    """Points in the category traces of the scatter (highlight traces left out)."""
    return sum(t["n"] for t in traces(page, chart) if t["name"] not in ("nearest neighbours", "selected", "anchors"))


def ring(page) -> int:
    return next(t["n"] for t in traces(page, 1) if t["name"] == "nearest neighbours")


def upload(page, name: str, data: bytes, which: int = 0) -> None:
    """Send a file through the real uploader widget (its hidden input[type=file])."""
    if page.locator('[data-testid="stFileUploader"]').count() == 0:
        page.get_by_text("Upload files", exact=True).click()
        page.wait_for_selector('[data-testid="stFileUploader"]', timeout=30_000)
        wait_idle(page)
    box = page.locator('[data-testid="stFileUploader"]').nth(which)
    box.locator('input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])
    page.wait_for_timeout(800)
    wait_idle(page)


def caption_rows(page) -> str:
    txt = page.locator('[data-testid="stCaptionContainer"]').filter(has_text=re.compile("rows ×")).first.inner_text()
    return re.search(r"([\d,]+) rows × (\d+) dimensions", txt).group(0)


def test_pca_page_example_and_neighbour_slider(page, server):
    open_page(page, server, "pca", wait_charts=N_CHARTS)
    assert page.locator("h1").first.inner_text().startswith("PCA of embeddings")
    assert n_points(page) == 235
    assert ring(page) == 10
    press_slider(page, "Neighbours k", "ArrowRight", 2)
    assert ring(page) == 12
    assert "k=" not in page.url and "point=" in page.url      # view state lives in the URL
    tall(page)
    screenshot(page, "pca-example")


def test_upload_bad_then_good_file(page, server):
    open_page(page, server, "pca", wait_charts=N_CHARTS)
    upload(page, "broken.csv", b"1,2,3\n4,nan,6\n7,8,9\n")
    assert page.locator(EXCEPTION).count() == 0
    err = page.locator('[data-testid="stAlert"]').filter(has_text="broken.csv").first
    assert err.is_visible()
    assert page.locator(".js-plotly-plot").count() >= 3        # still showing the example
    tall(page, 1600)
    screenshot(page, "pca-bad-upload")
    upload(page, "mine.npy", npy(120, 9, seed=1))
    assert page.locator(EXCEPTION).count() == 0
    assert caption_rows(page) == "120 rows × 9 dimensions"
    assert n_points(page) == 120
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Selected point").first
    assert picker.locator("input").first.input_value() == "row 0"   # this file's labels, not the example's
    tall(page, 3200)
    screenshot(page, "pca-upload")


def test_two_sessions_never_share_uploads(browser, server):
    ctx_a = browser.new_context(viewport={"width": 1440, "height": 1000})
    ctx_b = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        a, b = ctx_a.new_page(), ctx_b.new_page()
        open_page(a, server, "pca", wait_charts=N_CHARTS)
        open_page(b, server, "pca", wait_charts=N_CHARTS)
        upload(a, "same_name.npy", npy(37, 5, seed=2))
        upload(b, "same_name.npy", npy(53, 7, seed=3))
        a.reload()
        b.wait_for_timeout(300)
        # A reloaded: a fresh session, nothing uploaded, so the example (not B's file)
        open_page(a, server, "pca", wait_charts=N_CHARTS)
        assert caption_rows(a).startswith("235 rows")
        assert caption_rows(b) == "53 rows × 7 dimensions" and n_points(b) == 53
        upload(a, "same_name.npy", npy(37, 5, seed=2))
        assert caption_rows(a) == "37 rows × 5 dimensions" and n_points(a) == 37
        wait_idle(b)
        assert caption_rows(b) == "53 rows × 7 dimensions"
        c = browser.new_context().new_page()
        open_page(c, server, "pca", wait_charts=N_CHARTS)
        assert caption_rows(c).startswith("235 rows")      # a third session sees neither upload
        c.context.close()
    finally:
        ctx_a.close()
        ctx_b.close()


# Screen position (page pixels) of point j of a trace of chart i: the trace called `name`, or the
# first category trace when name is null.
_SCREEN = """([i, name, j]) => { const g = document.querySelectorAll('.js-plotly-plot')[i];
  const d = g._fullData.find(t => name === null
    ? !['nearest neighbours', 'selected', 'anchors'].includes(t.name) : t.name === name);
  const fl = g._fullLayout, r = g.getBoundingClientRect();
  return [r.left + fl.xaxis._offset + fl.xaxis.l2p(d.x[j]), r.top + fl.yaxis._offset + fl.yaxis.l2p(d.y[j])]; }"""


def test_clicking_a_point_selects_it(page, server):
    """A click on a point of the 2D scatter makes it the selected point (the star moves there)."""
    open_page(page, server, "pca", wait_charts=N_CHARTS)
    tall(page)
    before = page.evaluate(_SCREEN, [1, "selected", 0])
    for j in (0, 7, 20):                       # a point away from the current selection
        x, y = page.evaluate(_SCREEN, [1, None, j])
        if abs(x - before[0]) + abs(y - before[1]) > 30:
            break
    page.mouse.click(x, y)
    page.wait_for_function(f"() => {{ const p = ({_SCREEN})([1, 'selected', 0]); return Math.abs(p[0] - {x}) + Math.abs(p[1] - {y}) < 12; }}",
                           timeout=20_000)
    wait_idle(page)
    assert page.locator(EXCEPTION).count() == 0


def test_neighbours_k_reruns_only_the_picture_and_the_list(page, server):
    """Issue 9: the point, metric and k widgets rerun the picture and the neighbour list (a fragment
    inside the view's fragment), not the view controls above them."""
    open_page(page, server, "pca", wait_charts=N_CHARTS)
    stale = stale_after_press(page, "Neighbours k", "ArrowRight")
    assert ring(page) == 11                                   # the picture was redrawn with one more ring
    view = ("st-key-pca_dims", "st-key-pca_x", "st-key-pca_y", "st-key-pca_z", "st-key-pca_color")
    assert not [c for c in stale if any(k in c for k in view)], stale


def chart_shot(page, i: int, name: str) -> str:
    """Screenshot of the i-th chart alone into tests/artifacts/NAME.png."""
    from tests.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    el = page.locator(".js-plotly-plot").nth(i)
    el.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    el.screenshot(path=str(path))
    return str(path)


def test_selected_point_and_its_neighbours_are_readable(page, server):
    """The picture with "king" selected: five labelled rings around a hollow star, the rest on hover, and
    sixteen categories in distinct colours (the screenshot is for a person to look at)."""
    open_page(page, server, "pca?point=king", wait_charts=N_CHARTS)
    tall(page, 1800)
    data = traces(page)
    ring_trace = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[1]._fullData
        .find(t => t.name === 'nearest neighbours').texttemplate""")
    assert sum(1 for t in ring_trace if t) == 5
    colours = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[1]._fullData
        .filter(t => !['nearest neighbours', 'selected'].includes(t.name)).map(t => t.marker.color)""")
    assert len(colours) == 16 and len(set(colours)) == 16
    # the five labels are drawn as text and do not overlap one another
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')[1]
        .querySelectorAll('.scatterlayer .trace .textpoint text')).filter(t => t.textContent)
        .map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.top, r.right, r.bottom]; })""")
    chart_shot(page, 1, "pca-neighbours")
    names = [b[0] for b in boxes]
    assert "king" in names and len(names) == 6, names                  # the star's label and five rings'
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i][1:], boxes[j][1:]
            ox = min(a[2], b[2]) - max(a[0], b[0])
            oy = min(a[3], b[3]) - max(a[1], b[1])
            assert ox <= 2 or oy <= 2, (boxes[i], boxes[j])
    assert any(t["name"] == "selected" for t in data)


def test_typing_an_anchor_and_enter_adds_exactly_that_label(page, server):
    open_page(page, server, "pca", wait_charts=N_CHARTS)
    tall(page, 4600)
    for key, word in (("pca_ax1_a", "happy"), ("pca_ax1_b", "sad")):
        box = page.locator(f".st-key-{key} input")
        box.fill(word)
        box.press("Enter")
        wait_idle(page)
    for key in ("pca_ax2_a", "pca_ax2_b"):
        box = page.locator(f".st-key-{key} input")
        box.fill("")
        box.press("Enter")
        wait_idle(page)
    assert page.locator(EXCEPTION).count() == 0
    anchors = next(t for t in chart_data(page, 3) if t["name"] == "anchors")
    assert sorted(anchors["text"]) == ["happy", "sad"]
    x = dict(zip(anchors["text"], anchors["x"]))
    assert x["sad"] < x["happy"]
    title = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[3]._fullLayout.xaxis.title.text")
    assert title == "← sad · axis 1 · happy →"
    chart_shot(page, 3, "pca-semantic-axis")


def test_the_wheel_scrolls_the_page_over_the_3d_chart(page, server):
    open_page(page, server, "pca", wait_charts=N_CHARTS)
    page.get_by_text("3D", exact=True).first.click()          # the view's radio (the layers section has its own)
    wait_idle(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot')[1]._fullData[0].type === 'scatter3d'",
                           timeout=30_000)
    scrolled = """() => [window.scrollY, ...Array.from(document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stAppViewContainer"], section.main')).map(e => e.scrollTop)]
        .reduce((a, b) => a + b, 0)"""
    chart = page.locator(".js-plotly-plot").nth(1)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = chart.bounding_box()
    before = page.evaluate(scrolled)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 300))
    for _ in range(3):
        page.mouse.wheel(0, 200)
        page.wait_for_timeout(200)
    page.wait_for_timeout(500)
    assert page.evaluate(scrolled) > before + 100


def test_the_csv_export_holds_the_semantic_axes(page, server):
    import pandas as pd

    from la_core.neighbors import semantic_axes
    from tests.conftest import ROOT

    open_page(page, server, "pca", wait_charts=N_CHARTS)
    tall(page, 4600)
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_text("Download CSV", exact=True).click()
    got = pd.read_csv(dl.value.path())
    df = pd.read_parquet(ROOT / "data" / "example_embeddings.parquet")
    X = np.stack(df["vector"].to_numpy()).astype(np.float32)
    lab = list(df["label"])
    g = lambda ws: [lab.index(w) for w in ws]  # noqa: E731
    res = semantic_axes(X, (g(["man", "king", "he", "boy", "father"]), g(["woman", "queen", "she", "girl", "mother"])),
                        (g(["king", "queen", "prince", "princess", "emperor", "empress"]),
                         g(["man", "woman", "boy", "girl", "husband", "wife"])))
    cols = ["semantic axis 1: woman, queen, she… → man, king, he…",
            "semantic axis 2: man, woman, boy… → king, queen, prince…"]
    assert list(got["label"]) == lab and all(c in got.columns for c in cols), list(got.columns)
    np.testing.assert_allclose(got[cols].to_numpy(), res.coords, atol=1e-5)


def test_texts_then_search_rings_the_nearest(page, server):
    """Texts source → its scatter → a query → the nearest texts ringed and the query drawn as a star."""
    open_page(page, server, "pca", wait_charts=N_CHARTS)
    page.get_by_text("Texts (embed with the chosen model)", exact=True).click()
    page.wait_for_selector('textarea[aria-label="Texts, one per line"]', timeout=60_000)
    wait_idle(page, timeout=180_000)
    wait_charts_drawn(page, 2)
    assert n_points(page) == 15                      # the default lines, one point each
    box = page.get_by_role("textbox", name="Search by meaning (embedded with all-MiniLM-L6-v2)")
    box.fill("a sleepy little cat")
    box.press("Enter")
    wait_idle(page)
    page.wait_for_function("""() => { const p = document.querySelectorAll('.js-plotly-plot')[1];
        return p && p._fullData && p._fullData.some(t => t.name === 'query'); }""", timeout=60_000)
    names = {t["name"]: t["n"] for t in traces(page, 1)}
    assert names["query"] == 1 and names["search results"] == 10
    first = page.locator('[data-testid="stTable"]').first.inner_text()
    assert "kitten" in first.lower() or "cat" in first.lower()
    assert page.locator(EXCEPTION).count() == 0
    tall(page)
    screenshot(page, "pca_texts_search")


@pytest.mark.parametrize("width", [900, 1920])
def test_pca_reads_well_from_900_to_1920_px(browser, server, width):
    """At 900 px (sidebar open: a main column of about 440 px) and at 1,920 px: the scree, picture, analogy,
    semantic-axes and layer charts with titles, legends and colour bars inside and clear of each other; the
    axis, metric and point selectboxes show their whole value; the neighbour, analogy and layer tables show
    every column; the anchor boxes show all their labels; the trustworthiness metric whole."""
    report, _ = check_page_fits(browser, server, "pca?point=king", width, "pca", wait_charts=6)
    assert report["metrics"] >= 1 and len(report["titles"]) >= 6, report
