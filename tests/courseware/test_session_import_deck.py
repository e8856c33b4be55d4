"""session_import_deck: a deck becomes a session; re-importing updates it in place."""

import pytest

from core.actors import SYSTEM
from courseware.decks import DeckError
from courseware.models import HomeworkCompletion, HomeworkTask, LearningObjective, Session
from courseware.services import session_import_deck
from tests.conftest import FIXTURES
from tests.courseware.test_deck_parser import SEED_HOMEWORK, SEED_OBJECTIVES, SEED_SLIDE_COUNT

DECKS = FIXTURES / "decks"


def read_deck(name: str) -> str:
    return (DECKS / name).read_text(encoding="utf-8")


def row_counts() -> dict[str, int]:
    return {
        "sessions": Session.objects.count(),
        "objectives": LearningObjective.objects.count(),
        "homework": HomeworkTask.objects.count(),
        "completions": HomeworkCompletion.objects.count(),
    }


@pytest.fixture
def imported(course, seed_deck_source):
    return session_import_deck(
        actor=SYSTEM, course=course, source=seed_deck_source, filename="session-12-transformers.md"
    )


def test_import_creates_the_session_with_objectives_and_homework(course, imported):
    session = Session.objects.get(course=course, number=12)
    assert imported.created is True
    assert imported.session == session
    assert session.title == "Introduction to Transformers and Hugging Face"
    assert session.lecturer == "Jordan Hill"
    assert "CRISP-DM" in session.homework_intro
    assert session.slide_count == SEED_SLIDE_COUNT
    assert session.slides_html.count("<section ") == SEED_SLIDE_COUNT
    assert session.deck_filename == "session-12-transformers.md"
    assert session.speaker_notes == []
    assert [o.text for o in session.objectives.order_by("position")] == SEED_OBJECTIVES
    assert [t.text for t in session.homework.order_by("position")] == SEED_HOMEWORK
    assert [t.position for t in session.homework.order_by("position")] == [1, 2, 3, 4]


def test_summary_names_course_session_and_counts(imported):
    assert imported.summary == (
        'Imported ICTSS00120 session 12 "Introduction to Transformers and Hugging Face" '
        f"(lecturer Jordan Hill): 4 objectives, 4 homework tasks, {SEED_SLIDE_COUNT} slides."
    )


def test_reimport_updates_in_place_and_keeps_completions(
    course, student, imported, seed_deck_source
):
    task_ids = list(imported.session.homework.order_by("position").values_list("id", flat=True))
    HomeworkCompletion.objects.create(task_id=task_ids[0], student=student)
    before = row_counts()

    again = session_import_deck(actor=SYSTEM, course=course, source=seed_deck_source)

    assert again.created is False
    assert again.summary.startswith("Updated ICTSS00120 session 12")
    assert again.session.pk == imported.session.pk
    assert list(again.session.homework.order_by("position").values_list("id", flat=True)) == (
        task_ids
    )
    assert row_counts() == before
    assert HomeworkCompletion.objects.filter(task_id=task_ids[0], student=student).exists()


def test_reimport_with_a_changed_task_updates_its_text(course, imported, seed_deck_source):
    second = HomeworkTask.objects.get(session=imported.session, position=2)
    changed = seed_deck_source.replace(
        "2. Explore the Hugging Face Model Hub and try loading different models.",
        "2. Load three models from the Hugging Face Model Hub.",
    )

    session_import_deck(actor=SYSTEM, course=course, source=changed)

    second.refresh_from_db()
    assert second.text == "Load three models from the Hugging Face Model Hub."
    assert imported.session.homework.count() == 4


def test_reimport_with_fewer_tasks_deletes_the_surplus(course, student, imported):
    third = HomeworkTask.objects.get(session=imported.session, position=3)
    HomeworkCompletion.objects.create(task=third, student=student)

    result = session_import_deck(
        actor=SYSTEM, course=course, source=read_deck("session-12-two-tasks.md")
    )

    session = result.session
    assert session.pk == imported.session.pk
    assert [t.text for t in session.homework.order_by("position")] == [
        "Review the key concepts covered today.",
        "Explore the Hugging Face Model Hub and load three different models.",
    ]
    assert result.removed_homework == [SEED_HOMEWORK[2], SEED_HOMEWORK[3]]
    assert not HomeworkTask.objects.filter(pk=third.pk).exists()
    assert not HomeworkCompletion.objects.filter(task_id=third.pk).exists()
    assert [o.text for o in session.objectives.all()] == [SEED_OBJECTIVES[0]]


@pytest.mark.parametrize(
    "deck_name", ["broken-no-title.md", "broken-yaml.md", "broken-date.md", "broken-empty.md"]
)
def test_broken_deck_writes_nothing(course, imported, deck_name):
    before = row_counts()

    with pytest.raises(DeckError):
        session_import_deck(actor=SYSTEM, course=course, source=read_deck(deck_name))

    assert row_counts() == before
    session = Session.objects.get(pk=imported.session.pk)
    assert session.title == "Introduction to Transformers and Hugging Face"
    assert session.updated_at == imported.session.updated_at


def test_same_number_in_another_course_is_a_separate_session(
    course, other_course, imported, seed_deck_source
):
    other = session_import_deck(actor=SYSTEM, course=other_course, source=seed_deck_source)

    assert other.created is True
    assert other.session.pk != imported.session.pk
    assert Session.objects.filter(number=12).count() == 2
