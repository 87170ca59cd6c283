"""Issue 9: fuzz every la_core public function with hypothesis.

Each call must either return a result with no NaN (for finite input) or raise ValueError with a
message; any other exception type is a bug. Arguments are drawn from a pool of awkward values:
arrays of any small shape (empty axes, 0-D, 1-D, 3-D), NaN, ±inf, huge and tiny numbers, ints,
strings, None.
"""
from __future__ import annotations

import importlib
import os
import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Every public function defined in these modules is fuzzed (io has its own, larger fuzz file;
# models needs the real model; the dask modules need a cluster and are tested in test_pca_dask.py).
MODULES = ["la_core.checks", "la_core.projections", "la_core.attention", "la_core.attention_masks",
           "la_core.eigen", "la_core.random_matrices", "la_core.svd", "la_core.svd_channels", "la_core.paths",
           "la_core.lora", "la_core.lora_files", "la_core.rope",
           "la_core.pca", "la_core.pca_rows", "la_core.neighbors", "la_core.topk", "la_core.geometry",
           "la_core.texts", "la_core.layers", "la_core.density"]


def _public_functions():
    for mod in MODULES:
        m = importlib.import_module(mod)
        for name, fn in sorted(vars(m).items()):
            if not name.startswith("_") and inspect.isfunction(fn) and fn.__module__ == mod:
                yield mod, name, fn


def _pca_fit(X, k):
    from la_core.pca import PCA

    return PCA(k).fit(X).components_


finite = st.floats(-1e6, 1e6, allow_nan=False, width=64)
awkward = st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308, 1e-308, 0.0])
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
                    elements=st.one_of(finite, awkward))
finite_arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5),
                           elements=finite)
scalars = st.one_of(st.integers(-5, 600), finite, awkward, st.booleans())
values = st.one_of(arrays, finite_arrays, scalars, st.none(), st.text(max_size=4),
                   st.lists(st.integers(-3, 6), max_size=4))


def _folders_holding(marker, limit):
    """folders_holding under this tests folder: a fuzzed root such as "/" would walk the whole disk."""
    from la_core.paths import folders_holding

    return folders_holding(os.path.dirname(os.path.abspath(__file__)), marker, limit)


_FIXED_ROOT = {("la_core.paths", "folders_holding"): _folders_holding}


def _cases():
    for mod, name, fn in _public_functions():
        yield pytest.param(_FIXED_ROOT.get((mod, name), fn), id=f"{mod.split('.')[-1]}.{name}")
    yield pytest.param(_pca_fit, id="pca.PCA.fit")


def _n_required(fn) -> int:
    params = inspect.signature(fn).parameters.values()
    return sum(p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in params)


def _all_finite_inputs(args) -> bool:
    for a in args:
        arr = np.asarray(a) if not isinstance(a, (str, type(None))) else None
        if arr is not None and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            return False
    return True


def _has_nan(result) -> bool:
    if isinstance(result, np.ndarray):
        return result.dtype.kind in "fc" and bool(np.isnan(result).any())
    if isinstance(result, (float, complex, np.floating)):
        return bool(np.isnan(result))
    if isinstance(result, dict):
        return any(_has_nan(v) for v in result.values())
    if isinstance(result, (tuple, list)):
        return any(_has_nan(v) for v in result)
    if hasattr(result, "__dataclass_fields__"):
        return any(_has_nan(getattr(result, f)) for f in result.__dataclass_fields__)
    return False


@pytest.mark.parametrize("fn", list(_cases()))
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_public_function(fn, data):
    n = _n_required(fn)
    args = [data.draw(values, label=f"arg{i}") for i in range(n)]
    try:
        with np.errstate(all="ignore"):
            result = fn(*args)
    except ValueError as exc:
        assert str(exc), f"{fn.__name__} raised ValueError without a message"
        return
    if _all_finite_inputs(args):
        assert not _has_nan(result), f"{fn.__name__}{tuple(args)!r} returned NaN for finite input"
