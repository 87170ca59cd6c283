"""la_core.paths: the one containment rule of the data and models folders."""
import os

import pytest

from la_core.paths import folders_holding, inside, resolve_in_root


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


# ----------------------------------------------------------------------------- folders_holding
@pytest.fixture
def tree(tmp_path):
    """served/ with marked folders: nested, hidden, linked in and out, a marker that links out."""
    served, outside = tmp_path / "served", tmp_path / "outside"
    for d in ("team/big", "small/sub", ".hidden", "plain/deeper/leaf", "linked-marker"):
        (served / d).mkdir(parents=True)
    outside.mkdir()
    for d in ("team/big", "small", "small/sub", ".hidden", "plain/deeper/leaf"):
        (served / d / "m.json").write_text("{}")
    (outside / "m.json").write_text("{}")
    (served / "small" / "m.txt").write_text("another marker")
    os.symlink(outside, served / "link-out")                          # a marked folder outside the root
    os.symlink(served / "small", served / "alias")                    # a marked folder inside the root
    os.symlink(served / "plain", served / "alias-plain")              # inside, but not marked itself
    os.symlink(outside / "m.json", served / "linked-marker" / "m.json")   # the marker itself leads out
    return served


def test_folders_holding_stays_inside_and_skips_hidden(tree):
    assert folders_holding(tree, "m.json") == ["alias", "plain/deeper/leaf", "small", "team/big"]
    assert folders_holding(tree, "m.txt") == ["alias", "small"]
    assert folders_holding(tree, "none.json") == []
    assert folders_holding(tree / "small", "m.json") == ["."]        # the root itself, not its subfolder


def test_folders_holding_searches_a_marked_folder_only_when_nested(tree):
    assert folders_holding(tree, "m.json", nested=True) == ["alias", "plain/deeper/leaf", "small", "small/sub",
                                                           "team/big"]
    assert folders_holding(tree / "small", "m.json", nested=True) == [".", "sub"]


def test_folders_holding_limit(tree):
    # the walk goes top-down in name order and stops at the limit: the link "alias", then plain/deeper/leaf
    assert folders_holding(tree, "m.json", limit=2) == ["alias", "plain/deeper/leaf"]
    assert len(folders_holding(tree, "m.json", limit=1)) == 1


@pytest.mark.parametrize("args, kw, msg", [
    (("nope", "m.json"), {}, "Served folder .*nope' does not exist or is not a folder"),
    (("nope", "m.json"), {"folder": "models folder"}, "Models folder .*nope' does not exist"),
    ((None, "m.json"), {}, "root must be a path"),
    ((".", "sub/m.json"), {}, "marker must be a file name without a folder part"),
    ((".", ".."), {}, "marker must be a file name"),
    ((".", ""), {}, "marker must be a file name"),
    ((".", 3), {}, "marker must be a file name"),
    ((".", "m.json", 0), {}, "limit must be at least 1"),
    ((".", "m.json", 2.0), {}, "limit must be an integer"),
])
def test_folders_holding_refuses(tree, args, kw, msg):
    root = args[0] if args[0] in (None, ".") else tree / args[0]
    with pytest.raises(ValueError, match=msg):
        folders_holding(tree if root == "." else root, *args[1:], **kw)
