"""MiniLM's real attention: shapes, softmax rows, and rebuilding every head from its own Q and K."""
import numpy as np
import pytest

from la_core import attention as A
from la_core import models

TEXT = "The bank raised interest rates, so she moved her savings to the river bank."


@pytest.fixture(scope="module")
def m():
    return models.load_model()


@pytest.fixture(scope="module")
def ma(m):
    return m.attention(TEXT, truncate=True)


def test_shapes_and_tokens(m, ma):
    ids = m.tokenizer(TEXT)["input_ids"]
    T = len(ids)
    assert ma.tokens[0] == "[CLS]" and ma.tokens[-1] == "[SEP]" and len(ma.tokens) == T
    assert "bank" in ma.tokens
    assert ma.attentions.shape == (6, 12, T, T) and ma.attentions.dtype == np.float32
    for x in (ma.q, ma.k, ma.v):
        assert x.shape == (6, 12, T, 32)
    assert (ma.n_layers, ma.n_heads, ma.d_model, ma.d_k) == (6, 12, 384, 32)
    assert not ma.truncated and ma.note == "" and ma.n_tokens_total == T


def test_rows_sum_to_one(ma):
    np.testing.assert_allclose(ma.attentions.sum(-1), 1.0, atol=1e-5)
    assert (ma.attentions >= 0).all()


def test_rebuilt_from_q_k_equals_model(ma):
    rebuilt = A.attention_steps(ma.q, ma.k, ma.v)                  # (6, 12, T, T) in one call
    assert np.abs(rebuilt.weights - ma.attentions).max() <= 1e-5
    # and one head on its own, as the page does it
    one = A.attention_steps(ma.q[3, 7], ma.k[3, 7], ma.v[3, 7])
    assert np.abs(one.weights - ma.attentions[3, 7]).max() <= 1e-5


def test_q_is_the_query_projection(m, ma):
    """The captured Q of layer 0 equals X W_qᵀ + b of the embedding output, split into heads."""
    import torch

    enc = m.tokenizer(TEXT, return_tensors="pt")
    with torch.inference_mode():
        x = m.model.embeddings(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"])[0]  # (T, 384)
    W = m.weight("encoder.layer.0.attention.self.query.weight")
    b = m.model.encoder.layer[0].attention.self.query.bias.detach().numpy()
    q = (x.numpy() @ W.T + b).reshape(len(ma.tokens), 12, 32).transpose(1, 0, 2)
    np.testing.assert_allclose(ma.q[0], q, atol=1e-4)


def test_truncation_is_flagged(m):
    long = m.attention("word " * 700, truncate=True)
    assert long.truncated and long.n_tokens_total == 702
    assert long.attentions.shape == (6, 12, 512, 512)
    assert "702 tokens" in long.note and "512" in long.note


def test_bad_text(m):
    with pytest.raises(ValueError, match="non-empty string"):
        m.attention("   ", truncate=True)
    with pytest.raises(ValueError, match="non-empty string"):
        m.attention(None, truncate=True)


@pytest.mark.parametrize("H", [4, 12, 16, 32, 64])
def test_grid_column_titles_fit_a_narrow_page(H):
    """Column titles of the all-heads grid: "h0"… up to 12 heads; beyond, numbers on every k-th column, k the
    smallest power of two that leaves each number its width in a grid 360 px wide (a 900 px window with the
    sidebar open): "head 0" … "head 11" ran into each other there."""
    from figures.attention_model import NARROW_GRID_PX, column_titles

    titles = column_titles(H)
    assert len(titles) == H
    if H <= 12:
        assert titles == [f"h{h}" for h in range(H)]
        assert column_titles(H, [h // 2 for h in range(H)])[3] == "h3<br>kv 1"
        return
    shown = [h for h, t in enumerate(titles) if t]
    assert [titles[h] for h in shown] == [str(h) for h in shown] and shown[0] == 0
    step = shown[1] - shown[0]
    assert shown == list(range(0, H, step))
    assert NARROW_GRID_PX / H * step >= 7 * len(str(H - 1))                # room for each number
    assert step == 1 or NARROW_GRID_PX / H * (step // 2) < 7 * len(str(H - 1)) + 4   # and no sparser than needed
