import numpy as np
import pytest

from la_core.checks import as_float_array, as_square_matrix


def test_accepts_finite():
    np.testing.assert_array_equal(as_float_array([[1, 2], [3, 4]], "A", ndim=2), [[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("bad, msg", [
    ([[1, np.nan]], "NaN"), ([1, 2], "2-D"), ([["a", "b"]], "numeric"), (np.zeros((0, 2)), "at least"),
])
def test_rejects(bad, msg):
    with pytest.raises(ValueError, match=msg):
        as_float_array(bad, "A", ndim=2)


def test_square():
    with pytest.raises(ValueError, match="square"):
        as_square_matrix(np.zeros((2, 3)))
