"""The SVD page through the real navigation: the rank slider changes the error exactly as the spectrum says;
the energy of a photo, the scrubber's error per frame and float32 rounding are told as they are."""
import io
import re

import numpy as np
import pytest
from sklearn.datasets import load_sample_image

from tests.apptest_utils import arr, assert_no_exception, chart_specs, open_page

ORIG, REC, ERR, SPEC, ENERGY, SCRUB, GEO_X, GEO_VX, GEO_SVX, GEO_AX, ATLAS_EFF, ATLAS_RANK, LORA, LORA_ERR, AD_HEAT, \
    AD_SPEC, AD_ENERGY, AD_ANGLES = range(18)
N_CHARTS = 18
HEADERS = ["1. Rank slider", "2. Spectrum", "3. Instant scrubbing", "4. Geometry of the SVD in 2D",
           "5. Spectrum atlas", "6. LoRA: a low-rank update", "7. A real LoRA adapter"]
HEAD_LABEL = "one head's W_Q,h W_K,hᵀ (384×384, rank ≤ 32)"


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def grey_china() -> np.ndarray:
    """Independent reference: the page's grey 213×320 image (2×2 block means), in float64."""
    img = load_sample_image("china.jpg").astype(np.float64)[:426, :640]
    small = img.reshape(213, 2, 320, 2, 3).mean(axis=(1, 3))
    return small @ np.array([0.299, 0.587, 0.114])


def grey_china_spectrum() -> np.ndarray:
    return np.linalg.svd(grey_china(), compute_uv=False)


def minilm_head(layer: int = 0, head: int = 0) -> np.ndarray:
    """Independent reference: W_Q,h W_K,hᵀ of MiniLM from transformers' own module, float64."""
    import transformers

    from la_core.models import bundled_path

    att = transformers.AutoModel.from_pretrained(bundled_path(), local_files_only=True).encoder.layer[layer]
    wq = att.attention.self.query.weight.detach().double().numpy()
    wk = att.attention.self.key.weight.detach().double().numpy()
    rows = slice(32 * head, 32 * (head + 1))
    return wq[rows].T @ wk[rows]


def choose_head(at, layer: int = 0, head: int = 0):
    at.radio(key="svd_source").set_value("model weight").run()
    at.selectbox(key="svd_group").set_value(f"layer {layer}").run()
    at.selectbox(key="svd_mat").set_value(HEAD_LABEL).run()
    at.selectbox(key="svd_head").set_value(head).run()
    assert_no_exception(at)
    return at


@pytest.fixture(scope="module")
def at():
    at = open_page("pages/svd.py")
    assert_no_exception(at)
    return at


def test_renders_every_section(at):
    assert at.title[0].value == "SVD & low rank"
    assert [h.value for h in at.header] == HEADERS
    specs = chart_specs(at)
    assert len(specs) == N_CHARTS
    for i in (ORIG, REC, ERR):
        tr = specs[i]["data"][0]
        assert tr["colorbar"]["title"]["text"]
    # original and reconstruction share one colour range; the error is zero-centred
    assert specs[ORIG]["data"][0]["zmin"] == specs[REC]["data"][0]["zmin"] == 0
    assert specs[ORIG]["data"][0]["zmax"] == specs[REC]["data"][0]["zmax"] == 255
    assert specs[ERR]["data"][0]["zmid"] == 0
    assert arr(specs[ORIG]["data"][0]["z"]).shape == (213, 320)
    # client-side slider: one frame per rank, ranks 1…64 then log-spaced up to 213
    scrub = specs[SCRUB]
    names = [int(f["name"]) for f in scrub["frames"]]
    assert names[:64] == list(range(1, 65)) and names[-1] == 213 and len(names) < 90
    assert [s["label"] for s in scrub["layout"]["sliders"][0]["steps"]] == [str(r) for r in names]
    assert scrub["frames"][0]["data"][0]["z"]["dtype"] == "u1"           # compact uint8 frames


def test_rank_slider_error_follows_the_spectrum(at):
    s = grey_china_spectrum()
    for r in (5, 60, 150):
        at.slider(key="svd_rank").set_value(r).run()
        assert_no_exception(at)
        tail = np.sqrt((s[r:] ** 2).sum())
        assert float(metric(at, "‖A − A_r‖_F measured")) == pytest.approx(tail, rel=2e-3)
        assert float(metric(at, "predicted (tail)")) == pytest.approx(tail, rel=2e-3)
        assert metric(at, "rank r") == f"{r} of 213"
        assert metric(at, "stored r(m+n+1)") == f"{r * (213 + 320 + 1):,}"
        specs = chart_specs(at)
        rec, orig = arr(specs[REC]["data"][0]["z"]), arr(specs[ORIG]["data"][0]["z"])
        assert np.linalg.norm(orig - rec) == pytest.approx(tail, rel=2e-3)   # the drawn image has that error
        assert np.linalg.matrix_rank(rec, tol=1e-3 * s[0]) == r
        for chart in (SPEC, ENERGY):                                      # the cut at r in both
            vlines = [sh for sh in specs[chart]["layout"]["shapes"] if sh.get("x0") == sh.get("x1")]
            assert {sh["x0"] for sh in vlines} == {r}


def test_synthetic_full_rank_rebuilds_exactly():
    at = open_page("pages/svd.py")
    at.radio(key="svd_source").set_value("synthetic").run()
    at.number_input(key="svd_m").set_value(40).run()
    at.number_input(key="svd_n").set_value(30).run()
    assert_no_exception(at)
    at.slider(key="svd_rank").set_value(30).run()
    assert float(metric(at, "‖A − A_r‖_F measured")) < 1e-4
    assert metric(at, "energy kept") == "100.00%"


def test_minilm_head_has_rank_32_and_lora_counts():
    at = choose_head(open_page("pages/svd.py"))
    assert any("rank is at most 32" in i.value for i in at.info)
    np.testing.assert_allclose(arr(chart_specs(at)[ORIG]["data"][0]["z"]), minilm_head(), atol=1e-4)
    at.slider(key="svd_rank").set_value(1).run()
    err1 = float(metric(at, "‖A − A_r‖_F measured"))
    at.slider(key="svd_rank").set_value(32).run()
    assert float(metric(at, "‖A − A_r‖_F measured")) < 1e-4 * err1        # rank 32 rebuilds it exactly
    at.slider(key="svd_lora_r").set_value(16).run()
    at.number_input(key="svd_lora_m").set_value(1536).run()
    assert metric(at, "full ΔW: m·n") == f"{1536 * 384:,}"
    assert metric(at, "LoRA: r(m+n)") == f"{16 * (1536 + 384):,}"
    lora = chart_specs(at)[LORA]
    assert arr(lora["data"][0]["y"]).tolist() == [1536 * 384, 16 * 1920]


def test_geometry_follows_the_matrix(at):
    at.number_input(key="svd_a11").set_value(3.0).run()
    at.number_input(key="svd_a12").set_value(0.0).run()
    at.number_input(key="svd_a21").set_value(0.0).run()
    at.number_input(key="svd_a22").set_value(-0.5).run()
    geo = chart_specs(at)[GEO_AX]["data"]
    end = arr(geo[-1]["x"]), arr(geo[-1]["y"])       # last circle trace of stage 4 = A x
    circle = [t for t in geo if t.get("mode") == "lines"]
    ax, ay = arr(circle[-2]["x"]), arr(circle[-2]["y"])
    assert ax.max() == pytest.approx(3.0, rel=1e-3) and np.abs(ay).max() == pytest.approx(0.5, rel=1e-3)
    assert end[0].size == 2


def test_upload_good_and_bad_files():
    at = open_page("pages/svd.py")
    at.radio(key="svd_source").set_value("upload").run()
    assert_no_exception(at)
    rng = np.random.default_rng(3)
    A = (rng.standard_normal((30, 4)) @ rng.standard_normal((4, 20))).astype(np.float32)   # rank 4
    buf = io.BytesIO()
    np.save(buf, A)
    at.file_uploader(key="svd_upload").upload("low_rank.npy", buf.getvalue()).run()
    assert_no_exception(at)
    assert not at.error
    assert metric(at, "rank r") == "20 of 20"
    at.slider(key="svd_rank").set_value(4).run()
    assert float(metric(at, "‖A − A_r‖_F measured")) < 1e-3
    assert metric(at, "energy kept") == "100.00%"
    at.file_uploader(key="svd_upload").upload("broken.npy", b"not an array at all").run()
    assert_no_exception(at)
    assert at.error and "broken.npy" in at.error[0].value and "Accepted" in at.error[0].value
    assert at.title[0].value == "SVD & low rank" and len(chart_specs(at)) == N_CHARTS     # the page keeps working


def test_every_image_size_is_a_different_block_mean(at):
    """Each option of 'Longest side' is a distinct size (block means of 4×4, 3×3, 2×2, 1×1 pixels)."""
    assert at.select_slider(key="svd_side").options == ["160", "213", "320", "640"]   # the labels
    seen = {}
    for v in (160, 214, 320, 640):
        at.select_slider(key="svd_side").set_value(v).run()
        assert_no_exception(at)
        text = next(m.value for m in at.markdown if "Shape " in m.value)
        seen[v] = tuple(int(n) for n in re.search(r"Shape (\d+)×(\d+)", text).groups())
    assert seen == {160: (106, 160), 214: (142, 213), 320: (213, 320), 640: (427, 640)}
    at.select_slider(key="svd_side").set_value(320).run()


# ----------------------------------------------------------------------------- new-user bugs
def test_photo_energy_is_shown_for_the_centred_matrix_too(at):
    """Bug: on the photo 95 % of the energy is kept at rank 2 (a blur with 21 % error), because σ₁ carries
    the mean brightness. The centred matrix's energy stands beside it and the energy ranks use it."""
    grey = grey_china()
    s = np.linalg.svd(grey, compute_uv=False)
    sc = np.linalg.svd(grey - grey.mean(axis=0), compute_uv=False)
    e, ec = np.cumsum(s ** 2) / (s ** 2).sum(), np.cumsum(sc ** 2) / (sc ** 2).sum()
    at.slider(key="svd_rank").set_value(2).run()
    assert metric(at, "energy kept") == f"{e[1]:.2%}" == "95.59%"
    assert metric(at, "energy kept, centred") == f"{ec[1]:.2%}"
    assert ec[1] < 0.85
    spec = chart_specs(at)[ENERGY]
    centred = next(t for t in spec["data"] if t.get("name") == "energy kept (centred A)")
    np.testing.assert_allclose(arr(centred["y"]), ec, atol=1e-4)
    diamonds = [int(x) for t in spec["data"] if t.get("marker", {}).get("symbol") == "diamond" for x in arr(t["x"])]
    want = [int(np.searchsorted(ec, f - 1e-12)) + 1 for f in (0.9, 0.95, 0.99)]
    assert diamonds == want and want[1] > 10                   # 95 % of the variation needs rank ≫ 2
    assert any("read on the **centred** matrix" in c.value for c in at.caption)


def test_scrubber_frames_carry_the_error_and_show_the_cliff_at_rank_32():
    """Bug: the client-side frames carried no error, so the cliff of W_Q,h W_K,hᵀ at rank 32 was invisible."""
    at = choose_head(open_page("pages/svd.py"))
    s = np.linalg.svd(minilm_head(), compute_uv=False)
    scrub = chart_specs(at)[SCRUB]
    ranks = [int(f["name"]) for f in scrub["frames"]]
    assert [st["label"] for st in scrub["layout"]["sliders"][0]["steps"]] == [str(r) for r in ranks]
    assert any("frames at ranks 1–64, " in c.value for c in at.caption)      # said under the chart
    for f in scrub["frames"]:
        r, title = int(f["name"]), f["layout"]["title"]["text"]
        assert title.startswith(f"<b>rank {r}: ‖A − A_r‖_F / ‖A‖_F = ")
        rel = np.sqrt((s[r:] ** 2).sum() / (s ** 2).sum())
        if r < 32:
            shown = re.search(r"= ([\d.e+-]+)(%?)", title)
            value = float(shown.group(1)) / (100 if shown.group(2) else 1)
            assert value == pytest.approx(rel, rel=2e-2), (r, title)
            assert "rounding" not in title
        else:
            assert "below float32 precision" in title and "exact up to rounding" in title, (r, title)


def test_float32_noise_at_full_rank_is_called_rounding():
    """Bug: at rank 32 'measured 1.6e-05, predicted 6.0e-06' is float32 noise, and the page now says so."""
    at = choose_head(open_page("pages/svd.py"))
    at.slider(key="svd_rank").set_value(31).run()
    assert not [i for i in at.info if "float32 precision" in i.value]
    at.slider(key="svd_rank").set_value(32).run()
    measured, predicted = float(metric(at, "‖A − A_r‖_F measured")), float(metric(at, "predicted (tail)"))
    s = np.linalg.svd(minilm_head(), compute_uv=False)
    floor = np.sqrt(384 * 384) * np.finfo(np.float32).eps * s[0]
    assert measured < floor and predicted < floor
    note = [i.value for i in at.info if "float32 precision" in i.value]
    assert len(note) == 1 and "equals A up to rounding" in note[0]
    assert "below float32 precision" in next(c.value for c in at.caption if "Relative error" in c.value)
