import json
import random

import pytest
from sklearn.metrics import classification_report, confusion_matrix, f1_score

from labs.grading.metrics import compute_metrics

LABELS = ["negative", "neutral", "positive"]


def test_scores_equal_an_independent_scikit_learn_report():
    rng = random.Random(3)
    y_true = [rng.randrange(3) for _ in range(500)]
    y_pred = [y if rng.random() < 0.6 else rng.randrange(3) for y in y_true]

    metrics = compute_metrics(y_true, y_pred, LABELS)

    report = classification_report(
        [LABELS[y] for y in y_true], [LABELS[y] for y in y_pred], output_dict=True
    )
    assert metrics["n"] == 500
    assert metrics["accuracy"] == pytest.approx(report["accuracy"])
    assert metrics["macro_f1"] == pytest.approx(report["macro avg"]["f1-score"])
    assert metrics["weighted_f1"] == pytest.approx(report["weighted avg"]["f1-score"])
    for label in LABELS:
        ours, theirs = metrics["per_class"][label], report[label]
        assert ours["precision"] == pytest.approx(theirs["precision"])
        assert ours["recall"] == pytest.approx(theirs["recall"])
        assert ours["f1"] == pytest.approx(theirs["f1-score"])
        assert ours["support"] == theirs["support"]
    assert metrics["confusion_matrix"] == confusion_matrix(y_true, y_pred).tolist()


def test_confusion_matrix_rows_are_true_labels_and_columns_predictions():
    # Two true negatives predicted positive, one neutral predicted neutral.
    metrics = compute_metrics([0, 0, 1], [2, 2, 1], LABELS)

    assert metrics["confusion_matrix"] == [[0, 0, 2], [0, 1, 0], [0, 0, 0]]
    assert [metrics["per_class"][lab]["support"] for lab in LABELS] == [2, 1, 0]


def test_a_lab_label_absent_from_both_sides_still_counts_in_macro_f1():
    metrics = compute_metrics([0, 1], [0, 1], LABELS)

    assert metrics["accuracy"] == 1.0
    assert metrics["per_class"]["positive"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
    }
    expected = f1_score([0, 1], [0, 1], labels=[0, 1, 2], average="macro", zero_division=0)
    assert metrics["macro_f1"] == pytest.approx(expected) == pytest.approx(2 / 3)
    assert metrics["weighted_f1"] == 1.0


def test_the_result_is_plain_json_data():
    metrics = compute_metrics([0, 1, 2, 2], [0, 2, 2, 1], LABELS)

    assert json.loads(json.dumps(metrics)) == metrics
    assert type(metrics["accuracy"]) is float
    assert type(metrics["confusion_matrix"][0][0]) is int
    assert type(metrics["per_class"]["neutral"]["support"]) is int


def test_an_empty_part_has_blank_scores_not_zeros():
    metrics = compute_metrics([], [], LABELS)

    assert metrics["n"] == 0
    assert metrics["accuracy"] is None and metrics["macro_f1"] is None
    assert metrics["confusion_matrix"] == [[0] * 3] * 3


def test_mismatched_lengths_or_out_of_range_indexes_are_refused():
    with pytest.raises(ValueError):
        compute_metrics([0, 1], [0], LABELS)
    with pytest.raises(ValueError):
        compute_metrics([0, 3], [0, 1], LABELS)
