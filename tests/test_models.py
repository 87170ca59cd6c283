"""The bundled MiniLM loads offline and embeds like sentence-transformers does."""
import numpy as np
import pytest

from la_core import models


@pytest.fixture(scope="module")
def m():
    return models.load_minilm()


def test_config(m):
    assert (m.config.num_hidden_layers, m.config.num_attention_heads, m.config.hidden_size) == (6, 12, 384)


def test_embed_matches_sentence_transformers(m):
    from sentence_transformers import SentenceTransformer

    texts = ["The cat sat on the mat.", "A dog barked.", "king"]
    ours = models.embed(texts, m)
    ref = SentenceTransformer(models.model_path(), device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == (3, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    # similar sentences are closer than unrelated ones
    assert ours[0] @ ours[1] < 0.9


def test_weights(m):
    names = models.weight_names(m)
    q = "encoder.layer.0.attention.self.query.weight"
    assert q in names
    assert models.weight(m, q).shape == (384, 384)
    assert models.weight(m, "encoder.layer.0.intermediate.dense.weight").shape == (1536, 384)
    with pytest.raises(ValueError, match="no parameter"):
        models.weight(m, "nope")
