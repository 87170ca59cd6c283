"""The sidebar's model picker: bundled MiniLM plus the folders of LA_LENS_MODELS_DIR, kept in the URL."""
from __future__ import annotations

from tests.apptest_utils import assert_no_exception, open_page
from tests.model_fixtures import models_dir, tiny_models  # noqa: F401


def _picker(at):
    return next(s for s in at.sidebar.selectbox if s.label == "Model")


def test_lists_bundled_and_every_model_folder(models_dir):  # noqa: F811
    at = open_page()
    assert_no_exception(at)
    assert _picker(at).options == ["all-MiniLM-L6-v2 (bundled)", "tiny-gpt2", "tiny-llama"]


def test_choice_goes_to_the_url_and_back(models_dir):  # noqa: F811
    at = open_page()
    _picker(at).set_value("tiny-llama").run()
    assert at.query_params["model"] in ("tiny-llama", ["tiny-llama"])
    assert at.session_state["la_model"] == "tiny-llama"
    at = open_page(query_params={"model": "tiny-gpt2"})
    assert _picker(at).value == "tiny-gpt2"


def test_unknown_model_in_the_link_says_so(models_dir):  # noqa: F811
    at = open_page(query_params={"model": "../escape"})
    assert_no_exception(at)
    assert _picker(at).value == ""
    assert any("not in LA_LENS_MODELS_DIR" in w.value for w in at.sidebar.warning)


def test_without_a_models_folder_only_the_bundled_model(monkeypatch):
    monkeypatch.delenv("LA_LENS_MODELS_DIR", raising=False)
    at = open_page()
    assert _picker(at).options == ["all-MiniLM-L6-v2 (bundled)"]
