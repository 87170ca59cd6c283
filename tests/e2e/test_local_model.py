"""Every topic page in Chromium with a tiny random Llama (grouped-query attention, RoPE) picked from
LA_LENS_MODELS_DIR: the page runs without an exception, draws its charts, and names the model where
it uses it. Screenshots: tests/artifacts/local-model-<page>.png."""
from __future__ import annotations

import shutil

import pytest

from page_registry import TOPICS
from tests.e2e.browser_utils import open_page, screenshot
from tests.model_fixtures import tiny_models  # noqa: F401

pytestmark = pytest.mark.e2e

# Pages that read the chosen model, and what each shows of it.
USES_MODEL = {"attention": "tiny-llama", "svd": "tiny-llama", "geometry": "tiny-llama"}


@pytest.fixture(scope="module")
def llama_models_server(tiny_models, tmp_path_factory):  # noqa: F811
    from tests.e2e.conftest import start_server

    root = tmp_path_factory.mktemp("models")
    shutil.copytree(tiny_models["llama"], root / "tiny-llama")
    proc, url = start_server({"LA_LENS_MODELS_DIR": str(root)})
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("topic", TOPICS, ids=[t.url for t in TOPICS])
def test_every_page_runs_with_a_local_decoder(page, llama_models_server, topic):
    open_page(page, llama_models_server, f"{topic.url}?model=tiny-llama", wait_charts=1)
    # the picker keeps an accepted model in the URL and drops one it does not list
    assert "model=tiny-llama" in page.url, page.url
    if topic.url in USES_MODEL:
        assert USES_MODEL[topic.url] in page.inner_text('[data-testid="stMain"]')
    screenshot(page, f"local-model-{topic.url}")
