"""Where la_core computes: device choice and NumPy <-> torch conversion.

The device is ``cuda`` when available, else ``mps``, else ``cpu``. The environment variable
``LA_DEVICE`` overrides the choice (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
"""
from __future__ import annotations

import mmap
import os
import warnings

import numpy as np
import torch

_KNOWN = ("cpu", "cuda", "mps")


def _available(kind: str, index: int | None) -> bool:
    if kind == "cpu":
        return True
    if kind == "cuda":
        if not torch.cuda.is_available():
            return False
        return index is None or index < torch.cuda.device_count()
    if kind == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return False


def get_device() -> torch.device:
    """Return the torch device la_core computes on.

    Returns
    -------
    torch.device
        ``LA_DEVICE`` when set, else ``cuda`` if available, else ``mps``, else ``cpu``.

    Raises
    ------
    ValueError
        If ``LA_DEVICE`` names an unknown device kind or one this machine does not have.
    """
    wanted = os.environ.get("LA_DEVICE", "").strip().lower()
    if wanted:
        kind, _, idx = wanted.partition(":")
        if kind not in _KNOWN or (idx and not idx.isdigit()):
            raise ValueError(
                f"LA_DEVICE={wanted!r} is not a device la_core knows; "
                f"use one of {', '.join(_KNOWN)} (optionally 'cuda:N')."
            )
        index = int(idx) if idx else None
        if not _available(kind, index):
            raise ValueError(
                f"LA_DEVICE={wanted!r} was requested but this machine has no such device; "
                "unset LA_DEVICE to pick automatically or set LA_DEVICE=cpu."
            )
        return torch.device(wanted)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _available("mps", None):
        return torch.device("mps")
    return torch.device("cpu")


def device_label(device: torch.device | None = None) -> str:
    """Human-readable name of the device, e.g. ``'cpu (2 threads)'`` or ``'cuda (NVIDIA H100)'``."""
    device = device or get_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


def to_tensor(array, dtype: torch.dtype = torch.float32, device: torch.device | None = None) -> torch.Tensor:
    """Move a NumPy array (or array-like) to a tensor on the la_core device.

    The one NumPy -> torch bridge of la_core: modules that compute elsewhere (e.g. eigen's float64
    device, which is never ``mps``) pass their ``device``.

    Parameters
    ----------
    array : array_like
        Input values. Arrays torch cannot share (negative strides, read-only memory) are copied.
    dtype : torch.dtype, default torch.float32
        Dtype of the result (``la_core.checks.as_dtype`` turns the public ``"float32"`` /
        ``"float64"`` strings into one). ``mps`` has no float64, so float64 falls back to float32 there.
    device : torch.device, optional
        Target device; defaults to :func:`get_device`.

    Returns
    -------
    torch.Tensor
    """
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"dtype must be a torch.dtype (see la_core.checks.as_dtype); got {dtype!r}.")
    device = device or get_device()
    if device.type == "mps" and dtype == torch.float64:
        dtype = torch.float32
    if isinstance(array, torch.Tensor):
        return array.to(device=device, dtype=dtype)
    arr = np.asarray(array)
    if not arr.flags.writeable or any(s < 0 for s in arr.strides):
        arr = np.array(arr)     # torch cannot view these: it refuses negative strides, warns on read-only
    return torch.as_tensor(arr, dtype=dtype, device=device)


def host_view(array: np.ndarray) -> torch.Tensor:
    """A CPU tensor sharing ``array``'s memory (a read-only memmap too), for reading only.

    torch warns about read-only NumPy memory because a tensor could write to it; la_core's streaming
    passes over the rows (PCA's projection, top-k search) only read them, so the warning is muted
    instead of copying the rows. Negative strides, which torch refuses, are copied.
    """
    if any(s < 0 for s in array.strides):
        array = np.ascontiguousarray(array)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """Return a NumPy copy (or view, on the CPU) of a tensor, detached from autograd."""
    return tensor.detach().cpu().numpy()


_HUGE = 2 * 1024 ** 2


def empty_host(*shape: int) -> torch.Tensor:
    """An uninitialised float32 CPU tensor that is quick to fill for the first time.

    Writing fresh memory costs a page fault per 4 KiB page; for arrays written once and then read
    (the (L, H, T, T) attention weights of one text) that is most of the cost of recording them.
    Arrays of 2 MiB and more are mapped anonymously with ``MADV_HUGEPAGE`` where the system offers
    it (Linux), so they fault in 2 MiB at a time; elsewhere this is ``torch.empty``.
    """
    n = 1
    for s in shape:
        n *= int(s)
    if n * 4 < _HUGE or not hasattr(mmap, "MADV_HUGEPAGE"):
        return torch.empty(*shape)
    buf = mmap.mmap(-1, n * 4, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    buf.madvise(mmap.MADV_HUGEPAGE)
    return torch.from_numpy(np.frombuffer(buf, dtype=np.float32).reshape(shape))
