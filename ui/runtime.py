"""Once-per-server set-up that app.py asks for explicitly: freezing the long-lived heap out of the
garbage collector's reach, and serving the chart component's assets from static/.

Importing this module does neither; app.py calls :func:`setup` at the start of every run (only the
first call in a process does anything) and :func:`freeze_long_lived` after ``nav.run()``.
"""
from __future__ import annotations

import filecmp
import gc
import os
import shutil
import sys
import threading
from pathlib import Path

import plotly
import streamlit as st

__all__ = ["setup", "chart_assets_served", "freeze_long_lived"]

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"                       # served at app/static/ (server.enableStaticServing)
# What the chart component (ui/plotly_live.js) loads from app/static/: the plotly.js shipped with the
# installed plotly package, and the templates of Streamlit's chart theme for this app's light and dark themes.
CHART_ASSETS = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                Path(__file__).with_name("plotly_template.json"),
                Path(__file__).with_name("plotly_template_dark.json"))

_lock = threading.Lock()
_assets_served: bool | None = None             # None until setup() has run in this process
_modules_at_freeze: int | None = None


def setup() -> None:
    """Freeze what is alive now out of the collector's reach and copy the chart assets into static/.

    Once per server process; later calls return at once. Streamlit runs ``gc.collect(2)`` after every
    script and fragment run, holding the GIL, and a run's last messages (often a chart) wait for it.
    Over everything torch, transformers, scikit-learn and the model keep alive that pass is long;
    frozen, it only looks at what the runs create (:func:`freeze_long_lived` does the same for what
    pages import or load later).
    """
    global _assets_served, _modules_at_freeze
    with _lock:
        if _assets_served is not None:
            return
        gc.freeze()
        _modules_at_freeze = len(sys.modules)
        _assets_served = _copy_chart_assets()


def chart_assets_served() -> bool:
    """True when :func:`setup` has run, static serving is on and the chart assets are in static/:
    the browser can then load them from ``app/static/``. False leaves every chart to ``st.plotly_chart``."""
    return bool(_assets_served)


def _copy_chart_assets() -> bool:
    if not st.get_option("server.enableStaticServing"):
        return False
    try:
        for src in CHART_ASSETS:
            dst = STATIC / src.name
            if not (dst.is_file() and filecmp.cmp(src, dst, shallow=False)):
                STATIC.mkdir(exist_ok=True)
                tmp = STATIC / f".{src.name}.{os.getpid()}"       # servers starting together never
                shutil.copyfile(src, tmp)                         # see a half-written file
                tmp.replace(dst)
    except OSError:
        return False
    return True


def freeze_long_lived() -> None:
    """After a run that imported modules (scipy, scikit-learn, PIL, plotly's validators, the model's
    transformers code), collect once and freeze what is left, as :func:`setup` did.

    Those imports leave many objects for every later post-run pass to scan. Collecting first keeps the
    run's garbage collectable; the few live objects of the run that get frozen with the modules are
    freed by reference counting when they go (only cycles among them would stay), and this happens
    only when new modules appear, so a handful of times per server process.
    """
    global _modules_at_freeze
    with _lock:
        if len(sys.modules) != _modules_at_freeze:
            gc.collect()
            gc.freeze()
            _modules_at_freeze = len(sys.modules)
