"""la_core.neighbors (nearest neighbours, analogies, semantic axes, sampling, trustworthiness)
against brute-force NumPy, gensim's formula by hand and scikit-learn, plus hypothesis properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.decomposition import PCA as SkPCA
from sklearn.manifold import trustworthiness

from la_core.neighbors import (Neighbors, SemanticAxis, Trustworthiness, analogy, nearest_neighbors, sample_indices,
                               semantic_axes, semantic_axis, view_trustworthiness)


# ------------------------------------------------------------------------------ neighbours
def _brute(X, q, metric):
    if metric == "cosine":
        s = X @ q / (np.linalg.norm(X, axis=1) * np.linalg.norm(q))
        return s, -s
    if metric == "dot":
        s = X @ q
        return s, -s
    s = np.linalg.norm(X - q, axis=1)
    return s, s


@pytest.mark.parametrize("metric", ["cosine", "dot", "euclidean"])
def test_neighbors_vs_brute_force(metric):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5000, 16)).astype(np.float32)
    idx, score = nearest_neighbors(X, 17, k=7, metric=metric, chunk_rows=333)
    s, key = _brute(X.astype(np.float64), X[17].astype(np.float64), metric)
    key[17] = np.inf
    want = np.argsort(key, kind="stable")[:7]
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(score, s[want], rtol=1e-6)
    assert 17 not in idx
    q = rng.standard_normal(16)
    idx2, score2 = nearest_neighbors(X, q, k=3, metric=metric)
    s, key = _brute(X.astype(np.float64), q, metric)
    np.testing.assert_array_equal(idx2, np.argsort(key, kind="stable")[:3])


def test_neighbors_bad_input():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="metric"):
        nearest_neighbors(X, 0, metric="manhattan")
    with pytest.raises(ValueError, match="out of range"):
        nearest_neighbors(X, 9)
    with pytest.raises(ValueError, match="length 3"):
        nearest_neighbors(X, np.ones(5))
    with pytest.raises(ValueError, match="k must be at least 1"):
        nearest_neighbors(X, 0, k=0)


# ------------------------------------------------------------------------------ analogy
def test_analogy_on_constructed_data():
    # words = gender ± royalty offsets on a few independent directions
    rng = np.random.default_rng(2)
    base, gender, royal = rng.standard_normal((3, 50))
    noise = lambda: 0.05 * rng.standard_normal(50)  # noqa: E731
    words = {"man": base + gender, "woman": base - gender, "king": base + gender + royal,
             "queen": base - gender + royal, "boy": 0.5 * base + gender}
    words.update({f"filler{i}": rng.standard_normal(50) for i in range(30)})
    names = list(words)
    X = np.stack([words[w] + noise() for w in names])
    idx, score = analogy(X, positive=[names.index("king"), names.index("woman")], negative=[names.index("man")], k=3)
    assert names[idx[0]] == "queen"
    assert not {names.index("king"), names.index("woman"), names.index("man")} & set(idx.tolist())
    # gensim's formula by hand
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    t = (U[names.index("king")] + U[names.index("woman")] - U[names.index("man")]) / 3
    t /= np.linalg.norm(t)
    np.testing.assert_allclose(score[0], U[idx[0]] @ t, rtol=1e-9)


def test_analogy_bad_input():
    X = np.eye(4)
    with pytest.raises(ValueError, match="cancel"):
        analogy(X, [0], [0])
    with pytest.raises(ValueError, match="out of range"):
        analogy(X, [7], [1])


# ------------------------------------------------------------------------------ semantic axes
def test_semantic_axes_orthogonal_and_projection():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 8))
    res = semantic_axes(X, ([0, 1], [2, 3]), ([4, 5], [6]))
    np.testing.assert_allclose(res.directions @ res.directions.T, np.eye(2), atol=1e-12)
    v1 = X[[0, 1]].mean(0) - X[[2, 3]].mean(0)
    np.testing.assert_allclose(res.directions[0], v1 / np.linalg.norm(v1), atol=1e-12)
    np.testing.assert_allclose(res.coords, X @ res.directions.T, atol=1e-12)
    v2 = X[[4, 5]].mean(0) - X[[6]].mean(0)
    assert res.raw_cosine == pytest.approx(v1 @ v2 / np.linalg.norm(v1) / np.linalg.norm(v2))
    c, v = semantic_axis(X, [0], [2])
    assert c[0] > c[2]        # group a lands on the positive side
    with pytest.raises(ValueError, match="same centroid"):
        semantic_axis(X, [0, 1], [1, 0])


def test_trustworthiness_matches_sklearn_and_sample():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((300, 10)) * np.linspace(4.0, 0.2, 10) + 3.0
    Y = SkPCA(2).fit_transform(X)
    score, used = view_trustworthiness(X, Y, n_neighbors=5, max_rows=1000)
    assert used == 300 and score == pytest.approx(trustworthiness(X, Y, n_neighbors=5))
    assert view_trustworthiness(X, Y, max_rows=100).n_used == 100
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos = view_trustworthiness(X, Y, n_neighbors=5, metric="cosine")
    assert cos.score == pytest.approx(trustworthiness(U, Y, n_neighbors=5)) and cos.score != score
    s = sample_indices(10**6, 1000, seed=0)
    assert len(s) == 1000 and np.all(np.diff(s) > 0)
    np.testing.assert_array_equal(s, sample_indices(10**6, 1000, seed=0))
    np.testing.assert_array_equal(sample_indices(5, 1000), np.arange(5))


matrices = hnp.arrays(np.float64, st.tuples(st.integers(3, 30), st.integers(2, 8)),
                      elements=st.floats(-100, 100, allow_nan=False, width=32))


@settings(max_examples=30, deadline=None)
@given(X=matrices, metric=st.sampled_from(["cosine", "dot", "euclidean"]), k=st.integers(1, 5))
def test_neighbors_property(X, metric, k):
    idx, score = nearest_neighbors(X, 0, k=k, metric=metric)
    assert 0 not in idx and len(idx) == min(k, X.shape[0] - 1) and len(set(idx.tolist())) == len(idx)
    assert np.all(np.isfinite(score))
    assert np.all(np.diff(score) >= -1e-12) if metric == "euclidean" else np.all(np.diff(score) <= 1e-12)


# ------------------------------------------------------------------------------ validation and results
def test_integer_arguments_are_strict_everywhere():
    """3.0 is not an integer: every count and row index refuses it, not only some of them."""
    X = np.random.default_rng(4).standard_normal((20, 3))
    for call in (lambda: nearest_neighbors(X, 0, k=3.0), lambda: nearest_neighbors(X, 0, k=True),
                 lambda: nearest_neighbors(X, 0, chunk_rows=8.0), lambda: sample_indices(3.0, 10),
                 lambda: sample_indices(30, 10.0), lambda: sample_indices(30, 10, seed=1.0),
                 lambda: analogy(X, [0], [1], k=2.0), lambda: analogy(X, [0.0], [1]),
                 lambda: nearest_neighbors(X, 0, exclude=[1.0]), lambda: semantic_axis(X, [0], [True]),
                 lambda: view_trustworthiness(X, X[:, :2], n_neighbors=5.0),
                 lambda: view_trustworthiness(X, X[:, :2], max_rows=100.0)):
        with pytest.raises(ValueError, match="integer"):
            call()
    assert len(nearest_neighbors(X, 0, k=np.int64(3)).indices) == 3      # NumPy integers are integers
    np.testing.assert_array_equal(sample_indices(np.int32(3), 10), np.arange(3))


def test_choices_and_vectors_are_checked():
    X = np.random.default_rng(5).standard_normal((20, 3))
    with pytest.raises(ValueError, match="metric must be one of 'euclidean', 'cosine'"):
        view_trustworthiness(X, X[:, :2], metric="dot")
    with pytest.raises(ValueError, match="out of range"):
        nearest_neighbors(X, 0, exclude=[20])
    with pytest.raises(ValueError, match="length 3"):
        semantic_axis(X, [0], [1], orthogonal_to=np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        nearest_neighbors(X, np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="vector of length 3"):
        nearest_neighbors(X, 1.5)


def test_results_are_named_and_still_unpack():
    X = np.random.default_rng(6).standard_normal((40, 5))
    res = nearest_neighbors(X, 3, k=4, exclude=[-1])
    assert isinstance(res, Neighbors) and 39 not in res.indices and 3 not in res.indices
    idx, score = res
    assert idx is res.indices and score is res.scores
    assert isinstance(analogy(X, [0, 1], [2], k=3), Neighbors)
    ax = semantic_axis(X, [0], [1])
    assert isinstance(ax, SemanticAxis) and ax.direction.shape == (5,) and ax.coords.shape == (40,)
    t = view_trustworthiness(X, X[:, :2])
    assert isinstance(t, Trustworthiness) and t.n_used == 40 and 0 <= t.score <= 1


awkward = hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
                     elements=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([np.nan, np.inf, 1e300, 0.0])))


@settings(max_examples=50, deadline=None)
@given(X=awkward)
def test_fuzz_semantic_axes(X):
    """Anything: a finite result or ValueError with a message, never another exception or NaN."""
    try:
        res = semantic_axes(X, ([0], [1]), ([1], [2]))
    except ValueError as exc:
        assert str(exc)
    else:
        assert np.all(np.isfinite(res.coords))
