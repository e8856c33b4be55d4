import pytest
from django.core.management import CommandError, call_command

from courseware.models import HomeworkCompletion, Membership, Session
from labs.demo import baseline_progress
from labs.models import Lab, Submission


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    return settings


def _load(capsys) -> str:
    """The printed logins block (the lab loader prints progress before it)."""
    call_command("load_demo")
    return capsys.readouterr().out.split("Logins (demo only):", 1)[1]


@pytest.mark.django_db
def test_it_prints_the_demo_quiz_and_lab_and_queues_the_baseline_without_training(
    demo_settings, capsys
):
    call_command("load_demo")
    out = capsys.readouterr().out

    assert "Demo quiz: Session 12 check: Transformers and Hugging Face (" in out
    assert "questions, 2 attempts) at /quizzes/" in out
    assert "Demo lab: Fine-tune a pre-trained transformer for sentiment analysis at /labs/" in out
    assert "training in the background" in out
    assert "Training the demo baseline model" not in out
    lab = Lab.objects.get()
    assert baseline_progress(lab).state == "queued"
    assert not Submission.objects.exists()  # no student starts with a submission used


@pytest.mark.django_db
def test_it_loads_session_12_one_instructor_and_three_students_and_prints_logins(
    demo_settings, capsys
):
    out = _load(capsys)

    session = Session.objects.get(course__code="ICTSS00120", number=12)
    assert session.title == "Introduction to Transformers and Hugging Face"
    assert session.homework.count() == 4
    roles = sorted(Membership.objects.values_list("role", flat=True))
    assert roles == ["instructor", "student", "student", "student"]
    for username in ("jordan.hill", "alex.chen", "sam.patel", "riley.nguyen"):
        assert username in out
    lab = Lab.objects.get(session=session)
    assert lab.labels == ["negative", "neutral", "positive"]
    assert not Submission.objects.filter(lab=lab).exists()


@pytest.mark.django_db
def test_loading_twice_changes_nothing_and_keeps_the_logins(demo_settings, capsys):
    first = _load(capsys)
    completions = HomeworkCompletion.objects.count()

    second = _load(capsys)

    assert first == second
    assert Session.objects.count() == 1
    assert Membership.objects.count() == 4
    assert HomeworkCompletion.objects.count() == completions
    assert Lab.objects.count() == 1
    assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_printed_password_logs_the_user_in(demo_settings, capsys, client):
    out = _load(capsys)
    line = next(line for line in out.splitlines() if "alex.chen" in line)
    password = line.split()[-1]

    # Through the login page: django-axes needs the request that client.login() does not pass.
    response = client.post("/accounts/login/", {"username": "alex.chen", "password": password})
    assert response.status_code == 302
    assert response.wsgi_request.user.username == "alex.chen"


@pytest.mark.django_db
def test_it_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG=1"):
        call_command("load_demo")
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_the_demo_gradebook_is_populated_and_a_reload_adds_no_history(demo_settings, capsys):
    from gradebook.models import (
        CellHistory,
        GradebookSettings,
        GradeCategory,
        GradeCell,
        GradeItem,
        StudentTotals,
    )

    _load(capsys)
    assert GradebookSettings.objects.get().weighted
    weights = dict(GradeCategory.objects.values_list("name", "weight"))
    assert weights == {"Homework": 20.0, "Quizzes": 30.0, "Labs": 40.0, "Other": 10.0}
    kinds = set(GradeItem.objects.filter(released=True).values_list("kind", flat=True))
    assert {"quiz", "lab", "homework", "manual"} <= kinds
    lab = GradeItem.objects.get(kind="lab")
    assert (lab.lab_floor, lab.lab_target) == (0.40, 0.80)
    participation = GradeItem.objects.get(kind="manual", title="Participation")
    scores = dict(participation.cells.values_list("student__username", "score"))
    assert scores == {"alex.chen": 9.0, "sam.patel": 7.0, "riley.nguyen": 8.5}
    override = GradeCell.objects.get(item__kind="quiz", override__isnull=False)
    assert override.student.username == "riley.nguyen" and "on paper" in override.override_reason
    assert StudentTotals.objects.filter(current_percent__isnull=False).count() == 3
    history = CellHistory.objects.count()

    _load(capsys)

    assert CellHistory.objects.count() == history
    assert GradeItem.objects.filter(title="Participation").count() == 1
    assert GradeCategory.objects.count() == 4


def _mastery_levels() -> dict[str, list[str]]:
    """The instructor's mastery heatmap, as {student: [level per objective]}."""
    from django.contrib.auth import get_user_model

    from gradebook.mastery_selectors import mastery_heatmap

    instructor = get_user_model().objects.get(username="jordan.hill")
    heatmap = mastery_heatmap(user=instructor, code="ICTSS00120")
    return {
        row.student.username: [cell.level if cell else "no_evidence" for cell in row.cells]
        for row in heatmap.rows
    }


@pytest.mark.django_db
def test_the_demo_mastery_view_shows_two_students_at_different_levels(demo_settings, capsys):
    from gradebook.models import ObjectiveLink, ObjectiveMastery
    from quizzes.models import Attempt

    _load(capsys)

    finished = Attempt.objects.filter(state=Attempt.State.FINISHED)
    assert sorted(finished.values_list("user__username", flat=True)) == ["alex.chen", "sam.patel"]
    session = Session.objects.get(number=12)
    tagged = ObjectiveLink.objects.filter(objective__session=session)
    assert tagged.filter(lab__isnull=False).exists()
    tasks = tagged.filter(homework_task__isnull=False).values("homework_task").distinct()
    assert tasks.count() == 4
    levels = _mastery_levels()
    assert len(levels["alex.chen"]) == 4  # Session 12's LO1..LO4
    assert set(levels["alex.chen"]) - {"no_evidence"}
    assert set(levels["sam.patel"]) - {"no_evidence"}
    assert levels["alex.chen"] != levels["sam.patel"]
    assert set(levels["riley.nguyen"]) == {"no_evidence"}  # sat the quiz on paper
    assert ObjectiveMastery.objects.exists()  # stored by the load, not only by the view


@pytest.mark.django_db
def test_reloading_the_demo_adds_no_attempts_links_or_mastery_changes(demo_settings, capsys):
    from gradebook.models import CellHistory, ObjectiveEvidence, ObjectiveLink, ObjectiveMastery
    from quizzes.models import Attempt

    def snapshot():
        return (
            sorted(Attempt.objects.values_list("pk", "state", "score")),
            sorted(ObjectiveLink.objects.values_list("pk", "objective", "lab", "homework_task")),
            sorted(ObjectiveMastery.objects.values_list("pk", "level", "score", "computed_at")),
            sorted(ObjectiveEvidence.objects.values_list("pk", "score")),
            CellHistory.objects.count(),
        )

    _load(capsys)
    first = snapshot()

    _load(capsys)

    assert snapshot() == first
