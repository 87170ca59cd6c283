"""la_core.spectra, la_core.weight_matrices and la_core.lora_base against numpy, transformers and peft."""
import os
import shutil

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

from la_core import lora
from la_core import lora_base as lb
from la_core import spectra as sp
from la_core import svd as ls
from la_core import svd_channels as sc
from la_core import weight_matrices as wm
from la_core.models import load_model
from tests import test_fuzz as fuzz
from tests.conftest import ROOT
from tests.model_fixtures import tiny_models  # noqa: F401

RNG = np.random.default_rng(7)
EXAMPLE = ROOT / "data" / "example_adapter"


# ----------------------------------------------------------------------------- spectra
@pytest.mark.parametrize("shape", [(1, 5), (7, 3), (40, 64), (200, 30)])
def test_svdvals_match_numpy(shape):
    a = RNG.standard_normal(shape).astype(np.float32) * 1e3
    s = sp.svdvals(a)
    ref = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    assert s.dtype == np.float64 and s.shape == ref.shape
    np.testing.assert_allclose(s, ref, rtol=1e-4, atol=1e-4 * ref[0])
    np.testing.assert_allclose(sp.svdvals(a, "float64"), ref, rtol=1e-10)
    assert not sp.svdvals(np.zeros((3, 2))).any()


def test_rounding_floor_separates_rounding_from_approximation():
    """A float32 rank-k matrix rebuilt at rank k has an error below the floor; at rank k−1 far above."""
    u, v = RNG.standard_normal((300, 8)), RNG.standard_normal((8, 200))
    a = (u @ v).astype(np.float32)
    U, S, Vh = ls.svd(a)
    floor = sp.rounding_floor(a.shape, S)
    full = np.linalg.norm(a.astype(np.float64) - ls.reconstruct(U, S, Vh, 8))
    assert full <= floor
    assert np.linalg.norm(a.astype(np.float64) - ls.reconstruct(U, S, Vh, 7)) > 100 * floor
    assert floor == pytest.approx(max(np.sqrt(300 * 200) * np.finfo(np.float32).eps * S[0],
                                      1e-6 * np.linalg.norm(S)))
    assert sp.rounding_floor((3, 300, 200), S) == pytest.approx(np.sqrt(3) * floor)


def test_spectrum_stats_and_atlas_grid():
    s = np.array([4.0, 2.0, 1.0, 0.0])
    st = sp.spectrum_stats(s, 0.9)
    p = s[:3] / s.sum()
    assert st.effective_rank == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    assert st.rank_energy == 2 and st.k == 4                 # 16 + 4 = 20 of 21 ≥ 90 %
    g = sp.atlas_grid({(0, "Q"): s, (1, "MLP up"): np.ones(5), (2, "K"): np.zeros(2)}, 3, ["Q", "K", "MLP up"], 0.9)
    assert g.effective_rank.shape == (3, 3) and g.kinds == ["Q", "K", "MLP up"]
    assert g.rank_energy[0, 0] == 2 and g.rank_energy[1, 2] == 5 and g.full_rank[1, 2] == 5
    assert np.isnan(g.rank_energy[2]).all() and np.isnan(g.rank_energy[0, 1])      # no matrix, a zero matrix
    assert g.full_rank[2, 1] == 2 and np.isnan(g.full_rank[0, 1])


@pytest.mark.parametrize("call, match", [
    (lambda: sp.svdvals(np.ones(3)), "2-D"),
    (lambda: sp.svdvals(np.array([[1.0, np.nan]])), "NaN or infinite"),
    (lambda: sp.svdvals(np.eye(2), "float16"), "dtype must be"),
    (lambda: sp.rounding_floor((3,), [1.0]), r"\(m, n\)"),
    (lambda: sp.rounding_floor(5, [1.0]), "must be a tuple"),
    (lambda: sp.rounding_floor((3, 2.0), [1.0]), "must be an integer"),
    (lambda: sp.spectrum_stats([1.0], 1.5), r"in \(0, 1\]"),
    (lambda: sp.spectrum_stats([0.0, 0.0]), "all zeros"),
    (lambda: sp.rounding_floor((3, 2), [1.0, -1.0]), "all ≥ 0"),
    (lambda: sp.atlas_grid([1.0], 2, ["Q"]), "must be a dict"),
    (lambda: sp.atlas_grid({(0, "X"): [1.0]}, 2, ["Q"]), "kind in"),
    (lambda: sp.atlas_grid({(5, "Q"): [1.0]}, 2, ["Q"]), "layer must be at most 1"),
    (lambda: ls.head_qk(np.ones((8, 4)), np.ones((8, 4)), 0, 4, 3), "must divide"),
    (lambda: ls.head_qk(np.ones((8, 4)), np.ones((6, 4)), 0, 4, 2), r"= \(4, 4\) to go with w_q"),
    (lambda: lb.list_adapter_folders("/no/such/folder"), "does not exist"),
    (lambda: lb.resolve_adapter_folder(str(EXAMPLE.parent), "../data"), r"'\.\.' is not allowed"),
])
def test_bad_input_raises_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- channels: centred energy, previews
def test_centred_spectrum_and_relative_errors_of_the_previews():
    a = (RNG.random((1, 60, 45)) * 200 + 30).astype(np.float32)          # all positive, like a photo
    f = sc.factor_channels(a, image=True)
    ref_c = np.linalg.svd(a[0].astype(np.float64) - a[0].mean(0), compute_uv=False)
    np.testing.assert_allclose(f.s_centred, ref_c, rtol=1e-4, atol=1e-4 * ref_c[0])
    assert ls.energy(f.s)[0] > 0.8 > 0.2 > ls.energy(f.s_centred)[0]     # the mean carries the raw energy
    p = f.previews(16)
    ref = np.linalg.svd(a[0].astype(np.float64), compute_uv=False)
    want = [np.sqrt((ref[r:] ** 2).sum() / (ref ** 2).sum()) for r in p.ranks]
    np.testing.assert_allclose(p.rel_errors, want, rtol=1e-3, atol=1e-6)
    assert (p.factor, p.factor_cols) == (4, 4)


def test_tall_matrix_previews_keep_their_columns():
    a = RNG.standard_normal((1, 900, 40)).astype(np.float32)
    f = sc.factor_channels(a, image=False)
    p = f.previews(128, square=False)
    assert (p.factor, p.factor_cols) == (8, 1) and p.frames.shape[1:] == (112, 40)
    blocks = a[0, :896].reshape(112, 8, 40).mean(1)
    np.testing.assert_allclose(p.frames[-1], blocks, atol=1e-4)            # full rank: the block means of A
    assert sc.downsample(a[0], 128, square=False).shape == (112, 40)
    assert sc.downsample(a[0], 128).shape == (112, 5)


# ----------------------------------------------------------------------------- head_qk with grouped-query attention
def test_head_qk_with_gqa_reads_the_heads_kv_group():
    d_head, n_heads, n_kv, d_in = 4, 6, 2, 10
    wq = RNG.standard_normal((n_heads * d_head, d_in))
    wk = RNG.standard_normal((n_kv * d_head, d_in))
    x, y = RNG.standard_normal(d_in), RNG.standard_normal(d_in)
    for h in range(n_heads):
        g = h // 3
        m = ls.head_qk(wq, wk, h, n_heads, n_kv)
        assert m.shape == (d_in, d_in) and np.linalg.matrix_rank(m, tol=1e-4) == d_head
        q, k = (wq @ x)[h * d_head:(h + 1) * d_head], (wk @ y)[g * d_head:(g + 1) * d_head]
        assert x @ m @ y == pytest.approx(q @ k, rel=1e-4)


# ----------------------------------------------------------------------------- model matrices
def _hf(folder):
    import transformers

    return transformers.AutoModel.from_pretrained(folder, local_files_only=True).eval()


@pytest.mark.parametrize("family", ["llama", "gpt2", "bert"])
def test_model_matrices_list_every_2d_weight_with_its_shape(tiny_models, family):  # noqa: F811
    model = load_model(tiny_models[family])
    refs = wm.model_matrices(model)
    hf = _hf(tiny_models[family])
    params = {n: p for n, p in hf.named_parameters() if p.ndim == 2}
    for ref in refs:
        a = wm.read_matrix(model, ref, head=min(3, model.n_heads - 1))
        assert a.shape == ref.shape and ref.label(model.d_head).count("×") == 1
    assert {r.group for r in refs} == {"layer 0", "layer 1", wm.OUTSIDE}
    assert len({r.name for r in refs}) == len(model.weight_names())      # every 2-D weight is offered
    if family == "llama":                                                 # GQA: K and V are 2 heads × 16
        by = {(r.layer, r.kind): r for r in refs}
        assert by[(0, "K")].shape == (32, 64) and by[(0, "MLP gate")].shape == (128, 64)
        assert by[(1, wm.QK)].label(model.d_head) == "one head's W_Q,h W_K,hᵀ (64×64, rank ≤ 16)"
        attn = hf.layers[1].self_attn
        wq, wk = attn.q_proj.weight.detach().numpy(), attn.k_proj.weight.detach().numpy()
        ref = wq[3 * 16:4 * 16].T @ wk[1 * 16:2 * 16]                     # head 3 reads K/V group 1
        np.testing.assert_allclose(wm.read_matrix(model, by[(1, wm.QK)], head=3), ref, atol=1e-5)
    if family == "gpt2":                                                  # Conv1D (in, out), fused c_attn
        by = {(r.layer, r.kind): r for r in refs}
        w = params["h.0.attn.c_attn.weight"].detach().numpy()             # (64, 192)
        np.testing.assert_allclose(wm.read_matrix(model, by[(0, "K")]), w[:, 64:128].T)
        np.testing.assert_allclose(wm.read_matrix(model, by[(0, "MLP up")]),
                                   params["h.0.mlp.c_fc.weight"].detach().numpy().T)
    with pytest.raises(ValueError, match="MatrixRef"):
        wm.read_matrix(model, ("not", "a", "ref"))


# ----------------------------------------------------------------------------- adapters: folders and base weights
def test_adapter_folders_are_listed_inside_the_root_only(tmp_path):
    root = tmp_path / "models"
    (root / "team" / "run1").mkdir(parents=True)
    shutil.copytree(EXAMPLE, root / "team" / "run1" / "adapter")
    shutil.copytree(EXAMPLE, root / ".hidden")
    outside = tmp_path / "outside"
    shutil.copytree(EXAMPLE, outside)
    os.symlink(outside, root / "link-out")
    os.symlink(root / "team" / "run1" / "adapter", root / "link-in")
    assert lb.list_adapter_folders(root) == ["link-in", "team/run1/adapter"]
    shutil.copytree(EXAMPLE, root / "team" / "run1" / "adapter" / "checkpoint-10")   # a checkpoint inside a run
    assert lb.list_adapter_folders(root) == ["link-in", "team/run1/adapter", "team/run1/adapter/checkpoint-10"]
    real = lb.resolve_adapter_folder(root, "team/run1/adapter")
    assert lora.load_adapter(real).r == 8
    with pytest.raises(ValueError, match="outside"):
        lb.resolve_adapter_folder(root, "link-out")
    with pytest.raises(ValueError, match="absolute"):
        lb.resolve_adapter_folder(root, str(outside))


def test_example_adapter_matches_minilm_and_the_comparison_is_numpy_s():
    import scipy.linalg
    import transformers

    from la_core.models import bundled_path

    model = load_model()
    ad = lora.load_adapter(EXAMPLE)
    match = lb.match_base(model, ad)
    assert set(match) == set(ad.modules)
    hf = transformers.AutoModel.from_pretrained(bundled_path(), local_files_only=True)
    module = "encoder.layer.2.attention.self.value"
    w = hf.get_submodule(module).weight.detach().numpy().astype(np.float64)
    np.testing.assert_array_equal(lb.base_weight(model, match, module), w.astype(np.float32))
    d = ad.delta(module).astype(np.float64)
    assert ad.relative_update(module, lb.base_weight(model, match, module)) == pytest.approx(
        np.linalg.norm(d) / np.linalg.norm(w), rel=1e-5)
    ud, uw = np.linalg.svd(d)[0][:, :3], np.linalg.svd(w)[0][:, :3]
    np.testing.assert_allclose(np.sort(ad.principal_angles(module, w, 3)),
                               np.sort(np.degrees(scipy.linalg.subspace_angles(ud, uw))), atol=1e-3)


def test_another_model_is_not_the_base(tiny_models):  # noqa: F811
    ad = lora.load_adapter(EXAMPLE)
    with pytest.raises(ValueError, match="not this adapter's base"):
        lb.match_base(load_model(tiny_models["llama"]), ad)
    with pytest.raises(ValueError, match=r"384×384"):                     # same names, other shapes
        lb.match_base(load_model(tiny_models["bert"]), ad)


def test_gpt2_adapter_matches_its_conv1d_weights(tiny_models, tmp_path):  # noqa: F811
    peft = pytest.importorskip("peft")
    import transformers

    hf = transformers.GPT2LMHeadModel.from_pretrained(tiny_models["gpt2"], local_files_only=True)
    pm = peft.get_peft_model(hf, peft.LoraConfig(r=2, lora_alpha=4, target_modules=["c_attn", "c_proj"],
                                                 fan_in_fan_out=True))
    with torch.no_grad():
        for name, p in pm.named_parameters():
            if "lora_B" in name:
                p.normal_()
    pm.save_pretrained(tmp_path)
    ad = lora.load_adapter(tmp_path)
    model = load_model(tiny_models["gpt2"])
    match = lb.match_base(model, ad)
    m = "transformer.h.1.attn.c_attn"
    assert match[m][1] is True                                            # stored (in, out): transposed
    w = hf.get_submodule(m).weight.detach().numpy()                       # (64, 192) Conv1D
    np.testing.assert_array_equal(lb.base_weight(model, match, m), w.T)


@pytest.mark.parametrize("fn", [sp.svdvals, sp.rounding_floor, sp.spectrum_stats, sp.atlas_grid, sc.block_factors])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hst.data())
def test_fuzz_spectra(fn, data):
    """As tests/test_fuzz.py: awkward input gives a result without NaN, or a ValueError with a message."""
    args = [data.draw(fuzz.values, label=f"arg{i}") for i in range(fuzz._n_required(fn))]
    try:
        with np.errstate(all="ignore"):
            result = fn(*args)
    except ValueError as exc:
        assert str(exc)
        return
    if fuzz._all_finite_inputs(args):
        assert not fuzz._has_nan(result), (fn.__name__, args)


def test_layer_kind_heatmap_empty_cells_are_a_mid_grey_on_both_themes():
    """Bug: the empty-cell background was #f1f3f5, a light frame round every cell on the dark page. A mid grey
    (luminance near the middle of white's and the dark page's) reads as grey on both."""
    import numpy as np
    from PIL import ImageColor

    from figures.spectra import layer_kind_heatmap

    fig = layer_kind_heatmap(np.array([[1.0, np.nan], [2.0, 3.0]]), ["Q", "MLP gate"], "t", "rank")
    colour = fig.layout.plot_bgcolor
    r, g, b, a = ((*ImageColor.getrgb(colour), 1.0) if colour.startswith("#")
                  else (float(v) for v in colour[colour.index("(") + 1:-1].split(",")))
    for page in ((255, 255, 255), (23, 22, 20)):                     # the light and the dark page
        seen = [a * c + (1 - a) * p for c, p in zip((r, g, b), page)]
        assert 60 <= np.mean(seen) <= 200, (page, seen)               # neither near white nor near black
