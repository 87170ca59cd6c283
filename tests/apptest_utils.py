"""The one place for Streamlit AppTest helpers: every page test opens its page through the real
navigation with :func:`open_page` and reads the charts with :func:`charts` / :func:`chart_specs`."""
from __future__ import annotations

import json

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 120

# AppTest resets PagesManager.uses_pages_directory before every run, and a folder named pages/ next
# to app.py then makes Streamlit run the current page's script alone (legacy v1 multipage apps) on
# every run after the first, without app.py's navigation and sidebar. app.py always uses
# st.navigation, so every run goes through it, as serve.py arranges for the real server.
_pages_manager_init = PagesManager.__init__


def _through_app_py(self, *args, **kwargs):
    _pages_manager_init(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


PagesManager.__init__ = _through_app_py


def open_page(path: str | None = None, query_params: dict | None = None) -> AppTest:
    """Run app.py, switch to ``path`` (e.g. ``"pages/svd.py"``) and return the AppTest.

    ``query_params``: the URL's query parameters when the app is first opened (a shared link)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query_params or {})
    at.run()
    if path is not None:
        at.switch_page(path)
        at.run()
    return at


def charts(at: AppTest) -> list:
    """Every Plotly chart on the page, in page order: ``st.plotly_chart`` elements and LA Lens's
    in-place chart component (ui.chart.chart)."""
    return [e for e in at.main if e.type == "plotly_chart"
            or (e.type == "bidi_component" and e.proto.component_name == "la_lens_plotly")]


def chart_json(el) -> str:
    """The figure JSON one chart element carries."""
    return el.proto.spec if el.type == "plotly_chart" else el.proto.bytes.decode()


def _patched(spec: dict) -> dict:
    """A chart component's spec as ui/plotly_live.js draws it: a kept figure's traces (``la_base``)
    put in place and the ``la_layout`` entries merged into the layout."""
    base = spec.pop("la_base", None)
    if base is not None:                                  # a kept figure's traces, sent as one string
        own = spec.get("data", [])
        spec["data"] = own[:base["at"]] + json.loads(base["json"]) + own[base["at"]:]
    layout = spec.setdefault("layout", {})
    for name, value in (spec.pop("la_layout", None) or {}).items():
        layout[name] = {**(layout.get(name) or {}), **value} if isinstance(value, dict) else value
    return spec


def chart_specs(at: AppTest) -> list[dict]:
    """The Plotly JSON specs of every chart currently on the page (as drawn: layout changes sent beside a
    kept figure merged in)."""
    return [_patched(json.loads(chart_json(el))) for el in charts(at)]


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def arr(v):
    """Decode a Plotly array from a chart spec: typed base64 (``{"dtype", "bdata", "shape"}``) or a list.

    Numbers come back as float64 (None as NaN); text stays text.
    """
    import base64

    import numpy as np

    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a.astype(np.float64)
    try:
        return np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return np.asarray(v)
