"""Tests for edgesal.metrics (MIT saliency-benchmark conventions). Fast; no data files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgesal.errors import EdgesalError
from edgesal.metrics import (
    HIGHER_IS_BETTER,
    METRICS,
    MetricInputError,
    auc_borji,
    auc_judd,
    auc_shuffled,
    cc,
    compute_all,
    fixations_xy,
    information_gain,
    kld,
    log_likelihood,
    nss,
    resize_to,
    sim,
)

H, W = 24, 32


def _gauss(h: int, w: int, cx: float, cy: float, sigma: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2))


@pytest.fixture
def scene() -> dict:
    """A random positive saliency map, a fixation map, a density and other fixations."""
    rng = np.random.default_rng(123)
    fix = np.zeros((H, W), dtype=bool)
    rows = rng.integers(0, H, 20)
    cols = rng.integers(0, W, 20)
    fix[rows, cols] = True
    density = sum(_gauss(H, W, c, r, 2.0) for r, c in zip(rows, cols))
    sal = rng.random((H, W)) + 0.5 * density / density.max() + 0.1  # positive, informative
    other = np.stack([rng.integers(0, W, 60), rng.integers(0, H, 60)], axis=1)
    baseline = _gauss(H, W, W / 2 - 0.5, H / 2 - 0.5, 8.0)
    return {"sal": sal, "fix": fix, "density": density, "other": other, "baseline": baseline}


# ---------------------------------------------------------------- reference ports (loops)


def _mit_auc_judd(s: np.ndarray, f: np.ndarray) -> float:
    """Literal port of AUC_Judd.m without jitter (valid when values are distinct)."""
    s = (s - s.min()) / (s.max() - s.min())
    S, F = s.ravel(), f.ravel()
    sth = np.sort(S[F])[::-1]
    nf, npix = sth.size, S.size
    tp, fp = [0.0], [0.0]
    for i, t in enumerate(sth, start=1):
        above = np.sum(t <= S)
        tp.append(i / nf)
        fp.append((above - i) / (npix - nf))
    tp.append(1.0)
    fp.append(1.0)
    return float(np.trapezoid(tp, fp))


def _mit_split_auc(sth: np.ndarray, randfix: np.ndarray, step: float) -> float:
    """Inner loop of AUC_Borji.m / AUC_shuffled.m; ``randfix`` is (n_splits, n)."""
    aucs = []
    for curfix in randfix:
        top = max(sth.max(), curfix.max())
        threshes = np.round(np.arange(0, int(np.floor(top / step + 1e-9)) + 1) * step, 12)[::-1]
        tp = [0.0] + [np.sum(sth >= t) / sth.size for t in threshes] + [1.0]
        fp = [0.0] + [np.sum(curfix >= t) / curfix.size for t in threshes] + [1.0]
        aucs.append(np.trapezoid(tp, fp))
    return float(np.mean(aucs))


# ---------------------------------------------------------------- basic properties


def test_identical_maps(scene):
    d = scene["density"]
    assert cc(d, d) == pytest.approx(1.0, abs=1e-12)
    assert sim(d, d) == pytest.approx(1.0, abs=1e-12)
    assert kld(d, d) == pytest.approx(0.0, abs=1e-12)
    assert information_gain(d, scene["fix"], d) == pytest.approx(0.0, abs=1e-12)


def test_constant_map_scores_chance(scene):
    const = np.full((H, W), 3.7)
    fix = scene["fix"]
    assert auc_judd(const, fix) == 0.5
    assert auc_borji(const, fix) == pytest.approx(0.5, abs=0.02)
    assert auc_shuffled(const, fix, scene["other"]) == pytest.approx(0.5, abs=0.02)
    assert nss(const, fix) == 0.0
    assert cc(const, scene["density"]) == 0.0
    # as a distribution a constant map is uniform: SIM/KL finite, IG vs uniform baseline 0
    assert 0.0 < sim(const, scene["density"]) < 1.0
    assert np.isfinite(kld(const, scene["density"]))
    assert information_gain(const, fix, np.zeros((H, W))) == pytest.approx(0.0, abs=1e-12)
    # still exactly chance after resizing (bilinear weights would add 1-ulp noise)
    small = np.full((7, 9), 3.7)
    assert auc_judd(small, fix) == 0.5 and auc_borji(small, fix) == 0.5
    assert nss(small, fix) == 0.0 and cc(small, scene["density"]) == 0.0


def test_map_peaking_on_fixations(scene):
    fix = scene["fix"]
    assert auc_judd(fix.astype(float), fix) > 0.99
    rows, cols = np.nonzero(fix)
    bumps = sum(_gauss(H, W, c, r, 0.3) for r, c in zip(rows, cols))
    assert auc_judd(bumps, fix) > 0.99
    assert nss(bumps, fix) > 3.0
    assert auc_borji(bumps, fix) > 0.9


def test_informative_map_beats_chance(scene):
    sal, fix = scene["sal"], scene["fix"]
    assert auc_judd(sal, fix) > 0.6
    assert auc_borji(sal, fix) > 0.6
    assert nss(sal, fix) > 0.3
    assert cc(sal, scene["density"]) > 0.3


# ---------------------------------------------------------------- invariances


@pytest.mark.parametrize(
    "transform",
    [np.exp, lambda x: x**3, lambda x: 5.0 * x - 2.0, np.sqrt, np.log],
    ids=["exp", "cube", "affine", "sqrt", "log"],
)
def test_auc_judd_invariant_to_monotone_maps(scene, transform):
    sal, fix = scene["sal"], scene["fix"]
    assert auc_judd(transform(sal), fix) == pytest.approx(auc_judd(sal, fix), abs=1e-12)


@pytest.mark.parametrize("a,b", [(5.0, -2.0), (0.01, 100.0), (1e4, 3.0)])
def test_affine_invariance(scene, a, b):
    sal, fix, d, other = scene["sal"], scene["fix"], scene["density"], scene["other"]
    t = a * sal + b
    assert auc_borji(t, fix) == pytest.approx(auc_borji(sal, fix), abs=1e-12)
    assert auc_shuffled(t, fix, other) == pytest.approx(auc_shuffled(sal, fix, other), abs=1e-12)
    assert nss(t, fix) == pytest.approx(nss(sal, fix), abs=1e-9)
    assert cc(t, d) == pytest.approx(cc(sal, d), abs=1e-9)
    assert cc(sal, a * d + abs(b)) == pytest.approx(cc(sal, d), abs=1e-9)


def test_nss_and_borji_not_invariant_to_nonlinear_maps(scene):
    sal, fix = scene["sal"], scene["fix"]
    assert abs(nss(np.exp(3 * sal), fix) - nss(sal, fix)) > 1e-3
    # Borji/sAUC threshold a fixed 0.1 grid of the min-max normalised map, so (unlike
    # AUC-Judd) a non-linear monotone transform moves values across thresholds.
    assert abs(auc_borji(sal**3, fix) - auc_borji(sal, fix)) > 1e-4


# ---------------------------------------------------------------- hand-computed examples


def test_hand_computed_auc_judd_and_nss():
    # S = [[0,1,2],[3,4,5],[6,7,8]], fixations at values 8 and 3 (Nfix=2, Nneg=7).
    # AUC-Judd: t=8: tp=1/2, fp=0/7; t=3: tp=1, fp=#{4,5,6,7}/7=4/7.
    #   ROC (0,0),(0,.5),(4/7,1),(1,1): area = 4/7*(.5+1)/2 + 3/7*1 = 3/7 + 3/7 = 6/7.
    # NSS: mean 4, sum of squared deviations 60, std(ddof=1) = sqrt(60/8) = sqrt(7.5);
    #   ((8-4) + (3-4)) / 2 / sqrt(7.5) = 1.5/sqrt(7.5) = sqrt(0.3).
    s = np.arange(9.0).reshape(3, 3)
    f = np.zeros((3, 3), dtype=bool)
    f[2, 2] = f[1, 0] = True
    assert auc_judd(s, f) == pytest.approx(6 / 7, abs=1e-6)
    assert nss(s, f) == pytest.approx(math.sqrt(0.3), abs=1e-6)


def test_hand_computed_auc_judd_with_ties():
    # Binary map: 1 on 2 of the 4 fixated pixels and on 2 of the 8 non-fixated ones.
    # Unique thresholds 1, 0: t=1: tp=2/4, fp=2/8; t=0: tp=1, fp=1.
    # ROC (0,0),(.25,.5),(1,1),(1,1): .25*.5/2 + .75*(.5+1)/2 = .0625 + .5625 = 0.625.
    s = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=float)
    f = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 0, 0]], dtype=bool)
    assert auc_judd(s, f) == pytest.approx(0.625, abs=1e-12)


def test_hand_computed_distribution_metrics():
    # S = [[1,2],[3,4]], G = [[0,1],[1,2]] (row-major).
    # CC: centred S = (-1.5,-.5,.5,1.5), centred G = (-1,0,0,1): 3 / sqrt(5*2) = 3/sqrt(10).
    # KL: S/sum = (.1,.2,.3,.4), G/sum = (0,.25,.25,.5):
    #   .25 ln(.25/.2) + .25 ln(.25/.3) + .5 ln(.5/.4) = .75 ln 1.25 + .25 ln(5/6).
    # SIM: minmax(S)/sum = (0,1/6,1/3,1/2), minmax(G)/sum = (0,.25,.25,.5):
    #   0 + 1/6 + 1/4 + 1/2 = 11/12.
    s = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = np.array([[0.0, 1.0], [1.0, 2.0]])
    assert cc(s, g) == pytest.approx(3 / math.sqrt(10), abs=1e-6)
    assert kld(s, g) == pytest.approx(0.75 * math.log(1.25) + 0.25 * math.log(5 / 6), abs=1e-6)
    assert sim(s, g) == pytest.approx(11 / 12, abs=1e-6)


def test_hand_computed_information_gain():
    # p = minmax([[1,2],[3,4]])/sum = [[0,1/6],[1/3,1/2]];
    # b = minmax([[1,3],[3,5]])/sum = [[0,1/4],[1/4,1/2]]; fixations at (0,1) and (1,1):
    # IG = mean(log2(1/6) - log2(1/4), log2(1/2) - log2(1/2)) = log2(2/3)/2.
    s = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[1.0, 3.0], [3.0, 5.0]])
    f = np.array([[False, True], [False, True]])
    assert information_gain(s, f, b) == pytest.approx(0.5 * math.log2(2 / 3), abs=1e-6)


def test_hand_computed_shuffled_auc():
    # S = 0..8 on 3x3 -> normalised k/8; positives 8/8=1 and 3/8=.375; other fixations at
    # values 2 (.25) and 6 (.75): min(Nfix=2, Nother=2) = 2, so every split uses both.
    # Grid thresholds 1.0 ... 0.0: t in {1,.9,.8}: (fp,tp)=(0,.5); {.7,.6,.5,.4}: (.5,.5);
    # .3: (.5,1); {.2,.1,0}: (1,1). Area = .5*.5 + .5*1 = 0.75 (= Mann-Whitney 3/4).
    s = np.arange(9.0).reshape(3, 3)
    f = np.zeros((3, 3), dtype=bool)
    f[2, 2] = f[1, 0] = True
    other = np.array([[2, 0], [0, 2]])  # (x, y): value 2 at row 0 col 2; value 6 at row 2 col 0
    assert auc_shuffled(s, f, other) == pytest.approx(0.75, abs=1e-6)
    assert auc_shuffled(s, f, other, n_splits=1, seed=99) == pytest.approx(0.75, abs=1e-6)


def test_shuffled_auc_with_own_fixations_as_negatives(scene):
    fix, sal = scene["fix"], scene["sal"]
    own = fixations_xy(fix)
    assert auc_shuffled(sal, fix, own) == pytest.approx(0.5, abs=1e-12)
    assert auc_shuffled(sal, fix, np.concatenate([own, own])) == pytest.approx(0.5, abs=0.05)


# ---------------------------------------------------------------- vectorised == MIT loops


def test_auc_judd_matches_mit_loop_without_ties(scene):
    sal, fix = scene["sal"], scene["fix"]
    assert np.unique(sal).size == sal.size
    assert auc_judd(sal, fix) == pytest.approx(_mit_auc_judd(sal, fix), abs=1e-12)


def test_auc_borji_matches_mit_loop(scene):
    sal, fix = scene["sal"], scene["fix"]
    s = ((sal - sal.min()) / (sal.max() - sal.min())).ravel()
    sth = s[fix.ravel()]
    r = np.random.default_rng(7).integers(0, s.size, size=(30, sth.size))
    expected = _mit_split_auc(sth, s[r], 0.1)
    assert auc_borji(sal, fix, n_splits=30, seed=7) == pytest.approx(expected, abs=1e-12)
    r = np.random.default_rng(7).integers(0, s.size, size=(30, sth.size))
    expected = _mit_split_auc(sth, s[r], 0.05)
    assert auc_borji(sal, fix, n_splits=30, step=0.05, seed=7) == pytest.approx(
        expected, abs=1e-12
    )


def test_auc_shuffled_matches_mit_loop(scene):
    sal, fix, other = scene["sal"], scene["fix"], scene["other"]
    s = (sal - sal.min()) / (sal.max() - sal.min())
    sth = s[fix]
    vals = s[other[:, 1], other[:, 0]]
    k = min(sth.size, vals.size)
    assert k < vals.size  # exercises the sampling path
    keys = np.random.default_rng(3).random((25, vals.size))
    randfix = np.stack([vals[np.argsort(row)[:k]] for row in keys])
    expected = _mit_split_auc(sth, randfix, 0.1)
    assert auc_shuffled(sal, fix, other, n_splits=25, seed=3) == pytest.approx(expected, abs=1e-12)


def test_seeded_auc_is_deterministic(scene):
    sal, fix, other = scene["sal"], scene["fix"], scene["other"]
    assert auc_borji(sal, fix, seed=5) == auc_borji(sal, fix, seed=5)
    assert auc_shuffled(sal, fix, other, seed=5) == auc_shuffled(sal, fix, other, seed=5)
    assert auc_borji(sal, fix, seed=5) != auc_borji(sal, fix, seed=6)


# ---------------------------------------------------------------- log-likelihood


def test_log_likelihood_uniform_is_zero(scene):
    log_p = np.full((H, W), -math.log(H * W))
    assert log_likelihood(log_p, fixations_xy(scene["fix"])) == pytest.approx(0.0, abs=1e-12)


def test_log_likelihood_concentrated_density(scene):
    fix = scene["fix"]
    k = int(fix.sum())
    with np.errstate(divide="ignore"):
        log_p = np.where(fix, -math.log(k), -np.inf)
    pts = fixations_xy(fix)
    assert log_likelihood(log_p, pts) == pytest.approx(math.log2(H * W / k), abs=1e-9)
    # duplicates count, float coordinates round, extra columns (observer id) are ignored
    pts3 = np.concatenate([pts, pts], axis=0).astype(float)
    pts3 = np.column_stack([pts3 + 0.2, np.zeros(len(pts3))])
    assert log_likelihood(log_p, pts3) == pytest.approx(math.log2(H * W / k), abs=1e-9)
    # a fixation on a zero-probability pixel gives -inf
    off = np.argwhere(~fix)[0]
    assert log_likelihood(log_p, [[off[1], off[0]]]) == -np.inf


def test_log_likelihood_rejects_unnormalised_density(scene):
    pts = fixations_xy(scene["fix"])
    with pytest.raises(ValueError, match="sums to"):
        log_likelihood(np.zeros((H, W)), pts)
    with pytest.raises(ValueError, match="outside"):
        log_likelihood(np.full((H, W), -math.log(H * W)), [[W, 0]])
    with pytest.raises(ValueError, match="NaN"):
        log_likelihood(np.full((H, W), np.nan), pts)


# ---------------------------------------------------------------- errors


FIXATION_METRICS = {
    "auc_judd": lambda s, f, sc: auc_judd(s, f),
    "auc_borji": lambda s, f, sc: auc_borji(s, f),
    "sauc": lambda s, f, sc: auc_shuffled(s, f, sc["other"]),
    "nss": lambda s, f, sc: nss(s, f),
    "ig": lambda s, f, sc: information_gain(s, f, sc["baseline"]),
}


@pytest.mark.parametrize("name", sorted(FIXATION_METRICS))
def test_empty_fixation_map_raises(scene, name):
    with pytest.raises(ValueError, match="no fixations") as err:
        FIXATION_METRICS[name](scene["sal"], np.zeros((H, W), dtype=bool), scene)
    assert isinstance(err.value, EdgesalError)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("name", sorted(METRICS))
def test_non_finite_saliency_raises(scene, name, bad):
    sal = scene["sal"].copy()
    sal[3, 4] = bad
    with pytest.raises(ValueError, match="NaN/inf"):
        if name in FIXATION_METRICS:
            FIXATION_METRICS[name](sal, scene["fix"], scene)
        else:
            METRICS[name](sal, scene["density"])


def test_other_input_errors(scene):
    sal, fix, d = scene["sal"], scene["fix"], scene["density"]
    with pytest.raises(ValueError, match="empty"):
        auc_shuffled(sal, fix, np.zeros((0, 2), dtype=int))
    with pytest.raises(ValueError, match="empty"):
        auc_shuffled(sal, fix, [])
    with pytest.raises(ValueError, match="outside"):
        auc_shuffled(sal, fix, [[0, H]])  # y = H is past the last row
    with pytest.raises(ValueError, match="no fixations"):
        cc(sal, np.zeros((H, W)))
    with pytest.raises(ValueError, match="non-negative"):
        kld(sal - 10.0, d)
    with pytest.raises(ValueError, match="2-D"):
        nss(sal[None], fix)
    with pytest.raises(ValueError, match="differs"):
        compute_all(sal, fix, d[:-1])
    with pytest.raises(MetricInputError, match="every pixel"):
        auc_judd(sal, np.ones((H, W), dtype=bool))


# ---------------------------------------------------------------- resizing, compute_all


def test_resize_matches_torch_bilinear():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((7, 11))
    ours = resize_to(x, (20, 33))
    ref = torch.nn.functional.interpolate(
        torch.from_numpy(x)[None, None], size=(20, 33), mode="bilinear", align_corners=False
    )[0, 0].numpy()
    assert ours.shape == (20, 33)
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_resizing_path_equals_preresized(scene):
    small = scene["sal"][::2, ::2].copy()  # (12, 16) vs (24, 32) references
    big = resize_to(small, (H, W))
    kwargs = dict(other_fixations=scene["other"], baseline=scene["baseline"][::3, ::4])
    got = compute_all(small, scene["fix"], scene["density"], **kwargs)
    want = compute_all(big, scene["fix"], scene["density"], **kwargs)
    assert got == pytest.approx(want, abs=1e-12)
    assert auc_judd(small, scene["fix"]) == auc_judd(big, scene["fix"])
    assert kld(small, scene["density"]) == kld(big, scene["density"])


def test_compute_all_keys_and_optional_inputs(scene):
    keys = ["auc_judd", "auc_borji", "sauc", "nss", "cc", "kld", "sim", "ig"]
    out = compute_all(scene["sal"], scene["fix"], scene["density"])
    assert list(out) == keys == list(METRICS)
    assert math.isnan(out["sauc"]) and math.isnan(out["ig"])
    assert all(isinstance(v, float) and math.isfinite(v) for k, v in out.items() if k not in ("sauc", "ig"))
    full = compute_all(
        scene["sal"], scene["fix"], scene["density"], scene["other"], scene["baseline"]
    )
    assert full["sauc"] == auc_shuffled(scene["sal"], scene["fix"], scene["other"])
    assert full["ig"] == information_gain(scene["sal"], scene["fix"], scene["baseline"])
    assert full["auc_borji"] == auc_borji(scene["sal"], scene["fix"])
    assert not HIGHER_IS_BETTER["kld"] and HIGHER_IS_BETTER["auc_judd"]


def test_fixations_xy_is_column_row(scene):
    f = np.zeros((3, 5), dtype=bool)
    f[2, 4] = True
    np.testing.assert_array_equal(fixations_xy(f), [[4, 2]])
