// LA Lens chart (ui/chart.chart): draws a Plotly figure, and when a rerun sends the same chart a
// new figure, updates the plot in place with Plotly.react instead of building a new one.
// Loaded once per page from Streamlit's static file serving (app/static/): plotly.min.js, the copy
// shipped with the Python plotly package, and the template st.plotly_chart's "streamlit" theme gives
// charts in this app's light theme (plotly_template.json) or dark theme (plotly_template_dark.json),
// so both kinds of chart look the same in either.
const STATIC = new URL("app/static/", document.baseURI);
const TEMPLATES = { light: "plotly_template.json", dark: "plotly_template_dark.json" };
let plotly = null;
const templates = {};

function script(url) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url;
    s.onload = resolve;
    s.onerror = () => reject(new Error("could not load " + url));
    document.head.appendChild(s);
  });
}

// Plotly and the template of the theme, each fetched once per page (a template that cannot be
// fetched leaves Plotly's own look rather than no chart).
function load(theme) {
  if (!plotly) {
    plotly = window.Plotly ? Promise.resolve() : script(new URL("plotly.min.js", STATIC));
    plotly.catch(() => { plotly = null; });
  }
  if (!templates[theme]) {
    templates[theme] = fetch(new URL(TEMPLATES[theme], STATIC)).then((r) => (r.ok ? r.json() : null));
    templates[theme].catch(() => { delete templates[theme]; });
  }
  return Promise.all([plotly, templates[theme]]).then(([, t]) => ({ P: window.Plotly, template: t }));
}

// The active Streamlit theme, light or dark, from the page background it gives components
// (--st-background-color; the component runs again when the user switches theme). A canvas turns
// any CSS colour into "#rrggbb" or "rgba(r, g, b, a)"; dark as Streamlit decides it, by luminance.
let paint = null;
function themeOf(el) {
  const bg = getComputedStyle(el).getPropertyValue("--st-background-color").trim();
  if (!bg) return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  paint = paint || document.createElement("canvas").getContext("2d");
  paint.fillStyle = "#ffffff";
  paint.fillStyle = bg;
  const c = paint.fillStyle;
  const [r, g, b] = c[0] === "#" ? [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16))
    : c.match(/[\d.]+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 > 0.5 ? "light" : "dark";
}

// A modebar button that shows the chart full screen (st.plotly_chart has one in its toolbar). One
// object for every update: a config that differs from the last makes Plotly.react rebuild the plot
// and drop its animation frames.
let fullscreen = null;
function fullscreenButton(P) {
  return fullscreen || (fullscreen = {
    name: "fullscreen", title: "Full screen", icon: P.Icons.autoscale,
    click: (gd) => (document.fullscreenElement ? document.exitFullscreen() : gd.requestFullscreen()),
  });
}

// What the "streamlit" theme does besides its template: bold chart titles.
function themed(fig, template) {
  const layout = fig.layout || (fig.layout = {});
  if (template) layout.template = template;
  const title = layout.title;
  if (title && title.text) title.text = "<b>" + title.text + "</b>";
  return fig;
}

// Layout entries sent beside a kept figure (chart(layout=...)): each merged into the figure's own.
function patched(fig) {
  const patch = fig.la_layout;
  delete fig.la_layout;
  if (!patch) return fig;
  const layout = fig.layout || (fig.layout = {});
  for (const [k, v] of Object.entries(patch)) {
    const plainObject = v && typeof v === "object" && !Array.isArray(v);
    layout[k] = plainObject ? Object.assign({}, layout[k] || {}, v) : v;
  }
  return fig;
}

// A kept figure's own traces arrive as one JSON string with a hash (chart(extra=...) on a kept figure):
// parsed only when the hash is new, and otherwise the trace objects drawn last time are passed again,
// which Plotly.react recognises as unchanged (no parse and no recalculation of 100,000 points).
function withBase(fig, gd) {
  const base = fig.la_base;
  delete fig.la_base;
  if (!base) return fig;
  let traces;
  if (gd.__laBase && gd.__laBase.hash === base.hash) traces = gd.__laBase.traces;
  else {
    traces = JSON.parse(base.json);
    gd.__laBase = { hash: base.hash, traces };
  }
  const own = fig.data || [];
  fig.data = own.slice(0, base.at).concat(traces, own.slice(base.at));
  return fig;
}

// Zoom, pan and axis resets of a chart mounted with on_relayout go back to Python as the "relayout"
// trigger (Plotly's relayout data, axis entries only: a resize also fires the event).
function bindRelayout(gd) {
  if (gd.__laRelayout) return;
  gd.__laRelayout = true;
  gd.on("plotly_relayout", (ev) => {
    if (!gd.__laWantsRelayout || !gd.__laTrigger || !ev) return;
    const axes = Object.fromEntries(Object.entries(ev).filter(([k]) => /^[xy]axis\./.test(k)));
    if (Object.keys(axes).length) gd.__laTrigger("relayout", axes);
  });
}

// Clicks on a chart mounted with on_click: the clicked point goes back to Python as the "select"
// trigger, shaped like st.plotly_chart's selection event ({selection: {points: [...]}}).
function plain(v) { return ArrayBuffer.isView(v) ? Array.from(v) : v === undefined ? null : v; }

function bindClicks(gd) {
  if (gd.__laClicks) return;
  gd.__laClicks = true;
  gd.on("plotly_click", (ev) => {
    const p = ev && ev.points && ev.points[0];
    if (!p || !gd.__laTrigger) return;
    gd.__laTrigger("select", { selection: { points: [{
      curve_number: p.curveNumber, point_index: p.pointIndex, x: plain(p.x), y: plain(p.y),
      customdata: plain(p.customdata) }] } });
  });
}

// One chart at a time, and a frame painted between two: when a rerun changes several charts, the
// first (usually the one under the slider) is on screen before the others are drawn, instead of
// after all of them (Plotly.react draws synchronously: drawn back to back, they appear together).
let turn = Promise.resolve();
let painted = null;     // settles once a frame has been painted after the last draw
function afterPaint() {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); setTimeout(resolve, 0); };
    const timer = setTimeout(done, 100);   // no animation frames in a hidden tab
    requestAnimationFrame(done);
  });
}
function drawInTurn(draw) {
  const mine = turn.then(() => painted).then(draw).finally(() => { painted = afterPaint(); });
  turn = mine.catch(() => {});
  return mine;
}

export default function ({ parentElement, data, setTriggerValue }) {
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  let gd = parentElement.querySelector(":scope > .la-chart");
  if (!gd) {
    gd = document.createElement("div");
    gd.className = "la-chart";
    gd.style.width = "100%";
    gd.style.background = "var(--st-background-color, white)";   // behind a full-screen chart too
    // Off screen, the browser skips the chart's style, layout and paint on every update of the page
    // (a chart is hundreds to thousands of SVG nodes); its last size holds its place meanwhile.
    gd.style.contentVisibility = "auto";
    gd.style.containIntrinsicSize = "auto 450px";
    parentElement.appendChild(gd);
    // A chart drawn with config.scrollZoom false leaves the mouse wheel to the page: plotly.js's 3D
    // camera cancels every wheel event on its canvas even then, so the event is stopped on its way
    // down, before it reaches the canvas (the page still scrolls: nothing cancels it).
    gd.addEventListener("wheel", (e) => { if (gd.__laNoWheel) e.stopPropagation(); }, { capture: true });
    // Redraw at the new width when the column or tab changes size (or a hidden tab is shown).
    new ResizeObserver((entries) => {
      const w = Math.round(entries[0].contentRect.width);
      if (w > 0 && gd._fullLayout && w !== gd.__laWidth && window.Plotly) {
        gd.__laWidth = w;
        window.Plotly.Plots.resize(gd);
      }
    }).observe(gd);
  }
  gd.__laTrigger = setTriggerValue;
  const theme = themeOf(parentElement);
  // a rerun that sends the same figure in the same theme: nothing to redraw
  if (gd.__laSpec === text && gd.__laTheme === theme) return;
  gd.__laSpec = text;                // the newest figure and theme win if several arrive while loading
  gd.__laTheme = theme;
  load(theme).then(({ P, template }) => drawInTurn(() => {
    if (gd.__laSpec !== text || gd.__laTheme !== theme) return;
    const fig = themed(patched(withBase(JSON.parse(text), gd)), template);
    const clicks = fig.la_clicks;
    delete fig.la_clicks;
    gd.__laWantsRelayout = !!fig.la_relayout;
    delete fig.la_relayout;
    fig.config = Object.assign(fig.config || {}, { modeBarButtonsToAdd: [fullscreenButton(P)] });
    gd.__laNoWheel = fig.config.scrollZoom === false;
    gd.__laWidth = Math.round(gd.getBoundingClientRect().width);
    return P.react(gd, fig).then(() => {
      gd.dataset.laTheme = theme;    // the theme the chart is drawn in (read by tests/e2e/test_themes.py)
      if (clicks) bindClicks(gd);
      if (gd.__laWantsRelayout) bindRelayout(gd);
      // a full rebuild inside Plotly.react can leave a chart without its animation frames
      const have = gd._transitionData && gd._transitionData._frames;
      if (fig.frames && fig.frames.length && !(have && have.length)) return P.addFrames(gd, fig.frames);
    });
  })).catch((err) => {
    gd.textContent = "This chart could not be drawn: " + err.message;
  });
}
