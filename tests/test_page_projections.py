"""AppTest of the Projections & linear maps page: sliders change the charts as the maths says."""

import json

import numpy as np
import pytest

from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page

PAGE = "pages/projections.py"



def trace(spec, name_start):
    return next(t for t in spec["data"] if t.get("name", "").startswith(name_start))


def spec_by_key(at, index):
    return chart_specs(at)[index]


@pytest.fixture(scope="module")
def at():
    a = open_page(PAGE)
    assert_no_exception(a)
    return a


def test_projection_length_follows_cos(at):
    for angle in (60.0, 120.0):
        at.slider(key="pj_ax").set_value(angle).run()
        at.slider(key="pj_lx").set_value(2.0).run()
        assert_no_exception(at)
        p = trace(spec_by_key(at, 0), "projection of x on u")
        tip = np.array([arr(p["x"])[-1], arr(p["y"])[-1]])
        # u lies on the first axis at angle 0: the projection is (|x| cos θ, 0)
        np.testing.assert_allclose(tip, [2.0 * np.cos(np.radians(angle)), 0.0], atol=1e-5)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["cos θ"] == f"{np.cos(np.radians(120)):+.3f}"


def test_grid_area_is_det(at):
    at.slider(key="pj_sx").set_value(2.0).run()
    at.slider(key="pj_sy").set_value(1.5).run()
    at.slider(key="pj_shear").set_value(0.7).run()
    spec = spec_by_key(at, 2)
    img = trace(spec, "image of the square")
    assert "area |det| = 3" in img["name"]
    x, y = arr(img["x"]), arr(img["y"])
    area = 0.5 * abs(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))
    assert area == pytest.approx(3.0, rel=1e-5)
    e1 = trace(spec, "W e₁")
    # W e1 = R(30°) · (2, 0)
    np.testing.assert_allclose([arr(e1["x"])[-1], arr(e1["y"])[-1]],
                               [2 * np.cos(np.radians(30)), 2 * np.sin(np.radians(30))], atol=1e-5)


def test_negative_scale_flips_and_zero_collapses(at):
    at.slider(key="pj_sy").set_value(-1.0).run()
    title = spec_by_key(at, 2)["layout"]["title"]["text"]
    assert "orientation flipped" in title
    at.slider(key="pj_sy").set_value(0.0).run()
    assert "rank 1" in spec_by_key(at, 2)["layout"]["title"]["text"]
    assert any("Rank 1" in w.value for w in at.warning)


def test_singular_preset(at):
    at.radio(key="pj_mode").set_value("presets / typed entries").run()
    at.selectbox(key="pj_preset").set_value("singular (columns parallel, rank 1)").run()
    assert_no_exception(at)
    assert {m.label: m.value for m in at.metric}["rank"] == "1"
    at.selectbox(key="pj_preset").set_value("reflection (across the x₁ axis)").run()
    assert {m.label: m.value for m in at.metric}["determinant"] == "-1"


def test_column_mix_sums_to_wx(at):
    at.selectbox(key="pj_mix_preset").set_value("2×3: three columns into the plane").run()
    for key, v in (("pj_x1", 1.0), ("pj_x2", -2.0), ("pj_x3", 0.5)):
        at.slider(key=key).set_value(v).run()
    spec = next(s for s in chart_specs(at) if "tip to tail" in s["layout"].get("title", {}).get("text", ""))
    wx = trace(spec, "Wx")
    W = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
    np.testing.assert_allclose([arr(wx["x"])[-1], arr(wx["y"])[-1]], W @ [1.0, -2.0, 0.5], atol=1e-5)


def test_bad_subspace_text_shows_error(at):
    at.text_input(key="pj_a").input("1, two, 3").run()
    assert any("three numbers" in e.value for e in at.error)
    assert_no_exception(at)
    at.text_input(key="pj_a").input("0,0,0").run()
    at.text_input(key="pj_b").input("0,0,0").run()
    assert any("non-zero" in e.value for e in at.error)
    at.text_input(key="pj_a").input("1, 0, 0").run()
    at.text_input(key="pj_b").input("2, 0, 0").run()
    assert not at.error
    assert {m.label: m.value for m in at.metric}["dim span{a, b}"] == "1"


def _anim(at):
    return next(s for s in chart_specs(at) if s.get("frames") and s["layout"].get("sliders")
                and s["layout"]["sliders"][0]["currentvalue"]["prefix"].startswith("angle of x"))


def test_dot_animation_frames_follow_x_and_carry_only_coordinates(at):
    at.slider(key="pj_au").set_value(30.0).run()
    at.slider(key="pj_lu").set_value(1.5).run()
    at.slider(key="pj_lx").set_value(2.0).run()
    spec = _anim(at)
    frames = spec["frames"]
    assert len(frames) == 73                                           # 0°, 5°, …, 360°
    u = 1.5 * np.array([np.cos(np.radians(30.0)), np.sin(np.radians(30.0))])
    for k in (0, 9, 40):
        data = frames[k]["data"]
        assert all(set(tr) <= {"type", "x", "y"} for tr in data)       # styling stays on the base traces
        tip = np.array([arr(data[2]["x"])[1], arr(data[2]["y"])[1]])   # trace 2: the arrow x
        t = np.radians(30.0 + 5 * k)
        np.testing.assert_allclose(tip, 2.0 * np.array([np.cos(t), np.sin(t)]), atol=1e-5)
        proj = np.array([arr(data[3]["x"])[1], arr(data[3]["y"])[1]])  # trace 3: its projection on u
        np.testing.assert_allclose(proj, (tip @ u) / (u @ u) * u, atol=1e-5)
    base = [t["name"] for t in spec["data"]]
    assert base[2] == "x" and base[3].startswith("projection")


def test_angle_of_x_leaves_the_animation_unchanged(at):
    at.slider(key="pj_ax").set_value(60.0).run()
    before = json.dumps(_anim(at))
    at.slider(key="pj_ax").set_value(100.0).run()
    assert json.dumps(_anim(at)) == before
    at.slider(key="pj_lx").set_value(2.5).run()                         # an input of the frames
    assert json.dumps(_anim(at)) != before
    at.slider(key="pj_lx").set_value(2.0).run()
    assert_no_exception(at)


@pytest.mark.parametrize("angle", [90.0, 270.0])
def test_perpendicular_x_shows_clean_zeros_and_no_stray_arrowhead(at, angle):
    """x ⟂ u: every number reads 0 (not 1.22e-16 or −0.000) and the zero projection has no arrowhead."""
    at.slider(key="pj_au").set_value(0.0).run()
    at.slider(key="pj_lu").set_value(1.5).run()
    at.slider(key="pj_lx").set_value(2.0).run()
    at.slider(key="pj_ax").set_value(angle).run()
    assert_no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["x · u"] == "0.000"
    assert metrics["cos θ"] == "0.000"
    assert metrics["|x| cos θ"] == "0.000"
    assert metrics["angle θ"] == "90.0°"
    caption = next(c.value for c in at.caption if c.value.startswith("x · u ="))
    assert "= 0.000." in caption and "projection (0, 0)" in caption, caption
    assert f"residual (0, {2 if angle == 90 else -2})" in caption and "residual · u = 0)" in caption, caption
    shown = " ".join([caption, *metrics.values()])
    assert "e-1" not in shown and "-0" not in shown and "+0.000" not in shown, shown
    p = trace(spec_by_key(at, 0), "projection of x on u")
    np.testing.assert_array_equal(arr(p["x"]), [0.0, 0.0])
    assert p["mode"] == "lines" and "marker" not in p                  # no head on a zero-length arrow
    x = trace(spec_by_key(at, 0), "x")
    assert x["mode"] == "lines+markers"
    np.testing.assert_array_equal([arr(x["x"])[-1], arr(x["y"])[-1]], [0.0, 2.0 if angle == 90 else -2.0])


def test_animation_frames_at_right_angles_draw_no_projection(at):
    at.slider(key="pj_au").set_value(0.0).run()
    spec = _anim(at)
    for k in (18, 54):                                                # 90° and 270° from u
        frame = spec["frames"][k]
        assert frame["layout"]["title"]["text"].endswith("cos = 0.000"), frame["layout"]["title"]
        assert np.isnan(arr(frame["data"][3]["x"])).all()            # trace 3: the projection, not drawn
    assert spec["frames"][0]["layout"]["title"]["text"].endswith("cos = +1.000")


def test_rotation_by_90_degrees_shows_exact_zeros(at):
    at.radio(key="pj_mode").set_value("angle, scale and shear sliders").run()
    for key, v in (("pj_angle", 90.0), ("pj_sx", 1.0), ("pj_sy", 1.0), ("pj_shear", 0.0)):
        at.slider(key=key).set_value(v).run()
    assert_no_exception(at)
    assert any(m.value == "W = [[0, -1], [1, 0]]" for m in at.markdown), [m.value for m in at.markdown]
    assert {m.label: m.value for m in at.metric}["determinant"] == "1"
    spec = spec_by_key(at, 2)
    assert spec["layout"]["title"]["text"] == "det = 1: areas × 1"
    e1 = trace(spec, "W e₁")
    np.testing.assert_array_equal([arr(e1["x"])[-1], arr(e1["y"])[-1]], [0.0, 1.0])


def test_column_mix_legend_has_no_negative_zero(at):
    at.selectbox(key="pj_mix_preset").set_value("2×2: a shear").run()
    at.slider(key="pj_x1").set_value(-1.5).run()
    at.slider(key="pj_x2").set_value(1.0).run()
    spec = next(s for s in chart_specs(at) if "tip to tail" in s["layout"].get("title", {}).get("text", ""))
    names = [t["name"] for t in spec["data"]]
    assert "x1 · column 1 = (-1.50, 0.00)" in names, names            # -1.5 · (1, 0) = (−1.5, −0.0)
    assert not any("-0.00" in n for n in names), names
