"""Weight matrices read one at a time from memory-mapped safetensors files, without the model.

Opening a store reads only the file headers (names, shapes, dtypes), so the weights of a large
checkpoint can be browsed without building the torch module. Reading one matrix touches only
that tensor's bytes; bfloat16 / float16 tensors are converted to float32 one at a time.
"""
from __future__ import annotations

import re

import numpy as np
import torch
from safetensors import safe_open

FLOAT_DTYPES = ("F64", "F32", "F16", "BF16")

__all__ = ["WeightStore"]


def _natural(name: str):
    """Sort key that puts layer 2 before layer 10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


class WeightStore:
    """The tensors of one checkpoint (one or several safetensors files), read lazily.

    Parameters
    ----------
    files : sequence of str
        The checkpoint's ``.safetensors`` files (shards included).
    """

    def __init__(self, files):
        self._file: dict[str, str] = {}
        self._shape: dict[str, tuple[int, ...]] = {}
        self._dtype: dict[str, str] = {}
        for path in files:
            try:
                with safe_open(path, framework="pt") as f:
                    for name in f.keys():
                        sl = f.get_slice(name)
                        self._file[name] = path
                        self._shape[name] = tuple(int(s) for s in sl.get_shape())
                        self._dtype[name] = str(sl.get_dtype())
            except Exception as exc:  # a corrupt header: say which file
                raise ValueError(f"{path!r} is not a readable safetensors file ({exc}).") from None
        self._matrices = sorted((n for n, s in self._shape.items()
                                 if len(s) == 2 and self._dtype[n] in FLOAT_DTYPES), key=_natural)
        self._matrix_set = frozenset(self._matrices)

    def names(self) -> list[str]:
        """Every 2-D floating-point tensor, in natural (layer) order."""
        return list(self._matrices)

    def is_matrix(self, name: str) -> bool:
        """Whether ``name`` is one of :meth:`names` (not a 1-D tensor nor an integer buffer)."""
        return name in self._matrix_set

    def shape(self, name: str) -> tuple[int, ...]:
        """Stored shape of a tensor."""
        return self._shape[name]

    def dtype(self, name: str) -> str:
        """Stored dtype of a tensor as safetensors names it (``"F32"``, ``"BF16"``, ...)."""
        return self._dtype[name]

    def __contains__(self, name) -> bool:
        return name in self._file

    def read(self, name: str) -> np.ndarray:
        """One tensor as float32 NumPy, shape as stored.

        Raises
        ------
        KeyError
            If the checkpoint has no tensor ``name``.
        """
        with safe_open(self._file[name], framework="pt") as f:
            t = f.get_tensor(name)                            # only this tensor's bytes
        return t.to(torch.float32).numpy()
