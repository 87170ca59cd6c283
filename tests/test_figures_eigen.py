"""Figure helpers behind the Eigenvectors page: readable step labels, the 1/k reference, eigenvalue text."""
import numpy as np

from figures import eigen as fe
from la_core import eigen as le


def test_spread_labels_keeps_the_current_step_and_drops_crowded_ones():
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [1.01, 0.0], [1.02, 0.0], [2.0, 0.0], [1.015, 0.0]])
    assert fe.spread_labels(pts, 0.1) == ["0", "", "", "", "4", "5"]     # 5 (the last) wins over 1, 2, 3
    assert fe.spread_labels(pts, 0.001) == ["0", "1", "2", "3", "4", "5"]
    assert fe.spread_labels(np.array([[np.nan, 0.0], [0.0, 0.0]]), 0.1) == ["", "1"]
    assert fe.spread_labels(np.empty((0, 2)), 0.1) == []


def test_iterates_figure_labels_points_that_are_apart():
    a = np.array([[2.0, 1.0], [-1.0, 0.0]])                           # defective: iterates crowd the eigenline
    vals, vecs = le.eigen(a)
    pts = le.iterate(a, [np.cos(1.7), np.sin(1.7)], 40, normalize=True)
    fig = fe.iterates_figure(a, pts, 40, vals, vecs, True)
    tr = next(t for t in fig.data if t.name == "Aᵏx")
    span = fig.layout.xaxis.range[1] - fig.layout.xaxis.range[0]
    shown = [k for k, s in enumerate(tr.text) if s]
    assert 40 in shown and 0 in shown and len(shown) < 15
    for i in shown:
        for j in shown:
            if i < j:
                assert np.linalg.norm(pts[i] - pts[j]) >= fe.LABEL_GAP * span - 1e-9


def test_convergence_figure_draws_one_over_k_for_a_defective_matrix():
    ang = 30.0 / (np.arange(41) + 2.0)
    fig = fe.convergence_figure(ang, 1.0, 10, defective=True)
    ref = next(t for t in fig.data if t.name.startswith("∝ 1/k"))
    np.testing.assert_allclose(np.asarray(ref.y[1:], float), ang[40] * 40 / np.arange(1, 41), rtol=1e-6)
    assert np.isnan(ref.y[0])
    fig = fe.convergence_figure(ang, 1.0, 10)                         # not defective, ratio 1: no prediction
    assert [t.name for t in fig.data] == ["measured angle"]


def test_eigenvalue_text_reads_round_off_as_zero():
    assert fe._fmt(2.2e-16, scale=2.0) == "0"
    assert fe._fmt(complex(-1e-17, 1.0)) == "0 + 1i"
    assert fe._fmt(complex(0.75, -0.5)) == "0.75 − 0.5i"
    assert fe._fmt(-0.0) == "0"
