"""Names inside a server-side folder (the data folder, the models folder): containment rules.

A user picks a name from a list the app made; the name is resolved only if it stays inside the
root: no absolute paths, no ``..``, and no link whose target lies outside the root (the real path
is checked after following links). One rule for every folder the app serves from.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["inside", "served_root", "resolve_in_root"]


def _path(p, name: str) -> str:
    if not isinstance(p, (str, os.PathLike)):
        raise ValueError(f"{name} must be a path (str or pathlib.Path); got {type(p).__name__}.")
    return os.fspath(p)


def inside(root_real: str, path_real: str) -> bool:
    """True when the real path ``path_real`` is ``root_real`` or lies below it."""
    root_real, path_real = _path(root_real, "root_real"), _path(path_real, "path_real")
    try:
        return os.path.commonpath([root_real, path_real]) == root_real
    except ValueError:  # different drives
        return False


def served_root(root, folder: str, error=ValueError) -> str:
    """Real path of the served folder ``root``, or ``error`` when it is not an existing folder."""
    root_real = os.path.realpath(_path(root, "root"))
    if not os.path.isdir(root_real):
        raise error(f"{str(folder).capitalize()} {os.fspath(root)!r} does not exist or is not a folder.")
    return root_real


def resolve_in_root(root, name, folder: str, want_dir: bool = False, error=ValueError) -> str:
    """Real path of ``name`` under ``root``, or ``error`` saying why it is refused.

    Parameters
    ----------
    root : str or path
        The served folder.
    name : str
        A relative name as the app listed it (``"sub/file.npy"``).
    folder : str
        How messages call the root (``"data folder"``, ``"models folder"``).
    want_dir : bool
        A folder is wanted (else a regular file).
    error : type
        The ``ValueError`` subclass to raise.
    """
    root_real = os.path.realpath(_path(root, "root"))
    name = str(name)
    what = "folder" if want_dir else "file"
    if not name or "\x00" in name:
        raise error(f"Empty or invalid {what} name; choose one listed in the {folder}.")
    if os.path.isabs(name) or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise error(f"{name!r}: absolute paths are not allowed; choose a {what} inside the {folder}.")
    if ".." in Path(name.replace("\\", "/")).parts:
        raise error(f"{name!r}: '..' is not allowed; choose a {what} inside the {folder}.")
    real = os.path.realpath(os.path.join(root_real, name))
    if not inside(root_real, real):
        raise error(f"{name!r} points outside the {folder} (a link?); it is not opened.")
    if want_dir and not os.path.isdir(real):
        raise error(f"{name!r} is not a folder inside the {folder}.")
    if not want_dir and not os.path.isfile(real):
        raise error(f"{name!r} does not exist in the {folder} or is not a regular file.")
    return real
