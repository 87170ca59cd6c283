"""LoRA adapters: open a PEFT adapter and see the rank its updates actually use.

Each adapted linear layer stores thin factors ``A`` (r × in) and ``B`` (out × r); its weight becomes
``W + ΔW`` with ``ΔW = scale · B A``, ``scale = α / r`` (``α / √r`` for rsLoRA). ``r`` is the rank
the adapter was *given*; the spectrum of ``ΔW`` shows the rank it *uses*. That spectrum never
forms ``ΔW``: with thin QRs ``B = Q_B R_B`` and ``Aᵀ = Q_A R_A``, ``ΔW = Q_B (scale · R_B R_Aᵀ) Q_Aᵀ``,
so the SVD of the small core, carried back by ``Q_B`` and ``Q_A``, is the SVD of ``ΔW`` at
``O((out + in) r²)`` instead of ``O(out · in · r)`` for the product alone.

Files follow PEFT's layout (read by :mod:`la_core.lora_files`). Only safetensors are read, never
pickles; a folder is read lazily, one module at a time.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open

from la_core.checks import as_dtype, as_float_array, as_int, as_matrix
from la_core.device import get_device, to_numpy, to_tensor
from la_core.lora_files import (KEY, PREFIX, WEIGHTS_NAME, fail, header, kind_of_name, layer_of_name,
                                module_order, read_files, settings)
from la_core.svd import SVDResult, effective_rank, rank_for_energy

__all__ = ["SVDResult", "Adapter", "load_adapter", "relative_update", "principal_angles"]

def _pattern_key(keys, module: str) -> str:
    """PEFT's ``get_pattern_key``: the first key that matches the end of the name after a dot."""
    for key in keys:
        if re.match(rf"(.*\.)?({key})$", module):
            return key
    return module


@dataclass(eq=False)
class Adapter:
    """A loaded LoRA adapter (see :func:`load_adapter`).

    Attributes
    ----------
    r, alpha : int, float
        The config's default ``r`` and ``lora_alpha``; :meth:`rank_of` / :meth:`scale_of` give a
        module's own (``rank_pattern`` / ``alpha_pattern`` matched as PEFT does).
    use_rslora : bool
        Scale ``α / √r`` instead of ``α / r``.
    modules : tuple of str
        Adapted modules, e.g. ``model.layers.3.self_attn.q_proj``, by layer then q k v o gate up down.
    target_modules : tuple of str or str
        The config's ``target_modules`` (a regex string stays a string).
    config : dict
        The whole ``adapter_config.json``.
    skipped : tuple of str
        Tensors that are not LoRA A/B weights (biases, ``modules_to_save``, embeddings).
    """

    r: int
    alpha: float
    use_rslora: bool
    modules: tuple
    target_modules: tuple | str
    rank_pattern: dict
    alpha_pattern: dict
    config: dict = field(repr=False)
    skipped: tuple = field(repr=False)
    _keys: dict = field(repr=False)       # module -> (key of A, key of B)
    _shapes: dict = field(repr=False)     # module -> (out, in)
    _source: object = field(repr=False)   # Path of the safetensors file, or {key: tensor}

    @property
    def scale(self) -> float:
        """Default scale ``α / r`` (``α / √r`` with rsLoRA)."""
        return self.alpha / (math.sqrt(self.r) if self.use_rslora else self.r)

    # ------------------------------------------------------------------ per-module facts
    def _check(self, module) -> str:
        if not isinstance(module, str) or module not in self._keys:
            raise ValueError(f"module must be one of this adapter's {len(self.modules)} modules, e.g. "
                             f"{self.modules[0]!r}; got {module!r}.")
        return module

    def rank_of(self, module: str) -> int:
        """Rank of ``module``: ``rank_pattern`` entry matching its name, else ``r``."""
        self._check(module)
        return int(self.rank_pattern.get(_pattern_key(self.rank_pattern, module), self.r))

    def scale_of(self, module: str) -> float:
        """Scale of ``module``: its ``α`` (``alpha_pattern`` or ``lora_alpha``) over its ``r`` (or ``√r``)."""
        r = self.rank_of(module)
        alpha = float(self.alpha_pattern.get(_pattern_key(self.alpha_pattern, module), self.alpha))
        return alpha / (math.sqrt(r) if self.use_rslora else r)

    def shape_of(self, module: str) -> tuple[int, int]:
        """``(out, in)`` of ``ΔW`` (torch ``nn.Linear`` layout, also for GPT-2's Conv1D)."""
        return self._shapes[self._check(module)]

    def layer_of(self, module: str) -> int | None:
        """Block index: the first all-digit part of the name (``h.1.attn`` → 1), else None."""
        return layer_of_name(self._check(module))

    def kind_of(self, module: str) -> str:
        """Kind of layer from its name: q, k, v, qkv, o, MLP gate/up/down/gate+up, or other.

        ``dense`` and ``c_proj`` are read with their parent: under attention they are the output
        projection ``o``; BERT's ``intermediate.dense`` is MLP up and ``output.dense`` MLP down.
        """
        return kind_of_name(self._check(module))

    # ------------------------------------------------------------------ the update
    def _factors(self, module: str, dtype: torch.dtype | None) -> tuple[torch.Tensor, torch.Tensor]:
        """A (r, in) and B (out, r): as stored on the CPU (``dtype=None``) or on the la_core device."""
        ka, kb = self._keys[self._check(module)]
        if isinstance(self._source, dict):
            a, b = self._source[ka], self._source[kb]                     # (r, in), (out, r)
        else:
            with safe_open(str(self._source), framework="pt") as f:
                a, b = f.get_tensor(ka), f.get_tensor(kb)                 # (r, in), (out, r)
        if dtype is None:
            return a, b
        return to_tensor(a, dtype, get_device()), to_tensor(b, dtype, get_device())   # (r, in), (out, r)

    def _core(self, module: str, vectors: bool):
        """``ΔW = Q_B · core · Q_Aᵀ`` with the small core ``scale · R_B R_Aᵀ``."""
        a, b = self._factors(module, torch.float64)                       # (r, in), (out, r)
        mode = "reduced" if vectors else "r"
        qb, rb = torch.linalg.qr(b, mode=mode)                            # (out, kb), (kb, r); kb = min(out, r)
        qa, ra = torch.linalg.qr(a.T, mode=mode)                          # (in, ka), (ka, r); ka = min(in, r)
        core = self.scale_of(module) * (rb @ ra.T)                        # (kb, ka)
        return qb, core, qa

    def delta_svd(self, module: str, dtype: str = "float32") -> SVDResult:
        """Thin SVD of ``ΔW = scale · B A`` without forming ``ΔW``.

        Parameters
        ----------
        module : str
            One of :attr:`modules`.
        dtype : {"float32", "float64"}, default "float32"
            Dtype of the result (the factorisation itself runs in float64).

        Returns
        -------
        SVDResult
            ``U`` (out, k), ``S`` (k,), ``Vh`` (k, in) with ``k = min(r, out, in)``: the leading
            triplets of ``numpy.linalg.svd(ΔW)``, whose other singular values are zero.
        """
        td = as_dtype(dtype)
        qb, core, qa = self._core(module, vectors=True)                   # (out, kb), (kb, ka), (in, ka)
        uc, s, vhc = torch.linalg.svd(core, full_matrices=False)          # (kb, k), (k,), (k, ka)
        u = qb @ uc                                                       # (out, k)
        vh = vhc @ qa.T                                                   # (k, in)
        return SVDResult(to_numpy(u.to(td)), to_numpy(s.to(td)), to_numpy(vh.to(td)))

    def singular_values(self, module: str) -> np.ndarray:
        """Singular values of ``ΔW`` (k,), descending, float64: :meth:`delta_svd` without vectors."""
        _, core, _ = self._core(module, vectors=False)                    # (kb, ka)
        return to_numpy(torch.linalg.svdvals(core))                       # (k,)

    def delta(self, module: str) -> np.ndarray:
        """Dense ``ΔW = scale · B A``, shape (out, in), float32 (what ``merge_and_unload`` adds)."""
        a, b = self._factors(module, torch.float32)                       # (r, in), (out, r)
        return to_numpy((b * self.scale_of(module)) @ a)                  # (out, in)

    def summary(self, progress=None) -> pd.DataFrame:
        """One row per module: where it sits, its rank budget and the rank its update uses.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(done, total)`` after each module.

        Returns
        -------
        pandas.DataFrame
            Columns ``module, layer, kind, shape (out, in), r, scale, norm_fro`` (‖ΔW‖_F),
            ``sigma_1``, ``effective_rank`` (exp of the entropy of σ/Σσ), ``rank_90``, ``rank_99``
            (smallest rank keeping 90 % / 99 % of Σσ²) and ``rank_used`` (``rank_90 / r``). A zero
            update (an untrained B) has NaN/NA in the last four.
        """
        if progress is not None and not callable(progress):
            raise ValueError(f"progress must be a callable progress(done, total) or None; got {progress!r}.")
        rows = []
        for i, m in enumerate(self.modules):
            s = self.singular_values(m)                                   # (k,) descending, k ≥ 1
            r, used = self.rank_of(m), s[0] > 0                           # an untrained B gives ΔW = 0
            r90 = rank_for_energy(s, 0.9) if used else None
            rows.append({"module": m, "layer": self.layer_of(m), "kind": self.kind_of(m), "shape": self.shape_of(m),
                         "r": r, "scale": self.scale_of(m), "norm_fro": _fro(torch.from_numpy(s)),
                         "sigma_1": float(s[0]), "effective_rank": effective_rank(s) if used else np.nan,
                         "rank_90": r90, "rank_99": rank_for_energy(s, 0.99) if used else None,
                         "rank_used": r90 / r if used else np.nan})
            if progress is not None:
                progress(i + 1, len(self.modules))
        df = pd.DataFrame(rows, columns=["module", "layer", "kind", "shape", "r", "scale", "norm_fro", "sigma_1",
                                         "effective_rank", "rank_90", "rank_99", "rank_used"])
        return df.astype({"layer": "Int64", "r": "int64", "rank_90": "Int64", "rank_99": "Int64",
                          "scale": "float64", "effective_rank": "float64", "rank_used": "float64"})

    def relative_update(self, module: str, base_weight) -> float:
        """``‖ΔW‖_F / ‖W‖_F`` for ``module`` (see :func:`relative_update`)."""
        return relative_update(self.delta_svd(module, "float64"), base_weight)

    def principal_angles(self, module: str, base_weight, k: int) -> np.ndarray:
        """Angles between the top-k left singular spaces of ``ΔW`` and ``W`` (see :func:`principal_angles`)."""
        return principal_angles(self.delta_svd(module, "float64"), base_weight, k)


def load_adapter(path_or_files) -> Adapter:
    """Open a PEFT LoRA adapter.

    Parameters
    ----------
    path_or_files : str, os.PathLike or dict
        A folder with ``adapter_config.json`` and ``adapter_model.safetensors`` (or the path of
        one of them), or the two files as ``{"adapter_config.json": bytes, ...}`` (uploads).

    Returns
    -------
    Adapter

    Raises
    ------
    ValueError
        Missing config or weights, pickle-only weights (``.bin``, never opened), a ``peft_type``
        other than LORA, DoRA, no ``lora_A``/``lora_B`` pairs (a full state dict), A and B that do
        not chain as A (r × in), B (out × r) with the config's r, non-float or NaN/inf weights.
    """
    cfg, weights = read_files(path_or_files)
    chosen = settings(cfg)
    shapes, tensors = header(weights)
    pairs, names, skipped = {}, set(), []
    for key in shapes:
        m = KEY.match(key)
        if m:
            names.add(m["name"])
            pairs.setdefault(m["module"].removeprefix(PREFIX), {})[m["ab"]] = key
        else:
            skipped.append(key)
    if not pairs:
        raise fail(f"{WEIGHTS_NAME} holds no lora_A/lora_B weights (found {len(shapes)} tensors such as "
                    f"{sorted(shapes)[:2]}; a full model state dict is not an adapter)")
    if len(names) > 1:
        raise fail(f"the file holds several adapters ({sorted(map(str, names))}); save one adapter per folder")
    target = cfg.get("target_modules")
    ad = Adapter(modules=tuple(sorted(pairs, key=module_order)), config=cfg, skipped=tuple(skipped), _keys={}, _shapes={},
                 target_modules=target if isinstance(target, str) else tuple(sorted(map(str, target if isinstance(
                     target, list) and target else {p.rsplit(".", 1)[-1] for p in pairs}))), _source=None, **chosen)
    for module in ad.modules:
        if len(pairs[module]) < 2:
            raise fail(f"module {module!r} has no lora_{'B' if 'A' in pairs[module] else 'A'} weight")
        ka, kb = pairs[module]["A"], pairs[module]["B"]
        sa, sb = shapes[ka], shapes[kb]
        if len(sa) != 2 or len(sb) != 2 or 0 in sa + sb:
            raise fail(f"module {module!r} has lora_A {sa} and lora_B {sb}; only non-empty 2-D (linear layer) "
                        "LoRA weights are read, not convolution ones")
        ad._keys[module], ad._shapes[module] = (ka, kb), (sb[0], sa[1])
        if not sa[0] == sb[1] == ad.rank_of(module):
            raise fail(f"module {module!r}: lora_A is {sa} and lora_B is {sb}, which do not chain as "
                        f"A (r × in), B (out × r) with the config's r = {ad.rank_of(module)} for this module")
    ad._source = {k: tensors[k] for ab in ad._keys.values() for k in ab} if tensors else weights
    for module in ad.modules:                    # one module at a time: a folder is never read whole
        for t, ab in zip(ad._factors(module, None), "AB"):
            if not t.is_floating_point():
                raise fail(f"module {module!r}: lora_{ab} has dtype {t.dtype}, not a floating-point type")
            if not all(bool(torch.isfinite(x)) for x in t.aminmax()):   # NaN propagates to min and max
                raise fail(f"module {module!r}: lora_{ab} contains NaN or infinite values")
    return ad


# ---------------------------------------------------------------------------- ΔW against W
def _operand(x, name: str) -> tuple[tuple[int, int], torch.Tensor | None, torch.Tensor]:
    """``(shape, U, S)`` of an SVDResult (any thin U, S, Vh), or ``(shape, None, dense)`` of a matrix."""
    dev = get_device()
    if all(hasattr(x, a) for a in ("U", "S", "Vh")):
        u, s, vh = (as_float_array(getattr(x, a), f"{name}.{a}", ndim=d) for a, d in (("U", 2), ("S", 1), ("Vh", 2)))
        if u.shape[1] < s.shape[0] or vh.shape[0] < s.shape[0] or (s < 0).any():
            raise ValueError(f"{name} must be thin SVD factors U (m, k), S (k,) ≥ 0, Vh (k, n); got shapes "
                             f"{u.shape}, {s.shape}, {vh.shape}.")
        order = np.argsort(-s, kind="stable")                            # descending σ
        return ((u.shape[0], vh.shape[1]), to_tensor(u[:, order], torch.float64, dev),   # (m, k)
                to_tensor(s[order], torch.float64, dev))                                # (k,)
    m = as_matrix(x, name)
    if not np.isfinite(m).all():
        raise ValueError(f"{name} contains NaN or infinite values; only finite numbers are accepted.")
    return m.shape, None, to_tensor(m, torch.float64, dev)               # (m, n)


def _pair(delta, base_weight):
    d, w = _operand(delta, "delta"), _operand(base_weight, "base_weight")
    if d[0] != w[0]:
        hint = " (GPT-2's Conv1D stores weights as (in, out): pass weight.T)" if d[0] == w[0][::-1] else ""
        raise ValueError(f"base_weight has shape {w[0]} but ΔW is {d[0]} (out, in){hint}.")
    return d, w


def _fro(t: torch.Tensor) -> float:
    """‖t‖ (of S it is ‖ΔW‖_F), scaled by the largest entry first so that it cannot overflow."""
    big = float(t.abs().max()) if t.numel() else 0.0
    return 0.0 if big == 0 else big * float(torch.linalg.vector_norm(t / big))


def relative_update(delta, base_weight) -> float:
    """Relative size of the update, ``‖ΔW‖_F / ‖W‖_F``.

    Parameters
    ----------
    delta : SVDResult or array_like, shape (out, in)
        ``ΔW`` from :meth:`Adapter.delta_svd` (or any thin U, S, Vh), or dense.
    base_weight : array_like, shape (out, in), or SVDResult
        The base layer's ``W`` in ``nn.Linear`` layout.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Non-finite input, shapes that differ, or ``W = 0``.
    """
    d, w = _pair(delta, base_weight)
    nw = _fro(w[2])
    if nw == 0:
        raise ValueError("base_weight is all zeros: the relative size of an update to W = 0 is undefined.")
    return _fro(d[2]) / nw


def _top_left(op, k: int) -> torch.Tensor:
    _, u, t = op
    if u is None:
        big = float(t.abs().max())
        u = torch.linalg.svd(t / big, full_matrices=False)[0]            # (m, q)
    return u[:, :k]                                                      # (m, k)


def principal_angles(delta, base_weight, k: int) -> np.ndarray:
    """Principal angles (degrees) between the top-k left singular subspaces of ``ΔW`` and of ``W``.

    Small angles: the update writes into the output directions ``W`` already uses most; angles
    near 90° mean it opens new ones. As :func:`scipy.linalg.subspace_angles`: cosines from
    ``U_ΔᵀU_W``, sines (accurate for small angles) from the part of ``U_W`` outside ``span U_Δ``.

    Parameters
    ----------
    delta : SVDResult or array_like, shape (out, in)
        ``ΔW`` (:meth:`Adapter.delta_svd`, or dense).
    base_weight : array_like, shape (out, in), or SVDResult
        ``W`` in ``nn.Linear`` layout. A dense ``W`` gets a full SVD: pass its SVD to reuse one.
    k : int
        Leading singular vectors on each side, at most the number of singular values of either;
        those past ``ΔW``'s rank (σ = 0) are arbitrary directions.

    Returns
    -------
    numpy.ndarray, shape (k,), float64, ascending, in [0, 90].
    """
    d, w = _pair(delta, base_weight)
    k = as_int(k, "k", 1, min(min(op[0]) if op[1] is None else op[1].shape[1] for op in (d, w)))
    if not bool(d[2].any()) or not bool(w[2].any()):
        raise ValueError("ΔW or W is all zeros (an untrained lora_B?): it has no singular directions to compare.")
    ud, uw = _top_left(d, k), _top_left(w, k)                            # (out, k), (out, k)
    m = ud.T @ uw                                                        # (k, k)
    cos = torch.linalg.svdvals(m).clamp(0, 1)                            # (k,) descending: angles ascending
    sin = torch.linalg.svdvals(uw - ud @ m).clamp(0, 1).flip(0)          # (k,) ascending
    theta = torch.where(cos ** 2 >= 0.5, torch.arcsin(sin), torch.arccos(cos))   # (k,) radians
    return np.degrees(to_numpy(theta))
