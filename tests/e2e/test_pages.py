"""Every page in the sidebar renders in Chromium without a Streamlit exception; screenshots saved."""
from urllib.parse import urlparse

import pytest

from page_registry import TOPICS
from tests.e2e.browser_utils import EXCEPTION, open_page, screenshot, wait_idle
from tests.e2e.layout_details import check_page_fits

pytestmark = pytest.mark.e2e


def test_health_endpoint(server):
    import urllib.request

    with urllib.request.urlopen(server + "/_stcore/health") as r:
        assert r.read().strip() == b"ok"


def test_home_page(page, server):
    open_page(page, server)
    assert "LA Lens" in page.locator("h1").first.inner_text()
    for topic in TOPICS:
        assert page.get_by_text(topic.summary).count() >= 1
    screenshot(page, "home")


def test_every_sidebar_page(page, server):
    open_page(page, server)
    links = page.locator('[data-testid="stSidebarNav"] a')
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) == 1 + len(TOPICS)
    for href in hrefs:
        page.goto(href, wait_until="domcontentloaded")
        wait_idle(page)
        name = urlparse(href).path.strip("/") or "home"
        screenshot(page, f"page-{name}")
        assert page.locator(EXCEPTION).count() == 0, (href, page.locator(EXCEPTION).first.inner_text())


def test_deep_link_first_runs_through_app(browser):
    """A fresh server whose first request is a topic URL still runs app.py (navigation, device)."""
    from tests.e2e.conftest import start_server

    proc, url = start_server()
    try:
        p = browser.new_page(viewport={"width": 1440, "height": 1000})
        open_page(p, url, TOPICS[0].url)
        sidebar = p.locator('[data-testid="stSidebar"]').inner_text()
        assert "Compute device" in sidebar, sidebar
        assert all(t.title in sidebar for t in TOPICS), sidebar     # app.py's menu, not the pages/ folder's
        p.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("width", [900, 1920])
def test_home_reads_well_from_900_to_1920_px(browser, server, width):
    """Every topic card's link whole (the cards wrap onto fewer columns) and the device and version metrics
    whole, at 900 px with the sidebar open and at 1,920 px."""
    report, details = check_page_fits(browser, server, "", width, "home")
    assert report["metrics"] == 4, report
