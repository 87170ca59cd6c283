import warnings

import numpy as np
import pytest
import torch

from la_core import device as dev


def test_default_is_available_device(monkeypatch):
    monkeypatch.delenv("LA_DEVICE", raising=False)
    d = dev.get_device()
    expected = "cuda" if torch.cuda.is_available() else ("mps" if dev._available("mps", None) else "cpu")
    assert d.type == expected


def test_override_cpu(monkeypatch):
    monkeypatch.setenv("LA_DEVICE", "cpu")
    assert dev.get_device() == torch.device("cpu")


@pytest.mark.parametrize("value", ["tpu", "gpu", "cuda:x", "cpu:zero"])
def test_unknown_value_is_clear_error(monkeypatch, value):
    monkeypatch.setenv("LA_DEVICE", value)
    with pytest.raises(ValueError, match="LA_DEVICE"):
        dev.get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_is_clear_error(monkeypatch):
    monkeypatch.setenv("LA_DEVICE", "cuda")
    with pytest.raises(ValueError, match="no such device"):
        dev.get_device()


def test_roundtrip_float32(monkeypatch):
    monkeypatch.setenv("LA_DEVICE", "cpu")
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = dev.to_tensor(a)
    assert t.dtype == torch.float32 and t.device.type == "cpu"
    np.testing.assert_array_equal(dev.to_numpy(t), a.astype(np.float32))
    assert dev.to_tensor(a, dtype=torch.float64).dtype == torch.float64


def test_to_tensor_copies_what_torch_cannot_share(monkeypatch):
    monkeypatch.setenv("LA_DEVICE", "cpu")
    a = np.arange(6, dtype=np.float64)
    rev = dev.to_tensor(a[::-1], dtype=torch.float64)                # negative stride: torch alone refuses
    np.testing.assert_array_equal(rev.numpy(), a[::-1])
    ro = a.copy()
    ro.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                # torch warns when it views read-only memory
        t = dev.to_tensor(ro, dtype=torch.float64)
    t += 1                                                            # a copy: the read-only array is untouched
    np.testing.assert_array_equal(ro, a)
    w = a.copy()
    assert np.shares_memory(dev.to_tensor(w, dtype=torch.float64).numpy(), w)   # writable float64: no copy


@pytest.mark.parametrize("bad", ["float32", np.float32, None])
def test_to_tensor_takes_a_torch_dtype(bad):
    with pytest.raises(ValueError, match="dtype must be a torch.dtype"):
        dev.to_tensor(np.ones(2), dtype=bad)


def test_label_names_device(monkeypatch):
    monkeypatch.setenv("LA_DEVICE", "cpu")
    assert dev.device_label().startswith("cpu")


def test_la_core_does_not_import_ui():
    import subprocess
    import sys

    code = ("import sys, la_core, la_core.device, la_core.checks, la_core.models; "
            "import pkgutil, importlib; "
            "[importlib.import_module('la_core.' + m.name) for m in pkgutil.iter_modules(la_core.__path__)"
            " if m.name != '__main__']; "
            "bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(__import__('tests.conftest').conftest.ROOT))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("shape", [(3, 4), (2, 12, 256, 256)])   # under and over the 2 MiB huge-page size
def test_empty_host_is_a_writable_float32_cpu_tensor_that_pickles(shape):
    import pickle

    from la_core.device import empty_host

    t = empty_host(*shape)
    assert t.shape == shape and t.dtype == torch.float32 and t.device.type == "cpu"
    t.fill_(2.5)
    t[(0,) * len(shape)] = -1.0
    a = t.numpy()
    back = pickle.loads(pickle.dumps(a))     # st.cache_data pickles results: the copy owns its data
    del t, a
    assert back.shape == shape and back[(0,) * len(shape)] == -1.0 and float(back.sum()) == 2.5 * (back.size - 1) - 1


def test_host_view_shares_read_only_memory_without_a_warning(tmp_path):
    import warnings

    import numpy as np

    from la_core.device import host_view

    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "a.npy", a)
    m = np.load(tmp_path / "a.npy", mmap_mode="r")                 # read-only memmap
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = host_view(m)
    assert t.data_ptr() == m.ctypes.data and t.shape == (3, 4)     # no copy
    flipped = host_view(a[::-1])                                   # torch refuses negative strides: copied
    assert flipped.tolist() == a[::-1].tolist()
