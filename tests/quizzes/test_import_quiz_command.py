"""`manage.py import_quiz PATH --course CODE [--session N] [--format] [--json]`."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from quizzes.management.commands.import_quiz import Command
from quizzes.models import Question, QuestionCategory
from tests.quizzes.test_question_bank import GIFT


def import_quiz(*args: str) -> str:
    out = StringIO()
    call_command("import_quiz", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def gift_file(tmp_path):
    path = tmp_path / "questions.gift"
    path.write_text(GIFT, encoding="utf-8")
    return path


def test_json_output_counts_by_type(course, session12, gift_file):
    output = import_quiz(str(gift_file), "--course", "ictss00120", "--session", "12", "--json")

    assert json.loads(output) == {
        "imported": 3,
        "by_type": {"true_false": 1, "short_answer": 1, "essay": 1},
    }
    assert Question.objects.filter(course=course).count() == 3


def test_plain_output_is_one_summary_line(course, gift_file):
    output = import_quiz(str(gift_file), "--course", "ICTSS00120", "--category", "Imported")

    assert output == (
        "Imported 3 questions into ICTSS00120 (3 new, 0 updated): "
        "1 true_false, 1 short_answer, 1 essay.\n"
    )
    assert QuestionCategory.objects.filter(path="Imported").exists()


def test_aiken_format(course, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("Q?\nA. a\nB. b\nANSWER: A\n", encoding="utf-8")

    output = import_quiz(str(path), "--course", "ICTSS00120", "--format", "aiken", "--json")

    assert json.loads(output) == {"imported": 1, "by_type": {"single_choice": 1}}


def test_an_error_names_the_line_exits_non_zero_and_imports_nothing(course, tmp_path):
    path = tmp_path / "broken.gift"
    path.write_text("Good {T}\n\nAlso good {F}\n\nBroken {=a ~%abc%b}\n", encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        import_quiz(str(path), "--course", "ICTSS00120", "--json")

    assert "Line 5: %abc% is not a weight" in str(excinfo.value)
    assert Question.objects.count() == 0
    assert QuestionCategory.objects.count() == 0


def test_exit_status_is_non_zero_from_the_command_line(course, tmp_path, monkeypatch):
    # run_from_argv closes the connections when done; the test's transaction needs its own.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    path = tmp_path / "broken.gift"
    path.write_text("Broken {#x}\n", encoding="utf-8")

    stderr = StringIO()
    command = Command(stdout=StringIO(), stderr=stderr)

    with pytest.raises(SystemExit) as excinfo:
        command.run_from_argv(["manage.py", "import_quiz", str(path), "--course", "ICTSS00120"])

    assert excinfo.value.code == 1
    assert "Line 1: 'x' is not a number" in stderr.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--course", "NOPE"], "Course NOPE does not exist."),
        (["--course", "ICTSS00120", "--session", "99"], "ICTSS00120 has no session 99."),
    ],
)
def test_unknown_course_or_session(course, session12, gift_file, args, message):
    with pytest.raises(CommandError, match=message):
        import_quiz(str(gift_file), *args)


def test_missing_file(course):
    with pytest.raises(CommandError, match="Question file not found"):
        import_quiz("/nonexistent/file.gift", "--course", "ICTSS00120")
