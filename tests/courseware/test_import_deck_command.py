"""`manage.py import_deck PATH --course CODE [--create-course]`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from courseware.models import Course, HomeworkTask, LearningObjective, Session
from tests.conftest import FIXTURES, SEED_DECK
from tests.courseware.test_deck_parser import SEED_SLIDE_COUNT

DECKS = FIXTURES / "decks"
SUMMARY = (
    'ICTSS00120 session 12 "Introduction to Transformers and Hugging Face" '
    f"(lecturer Jordan Hill): 4 objectives, 4 homework tasks, {SEED_SLIDE_COUNT} slides."
)


def import_deck(*args: str) -> str:
    out = StringIO()
    call_command("import_deck", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        "courses": Course.objects.count(),
        "sessions": Session.objects.count(),
        "objectives": LearningObjective.objects.count(),
        "homework": HomeworkTask.objects.count(),
    }


def test_import_prints_one_summary_line(course):
    output = import_deck(str(SEED_DECK), "--course", "ICTSS00120")

    assert output == f"Imported {SUMMARY}\n"
    session = Session.objects.get(course=course, number=12)
    assert session.deck_filename == "session-12-transformers.md"
    assert session.homework.count() == 4


def test_course_code_is_case_insensitive_and_reimport_says_updated(course):
    import_deck(str(SEED_DECK), "--course", "ICTSS00120")

    output = import_deck(str(SEED_DECK), "--course", "ictss00120")

    assert output == f"Updated {SUMMARY}\n"
    assert Session.objects.filter(course=course).count() == 1


@pytest.mark.django_db
def test_create_course_uses_the_deck_course_title():
    output = import_deck(str(SEED_DECK), "--course", "ICTSS00120", "--create-course")

    course = Course.objects.get(code="ICTSS00120")
    assert course.title == "Artificial Intelligence Skill Set"
    assert output == f"Imported {SUMMARY}\n"
    assert course.sessions.get().number == 12


@pytest.mark.django_db
def test_create_course_falls_back_to_the_code_as_title(tmp_path):
    deck = tmp_path / "session-1.md"
    deck.write_text("## Session 1: Python refresher\n", encoding="utf-8")

    output = import_deck(str(deck), "--course", "NEW101", "--create-course")

    assert Course.objects.get(code="NEW101").title == "NEW101"
    assert output.startswith('Imported NEW101 session 1 "Python refresher" (lecturer not named)')


@pytest.mark.django_db
def test_missing_course_without_flag_is_an_error_and_writes_nothing():
    before = row_counts()

    with pytest.raises(CommandError) as error:
        import_deck(str(SEED_DECK), "--course", "NOPE101")

    assert str(error.value) == (
        "Course NOPE101 does not exist: create it in the admin or pass --create-course"
    )
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("flags", [[], ["--create-course"]])
def test_broken_deck_is_an_error_and_writes_nothing(flags, course):
    before = row_counts()

    with pytest.raises(CommandError, match="No session title found"):
        import_deck(str(DECKS / "broken-no-title.md"), "--course", "NEW101", *flags)

    assert row_counts() == before
    assert not Course.objects.filter(code="NEW101").exists()


def test_broken_deck_for_an_existing_course_names_file_and_line(course):
    with pytest.raises(CommandError) as error:
        import_deck(str(DECKS / "broken-yaml.md"), "--course", "ICTSS00120")

    assert str(error.value).startswith(f"{DECKS / 'broken-yaml.md'}: Line 3: ")
    assert not Session.objects.exists()


def test_missing_file(course):
    with pytest.raises(CommandError, match=r"Deck file not found: .*no-such-deck\.md"):
        import_deck(str(DECKS / "no-such-deck.md"), "--course", "ICTSS00120")


def test_file_that_is_not_utf8(course, tmp_path):
    deck = tmp_path / "latin1.md"
    deck.write_bytes("## Session 1: Caf\u00e9\n".encode("latin-1"))

    with pytest.raises(CommandError, match="not UTF-8 text"):
        import_deck(str(deck), "--course", "ICTSS00120")

    assert not Session.objects.exists()


def test_course_is_required():
    with pytest.raises(CommandError, match="--course"):
        import_deck(str(SEED_DECK))
