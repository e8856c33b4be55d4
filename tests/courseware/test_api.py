"""The `/api/v1/` courseware API: who may call what, and what each endpoint returns."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from courseware import services
from courseware.api import TokenObtainThrottle
from courseware.models import HomeworkCompletion, Membership
from tests.factories import PASSWORD, CourseFactory, MembershipFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTE = "Pause here and ask who has used a pipeline before."


def url(name: str, **kwargs) -> str:
    return reverse(f"courseware_api:{name}", kwargs=kwargs)


def token_client(user) -> APIClient:
    """A client that authenticates the way the student client does: a token header."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.api_token_create(actor=user).key}")
    return client


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code
    assert body["message"]


@pytest.fixture(autouse=True)
def _fresh_token_throttle():
    throttle = TokenObtainThrottle()
    cache.delete(throttle.cache_format % {"scope": throttle.scope, "ident": "127.0.0.1"})


@pytest.fixture
def task(session12):
    return session12.homework.get(position=1)


@pytest.fixture
def endpoints(course, session12, task) -> dict[str, tuple[str, str]]:
    """operation id → (method, path) for every endpoint that needs authentication."""
    return {
        "courses_list": ("get", url("course-list")),
        "courses_retrieve": ("get", url("course-detail", code=course.code)),
        "sessions_list": ("get", url("session-list", code=course.code)),
        "sessions_retrieve": ("get", url("session-detail", code=course.code, number=12)),
        "homework_completion_set": ("put", url("homework-completion", task_id=task.pk)),
        "homework_completion_unset": ("delete", url("homework-completion", task_id=task.pk)),
        "homework_completions_list": ("get", url("homework-completion-list", task_id=task.pk)),
    }


# --- Who may call what ----------------------------------------------------------------------

#: operation id → expected status for (student, instructor, student of another course).
ACCESS = {
    "courses_list": (200, 200, 200),
    "courses_retrieve": (200, 200, 404),
    "sessions_list": (200, 200, 404),
    "sessions_retrieve": (200, 200, 404),
    "homework_completion_set": (200, 403, 404),
    "homework_completion_unset": (200, 403, 404),
    "homework_completions_list": (403, 200, 404),
}
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


@pytest.mark.parametrize("operation", ACCESS)
def test_anonymous_gets_401_with_a_token_challenge(operation, endpoints):
    method, path = endpoints[operation]

    response = getattr(APIClient(), method)(path)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


@pytest.mark.parametrize(
    ("operation", "who"),
    [(op, who) for op in ACCESS for who in ("student", "instructor", "other_student")],
)
def test_each_role_gets_the_expected_status(operation, who, endpoints, request):
    method, path = endpoints[operation]
    user = request.getfixturevalue(who)
    expected = ACCESS[operation][("student", "instructor", "other_student").index(who)]

    response = getattr(token_client(user), method)(path)

    if expected >= 400:
        assert_error(response, expected, ERROR_CODES[expected])
    else:
        assert response.status_code == expected, response.content


def test_a_non_member_cannot_tell_a_hidden_course_from_a_missing_one(other_student, course):
    client = token_client(other_student)

    hidden = client.get(url("course-detail", code=course.code))
    missing = client.get(url("course-detail", code="NOPE999"))

    assert_error(hidden, 404, "not_found")
    assert_error(missing, 404, "not_found")


def test_a_non_member_cannot_tell_a_hidden_task_from_a_missing_one(other_student, task):
    client = token_client(other_student)

    hidden = client.put(url("homework-completion", task_id=task.pk))
    missing = client.put(url("homework-completion", task_id=task.pk + 1000))

    assert_error(hidden, 404, "not_found")
    assert_error(missing, 404, "not_found")
    assert hidden.json()["message"] == f"No homework task {task.pk}."
    assert not HomeworkCompletion.objects.exists()


# --- Authentication -------------------------------------------------------------------------


def test_a_token_header_authenticates(student):
    token = services.api_token_create(actor=student)
    client = APIClient()

    response = client.get(url("course-list"), HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert [c["code"] for c in response.json()["results"]] == ["ICTSS00120"]


def test_a_revoked_token_is_rejected(student):
    client = token_client(student)
    services.api_token_revoke(actor=student)

    response = client.get(url("course-list"))

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_a_replaced_token_stops_working_and_the_new_one_works(student):
    old = services.api_token_create(actor=student)
    new = services.api_token_create(actor=student)
    client = APIClient()

    old_response = client.get(url("course-list"), HTTP_AUTHORIZATION=f"Token {old.key}")
    new_response = client.get(url("course-list"), HTTP_AUTHORIZATION=f"Token {new.key}")

    assert_error(old_response, 401, "authentication_failed")
    assert new_response.status_code == 200


def test_a_portal_session_authenticates(student):
    client = APIClient()
    # Through the login page: django-axes needs the request that client.login() does not pass.
    login = client.post("/accounts/login/", {"username": student.username, "password": PASSWORD})
    assert login.status_code == 302

    response = client.get(url("course-detail", code="ICTSS00120"))

    assert response.status_code == 200
    assert response.json()["role"] == "student"


def test_a_session_authenticated_write_needs_the_csrf_token(student, task):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(student)
    path = url("homework-completion", task_id=task.pk)

    without = client.put(path)
    client.cookies["csrftoken"] = "a" * 32
    with_token = client.put(path, HTTP_X_CSRFTOKEN="a" * 32)

    assert_error(without, 403, "permission_denied")
    assert "CSRF" in without.json()["message"]
    assert with_token.status_code == 200


def test_a_token_authenticated_write_needs_no_csrf_token(student, task):
    client = token_client(student)
    client.handler.enforce_csrf_checks = True

    response = client.put(url("homework-completion", task_id=task.pk))

    assert response.status_code == 200


# --- Courses --------------------------------------------------------------------------------


def test_course_list_shows_my_courses_with_my_role_and_session_count(student, session12):
    SessionFactory(course=session12.course, number=13)
    CourseFactory(code="NOTMINE1")

    response = token_client(student).get(url("course-list"))

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "code": "ICTSS00120",
                "term": "",
                "slug": "ICTSS00120",
                "title": "Artificial Intelligence Skill Set",
                "role": "student",
                "session_count": 2,
                "url": "http://testserver/api/v1/courses/ICTSS00120/",
            }
        ],
    }


def test_course_list_is_paginated_by_code():
    user = UserFactory()
    for code in ("CRS-C", "CRS-A", "CRS-B"):
        MembershipFactory(user=user, course=CourseFactory(code=code))
    client = token_client(user)

    first = client.get(url("course-list"), {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == 3
    assert [c["code"] for c in first["results"]] == ["CRS-A", "CRS-B"]
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/courses/?page=2&page_size=2"
    assert [c["code"] for c in second["results"]] == ["CRS-C"]
    assert second["next"] is None
    assert second["previous"] is not None


def test_a_page_past_the_end_is_not_found(student):
    response = token_client(student).get(url("course-list"), {"page": 9})

    assert_error(response, 404, "not_found")


def test_course_detail_gives_my_role_and_a_link_to_the_sessions(instructor, session12):
    response = token_client(instructor).get(url("course-detail", code="ictss00120"))

    assert response.status_code == 200
    assert response.json() == {
        "code": "ICTSS00120",
        "term": "",
        "slug": "ICTSS00120",
        "title": "Artificial Intelligence Skill Set",
        "state": "published",
        "starts_on": None,
        "ends_on": None,
        "role": "instructor",
        "session_count": 1,
        "sessions_url": "http://testserver/api/v1/courses/ICTSS00120/sessions/",
    }


# --- Sessions -------------------------------------------------------------------------------


def test_session_list_counts_objectives_and_homework(student, session12, course):
    SessionFactory(course=course, number=3, title="Tokenisers", lecturer="")

    response = token_client(student).get(url("session-list", code=course.code))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"] == [
        {
            "number": 3,
            "title": "Tokenisers",
            "date": None,
            "lecturer": "",
            "objective_count": 0,
            "homework_count": 0,
            "url": "http://testserver/api/v1/courses/ICTSS00120/sessions/3/",
        },
        {
            "number": 12,
            "title": "Introduction to Transformers",
            "date": None,
            "lecturer": session12.lecturer,
            "objective_count": 2,
            "homework_count": 2,
            "url": "http://testserver/api/v1/courses/ICTSS00120/sessions/12/",
        },
    ]


@pytest.fixture
def session_with_notes(session12):
    session12.homework_intro = "Before next week:"
    session12.speaker_notes = [{"slide": 1, "text": NOTE}]
    session12.save()
    return session12


def test_a_student_gets_the_session_without_speaker_notes(student, session_with_notes, course):
    response = token_client(student).get(url("session-detail", code=course.code, number=12))

    assert response.status_code == 200
    body = response.json()
    assert "speaker_notes" not in body
    assert NOTE not in response.content.decode()
    assert body["number"] == 12
    assert body["title"] == "Introduction to Transformers"
    assert body["homework_intro"] == "Before next week:"
    assert body["slide_count"] == 1
    assert body["slides_html"] == session_with_notes.slides_html
    assert [(o["position"], o["text"]) for o in body["objectives"]] == [
        (1, "Understand attention."),
        (2, "Use pipeline()."),
    ]
    assert [(h["position"], h["text"], h["completed"]) for h in body["homework"]] == [
        (1, "Review the concepts.", False),
        (2, "Explore the Hub.", False),
    ]
    assert set(body["homework"][0]) == {"id", "position", "text", "due_at", "completed"}


def test_an_instructor_gets_the_speaker_notes_and_no_completion_state(
    instructor, session_with_notes, course
):
    response = token_client(instructor).get(url("session-detail", code=course.code, number=12))

    assert response.status_code == 200
    body = response.json()
    assert body["speaker_notes"] == [{"slide": 1, "text": NOTE}]
    assert [h["completed"] for h in body["homework"]] == [None, None]


def test_completed_shows_only_my_own_ticks(student, session12, course):
    first, second = session12.homework.order_by("position")
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    services.homework_completion_set(actor=classmate, task=first, done=True)
    services.homework_completion_set(actor=student, task=second, done=True)

    response = token_client(student).get(url("session-detail", code=course.code, number=12))

    assert {h["id"]: h["completed"] for h in response.json()["homework"]} == {
        first.pk: False,
        second.pk: True,
    }


def test_a_missing_session_is_not_found(student, course):
    response = token_client(student).get(url("session-detail", code=course.code, number=99))

    assert_error(response, 404, "not_found")


# --- Homework ticks -------------------------------------------------------------------------


def test_put_ticks_a_task_and_is_idempotent(student, task):
    client = token_client(student)
    path = url("homework-completion", task_id=task.pk)

    responses = [client.put(path), client.put(path)]

    for response in responses:
        assert response.status_code == 200
        assert response.json() == {"task_id": task.pk, "completed": True}
    assert HomeworkCompletion.objects.filter(task=task, student=student).count() == 1


def test_delete_unticks_a_task_and_is_idempotent(student, task):
    services.homework_completion_set(actor=student, task=task, done=True)
    client = token_client(student)
    path = url("homework-completion", task_id=task.pk)

    responses = [client.delete(path), client.delete(path)]

    for response in responses:
        assert response.status_code == 200
        assert response.json() == {"task_id": task.pk, "completed": False}
    assert not HomeworkCompletion.objects.filter(task=task).exists()


def test_unticking_leaves_classmates_ticks_alone(student, task, course):
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    services.homework_completion_set(actor=classmate, task=task, done=True)
    services.homework_completion_set(actor=student, task=task, done=True)

    token_client(student).delete(url("homework-completion", task_id=task.pk))

    assert list(HomeworkCompletion.objects.values_list("student", flat=True)) == [classmate.pk]


def test_an_instructor_cannot_tick_homework(instructor, task):
    response = token_client(instructor).put(url("homework-completion", task_id=task.pk))

    assert_error(response, 403, "permission_denied")
    assert not HomeworkCompletion.objects.exists()


def test_the_tick_shows_up_in_the_session(student, task, course):
    client = token_client(student)

    client.put(url("homework-completion", task_id=task.pk))
    session = client.get(url("session-detail", code=course.code, number=12)).json()

    assert [h["completed"] for h in session["homework"]] == [True, False]


def test_instructors_see_who_ticked_a_task(instructor, task, course):
    ada = MembershipFactory(
        course=course, user=UserFactory(username="ada", first_name="Ada", last_name="Lovelace")
    ).user
    bob = MembershipFactory(
        course=course, user=UserFactory(username="bob", first_name="", last_name="")
    ).user
    MembershipFactory(course=course)  # a student who has not ticked it
    services.homework_completion_set(actor=ada, task=task, done=True)
    services.homework_completion_set(actor=bob, task=task, done=True)
    other_task = task.session.homework.get(position=2)
    services.homework_completion_set(actor=ada, task=other_task, done=True)

    response = token_client(instructor).get(url("homework-completion-list", task_id=task.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [c["username"] for c in body["results"]] == ["ada", "bob"]  # earliest first
    completions = {c["username"]: c for c in body["results"]}
    assert {u: c["display_name"] for u, c in completions.items()} == {
        "ada": "Ada Lovelace",
        "bob": "bob",
    }
    stored = HomeworkCompletion.objects.get(task=task, student=ada).created_at
    assert completions["ada"]["completed_at"] == stored.isoformat().replace("+00:00", "Z")


def test_students_cannot_list_who_ticked_a_task(student, task):
    response = token_client(student).get(url("homework-completion-list", task_id=task.pk))

    assert_error(response, 403, "permission_denied")


# --- API tokens -----------------------------------------------------------------------------


def test_a_username_and_password_get_a_working_token(student):
    client = APIClient()

    response = client.post(
        url("token-obtain"),
        {"username": student.username, "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    key = response.json()["token"]
    courses = client.get(url("course-list"), HTTP_AUTHORIZATION=f"Token {key}")
    assert courses.status_code == 200


def test_asking_again_returns_the_same_token(student):
    existing = services.api_token_create(actor=student)
    credentials = {"username": student.username, "password": PASSWORD}

    keys = [
        APIClient().post(url("token-obtain"), credentials, format="json").json()["token"]
        for _ in range(2)
    ]

    assert keys == [existing.key, existing.key]


def test_form_encoded_credentials_work_too(student):
    response = APIClient().post(
        url("token-obtain"), {"username": student.username, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert response.json()["token"]


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"password": "wrong password"}, id="wrong-password"),
        pytest.param({"username": "nobody"}, id="unknown-user"),
        pytest.param({"password": f" {PASSWORD}"}, id="password-with-a-space"),
    ],
)
def test_bad_credentials_get_invalid_credentials(student, credentials):
    body = {"username": student.username, "password": PASSWORD, **credentials}

    response = APIClient().post(url("token-obtain"), body, format="json")

    assert_error(response, 400, "invalid_credentials")
    assert response.json()["message"] == "Unable to log in with the username and password given."


def test_an_inactive_user_gets_no_token(student):
    student.is_active = False
    student.save()

    response = APIClient().post(
        url("token-obtain"),
        {"username": student.username, "password": PASSWORD},
        format="json",
    )

    assert_error(response, 400, "invalid_credentials")


def test_missing_credentials_are_invalid_input_with_fields(db):
    response = APIClient().post(url("token-obtain"), {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "invalid_input"
    assert set(body["fields"]) == {"username", "password"}


def test_password_guessing_is_throttled(student):
    # Guesses across usernames: for one username the login lockout comes first (after
    # LOGIN_FAILURE_LIMIT failures; tests/core/test_login_lockout.py).
    client = APIClient()

    def guess(i: int):
        username = f"{student.username}{i}"
        return client.post(
            url("token-obtain"), {"username": username, "password": "guess"}, format="json"
        )

    statuses = [guess(i).status_code for i in range(10)]
    throttled = guess(10)

    assert statuses == [400] * 10
    assert_error(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0


def test_the_token_endpoint_only_accepts_post(db):
    response = APIClient().get(url("token-obtain"))

    assert_error(response, 405, "method_not_allowed")
