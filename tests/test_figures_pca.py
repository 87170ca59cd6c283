"""figures.pca.analogy_figure: A − B + C in a 2D view, checked on what the figure shows: the points in
grey, the three arrows (A − B, the same offset moved to C, C to the top answer), the words, the axes
and the zoom onto the words."""
import numpy as np
import pytest

from figures import pca as fp
from figures.common import COLORS


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(40, 2))
    labels = np.array([f"w{i}" for i in range(40)])
    rows = [3, 7, 11, 20, 25]                                # A, B, C and two answers, best first
    words = [str(labels[r]) for r in rows]
    fig = fp.analogy_figure(coords, coords[rows], words, axis_titles=["PC1", "PC3"], title="w3 − w7 + w11",
                            labels=labels, index=np.arange(100, 140))
    return coords, rows, words, fig


def _xy(trace):
    return np.column_stack([np.asarray(trace.x, float), np.asarray(trace.y, float)])


def test_traces_in_drawing_order(case):
    *_, fig = case
    assert [t.type for t in fig.data] == ["scatter"] * 5
    assert [t.name for t in fig.data] == ["points", "w7 → w3 (A − B)", "w11 + (A − B)", "w11 → w20 (top answer)",
                                          "A, B, C and answers"]


def test_background_points_are_grey_with_their_labels_and_rows(case):
    coords, _, _, fig = case
    pts = fig.data[0]
    assert pts.mode == "markers" and pts.marker.color == "#ced4da" and pts.showlegend is False
    np.testing.assert_allclose(_xy(pts), coords, rtol=1e-6)              # float32 on the wire
    assert list(pts.customdata) == list(range(100, 140))
    assert "w5" in pts.text[5]


def test_arrows_go_from_b_to_a_from_c_by_the_same_offset_and_from_c_to_the_answer(case):
    coords, rows, _, fig = case
    a, b, c, d = coords[rows[:4]]
    expected = [(b, a, COLORS["e1"], None), (c, c + (a - b), COLORS["u"], "dash"), (c, d, COLORS["x"], None)]
    for tr, (start, end, colour, dash) in zip(fig.data[1:4], expected):
        np.testing.assert_allclose(_xy(tr), [start, end], rtol=1e-6, atol=1e-6)
        assert tr.mode == "lines+markers" and list(tr.marker.symbol) == ["circle", "arrow"]   # a head at the end
        assert tr.line.color == colour and tr.marker.color == colour and tr.line.dash == dash
        assert tr.line.width == 2.5


def test_the_words_are_labelled_markers(case):
    coords, rows, words, fig = case
    w = fig.data[4]
    assert w.mode == "markers+text" and list(w.text) == words
    lay = fig.layout                            # placed clear of each other and of the zoomed view's edges
    span = ([lay.xaxis.range[0], lay.yaxis.range[0]], [lay.xaxis.range[1], lay.yaxis.range[1]])
    assert list(w.textposition) == fp.label_positions(coords[rows], words, span=span)
    np.testing.assert_allclose(_xy(w), coords[rows], rtol=1e-6)
    assert w.marker.color == "#868E96"                 # mid grey: seen on the light and the dark background


def test_axes_titles_and_zoom_onto_the_words_and_where_c_plus_offset_lands(case):
    coords, rows, _, fig = case
    lay = fig.layout
    assert lay.xaxis.title.text == "PC1" and lay.yaxis.title.text == "PC3"
    assert lay.title.text == "w3 − w7 + w11" and lay.height == 520
    a, b, c = coords[rows[:3]]
    ends = np.vstack([coords[rows], c + a - b])
    for axis, k in ((lay.xaxis, 0), (lay.yaxis, 1)):
        lo, hi = axis.range
        span = ends[:, k].max() - ends[:, k].min()
        assert lo == pytest.approx(ends[:, k].min() - 0.25 * span)   # a quarter of the span as margin
        assert hi == pytest.approx(ends[:, k].max() + 0.25 * span)
    outside = (coords[:, 0] < lay.xaxis.range[0]) | (coords[:, 0] > lay.xaxis.range[1])
    assert outside.any()                                                # zoomed in: some context points are off


# ----------------------------------------------------------------------------- category colours
def _lab(hex_colour: str) -> np.ndarray:
    """CIELAB (D65) of an sRGB hex colour."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = m @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005)."""
    (L1, a1, b1), (L2, a2, b2) = lab1, lab2
    cbar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(cbar ** 7 / (cbar ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = np.degrees(np.arctan2(b1, a1p)) % 360, np.degrees(np.arctan2(b2, a2p)) % 360
    dh = 0.0 if c1p * c2p == 0 else (h2p - h1p + 180) % 360 - 180
    dHp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lbar, cbarp = (L1 + L2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbar = (h1p + h2p) / 2
    else:
        hbar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(hbar - 30)) + 0.24 * np.cos(np.radians(2 * hbar))
         + 0.32 * np.cos(np.radians(3 * hbar + 6)) - 0.20 * np.cos(np.radians(4 * hbar - 63)))
    rc = 2 * np.sqrt(cbarp ** 7 / (cbarp ** 7 + 25 ** 7))
    rt = -np.sin(np.radians(60 * np.exp(-(((hbar - 275) / 25) ** 2)))) * rc
    sl = 1 + 0.015 * (lbar - 50) ** 2 / np.sqrt(20 + (lbar - 50) ** 2)
    sc, sh = 1 + 0.045 * cbarp, 1 + 0.015 * cbarp * t
    dl, dc = (L2 - L1) / sl, (c2p - c1p) / sc
    return float(np.sqrt(dl ** 2 + dc ** 2 + (dHp / sh) ** 2 + rt * dc * (dHp / sh)))


@pytest.mark.parametrize("lab1, lab2, expected", [           # Sharma et al.'s published test pairs
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
])
def test_colour_difference_matches_the_published_pairs(lab1, lab2, expected):
    assert _ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def _min_difference(colours) -> float:
    labs = [_lab(c) for c in colours]
    return min(_ciede2000(labs[i], labs[j]) for i in range(len(labs)) for j in range(i + 1, len(labs)))


def test_twenty_category_colours_are_told_apart():
    """Every pair of the 20 colours differs clearly (CIEDE2000 >= 16; 2 is 'just noticeable'), none is
    close to either page background, the grey of 'other' or the highlights, and each stands out on both
    themes (contrast >= 2.5:1 against white and against the dark background)."""
    assert len(fp.PALETTE) == fp.MAX_CATEGORIES == 20
    assert _min_difference(fp.PALETTE) >= 16
    for fixed in ("#ffffff", DARK_BACKGROUND, fp.OTHER_GREY, fp.RING):
        assert min(_ciede2000(_lab(c), _lab(fixed)) for c in fp.PALETTE) >= 18, fixed
    for c in (*fp.PALETTE, fp.RING):
        assert _contrast(c, "#ffffff") >= 2.5 and _contrast(c, DARK_BACKGROUND) >= 2.5, c


DARK_BACKGROUND = "#171614"   # the dark theme's page and chart background (ui/plotly_template_dark.json)


def _luminance(colour: str) -> float:
    c = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_dark24_would_fail_the_colour_test():
    """The measure can fail: Plotly's Dark24, used before, has near-identical magentas."""
    import plotly.colors as pc

    assert _min_difference(pc.qualitative.Dark24[:20]) < 10


def _categories(n_cat: int, m: int = 400):
    rng = np.random.default_rng(3)
    cats = np.array([f"c{i:02d}" for i in range(n_cat)])[rng.integers(0, n_cat, m)]
    return rng.normal(size=(m, 2)), cats


def test_up_to_twenty_categories_each_get_their_own_colour():
    xy, cats = _categories(20)
    fig = fp.scatter(xy, color=cats, color_name="group")
    colours = [t.marker.color for t in fig.data]
    assert len(fig.data) == 20 and len(set(colours)) == 20 and set(colours) <= set(fp.PALETTE)
    assert "others grey" not in (fig.layout.title.text or "")


def test_beyond_twenty_categories_the_top_twenty_are_coloured_and_the_rest_grey_with_a_note():
    xy, cats = _categories(27)
    fig = fp.scatter(xy, color=cats, color_name="group", title="view")
    names, counts = np.unique(cats, return_counts=True)
    top = names[np.argsort(-counts, kind="stable")][:20]
    assert [t.name for t in fig.data[:20]] == list(top)
    assert [t.marker.color for t in fig.data[:20]] == list(fp.PALETTE)
    other = fig.data[20]
    assert other.name == fp.OTHER and other.marker.color == fp.OTHER_GREY
    assert len(other.x) == int(np.isin(cats, top, invert=True).sum())
    assert "showing the top 20 of 27 categories, others grey" in fig.layout.title.text


def test_points_without_labels_are_named_by_their_row_number():
    xy = np.random.default_rng(2).normal(size=(50, 2))
    tr = fp.scatter_points(xy, index=np.arange(100, 150)).data[0]
    assert tr.text is None and tr.hovertemplate.startswith("row %{customdata}<br>")
    assert list(tr.customdata[:2]) == [100, 101]
    named = fp.scatter_points(xy, labels=[f"w{i}" for i in range(50)]).data[0]
    assert list(named.text[:2]) == ["w0", "w1"] and named.hovertemplate.startswith("%{text}<br>row %{customdata}")


# ----------------------------------------------------------------------------- selected point and neighbours
@pytest.mark.parametrize("dim", [2, 3])
def test_only_the_first_neighbours_are_labelled_the_rest_on_hover(dim):
    rng = np.random.default_rng(4)
    xy = rng.normal(size=(60, dim))
    labels = [f"w{i}" for i in range(60)]
    nb = [5, 9, 13, 2, 40, 41, 42, 43, 44, 45]
    ring, star = fp.highlight_traces(xy, labels, selected=3, neighbors=nb)
    assert ring.get("name") == "nearest neighbours" and list(ring["text"]) == [labels[i] for i in nb]
    shown = [t for t in ring["texttemplate"] if t]
    assert len(shown) == fp.N_LABELS == 5 and list(ring["texttemplate"][:5]) == ["%{text}"] * 5
    assert "%{text}" in ring["hovertemplate"]                      # every ring named on hover
    assert all(t == "" for t in ring["texttemplate"][5:])
    # the selected point is hollow (open symbol), so the rings under it stay visible
    assert star["name"] == "selected" and star["marker"]["symbol"].endswith("-open")
    assert star["marker"]["color"] == fp.RING and list(star["text"]) == ["w3"]
    every = fp.highlight_traces(xy, labels, selected=3, neighbors=nb, n_labels=None)[0]
    assert list(every["texttemplate"]) == ["%{text}"] * len(nb)


def _box(p, text, place, char_px=7.0, line_px=15.0, gap=6.5):
    dx, dy = fp._PLACES[place]
    w = len(text) * char_px
    x0 = p[0] - w / 2 if dx == 0 else p[0] + gap if dx > 0 else p[0] - gap - w
    y0 = p[1] - line_px / 2 if dy == 0 else p[1] + gap if dy > 0 else p[1] - gap - line_px
    return x0, y0, x0 + w, y0 + line_px


def _overlaps(pts, texts, places) -> list[tuple[int, int]]:
    boxes = [_box(p, t, pl) for p, t, pl in zip(pts, texts, places)]
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if min(boxes[i][2], boxes[j][2]) > max(boxes[i][0], boxes[j][0])
            and min(boxes[i][3], boxes[j][3]) > max(boxes[i][1], boxes[j][1])]


def test_labels_of_a_close_group_do_not_overlap():
    """Six points 10 to 20 pixels apart: labelled all 'top center' they would cover one another."""
    pts = np.array([[0, 0], [14, 6], [-10, 16], [6, -16], [22, 20], [-20, -6]], float)   # pixels
    texts = ["selected", "alpha", "beta", "gamma", "delta", "epsilon"]
    assert _overlaps(pts, texts, ["top center"] * 6)                   # the naive placement fails
    # a 900 × 560 px plot with the group in its middle: one data unit is one pixel, as in _box
    places = fp.label_positions(pts, texts, span=([-450, -280], [450, 280]), plot_px=(900, 560))
    assert not _overlaps(pts, texts, places), places


def test_a_lone_label_sits_above_its_point():
    assert fp.label_positions([[0.5, 0.5]], ["word"], span=([0, 0], [1, 1])) == ["top center"]


@pytest.mark.parametrize("x, side", [(0.0, "right"), (1.0, "left")])
def test_a_label_at_the_plots_edge_goes_inwards(x, side):
    """Centred over a point on the left or right edge, half the label would be past the edge, where Plotly
    clips it ("cess" of "princess" at 900 px)."""
    place = fp.label_positions([[x, 0.5]], ["princess"], span=([0, 0], [1, 1]))[0]
    assert place.endswith(side), place
    top = fp.label_positions([[0.5, 1.0]], ["princess"], span=([0, 0], [1, 1]))[0]
    assert top.startswith("bottom"), top                       # at the top edge: under the point


def test_a_pile_of_neighbour_labels_keeps_those_that_fit_and_leaves_the_rest_to_the_hover():
    """Six points within 8 pixels of one another (a million-row view at 900 px): every place of some labels
    covers another label, so those are left out rather than written over one another."""
    pts = np.array([[0, 0], [3, 2], [-4, 5], [5, -4], [7, 6], [-6, -2]], float)        # pixels
    texts = ["row 0", "row 189193", "row 263149", "row 253683", "row 529086", "row 288490"]
    span = ([-450, -280], [450, 280])
    kept = fp.label_positions(pts, texts, span=span, plot_px=(900, 560))
    assert None not in kept and _overlaps(pts, texts, kept)              # without drop: all placed, overlapping
    places = fp.label_positions(pts, texts, span=span, plot_px=(900, 560), drop=True)
    assert places[0] is not None and None in places                      # the first (selected) always written
    on = [i for i, p in enumerate(places) if p is not None]
    assert len(on) >= 2 and not _overlaps(pts[on], [texts[i] for i in on], [places[i] for i in on])
    # in the chart, the rings left out are named on hover only
    xy = np.vstack([pts / 10, [[60, 40], [-60, -40]]]) / 100             # the cluster, tight in its chart
    ring, star = fp.highlight_traces(xy, texts + ["a", "b"], selected=0, neighbors=[1, 2, 3, 4, 5])
    expect = fp.label_positions(xy[:6], texts, span=(xy.min(0), xy.max(0)), drop=True)
    assert None in expect and star["textposition"] == expect[0]
    assert list(ring["texttemplate"]) == ["" if p is None else "%{text}" for p in expect[1:]]
    assert list(ring["text"]) == texts[1:]                               # every ring still named on hover
