"""Model handle: weight shapes from the safetensors header, the token-embedding matrix of every family,
and the memory guard of Model.attention."""
import json
import struct

import numpy as np
import pytest

from la_core import models
from la_core.models import attention_result as ar
from la_core.models.spec import read_spec
from la_core.models.weights import WeightStore
from tests.model_fixtures import FAMILIES, tiny_models  # noqa: F401

# The input table of every family as transformers names it, with the prefix each fixture is saved with.
TOKEN_TABLES = {"bert": "embeddings.word_embeddings.weight", "gpt2": "transformer.wte.weight",
                "llama": "model.embed_tokens.weight", "mistral": "model.embed_tokens.weight",
                "qwen2": "embed_tokens.weight"}


def header_shapes(folder) -> dict:
    """{tensor name: shape} read straight from every safetensors header (8-byte length, then JSON)."""
    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        with open(f, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        out.update({k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"})
    return out


@pytest.fixture(scope="module")
def minilm():
    return models.load_model()


# ----------------------------------------------------------------------------- weight_shape
@pytest.mark.parametrize("case", [*FAMILIES, "sharded"])
def test_weight_shape_is_the_header_s(tiny_models, case, monkeypatch):  # noqa: F811
    h = models.load_model(tiny_models[case])
    shapes = header_shapes(tiny_models[case])

    def no_read(self, name):
        raise AssertionError(f"weight_shape read the data of {name}")

    monkeypatch.setattr(WeightStore, "read", no_read)                  # the header only: no tensor is read
    for name in h.weight_names():
        got = h.weight_shape(name)
        assert got == shapes[name] and all(type(s) is int for s in got), name
    if case == "gpt2":                                                  # Conv1D stored (in, out), as in the file
        assert h.weight_shape("transformer.h.0.attn.c_attn.weight") == (64, 192)
    assert not h.loaded


def test_weight_shape_refuses_what_is_not_a_weight(minilm):
    assert minilm.weight_shape("embeddings.word_embeddings.weight") == (30522, 384)
    assert minilm.weight_shape("encoder.layer.0.intermediate.dense.weight") == (1536, 384)
    for bad in ("nope", "embeddings.position_ids", "embeddings.LayerNorm.weight", 3, None):
        with pytest.raises(ValueError, match="no parameter named"):
            minilm.weight_shape(bad)


# ----------------------------------------------------------------------------- token_embedding_name
@pytest.mark.parametrize("family", FAMILIES)
def test_token_embedding_name_is_the_input_table(tiny_models, family):  # noqa: F811
    from transformers import AutoModel

    h = models.load_model(tiny_models[family])
    name = h.token_embedding_name()
    assert name == TOKEN_TABLES[family]
    ref = AutoModel.from_pretrained(tiny_models[family]).get_input_embeddings().weight.detach().numpy()
    np.testing.assert_array_equal(h.weight(name), ref)                  # the table transformers looks tokens up in
    assert h.weight_shape(name) == (h.config.vocab_size, h.d_model)


def test_minilm_token_table_is_sentence_transformers_word_embeddings(minilm):
    from sentence_transformers import SentenceTransformer

    name = minilm.token_embedding_name()
    assert name == "embeddings.word_embeddings.weight"
    st = SentenceTransformer(models.bundled_path(), device="cpu")
    ref = st[0].auto_model.get_input_embeddings().weight.detach().numpy()
    np.testing.assert_array_equal(minilm.weight(name), ref)


def test_no_token_table_is_said(minilm, monkeypatch):
    others = ["embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
              "encoder.layer.0.attention.self.query.weight"]
    monkeypatch.setattr(minilm, "weight_names", lambda: others)
    with pytest.raises(ValueError, match=r"no token-embedding matrix among its weights \(embedding weights found: "
                                         r"embeddings\.position_embeddings\.weight, "
                                         r"embeddings\.token_type_embeddings\.weight\)"):
        minilm.token_embedding_name()


# ----------------------------------------------------------------------------- attention memory guard
TEXT = "The bank raised interest rates, so she moved her savings to the river bank."


@pytest.mark.parametrize("family", ["bert", "llama"])
def test_attention_over_max_bytes_is_refused_before_running(tiny_models, family):  # noqa: F811
    h = models.load_model(tiny_models[family])
    T = len(h.tokenizer(TEXT)["input_ids"])
    ma = h.attention(TEXT)
    real = sum(a.nbytes for a in (ma.attentions, ma.q, ma.k, ma.v))   # what the arrays really take
    assert ar.result_bytes(read_spec(h.config), T) == real
    assert h.attention(TEXT, max_bytes=real).attentions.shape[-1] == T  # exactly at the limit: accepted
    h2 = models.load_model(tiny_models[family])
    with pytest.raises(ValueError) as err:
        h2.attention(TEXT, max_bytes=real - 1)
    assert not h2.loaded                                                 # refused before the model was built
    msg = str(err.value)
    assert f"attention of {T} tokens in {family}" in msg and f"max_bytes={real - 1:,}" in msg
    L, H, d = h.n_layers, h.n_heads, h.d_head
    fit = int(msg.split("at most ")[1].split(" tokens")[0])
    assert fit == T - 1 and "Use a shorter text" in msg
    assert L * H * 4 * (fit ** 2 + 3 * fit * d) <= real - 1 < L * H * 4 * ((fit + 1) ** 2 + 3 * (fit + 1) * d)


def test_attention_max_bytes_messages(tiny_models):  # noqa: F811
    h = models.load_model(tiny_models["gpt2"])
    with pytest.raises(ValueError, match="Not even one token fits; raise max_bytes"):
        h.attention(TEXT, max_bytes=10)
    for bad, msg in ((0, "max_bytes must be at least 1"), (1e9, "max_bytes must be an integer"),
                     (True, "max_bytes must be an integer")):
        with pytest.raises(ValueError, match=msg):
            h.attention(TEXT, max_bytes=bad)
    assert not h.loaded


def test_default_limit_refuses_a_big_model_at_2048_tokens():
    """A Llama-3-8B-sized spec at 2,048 tokens would need 19 GiB: over the default 2 GiB; 557 tokens fit."""
    from la_core.models.spec import ModelSpec

    big = ModelSpec("llama", 32, 32, 8, 4096, 128, True, 500000.0, 8192)
    need = ar.result_bytes(big, 2048)
    assert need == 32 * 32 * 4 * (2048 ** 2 + 3 * 2048 * 128) == 20_401_094_656
    assert 4096 * (557 ** 2 + 384 * 557) <= 2 ** 31 < 4096 * (558 ** 2 + 384 * 558)
    with pytest.raises(ValueError, match=r"2,048 tokens in big would take 19\.0 GiB.*limit of 2\.0 GiB.*"
                                         r"at most 557 tokens"):
        ar.check_result_size(big, 2048, ar.MAX_ATTENTION_BYTES, "big")
    ar.check_result_size(big, 557, ar.MAX_ATTENTION_BYTES, "big")          # a text that fits passes
