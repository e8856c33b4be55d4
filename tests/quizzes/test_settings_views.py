"""Instructors' quiz pages: settings (create and edit, the review matrix), the quiz's
questions (add from the bank, add at random, remove) and per-student overrides; and the
feedback an attempt may show while it is answered, exactly as the "during" options allow."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.actors import SYSTEM
from core.exceptions import ApplicationError
from courseware.models import Membership
from quizzes import selectors, services
from quizzes.models import Attempt, Quiz, QuizOverride
from quizzes.review import OPTIONS, WINDOWS, default_review_options
from tests.factories import MembershipFactory
from tests.quizzes.conftest import essay, numerical, single_choice, true_false

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ["anonymous", "other_student", "student", "instructor"]


# --- Helpers and fixtures ------------------------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would post for the page's <form method="post"> with class
    `form_class`: inputs, ticked checkboxes, selected options and textareas."""

    def __init__(self, form_class: str) -> None:
        super().__init__()
        self.form_class = form_class
        self.data: dict[str, str] = {}
        self._in_form = self._done = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and self.form_class in (a.get("class") or "").split():
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            elif kind != "submit":
                self.data[name] = a.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def form_data(html: str, form_class: str = "quiz-settings-form") -> dict[str, str]:
    reader = _FormReader(form_class)
    reader.feed(html)
    return reader.data


def review_data(options: dict[str, dict[str, bool]]) -> dict[str, str]:
    return {
        f"review_{window}_{option}": "on"
        for window in WINDOWS
        for option in OPTIONS
        if options[window][option]
    }


def settings_data(review: dict | None = None, **changes) -> dict[str, str]:
    data = {
        "title": "Week 3 check",
        "intro": "Ten minutes on attention.",
        "visible": "on",
        "opens_at": "2026-03-10T09:00",
        "closes_at": "2026-03-17T17:30",
        "time_limit": "15",
        "attempts_allowed": "2",
        "grading_method": "highest",
        "pass_percentage": "50",
        "shuffle_answers": "on",
        **review_data(review or default_review_options()),
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def _client_for(request, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


def _display_id(attempt: Attempt, slot: int, text: str) -> int:
    question = attempt.questions.get(position=slot)
    answers = question.version.content["answers"]
    return next(k for k, i in enumerate(question.order["choices"]) if answers[i]["text"] == text)


@pytest.fixture
def new_quiz(make_quiz):
    def make(*contents, **fields):
        now = timezone.now()
        fields.setdefault("opens_at", now - timedelta(hours=1))
        fields.setdefault("closes_at", now + timedelta(days=1))
        return make_quiz(*contents, **fields)

    return make


@pytest.fixture
def open_quiz(new_quiz):
    return new_quiz(single_choice(), true_false(), essay(), marks=[1, 1, 2], pass_percentage=50)


@pytest.fixture
def bank(course):
    """Three more questions in two categories of the bank."""
    attention = services.question_category_get_or_create(course=course, path="Week 3/Attention")
    tokens = services.question_category_get_or_create(course=course, path="Week 3/Tokens")
    return {
        "heads": services.question_create(
            course=course, content=true_false(name="Attention heads"), category=attention
        ),
        "scale": services.question_create(
            course=course, content=numerical(name="Attention scale"), category=attention
        ),
        "bpe": services.question_create(
            course=course, content=single_choice(name="BPE merges"), category=tokens
        ),
    }


# --- Role matrix ---------------------------------------------------------------------------

CASES = {
    "quiz-create-get": ("get", lambda c: reverse("quiz-create", args=[c["code"]]), None, 200),
    "quiz-create-post": ("post", lambda c: reverse("quiz-create", args=[c["code"]]), {}, 400),
    "quiz-settings-get": ("get", lambda c: reverse("quiz-settings", args=[c["quiz"]]), None, 200),
    "quiz-settings-post": ("post", lambda c: reverse("quiz-settings", args=[c["quiz"]]), {}, 400),
    "quiz-questions": ("get", lambda c: reverse("quiz-questions", args=[c["quiz"]]), None, 200),
    "quiz-questions-add": (
        "post",
        lambda c: reverse("quiz-questions-add", args=[c["quiz"]]),
        {},
        302,
    ),
    "quiz-questions-random": (
        "post",
        lambda c: reverse("quiz-questions-random", args=[c["quiz"]]),
        {},
        302,
    ),
    "quiz-slot-remove": (
        "post",
        lambda c: reverse("quiz-slot-remove", args=[c["quiz"], c["slot"]]),
        None,
        302,
    ),
    "quiz-overrides-get": ("get", lambda c: reverse("quiz-overrides", args=[c["quiz"]]), None, 200),
    "quiz-overrides-post": (
        "post",
        lambda c: reverse("quiz-overrides", args=[c["quiz"]]),
        {},
        400,
    ),
    "quiz-override-clear": (
        "post",
        lambda c: reverse("quiz-override-clear", args=[c["quiz"], c["student"]]),
        None,
        302,
    ),
}


@pytest.mark.parametrize("who_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("case", list(CASES))
def test_permission_matrix(request, open_quiz, student, instructor, case, who_index):
    method, url_for, data, instructor_code = CASES[case]
    who = ROLES[who_index]
    context = {
        "code": open_quiz.session.course.code,
        "quiz": open_quiz.pk,
        "slot": open_quiz.slots.last().pk,
        "student": student.pk,
    }
    client = _client_for(request, who)

    response = getattr(client, method)(url_for(context), data or {})

    expected = [302, 404, 403, instructor_code][who_index]
    assert response.status_code == expected, response.content[:500]
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if who != "instructor":
        assert Quiz.objects.count() == 1 and open_quiz.slots.count() == 3


def test_links_for_instructors_only(client, open_quiz, instructor, student):
    code = open_quiz.session.course.code
    pages = {
        "settings": reverse("quiz-settings", args=[open_quiz.pk]),
        "questions": reverse("quiz-questions", args=[open_quiz.pk]),
        "overrides": reverse("quiz-overrides", args=[open_quiz.pk]),
        "new": reverse("quiz-create", args=[code]),
    }
    client.force_login(instructor)
    detail = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()
    listing = client.get(reverse("quiz-list", args=[code])).content.decode()
    client.force_login(student)
    student_detail = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()
    student_listing = client.get(reverse("quiz-list", args=[code])).content.decode()

    for name in ("settings", "questions", "overrides"):
        assert pages[name] in detail
        assert pages[name] not in student_detail
    assert pages["new"] in listing and "New quiz" in listing
    assert pages["new"] not in student_listing


# --- Creating and editing ------------------------------------------------------------------


def test_create_quiz_in_the_site_time_zone(client, course, session12, instructor, settings):
    settings.TIME_ZONE = "Europe/Rome"
    client.force_login(instructor)
    url = reverse("quiz-create", args=[course.code])
    page = client.get(url, {"session": "12"})
    options = default_review_options()
    options["during"]["correctness"] = True
    options["closed"]["right_answers"] = False

    response = client.post(
        url,
        settings_data(options, session=str(session12.pk), shuffle_questions="on"),
        follow=True,
    )

    assert f'<option value="{session12.pk}" selected>' in page.content.decode()
    assert "Dates and times are in Europe/Rome" in page.content.decode()
    quiz = Quiz.objects.get(title="Week 3 check")
    assert response.redirect_chain[0][0] == reverse("quiz-questions", args=[quiz.pk])
    assert "Created the quiz “Week 3 check”" in response.content.decode()
    assert quiz.session == session12
    assert quiz.intro == "Ten minutes on attention."
    assert quiz.opens_at == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Rome (CET)
    assert quiz.closes_at == datetime(2026, 3, 17, 16, 30, tzinfo=UTC)
    assert quiz.time_limit == timedelta(minutes=15)
    assert quiz.attempts_allowed == 2 and quiz.grading_method == "highest"
    assert quiz.pass_percentage == 50
    assert quiz.shuffle_questions and quiz.shuffle_answers and quiz.visible
    assert quiz.review_options == options

    settings_page = client.get(reverse("quiz-settings", args=[quiz.pk])).content.decode()
    assert 'value="2026-03-10T09:00"' in settings_page  # shown in the site's time zone


def test_create_without_limits(client, course, session12, instructor):
    client.force_login(instructor)
    data = settings_data(
        session=str(session12.pk),
        opens_at="",
        closes_at="",
        time_limit="",
        pass_percentage="",
        attempts_allowed="0",
        visible=None,
        shuffle_answers=None,
    )

    response = client.post(reverse("quiz-create", args=[course.code]), data)

    assert response.status_code == 302
    quiz = Quiz.objects.get()
    assert quiz.opens_at is None and quiz.closes_at is None and quiz.time_limit is None
    assert quiz.pass_percentage is None and quiz.attempts_allowed == 0
    assert not quiz.visible and not quiz.shuffle_answers


def test_create_needs_a_session_of_this_course(client, course, session12, instructor, new_quiz):
    from tests.factories import SessionFactory

    foreign = SessionFactory()
    client.force_login(instructor)

    response = client.post(
        reverse("quiz-create", args=[course.code]), settings_data(session=str(foreign.pk))
    )

    assert response.status_code == 400
    assert "field-session has-error" in response.content.decode()
    assert not Quiz.objects.exists()


def test_settings_form_round_trip(client, open_quiz, instructor):
    client.force_login(instructor)
    url = reverse("quiz-settings", args=[open_quiz.pk])
    before = Quiz.objects.get(pk=open_quiz.pk)

    untouched = client.post(url, form_data(client.get(url).content.decode()), follow=True)

    assert "Nothing changed." in untouched.content.decode()
    after = Quiz.objects.get(pk=open_quiz.pk)
    assert after.updated_at == before.updated_at

    data = form_data(client.get(url).content.decode())
    assert data["time_limit"] == "20" and data["title"] == open_quiz.title
    for window in WINDOWS:
        for option in OPTIONS:
            data.pop(f"review_{window}_{option}", None)
    data.update(
        review_during_feedback="on",
        review_immediately_marks="on",
        review_closed_right_answers="on",
        title="Renamed",
        grading_method="last",
        attempts_allowed="3",
    )
    saved = client.post(url, data, follow=True)

    assert saved.redirect_chain[0][0] == reverse("quiz-detail", args=[open_quiz.pk])
    assert "Saved the quiz settings." in saved.content.decode()
    quiz = Quiz.objects.get(pk=open_quiz.pk)
    expected = {w: dict.fromkeys(OPTIONS, False) for w in WINDOWS}
    expected["during"]["feedback"] = True
    expected["immediately"]["marks"] = True
    expected["closed"]["right_answers"] = True
    assert quiz.review_options == expected
    assert quiz.title == "Renamed" and quiz.grading_method == "last"
    assert quiz.attempts_allowed == 3
    assert quiz.opens_at == before.opens_at  # untouched: its seconds are kept
    # The page shows the matrix as saved.
    again = form_data(client.get(url).content.decode())
    ticked = {k for k in again if k.startswith("review_")}
    assert ticked == {
        "review_during_feedback",
        "review_immediately_marks",
        "review_closed_right_answers",
    }


def test_review_matrix_is_labelled(client, open_quiz, instructor):
    client.force_login(instructor)
    html = client.get(reverse("quiz-settings", args=[open_quiz.pk])).content.decode()

    assert 'id="review-matrix"' in html
    assert html.count('type="checkbox" name="review_') == 16
    for text in ("During the attempt", "Immediately after", "Later, while open", "After close"):
        assert text in html
    for text in ("Correctness", "Marks", "Feedback", "Right answers"):
        assert text in html
    assert "Within 2 minutes of submitting." in html
    assert '<span class="visually-hidden">Right answers: after close</span>' in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"opens_at": "2026-03-17T09:00", "closes_at": "2026-03-10T09:00"},
            "closes_at",
            "The quiz must close after it opens.",
        ),
        ({"time_limit": "0"}, "time_limit", "greater than or equal to 1"),
        ({"pass_percentage": "150"}, "pass_percentage", "less than or equal to 100"),
        ({"attempts_allowed": "-1"}, "attempts_allowed", "greater than or equal to 0"),
        ({"title": " "}, "title", "This field is required."),
        ({"grading_method": "best"}, "grading_method", "Select a valid choice."),
        ({"opens_at": "next tuesday"}, "opens_at", "Enter a valid date/time."),
    ],
)
def test_validation_errors_per_field(client, open_quiz, instructor, changes, field, message):
    client.force_login(instructor)
    before = Quiz.objects.get(pk=open_quiz.pk)

    response = client.post(reverse("quiz-settings", args=[open_quiz.pk]), settings_data(**changes))
    html = response.content.decode()

    assert response.status_code == 400
    assert "Not saved: fix the fields marked below." in html
    block = html.split(f'class="field field-{field} has-error')[1].split("</div>")[0]
    assert message in block
    assert Quiz.objects.get(pk=open_quiz.pk).updated_at == before.updated_at


@pytest.mark.parametrize(
    ("error", "field"),
    [
        (ApplicationError("invalid_time_limit", "A time limit must be positive."), "time_limit"),
        (
            ApplicationError("invalid", "Constraint “quiz_closes_after_opening” is violated."),
            "closes_at",
        ),
        (ApplicationError("invalid_review_options", "Unknown review window 'x'."), None),
    ],
)
def test_service_refusals_are_shown_on_the_form(
    client, open_quiz, instructor, monkeypatch, error, field
):
    def refuse(**kwargs):
        raise error

    monkeypatch.setattr(services, "quiz_update", refuse)
    client.force_login(instructor)

    response = client.post(
        reverse("quiz-settings", args=[open_quiz.pk]), settings_data(title="Changed")
    )
    html = response.content.decode()

    assert response.status_code == 400
    if field is None:
        assert error.message.replace("'", "&#x27;") in html.split('id="form-errors"')[1]
    else:
        block = html.split(f'class="field field-{field} has-error')[1].split("</div>")[0]
        expected = "The quiz must close after it opens." if error.code == "invalid" else ""
        assert (expected or error.message) in block


def test_create_shows_service_refusal(client, course, session12, instructor, monkeypatch):
    def refuse(**kwargs):
        raise ApplicationError("invalid", "Ensure this value is less than or equal to 100.")

    monkeypatch.setattr(services, "quiz_create", refuse)
    client.force_login(instructor)

    response = client.post(
        reverse("quiz-create", args=[course.code]), settings_data(session=str(session12.pk))
    )

    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 100." in response.content.decode()


def test_settings_warn_when_students_have_attempted(client, open_quiz, instructor, student):
    services.attempt_start(quiz=open_quiz, actor=student)
    client.force_login(instructor)

    html = client.get(reverse("quiz-settings", args=[open_quiz.pk])).content.decode()

    assert 'id="attempts-warning"' in html
    assert "Students have made 1 attempt at this quiz, 1 still in progress." in html


def test_cutting_attempts_short_needs_confirmation(client, open_quiz, instructor, student):
    attempt = services.attempt_start(
        quiz=open_quiz, actor=student, now=timezone.now() - timedelta(minutes=10)
    )
    client.force_login(instructor)
    url = reverse("quiz-settings", args=[open_quiz.pk])
    data = form_data(client.get(url).content.decode())
    data["time_limit"] = "5"

    refused = client.post(url, data)

    assert refused.status_code == 400
    assert "1 attempt in progress would be out of time at once" in refused.content.decode()
    assert 'name="confirm_cut_off"' in refused.content.decode()
    assert Quiz.objects.get(pk=open_quiz.pk).time_limit == timedelta(minutes=20)

    confirmed = client.post(url, {**data, "confirm_cut_off": "on"}, follow=True)

    html = confirmed.content.decode()
    assert "Saved the quiz settings." in html
    assert "1 attempt in progress got a new deadline; 1 of them ran out of time" in html
    assert Quiz.objects.get(pk=open_quiz.pk).time_limit == timedelta(minutes=5)
    attempt = selectors.attempt_get(user=student, attempt_id=attempt.pk)
    assert services.attempt_finalize_if_overdue(attempt=attempt) is True
    assert attempt.state == Attempt.State.FINISHED and attempt.auto_submitted


def test_longer_time_limit_moves_deadlines_without_asking(client, open_quiz, instructor, student):
    attempt = services.attempt_start(quiz=open_quiz, actor=student)
    client.force_login(instructor)
    url = reverse("quiz-settings", args=[open_quiz.pk])
    data = {**form_data(client.get(url).content.decode()), "time_limit": "30"}

    response = client.post(url, data, follow=True)

    assert "1 attempt in progress got a new deadline." in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.deadline == attempt.started_at + timedelta(minutes=30)


# --- Questions -----------------------------------------------------------------------------


def test_questions_page_lists_slots_and_the_bank(client, open_quiz, instructor, bank):
    client.force_login(instructor)
    url = reverse("quiz-questions", args=[open_quiz.pk])

    html = client.get(url).content.decode()
    attention = bank["heads"].category
    filtered = client.get(url, {"category": attention.pk}).content.decode()
    searched = client.get(url, {"q": "bpe"}).content.decode()
    nothing = client.get(url, {"q": "no such thing"}).content.decode()

    assert 'id="quiz-slots"' in html and html.count("slot-remove-form") == 3
    assert "Attention heads" in html and "BPE merges" in html
    assert html.count('class="badge">In the quiz</span>') == 3  # the quiz's own questions
    assert "Week 3/Attention (2 questions)" in html
    assert "Attention heads" in filtered and "Attention scale" in filtered
    assert "BPE merges" not in filtered
    assert "BPE merges" in searched and "Attention heads" not in searched
    assert 'id="bank-empty"' in nothing


def test_add_questions_from_the_bank(client, open_quiz, instructor, bank):
    client.force_login(instructor)
    first = open_quiz.slots.get(position=1).question_id
    category = bank["heads"].category

    response = client.post(
        reverse("quiz-questions-add", args=[open_quiz.pk]),
        {
            "questions": [bank["heads"].pk, bank["scale"].pk, first],
            "mark": "2",
            "category": category.pk,
        },
        follow=True,
    )
    html = response.content.decode()

    assert response.redirect_chain[0][0] == (
        reverse("quiz-questions", args=[open_quiz.pk]) + f"?category={category.pk}#bank"
    )
    assert "Added 2 questions to the quiz." in html
    assert "Left out 1 question already in the quiz." in html
    slots = list(open_quiz.slots.order_by("position"))
    assert [s.question_id for s in slots[3:]] == [bank["heads"].pk, bank["scale"].pk]
    assert [s.mark for s in slots[3:]] == [2, 2]


def test_add_uses_default_marks_and_needs_a_choice(client, open_quiz, instructor, bank):
    client.force_login(instructor)
    url = reverse("quiz-questions-add", args=[open_quiz.pk])

    nothing = client.post(url, {}, follow=True)
    added = client.post(url, {"questions": [bank["bpe"].pk]})

    assert "Nothing was added. Tick the questions to add." in nothing.content.decode()
    assert added.status_code == 302
    assert open_quiz.slots.get(position=4).mark == 1.0


def test_add_random_questions(client, open_quiz, instructor, bank):
    client.force_login(instructor)
    url = reverse("quiz-questions-random", args=[open_quiz.pk])
    week3 = bank["heads"].category.parent

    too_many = client.post(
        url, {"category": bank["heads"].category.pk, "count": "3", "mark": "1"}, follow=True
    )
    added = client.post(
        url,
        {"category": week3.pk, "count": "3", "include_subcategories": "on", "mark": "0.5"},
        follow=True,
    )

    assert "Nothing was added: Week 3/Attention has 2 questions" in too_many.content.decode()
    assert "Added 3 random questions from Week 3." in added.content.decode()
    random_slots = list(open_quiz.slots.filter(category__isnull=False))
    assert len(random_slots) == 3
    assert all(s.include_subcategories and s.mark == 0.5 for s in random_slots)
    assert "Random question (with subcategories)" in added.content.decode()


def test_remove_a_slot_renumbers(client, open_quiz, instructor):
    client.force_login(instructor)
    second = open_quiz.slots.get(position=2)

    response = client.post(reverse("quiz-slot-remove", args=[open_quiz.pk, second.pk]), follow=True)

    assert "Removed question 2 (“Sky”) from the quiz." in response.content.decode()
    assert list(open_quiz.slots.order_by("position").values_list("position", flat=True)) == [1, 2]
    assert not open_quiz.slots.filter(pk=second.pk).exists()


def test_slot_of_another_quiz_is_404(client, open_quiz, new_quiz, instructor):
    other = new_quiz(single_choice())
    client.force_login(instructor)

    response = client.post(reverse("quiz-slot-remove", args=[open_quiz.pk, other.slots.get().pk]))

    assert response.status_code == 404
    assert other.slots.count() == 1


def test_questions_are_locked_once_attempted(client, open_quiz, instructor, student, bank):
    services.attempt_start(quiz=open_quiz, actor=student)
    client.force_login(instructor)
    slot = open_quiz.slots.get(position=1)

    page = client.get(reverse("quiz-questions", args=[open_quiz.pk])).content.decode()
    removed = client.post(reverse("quiz-slot-remove", args=[open_quiz.pk, slot.pk]), follow=True)
    added = client.post(
        reverse("quiz-questions-add", args=[open_quiz.pk]),
        {"questions": [bank["heads"].pk]},
        follow=True,
    )

    assert 'id="locked-warning"' in page
    assert "slot-remove-form" not in page and 'id="bank"' not in page
    assert "“Capital” was not removed: Students have attempted this quiz" in (
        removed.content.decode()
    )
    assert "Nothing was added: Students have attempted this quiz" in added.content.decode()
    assert open_quiz.slots.count() == 3


def test_empty_bank_points_to_import(client, course, session12, instructor):
    quiz = services.quiz_create(actor=SYSTEM, session=session12, title="Empty")
    client.force_login(instructor)

    html = client.get(reverse("quiz-questions", args=[quiz.pk])).content.decode()

    assert "No questions yet" in html
    assert reverse("quiz-import", args=[course.code]) in html


# --- Overrides -----------------------------------------------------------------------------


def test_overrides_page_lists_every_student(client, open_quiz, instructor, student, course):
    classmate = MembershipFactory(course=course, role=Membership.Role.STUDENT).user
    services.quiz_override_set(
        actor=SYSTEM, quiz=open_quiz, student=classmate, extra_time=timedelta(minutes=10)
    )
    client.force_login(instructor)

    html = client.get(reverse("quiz-overrides", args=[open_quiz.pk])).content.decode()

    assert f'id="student-{student.pk}"' in html and f'id="student-{classmate.pk}"' in html
    assert f'id="student-{instructor.pk}"' not in html
    assert html.count('class="badge badge-override"') == 1
    assert "30 minutes" in html and "(+10 minutes)" in html
    assert reverse("quiz-override-clear", args=[open_quiz.pk, classmate.pk]) in html
    assert reverse("quiz-override-clear", args=[open_quiz.pk, student.pk]) not in html


def test_extra_attempts_let_a_student_start_again(client, new_quiz, instructor, student):
    quiz = new_quiz(single_choice(), attempts_allowed=1)
    attempt = services.attempt_start(quiz=quiz, actor=student)
    services.attempt_submit(attempt=attempt, actor=student)
    with pytest.raises(ApplicationError) as refused:
        services.attempt_start(quiz=quiz, actor=student)
    assert refused.value.code == "no_attempts_left"
    client.force_login(instructor)

    response = client.post(
        reverse("quiz-overrides", args=[quiz.pk]),
        {"student": str(student.pk), "extra_attempts": "1"},
        follow=True,
    )

    assert "Saved the override for" in response.content.decode()
    assert "1 of 2" in response.content.decode()
    second = services.attempt_start(quiz=quiz, actor=student)
    assert second.number == 2
    services.attempt_submit(attempt=second, actor=student)

    cleared = client.post(reverse("quiz-override-clear", args=[quiz.pk, student.pk]), follow=True)

    assert "Cleared the override for" in cleared.content.decode()
    assert not QuizOverride.objects.filter(quiz=quiz).exists()
    with pytest.raises(ApplicationError):
        services.attempt_start(quiz=quiz, actor=student)
    again = client.post(reverse("quiz-override-clear", args=[quiz.pk, student.pk]), follow=True)
    assert "had no override" in again.content.decode()


def test_extra_time_and_own_dates(client, open_quiz, instructor, student, settings):
    attempt = services.attempt_start(quiz=open_quiz, actor=student)
    client.force_login(instructor)
    closes = (timezone.localtime() + timedelta(days=3)).replace(second=0, microsecond=0)

    response = client.post(
        reverse("quiz-overrides", args=[open_quiz.pk]),
        {
            "student": str(student.pk),
            "closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
            "extra_time": "15",
        },
    )

    assert response.status_code == 302
    override = QuizOverride.objects.get(quiz=open_quiz, user=student)
    assert override.closes_at == closes and override.extra_time == timedelta(minutes=15)
    attempt.refresh_from_db()
    assert attempt.deadline == attempt.started_at + timedelta(minutes=35)
    assert selectors.quiz_access(quiz=open_quiz, user=student).closes_at == closes

    edit = client.get(reverse("quiz-overrides", args=[open_quiz.pk]), {"student": student.pk})
    data = form_data(edit.content.decode(), "override-form")
    assert data["student"] == str(student.pk)
    assert data["extra_time"] == "15"
    assert data["closes_at"] == closes.strftime("%Y-%m-%dT%H:%M")

    detail = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()
    assert 'id="quiz-overrides"' in detail and "+15 minutes" in detail
    client.force_login(student)
    mine = client.get(reverse("quiz-detail", args=[open_quiz.pk])).content.decode()
    assert 'id="quiz-overrides"' not in mine


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"opens_at": "2026-05-02T10:00", "closes_at": "2026-05-01T10:00"},
            "closes_at",
            "The close date must be after the open date.",
        ),
        # Only the open date is overridden, after the quiz's own close date: the service
        # compares the dates that would apply.
        ({"opens_at": "2099-01-01T10:00"}, "closes_at", "The close date must be after"),
        ({"extra_time": "-5"}, "extra_time", "greater than or equal to 0"),
        ({}, None, "Set a date, extra time or extra attempts"),
    ],
)
def test_override_validation(client, open_quiz, instructor, student, data, field, message):
    client.force_login(instructor)

    response = client.post(
        reverse("quiz-overrides", args=[open_quiz.pk]), {"student": str(student.pk), **data}
    )
    html = response.content.decode()

    assert response.status_code == 400
    if field is None:
        assert message in html.split('class="alert alert-error"')[1].split("</div>")[0]
    else:
        block = html.split(f'class="field field-{field} has-error')[1].split("</div>")[0]
        assert message in block
    assert not QuizOverride.objects.exists()


def test_override_only_for_students_of_the_course(
    client, open_quiz, instructor, other_student, course
):
    colleague = MembershipFactory(course=course, role=Membership.Role.INSTRUCTOR).user
    client.force_login(instructor)

    for user in (colleague, other_student):
        response = client.post(
            reverse("quiz-overrides", args=[open_quiz.pk]),
            {"student": str(user.pk), "extra_attempts": "1"},
        )
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    clear = client.post(reverse("quiz-override-clear", args=[open_quiz.pk, other_student.pk]))
    assert clear.status_code == 404
    assert not QuizOverride.objects.exists()


# --- Feedback during the attempt -----------------------------------------------------------


def _during(**shown) -> dict:
    options = default_review_options()
    options["during"] = {option: shown.get(option, False) for option in OPTIONS}
    return options


def _answer(client, attempt, slot, data):
    return client.post(
        reverse("quiz-answer-save", args=[attempt.pk, slot]), data, **HTMX
    ).content.decode()


def test_nothing_leaks_while_during_is_all_off(client, new_quiz, student):
    content = single_choice(general_feedback="Secret general feedback")
    quiz = new_quiz(content, true_false(), review_options=_during())
    attempt = services.attempt_start(quiz=quiz, actor=student)
    client.force_login(student)

    right = _answer(client, attempt, 1, {"q1-choice": _display_id(attempt, 1, "Rome")})
    wrong = _answer(client, attempt, 2, {"q2-value": "true"})
    page = client.get(reverse("quiz-attempt", args=[attempt.pk])).content.decode()

    for html in (right, wrong):
        assert "Saved" in html
        assert "hx-swap-oob" not in html and "live-box" not in html
        for secret in ("state-badge", "Correct", "Mark ", "Yes.", "Look up.", "Secret general"):
            assert secret not in html
        assert "right answer" not in html.lower()
    assert "live-box" not in page and "state-badge" not in page
    assert "Nothing is marked until you submit." in page
    for secret in ("Yes.", "Look up.", "Secret general", "The right answer"):
        assert secret not in page


def test_correctness_and_feedback_during_when_allowed(client, new_quiz, student):
    quiz = new_quiz(
        single_choice(general_feedback="About capitals."),
        review_options=_during(correctness=True, feedback=True),
    )
    attempt = services.attempt_start(quiz=quiz, actor=student)
    client.force_login(student)

    right = _answer(client, attempt, 1, {"q1-choice": _display_id(attempt, 1, "Rome")})
    wrong = _answer(client, attempt, 1, {"q1-choice": _display_id(attempt, 1, "Milan")})
    cleared = _answer(client, attempt, 1, {})

    assert 'id="live-1" hx-swap-oob="innerHTML"' in right
    assert "state-badge-correct" in right and "Yes." in right and "About capitals." in right
    assert "state-badge-incorrect" in wrong and "No, Rome." in wrong
    for html in (right, wrong):
        assert "Mark " not in html  # marks stay hidden
        assert "The right answer" not in html  # and so do the right answers
    assert re.search(r'id="live-1" hx-swap-oob="innerHTML">\s*</div>', cleared)  # removed
    assert attempt.questions.get(position=1).state == "pending"  # nothing stored as graded


def test_live_feedback_is_coloured_by_correctness_only_when_correctness_is_shown(
    client, new_quiz, student
):
    shown = new_quiz(single_choice(), review_options=_during(correctness=True, feedback=True))
    hidden = new_quiz(single_choice(), review_options=_during(feedback=True))
    client.force_login(student)

    htmls = {}
    for name, quiz in (("shown", shown), ("hidden", hidden)):
        attempt = services.attempt_start(quiz=quiz, actor=student)
        htmls[name] = (
            _answer(client, attempt, 1, {"q1-choice": _display_id(attempt, 1, "Rome")}),
            _answer(client, attempt, 1, {"q1-choice": _display_id(attempt, 1, "Milan")}),
        )

    right, wrong = htmls["shown"]
    assert '<div class="feedback feedback-correct">' in right  # green, not the amber warning
    assert '<div class="feedback feedback-incorrect">' in wrong
    for html in htmls["hidden"]:
        # The colour would give away what the hidden correctness says.
        assert '<div class="feedback">' in html and "feedback-correct" not in html
        assert "feedback-incorrect" not in html


def test_marks_and_right_answers_during_when_allowed(client, new_quiz, student):
    quiz = new_quiz(
        single_choice(), marks=[2], review_options=_during(marks=True, right_answers=True)
    )
    attempt = services.attempt_start(quiz=quiz, actor=student)
    client.force_login(student)

    html = _answer(client, attempt, 1, {"q1-choice": _display_id(attempt, 1, "Milan")})
    page = client.get(reverse("quiz-attempt", args=[attempt.pk])).content.decode()

    assert "Mark 0 out of 2" in html
    assert "The right answer is:</strong> Rome" in html
    assert "state-badge" not in html and "No, Rome." not in html
    # A reload shows the same, and only that.
    assert "Mark 0 out of 2" in page and "state-badge" not in page and "No, Rome." not in page
    assert "Each saved answer shows the feedback this quiz gives" in page
