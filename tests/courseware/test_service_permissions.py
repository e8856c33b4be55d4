"""The one permission rule: every courseware service that acts for a person takes `actor` and
checks it (courseware.permissions); SYSTEM (commands, the demo) passes every check; the
portal's views and API views never check roles themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware import permissions, selectors, services
from courseware.models import HomeworkCompletion, Membership
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _first_task(session):
    return session.homework.order_by("position").first()


# --- Instructor-only writes -----------------------------------------------------------------


def _due_set(actor, course, session):
    return services.homework_due_set(actor=actor, task=_first_task(session), due_at=None)


def _enrol(actor, course, session):
    return services.membership_set(
        actor=actor, course=course, user=UserFactory(), role=Membership.Role.STUDENT
    )


INSTRUCTOR_WRITES = {"homework_due_set": _due_set, "membership_set": _enrol}


@pytest.mark.parametrize("write", INSTRUCTOR_WRITES)
@pytest.mark.parametrize("who", ["student", "teaching_assistant"])
def test_a_student_or_teaching_assistant_may_not_do_an_instructors_write(
    request, write, who, course, session12
):
    with pytest.raises(PermissionDeniedError):
        INSTRUCTOR_WRITES[write](request.getfixturevalue(who), course, session12)


@pytest.mark.parametrize("write", INSTRUCTOR_WRITES)
def test_a_non_member_gets_not_found(write, other_student, course, session12):
    with pytest.raises(NotFoundError):
        INSTRUCTOR_WRITES[write](other_student, course, session12)


@pytest.mark.parametrize("write", INSTRUCTOR_WRITES)
@pytest.mark.parametrize("who", ["instructor", "system"])
def test_an_instructor_or_system_may(write, who, instructor, course, session12):
    actor = instructor if who == "instructor" else SYSTEM
    assert INSTRUCTOR_WRITES[write](actor, course, session12) is not None


@pytest.mark.parametrize("who", ["student", "teaching_assistant"])
def test_a_student_or_teaching_assistant_may_not_import_a_deck(
    request, who, course, seed_deck_source
):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDeniedError):
        services.session_import_deck(actor=actor, course=course, source=seed_deck_source)
    assert not course.sessions.exists()


def test_a_teaching_assistant_does_not_tick_homework(teaching_assistant, session12):
    with pytest.raises(PermissionDeniedError):
        services.homework_completion_set(
            actor=teaching_assistant, task=_first_task(session12), done=True
        )
    assert not HomeworkCompletion.objects.exists()


@pytest.mark.parametrize("who", ["instructor", "teaching_assistant"])
def test_the_teaching_staff_see_who_ticked_homework(request, who, student, session12):
    task = _first_task(session12)
    services.homework_completion_set(actor=student, task=task, done=True)

    ticks = selectors.homework_completion_list(user=request.getfixturevalue(who), task=task)

    assert [c.student for c in ticks] == [student]


def test_a_student_does_not_see_who_ticked_homework(student, session12):
    with pytest.raises(PermissionDeniedError):
        selectors.homework_completion_list(user=student, task=_first_task(session12))


def test_an_instructor_may_import_a_deck(instructor, course, seed_deck_source):
    result = services.session_import_deck(actor=instructor, course=course, source=seed_deck_source)
    assert result.created


# --- Courses ---------------------------------------------------------------------------------


def test_a_course_instructor_may_not_create_courses(instructor):
    with pytest.raises(PermissionDeniedError):
        services.course_create(actor=instructor, code="NEW101", title="New")


@pytest.mark.parametrize("who", ["staff", "system"])
def test_staff_or_system_create_courses(db, who):
    actor = SYSTEM if who == "system" else UserFactory(is_staff=True)
    assert services.course_create(actor=actor, code="NEW101", title="New").code == "NEW101"


# --- Acting for oneself ----------------------------------------------------------------------


def test_a_student_ticks_their_own_homework(student, session12):
    assert services.homework_completion_set(actor=student, task=_first_task(session12), done=True)
    assert HomeworkCompletion.objects.filter(student=student).count() == 1


def test_nobody_ticks_homework_for_another_student(student, course, session12):
    classmate = UserFactory()
    services.membership_set(
        actor=SYSTEM, course=course, user=classmate, role=Membership.Role.STUDENT
    )
    with pytest.raises(PermissionDeniedError):
        services.homework_completion_set(
            actor=student, task=_first_task(session12), student=classmate, done=True
        )
    assert not HomeworkCompletion.objects.exists()


def test_system_ticks_homework_for_a_student(student, session12):
    services.homework_completion_set(
        actor=SYSTEM, task=_first_task(session12), student=student, done=True
    )
    assert HomeworkCompletion.objects.filter(student=student).count() == 1


def test_system_has_no_api_token(db):
    with pytest.raises(ApplicationError) as excinfo:
        services.api_token_create(actor=SYSTEM)
    assert excinfo.value.code == "no_person"


# --- Views never check -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    sorted(
        str(path.relative_to(ROOT))
        for package in ("courseware/views", "courseware/api")
        for path in (ROOT / package).glob("*.py")
    ),
)
def test_views_and_api_views_never_call_a_role_check(module):
    checks = {name for name in vars(permissions) if name.startswith("require_")}
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    calls = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id in checks)
        or (isinstance(node, ast.Attribute) and node.attr in checks)
        or (isinstance(node, ast.alias) and node.name in checks)
    ]
    assert calls == [], f"{module} checks roles itself at lines {calls}: move it to a service"
