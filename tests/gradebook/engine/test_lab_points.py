"""A lab's metric mapped to points: linear between the floor and the target, clamped."""

import pytest

from gradebook.engine import lab_points


@pytest.mark.parametrize(
    ("metric", "points"),
    [
        (0.40, 0.0),  # the floor earns nothing
        (0.80, 10.0),  # the target earns full marks
        (0.70, 7.5),  # (0.70 - 0.40) / (0.80 - 0.40) * 10 = 0.30 / 0.40 * 10 = 7.5
        (0.60, 5.0),  # halfway
        (0.30, 0.0),  # under the floor: clamped to 0
        (0.95, 10.0),  # over the target: clamped to full marks
    ],
)
def test_macro_f1_040_earns_nothing_and_080_full_marks(metric, points):
    assert lab_points(metric=metric, floor=0.40, target=0.80, points_possible=10) == (
        pytest.approx(points)
    )


def test_no_metric_is_no_score():
    assert lab_points(metric=None, floor=0.4, target=0.8, points_possible=10) is None


def test_a_target_not_above_the_floor_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="must be above its floor"):
        lab_points(metric=0.5, floor=0.8, target=0.8, points_possible=10)
