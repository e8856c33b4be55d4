"""Every mastery method on worked examples, Canvas's published check first."""

import pytest

from gradebook.engine import mastery_level, mastery_score

CANVAS = [1, 2, 3, 4, 5]  # a 5-point scale, oldest first


def test_weighted_average_reproduces_canvas_published_example():
    # latest * w + mean(earlier) * (1 - w) = 5 * 0.65 + 2.5 * 0.35 = 3.25 + 0.875 = 4.125,
    # shown half up as 4.13 (Python's round() would say 4.12).
    assert mastery_score(CANVAS, method="weighted_average", weight=0.65) == 4.13
    assert mastery_score(CANVAS, method="weighted_average", places=None) == pytest.approx(4.125)


def test_decaying_average_reproduces_canvas_published_example():
    # D1 = 1; D2 = 0.65 * 2 + 0.35 * 1 = 1.65; D3 = 1.95 + 0.5775 = 2.5275;
    # D4 = 2.6 + 0.884625 = 3.484625; D5 = 3.25 + 1.21961875 = 4.46961875 -> 4.47
    assert mastery_score(CANVAS, method="decaying_average", weight=0.65) == 4.47
    assert mastery_score(CANVAS, method="decaying_average", places=None) == pytest.approx(
        4.46961875
    )


def test_the_default_weight_is_65_percent():
    assert mastery_score(CANVAS, method="weighted_average") == 4.13


def test_a_different_weight_moves_both_averages():
    # w = 0.5: 5 * 0.5 + 2.5 * 0.5 = 3.75; decaying 1, 1.5, 2.25, 3.125, 4.0625 -> 4.06
    assert mastery_score(CANVAS, method="weighted_average", weight=0.5) == 3.75
    assert mastery_score(CANVAS, method="decaying_average", weight=0.5) == 4.06


def test_one_score_is_its_own_average():
    assert mastery_score([3], method="weighted_average") == 3
    assert mastery_score([3], method="decaying_average") == 3


@pytest.mark.parametrize(
    ("method", "expected"),
    [("highest", 5), ("latest", 3), ("average", 3.33)],  # average (2 + 5 + 3) / 3 = 3.333…
)
def test_highest_latest_and_average(method, expected):
    assert mastery_score([2, 5, 3], method=method) == expected


class TestNTimes:
    def test_mastered_once_n_scores_reach_the_threshold(self):
        # Threshold 3, n = 2: 4 and 5 reach it; the score is their mean, (4 + 5) / 2 = 4.5
        assert mastery_score([4, 2, 5], method="n_times", n=2, threshold=3) == 4.5

    def test_not_yet_is_the_best_score_below_the_threshold(self):
        # Only one of n = 2 reaches 3: the best below it, 2, says "not yet".
        assert mastery_score([4, 2], method="n_times", n=2, threshold=3) == 2

    def test_too_little_evidence_at_mastery_gives_no_score_yet(self):
        assert mastery_score([4], method="n_times", n=2, threshold=3) is None

    def test_it_needs_a_threshold(self):
        with pytest.raises(ValueError, match="threshold"):
            mastery_score([4], method="n_times", n=2)


def test_no_evidence_is_no_score():
    assert mastery_score([], method="decaying_average") is None


def test_an_unknown_method_names_the_known_ones():
    with pytest.raises(ValueError, match="weighted_average, decaying_average"):
        mastery_score([1], method="median")


def test_a_weight_given_as_a_percentage_is_refused():
    with pytest.raises(ValueError, match="fraction between 0 and 1"):
        mastery_score([1], method="weighted_average", weight=65)


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (4.47, "mastered"),
        (3.0, "mastered"),
        (2.5, "near"),
        (2.49, "not_yet"),
        (None, "no_evidence"),
    ],
)
def test_mastery_levels_around_the_threshold(score, level):
    # Threshold 3 on the 5-point scale, "near" within 0.5 below it.
    assert mastery_level(score, threshold=3.0, near_margin=0.5) == level
