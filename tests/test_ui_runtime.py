"""ui.runtime: the once-per-server set-up app.py asks for (heap frozen out of the GC pass, chart assets
copied into static/), and nothing of it on import."""
import filecmp
import subprocess
import sys
from pathlib import Path

import plotly

from tests.conftest import ROOT
from ui import runtime


def test_importing_ui_copies_no_file_and_freezes_nothing():
    """Set-up happens only when app.py calls it: a page or a test may import ui freely."""
    code = """
import gc, shutil, sys
def refuse(*a, **k):
    raise AssertionError("a file was copied on import")
shutil.copyfile = shutil.copy = shutil.copy2 = refuse
import ui.chart, ui.models, ui.runtime
assert gc.get_freeze_count() == 0, gc.get_freeze_count()
assert not ui.runtime.chart_assets_served()
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_set_up_freezes_the_long_lived_heap_and_serves_the_chart_assets():
    """Streamlit runs gc.collect(2) after every script and fragment run, holding the GIL; over torch,
    scikit-learn and the model that pass is long. After set-up it only scans what runs create."""
    import streamlit  # noqa: F401  (what app.py has imported when it calls setup)

    runtime.setup()
    assert runtime.chart_assets_served()
    assert filecmp.cmp(runtime.STATIC / "plotly.min.js",
                       Path(plotly.__file__).parent / "package_data" / "plotly.min.js", shallow=False)
    assert filecmp.cmp(runtime.STATIC / "plotly_template.json",
                       ROOT / "ui" / "plotly_template.json", shallow=False)
    code = "import gc, torch, streamlit\nfrom ui import runtime\nruntime.setup()\nprint(gc.get_freeze_count())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) > 50_000


def test_set_up_runs_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setattr(runtime, "_assets_served", None)
    monkeypatch.setattr(runtime, "_copy_chart_assets", lambda: calls.append(1) or True)
    runtime.setup()
    runtime.setup()
    assert calls == [1] and runtime.chart_assets_served()


def test_without_static_serving_no_asset_is_served(monkeypatch, tmp_path):
    """With server.enableStaticServing off the browser could not load the assets: charts fall back."""
    import streamlit as st

    real = st.get_option
    monkeypatch.setattr(st, "get_option",
                        lambda name: False if name == "server.enableStaticServing" else real(name))
    monkeypatch.setattr(runtime, "STATIC", tmp_path / "static")
    monkeypatch.setattr(runtime, "_assets_served", None)
    runtime.setup()
    assert not runtime.chart_assets_served()
    assert not (tmp_path / "static").exists()


def test_a_run_that_imported_modules_freezes_them_after_collecting_its_garbage(monkeypatch):
    """app.py calls freeze_long_lived after every run: modules imported by a page (scipy, scikit-learn,
    PIL, plotly's validators, the model) join the frozen heap, and the run's cyclic garbage is
    collected first instead of being frozen for good."""
    import gc
    import types
    import weakref

    class Node:
        pass

    garbage = Node()
    garbage.self = garbage                     # a cycle: only the collector can free it
    alive = weakref.ref(garbage)
    del garbage
    kept = [Node() for _ in range(1000)]       # long-lived, like a new module's objects
    monkeypatch.setitem(sys.modules, "la_lens_test_new_module", types.ModuleType("la_lens_test_new_module"))
    before = gc.get_freeze_count()
    runtime.freeze_long_lived()
    assert alive() is None                     # collected, not frozen
    assert gc.get_freeze_count() >= before + len(kept)
    again = gc.get_freeze_count()
    junk = [[] for _ in range(100)]            # no new module: nothing is frozen
    runtime.freeze_long_lived()
    assert gc.get_freeze_count() == again
    del junk
