"""The self-enrolment pages per role: the instructor's join-code settings, and /join/, where
a signed-in person joins with the code and a newcomer signs up with it. Sign-up answers the
same way whether or not the email has an account; wrong codes are throttled."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from core.actors import SYSTEM
from courseware.models import Membership
from courseware.services import enrolment
from courseware.services.enrolment import INVALID_CODE_MESSAGE
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
SITE = "https://coursebench.example.edu"
JOIN = "/join/"
LINK = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def _fresh_throttles(settings):
    settings.SITE_URL = SITE
    cache.clear()  # the throttles count in the cache, which tests do not roll back
    yield
    cache.clear()


@pytest.fixture
def ta(course):
    return MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT).user


@pytest.fixture
def open_course(course):
    enrolment.join_settings_update(
        actor=SYSTEM, course=course, enabled=True, email_domain="", section=""
    )
    course.refresh_from_db()
    return course


def as_user(client, user):
    if user is not None:
        client.force_login(user)
    return client


def enrolment_url(course) -> str:
    return reverse("course-enrolment", args=[course.slug])


def comparable(response) -> str:
    return re.sub(r"[A-Za-z0-9]{64}", "<csrf>", response.content.decode())


def emailed_link(prefix: str) -> str:
    for link in LINK.findall(mail.outbox[-1].body):
        path = link.removeprefix(SITE)
        if path.startswith(prefix):
            return path
    raise AssertionError(f"no {prefix} link in {mail.outbox[-1].body!r}")


def sign_up(client, code: str, email: str = "newbie@example.edu", **extra):
    data = {
        "code": code,
        "email": email,
        "first_name": "New",
        "last_name": "Student",
        "password": "a-long-enough-passphrase",
    }
    return client.post(JOIN, data, **extra)


# --- The instructor's page -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("other_student", 404), ("student", 403), ("ta", 403)],
)
def test_only_instructors_open_the_enrolment_page(request, client, open_course, who, status):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = as_user(client, user)

    page = client.get(enrolment_url(open_course))
    post = client.post(enrolment_url(open_course), {"action": "rotate"})

    assert page.status_code == post.status_code == status
    assert open_course.join_code not in page.content.decode()
    old = open_course.join_code
    open_course.refresh_from_db()
    assert open_course.join_code == old


def test_the_instructor_turns_it_on_and_sees_the_code_and_link_with_copy_buttons(
    client, course, instructor
):
    client.force_login(instructor)

    saved = client.post(
        enrolment_url(course),
        {"action": "settings", "enabled": "on", "email_domain": "example.edu", "section": "A"},
    )
    page = client.get(enrolment_url(course))

    assert saved.status_code == 302
    course.refresh_from_db()
    html = page.content.decode()
    assert course.join_enabled and course.join_email_domain == "example.edu"
    assert f'<code id="join-code" class="join-code">{course.join_code}</code>' in html
    assert f"{SITE}/join/?code={course.join_code}" in html
    assert 'data-copy="#join-code"' in html and 'data-copy="#join-link"' in html
    # The CSP forbids inline scripts: the copy buttons run from static/js/app.js.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_the_instructor_rotates_the_code(client, open_course, instructor):
    client.force_login(instructor)
    old = open_course.join_code

    response = client.post(enrolment_url(open_course), {"action": "rotate"}, follow=True)

    open_course.refresh_from_db()
    assert open_course.join_code != old
    html = response.content.decode()
    assert open_course.join_code in html and "the old one no longer works" in html


def test_a_bad_domain_is_refused_on_the_page(client, course, instructor):
    client.force_login(instructor)

    response = client.post(
        enrolment_url(course), {"action": "settings", "enabled": "on", "email_domain": "@@"}
    )

    assert response.status_code == 400
    assert "is not an email domain" in response.content.decode()
    course.refresh_from_db()
    assert not course.join_enabled


# --- Joining when signed in ------------------------------------------------------------------


def test_a_signed_in_person_joins_with_the_code_and_lands_in_the_course(
    client, open_course, other_student
):
    client.force_login(other_student)

    form = client.get(JOIN, {"code": open_course.join_code})
    joined = client.post(JOIN, {"code": open_course.join_code})

    assert form.status_code == 200 and open_course.join_code in form.content.decode()
    assert joined.status_code == 302
    assert joined["Location"] == reverse("course-detail", args=[open_course.slug])
    membership = Membership.objects.get(course=open_course, user=other_student)
    assert membership.role == Membership.Role.STUDENT
    assert client.get(joined["Location"]).status_code == 200


def test_a_wrong_and_a_switched_off_code_get_the_same_page(client, open_course, other_student):
    client.force_login(other_student)
    wrong = client.post(JOIN, {"code": "ZZZZZZZZ"})
    open_course.join_enabled = False
    open_course.save()
    off = client.post(JOIN, {"code": open_course.join_code})

    assert wrong.status_code == off.status_code == 400
    assert INVALID_CODE_MESSAGE in wrong.content.decode()
    assert INVALID_CODE_MESSAGE in off.content.decode()
    assert not Membership.objects.filter(course=open_course, user=other_student).exists()


@pytest.mark.parametrize("who", ["instructor", "ta"])
def test_staff_are_told_a_code_only_enrols_students(request, client, open_course, who):
    user = request.getfixturevalue(who)
    client.force_login(user)

    response = client.post(JOIN, {"code": open_course.join_code})

    assert response.status_code == 400
    assert "only enrols students" in response.content.decode()
    assert Membership.objects.get(user=user).role != Membership.Role.STUDENT


def test_a_student_already_in_the_course_just_lands_there(client, open_course, student):
    client.force_login(student)
    response = client.post(JOIN, {"code": open_course.join_code})
    assert response.status_code == 302
    assert Membership.objects.filter(course=open_course, user=student).count() == 1


# --- Anonymous: log in or sign up ------------------------------------------------------------


def test_an_anonymous_visitor_can_log_in_back_to_the_code_or_sign_up(client, open_course):
    html = client.get(JOIN, {"code": open_course.join_code}).content.decode()

    login = re.search(r'href="(/accounts/login/\?next=[^"]+)"', html).group(1)
    next_url = parse_qs(urlsplit(login.replace("&amp;", "&")).query)["next"][0]
    assert next_url == f"/join/?code={open_course.join_code}"
    assert 'name="email"' in html and 'name="password"' in html
    assert f'value="{open_course.join_code}"' in html


def test_logging_in_from_the_join_page_comes_back_to_join(client, open_course, other_student):
    next_url = f"/join/?code={open_course.join_code}"
    response = client.post(
        "/accounts/login/?next=" + next_url,
        {"username": other_student.username, "password": PASSWORD, "next": next_url},
    )
    assert response.status_code == 302 and response["Location"] == next_url


def test_sign_up_answers_the_same_for_a_new_and_an_existing_email(client, open_course):
    UserFactory(username="taken", email="taken@example.edu")

    new = sign_up(client, open_course.join_code, email="fresh@example.edu")
    existing = sign_up(client, open_course.join_code, email="taken@example.edu")

    assert new.status_code == existing.status_code == 200
    assert comparable(new).replace("fresh@", "X@") == comparable(existing).replace("taken@", "X@")
    assert "Check your email" in new.content.decode()
    assert [m.to for m in mail.outbox] == [["fresh@example.edu"], ["taken@example.edu"]]


def test_confirming_the_sign_up_lands_in_the_course(client, open_course):
    open_course.join_section = "Tue lab"
    open_course.save()
    sign_up(client, open_course.join_code)
    link = emailed_link("/accounts/signup/confirm/")

    confirmed = client.post(link, {"password": "a-long-enough-passphrase"})
    landed = client.get(confirmed["Location"])

    assert confirmed.status_code == 302
    assert confirmed["Location"].startswith("/join/complete/?ticket=")
    assert landed.status_code == 302
    assert landed["Location"] == reverse("course-detail", args=[open_course.slug])
    membership = Membership.objects.get(course=open_course, user__email="newbie@example.edu")
    assert (membership.role, membership.section) == (Membership.Role.STUDENT, "Tue lab")


def test_an_existing_account_logs_in_from_the_notice_and_lands_in_the_course(client, open_course):
    user = UserFactory(username="taken", email="taken@example.edu")
    sign_up(client, open_course.join_code, email="taken@example.edu")
    login = emailed_link("/accounts/login/")
    next_url = parse_qs(urlsplit(login).query)["next"][0]

    logged_in = client.post(login, {"username": "taken", "password": PASSWORD, "next": next_url})
    landed = client.get(logged_in["Location"])

    assert logged_in["Location"] == next_url
    assert landed["Location"] == reverse("course-detail", args=[open_course.slug])
    assert Membership.objects.filter(course=open_course, user=user).exists()


def test_a_join_link_works_only_for_the_account_it_was_sent_to(client, open_course, other_student):
    sign_up(client, open_course.join_code, email="someone@example.edu")
    link = emailed_link("/accounts/signup/confirm/")
    ticket_path = parse_qs(urlsplit(link).query)["next"][0]
    client.force_login(other_student)

    response = client.get(ticket_path)

    assert response.status_code == 403
    assert "not to the account you are logged in with" in response.content.decode()
    assert not Membership.objects.filter(course=open_course, user=other_student).exists()


def test_a_tampered_join_link_gets_a_clear_page(client, other_student):
    client.force_login(other_student)
    response = client.get("/join/complete/", {"ticket": "nope"})
    assert response.status_code == 400 and "enter the join code" in response.content.decode()


def test_sign_up_outside_the_email_domain_names_it_and_sends_nothing(client, open_course):
    open_course.join_email_domain = "example.edu"
    open_course.save()

    response = sign_up(client, open_course.join_code, email="me@gmail.com")

    assert response.status_code == 400
    assert "open only to @example.edu" in response.content.decode()
    assert mail.outbox == []


def test_sign_up_with_a_wrong_code_sends_nothing(client, open_course):
    response = sign_up(client, "ZZZZZZZZ")
    assert response.status_code == 400
    assert INVALID_CODE_MESSAGE in response.content.decode()
    assert mail.outbox == []


# --- Throttles -------------------------------------------------------------------------------


def test_wrong_codes_are_throttled_per_address_even_for_a_right_one_after(
    client, settings, open_course, other_student
):
    settings.JOIN_FAILURES_PER_ADDRESS = 2
    client.force_login(other_student)

    answers = [client.post(JOIN, {"code": c}) for c in ("AAAAAAAA", "BBBBBBBB")]
    anonymous = sign_up(client.__class__(), open_course.join_code)
    limited = client.post(JOIN, {"code": open_course.join_code})
    elsewhere = client.post(JOIN, {"code": open_course.join_code}, REMOTE_ADDR="10.9.9.9")

    assert [a.status_code for a in answers] == [400, 400]
    assert anonymous.status_code == limited.status_code == 429
    assert "Too many wrong join codes from your address" in limited.content.decode()
    assert limited["Retry-After"].isdigit()
    assert elsewhere.status_code == 302  # another address is not affected
    assert mail.outbox == []


def test_right_codes_are_not_counted(client, settings, open_course):
    settings.JOIN_FAILURES_PER_ADDRESS = 1
    for _ in range(3):
        user = UserFactory()
        client.force_login(user)
        assert client.post(JOIN, {"code": open_course.join_code}).status_code == 302


def test_sign_ups_are_throttled_like_password_resets(client, settings, open_course):
    settings.ACCOUNT_REQUESTS_PER_EMAIL = 1

    first = sign_up(client, open_course.join_code, REMOTE_ADDR="10.0.0.1")
    second = sign_up(client, open_course.join_code, REMOTE_ADDR="10.0.0.2")

    assert first.status_code == 200 and second.status_code == 429
    assert "Too many requests" in second.content.decode()
    assert len(mail.outbox) == 1
