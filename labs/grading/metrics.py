"""Classification metrics over the lab's label set, as plain JSON-serialisable data."""

from __future__ import annotations

from collections.abc import Sequence


def compute_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict:
    """Accuracy, macro / weighted F1, per-class scores and the confusion matrix.

    `y_true` and `y_pred` are indexes into `labels` (the lab's labels). Every lab label counts,
    even one absent from this part of the data (its F1 is then 0, zero_division=0). The confusion
    matrix has one row per true label and one column per predicted label, in lab label order.
    With no rows at all the scores are None (not 0.0: nothing was measured) and n is 0.
    """
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    y_true = [int(y) for y in y_true]
    y_pred = [int(y) for y in y_pred]
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    k = len(labels)
    for y in (*y_true, *y_pred):
        if not 0 <= y < k:
            raise ValueError(f"label index {y} outside 0..{k - 1}")
    n = len(y_true)
    if n == 0:
        return {
            "n": 0,
            "accuracy": None,
            "macro_f1": None,
            "weighted_f1": None,
            "per_class": {
                str(name): {"precision": None, "recall": None, "f1": None, "support": 0}
                for name in labels
            },
            "confusion_matrix": [[0] * k for _ in range(k)],
        }
    idx = list(range(k))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=idx, zero_division=0
    )
    return {
        "n": n,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=idx, average="macro", zero_division=0)),
        "weighted_f1": float(
            f1_score(y_true, y_pred, labels=idx, average="weighted", zero_division=0)
        ),
        "per_class": {
            str(name): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(labels)
        },
        "confusion_matrix": [
            [int(v) for v in row] for row in confusion_matrix(y_true, y_pred, labels=idx)
        ],
    }
