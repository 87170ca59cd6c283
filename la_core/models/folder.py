"""A local model folder: what must be in it, what is refused, and how the app lists them.

A model folder holds ``config.json``, safetensors weights (one ``*.safetensors`` file, or shards
named by ``model.safetensors.index.json``) and tokenizer files. Pickled weights (``.bin``, ``.pt``)
are refused, never opened: unpickling can run code. Nothing here imports torch or transformers,
so checking a folder is instant even for a large model.
"""
from __future__ import annotations

import json
import os
from typing import NamedTuple

from la_core.paths import folders_holding, inside, resolve_in_root
from la_core.models.spec import check_family

INDEX = "model.safetensors.index.json"
PICKLED = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
TOKENIZER_SETS = (("tokenizer.json",), ("tokenizer.model",), ("vocab.txt",), ("vocab.json", "merges.txt"))

__all__ = ["ModelFolder", "inspect_folder", "list_model_folders", "resolve_model_folder"]


class ModelFolder(NamedTuple):
    """A checked model folder."""

    path: str                      # real path of the folder
    family: str                    # config.json's model_type (a supported one)
    config: dict                   # config.json as parsed
    weight_files: tuple[str, ...]  # safetensors files (absolute paths)


def _regular_inside(folder_real: str, name: str) -> str | None:
    """Real path of ``folder/name`` if it is a regular file that stays inside ``folder``."""
    real = os.path.realpath(os.path.join(folder_real, name))
    return real if inside(folder_real, real) and os.path.isfile(real) else None


def _read_json(path: str, what: str, where: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{where}: {what} cannot be read as JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: {what} must hold a JSON object; got {type(data).__name__}.")
    return data


def _weight_files(folder: str, where: str) -> tuple[str, ...]:
    index = _regular_inside(folder, INDEX)
    if index is not None:
        weight_map = _read_json(index, INDEX, where).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise ValueError(f"{where}: {INDEX} has no weight_map (tensor name -> shard file).")
        files = []
        for shard in sorted(set(map(str, weight_map.values()))):
            real = None if ("/" in shard or "\\" in shard) else _regular_inside(folder, shard)
            if real is None or not shard.endswith(".safetensors"):
                raise ValueError(f"{where}: {INDEX} names the shard {shard!r}, which is not a .safetensors "
                                 "file in this folder.")
            files.append(real)
        return tuple(files)
    names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    found = [r for n in names if n.endswith(".safetensors") and (r := _regular_inside(folder, n))]
    if "model.safetensors" in names and len(found) > 1:       # e.g. an adapter beside the model
        found = [os.path.realpath(os.path.join(folder, "model.safetensors"))]
    if found:
        return tuple(found)
    pickled = [n for n in names if n.endswith(PICKLED)]
    if pickled:
        raise ValueError(
            f"{where} has only pickled PyTorch weights ({', '.join(pickled[:3])}). LA Lens never opens "
            "pickles: unpickling a file can run any code inside it. Save the model as safetensors "
            "(model.save_pretrained(folder, safe_serialization=True)) and open that folder.")
    raise ValueError(f"{where} has no weights: expected model.safetensors, or shards listed in {INDEX}.")


def inspect_folder(path) -> ModelFolder:
    """Check a model folder without loading anything large.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    ModelFolder

    Raises
    ------
    ValueError
        Not a folder; no config.json; an unsupported model family; no safetensors weights (only
        pickled ones, which are refused); no tokenizer files.
    """
    try:
        raw = os.fspath(path)
    except TypeError:
        raise ValueError(f"A model path must be a folder path (str or Path); got {type(path).__name__}.") from None
    if not str(raw).strip() or "\x00" in str(raw):
        raise ValueError(f"A model path must name a folder; got {raw!r}.")
    folder = os.path.realpath(raw)
    where = f"Model folder {os.fspath(path)!r}"
    if not os.path.isdir(folder):
        raise ValueError(f"{where} does not exist or is not a folder.")
    config_path = _regular_inside(folder, "config.json")
    if config_path is None:
        raise ValueError(f"{where} has no config.json; a model folder holds config.json, *.safetensors "
                         "weights and tokenizer files (as save_pretrained writes them).")
    config = _read_json(config_path, "config.json", where)
    family = check_family(config.get("model_type"), where)
    files = _weight_files(folder, where)
    if not any(all(_regular_inside(folder, n) for n in names) for names in TOKENIZER_SETS):
        wanted = ", ".join(" + ".join(s) for s in TOKENIZER_SETS)
        raise ValueError(f"{where} has no tokenizer (looked for {wanted}); save the tokenizer beside the "
                         "model with tokenizer.save_pretrained(folder).")
    return ModelFolder(path=folder, family=family, config=config, weight_files=files)


def list_model_folders(root, limit: int = 1000) -> list[str]:
    """Folders under ``root`` that contain a ``config.json`` (relative POSIX names, sorted).

    The root itself is listed as ``"."`` when it is a model folder. Hidden folders are skipped, a
    model folder's subfolders are not searched, and links are listed only when they lead to a
    folder inside ``root`` (they are never walked through). Only the presence of ``config.json`` is
    checked here; :func:`inspect_folder` says what else is missing when one is opened.

    Parameters
    ----------
    root : str or path-like
        The models folder (``LA_LENS_MODELS_DIR``).
    limit : int, default 1000

    Returns
    -------
    list of str
    """
    return folders_holding(root, "config.json", limit, folder="models folder")


def resolve_model_folder(root, name: str) -> str:
    """Real path of the model folder ``name`` (as listed by :func:`list_model_folders`) under ``root``.

    Raises
    ------
    ValueError
        An absolute name, ``..``, a link leading outside ``root``, or not a folder.
    """
    return resolve_in_root(root, name, "models folder", want_dir=True)
