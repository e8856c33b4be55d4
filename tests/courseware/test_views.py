"""Portal views: the role matrix for every URL, page content, HTMX homework toggle, deck
import and API token pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.actors import SYSTEM
from courseware import selectors, services
from courseware.models import HomeworkCompletion, HomeworkTask, Membership, Session
from tests.conftest import FIXTURES
from tests.factories import (
    PASSWORD,
    CourseFactory,
    HomeworkTaskFactory,
    MembershipFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client_for(request, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


def _task(session: Session, position: int = 1) -> HomeworkTask:
    return session.homework.get(position=position)


def _upload(source: str | bytes, name: str = "session-12.md") -> SimpleUploadedFile:
    data = source.encode("utf-8") if isinstance(source, str) else source
    return SimpleUploadedFile(name, data, content_type="text/markdown")


# --- Role matrix ---------------------------------------------------------------------------

ROLES = ["anonymous", "other_student", "student", "teaching_assistant", "instructor"]


def _request(client: Client, method: str, url: str, data: dict | None = None):
    return getattr(client, method)(url, data or {})


@pytest.mark.parametrize(
    ("who", "expected"),
    list(zip(ROLES, [302, 200, 200, 200, 200], strict=True)),
)
def test_home_matrix(request, course, session12, who, expected):
    request.getfixturevalue("instructor")
    response = _client_for(request, who).get(reverse("home"))
    assert response.status_code == expected


CASES = {
    # name: (method, url builder, data builder, expected codes per ROLES)
    "course-detail": (
        "get",
        lambda s: reverse("course-detail", args=[s.course.code]),
        None,
        [302, 404, 200, 200, 200],
    ),
    "session-detail": (
        "get",
        lambda s: reverse("session-detail", args=[s.course.code, 12]),
        None,
        [302, 404, 200, 200, 200],
    ),
    "deck-import-get": (
        "get",
        lambda s: reverse("deck-import", args=[s.course.code]),
        None,
        [302, 404, 403, 403, 200],
    ),
    "deck-import-post": (
        "post",
        lambda s: reverse("deck-import", args=[s.course.code]),
        lambda s: {"deck_file": _upload("# nothing")},
        [302, 404, 403, 403, 400],
    ),
    "homework-toggle": (
        "post",
        lambda s: reverse("homework-toggle", args=[_task(s).pk]),
        lambda s: {"done": "1"},
        [302, 404, 302, 403, 403],
    ),
    "homework-due": (
        "post",
        lambda s: reverse("homework-due", args=[_task(s).pk]),
        lambda s: {f"task-{_task(s).pk}-due_at": "2030-05-01T09:00"},
        [302, 404, 403, 403, 302],
    ),
    "deck-import-confirm": (
        "post",
        lambda s: reverse("deck-import", args=[s.course.code]),
        lambda s: {"source": "---\nmarp: true\n---\n"},
        [302, 404, 403, 403, 400],
    ),
    "account-token-get": (
        "get",
        lambda s: reverse("account-token"),
        None,
        [302, 200, 200, 200, 200],
    ),
    "account-token-post": (
        "post",
        lambda s: reverse("account-token"),
        lambda s: {"action": "revoke"},
        [302, 302, 302, 302, 302],
    ),
}


@pytest.mark.parametrize("who_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("case", list(CASES))
def test_permission_matrix(
    request, course, session12, instructor, teaching_assistant, student, case, who_index
):
    method, url_for, data_for, codes = CASES[case]
    who = ROLES[who_index]
    client = _client_for(request, who)
    response = _request(
        client, method, url_for(session12), data_for(session12) if data_for else None
    )
    assert response.status_code == codes[who_index], response.content[:500]
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))


def test_non_member_gets_404_not_403_on_instructor_pages(client, session12, other_student):
    client.force_login(other_student)
    response = client.get(reverse("deck-import", args=[session12.course.code]))
    assert response.status_code == 404
    assert b"ICTSS00120" in response.content  # the error page names what was not found


def test_unknown_course_and_session_are_404(client, student, session12):
    client.force_login(student)
    assert client.get(reverse("course-detail", args=["NOPE999"])).status_code == 404
    assert client.get(reverse("session-detail", args=["ICTSS00120", 99])).status_code == 404
    assert client.post(reverse("homework-toggle", args=[999999]), {"done": "1"}).status_code == 404


def test_course_code_is_case_insensitive(client, student, session12):
    client.force_login(student)
    assert client.get(reverse("course-detail", args=["ictss00120"])).status_code == 200


def test_login_page_and_logout(client, student):
    assert client.get(reverse("login")).status_code == 200
    client.force_login(student)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_login_form_logs_in(client, student):
    response = client.post(reverse("login"), {"username": student.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


# --- Content -------------------------------------------------------------------------------


def test_home_lists_courses_and_upcoming_homework(client, course, student, session12):
    other = CourseFactory(code="ML200", title="Machine Learning Ops")
    MembershipFactory(course=other, user=student, role=Membership.Role.INSTRUCTOR)
    overdue = _task(session12, 1)
    services.homework_due_set(actor=SYSTEM, task=overdue, due_at=timezone.now() - timedelta(days=1))
    services.homework_completion_set(actor=student, task=_task(session12, 2), done=True)
    client.force_login(student)

    html = client.get(reverse("home")).content.decode()

    assert "ICTSS00120" in html and "Artificial Intelligence Skill Set" in html
    assert "ML200" in html and "Instructor" in html and "Student" in html
    assert "Upcoming homework" in html
    assert "Review the concepts." in html
    assert "Overdue" in html
    assert "Explore the Hub." not in html  # done already
    assert reverse("session-detail", args=["ICTSS00120", 12]) in html


def test_home_lists_dated_homework_soonest_first_then_undated(client, student, session12):
    sooner = HomeworkTaskFactory(session=session12, position=3, text="Read chapter 9.")
    later, undated = _task(session12, 1), _task(session12, 2)
    services.homework_due_set(actor=SYSTEM, task=later, due_at=timezone.now() + timedelta(days=5))
    services.homework_due_set(actor=SYSTEM, task=sooner, due_at=timezone.now() + timedelta(days=1))
    client.force_login(student)

    html = client.get(reverse("home")).content.decode()

    positions = [html.index(task.text) for task in (sooner, later, undated)]
    assert positions == sorted(positions)


def test_upcoming_homework_puts_undated_last_on_every_database(student):
    # PostgreSQL sorts NULLs last by default but SQLite (`make run`) sorts them first, so the
    # order has to say NULLS LAST itself rather than rely on the database.
    sql = str(selectors.homework_upcoming(user=student).query)
    assert '"due_at" ASC NULLS LAST' in sql


def test_home_without_due_date_says_so(client, student, session12):
    client.force_login(student)
    assert "No due date" in client.get(reverse("home")).content.decode()


def test_home_for_instructor_has_no_homework_section(client, instructor, session12):
    client.force_login(instructor)
    assert "Upcoming homework" not in client.get(reverse("home")).content.decode()


def test_course_page_student_sees_sessions_and_progress_but_no_grid(client, student, session12):
    services.homework_completion_set(actor=student, task=_task(session12, 1), done=True)
    client.force_login(student)
    html = client.get(reverse("course-detail", args=["ICTSS00120"])).content.decode()
    assert "Introduction to Transformers" in html
    assert "1/2 done" in html
    assert "2 homework tasks" in html
    assert 'id="completion-grid"' not in html
    assert reverse("deck-import", args=["ICTSS00120"]) not in html


def test_course_page_instructor_sees_grid_and_import(client, instructor, student, session12):
    services.homework_completion_set(actor=student, task=_task(session12, 2), done=True)
    client.force_login(instructor)
    response = client.get(reverse("course-detail", args=["ICTSS00120"]))
    html = response.content.decode()
    assert 'id="completion-grid"' in html
    assert "S12.1" in html and "S12.2" in html
    assert "✓" in html
    assert "1/2" in html  # the student's done count
    assert reverse("deck-import", args=["ICTSS00120"]) in html
    assert response.context["grid"].task_totals == [0, 1]


def test_course_page_teaching_assistant_sees_grid_but_no_import(
    client, teaching_assistant, student, session12
):
    services.homework_completion_set(actor=student, task=_task(session12, 2), done=True)
    client.force_login(teaching_assistant)
    html = client.get(reverse("course-detail", args=["ICTSS00120"])).content.decode()
    assert 'id="completion-grid"' in html
    assert reverse("deck-import", args=["ICTSS00120"]) not in html


def test_session_page_teaching_assistant_sees_counts_and_notes_but_no_due_form(
    client, teaching_assistant, student, session12
):
    session12.speaker_notes = [{"slide": 1, "text": "Secret instructor hint"}]
    session12.save()
    services.homework_completion_set(actor=student, task=_task(session12, 1), done=True)
    client.force_login(teaching_assistant)
    html = client.get(reverse("session-detail", args=["ICTSS00120", 12])).content.decode()
    assert "1/1 done" in html
    assert "Secret instructor hint" in html
    assert 'type="checkbox"' not in html
    assert reverse("homework-due", args=[_task(session12).pk]) not in html


def test_session_page_for_student(client, student, session12):
    session12.speaker_notes = [{"slide": 1, "text": "Secret instructor hint"}]
    session12.save()
    client.force_login(student)
    html = client.get(reverse("session-detail", args=["ICTSS00120", 12])).content.decode()
    assert "Understand attention." in html and "Use pipeline()." in html
    assert html.count('type="checkbox"') == 2
    assert reverse("homework-toggle", args=[_task(session12).pk]) in html
    assert "Secret instructor hint" not in html
    assert "Speaker notes" not in html
    assert 'id="slide-1"' in html  # slides_html is rendered, not escaped
    assert reverse("homework-due", args=[_task(session12).pk]) not in html


def test_session_page_for_instructor(client, instructor, student, session12):
    session12.speaker_notes = [{"slide": 1, "text": "Secret instructor hint"}]
    session12.save()
    services.homework_completion_set(actor=student, task=_task(session12, 1), done=True)
    client.force_login(instructor)
    html = client.get(reverse("session-detail", args=["ICTSS00120", 12])).content.decode()
    assert "Secret instructor hint" in html
    assert 'type="checkbox"' not in html
    assert "1/1 done" in html and "0/1 done" in html
    assert reverse("homework-due", args=[_task(session12).pk]) in html


def test_session_page_renders_inline_markdown_safely(client, student, course):
    session = SessionFactory(course=course, number=3)
    HomeworkTaskFactory(session=session, position=1, text="**Read** <script>x()</script> it")
    client.force_login(student)
    html = client.get(reverse("session-detail", args=["ICTSS00120", 3])).content.decode()
    assert "<strong>Read</strong>" in html
    assert "<script>x()" not in html
    assert "&lt;script&gt;" in html


def test_session_page_shows_due_dates(client, student, session12):
    services.homework_due_set(
        actor=SYSTEM, task=_task(session12), due_at=timezone.now() + timedelta(days=3)
    )
    client.force_login(student)
    html = client.get(reverse("session-detail", args=["ICTSS00120", 12])).content.decode()
    assert "Due " in html and "No due date" in html
    assert "Overdue" not in html


# --- Homework toggle -----------------------------------------------------------------------


def test_htmx_toggle_creates_and_deletes_completion(client, student, session12):
    task = _task(session12, 2)
    url = reverse("homework-toggle", args=[task.pk])
    client.force_login(student)

    response = client.post(url, {"done": ["0", "1"]}, **HTMX)  # hidden 0 + ticked checkbox 1
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<li class="task is-done" id="task-{task.pk}"')
    assert "checked" in html and "<html" not in html
    assert HomeworkCompletion.objects.filter(task=task, student=student).count() == 1

    again = client.post(url, {"done": "1"}, **HTMX)  # idempotent
    assert again.status_code == 200
    assert HomeworkCompletion.objects.filter(task=task, student=student).count() == 1

    response = client.post(url, {"done": "0"}, **HTMX)
    assert response.status_code == 200
    assert "checked" not in response.content.decode()
    assert not HomeworkCompletion.objects.filter(task=task, student=student).exists()
    assert client.post(url, {"done": "0"}, **HTMX).status_code == 200


def test_plain_post_toggle_redirects_back(client, student, session12):
    task = _task(session12)
    client.force_login(student)
    response = client.post(reverse("homework-toggle", args=[task.pk]), {"done": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("session-detail", args=["ICTSS00120", 12])
    assert HomeworkCompletion.objects.filter(task=task, student=student).exists()


def test_toggle_rejects_bad_input(client, student, session12):
    client.force_login(student)
    url = reverse("homework-toggle", args=[_task(session12).pk])
    assert client.post(url, {"done": "yes"}).status_code == 400
    assert client.post(url, {}).status_code == 400
    assert client.get(url).status_code == 405
    assert not HomeworkCompletion.objects.exists()


def test_instructor_toggle_is_403_fragment_for_htmx(client, instructor, session12):
    client.force_login(instructor)
    response = client.post(
        reverse("homework-toggle", args=[_task(session12).pk]), {"done": "1"}, **HTMX
    )
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#htmx-errors"
    assert "Only students" in response.content.decode()
    assert not HomeworkCompletion.objects.exists()


def test_htmx_toggle_after_session_expired_redirects_to_login(client, session12):
    page = "http://testserver" + reverse("session-detail", args=["ICTSS00120", 12])
    response = client.post(
        reverse("homework-toggle", args=[_task(session12).pk]),
        {"done": "1"},
        HTTP_HX_CURRENT_URL=page,
        **HTMX,
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == reverse("login") + "?next=/courses/ICTSS00120/sessions/12/"
    assert not HomeworkCompletion.objects.exists()


def test_student_cannot_toggle_other_course_task(client, student, other_course):
    foreign = HomeworkTaskFactory(session=SessionFactory(course=other_course))
    client.force_login(student)
    response = client.post(reverse("homework-toggle", args=[foreign.pk]), {"done": "1"})
    assert response.status_code == 404
    assert not HomeworkCompletion.objects.exists()


# --- Due dates -----------------------------------------------------------------------------


def test_instructor_sets_and_clears_due_date(client, instructor, session12):
    task = _task(session12)
    url = reverse("homework-due", args=[task.pk])
    client.force_login(instructor)

    response = client.post(url, {f"task-{task.pk}-due_at": "2030-05-01T09:30"}, follow=True)
    task.refresh_from_db()
    assert task.due_at is not None and (task.due_at.year, task.due_at.hour) == (2030, 9)
    assert "Due date saved" in response.content.decode()

    client.post(url, {f"task-{task.pk}-due_at": ""})
    task.refresh_from_db()
    assert task.due_at is None


def test_bad_due_date_is_reported_and_not_saved(client, instructor, session12):
    task = _task(session12)
    client.force_login(instructor)
    response = client.post(
        reverse("homework-due", args=[task.pk]), {f"task-{task.pk}-due_at": "soon"}, follow=True
    )
    assert "Enter a valid date/time" in response.content.decode()
    task.refresh_from_db()
    assert task.due_at is None


# --- Deck import ---------------------------------------------------------------------------


def _preview(client: Client, source: str | bytes, name: str = "session-12-transformers.md"):
    return client.post(
        reverse("deck-import", args=["ICTSS00120"]), {"deck_file": _upload(source, name)}
    )


def test_deck_import_preview_then_confirm(client, instructor, seed_deck_source):
    client.force_login(instructor)

    preview = _preview(client, seed_deck_source)

    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Introduction to Transformers and Hugging Face" in html
    assert "Jordan Hill" in html
    assert "create a new session 12" in html
    assert "Understand the basic concepts of Transformer models." in html
    assert "Prepare questions for the guest lecture by Philipp Bayer." in html
    assert "Confirm import" in html
    assert 'name="source"' in html
    assert 'id="slide-1"' in html
    assert not Session.objects.exists()  # nothing written by the preview

    source = preview.context["confirm_form"].initial["source"]
    response = client.post(
        reverse("deck-import", args=["ICTSS00120"]),
        # Browsers send textarea line breaks as CRLF.
        {"source": source.replace("\n", "\r\n"), "filename": "session-12-transformers.md"},
        follow=True,
    )

    assert response.redirect_chain[-1] == (reverse("session-detail", args=["ICTSS00120", 12]), 302)
    session = Session.objects.get(number=12)
    assert session.title == "Introduction to Transformers and Hugging Face"
    assert session.deck_filename == "session-12-transformers.md"
    assert session.homework.count() == 4
    assert "Imported ICTSS00120 session 12" in response.content.decode()


def test_deck_reimport_preview_says_update_and_completions_kept(
    client, course, instructor, student, seed_deck_source
):
    session = services.session_import_deck(
        actor=SYSTEM, course=course, source=seed_deck_source
    ).session
    for task in session.homework.all():
        services.homework_completion_set(actor=student, task=task, done=True)
    client.force_login(instructor)

    two_tasks = (FIXTURES / "decks" / "session-12-two-tasks.md").read_text(encoding="utf-8")
    html = _preview(client, two_tasks).content.decode()

    assert "update existing session 12" in html
    assert "2 homework completion records will be kept" in html
    assert "2 tasks no longer in the deck will be removed, with 2 completion records" in html
    assert HomeworkCompletion.objects.count() == 4  # still nothing written


@pytest.mark.parametrize(
    ("fixture", "snippet"),
    [
        ("broken-no-title", "No session title found"),
        ("broken-empty", "is empty: upload a Marp markdown deck"),
        ("broken-yaml", "Line 3: The front matter is not valid YAML"),
        ("broken-date", "is not a valid date"),
        ("broken-title-without-number", "has no session number"),
    ],
)
def test_bad_deck_shows_error_and_writes_nothing(client, instructor, fixture, snippet):
    client.force_login(instructor)
    source = (FIXTURES / "decks" / f"{fixture}.md").read_text(encoding="utf-8")
    response = _preview(client, source, f"{fixture}.md")
    assert response.status_code == 400
    assert snippet in str(response.context["form"].errors["deck_file"][0])
    html = response.content.decode()
    assert 'id="deck-errors"' in html and snippet in html
    assert "Confirm import" not in html
    assert not Session.objects.exists()


def test_bad_deck_on_confirm_is_400_and_writes_nothing(client, instructor):
    client.force_login(instructor)
    response = client.post(
        reverse("deck-import", args=["ICTSS00120"]), {"source": "---\nmarp: true\n---\n# Hi\n"}
    )
    assert response.status_code == 400
    assert "Nothing was imported" in response.content.decode()
    assert not Session.objects.exists()


def test_non_utf8_deck_is_rejected_clearly(client, instructor, seed_deck_source):
    client.force_login(instructor)
    response = _preview(client, seed_deck_source.encode("utf-16"))
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()
    assert not Session.objects.exists()


def test_wrong_file_type_is_rejected(client, instructor, seed_deck_source):
    client.force_login(instructor)
    response = _preview(client, seed_deck_source, "slides.pdf")
    assert response.status_code == 400
    assert "not a markdown file" in response.content.decode()


def test_too_big_deck_is_rejected(client, instructor, settings):
    settings.DECK_MAX_BYTES = 1024
    client.force_login(instructor)
    response = _preview(client, "x" * 2048)
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    assert not Session.objects.exists()


def test_student_cannot_post_a_deck(client, student, seed_deck_source):
    client.force_login(student)
    response = client.post(
        reverse("deck-import", args=["ICTSS00120"]), {"source": seed_deck_source}
    )
    assert response.status_code == 403
    assert not Session.objects.exists()


# --- API token -----------------------------------------------------------------------------


def test_token_create_shows_key_once_and_replaces_old(client, student):
    client.force_login(student)
    url = reverse("account-token")
    assert "You have no API token" in client.get(url).content.decode()

    first = client.post(url, {"action": "create"})
    key1 = Token.objects.get(user=student).key
    html = first.content.decode()
    assert first.status_code == 200
    assert key1 in html
    assert f'curl -H "Authorization: Token {key1}" http://testserver/api/v1/courses/' in html
    assert "no-store" in first["Cache-Control"]

    shown = client.get(url).content.decode()
    assert key1 not in shown  # only the last 4 characters from now on
    assert key1[-4:] in shown

    client.post(url, {"action": "create"})
    key2 = Token.objects.get(user=student).key
    assert key2 != key1
    api = Client()
    assert api.get("/api/v1/courses/", HTTP_AUTHORIZATION=f"Token {key1}").status_code == 401
    assert api.get("/api/v1/courses/", HTTP_AUTHORIZATION=f"Token {key2}").status_code == 200


def test_token_revoke(client, student):
    services.api_token_create(actor=student)
    client.force_login(student)
    response = client.post(reverse("account-token"), {"action": "revoke"}, follow=True)
    assert not Token.objects.filter(user=student).exists()
    assert "Token revoked." in response.content.decode()
    assert "You have no API token" in response.content.decode()


def test_token_bad_action_is_400(client, student):
    client.force_login(student)
    assert client.post(reverse("account-token"), {"action": "steal"}).status_code == 400


@pytest.mark.parametrize(
    ("role", "labels"),
    [("student", ["My grades", "My objectives"]), ("instructor", ["Gradebook", "Mastery"])],
)
def test_the_course_page_links_grades_and_objectives(client, course, role, labels):
    from tests.factories import MembershipFactory

    user = MembershipFactory(course=course, role=role).user
    client.force_login(user)

    html = client.get(reverse("course-detail", args=[course.slug])).content.decode()

    assert f'href="{reverse("gradebook", args=[course.slug])}">{labels[0]}<' in html
    assert f'href="{reverse("gradebook-objectives", args=[course.slug])}">{labels[1]}<' in html
