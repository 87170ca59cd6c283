"""Browser checks that a page reads well at a given window width: metric values and labels not cut, chart
titles inside their charts, and no chart's title, legend, slider, buttons or x-axis title on top of each other."""
from __future__ import annotations

# Reads every metric value and label and chart title as the browser lays it out: a value is cut when its text
# is wider than its box (or Streamlit has put an ellipsis in), a title when its text runs past the
# edge of its chart; and it lists a chart's title, legend, slider, buttons and x-axis title that run into each
# other.
LAYOUT_REPORT = """() => {
  const cut = [];
  for (const el of document.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stMetricLabel"]')) {
    const boxes = [el, ...el.querySelectorAll('*')];
    const text = el.innerText.trim();
    if (text.endsWith('…') || text.endsWith('...')
        || boxes.some(b => b.clientWidth > 0 && b.scrollWidth > b.clientWidth + 1))
      cut.push(text);
  }
  const titles = [], overlaps = [];
  const inside = (r, l) => r.left < l.right && l.left < r.right && r.top < l.bottom && l.top < r.bottom;
  for (const [k, plot] of Array.from(document.querySelectorAll('.js-plotly-plot')).entries()) {
    const box = plot.getBoundingClientRect();
    if (box.width === 0) continue;                       // inside a closed expander
    // a slider by its visible pieces: its container's box also holds an invisible touch area
    const parts = [['title', '.gtitle'], ['legend', '.legend'],
                   ['slider', '.slider-rail-rect, .slider-label, .slider-current-value'],
                   ['buttons', '.updatemenu-container'], ['x-axis title', '.xtitle']]
      .flatMap(([name, sel]) => Array.from(plot.querySelectorAll(sel)).map(e => [name, e.getBoundingClientRect()]))
      .filter(([, r]) => r.width > 0 && r.height > 0);
    for (const [name, r] of parts) {
      if (name === 'title')
        titles.push({text: plot.querySelector('.gtitle').textContent, left: r.left - box.left,
                     right: r.right - box.left, width: box.width});
    }
    for (let i = 0; i < parts.length; i++)
      for (let j = i + 1; j < parts.length; j++)
        if (parts[i][0] !== parts[j][0] && inside(parts[i][1], parts[j][1])) overlaps.push(`chart ${k}: ${parts[i][0]} / ${parts[j][0]}`);
  }
  return {cut, titles, overlaps, metrics: document.querySelectorAll('[data-testid="stMetricValue"]').length};
}"""




def open_expanders(page) -> None:
    """Open every expander on the page (their charts are drawn with zero width while closed)."""
    for summary in page.locator('[data-testid="stExpander"] summary').all():
        summary.click()
        page.wait_for_timeout(300)
    page.wait_for_timeout(1000)


def layout_report(page) -> dict:
    """Scroll every chart into view (so it is drawn) and return :data:`LAYOUT_REPORT`'s findings:
    ``cut`` (metric texts cut), ``titles`` (each title's left/right edge and its chart's width),
    ``overlaps`` ("title / legend", …) and ``metrics`` (how many metric values there are)."""
    plots = page.locator(".js-plotly-plot")
    for i in range(plots.count()):
        plots.nth(i).scroll_into_view_if_needed()
        page.wait_for_timeout(200)
    return page.evaluate(LAYOUT_REPORT)


def assert_fits(report: dict) -> None:
    assert report["cut"] == [], report["cut"]
    for t in report["titles"]:
        assert t["left"] >= -1 and t["right"] <= t["width"] + 1, t
    assert report["overlaps"] == [], report["overlaps"]
