"""AppTest: app.py and every page in the navigation run without exception."""
import pytest

from page_registry import available_topics
from tests.apptest_utils import assert_no_exception, open_page


def test_home_runs_and_links_every_topic():
    at = open_page()
    assert_no_exception(at)
    assert any("LA Lens" in t.value for t in at.title)
    links = [el.proto.page for el in at.get("page_link")]
    for topic in available_topics():
        assert topic.url in links, (topic.url, links)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Compute device"].startswith(("cpu", "cuda", "mps"))


@pytest.mark.parametrize("topic", available_topics(), ids=lambda t: t.url)
def test_every_page_runs(topic):
    at = open_page(topic.path)
    assert_no_exception(at)


def test_bad_device_shows_error(monkeypatch):
    monkeypatch.setenv("LA_DEVICE", "tpu")
    at = open_page()
    assert any("LA_DEVICE" in e.value for e in at.error)


def test_long_lived_objects_are_frozen_out_of_the_gc_pass():
    """Streamlit runs gc.collect(2) after every script and fragment run; over torch, scikit-learn and
    the model that pass held the GIL for about 0.2 s and the run's last messages waited for it.
    pages/_shared freezes what is alive at import, so the pass only scans what runs create
    (bench/bench_browser.py: 'LoRA rank r' 306 → 140 ms)."""
    import gc

    import pages._shared  # noqa: F401

    assert gc.get_freeze_count() > 50_000


def test_a_run_that_imported_modules_freezes_them_after_collecting_its_garbage(monkeypatch):
    """app.py calls freeze_long_lived after every run: modules imported by a page (scipy, scikit-learn,
    PIL, plotly's validators, the model) join the frozen heap, and the run's cyclic garbage is
    collected first instead of being frozen for good."""
    import gc
    import sys
    import types
    import weakref

    from pages import _shared

    class Node:
        pass

    garbage = Node()
    garbage.self = garbage                     # a cycle: only the collector can free it
    alive = weakref.ref(garbage)
    del garbage
    kept = [Node() for _ in range(1000)]       # long-lived, like a new module's objects
    monkeypatch.setitem(sys.modules, "la_lens_test_new_module", types.ModuleType("la_lens_test_new_module"))
    before = gc.get_freeze_count()
    _shared.freeze_long_lived()
    assert alive() is None                     # collected, not frozen
    assert gc.get_freeze_count() >= before + len(kept)
    again = gc.get_freeze_count()
    junk = [[] for _ in range(100)]            # no new module: nothing is frozen
    _shared.freeze_long_lived()
    assert gc.get_freeze_count() == again
    del junk
