"""la_core.paths: the one containment rule of the data and models folders."""
import os

import pytest

from la_core.paths import inside, resolve_in_root


@pytest.fixture
def root(tmp_path):
    (tmp_path / "served" / "sub").mkdir(parents=True)
    (tmp_path / "served" / "sub" / "a.npy").write_bytes(b"x")
    (tmp_path / "secret.npy").write_bytes(b"x")
    os.symlink(tmp_path / "secret.npy", tmp_path / "served" / "out.npy")
    os.symlink(tmp_path / "served" / "sub" / "a.npy", tmp_path / "served" / "in.npy")
    return tmp_path / "served"


def test_resolves_files_and_links_that_stay_inside(root):
    assert resolve_in_root(root, "sub/a.npy", "data folder") == os.path.realpath(root / "sub" / "a.npy")
    assert resolve_in_root(root, "in.npy", "data folder") == os.path.realpath(root / "sub" / "a.npy")
    assert resolve_in_root(root, "sub", "models folder", want_dir=True) == os.path.realpath(root / "sub")


@pytest.mark.parametrize("name, msg", [
    ("out.npy", "points outside the data folder"), ("../secret.npy", "'..' is not allowed"),
    ("/etc/passwd", "absolute paths"), ("", "Empty or invalid"), ("nope.npy", "does not exist"),
    ("sub", "not a regular file"),
])
def test_refuses_what_leaves_the_root(root, name, msg):
    with pytest.raises(ValueError, match=msg):
        resolve_in_root(root, name, "data folder")


def test_error_class_and_folder_kind(root):
    class Mine(ValueError):
        pass

    with pytest.raises(Mine):
        resolve_in_root(root, "out.npy", "data folder", error=Mine)
    with pytest.raises(ValueError, match="is not a folder inside the models folder"):
        resolve_in_root(root, "sub/a.npy", "models folder", want_dir=True)


def test_inside():
    assert inside("/a/b", "/a/b/c") and inside("/a/b", "/a/b")
    assert not inside("/a/b", "/a/bc") and not inside("/a/b", "/a")
