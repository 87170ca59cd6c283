"""AppTest: app.py and every page in the navigation run without exception; the registry lists every
page script, and every listed script exists."""
import pytest

from page_registry import TOPICS
from tests.apptest_utils import assert_no_exception, open_page
from tests.conftest import ROOT


def test_home_runs_and_links_every_topic():
    at = open_page()
    assert_no_exception(at)
    assert any("LA Lens" in t.value for t in at.title)
    links = [el.proto.page for el in at.get("page_link")]
    for topic in TOPICS:
        assert topic.url in links, (topic.url, links)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Compute device"].startswith(("cpu", "cuda", "mps"))


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.url)
def test_every_page_runs(topic):
    at = open_page(topic.path)
    assert_no_exception(at)


def test_bad_device_shows_error(monkeypatch):
    monkeypatch.setenv("LA_DEVICE", "tpu")
    at = open_page()
    assert any("LA_DEVICE" in e.value for e in at.error)


def test_every_listed_page_exists_and_every_page_script_is_listed():
    """A missing page file fails here instead of vanishing from the menu; pages/ holds page scripts only."""
    listed = {t.path for t in TOPICS}
    assert len(listed) == len(TOPICS) and len({t.url for t in TOPICS}) == len(TOPICS)
    for topic in TOPICS:
        assert (ROOT / topic.path).is_file(), topic.path
    scripts = {f"pages/{p.name}" for p in (ROOT / "pages").iterdir() if p.name != "__pycache__"}
    assert scripts == listed | {"pages/home.py"}
