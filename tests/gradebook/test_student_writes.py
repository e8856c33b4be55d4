"""A student's own grade-changing write (a homework tick, a quiz submit) costs the request a
small, constant number of queries, however large the class: the gradebook and mastery
refresh it causes runs in a Celery task after the commit (gradebook/refresh.py), itself a
constant number of queries, and a task whose version a later run already covered does
nothing."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courseware.models import Membership
from gradebook import mastery, refresh, services
from gradebook.models import GradeCell, GradeItem, RefreshRequest, StudentTotals
from quizzes.services import attempt_start

# What the requests may cost, on-commit work included: session and user, the write, the
# refresh request (one upsert) and the quiz's course lookup. Measured: 12 and 13.
TICK_QUERIES_MAX = 14
SUBMIT_QUERIES_MAX = 16


def _enrol(course, count: int, start: int) -> list:
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"class{n:04d}") for n in range(start, start + count)
    )
    Membership.objects.bulk_create(
        Membership(course=course, user=user, role=Membership.Role.STUDENT) for user in users
    )
    # Everyone computed, as after the instructor opened the gradebook and mastery pages.
    services.gradebook_course_refresh(course=course)
    mastery.mastery_refresh(course=course, user_ids=None)
    return users


def _count(client, user, path: str, data: dict, capture) -> tuple[int, object]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        response = client.post(path, data, headers={"HX-Request": "true"})
    return len(queries), response


def _tick(client, user, task, capture) -> int:
    path = reverse("homework-toggle", kwargs={"task_id": task.pk})
    count, response = _count(client, user, path, {"done": "1"}, capture)
    assert response.status_code == 200
    return count


def _submit(client, user, quiz, capture) -> int:
    attempt = attempt_start(actor=user, quiz=quiz)
    path = reverse("quiz-attempt-submit", kwargs={"attempt_id": attempt.pk})
    count, response = _count(client, user, path, {}, capture)
    assert response.status_code == 302
    return count


def test_a_tick_and_a_submit_cost_the_same_queries_for_30_and_300_students(
    gradebook, course, session12, gb_quiz, client, django_capture_on_commit_callbacks
):
    task = session12.homework.first()
    small = _enrol(course, 30, 0)
    tick_small = _tick(client, small[0], task, django_capture_on_commit_callbacks)
    submit_small = _submit(client, small[1], gb_quiz, django_capture_on_commit_callbacks)
    large = _enrol(course, 270, 30)
    assert Membership.objects.filter(course=course, role="student").count() >= 300
    tick_large = _tick(client, large[0], task, django_capture_on_commit_callbacks)
    submit_large = _submit(client, large[1], gb_quiz, django_capture_on_commit_callbacks)

    assert tick_large == tick_small <= TICK_QUERIES_MAX
    assert submit_large == submit_small <= SUBMIT_QUERIES_MAX
    # Each write asked for one refresh of its student, none of anyone else.
    asked = RefreshRequest.objects.filter(course=course, requested__gt=0)
    assert set(asked.values_list("student_id", flat=True)) == {
        small[0].pk,
        small[1].pk,
        large[0].pk,
        large[1].pk,
    }


def test_the_refresh_task_costs_the_same_queries_for_30_and_300_students(
    gradebook, course, session12, django_capture_on_commit_callbacks
):
    from courseware.services import homework_completion_set

    task = session12.homework.first()

    def run(user) -> int:
        with django_capture_on_commit_callbacks(execute=False):
            homework_completion_set(actor=user, task=task, done=True)
        version = refresh.refresh_request_add(course_id=course.pk, student_id=user.pk)
        with CaptureQueriesContext(connection) as queries:
            assert refresh.refresh_request_run(
                course_id=course.pk, student_id=user.pk, version=version
            )
        return len(queries)

    small = _enrol(course, 30, 0)
    at_30 = run(small[0])
    large = _enrol(course, 270, 30)
    assert run(large[0]) == at_30


def test_a_refresh_recomputes_the_student_and_a_covered_version_does_nothing(
    gradebook, course, session12, student, django_capture_on_commit_callbacks
):
    from courseware.services import homework_completion_set

    task = session12.homework.first()
    item = GradeItem.objects.get(course=course, kind="homework", source_id=task.pk)
    # Two ticks before any worker ran: two versions asked for (the events run, the task
    # they queue does not: no worker here).
    with django_capture_on_commit_callbacks(execute=False):
        homework_completion_set(actor=student, task=task, done=True)
    first = refresh.refresh_request_add(course_id=course.pk, student_id=student.pk)
    second = refresh.refresh_request_add(course_id=course.pk, student_id=student.pk)
    assert second == first + 1
    assert not GradeCell.objects.filter(item=item, student=student, score=1.0).exists()

    # The later task runs first: it reads the sources as they are now and covers both.
    assert refresh.refresh_request_run(course_id=course.pk, student_id=student.pk, version=second)
    assert GradeCell.objects.get(item=item, student=student).score == 1.0
    computed = StudentTotals.objects.get(course=course, student=student).computed_at

    # The older one, arriving late (or a repeat of either), changes nothing.
    assert not refresh.refresh_request_run(
        course_id=course.pk, student_id=student.pk, version=first
    )
    assert not refresh.refresh_request_run(
        course_id=course.pk, student_id=student.pk, version=second
    )
    assert StudentTotals.objects.get(course=course, student=student).computed_at == computed


def test_nothing_is_asked_for_a_course_whose_gradebook_was_never_opened(course, student):
    assert refresh.refresh_request_add(course_id=course.pk, student_id=student.pk) is None
    assert not RefreshRequest.objects.exists()


def test_a_page_shows_a_tick_whose_refresh_task_has_not_run_yet(
    gradebook, course, session12, student, django_capture_on_commit_callbacks
):
    """The worker is behind (or down): the next gradebook read catches the student up in one
    batch, and the task, when it comes, finds its version covered."""
    from courseware.services import homework_completion_set

    task = session12.homework.first()
    item = GradeItem.objects.get(course=course, kind="homework", source_id=task.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        homework_completion_set(actor=student, task=task, done=True)
    # The grade event runs (the request counted), the task it queues does not (no worker):
    # its message goes to the broker and stays there.
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    request = RefreshRequest.objects.get(course=course, student=student)
    assert request.done < request.requested
    assert GradeCell.objects.get(item=item, student=student).score is None

    services.gradebook_ensure_fresh(course=course)

    assert GradeCell.objects.get(item=item, student=student).score == 1.0
    request.refresh_from_db()
    assert request.done == request.requested
    assert not refresh.refresh_request_run(
        course_id=course.pk, student_id=student.pk, version=request.requested
    )
