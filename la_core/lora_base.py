"""Where LoRA adapters live and which model they adapt.

:func:`list_adapter_folders` lists the folders under the models folder that hold an
``adapter_config.json``, with the containment rules of :mod:`la_core.paths` (no ``..``, no link
that leads out); :func:`resolve_adapter_folder` turns a listed name back into a real path.

:func:`match_base` pairs every adapted module with the base model's weight of the same name and
shape (``encoder.layer.0.attention.self.query`` ↔ ``encoder.layer.0.attention.self.query.weight``;
a checkpoint saved with or without a head prefix such as ``model.`` still matches), so ``ΔW`` can
be compared with ``W`` (:func:`la_core.lora.relative_update`, :func:`la_core.lora.principal_angles`).
"""
from __future__ import annotations

import numpy as np

from la_core.lora_files import CONFIG_NAME
from la_core.paths import folders_holding, resolve_in_root

__all__ = ["list_adapter_folders", "resolve_adapter_folder", "match_base", "base_weight"]

_CONV1D = ("QKV", "O", "MLP up", "MLP down")    # GPT-2 layers stored (in, out)


def list_adapter_folders(root, limit: int = 1000) -> list[str]:
    """Folders under ``root`` that hold an ``adapter_config.json`` (relative POSIX names, sorted).

    The walk of :func:`la_core.paths.folders_holding`: hidden folders are skipped and links are never
    followed (a linked folder is listed only when its real path stays inside ``root``). An adapter
    folder is searched too, so checkpoints saved inside a training run's folder are listed. Only the
    config's presence is checked here; :func:`la_core.lora.load_adapter` says what else is wrong
    when one is opened.

    Parameters
    ----------
    root : str or path-like
        The models folder (``LA_LENS_MODELS_DIR``).
    limit : int, default 1000

    Returns
    -------
    list of str
    """
    return folders_holding(root, CONFIG_NAME, limit, folder="models folder", nested=True)


def resolve_adapter_folder(root, name: str) -> str:
    """Real path of the adapter folder ``name`` (as listed by :func:`list_adapter_folders`).

    Raises
    ------
    ValueError
        An absolute name, ``..``, a link leading outside ``root``, or not a folder.
    """
    return resolve_in_root(root, name, "models folder", want_dir=True)


def _same_module(weight: str, module: str) -> bool:
    """``weight`` (a tensor name without ``.weight``) and ``module`` name the same layer, up to a prefix."""
    return weight == module or weight.endswith("." + module) or module.endswith("." + weight)


def match_base(model, adapter) -> dict:
    """The base weight of every adapted module: ``{module: (tensor name, transposed)}``.

    A module matches the 2-D weight ``<module>.weight`` (up to a leading prefix on either side)
    whose ``(out, in)`` shape is the adapter's; ``transposed`` is True for GPT-2's Conv1D weights,
    which are stored ``(in, out)``.

    Parameters
    ----------
    model : la_core.models.Model
    adapter : la_core.lora.Adapter

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        A module without a weight of that name, or with a different shape: the model is not
        this adapter's base. The message names the first one.
    """
    weights = [n[: -len(".weight")] for n in model.weight_names() if n.endswith(".weight")]
    out = {}
    for module in adapter.modules:
        found = [w for w in weights if _same_module(w, module)]
        if not found:
            raise ValueError(f"{model.name} has no weight named like {module!r}: it is not this adapter's base "
                             f"model ({len(adapter.modules)} adapted modules).")
        name = min(found, key=lambda w: abs(len(w) - len(module))) + ".weight"
        stored = model.weight_shape(name)
        flip = model.family == "gpt2" and model.weight_kind(name)[1] in _CONV1D
        shape = tuple(stored[::-1]) if flip else tuple(stored)
        if shape != tuple(adapter.shape_of(module)):
            raise ValueError(f"{model.name}'s {name} is {shape[0]}×{shape[1]} (out × in) but the adapter's ΔW for "
                             f"{module!r} is {adapter.shape_of(module)[0]}×{adapter.shape_of(module)[1]}: it is not "
                             "this adapter's base model.")
        out[module] = (name, flip)
    return out


def base_weight(model, match: dict, module: str) -> np.ndarray:
    """``W`` of ``module`` in ``(out, in)`` layout, read lazily (``match`` from :func:`match_base`)."""
    if module not in match:
        raise ValueError(f"module {module!r} has no matched base weight; match_base lists {len(match)} modules.")
    name, flip = match[module]
    w = model.weight(name)
    return np.ascontiguousarray(w.T) if flip else w
