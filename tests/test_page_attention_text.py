"""The attention page with awkward text for the real model (emoji, CJK, one huge word, text past the
512-token limit, empty text): never a traceback, the charts still render, and the page recovers (issue 9)."""
import pytest

from tests.apptest_utils import assert_no_exception, chart_specs, open_page


@pytest.fixture(scope="module")
def attention():
    return open_page("pages/attention.py")


@pytest.mark.parametrize("text", [
    "🙂🚀 naïve café 你好 — ok?",                       # emoji, accents, CJK
    "a" * 10_000,                                       # one 10k-character word
    " ".join(["lorem"] * 2_000),                        # 10k characters of words: truncated to 512 tokens
    "\n\t  x  \n",                                      # whitespace around one letter
])
def test_model_text(attention, text):
    at = attention
    at.text_area(key="att_text").set_value(text).run()
    assert_no_exception(at)
    assert not at.error
    assert chart_specs(at), "charts must still render"


def test_empty_text_then_recovers(attention):
    at = attention
    at.text_area(key="att_text").set_value("").run()
    assert_no_exception(at)
    assert at.error
    at.text_area(key="att_text").set_value("The cat sat.").run()
    assert_no_exception(at)
    assert not at.error


def test_long_text_says_it_was_truncated(attention):
    at = attention
    at.text_area(key="att_text").set_value(" ".join(["lorem"] * 2_000)).run()
    assert any("512" in w.value for w in at.warning)
