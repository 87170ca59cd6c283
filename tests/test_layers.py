"""The layers depend one way: la_core (compute) <- figures (plots) <- ui (Streamlit helpers) <- pages.

Each import is checked in a fresh interpreter, so what an earlier test imported cannot hide a wrong
dependency: la_core pulls in neither Streamlit nor Plotly, figures pulls in no Streamlit and no page,
and ui uses only the public names of la_core.
"""
import ast
import importlib
import importlib.util
import json
import pkgutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

LA_CORE = sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "la_core")]))
FIGURES = sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "figures")]))
UI_FILES = sorted((ROOT / "ui").glob("*.py"))


def _modules_after_import(module: str) -> set[str]:
    """The top-level package names in sys.modules after ``import module`` in a fresh interpreter."""
    code = (f"import json, sys\nimport {module}\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_the_packages_are_found():
    assert {"checks", "models", "pca"} <= set(LA_CORE) and {"common", "pca"} <= set(FIGURES)
    assert {"chart.py", "models.py", "runtime.py"} <= {p.name for p in UI_FILES}


@pytest.mark.parametrize("module", ["la_core", *(f"la_core.{m}" for m in LA_CORE)])
def test_la_core_imports_neither_streamlit_nor_plotly(module):
    loaded = _modules_after_import(module)
    assert module.split(".")[0] in loaded
    assert not loaded & {"streamlit", "plotly", "figures", "ui", "pages"}, sorted(loaded)


@pytest.mark.parametrize("module", ["figures", *(f"figures.{m}" for m in FIGURES)])
def test_figures_import_no_streamlit_and_no_page(module):
    loaded = _modules_after_import(module)
    assert "figures" in loaded
    assert not loaded & {"streamlit", "ui", "pages"}, sorted(loaded)


def test_the_check_sees_a_forbidden_import():
    """The check itself: a module that imports Streamlit is seen."""
    assert "streamlit" in _modules_after_import("ui.chart")


def _la_core_names(path) -> list[tuple[str, str, int]]:
    """(la_core module, name, line) for every la_core name a file uses: ``from la_core.x import name``,
    ``from la_core import x`` then ``x.name``, ``import la_core.x as y`` then ``y.name``."""
    tree = ast.parse(path.read_text(), str(path))
    bound: dict[str, str] = {}                  # local name -> la_core module it stands for
    used = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "la_core":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if _is_module(sub):
                    bound[alias.asname or alias.name] = sub
                    used.append((node.module, alias.name, node.lineno))
                else:
                    used.append((node.module, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "la_core":
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    used += [("la_core", part, node.lineno) for part in alias.name.split(".")[1:]]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            used.append((bound[node.value.id], node.attr, node.lineno))
    return used


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:                  # the parent is a module, not a package
        return False


def _private(module: str, name: str) -> bool:
    """A ``_name``, or a name left out of the module's ``__all__`` (submodules of a package count as public)."""
    if name.startswith("_"):
        return True
    if _is_module(f"{module}.{name}"):
        return False
    public = getattr(importlib.import_module(module), "__all__", None)
    return public is not None and name not in public


def test_ui_uses_only_public_names_of_la_core():
    used = [(p.name, *u) for p in UI_FILES for u in _la_core_names(p)]
    assert any(name == "load_model" for _, _, name, _ in used)          # the walk does find the uses
    bad = [u for u in used if _private(u[1], u[2])]
    assert not bad, f"ui uses private names of la_core (file, module, name, line): {bad}"


def test_the_public_name_check_sees_a_private_name(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from la_core import models\nfrom la_core.checks import _fail\nmodels._cache\n")
    used = _la_core_names(probe)
    assert ("la_core.checks", "_fail", 2) in used and ("la_core.models", "_cache", 3) in used
    assert all(_private(m, n) for m, n, _ in used if n.startswith("_"))
