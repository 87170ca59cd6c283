"""The PCA page's Texts source (paste, upload, column pick, bad input), search by meaning, tokens through
the layers and the density of every row (AppTest through the real navigation)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from la_core.models import load_model
from la_core.neighbors import nearest_neighbors
from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page
from tests.model_fixtures import tiny_models  # noqa: F401
from ui.pca_data import SRC_TEXTS

SCATTER = 1


@pytest.fixture(scope="module")
def minilm():
    return load_model()


def texts_page():
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(SRC_TEXTS).run()
    assert_no_exception(at)
    return at


def scatter_text(spec) -> list[str]:
    out = []
    for tr in spec["data"]:
        if tr.get("type") in ("scatter", "scattergl") and tr.get("name") not in (
                "nearest neighbours", "selected", "search results", "query"):
            out += list(tr.get("text") or [])
    return out


def test_pasted_lines_are_embedded_with_the_model(minilm):
    at = texts_page()
    lines = ["a red apple", "", "a green pear", "the stock market", "a red apple", "bonds and shares"]
    at.text_area(key="pca_texts_paste").set_value("\n".join(lines)).run()
    assert_no_exception(at)
    assert not at.error
    info = " ".join(i.value for i in at.info)
    assert "1 empty text dropped" in info and "1 duplicate text" in info
    assert "5 rows × 384" in " ".join(c.value for c in at.caption)
    texts = [t for t in lines if t]
    # the scatter is the PCA of exactly these embeddings (checked against a fresh embed + numpy SVD)
    X = minilm.embed(texts).astype(np.float64)
    Xc = X - X.mean(0)
    ref = Xc @ np.linalg.svd(Xc, full_matrices=False)[2][:2].T
    spec = chart_specs(at)[SCATTER]
    pts = [(t, x, y) for tr in spec["data"] if tr.get("name") not in ("nearest neighbours", "selected")
           and tr.get("type", "scatter").startswith("scatter")
           for t, x, y in zip(tr.get("text") or [], arr(tr["x"]), arr(tr["y"]))]
    assert sorted(p[0] for p in pts) == sorted(texts)
    got = {(t, round(abs(x), 3), round(abs(y), 3)) for t, x, y in pts}
    want = {(t, round(abs(a), 3), round(abs(b), 3)) for t, (a, b) in zip(texts, ref)}
    assert got == want


def test_csv_upload_and_column_pick_metadata_colours():
    at = texts_page()
    at.radio(key="pca_texts_how").set_value("Upload a file").run()
    df = pd.DataFrame({"title": ["cats", "dogs", "fish", "rates", "stocks", "bonds"],
                       "body": ["a cat purrs", "a dog barks", "fish swim", "rates rise", "stocks fall",
                                "bonds pay"],
                       "topic": ["pets", "pets", "pets", "money", "money", "money"], "n": range(6)})
    at.file_uploader(key="pca_texts_file").set_value(("t.csv", df.to_csv(index=False).encode(), "text/csv")).run()
    assert_no_exception(at)
    col = next(s for s in at.selectbox if s.key and s.key.startswith("pca_texts_column"))
    assert col.options == ["title", "body", "topic"]
    col.set_value("body").run()
    assert_no_exception(at)
    assert sorted(scatter_text(chart_specs(at)[SCATTER])) == sorted(df["body"])
    colour = next(s for s in at.selectbox if s.key and s.key.startswith("pca_color"))
    assert "topic" in colour.options and "title" in colour.options and colour.value == "topic"


BAD = [("empty.txt", b"", "is empty"), ("blank.txt", b"\n \n\n", "is empty"),
       ("latin.csv", "text\ncaf\xe9\n".encode("latin-1"), "not UTF-8"),
       ("nums.csv", b"a,b\n1,2\n3,4\n", "no text column"),
       ("many.txt", "\n".join(f"t{i}" for i in range(20_001)).encode(), "at most 20,000"),
       ("x.docx", b"abc", "not read as texts")]


@pytest.mark.parametrize("name,data,message", BAD)
def test_bad_text_files_say_why_and_keep_the_last_good_texts(name, data, message):
    at = texts_page()
    at.radio(key="pca_texts_how").set_value("Upload a file").run()
    at.file_uploader(key="pca_texts_file").set_value(("good.txt", b"one\ntwo\nthree\n", "text/plain")).run()
    assert sorted(scatter_text(chart_specs(at)[SCATTER])) == ["one", "three", "two"]
    at.file_uploader(key="pca_texts_file").set_value((name, data, "application/octet-stream")).run()
    assert_no_exception(at)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert sorted(scatter_text(chart_specs(at)[SCATTER])) == ["one", "three", "two"]


def test_pasted_empty_text_says_why():
    at = texts_page()
    at.text_area(key="pca_texts_paste").set_value("   \n\n").run()
    assert_no_exception(at)
    assert any("is empty" in e.value for e in at.error)
    assert len(chart_specs(at)) >= 2       # the last good texts are still shown


def test_a_column_of_numbers_is_refused(tmp_path):
    from la_core.texts import read_texts

    with pytest.raises(ValueError, match="not text"):
        read_texts(b"text,n\na,1\nb,2\n", "t.csv", column="n")


def test_downloads_round_trip(minilm):
    from la_core import io as lio
    from ui.pca_texts import projector_tsv, vectors_parquet

    X = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    meta = pd.DataFrame({"text": ["a\tb", "c", "d\ne", "f"], "topic": ["x", "y", "x", "y"]})
    emb = lio.load_embeddings(vectors_parquet(X, meta), "e.parquet")
    np.testing.assert_array_equal(emb.vectors, X)
    assert list(emb.labels["topic"]) == ["x", "y", "x", "y"]
    tsv = projector_tsv(meta).decode()
    assert tsv.splitlines() == ["text\ttopic", "a b\tx", "c\ty", "d e\tx", "f\ty"]
    assert projector_tsv(meta[["text"]]).decode().splitlines() == ["a b", "c", "d e", "f"]


def search_traces_of(spec):
    ring = next(tr for tr in spec["data"] if tr.get("name") == "search results")
    star = next(tr for tr in spec["data"] if tr.get("name") == "query")
    return ring, star


def test_query_rings_its_nearest_rows_and_draws_a_star(minilm):
    from ui.pca_data import example_dataset

    at = open_page("pages/pca.py")
    at.text_input(key="pca_search_query").set_value("a royal family").run()
    assert_no_exception(at)
    ds = example_dataset()
    q = minilm.embed(["a royal family"])[0]
    k = at.slider(key="pca_k").value
    want = nearest_neighbors(ds.X, q, k=k, metric="cosine").indices
    ring, star = search_traces_of(chart_specs(at)[SCATTER])
    np.testing.assert_array_equal(arr(ring["customdata"]).astype(int), want)
    # the star is the PCA transform of the query vector (numpy reference: centred SVD axes, up to sign)
    X = ds.X.astype(np.float64)
    mu = X.mean(0)
    V = np.linalg.svd(X - mu, full_matrices=False)[2][:2]
    ref = (q - mu) @ V.T
    got = np.array([arr(star["x"])[0], arr(star["y"])[0]])
    np.testing.assert_allclose(np.abs(got), np.abs(ref), rtol=1e-3, atol=1e-4)
    assert list(star["text"]) == ["a royal family"]
    # k follows the slider
    at.slider(key="pca_k").set_value(4).run()
    ring, _ = search_traces_of(chart_specs(at)[SCATTER])
    np.testing.assert_array_equal(arr(ring["customdata"]).astype(int),
                                  nearest_neighbors(ds.X, q, k=4, metric="cosine").indices)


def test_query_on_texts_uses_the_model_that_embedded_them(minilm):
    at = texts_page()
    lines = ["a cat purrs", "a dog barks", "rates rise", "stocks fall", "bread and butter"]
    at.text_area(key="pca_texts_paste").set_value("\n".join(lines)).run()
    at.text_input(key="pca_search_query").set_value("kitten").run()
    assert_no_exception(at)
    ring, _ = search_traces_of(chart_specs(at)[SCATTER])
    X = minilm.embed(lines)
    want = nearest_neighbors(X, minilm.embed(["kitten"])[0], k=at.slider(key="pca_k").value).indices
    np.testing.assert_array_equal(arr(ring["customdata"]).astype(int), want)
    assert lines[int(arr(ring["customdata"])[0])] == "a cat purrs"


def test_search_is_off_for_token_embeddings_and_for_other_dimensions():
    from ui.pca_data import SRC_TOKENS, SRC_UPLOAD

    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(SRC_TOKENS).run()
    assert_no_exception(at)
    assert not [t for t in at.text_input if t.key == "pca_search_query"]
    assert any("off for token embeddings" in c.value for c in at.caption)
    at.radio(key="pca_source").set_value(SRC_UPLOAD).run()
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(0).normal(size=(30, 16)).astype(np.float32))
    at.file_uploader(key="pca_vectors").set_value(("v.npy", buf.getvalue(), "application/octet-stream")).run()
    assert not [t for t in at.text_input if t.key == "pca_search_query"]
    at.checkbox(key="pca_search_made_by").check().run()
    assert_no_exception(at)
    assert any("384-dimensional" in c.value and "16 dimensions" in c.value for c in at.caption)
    assert not [t for t in at.text_input if t.key == "pca_search_query"]


def layer_figures(at):
    specs = chart_specs(at)
    paths = next(s for s in specs if s.get("frames") and s["data"][0].get("name", "").startswith("each token"))
    return specs, paths


def test_tokens_through_the_layers_one_frame_per_layer(minilm):
    from la_core.layers import layer_pca, mean_cosine, token_states

    at = open_page("pages/pca.py")
    at.text_area(key="pca_layers_text").set_value("Cats chase mice.").run()
    assert_no_exception(at)
    specs, fig = layer_figures(at)
    st_ = token_states(minilm, "Cats chase mice.")
    assert len(fig["frames"]) == minilm.n_layers + 1 == st_.states.shape[0]
    assert len(fig["layout"]["sliders"][0]["steps"]) == minilm.n_layers + 1
    ref = layer_pca(st_.states, k=2)
    for i, fr in enumerate(fig["frames"]):
        np.testing.assert_allclose(arr(fr["data"][0]["x"]), ref.coords[i, :, 0], rtol=1e-4, atol=1e-4)
        assert list(fr["data"][0]["text"]) == st_.tokens
    stats = next(s for s in specs if any(tr.get("name") == "mean cosine between tokens" for tr in s["data"]))
    cos = next(tr for tr in stats["data"] if tr.get("name") == "mean cosine between tokens")
    np.testing.assert_allclose(arr(cos["y"]), mean_cosine(st_.states), rtol=1e-5, atol=1e-6)
    assert any("encoder" in i.value for i in at.info)        # MiniLM: no logit lens, and why


def test_logit_lens_for_a_decoder(tiny_models, tmp_path, monkeypatch):
    import shutil

    from la_core.layers import logit_lens

    shutil.copytree(tiny_models["gpt2"], tmp_path / "gpt2")
    monkeypatch.setenv("LA_LENS_MODELS_DIR", str(tmp_path))
    at = open_page("pages/pca.py", query_params={"model": "gpt2"})
    at.text_area(key="pca_layers_text").set_value("hello world again").run()
    assert_no_exception(at)
    specs, fig = layer_figures(at)
    model = load_model(str(tmp_path / "gpt2"))
    assert len(fig["frames"]) == model.n_layers + 1
    lens = next(s for s in specs if s["data"][0].get("type") == "heatmap")
    ref = logit_lens(model, "hello world again")
    np.testing.assert_allclose(arr(lens["data"][0]["z"]), ref.top_probs[..., 0], rtol=1e-4, atol=1e-5)


def test_empty_layer_text_says_so():
    at = open_page("pages/pca.py")
    at.text_area(key="pca_layers_text").set_value("   ").run()
    assert_no_exception(at)
    assert any("Type a text" in i.value for i in at.info)


def test_every_row_is_counted_under_the_sample(tmp_path, monkeypatch):
    from sklearn.decomposition import PCA as SkPCA

    from ui.pca_data import SRC_FOLDER

    n = 100_600                                     # over the page's display cap of 100,000 points
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(n, 6)) * [5, 2, 1, 1, 0.5, 0.5]).astype(np.float32)
    np.save(tmp_path / "big.npy", X)
    monkeypatch.setenv("LA_LENS_DATA_DIR", str(tmp_path))
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(SRC_FOLDER).run()
    assert_no_exception(at)

    def heat():
        spec = chart_specs(at)[SCATTER]
        tr = spec["data"][0]
        assert tr["type"] == "heatmap"
        return spec, arr(tr["customdata"])

    spec, counts = heat()
    assert counts.sum() == n                       # by default the view holds every row
    assert any(f"{n:,} of {n:,} rows fall in the current view" in c.value for c in at.caption)
    # reference coordinates (scikit-learn), signs matched to the page's through the sampled points' customdata
    ref = SkPCA(2).fit_transform(X.astype(np.float64))
    pts = next(tr for tr in spec["data"][1:] if len(arr(tr.get("customdata", []))) > 1000)
    rows = arr(pts["customdata"]).astype(int).ravel()[:50]
    sign = np.sign([np.dot(arr(pts["x"])[:50], ref[rows, 0]), np.dot(arr(pts["y"])[:50], ref[rows, 1])])
    ref = ref * sign
    # a zoom on the chart (its relayout event, kept in the session by the chart's callback) counts again
    from ui.pca_density import view_state_key

    suffix = next(w.key for w in at.selectbox if (w.key or "").startswith("pca_color"))[len("pca_color"):]
    at.session_state[view_state_key(suffix + "01")] = ((-2.0, 4.0), (-1.0, 3.0))
    at.run()
    assert_no_exception(at)
    spec, counts = heat()
    inside = ((ref[:, 0] >= -2) & (ref[:, 0] <= 4) & (ref[:, 1] >= -1) & (ref[:, 1] <= 3)).sum()
    assert abs(counts.sum() - inside) <= 2          # float32 rounding on the edges
    assert spec["data"][0]["x0"] == pytest.approx(-2.0 + 6.0 / 400) and spec["data"][0]["dx"] == pytest.approx(0.03)
    assert any(f"{int(counts.sum()):,} of {n:,} rows fall in the current view" in c.value for c in at.caption)
    assert f"shading: {int(counts.sum()):,} of {n:,} rows in view" in spec["layout"]["title"]["text"]
    # the points are the same sample: only the heatmap changed
    assert len(arr(next(tr for tr in spec["data"][1:] if len(arr(tr.get("customdata", []))) > 1000)["x"])) >= 20_000
    # a view that is not a range (from a stale or odd event) counts every row's range on that axis
    at.session_state[view_state_key(suffix + "01")] = ((4.0, -2.0), (-1.0, 3.0))
    at.run()
    assert_no_exception(at)
    _, counts = heat()
    inside_y = ((ref[:, 1] >= -1) & (ref[:, 1] <= 3)).sum()
    assert abs(counts.sum() - inside_y) <= 2
    # the button shows every row's range again
    next(b for b in at.button if b.key.startswith("pca_density_reset")).click().run()
    _, counts = heat()
    assert counts.sum() == n


def test_a_zoom_event_sets_the_counted_view(monkeypatch):
    """The chart's relayout callback turns Plotly's event into the view the next run counts."""
    import ui.pca_density as pdens

    state = {}
    monkeypatch.setattr(pdens.st, "session_state", state)
    events = iter([{"xaxis.range[0]": -1.0, "xaxis.range[1]": 2.0, "yaxis.range[0]": 0.0, "yaxis.range[1]": 5.0},
                   {"yaxis.range": [1.0, 2.0]},                       # a pan of y alone keeps x
                   {"xaxis.autorange": True},                          # a reset of x
                   {"xaxis.autorange": True, "yaxis.autorange": True}])
    monkeypatch.setattr(pdens, "relayout_event", lambda key: next(events))
    remember = pdens._on_zoom("pca_scatter", "s")
    key = pdens.view_state_key("s")
    remember()
    assert state[key] == ((-1.0, 2.0), (0.0, 5.0))
    remember()
    assert state[key] == ((-1.0, 2.0), (1.0, 2.0))
    remember()
    assert state[key] == (None, (1.0, 2.0))
    remember()
    assert state[key] is None
