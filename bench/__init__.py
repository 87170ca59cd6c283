"""Benchmarks of LA Lens (not tests): every timing is a ratio against a reference measured in
the same run. ``make bench`` (``python -m bench``) runs every ``bench/bench_*.py`` module."""
