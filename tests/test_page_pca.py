"""The PCA page through the real navigation and the real file uploader (AppTest)."""
import io

import numpy as np
import pandas as pd
import pytest

from la_core.neighbors import nearest_neighbors, semantic_axes
from la_core.pca import PCA
from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page
from tests.bad_files import bad_files, good_files
from tests.conftest import ROOT

SCREE, SCATTER, ANALOGY, AXES = 0, 1, 2, 3
UPLOAD = "Upload files"
FOLDER = "Data folder"



@pytest.fixture(scope="module")
def example():
    df = pd.read_parquet(ROOT / "data" / "example_embeddings.parquet")
    X = np.stack(df["vector"].to_numpy()).astype(np.float32)
    return df, X


@pytest.fixture(scope="module")
def at():
    at = open_page("pages/pca.py")
    assert_no_exception(at)
    return at


def points(spec) -> tuple[np.ndarray, list]:
    """All data points of the category traces of a scatter (x, y[, z]) and their hover labels."""
    xs, labels = [], []
    for tr in spec["data"]:
        if tr.get("name") in ("nearest neighbours", "selected", "anchors") or "x" not in tr:
            continue
        cols = [arr(tr[c]) for c in ("x", "y", "z") if c in tr]
        xs.append(np.stack(cols, 1))
        labels += list(tr.get("text", []))
    return np.concatenate(xs), labels


def color_box(at):
    """The colour selectbox (its key carries a suffix tied to the uploaded data)."""
    return next(s for s in at.selectbox if s.key and s.key.split("@")[0] == "pca_color")


def upload(at, name, data, key="pca_vectors"):
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream")).run()
    return at


def test_example_renders_scree_and_view(at, example):
    df, X = example
    assert at.title[0].value == "PCA of embeddings"
    assert [h.value for h in at.header][:4] == ["1. The picture and a point's neighbours", "2. Analogies: A − B + C",
                                               "3. Semantic axes", "4. Export the coordinates"]
    specs = chart_specs(at)
    assert len(specs) == 4 + 2                # + tokens through the layers: their paths and per-layer lines
    ref = PCA(30).fit(X)
    bars = arr(specs[SCREE]["data"][0]["y"])
    np.testing.assert_allclose(bars, 100 * ref.explained_variance_ratio_, rtol=1e-4)
    np.testing.assert_allclose(arr(specs[SCREE]["data"][1]["y"]), 100 * np.cumsum(ref.explained_variance_ratio_),
                               rtol=1e-4)
    xy, labels = points(specs[SCATTER])
    Z = ref.transform(X)
    order = {lab: i for i, lab in enumerate(df["label"])}
    rows = np.array([order[lab] for lab in labels])
    assert len(rows) == len(df)                                       # every point, nothing dropped
    np.testing.assert_allclose(xy, Z[rows][:, :2], atol=1e-4)
    # categorical colouring: one legend entry per category
    names = {tr["name"] for tr in specs[SCATTER]["data"]}
    assert set(df["category"]) <= names
    assert at.metric[0].label.startswith("Trustworthiness of this 2D view")
    assert 0.5 < float(at.metric[0].value) <= 1.0


def test_axes_and_3d_follow_the_widgets(at, example):
    df, X = example
    Z = PCA(30).fit(X).transform(X)
    at.selectbox(key="pca_x").set_value("PC3").run()
    at.radio(key="pca_dims").set_value("3D").run()
    at.selectbox(key="pca_z").set_value("PC5").run()
    assert_no_exception(at)
    spec = chart_specs(at)[SCATTER]
    assert spec["data"][0]["type"] == "scatter3d"
    xyz, labels = points(spec)
    rows = np.array([list(df["label"]).index(lab) for lab in labels])
    np.testing.assert_allclose(xyz, Z[rows][:, [2, 1, 4]], atol=1e-4)
    assert at.query_params["x"] == ["PC3"] or at.query_params["x"] == "PC3"
    at.radio(key="pca_dims").set_value("2D").run()
    at.selectbox(key="pca_x").set_value("PC1").run()


def test_neighbours_match_la_core_and_are_highlighted(at, example):
    df, X = example
    king = int(np.flatnonzero(df["label"] == "king")[0])
    at.selectbox(key="pca_point").set_value(king).run()
    at.selectbox(key="pca_metric").set_value("euclidean").run()
    assert_no_exception(at)
    idx, score = nearest_neighbors(X, king, k=10, metric="euclidean")
    table = at.table[0].value
    assert list(table["label"]) == list(df["label"].iloc[idx])
    np.testing.assert_allclose(table["Euclidean distance"], np.round(score, 4))
    ring = next(tr for tr in chart_specs(at)[SCATTER]["data"] if tr["name"] == "nearest neighbours")
    assert list(ring["text"]) == list(df["label"].iloc[idx])
    star = next(tr for tr in chart_specs(at)[SCATTER]["data"] if tr["name"] == "selected")
    assert star["text"] == ["king"]
    qp = at.query_params
    assert "king" in str(qp["point"]) and "euclidean" in str(qp["metric"])
    at.selectbox(key="pca_metric").set_value("cosine").run()


def test_centring_toggle_changes_pc1(at, example):
    _, X = example
    before = arr(chart_specs(at)[SCREE]["data"][0]["y"])
    at.toggle(key="pca_center").set_value(False).run()
    assert_no_exception(at)
    after = arr(chart_specs(at)[SCREE]["data"][0]["y"])
    ref = PCA(30, center=False).fit(X)
    np.testing.assert_allclose(after, 100 * ref.explained_variance_ratio_, rtol=1e-4)
    assert after[0] > before[0]            # uncentred PC1 soaks up the mean
    at.toggle(key="pca_center").set_value(True).run()


def test_analogy_and_semantic_axes(at, example):
    df, X = example
    tables = [t.value for t in at.table]
    analogy_table = next(t for t in tables if "cosine" in t.columns and len(t) == 5)
    assert analogy_table["label"].iloc[0] == "queen"
    spec = chart_specs(at)[ANALOGY]
    assert any("(A − B)" in tr.get("name", "") for tr in spec["data"])
    axes = chart_specs(at)[AXES]
    xy, labels = points(axes)
    lab = list(df["label"])
    g = lambda ws: [lab.index(w) for w in ws]  # noqa: E731
    res = semantic_axes(X, (g(["man", "king", "he", "boy", "father"]), g(["woman", "queen", "she", "girl", "mother"])),
                        (g(["king", "queen", "prince", "princess", "emperor", "empress"]),
                         g(["man", "woman", "boy", "girl", "husband", "wife"])))
    rows = np.array([lab.index(w) for w in labels])
    np.testing.assert_allclose(xy, res.coords[rows], atol=1e-4)


def test_url_reproduces_the_view():
    at = open_page("pages/pca.py", query_params={"x": "PC2", "y": "PC4", "color": "kind", "point": "queen",
                                                 "metric": "dot"})
    assert_no_exception(at)
    assert at.selectbox(key="pca_x").value == "PC2" and at.selectbox(key="pca_y").value == "PC4"
    assert at.selectbox(key="pca_color").value == "kind"
    assert at.selectbox(key="pca_metric").value == "dot"
    star = next(tr for tr in chart_specs(at)[SCATTER]["data"] if tr["name"] == "selected")
    assert star["text"] == ["queen"]


def test_upload_good_files_through_the_uploader():
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(UPLOAD).run()
    assert at.file_uploader(key="pca_vectors") is not None and at.file_uploader(key="pca_metadata") is not None
    for case in ("npy_float32", "csv_header_labels", "parquet_list", "safetensors_first_2d", "txt_glove"):
        name, data, x, labels = good_files()[case]
        upload(at, name, data)
        assert_no_exception(at)
        assert not at.error, (case, [e.value for e in at.error])
        specs = chart_specs(at)
        assert len(specs) == 3 + 2, case           # scree, view, analogy (semantic axes wait for anchors), layers ×2
        xy, hover = points(specs[SCATTER])
        assert len(xy) == len(x)
        Z = PCA(min(30, *x.shape)).fit(x).transform(x)
        if labels is not None:
            assert sorted(hover) == sorted(labels.iloc[:, 0].astype(str))
        # the picture is PC1/PC2 of exactly this file (compare as point sets: traces group by colour)
        np.testing.assert_allclose(np.sort(xy[:, 0]), np.sort(Z[:, 0]), atol=1e-4)
        assert f"{len(x)} rows × {x.shape[1]} dimensions" in at.caption[0].value


def test_upload_with_metadata_file_colours_by_it():
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(UPLOAD).run()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 5)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, x)
    meta = "word\tgroup\tscore\n" + "\n".join(f"w{i}\t{'ab'[i % 2]}\t{i * 0.37:.2f}" for i in range(30))
    upload(at, "emb.npy", buf.getvalue())
    upload(at, "metadata.tsv", meta.encode(), key="pca_metadata")
    assert_no_exception(at)
    assert not at.error
    color_box(at).set_value("group").run()
    names = {tr["name"] for tr in chart_specs(at)[SCATTER]["data"]}
    assert {"a", "b"} <= names
    color_box(at).set_value("score").run()        # numeric: one trace, a titled colour bar
    tr = chart_specs(at)[SCATTER]["data"][0]
    assert tr["marker"]["colorbar"]["title"]["text"] == "score"
    np.testing.assert_allclose(np.sort(arr(tr["marker"]["color"])), np.arange(30) * 0.37, atol=6e-3)
    # metadata with the wrong number of rows: an error, the page keeps the last good data
    upload(at, "metadata.tsv", b"one\ntwo\n", key="pca_metadata")
    assert_no_exception(at)
    assert at.error and "metadata" in at.error[0].value.lower()
    assert len(chart_specs(at)) >= 3


def test_every_bad_file_errors_and_page_keeps_working():
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(UPLOAD).run()
    for case, (name, data) in bad_files().items():
        upload(at, name, data)
        assert_no_exception(at)
        assert at.error, f"{case}: no st.error"
        msg = at.error[0].value
        assert name in msg and len(msg) > len(name) + 20, (case, msg)
        assert "Traceback" not in msg
        assert len(chart_specs(at)) == 4 + 2, case   # the page still shows data (the built-in example), layers ×2


def test_over_the_cap_only_a_sample_goes_to_the_browser():
    n = 100_400
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((n, 4)) * [3, 2, 1, 0.5]).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, x)
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(UPLOAD).run()
    upload(at, "big.npy", buf.getvalue())
    assert_no_exception(at)
    assert any("Showing 20,000 of 100,400 points" in i.value and "over a shading that counts every row" in i.value
               for i in at.info)
    for spec in chart_specs(at):
        for tr in spec["data"]:
            if "x" in tr:
                assert len(arr(tr["x"])) <= 100_000 + 11
    xy, _ = points(chart_specs(at)[SCATTER])
    assert 20_000 <= len(xy) <= 20_011                                  # a smaller sample over the shading…
    spec = chart_specs(at)[SCATTER]
    assert spec["data"][0]["type"] == "heatmap"                         # …of every row
    assert spec["data"][1]["type"] == "scattergl"
    assert spec["data"][1]["marker"]["opacity"] == 0.5 and spec["data"][1]["marker"]["size"] == 2
    # in 3D there is no shading: the sample is 100,000 points
    at.radio(key="pca_dims").set_value("3D").run()
    assert_no_exception(at)
    assert any("Showing 100,000 of 100,400 points" in i.value for i in at.info)
    xy, _ = points(chart_specs(at)[SCATTER])
    assert 100_000 <= len(xy) <= 100_011
    at.radio(key="pca_dims").set_value("2D").run()
    # but the scree is the PCA of all rows
    ref = PCA(4).fit(x)
    np.testing.assert_allclose(arr(chart_specs(at)[SCREE]["data"][0]["y"]), 100 * ref.explained_variance_ratio_,
                               rtol=1e-4)


def test_data_folder_lists_and_opens_files(tmp_path, monkeypatch):
    x = np.random.default_rng(2).standard_normal((50, 6)).astype(np.float32)
    np.save(tmp_path / "vectors.npy", x)
    (tmp_path / "notes.txt").write_text("not embeddings")
    outside = tmp_path.parent / "outside_secret.npy"
    np.save(outside, x)
    (tmp_path / "link.npy").symlink_to(outside)
    monkeypatch.setenv("LA_LENS_DATA_DIR", str(tmp_path))
    at = open_page("pages/pca.py")
    assert FOLDER in at.radio(key="pca_source").options
    at.radio(key="pca_source").set_value(FOLDER).run()
    assert_no_exception(at)
    options = at.selectbox(key="pca_folder_file").options
    assert "vectors.npy" in options and "link.npy" not in options
    at.selectbox(key="pca_folder_file").set_value("vectors.npy").run()
    assert_no_exception(at)
    assert "50 rows × 6 dimensions" in at.caption[0].value
    xy, _ = points(chart_specs(at)[SCATTER])
    Z = PCA(6).fit(x).transform(x)
    np.testing.assert_allclose(np.sort(xy[:, 1]), np.sort(Z[:, 1]), atol=1e-4)


def test_no_data_folder_option_without_the_variable(at, monkeypatch):
    assert FOLDER not in at.radio(key="pca_source").options


def test_batch_coordinates_file_shows_its_scree_and_points():
    batch = pytest.importorskip("la_core.pca_batch")
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(4)
    coords = rng.standard_normal((500, 3)).astype(np.float32) * [3, 2, 1]
    meta = {"explained_variance_ratio": [0.5, 0.3, 0.1], "explained_variance": [9.0, 4.0, 1.0],
            "n_samples": 500, "n_features": 64, "center": True, "n_components": 3}
    table = pa.table({"PC1": coords[:, 0], "PC2": coords[:, 1], "PC3": coords[:, 2],
                      "word": [f"w{i}" for i in range(500)], "group": [f"g{i % 3}" for i in range(500)]})
    table = table.replace_schema_metadata({batch.META_KEY: json.dumps(meta).encode()})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    assert batch.read_coordinates(buf.getvalue()) is not None     # the job's own reader accepts it
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(UPLOAD).run()
    upload(at, "coords.parquet", buf.getvalue())
    assert_no_exception(at)
    assert not at.error
    specs = chart_specs(at)
    np.testing.assert_allclose(arr(specs[0]["data"][0]["y"]), [50, 30, 10], rtol=1e-5)
    xy, _ = points(specs[1])
    np.testing.assert_allclose(np.sort(xy[:, 0]), np.sort(coords[:, 0]), atol=1e-5)
    at.selectbox(key="pca_batch_color").set_value("group").run()
    assert {"g0", "g1", "g2"} <= {tr["name"] for tr in chart_specs(at)[1]["data"]}


@pytest.mark.parametrize("shape", [(2, 2), (3, 5), (5, 2), (4, 400)])
def test_tiny_uploads_work(shape):
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(5).standard_normal(shape).astype(np.float32))
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(UPLOAD).run()
    upload(at, "tiny.npy", buf.getvalue())
    assert_no_exception(at)
    assert not at.error
    assert len(chart_specs(at)) >= 2
    xy, _ = points(chart_specs(at)[SCATTER])
    assert len(xy) == shape[0]


def test_upload_with_more_dimensions_than_rows():
    """40 vectors of 6,000 dimensions: the page fits them through the n×n Gram of the rows."""
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(UPLOAD).run()
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((40, 6000)) * np.linspace(3, 0.1, 6000)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, x)
    upload(at, "wide.npy", buf.getvalue())
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]
    xy, _ = points(chart_specs(at)[SCATTER])
    from sklearn.decomposition import PCA as SkPCA

    ref = SkPCA(2, svd_solver="full").fit_transform(x.astype(np.float64))
    np.testing.assert_allclose(np.sort(xy[:, 0]), np.sort(ref[:, 0]), atol=1e-3)
    assert "40 rows × 6000 dimensions" in at.caption[0].value


# ----------------------------------------------------------------------------- what a new user ran into
def ring_and_star(spec):
    ring = next(tr for tr in spec["data"] if tr["name"] in ("nearest neighbours", "anchors"))
    star = next((tr for tr in spec["data"] if tr["name"] == "selected"), None)
    return ring, star


def keyed(at, kind: str, base: str, end: str = ""):
    """The widget whose key is ``base``, the data's suffix, then ``end`` (keys of widgets listing a file's labels)."""
    return next(w for w in getattr(at, kind) if w.key and w.key.split("@")[0] == base and w.key.endswith(end))


def test_a_typed_anchor_adds_that_label_only_and_the_title_reads_left_to_right(example):
    """Typing "sad" (Enter) gave every fuzzy match as anchors; the title said "happy ← → sad" with happy
    plotted on the right. Now one word is one row, and the x-axis title lists the groups as plotted."""
    df, X = example
    lab = list(df["label"])
    at = open_page("pages/pca.py")
    at.text_input(key="pca_ax1_a").set_value("happy").run()
    at.text_input(key="pca_ax1_b").set_value("sad").run()
    at.text_input(key="pca_ax2_a").set_value("").run()
    at.text_input(key="pca_ax2_b").set_value("").run()                   # one axis: y is PC1
    assert_no_exception(at)
    assert not at.warning
    spec = chart_specs(at)[AXES]
    ring, _ = ring_and_star(spec)
    assert sorted(ring["text"]) == ["happy", "sad"]                       # exactly the typed words
    res = semantic_axes(X, ([lab.index("happy")], [lab.index("sad")]))
    xy, labels = points(spec)
    rows = np.array([lab.index(w) for w in labels])
    np.testing.assert_allclose(xy[:, 0], res.coords[rows, 0], atol=1e-4)   # the axis from those two rows only
    np.testing.assert_allclose(xy[:, 1], PCA(30).fit(X).transform(X)[rows, 0], atol=1e-4)   # y: PC1
    assert spec["layout"]["title"]["text"] == "Semantic axis 1 (x) against PC1 (y)"
    x_of = dict(zip(ring["text"], arr(ring["x"])))
    assert x_of["sad"] < x_of["happy"]                                    # the x title's order is the plot's
    assert spec["layout"]["xaxis"]["title"]["text"] == "← sad · axis 1 · happy →"


def test_a_word_that_is_no_label_adds_nothing_and_says_so(example):
    at = open_page("pages/pca.py")
    at.text_input(key="pca_ax1_a").set_value("sa").run()                  # only part of "sad"
    assert_no_exception(at)
    msgs = [w.value for w in at.warning]
    assert any("No label is exactly 'sa'" in m and "sad" in m for m in msgs), msgs
    assert any("at least one anchor" in i.value for i in at.info)        # nothing built from "sa"
    assert len(chart_specs(at)) == 3 + 2          # + tokens through the layers ×2
    at.text_input(key="pca_ax1_a").set_value("happy, sa").run()          # the good word stays, the bad one is named
    ring, _ = ring_and_star(chart_specs(at)[AXES])
    assert "happy" in ring["text"] and not any(t.startswith("sa") and t != "sad" for t in ring["text"])
    assert any("'sa'" in w.value for w in at.warning)


def test_the_semantic_axes_go_into_the_export(example):
    from ui.pca_export import export_frame

    df, X = example
    lab = list(df["label"])
    at = open_page("pages/pca.py")
    at.text_input(key="pca_ax1_a").set_value("happy").run()
    at.text_input(key="pca_ax1_b").set_value("sad").run()
    assert_no_exception(at)
    sem = at.session_state["pca_semantic_export"]["example"]            # what the download buttons read
    frame = export_frame(df["label"].to_numpy(), np.zeros((len(df), 2)), ["PC1", "PC2"], df[["label", "category"]],
                         sem)
    g = lambda ws: [lab.index(w) for w in ws]  # noqa: E731
    res = semantic_axes(X, (g(["happy"]), g(["sad"])),
                        (g(["king", "queen", "prince", "princess", "emperor", "empress"]),
                         g(["man", "woman", "boy", "girl", "husband", "wife"])))
    assert list(frame.columns) == ["label", "PC1", "PC2", "semantic axis 1: sad → happy",
                                   "semantic axis 2: man, woman, boy… → king, queen, prince…", "category"]
    np.testing.assert_allclose(frame.iloc[:, 3:5].to_numpy(), res.coords, atol=1e-5)
    at.text_input(key="pca_ax1_a").set_value("").run()                   # no axes: no columns
    assert "example" not in at.session_state["pca_semantic_export"]


def test_only_the_first_five_neighbours_are_labelled_and_the_star_is_hollow(example):
    df, X = example
    at = open_page("pages/pca.py", query_params={"point": "king"})
    ring, star = ring_and_star(chart_specs(at)[SCATTER])
    idx, _ = nearest_neighbors(X, int(np.flatnonzero(df["label"] == "king")[0]), k=10)
    assert list(ring["text"]) == list(df["label"].iloc[idx])             # all ten named on hover
    assert list(ring["texttemplate"]) == ["%{text}"] * 5 + [""] * 5        # five written on the chart
    assert star["marker"]["symbol"] == "star-open"


def test_the_3d_view_leaves_the_mouse_wheel_to_the_page(at):
    assert chart_specs(at)[SCATTER]["config"].get("scrollZoom") is not False
    at.radio(key="pca_dims").set_value("3D").run()
    assert_no_exception(at)
    spec = chart_specs(at)[SCATTER]
    assert spec["data"][0]["type"] == "scatter3d" and spec["config"]["scrollZoom"] is False
    assert next(tr for tr in spec["data"] if tr["name"] == "selected")["marker"]["symbol"] == "diamond-open"
    at.radio(key="pca_dims").set_value("2D").run()


def test_more_than_twenty_categories_say_so():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((120, 5)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, x)
    meta = "word\tgroup\n" + "\n".join(f"w{i}\tg{i % 25}" for i in range(120))
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(UPLOAD).run()
    upload(at, "emb.npy", buf.getvalue())
    upload(at, "metadata.tsv", meta.encode(), key="pca_metadata")
    assert_no_exception(at)
    assert color_box(at).value == "group"                                 # 25 values: at most 50, a grouping
    spec = chart_specs(at)[SCATTER]
    assert "showing the top 20 of 25 categories, others grey" in spec["layout"]["title"]["text"]
    colours = [tr["marker"]["color"] for tr in spec["data"] if tr["name"] not in ("nearest neighbours", "selected")]
    assert len(colours) == 21 and len(set(colours[:20])) == 20


def _data_folder(tmp_path, monkeypatch, x, meta: str | None = None, name: str = "vectors.npy"):
    np.save(tmp_path / name, x.astype(np.float32))
    if meta is not None:
        (tmp_path / "metadata.tsv").write_text(meta)
    monkeypatch.setenv("LA_LENS_DATA_DIR", str(tmp_path))


def test_a_new_data_set_starts_without_the_old_selection_and_view(tmp_path, monkeypatch, example):
    """The example's selected point "dog" stayed selected after switching data, and the search box said
    "No label contains 'dog'"; its axes and colour stayed too."""
    df, _ = example
    x = np.random.default_rng(8).standard_normal((6000, 8))             # over 5,000 rows: pickers search
    _data_folder(tmp_path, monkeypatch, x, name="big.npy")
    at = open_page("pages/pca.py", query_params={"point": "dog"})
    at.selectbox(key="pca_x").set_value("PC3").run()
    assert "dog" in str(at.query_params["point"])
    at.radio(key="pca_source").set_value(FOLDER).run()
    assert_no_exception(at)
    assert "6,000 rows × 8 dimensions" in at.caption[0].value
    assert not at.warning, [w.value for w in at.warning]
    assert keyed(at, "text_input", "pca_point", "_search").value == ""
    assert "dog" not in str(at.query_params.get("point", ""))
    assert at.selectbox(key="pca_x").value == "PC1"
    spec = chart_specs(at)[SCATTER]
    _, star = ring_and_star(spec)
    assert star["text"] == ["row 0"]
    assert str(at.query_params["point"]) in ("row 0", "['row 0']")
    # without metadata the points are named by their row number alone: no "row i" texts in the JSON
    pts = spec["data"][0]
    assert "text" not in pts and pts["hovertemplate"].startswith("row %{customdata}<br>")


def test_projector_metadata_of_digit_and_parity_names_and_colours_the_points(tmp_path, monkeypatch):
    """A two-column metadata.tsv (digit, parity): the points were all named "even" or "odd" and the
    colour stayed "(none)". Now: "row i · digit d" and coloured by digit."""
    rng = np.random.default_rng(9)
    digit = rng.integers(0, 10, 900)
    x = rng.standard_normal((900, 12)) + digit[:, None] * 0.3
    meta = "digit\tparity\n" + "\n".join(f"{d}\t{'even' if d % 2 == 0 else 'odd'}" for d in digit)
    _data_folder(tmp_path, monkeypatch, x, meta)
    at = open_page("pages/pca.py")
    at.radio(key="pca_source").set_value(FOLDER).run()
    assert_no_exception(at)
    assert not at.error
    assert color_box(at).value == "digit"
    spec = chart_specs(at)[SCATTER]
    assert {tr["name"] for tr in spec["data"]} >= {str(d) for d in range(10)}
    _, hover = points(spec)
    assert len(set(hover)) == 900
    assert sorted(hover) == sorted(f"row {i} · digit {d}" for i, d in enumerate(digit))
    _, star = ring_and_star(spec)
    assert star["text"] == [f"row 0 · digit {digit[0]}"]


@pytest.mark.parametrize("columns, names, colour", [
    ({"digit": [1, 2, 3, 1, 2, 3], "parity": ["odd", "even", "odd", "odd", "even", "odd"]},
     [f"row {i} · digit {d}" for i, d in enumerate([1, 2, 3, 1, 2, 3])], "digit"),
    ({"id": [10, 11, 12, 13, 14, 15], "word": ["a", "b", "c", "c", "d", "e"], "kind": ["x", "x", "y", "y", "x", "y"]},
     ["a", "b", "c", "c", "d", "e"], "kind"),
    ({"score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "name": list("pqrstu")}, list("pqrstu"), "(none)"),
    ({"v": ["same"] * 6}, [f"row {i} · v same" for i in range(6)], "(none)"),
])
def test_point_names_and_default_colour(columns, names, colour):
    """The most distinctive column names the points (text before numbers); the default colour is the first
    column with 2 to 50 values, each shared by rows on average (a grouping, not the names)."""
    from ui.pca_data import Dataset, default_color, point_names

    meta = pd.DataFrame(columns)
    labels, _ = point_names(meta, 6)
    assert list(labels) == names
    assert default_color(Dataset("k", "n", np.zeros((6, 2)), meta, labels)) == colour
