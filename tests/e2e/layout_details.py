"""Browser checks of the details :mod:`tests.e2e.layout_checks` leaves out, for a page at a given window width:
inside each chart, the titles, subplot titles, annotations, legend, colour bar and tick labels neither leave
the chart nor run into each other; and on the page, no selectbox value, multiselect chip, text box, page link,
button or table is cut."""
from __future__ import annotations

# Per drawn chart: the boxes of its texts. Titles, subplot titles and annotations, axis titles, the legend
# and the colour bar's title must lie inside the chart and clear of each other and of every tick label
# (Plotly hides tick labels that collide with each other, not with anything else); a colour bar must not
# cover another axis's tick labels. Annotations drawn on purpose over the data (arrow labels) are text too:
# they must not cover a title or a tick label either. Labels on points (a scatter's text) must stay inside
# the plotting area, where Plotly clips them. On the page: selectbox values, multiselect chips and
# page links wider than their box, buttons whose label is cut, text boxes whose value does not fit (named
# by their widget key: free text may be allowed to scroll), and tables or data frames that scroll sideways
# (a hidden column).
DETAILS_REPORT = """() => {
  const out = {outside: [], overlaps: [], colorbar: [], cut: [], tables: [], inputs: []};
  const meets = (a, b) => a.left < b.right - 2 && b.left < a.right - 2 && a.top < b.bottom - 2 && b.top < a.bottom - 2;
  const shown = (r) => r.width > 0 && r.height > 0;
  const short = (e) => (e.textContent || '').trim().slice(0, 40);
  for (const [k, plot] of Array.from(document.querySelectorAll('.js-plotly-plot')).entries()) {
    const box = plot.getBoundingClientRect();
    if (box.width === 0) continue;                                   // inside a closed expander
    const texts = Array.from(plot.querySelectorAll(
        '.gtitle, .annotation-text, .g-xtitle text, .g-ytitle text, [class*="g-x"][class*="title"] text,'
        + ' [class*="g-y"][class*="title"] text, .cbtitle text, .legend'))
      .filter((e, i, all) => all.indexOf(e) === i)
      .map(e => [short(e), e.getBoundingClientRect()]).filter(([, r]) => shown(r));
    const ticks = Array.from(plot.querySelectorAll('[class*="tick"] > text'))
      .map(e => [short(e), e.getBoundingClientRect()]).filter(([t, r]) => t && shown(r));
    for (const [t, r] of texts)
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.outside.push(`chart ${k}: ${t}`);
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++)
        if (meets(texts[i][1], texts[j][1])) out.overlaps.push(`chart ${k}: ${texts[i][0]} / ${texts[j][0]}`);
      for (const [t, r] of ticks)
        if (meets(texts[i][1], r)) { out.overlaps.push(`chart ${k}: ${texts[i][0]} / tick ${t}`); break; }
    }
    for (const cb of plot.querySelectorAll('.colorbar')) {
      const bar = cb.querySelector('.cbfills, .cbfill');
      if (!bar) continue;
      const r = bar.getBoundingClientRect();
      const own = Array.from(cb.querySelectorAll('text'));
      const hit = Array.from(plot.querySelectorAll('[class*="tick"] > text'))
        .filter(t => !own.includes(t) && t.textContent.trim() && meets(t.getBoundingClientRect(), r));
      if (hit.length) out.colorbar.push(`chart ${k}: colour bar over tick ${short(hit[0])}`);
    }
    // labels on points (markers+text) of a 2D plot: cut where they cross the edge of the plotting area
    for (const sub of plot.querySelectorAll('.cartesianlayer .subplot')) {
      const id = Array.from(sub.classList).find(c => c !== 'subplot');
      const drag = plot.querySelector(`.draglayer .${id} .nsewdrag`);
      if (!drag) continue;
      const area = drag.getBoundingClientRect();
      for (const t of sub.querySelectorAll('.scatterlayer .textpoint text')) {
        const r = t.getBoundingClientRect();
        if (t.textContent.trim() && shown(r) && (r.left < area.left - 1 || r.right > area.right + 1
                                                 || r.top < area.top - 1 || r.bottom > area.bottom + 1))
          out.outside.push(`chart ${k}: point label ${short(t)} past the plot's edge`);
      }
    }
    for (const b of plot.querySelectorAll('.updatemenu-button')) {
      const r = b.getBoundingClientRect();
      if (shown(r) && (r.left < box.left - 1 || r.right > box.right + 1)) out.cut.push(`chart ${k}: button ${short(b)}`);
    }
  }
  const wider = (e) => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1;
  for (const e of document.querySelectorAll('[data-testid="stSelectbox"] input, [data-testid="stMultiSelect"] input'))
    if (wider(e)) out.cut.push(`selectbox ${e.value}`);
  for (const link of document.querySelectorAll('[data-testid="stPageLink"]'))
    for (const e of [link, ...link.querySelectorAll('*')])
      if (wider(e)) { out.cut.push(`page link ${short(link)}`); break; }
  // a button's label can be cut in its markdown container (a div with an ellipsis), not only in p or span
  for (const btn of document.querySelectorAll('[data-testid="stMain"] button'))
    for (const e of btn.querySelectorAll('p, span, div'))
      if (wider(e)) { out.cut.push(`button ${short(btn)}`); break; }
  // a text box shows its value whole (anchor lists, short entries), unless it is free text allowed to scroll
  for (const e of document.querySelectorAll('[data-testid="stTextInput"] input'))
    if (wider(e)) {
      const key = (e.closest('[class*="st-key-"]') || e).className.toString().match(/st-key-(\S+)/);
      out.inputs.push({key: key ? key[1] : '', value: e.value.slice(0, 40)});
    }
  // a multiselect's chips: a long option is cut with an ellipsis in the chip's innermost span
  for (const e of document.querySelectorAll('[data-testid="stMultiSelectTagsContainer"] span'))
    if (wider(e) && !e.querySelector('span')) out.cut.push(`multiselect chip ${short(e)}`);
  for (const t of document.querySelectorAll('[data-testid="stTable"]'))
    if (wider(t) || (t.querySelector('table') && t.querySelector('table').getBoundingClientRect().width
                     > t.getBoundingClientRect().width + 1)) out.tables.push(`table ${short(t.querySelector('th') || t)}`);
  for (const d of document.querySelectorAll('[data-testid="stDataFrame"]')) {
    const s = d.querySelector('.dvn-scroller');
    if (s && wider(s)) out.tables.push(`data frame ${d.parentElement.className.match(/st-key-\\S+/) || ''}`);
  }
  return out;
}"""


def details_report(page) -> dict:
    """:data:`DETAILS_REPORT`'s findings for the page as drawn now (scroll the charts into view first, e.g. with
    :func:`tests.e2e.layout_checks.layout_report`): ``outside`` (chart texts past the chart's edge),
    ``overlaps`` (chart texts on each other or on tick labels), ``colorbar`` (a colour bar over tick labels),
    ``cut`` (selectbox values, multiselect chips, page links and buttons cut), ``tables`` (tables scrolling
    sideways) and ``inputs`` (text boxes whose value does not fit: ``{"key", "value"}``)."""
    return page.evaluate(DETAILS_REPORT)


def assert_details_fit(report: dict, scrolling_tables: int = 0, scrolling_inputs=()) -> None:
    """Nothing cut or overlapping; ``scrolling_tables``: how many wide data frames may scroll sideways (a
    many-column table, scrolled on purpose); ``scrolling_inputs``: keys of text boxes whose value may be
    longer than the box (free text, scrolled as in any editor)."""
    for name in ("outside", "overlaps", "colorbar", "cut"):
        assert report[name] == [], (name, report[name])
    assert len(report["tables"]) <= scrolling_tables, report["tables"]
    cut = [i for i in report["inputs"] if i["key"] not in scrolling_inputs]
    assert cut == [], cut


def check_page_fits(browser, server: str, url_path: str, width: int, name: str, wait_charts: int = 0,
                    prepare=None, scrolling_tables: int = 0, scrolling_inputs=()) -> tuple[dict, dict]:
    """Open ``url_path`` at ``width`` px (the sidebar open), open its expanders, run ``prepare(page)`` if given,
    and check both reports (:func:`tests.e2e.layout_checks.assert_fits`, :func:`assert_details_fit`).
    Screenshots ``<name>-<width>px-light.png`` and, with the browser asking for a dark scheme,
    ``<name>-<width>px-dark.png`` go to tests/artifacts/. Returns (layout report, details report)."""
    from tests.e2e.browser_utils import EXCEPTION, open_page, screenshot, wait_charts_drawn, wait_idle
    from tests.e2e.layout_checks import assert_fits, layout_report, open_expanders

    context = browser.new_context(viewport={"width": width, "height": 1000}, color_scheme="light")
    page = context.new_page()
    try:
        open_page(page, server, url_path, wait_charts=wait_charts)
        if prepare is not None:
            prepare(page)
        open_expanders(page)
        wait_idle(page)
        wait_charts_drawn(page, wait_charts)
        report = layout_report(page)
        details = details_report(page)
        screenshot(page, f"{name}-{width}px-light")
        page.emulate_media(color_scheme="dark")       # the app follows the system theme: the charts redraw
        page.wait_for_timeout(1500)
        screenshot(page, f"{name}-{width}px-dark")
        assert page.locator(EXCEPTION).count() == 0
        assert_fits(report)
        assert_details_fit(details, scrolling_tables, scrolling_inputs)
        return report, details
    finally:
        context.close()
