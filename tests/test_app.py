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
