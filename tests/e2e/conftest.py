"""Browser test harness: a real `streamlit run app.py` on 127.0.0.1 driven by Debian Chromium.

Reusable fixtures: ``server`` (base URL), ``browser`` and ``page`` (a fresh Playwright page), and
the helpers in ``tests/e2e/browser_utils.py`` (open a page, read chart data, press a slider).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ARTIFACTS, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit not healthy at {url} after {timeout:.0f} s")


def start_server(extra_env: dict | None = None, script: str | None = None):
    """Start the app (``serve.py`` = ``streamlit run app.py``), or ``streamlit run script``, on a free
    loopback port.

    Returns (process, base_url)."""
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", **(extra_env or {}))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)        # also when called outside pytest (make bench)
    log = open(ARTIFACTS / f"streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, *(["serve.py"] if script is None else ["-m", "streamlit", "run", script]),
         "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
    except Exception:
        proc.kill()
        raise
    return proc, url


@pytest.fixture(scope="session")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url = start_server()
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium first")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    p = context.new_page()
    yield p
    context.close()
