"""AppTest of the Geometry page through the real navigation: sliders change the charts the way
the maths says (rotation by mθ, wavelengths 2π·base^(2i/d), norm balls, 1/√d spread), and bad
shape text gives st.error, never a traceback."""

import numpy as np
import pytest

from tests.apptest_utils import arr, assert_no_exception, chart_json, chart_specs, charts, open_page

PAGE = "pages/geometry.py"
PAIR, ANIM, SCORES, OFFSET, SPEEDS, WAVELENGTH, BALLS, HIST, COS, CONTRAST = range(10)



def trace(spec, prefix):
    return next(t for t in spec["data"] if str(t.get("name", "")).startswith(prefix))


@pytest.fixture(scope="module")
def at():
    at = open_page(PAGE)
    assert_no_exception(at)
    return at


def test_page_renders_all_sections(at):
    assert at.title[0].value == "Geometry"
    assert len(chart_specs(at)) == 10
    # the bundled MiniLM is a BERT: the page says it has no RoPE and shows no model section
    assert any("has **no RoPE**" in i.value and "learn" in i.value for i in at.info)
    assert [h.value for h in at.header] == ["1. RoPE: position as a rotation", "2. Norms: three ways to measure length",
                                            "3. High dimensions: every point is about as far as every other",
                                            "4. Shapes: what torch says"]


def tip(spec, name):
    t = trace(spec, name)
    return np.array([arr(t["x"])[-1], arr(t["y"])[-1]])


def test_default_pair_is_one_the_base_turns():
    """Pair 0 turns 1 rad per position whatever the base: the page starts on pair d/8, where moving
    the base slider visibly moves q, and says why pair 0 would not."""
    at = open_page(PAGE)
    assert at.slider(key="geo_rope_pair").value == 64 // 8
    before = tip(chart_specs(at)[PAIR], "q at m")
    at.select_slider(key="geo_rope_base").set_value(500_000).run()
    assert_no_exception(at)
    after = tip(chart_specs(at)[PAIR], "q at m")
    q0 = tip(chart_specs(at)[PAIR], "q at position 0")
    angle = 3 * 500_000 ** (-2 * 8 / 64)                       # m = 3, θ_8 = base^(−1/4)
    c, s = np.cos(angle), np.sin(angle)
    np.testing.assert_allclose(after, [c * q0[0] - s * q0[1], s * q0[0] + c * q0[1]], atol=1e-5)
    assert np.linalg.norm(after - before) > 0.05
    assert any("Pair 0 turns by 1 rad per position for every base" in c.value for c in at.caption)
    at.selectbox(key="geo_rope_d").set_value(384).run()       # a new d starts on its own pair d/8
    assert at.slider(key="geo_rope_pair").value == 384 // 8


def test_arc_shows_the_angle_modulo_a_full_turn(at):
    at.slider(key="geo_rope_pair").set_value(0).run()
    at.slider(key="geo_rope_m").set_value(10).run()           # 10 rad: one turn and 3.717 rad
    arc = trace(chart_specs(at)[PAIR], "mθ")
    assert arc["name"] == "mθ = 10 rad = 1 turn + 3.717 rad"
    ang = np.unwrap(np.arctan2(arr(arc["y"]), arr(arc["x"])))
    assert ang[-1] - ang[0] == pytest.approx(10 - 2 * np.pi, abs=1e-4)
    at.slider(key="geo_rope_m").set_value(3).run()
    assert trace(chart_specs(at)[PAIR], "mθ")["name"] == "mθ = 3 rad"


def test_animation_buttons_sit_left_of_the_slider_rail(at):
    """The play/pause buttons share the slider's row; the rail starts after them (pad.l)."""
    lay = chart_specs(at)[ANIM]["layout"]
    slider, menu = lay["sliders"][0], lay["updatemenus"][0]
    assert slider["x"] == menu["x"] == 0 and slider["xanchor"] == menu["xanchor"] == "left"
    # a generous estimate of the buttons' width: 9 px a character plus 20 px padding each
    width = sum(9 * len(b["label"]) + 20 for b in menu["buttons"])
    assert slider["pad"]["l"] >= width


def test_position_slider_rotates_q_by_m_theta(at):
    at.slider(key="geo_rope_pair").set_value(0).run()
    spec = chart_specs(at)[PAIR]
    q0 = np.array([arr(trace(spec, "q at position 0")["x"])[-1], arr(trace(spec, "q at position 0")["y"])[-1]])
    for m in (0, 3, 10):
        at.slider(key="geo_rope_m").set_value(m).run()
        assert_no_exception(at)
        spec = chart_specs(at)[PAIR]
        x, y = trace(spec, "q at m")["x"], trace(spec, "q at m")["y"]
        got = np.array([arr(x)[-1], arr(y)[-1]])
        c, s = np.cos(m * 1.0), np.sin(m * 1.0)   # pair 0 has θ = 1 rad per position
        np.testing.assert_allclose(got, [c * q0[0] - s * q0[1], s * q0[0] + c * q0[1]], atol=1e-5)


def test_dot_product_depends_only_on_offset(at):
    titles = []
    for m, n in ((5, 2), (20, 17), (60, 57)):
        at.slider(key="geo_rope_m").set_value(m).run()
        at.slider(key="geo_rope_n").set_value(n).run()
        titles.append(chart_specs(at)[PAIR]["layout"]["title"]["text"].split("q·k = ")[1].split(" ")[0])
    assert len(set(titles)) == 1, titles
    z = arr(chart_specs(at)[SCORES]["data"][0]["z"])
    assert z.shape == (64, 64)
    for off in (-40, -1, 0, 7, 50):
        assert np.ptp(np.diagonal(z, offset=off)) < 1e-4 * np.abs(z).max()
    assert np.ptp(z) > 0.1


def test_base_slider_stretches_wavelengths(at):
    for d in (64, 384):
        at.selectbox(key="geo_rope_d").set_value(d).run()
        for base in (1_000, 500_000):
            at.select_slider(key="geo_rope_base").set_value(base).run()
            assert_no_exception(at)
            spec = chart_specs(at)[SPEEDS]
            wl = arr(chart_specs(at)[WAVELENGTH]["data"][0]["y"])
            i = np.arange(d // 2)
            np.testing.assert_allclose(wl, 2 * np.pi * base ** (2 * i / d), rtol=1e-5)
            heat = arr(spec["data"][0]["z"])
            assert heat.shape == (d // 2, 64)
    at.selectbox(key="geo_rope_d").set_value(64).run()


def test_vector_sliders_move_the_norm_balls(at):
    at.slider(key="geo_vx").set_value(3.0).run()
    at.slider(key="geo_vy").set_value(-2.0).run()
    assert_no_exception(at)
    spec = chart_specs(at)[BALLS]
    l1 = trace(spec, "L1")
    assert "= 5.000" in l1["name"]
    assert arr(l1["x"]).max() == pytest.approx(5.0, abs=1e-5)
    assert arr(trace(spec, "L∞")["y"]).max() == pytest.approx(3.0, abs=1e-5)
    assert arr(trace(spec, "L2")["x"]).max() == pytest.approx(np.sqrt(13), rel=1e-5)
    table = at.table[0].value       # the norms table (the shape table follows)
    row = table.iloc[0]
    assert (row["L1"], row["L∞"]) == pytest.approx((5.0, 3.0))
    assert row["L2"] == pytest.approx(np.sqrt(13))
    # the MiniLM rows: the normalised one has L2 = 1
    assert table.iloc[2]["L2"] == pytest.approx(1.0, abs=1e-5)
    assert table.iloc[1]["L1"] > table.iloc[1]["L2"] > table.iloc[1]["L∞"]
    at.radio(key="geo_ball_mode").set_value("unit balls").run()
    assert arr(trace(chart_specs(at)[BALLS], "unit L1")["x"]).max() == pytest.approx(1.0)


def test_dimension_slider_concentrates_cosines(at):
    spreads = {}
    for d in (2, 64, 4096):
        at.select_slider(key="geo_dim").set_value(d).run()
        assert_no_exception(at)
        cos = arr(chart_specs(at)[COS]["data"][0]["x"])
        assert arr(chart_specs(at)[HIST]["data"][0]["x"]).size == cos.size    # the distances of the same pairs
        assert cos.size == 200 * 199 // 2
        spreads[d] = cos.std()
        marker = trace(chart_specs(at)[CONTRAST], "current d")
        np.testing.assert_allclose(arr(marker["x"]), [d, d])
    assert spreads[4096] == pytest.approx(1 / 64, rel=0.15)
    assert spreads[2] > spreads[64] > spreads[4096]
    contrast = arr(chart_specs(at)[CONTRAST]["data"][0]["y"])
    assert contrast[0] > 10 * contrast[-1]


def test_shape_cases_show_torch_results(at):
    at.selectbox(key="geo_shape_case").set_value("forgot the transpose: (T, d) @ (T, d)").run()
    assert_no_exception(at)
    assert "mat1 and mat2 shapes cannot be multiplied (8x64 and 8x64)" in at.code[-1].value
    at.selectbox(key="geo_shape_case").set_value("batched heads: (B, H, T, d_k) @ (B, H, d_k, T)").run()
    assert "(2, 12, 5, 5)" in at.success[-1].value
    at.text_input(key="geo_shape_a").set_value("32, 768").run()
    at.selectbox(key="geo_shape_op").set_value("-").run()
    at.text_input(key="geo_shape_b").set_value("(768,)").run()
    assert "(32, 768)" in at.success[-1].value
    at.text_input(key="geo_shape_b").set_value("32").run()
    assert "must match" in at.code[-1].value


def test_bad_shape_text_is_an_error_not_a_traceback(at):
    at.text_input(key="geo_shape_a").set_value("4; 768").run()
    assert_no_exception(at)
    assert any("not a shape" in e.value and "';' is not a separator" in e.value for e in at.error)
    at.text_input(key="geo_shape_a").set_value("4, 768").run()
    assert not at.error


def test_a_bad_b_is_reported_too(at):
    """Both shapes are checked: a bad b is named even when a is bad as well."""
    at.text_input(key="geo_shape_a").set_value("4; 768").run()
    at.text_input(key="geo_shape_b").set_value("T, d").run()
    assert_no_exception(at)
    errors = [e.value for e in at.error]
    assert any(e.startswith("shape of a '4; 768' is not a shape") for e in errors), errors
    assert any(e.startswith("shape of b 'T, d' is not a shape") and "'T' is not a number" in e for e in errors)
    at.text_input(key="geo_shape_a").set_value("8, 64").run()
    assert [e.value for e in at.error] == [e for e in errors if e.startswith("shape of b")]


@pytest.mark.parametrize("a, b", [("32 768", "768"), ("32 × 768", "(768,)"), ("32x768", "768"), (" 32  768 ", "768")])
def test_shapes_typed_with_spaces_or_times(at, a, b):
    at.selectbox(key="geo_shape_op").set_value("-").run()
    at.text_input(key="geo_shape_a").set_value(a).run()
    at.text_input(key="geo_shape_b").set_value(b).run()
    assert_no_exception(at)
    assert not at.error
    assert "a(32, 768) − b(768,) → result shape **(32, 768)**" in at.success[-1].value


def test_forgotten_transpose_suggests_b_T(at):
    at.selectbox(key="geo_shape_op").set_value("@").run()
    at.text_input(key="geo_shape_a").set_value("32, 768").run()
    at.text_input(key="geo_shape_b").set_value("32, 768").run()
    assert "mat1 and mat2 shapes cannot be multiplied (32x768 and 32x768)" in at.code[-1].value
    hints = [i.value for i in at.info]
    assert any("use b.T: (768, 32); a @ b.T gives (32, 32)" in h for h in hints), hints
    at.selectbox(key="geo_shape_op").set_value("-").run()
    at.text_input(key="geo_shape_b").set_value("32").run()
    assert any("b[:, None]: (32, 1)" in i.value for i in at.info)


def test_loaded_case_is_cleared_when_the_user_types_shapes(at):
    case = "forgot the transpose: (T, d) @ (T, d)"
    at.selectbox(key="geo_shape_case").set_value(case).run()
    assert at.selectbox(key="geo_shape_case").value == case
    assert at.text_input(key="geo_shape_a").value == "8, 64"
    at.text_input(key="geo_shape_a").set_value("3, 4").run()
    assert at.selectbox(key="geo_shape_case").value is None      # no longer the case on screen
    at.selectbox(key="geo_shape_case").set_value(case).run()
    at.selectbox(key="geo_shape_op").set_value("+").run()
    assert at.selectbox(key="geo_shape_case").value is None
    at.selectbox(key="geo_shape_case").set_value(case).run()     # loading it again restores its shapes
    assert (at.text_input(key="geo_shape_a").value, at.selectbox(key="geo_shape_op").value) == ("8, 64", "@")


def test_rotation_animation_does_not_depend_on_the_positions(at):
    """The client-side animation is cached on (q pair, θ): moving m or n re-sends the same figure."""
    at.slider(key="geo_rope_m").set_value(3).run()
    before = chart_json(charts(at)[ANIM])
    at.slider(key="geo_rope_m").set_value(9).run()
    at.slider(key="geo_rope_n").set_value(4).run()
    assert chart_json(charts(at)[ANIM]) == before
    at.slider(key="geo_rope_pair").set_value(1).run()       # another pair: another animation
    assert chart_json(charts(at)[ANIM]) != before
    at.slider(key="geo_rope_pair").set_value(0).run()
