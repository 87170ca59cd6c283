"""The Eigenvectors page through the real navigation: widgets change the charts the way the maths says."""

import json
import re

import numpy as np
import pytest

from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page

PLANE, SWEEP, ITER, CONV, QLQ, CLOUD, SPEC = range(7)    # order with a real-eigenvalue matrix



def traces(at, chart):
    return chart_specs(at)[chart]["data"]


def chart_titled(at, prefix):
    """Index of the chart whose title starts with ``prefix`` (sections come and go with the matrix)."""
    titles = [s["layout"].get("title", {}).get("text") or "" for s in chart_specs(at)]
    return next(i for i, t in enumerate(titles) if t.startswith(prefix))


def named(at, chart, prefix):
    if isinstance(chart, str):
        chart = chart_titled(at, chart)
    return [t for t in traces(at, chart) if str(t.get("name", "")).startswith(prefix)]


def xy(t):
    return np.stack([arr(t["x"]), arr(t["y"])], 1)


def preset(at, name):
    at.selectbox(key="eig_preset").set_value(name).run()
    assert_no_exception(at)


@pytest.fixture(scope="module")
def at():
    at = open_page("pages/eigen.py")
    assert_no_exception(at)
    return at


def test_renders_every_section(at):
    assert at.title[0].value == "Eigenvectors"
    assert [h.value for h in at.header] == ["1. Stretching in 2D", "2. Complex eigenvalues",
                                            "3. Iterates and power iteration", "4. Symmetric = QΛQᵀ",
                                            "5. Higher dimensions"]
    specs = chart_specs(at)
    assert len(specs) == 7
    for s in specs:
        for ax in ("xaxis", "yaxis"):
            assert s["layout"][ax]["title"]["text"]
    assert specs[CONV]["layout"]["yaxis"]["type"] == "log"
    assert specs[SPEC]["data"][1]["marker"]["colorbar"]["title"]["text"] == "|λ|"
    assert len(specs[SWEEP]["frames"]) == 73


def test_default_matrix_eigenlines_and_ellipse(at):
    preset(at, "general (non-symmetric)")
    a = np.array([[1.0, 1.0], [0.5, 1.5]])
    lines = named(at, PLANE, "eigenline")
    assert [t["name"] for t in lines] == ["eigenline λ₁ = 2", "eigenline λ₂ = 0.5"]
    for t, lam in zip(lines, (2.0, 0.5)):
        d = xy(t)[1]
        np.testing.assert_allclose(a @ d, lam * d, atol=1e-4 * np.linalg.norm(d))
    circle = xy(named(at, PLANE, "unit circle")[0])
    image = xy(named(at, PLANE, "image")[0])
    np.testing.assert_allclose(image, circle @ a.T, atol=1e-5)


def test_angle_slider_moves_x_and_highlights_eigenline(at):
    preset(at, "symmetric")                                   # [[2, 1], [1, 2]]: eigenlines at 45° and 135°
    at.slider(key="eig_angle").set_value(30).run()
    assert_no_exception(at)
    ax = xy(named(at, PLANE, "Ax")[0])[1]
    x30 = np.array([np.cos(np.radians(30)), np.sin(np.radians(30))])
    np.testing.assert_allclose(ax, np.array([[2, 1], [1, 2]]) @ x30, atol=1e-5)
    assert not any("lies on an eigenline" in s.value for s in at.success)
    at.slider(key="eig_angle").set_value(45).run()
    x = xy(named(at, PLANE, "x")[0])[1]
    ax = xy(named(at, PLANE, "Ax")[0])[1]
    np.testing.assert_allclose(ax, 3 * x, atol=1e-5)          # Ax = 3x
    assert any("lies on an eigenline: Ax = 3·x" in s.value for s in at.success)
    assert chart_specs(at)[PLANE]["layout"]["title"]["text"].startswith("On an eigenline: Ax = λx")


def test_rotation_is_complex_with_90_degrees(at):
    preset(at, "rotation (90°)")
    assert [at.slider(key=k).value for k in ("eig_a11", "eig_a12", "eig_a21", "eig_a22")] == [0, -1, 1, 0]
    assert any("Complex eigenvalues" in i.value and "θ = 90.0°" in i.value for i in at.info)
    assert named(at, PLANE, "eigenline") == []
    assert [m.value for m in at.metric][:2] == ["0 + 1i", "0 − 1i"]
    specs = chart_specs(at)
    assert len(specs) == 7              # spiral chart added, no convergence plot without a dominant line
    assert not any(str(s["layout"].get("title", {}).get("text", "")).startswith("Power iteration") for s in specs)
    pts = xy(named(at, "Spiral of iterates", "Aᵏx")[0])
    assert pts.shape == (41, 2)
    np.testing.assert_allclose(pts[1], [0.0, 1.0], atol=1e-6)           # 90° turn each step
    np.testing.assert_allclose(pts[4], [1.0, 0.0], atol=1e-6)           # back after 4 steps


def test_spiral_iterates_shrink_by_abs_lambda(at):
    preset(at, "rotation + shrink (spiral)")                  # λ = 0.75 ± 0.5i
    at.toggle(key="eig_norm").set_value(False).run()
    at.slider(key="eig_step").set_value(10).run()
    assert_no_exception(at)
    spiral = xy(named(at, "Spiral of iterates", "Aᵏx")[0])
    np.testing.assert_allclose(np.linalg.norm(spiral[40]), np.hypot(0.75, 0.5) ** 40, rtol=0.5)
    pts = xy(named(at, "Iterates", "Aᵏx")[0])
    assert pts.shape == (11, 2)
    r = np.hypot(0.75, 0.5)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1)[1:] / np.linalg.norm(pts, axis=1)[:-1], r, rtol=0.35)
    np.testing.assert_allclose(np.linalg.norm(pts[10]) / np.linalg.norm(pts[0]), r ** 10, rtol=0.5)
    at.toggle(key="eig_norm").set_value(True).run()


def test_power_iteration_plot_matches_ratio(at):
    preset(at, "scaling")                                     # diag(2, 0.5): ratio 0.25
    at.slider(key="eig_start").set_value(45).run()
    assert_no_exception(at)
    assert any("**0.25**" in m.value for m in at.markdown)
    ang = arr(named(at, "Power iteration", "measured")[0]["y"])
    np.testing.assert_allclose(np.tan(np.radians(ang[:12])), 0.25 ** np.arange(12), rtol=1e-4)
    at.slider(key="eig_step").set_value(5).run()
    assert xy(named(at, "Iterates", "Aᵏx")[0]).shape == (6, 2)


def test_defective_and_projection(at):
    preset(at, "defective")
    assert any("Defective" in w.value for w in at.warning)
    assert len(named(at, PLANE, "eigenline")) == 1
    preset(at, "projection (onto y = x)")
    names = [t["name"] for t in named(at, PLANE, "eigenline")]
    assert names == ["eigenline λ₁ = 1", "eigenline λ₂ = 0"]


def test_qlq_panels_rebuild_a(at):
    preset(at, "symmetric")
    data = traces(at, QLQ)
    last = [t for t in data if t.get("xaxis") == "x4" and t.get("mode") == "lines"][0]
    first = [t for t in data if t.get("mode") == "lines" and t.get("xaxis") in (None, "x")][0]
    np.testing.assert_allclose(xy(last), xy(first) @ np.array([[2.0, 1.0], [1.0, 2.0]]).T, atol=1e-5)


def test_covariance_sliders_turn_the_principal_axis(at):
    at.slider(key="eig_sx").set_value(1.0).run()
    at.slider(key="eig_sy").set_value(1.0).run()
    at.slider(key="eig_rho").set_value(0.9).run()
    assert_no_exception(at)
    pc1 = xy(named(at, CLOUD, "PC1")[0])
    d = pc1[1] - pc1[0]
    assert abs(np.degrees(np.arctan2(d[1], d[0])) % 180 - 45) < 5           # along y = x
    assert np.linalg.norm(d) == pytest.approx(np.sqrt(1.9), rel=0.1)       # √λ₁, λ₁ = 1 + ρ
    at.slider(key="eig_rho").set_value(-0.9).run()
    pc1 = xy(named(at, CLOUD, "PC1")[0])
    d = pc1[1] - pc1[0]
    assert abs(np.degrees(np.arctan2(d[1], d[0])) % 180 - 135) < 5         # along y = −x


def test_random_orthogonal_spectrum_on_unit_circle(at):
    at.selectbox(key="eig_kind").set_value("orthogonal (random rotation)").run()
    at.select_slider(key="eig_n").set_value(64).run()
    assert_no_exception(at)
    pts = xy(traces(at, SPEC)[1])
    assert pts.shape == (64, 2)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 1.0, atol=1e-5)
    at.selectbox(key="eig_kind").set_value("symmetric (Wigner)").run()
    pts = xy(traces(at, SPEC)[1])
    np.testing.assert_allclose(pts[:, 1], 0.0, atol=1e-6)
    assert any(m.value == "64 of 64" for m in at.metric)


def test_outward_spiral_is_capped_and_says_so(at):
    preset(at, "rotation (90°)")
    for key, v in (("eig_a11", 1.5), ("eig_a12", -1.5), ("eig_a21", 1.5), ("eig_a22", 1.5)):
        at.slider(key=key).set_value(v).run()
    assert_no_exception(at)
    r = np.hypot(1.5, 1.5)                                    # λ = 1.5 ± 1.5i, 45° per step
    k = int(np.floor(np.log(1e3) / np.log(r)))
    assert any(f"Showing {k} steps" in c.value for c in at.caption)
    pts = xy(named(at, "Spiral of iterates", "Aᵏx")[0])
    assert pts.shape == (k + 1, 2)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), r ** np.arange(k + 1), rtol=1e-5)
    assert any("spiral outwards" in m.value for m in at.markdown)


def test_sweep_frames_carry_x_and_ax_only_and_ignore_the_angle_slider(at):
    for key, v in zip(("eig_a11", "eig_a12", "eig_a21", "eig_a22"), (1.0, 1.0, 0.5, 1.5)):
        at.slider(key=key).set_value(v).run()
    A = np.array([[1.0, 1.0], [0.5, 1.5]])
    sweep = chart_specs(at)[SWEEP]
    for k in (0, 10, 50):
        x_tr, ax_tr = sweep["frames"][k]["data"]
        assert set(x_tr) <= {"type", "x", "y"} and set(ax_tr) <= {"type", "x", "y"}
        t = np.radians(5.0 * k)
        x = np.array([arr(x_tr["x"])[1], arr(x_tr["y"])[1]])
        np.testing.assert_allclose(x, [np.cos(t), np.sin(t)], atol=1e-5)
        np.testing.assert_allclose([arr(ax_tr["x"])[1], arr(ax_tr["y"])[1]], A @ x, atol=1e-4)
    before = json.dumps(sweep)
    at.slider(key="eig_angle").set_value(45).run()
    assert json.dumps(chart_specs(at)[SWEEP]) == before


def set_matrix(at, m):
    for key, v in zip(("eig_a11", "eig_a12", "eig_a21", "eig_a22"), np.ravel(m)):
        at.slider(key=key).set_value(float(v)).run()
    assert_no_exception(at)


def texts(at):
    return [e.value for kind in (at.markdown, at.info, at.warning, at.success, at.caption) for e in kind]


def test_defective_preset_says_slow_convergence_not_none(at):
    preset(at, "defective")                                   # [[2, 1], [−1, 0]]: λ = 1 twice, one eigenline
    at.slider(key="eig_step").set_value(40).run()
    warning = next(w.value for w in at.warning if "Defective" in w.value)
    assert "not diagonalisable" in warning
    assert "e+1" not in warning and "Condition number" not in warning   # no 1.8e+16 round-off artefact
    shown = texts(at)
    assert not any("does not converge" in t for t in shown), shown
    note = next(t for t in shown if "like **1/k**" in t)
    measured = named(at, "Power iteration", "measured")[0]
    ang = arr(measured["y"])
    assert f"the angle is {ang[40]:.3g}°" in note
    assert 35 * ang[35] == pytest.approx(40 * ang[40], rel=0.1)             # θ_k ≈ C/k on the chart
    ref = arr(named(at, "Power iteration", "∝ 1/k")[0]["y"])
    np.testing.assert_allclose(ref[1:], ang[40] * 40 / np.arange(1, 41), rtol=1e-5)


def test_equal_magnitude_eigenvalues_flip_and_do_not_converge(at):
    preset(at, "reflection (across y = x)")
    info = " ".join(i.value for i in at.info)
    assert "does not converge" in info and "flips between two directions" in info
    assert "1/k" not in info
    assert not any(str(s["layout"].get("title", {}).get("text", "")).startswith("Power iteration")
                   for s in chart_specs(at))


@pytest.mark.parametrize("m, words", [([[2.0, 0.0], [0.0, 2.0]], "never moves"),
                                      ([[1.0, 1.0], [-1.0, -1.0]], "nilpotent"),
                                      ([[0.0, 0.0], [0.0, 0.0]], "A = 0")])
def test_repeated_and_zero_eigenvalues_are_explained_without_error(at, m, words):
    set_matrix(at, m)
    assert any(words in i.value for i in at.info), [i.value for i in at.info]
    set_matrix(at, [[1.0, 1.0], [0.5, 1.5]])


def test_section_references_point_at_the_right_sections(at):
    headers = {h.value.split(".")[0]: h.value for h in at.header}
    wanted = {"spiral": "Complex eigenvalues", "1/k": "Iterates", "QΛQᵀ": "QΛQᵀ"}
    seen = set()
    for name in ("rotation (90°)", "defective", "symmetric"):
        preset(at, name)
        for t in texts(at):
            for n in re.findall(r"section (\d)", t):
                assert n in headers, (t, headers)
                for word, topic in wanted.items():
                    if word in t:
                        assert topic in headers[n], (t, headers[n])
                        seen.add(word)
    assert seen == set(wanted)


def test_singular_matrix_shows_lambda_two_as_zero(at):
    set_matrix(at, [[1.0, 2.0], [0.5, 1.0]])                  # numpy gives λ₂ ≈ 2e-16
    assert [m.value for m in at.metric][:4] == ["2", "0", "0", "2"]
    assert [t["name"] for t in named(at, PLANE, "eigenline")] == ["eigenline λ₁ = 2", "eigenline λ₂ = 0"]


def test_iterate_labels_do_not_pile_up(at):
    preset(at, "defective")                                   # 40 iterates crowd onto the eigenline
    at.slider(key="eig_step").set_value(40).run()
    spec = chart_specs(at)[chart_titled(at, "Iterates")]
    path = next(t for t in spec["data"] if t["name"] == "Aᵏx")
    pts, text = xy(path), path["text"]
    labelled = [k for k, s in enumerate(text) if s]
    assert labelled[0] == 0 and labelled[-1] == 40 and len(labelled) < 20
    assert all(text[k] == str(k) for k in labelled)
    span = np.diff(spec["layout"]["xaxis"]["range"])[0]
    gaps = [np.linalg.norm(pts[i] - pts[j]) for i in labelled for j in labelled if i < j]
    assert min(gaps) >= 0.12 * span - 1e-6                                   # fe.LABEL_GAP
    np.testing.assert_array_equal(arr(path["customdata"]), np.arange(41))     # hover still names every k
