"""ui/pca_compute.Coordinates: every row's coordinates, one axis projected when a view first needs it."""
from __future__ import annotations

import numpy as np

from la_core.pca import PCA
from ui.pca_compute import Coordinates


def test_coordinates_are_the_transform_and_each_axis_is_projected_once(monkeypatch):
    X = np.random.default_rng(0).normal(size=(3000, 12)).astype(np.float32) * np.arange(1, 13)
    model = PCA(6).fit(X)
    full = model.transform(X)
    calls = []
    real = model.transform
    monkeypatch.setattr(model, "transform", lambda X, axes=None: calls.append(list(axes)) or real(X, axes=axes))
    Z = Coordinates(model, X)
    assert Z.shape == (3000, 6)
    np.testing.assert_allclose(Z.on([0, 1]), full[:, [0, 1]], rtol=1e-5, atol=1e-4)
    assert calls == [[0, 1]]
    assert Z.on([0, 1]) is Z.on((0, 1))                            # a view asked for again: the same array
    np.testing.assert_allclose(Z.on([1, 0, 2]), full[:, [1, 0, 2]], rtol=1e-5, atol=1e-4)
    assert calls == [[0, 1], [2]]                                  # only the new axis is projected
    every = Z.on(range(6))                                         # the export's k columns
    np.testing.assert_allclose(every, full, rtol=1e-5, atol=1e-4)
    assert calls == [[0, 1], [2], [3, 4, 5]]
    assert Z.on(range(6)) is not every                             # built when asked, not kept
    for axes in ([0, 2], [2, 0], [3, 1], [4, 5], [5, 4]):          # at most Coordinates.VIEWS views kept
        Z.on(axes)
    assert len(Z._views) == Coordinates.VIEWS
