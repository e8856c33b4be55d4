"""`manage.py evaluate_model`: the grading engine from the command line, without the database.

No test here has database access: pytest-django's blocker (made explicit by `no_db`) turns any
query or connection attempt into an error, so a passing test proves the command never touches it.
"""

import json

import pytest
from django.core.management import CommandError, call_command

from labs.grading.engine import grade
from tests.labs.grading.tiny import SAMPLE_ROWS, build_tiny_model, make_archive, write_dataset

LABELS = "negative,neutral,positive"


@pytest.fixture
def no_db(django_db_blocker):
    with django_db_blocker.block():
        yield


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("command")
    model = build_tiny_model(root / "model")
    unsafe = build_tiny_model(root / "unsafe")
    (unsafe / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    return {
        "model": model,
        "zip": make_archive(model, root / "model.zip"),
        "unsafe": make_archive(unsafe, root / "unsafe.zip"),
        "csv": write_dataset(root / "held.csv", SAMPLE_ROWS * 2),
        "bad_csv": write_dataset(root / "bad.csv", [("good", "positive"), ("meh", "mixed")]),
    }


def _run(capsys, *args) -> tuple[int, str]:
    try:
        call_command("evaluate_model", *map(str, args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().out


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_json_output_ends_with_the_scored_metrics_and_exits_0(no_db, files, capsys):
    code, out = _run(
        capsys,
        files["zip"],
        "--dataset",
        files["csv"],
        "--labels",
        LABELS,
        "--json",
        "--timeout",
        "120",
        "--memory-mb",
        "2048",
    )

    assert code == 0
    payload = _last_json(out)
    assert payload["status"] == "scored"
    expected = grade(files["zip"], files["csv"], lab_labels=LABELS.split(","))
    for key in ("accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix"):
        assert payload["metrics"][key] == expected.metrics_all[key]
    assert payload["public"]["n"] + payload["private"]["n"] == len(SAMPLE_ROWS) * 2
    assert payload["timings"]["n_examples"] == len(SAMPLE_ROWS) * 2
    assert isinstance(payload["notes"], list)


def test_a_rejected_archive_prints_the_code_and_exits_2(no_db, files, capsys):
    code, out = _run(
        capsys, files["unsafe"], "--dataset", files["csv"], "--labels", LABELS, "--json"
    )

    assert code == 2
    payload = _last_json(out)
    assert payload["status"] == "rejected"
    assert payload["code"] == "unsafe_weights"
    assert payload["message"]


def test_an_invalid_dataset_is_rejected_with_exit_2(no_db, files, capsys):
    code, out = _run(
        capsys, files["model"], "--dataset", files["bad_csv"], "--labels", LABELS, "--json"
    )

    assert code == 2
    payload = _last_json(out)
    assert payload["code"] == "invalid_dataset"
    assert "'mixed'" in payload["message"]


def test_human_output_is_a_metrics_table_with_the_confusion_matrix(no_db, files, capsys):
    code, out = _run(capsys, files["model"], "--dataset", files["csv"], "--labels", LABELS)

    assert code == 0
    for heading in ("accuracy", "macro-F1", "weighted-F1", "per class", "confusion matrix"):
        assert heading in out
    matrix = out.split("confusion matrix")[1].splitlines()
    assert matrix[1].split() == LABELS.split(",")
    rows = [line.split() for line in matrix[2:5]]
    assert [row[0] for row in rows] == LABELS.split(",")
    # Row sums are the supports: 4 sample rows per label, written twice.
    assert [sum(map(int, row[1:])) for row in rows] == [8, 8, 8]


def test_human_output_of_a_rejection_names_the_code_and_exits_2(no_db, files, capsys):
    code, out = _run(capsys, files["unsafe"], "--dataset", files["csv"], "--labels", LABELS)

    assert code == 2
    assert out.strip().splitlines()[-1].startswith("rejected: unsafe_weights: ")


def test_usage_errors_are_command_errors(no_db, files):
    with pytest.raises(CommandError):
        call_command(
            "evaluate_model", str(files["zip"]), "--dataset", str(files["csv"]), "--labels", " , "
        )
    with pytest.raises(CommandError, match="--threads must be at least 1"):
        call_command(
            "evaluate_model",
            str(files["zip"]),
            "--dataset",
            str(files["csv"]),
            "--labels",
            LABELS,
            "--threads",
            "0",
        )


def test_the_backend_and_thread_count_can_be_chosen(no_db, files, capsys):
    runs = {}
    for backend in ("torch", "onnx"):
        args = ("--labels", LABELS, "--json", "--backend", backend, "--threads", "1")
        code, out = _run(capsys, files["zip"], "--dataset", files["csv"], *args)
        assert code == 0
        runs[backend] = _last_json(out)

    assert runs["torch"]["backend"] == "torch" and runs["onnx"]["backend"] == "onnx"
    assert runs["onnx"]["metrics"] == runs["torch"]["metrics"]
    assert runs["onnx"]["timings"]["convert_s"] > 0 == runs["torch"]["timings"]["convert_s"]
