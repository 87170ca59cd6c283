"""Model handle: weight shapes from the safetensors header, the token-embedding matrix of every family,
and the memory guard of Model.attention."""
import json
import struct

import numpy as np
import pytest

from la_core import models
from la_core.models.weights import WeightStore
from tests.model_fixtures import FAMILIES, tiny_models  # noqa: F401

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
