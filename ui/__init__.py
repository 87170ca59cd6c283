"""Streamlit helpers shared by the pages (compute lives in la_core, figures in figures/).

- :mod:`ui.chart`: the chart component (``chart``, ``clicked_point``, ``cached_figure``, ``kept_figure``).
- :mod:`ui.models`: the cached MiniLM model (``minilm``).
- :mod:`ui.runtime`: the once-per-server set-up app.py calls (``setup``, ``freeze_long_lived``).

Importing these modules copies no file and freezes nothing: app.py asks for that explicitly.
"""
