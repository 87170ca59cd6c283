"""Names inside a server-side folder (the data folder, the models folder): containment rules.

A user picks a name from a list the app made; the name is resolved only if it stays inside the
root: no absolute paths, no ``..``, and no link whose target lies outside the root (the real path
is checked after following links). One rule for every folder the app serves from, and one walk
that lists the folders holding a marker file (:func:`folders_holding`: model folders hold
``config.json``, LoRA adapters ``adapter_config.json``).
"""
from __future__ import annotations

import os
from pathlib import Path

from la_core.checks import as_int

__all__ = ["inside", "served_root", "resolve_in_root", "folders_holding"]


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


def folders_holding(root, marker: str, limit: int = 1000, *, folder: str = "served folder",
                    nested: bool = False) -> list[str]:
    """Folders under ``root`` that hold the file ``marker`` (relative POSIX names, sorted).

    The walk never follows links: a linked folder is listed only when its real path stays inside
    ``root`` and holds the marker, and it is not searched. Hidden folders (``.name``) are skipped.
    The marker must be a regular file whose real path stays inside the folder that holds it. The
    root itself is listed as ``"."`` when it holds the marker. Only the marker's presence is
    checked; opening a listed folder says what else is wrong.

    Parameters
    ----------
    root : str or path-like
        The served folder.
    marker : str
        A file name (no folder part), such as ``"config.json"``.
    limit : int, default 1000
        At most this many names are returned; the walk stops once it has found them.
    folder : str, default "served folder"
        How messages call the root (``"models folder"``).
    nested : bool, default False
        Also search inside a folder that holds the marker (adapter checkpoints saved inside a
        training run's adapter folder); by default its subfolders are not searched.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        ``root`` is not an existing folder, ``marker`` is not a plain file name, or ``limit`` < 1.
    """
    limit = as_int(limit, "limit", min_value=1)
    if (not isinstance(marker, str) or marker in ("", ".", "..") or "/" in marker or "\\" in marker
            or "\x00" in marker):
        raise ValueError(f"marker must be a file name without a folder part (such as 'config.json'); got {marker!r}.")
    root_real = served_root(root, folder)

    def holds(folder_real: str) -> bool:
        real = os.path.realpath(os.path.join(folder_real, marker))
        return inside(folder_real, real) and os.path.isfile(real)

    def rel(path: str) -> str:
        return Path(os.path.relpath(path, root_real)).as_posix()

    out: list[str] = []
    for dirpath, dirnames, _files in os.walk(root_real, followlinks=False):
        if holds(dirpath):
            out.append(rel(dirpath))
            if not nested:
                dirnames[:] = []
        walk = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if d.startswith("."):
                continue
            if os.path.islink(full):
                real = os.path.realpath(full)
                if inside(root_real, real) and os.path.isdir(real) and holds(real):
                    out.append(rel(full))
                continue
            walk.append(d)
        dirnames[:] = walk
        if len(out) >= limit:
            break
    return sorted(out)[:limit]
