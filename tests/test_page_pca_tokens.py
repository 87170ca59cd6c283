"""The PCA page's "Token embeddings of <model>" data set: the chosen model's token-embedding matrix
(vocabulary × d_model, not the position embeddings), labelled with the tokenizer's tokens."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from la_core.models import bundled_path
from la_core.neighbors import nearest_neighbors
from la_core.pca import PCA
from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page
from tests.model_fixtures import tiny_models  # noqa: F401
from ui.pca_data import SRC_TOKENS

SCREE, SCATTER = 0, 1


def reference_scree(W: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA as SkPCA

    return 100 * SkPCA(30, svd_solver="full").fit(W.astype(np.float64)).explained_variance_ratio_


def category_points(spec) -> tuple[np.ndarray, list]:
    xs, labels = [], []
    for tr in spec["data"]:
        if tr.get("name") in ("nearest neighbours", "selected"):
            continue
        xs.append(np.stack([arr(tr["x"]), arr(tr["y"])], 1))
        labels += list(tr["text"])
    return np.concatenate(xs), labels


def keyed(at, kind: str, base: str, end: str = ""):
    return next(w for w in getattr(at, kind) if w.key and w.key.split("@")[0] == base and w.key.endswith(end))


@pytest.fixture(scope="module")
def minilm_table():
    from transformers import AutoModel, AutoTokenizer

    path = bundled_path()
    W = AutoModel.from_pretrained(path).embeddings.word_embeddings.weight.detach().numpy()   # (30522, 384)
    tokens = AutoTokenizer.from_pretrained(path).convert_ids_to_tokens(list(range(W.shape[0])))
    return W, tokens


@pytest.mark.slow
def test_minilm_token_embeddings_are_the_word_embedding_matrix(minilm_table):
    W, tokens = minilm_table
    at = open_page("pages/pca.py")
    src = at.radio(key="pca_source")
    assert SRC_TOKENS in src.options or "Token embeddings of all-MiniLM-L6-v2" in src.options
    src.set_value(SRC_TOKENS).run()
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.caption[0].value.startswith("**Token embeddings of all-MiniLM-L6-v2**: 30,522 rows × 384 dimensions")
    specs = chart_specs(at)
    np.testing.assert_allclose(arr(specs[SCREE]["data"][0]["y"]), reference_scree(W), rtol=1e-3)
    xy, labels = category_points(specs[SCATTER])
    assert sorted(labels) == sorted(tokens)                                 # every token, named by the tokenizer
    Z = PCA(30).fit(W).transform(W)
    row = {t: i for i, t in enumerate(tokens)}
    np.testing.assert_allclose(xy, Z[[row[t] for t in labels]][:, :2], atol=2e-3)
    assert keyed(at, "selectbox", "pca_color").value == "kind"               # special, word start, word piece…
    assert {"special", "word start", "word piece", "number", "punctuation"} <= {tr["name"] for tr in specs[SCATTER]["data"]}
    # neighbours of a token in the full 384-dimensional table
    keyed(at, "text_input", "pca_point", "_search").set_value("king").run()
    keyed(at, "selectbox", "pca_point").set_value(tokens.index("king")).run()
    assert_no_exception(at)
    idx, score = nearest_neighbors(W, tokens.index("king"), k=10, metric="cosine")
    table = at.table[0].value
    assert list(table["label"]) == [tokens[i] for i in idx]
    np.testing.assert_allclose(table["cosine similarity"], np.round(score, 4), atol=1e-4)


@pytest.fixture
def models_dir(tiny_models, tmp_path, monkeypatch):  # noqa: F811
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(tiny_models["gpt2"], root / "tiny-gpt2")
    monkeypatch.setenv("LA_LENS_MODELS_DIR", str(root))
    return root


def test_tiny_gpt2_token_embeddings_are_wte_not_wpe(models_dir):
    from transformers import GPT2LMHeadModel

    ref = GPT2LMHeadModel.from_pretrained(models_dir / "tiny-gpt2")
    wte = ref.transformer.wte.weight.detach().numpy()                      # (30522, 64); wpe is (128, 64)
    at = open_page("pages/pca.py", query_params={"model": "tiny-gpt2"})
    at.radio(key="pca_source").set_value(SRC_TOKENS).run()
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.caption[0].value.startswith("**Token embeddings of tiny-gpt2**: 30,522 rows × 64 dimensions")
    np.testing.assert_allclose(arr(chart_specs(at)[SCREE]["data"][0]["y"]), reference_scree(wte), rtol=1e-3)
    # the sidebar's model decides: back to the bundled model, its own table and a fresh view
    next(s for s in at.sidebar.selectbox if s.label == "Model").set_value("").run()
    assert_no_exception(at)
    assert at.caption[0].value.startswith("**Token embeddings of all-MiniLM-L6-v2**: 30,522 rows × 384 dimensions")


def test_a_table_too_large_is_refused_with_a_message(monkeypatch):
    from ui import pca_tokens

    monkeypatch.setattr(pca_tokens, "MAX_VALUES", 1000)
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(SRC_TOKENS).run()
    assert_no_exception(at)
    assert at.error and "30,522 × 384" in at.error[0].value
    assert at.caption[0].value.startswith("**built-in example**")            # the page keeps working


@pytest.mark.parametrize("family, name", [("bert", "embeddings.word_embeddings.weight"), ("gpt2", "transformer.wte.weight"),
                                          ("llama", "model.embed_tokens.weight"), ("qwen2", "embed_tokens.weight")])
def test_the_token_table_is_chosen_by_name_for_every_family(tiny_models, family, name):  # noqa: F811
    from la_core.models import load_model

    model = load_model(tiny_models[family])
    assert model.token_embedding_name() == name
    assert model.weight(name).shape == (model.config.vocab_size, model.d_model)


def test_token_kinds():
    from ui.pca_tokens import token_kinds

    wordpiece = ["[PAD]", "[unused3]", "the", "##ing", "42", "##7", ",", "##!", "é", "##é"]
    assert list(token_kinds(wordpiece, ["[PAD]"])) == ["special", "special", "word start", "word piece", "number",
                                                       "number", "punctuation", "punctuation", "non-ASCII",
                                                       "non-ASCII"]
    bpe = ["<|endoftext|>", "Ġthe", "ing", "Ġ42", "Ġ,", "▁word"]
    assert list(token_kinds(bpe)) == ["special", "word start", "word piece", "number", "punctuation", "word start"]
