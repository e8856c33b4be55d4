"""An instructor imports a roster in a real browser; the invited student follows the emailed
link, sets a password, logs in and sees the course."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from courseware.models import Membership
from tests.factories import PASSWORD, CourseFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROSTER = (
    "\ufeffEmail;First Name;Surname;Student ID\r\n"
    "riya.patel@example.edu;Riya;Patel;S2001\r\n"
    "sam.okafor@example.edu;Sam;Okafor;S2002\r\n"
)
NEW_PASSWORD = "Lantern-orbit-47-quietly"


def _log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_roster_import_to_invited_student_seeing_the_course(page, live_server, tmp_path):
    course = CourseFactory(code="ICTSS00120", title="Artificial Intelligence Skill Set")
    instructor = MembershipFactory(course=course, role=Membership.Role.INSTRUCTOR).user
    roster = tmp_path / "class-list.csv"
    roster.write_text(ROSTER, encoding="utf-8")

    _log_in(page, live_server, instructor.username, PASSWORD)
    page.goto(f"{live_server.url}/courses/ICTSS00120/people/import/")
    page.get_by_label("Class list (.csv)").set_input_files(str(roster))
    page.get_by_role("button", name="Preview import").click()
    assert "riya.patel@example.edu" in page.locator("#roster-plan").inner_text()
    assert mail.outbox == []  # nothing written or sent before the confirm
    page.get_by_role("button", name="Confirm import").click()
    assert "2 added" in page.locator("#roster-result").inner_text()

    (invitation,) = [m for m in mail.outbox if m.to == ["riya.patel@example.edu"]]
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", invitation.body).group(0)
    page.context.clear_cookies()  # the student's own browser session
    page.goto(live_server.url + urlsplit(link).path)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.context.clear_cookies()
    _log_in(page, live_server, "riya.patel", NEW_PASSWORD)
    page.get_by_role("link", name="Artificial Intelligence Skill Set").click()
    page.wait_for_url(f"{live_server.url}/courses/ICTSS00120/")


def test_the_people_page_shows_every_member_and_action_on_a_phone(page, live_server):
    course = CourseFactory(code="ICTSS00120")
    instructor = MembershipFactory(course=course, role=Membership.Role.INSTRUCTOR).user
    for _ in range(4):
        MembershipFactory(course=course, role=Membership.Role.STUDENT)
    page.set_viewport_size({"width": 390, "height": 900})
    _log_in(page, live_server, instructor.username, PASSWORD)

    page.goto(f"{live_server.url}/courses/{course.slug}/people/")

    buttons = page.locator("#people-table").get_by_role("button", name="Unenrol")
    assert buttons.count() == 5
    for index in range(5):
        box = buttons.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5
    # The cards are in the page's own flow: no scroll box of their own hides the last ones.
    table_box = page.locator("#people-table").locator("xpath=..")
    assert table_box.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
