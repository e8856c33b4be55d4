"""Moodle's quiz statistics on a small example worked by hand.

Four students (A-D), three questions worth 1 mark each:

        Q1   Q2   Q3    T (total)
    A    1    1    1    3
    B    1    0   0.5   1.5
    C    0    1   0.5   1.5
    D    0    0    0    0
"""

import math

import pytest

from quizzes.statistics import compute, question_statistics, quiz_statistics

MARKS = [[1, 1, 1], [1, 0, 0.5], [0, 1, 0.5], [0, 0, 0]]


@pytest.fixture
def stats():
    return compute(MARKS, [1.0, 1.0, 1.0], [1, 2, 3])


def test_quiz_mean_median_and_standard_deviation(stats):
    quiz, _ = stats
    # T = 3, 1.5, 1.5, 0: mean 6/4 = 1.5; sorted 0, 1.5, 1.5, 3: median (1.5 + 1.5)/2 = 1.5
    # deviations 1.5, 0, 0, -1.5: Σ² = 2.25 + 2.25 = 4.5; SD = sqrt(4.5 / 3) = sqrt(1.5)
    assert quiz.count == 4
    assert quiz.mean == 1.5
    assert quiz.median == 1.5
    assert quiz.sd == pytest.approx(math.sqrt(1.5))  # 1.2247
    assert quiz.percent(quiz.mean) == 50.0  # of max 3


def test_quiz_skewness_and_kurtosis(stats):
    quiz, _ = stats
    # m2 = 4.5/4 = 1.125; m3 = (3.375 - 3.375)/4 = 0; m4 = (5.0625 + 5.0625)/4 = 2.53125
    # k2 = 4·1.125/3 = 1.5; k3 = 0 -> skewness 0
    # k4 = 4²·(5·2.53125 - 3·3·1.125²)/(3·2·1) = 16·(12.65625 - 11.390625)/6 = 3.375
    # kurtosis = k4/k2² = 3.375/2.25 = 1.5
    assert quiz.skewness == pytest.approx(0.0)
    assert quiz.kurtosis == pytest.approx(1.5)


def test_quiz_internal_consistency_error_ratio_and_standard_error(stats):
    quiz, _ = stats
    # V(Q1) = V(Q2) = (4·0.25)/3 = 1/3; V(Q3) = (0.25 + 0.25)/3 = 1/6; Σ = 5/6
    # CIC = 100·3/2·(1 - (5/6)/1.5) = 150·4/9 = 66.667
    # ER = 100·sqrt(1 - 0.66667) = 100·sqrt(1/3) = 57.735
    # SE = ER/100·SD = sqrt(1/3)·sqrt(1.5) = sqrt(0.5) = 0.7071
    assert quiz.cic == pytest.approx(200 / 3)
    assert quiz.error_ratio == pytest.approx(100 / math.sqrt(3))
    assert quiz.standard_error == pytest.approx(math.sqrt(0.5))


def test_question_one_facility_sd_discrimination_and_efficiency(stats):
    q1 = stats[1][0]
    # x = 1, 1, 0, 0 (mean 0.5); rest X = T - x = 2, 0.5, 1.5, 0 (mean 1)
    # facility = 100·0.5/1 = 50; SD = sqrt(1/3) = 0.57735 -> 57.735% of the mark
    # C(x, X) = (0.5·1 + 0.5·(-0.5) + (-0.5)·0.5 + (-0.5)·(-1))/3 = 0.5/3 = 1/6
    # V(X) = (1 + 0.25 + 0.25 + 1)/3 = 5/6
    # D = 100·(1/6)/sqrt(1/3 · 5/6) = 100/sqrt(10) = 31.623
    # C_max: sorted x 0,0,1,1 with sorted X 0,0.5,1.5,2:
    #   ((-0.5)(-1) + (-0.5)(-0.5) + 0.5·0.5 + 0.5·1)/3 = 1.5/3 = 0.5; DE = 100·(1/6)/0.5 = 33.3
    assert q1.slot == 1
    assert q1.facility == 50.0
    assert q1.sd == pytest.approx(math.sqrt(1 / 3))
    assert q1.sd_percent == pytest.approx(100 * math.sqrt(1 / 3))
    assert q1.discrimination_index == pytest.approx(100 / math.sqrt(10))
    assert q1.discriminative_efficiency == pytest.approx(100 / 3)


def test_question_three_discriminates_perfectly(stats):
    q3 = stats[1][2]
    # x = 1, 0.5, 0.5, 0; X = 2, 1, 1, 0: same order, so C = C_max.
    # C = (0.5·1 + 0.5·1)/3 = 1/3; V(x) = 0.5/3 = 1/6; V(X) = 2/3
    # D = 100·(1/3)/sqrt(1/6 · 2/3) = 100·(1/3)/(1/3) = 100; DE = 100
    assert q3.facility == 50.0
    assert q3.sd == pytest.approx(math.sqrt(1 / 6))
    assert q3.discrimination_index == pytest.approx(100.0)
    assert q3.discriminative_efficiency == pytest.approx(100.0)


def test_marks_are_scaled_by_the_question_maximum():
    # Q worth 2: marks 2, 1, 1, 0 -> mean 1 -> facility 50%; SD = sqrt(2/3) -> 40.8% of 2
    q = question_statistics(1, [2, 1, 1, 0], [1, 1, 0, 0], 2.0)

    assert q.facility == 50.0
    assert q.sd_percent == pytest.approx(100 * math.sqrt(2 / 3) / 2)


def test_too_few_attempts_leave_statistics_blank():
    one = quiz_statistics([2.0], max_score=3, item_variances=[0.0, 0.0])
    two = quiz_statistics([2.0, 1.0], max_score=3, item_variances=[0.5, 0.5])
    three = quiz_statistics([2.0, 1.0, 0.0], max_score=3, item_variances=[0.5, 0.5])

    assert (one.mean, one.median, one.sd, one.skewness) == (2.0, 2.0, None, None)
    assert two.sd == pytest.approx(math.sqrt(0.5))
    assert two.skewness is None and two.cic is None
    assert three.skewness == pytest.approx(0.0)
    assert three.kurtosis is None  # needs four attempts


def test_everyone_scoring_the_same_gives_no_discrimination():
    q = question_statistics(1, [1, 1, 1], [2, 1, 0], 1.0)

    assert q.facility == 100.0
    assert q.sd == 0.0
    assert q.discrimination_index is None
    assert q.discriminative_efficiency is None
