"""Tests of true_hypervolume: closed forms, agreement with pymoo's HV on dense fronts, input checks."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from pymoo.gradient.automatic import AutomaticDifferentiation
from pymoo.indicators.hv import HV
from pymoo.problems.many.cdtlz import C2DTLZ2
from pymoo.problems.many.dtlz import DTLZ1, DTLZ2
from pymoo.problems.multi.zdt import ZDT1, ZDT2, ZDT3, ZDT4
from scipy.integrate import quad

from pmo_grad.indicators.true_front import (
    SUPPORTED_PROBLEMS,
    FrontPiece,
    hypervolume_of_pieces,
    true_hypervolume,
    zdt3_curve,
    zdt3_front_intervals,
)
from pmo_grad.problems.fonseca_fleming import FonsecaFleming
from pmo_grad.problems.quadratic import ConvexQuadraticPair
from pmo_grad.problems.toy import CAGradToy

# The hypervolume that a dense sample misses is about Σ Δf1·Δf2 over consecutive points, so it
# shrinks like 1/N. For the 20,000-point samples here the measured gaps are at most 4.5e-5.
DENSE_2D_POINTS = 20_000
DENSE_2D_TOLERANCE = 1e-4


def dense_hypervolume(points, ref_point):
    return float(HV(ref_point=np.asarray(ref_point, dtype=float))(points))


def dense_zdt1(n):
    f1 = np.linspace(0.0, 1.0, n)
    return np.column_stack([f1, 1.0 - np.sqrt(f1)])


def dense_zdt2(n):
    f1 = np.linspace(0.0, 1.0, n)
    return np.column_stack([f1, 1.0 - f1**2])


def dense_zdt3(n):
    # The whole curve on [0, 1]; its dominated parts add nothing to the hypervolume.
    f1 = np.linspace(0.0, 1.0, n)
    return np.column_stack([f1, 1.0 - np.sqrt(f1) - f1 * np.sin(10.0 * np.pi * f1)])


def dense_fonseca_fleming(n):
    # Sampled through the decision space, so the front equation of the module is not reused.
    problem = FonsecaFleming(n_var=3)
    t = np.linspace(-1.0, 1.0, n) / math.sqrt(3.0)
    return problem.evaluate(np.repeat(t[:, None], 3, axis=1))


def dense_quadratic_pair(n):
    problem = ConvexQuadraticPair(n_var=4)
    t = np.linspace(-0.5, 0.5, n)
    return problem.evaluate(np.repeat(t[:, None], 4, axis=1))


def dense_dtlz2_two_objectives(n):
    angle = np.linspace(0.0, 0.5 * np.pi, n)
    return np.column_stack([np.cos(angle), np.sin(angle)])


def dense_dtlz2_three_objectives(n_per_angle):
    polar, azimuth = np.meshgrid(
        np.linspace(0.0, 0.5 * np.pi, n_per_angle), np.linspace(0.0, 0.5 * np.pi, n_per_angle)
    )
    polar = polar.ravel()
    azimuth = azimuth.ravel()
    return np.column_stack(
        [np.cos(polar) * np.cos(azimuth), np.cos(polar) * np.sin(azimuth), np.sin(polar)]
    )


# (problem, dense sample, reference points). The reference points include ones beyond the nadir
# point, ones that cut through the front, and ones at or outside the ideal point.
TWO_OBJECTIVE_CASES = [
    (ZDT1(), dense_zdt1, [(1.1, 1.1), (2.0, 1.5), (0.5, 0.6), (0.3, 1.2), (1.2, 0.2), (0.0, 1.0)]),
    (ZDT2(), dense_zdt2, [(1.1, 1.1), (3.0, 1.0), (0.5, 0.9), (0.8, 0.5), (1.0, -0.1)]),
    (
        ZDT3(),
        dense_zdt3,
        [(1.1, 1.1), (1.0, 1.0), (0.5, 0.3), (0.3, 0.5), (0.7, -0.2), (0.9, -0.7), (0.05, 1.0)],
    ),
    (
        FonsecaFleming(),
        dense_fonseca_fleming,
        [(1.1, 1.1), (1.0, 1.0), (0.9, 0.6), (0.7, 0.5), (0.3, 0.98)],
    ),
    (ConvexQuadraticPair(), dense_quadratic_pair, [(1.1, 1.1), (1.0, 2.0), (0.5, 0.5), (0.2, 0.9)]),
    (DTLZ2(n_obj=2), dense_dtlz2_two_objectives, [(1.1, 1.1), (1.0, 1.0), (0.8, 0.9), (0.5, 2.0)]),
]


# --------------------------------------------------------------------------------------------
# Closed-form values
# --------------------------------------------------------------------------------------------


def test_zdt1_known_value():
    assert true_hypervolume(ZDT1(), [1.1, 1.1]) == pytest.approx(1.21 - 1.0 / 3.0, abs=1e-12)
    assert true_hypervolume(ZDT1(), [1.1, 1.1]) == pytest.approx(0.876667, abs=5e-7)


def test_zdt2_known_value():
    assert true_hypervolume(ZDT2(), [1.1, 1.1]) == pytest.approx(1.21 - 2.0 / 3.0, abs=1e-12)
    assert true_hypervolume(ZDT2(), [1.1, 1.1]) == pytest.approx(0.543333, abs=5e-7)


def test_dtlz2_three_objectives_known_value():
    assert true_hypervolume(DTLZ2(), [1.1, 1.1, 1.1]) == pytest.approx(1.331 - math.pi / 6, abs=1e-12)


@pytest.mark.parametrize("n_obj", [2, 3, 4, 5, 7])
def test_dtlz2_matches_ball_volume_formula(n_obj):
    ref_point = np.linspace(1.0, 1.5, n_obj)
    # Volume of the positive orthant of the unit ball, by the recurrence V_m = V_{m−2}·2π/m for
    # the whole ball (V_0 = 1, V_1 = 2), divided by 2^m.
    ball = [1.0, 2.0]
    for m in range(2, n_obj + 1):
        ball.append(ball[m - 2] * 2.0 * math.pi / m)
    expected = np.prod(ref_point) - ball[n_obj] / 2**n_obj

    assert true_hypervolume(DTLZ2(n_obj=n_obj, n_var=n_obj + 4), ref_point) == pytest.approx(
        expected, abs=1e-12
    )


def test_dtlz2_four_objectives_matches_monte_carlo():
    ref_point = np.array([1.2, 1.1, 1.3, 1.05])
    rng = np.random.default_rng(7)
    samples = rng.uniform(0.0, ref_point, size=(400_000, 4))
    dominated = np.linalg.norm(samples, axis=1) >= 1.0
    box_volume = np.prod(ref_point)
    estimate = box_volume * dominated.mean()
    standard_error = box_volume * math.sqrt(dominated.mean() * (1.0 - dominated.mean()) / len(samples))

    value = true_hypervolume(DTLZ2(n_obj=4), ref_point)

    assert abs(value - estimate) < 5.0 * standard_error


def test_quadratic_pair_known_value():
    expected = 1.1 - 1.0 / 6.0 + 0.11
    assert true_hypervolume(ConvexQuadraticPair(), [1.1, 1.1]) == pytest.approx(expected, abs=1e-12)


def test_fonseca_fleming_closed_form_matches_quad():
    # The area under the front, by quad in the front parameter s, independent of the module.
    def f2_times_df1(s):
        return -math.expm1(-((1.0 + s) ** 2)) * 2.0 * (1.0 - s) * math.exp(-((1.0 - s) ** 2))

    area_under, _ = quad(f2_times_df1, -1.0, 1.0, epsabs=1e-13, epsrel=1e-13)

    assert true_hypervolume(FonsecaFleming(), [1.1, 1.1]) == pytest.approx(1.21 - area_under, abs=1e-12)
    assert true_hypervolume(FonsecaFleming(n_var=7), [1.5, 1.2]) == pytest.approx(1.8 - area_under, abs=1e-12)


def zdt3_area_under(lower, upper):
    """∫ (1 − √y − y sin(ay)) dy over [lower, upper] with a = 10π, by its antiderivative."""
    a = 10.0 * math.pi

    def antiderivative(y):
        return y - 2.0 / 3.0 * y**1.5 + y * math.cos(a * y) / a - math.sin(a * y) / a**2

    return antiderivative(upper) - antiderivative(lower)


def test_zdt3_matches_antiderivative():
    ref_point = (1.1, 1.1)
    intervals = zdt3_front_intervals()
    # Below the boundary Φ of the dominated region: the pieces, then flat steps between them.
    area_below_boundary = 0.0
    for index, (start, end) in enumerate(intervals):
        next_start = intervals[index + 1][0] if index + 1 < len(intervals) else ref_point[0]
        area_below_boundary += zdt3_area_under(start, end)
        area_below_boundary += zdt3_curve(end) * (next_start - end)
    expected = ref_point[0] * ref_point[1] - area_below_boundary

    assert true_hypervolume(ZDT3(), ref_point) == pytest.approx(expected, abs=1e-10)


def test_zdt3_intervals_match_pymoo_regions():
    # pymoo 0.6.2 hard-codes these regions to 8–10 digits in ZDT3._calc_pareto_front.
    pymoo_regions = [
        (0.0, 0.0830015349),
        (0.182228780, 0.2577623634),
        (0.4093136748, 0.4538821041),
        (0.6183967944, 0.6525117038),
        (0.8233317983, 0.8518328654),
    ]

    np.testing.assert_allclose(zdt3_front_intervals(), pymoo_regions, atol=1e-7)


def test_zdt3_intervals_are_non_dominated_pieces():
    f1 = np.linspace(0.0, 1.0, 200_001)
    f2 = 1.0 - np.sqrt(f1) - f1 * np.sin(10.0 * np.pi * f1)
    # A curve point is non-dominated when it is below every earlier point of the curve.
    earlier_min = np.minimum.accumulate(np.concatenate([[np.inf], f2[:-1]]))
    non_dominated = f2 < earlier_min
    inside = np.zeros_like(f1, dtype=bool)
    for start, end in zdt3_front_intervals():
        inside |= (f1 > start + 1e-9) & (f1 <= end)
    # Skip grid points within 1e-5 of an interval end, where grid and exact ends may disagree.
    ends = np.array(zdt3_front_intervals()).ravel()
    near_end = np.min(np.abs(f1[:, None] - ends[None, :]), axis=1) < 1e-5

    np.testing.assert_array_equal(non_dominated[~near_end], inside[~near_end])


@pytest.mark.parametrize(
    "ref_point, curve",
    [
        ((1.0, 1.0), lambda y: 1.0 - math.sqrt(y)),
        ((1.3, 1.7), lambda y: 1.0 - y * y),
        ((1.0, 1.0), lambda y: (1.0 - math.sqrt(y)) ** 2),
    ],
)
def test_piece_integral_matches_closed_form(ref_point, curve):
    piece = FrontPiece(0.0, 1.0, curve)
    expected = ref_point[0] * ref_point[1] - quad(curve, 0.0, 1.0, epsabs=1e-13)[0]

    value = hypervolume_of_pieces([piece], np.asarray(ref_point))

    assert value == pytest.approx(expected, abs=1e-10)
    # With r2 = 0 no point of the box is dominated, because every curve value is >= 0.
    assert hypervolume_of_pieces([piece], np.array([1.0, 0.0])) == 0.0


@pytest.mark.parametrize(
    "problem, ref_point",
    [
        (ZDT1(), (1.0, 1.0)),
        (ZDT2(), (1.0, 1.0)),
        (ConvexQuadraticPair(), (1.0, 1.0)),
        (FonsecaFleming(), (1.0 - math.exp(-4.0),) * 2),
        (DTLZ2(n_obj=2), (1.0, 1.0)),
    ],
)
def test_closed_form_continuous_at_nadir(problem, ref_point):
    # Just below the nadir point the integral path is used, at the nadir point the closed form.
    below = np.asarray(ref_point) - 1e-12

    assert true_hypervolume(problem, below) == pytest.approx(true_hypervolume(problem, ref_point), abs=1e-9)


# --------------------------------------------------------------------------------------------
# Agreement with pymoo's HV on dense fronts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "problem, sample, ref_point",
    [(problem, sample, ref) for problem, sample, refs in TWO_OBJECTIVE_CASES for ref in refs],
    ids=[f"{type(problem).__name__}-{ref}" for problem, _, refs in TWO_OBJECTIVE_CASES for ref in refs],
)
def test_two_objective_matches_dense_hv(problem, sample, ref_point):
    exact = true_hypervolume(problem, ref_point)
    dense = dense_hypervolume(sample(DENSE_2D_POINTS), ref_point)

    assert exact - dense >= -1e-12
    assert exact - dense < DENSE_2D_TOLERANCE


def test_dense_hv_converges_to_exact_value():
    # Halving the spacing should roughly halve the gap for every supported two-objective front.
    for problem, sample, refs in TWO_OBJECTIVE_CASES:
        exact = true_hypervolume(problem, refs[0])
        coarse_gap = exact - dense_hypervolume(sample(2_001), refs[0])
        fine_gap = exact - dense_hypervolume(sample(4_001), refs[0])

        assert 1.6 < coarse_gap / fine_gap < 2.4, type(problem).__name__


def test_dtlz2_three_objectives_matches_dense_hv():
    ref_point = (1.1, 1.1, 1.1)
    exact = true_hypervolume(DTLZ2(), ref_point)
    coarse = dense_hypervolume(dense_dtlz2_three_objectives(71), ref_point)
    fine = dense_hypervolume(dense_dtlz2_three_objectives(141), ref_point)

    assert 0.0 <= exact - fine < exact - coarse
    # Measured gap on the 141 × 141 angle grid: about 0.0048. The gap shrinks like the grid
    # spacing, so extrapolating linearly from the two grids (spacing ratio 2) removes it.
    assert exact - fine < 0.01
    extrapolated = 2.0 * fine - coarse
    assert extrapolated == pytest.approx(exact, abs=2e-4)


# --------------------------------------------------------------------------------------------
# Problem recognition and input checks
# --------------------------------------------------------------------------------------------


def test_wrapped_problem_is_recognized():
    wrapped = AutomaticDifferentiation(ZDT1())

    assert true_hypervolume(wrapped, [1.1, 1.1]) == pytest.approx(1.21 - 1.0 / 3.0, abs=1e-12)


@pytest.mark.parametrize("problem", [ZDT4(), DTLZ1(), C2DTLZ2(n_obj=3, n_var=12), CAGradToy()])
def test_unsupported_problem_raises(problem):
    ref_point = np.full(problem.n_obj, 10.0)

    with pytest.raises(NotImplementedError, match=type(problem).__name__) as info:
        true_hypervolume(problem, ref_point)

    for name in SUPPORTED_PROBLEMS:
        assert name in str(info.value)


def test_problem_class_instead_of_instance_raises():
    with pytest.raises(TypeError, match=r"Pass an instance, for example ZDT1\(\)"):
        true_hypervolume(ZDT1, [1.1, 1.1])


def test_dtlz2_many_objectives_clipped_reference_raises():
    with pytest.raises(NotImplementedError, match="every coordinate >= 1"):
        true_hypervolume(DTLZ2(n_obj=3), [0.5, 1.1, 1.1])


def test_dtlz2_reference_outside_ideal_gives_zero():
    assert true_hypervolume(DTLZ2(n_obj=4), [1.1, 1.1, -0.1, 1.1]) == 0.0
    assert true_hypervolume(DTLZ2(n_obj=2), [0.0, 1.1]) == 0.0


@pytest.mark.parametrize(
    "ref_point, message",
    [
        ([1.1], r"shape \(2,\)"),
        ([1.1, 1.1, 1.1], r"shape \(2,\)"),
        ([[1.1, 1.1]], r"shape \(2,\)"),
        ([1.1, math.nan], "must be finite"),
        ([math.inf, 1.1], "must be finite"),
        (["a", "b"], "sequence of 2 finite numbers"),
        (None, "shape"),
    ],
)
def test_bad_reference_point_raises(ref_point, message):
    with pytest.raises(ValueError, match=message):
        true_hypervolume(ZDT1(), ref_point)


def test_quad_meets_target_without_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="pmo_grad.indicators.true_front"):
        true_hypervolume(ZDT3(), [1.1, 1.1])
        true_hypervolume(FonsecaFleming(), [0.7, 0.5])
        true_hypervolume(ZDT1(), [0.5, 0.6])

    assert caplog.records == []
