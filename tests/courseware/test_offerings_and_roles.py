"""The data model issue 11 builds on: offerings in terms, teaching assistants, unenrolment."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware import permissions
from courseware.models import Course, Membership, course_slug
from courseware.selectors import course_find, course_get
from courseware.services import course_create
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_offering_in_a_term_is_named_by_code_and_term_in_urls():
    assert course_slug("ICTSS00120") == "ICTSS00120"
    assert course_slug("ICTSS00120", "2027 S1") == "ICTSS00120-2027-S1"

    course = course_create(actor=SYSTEM, code="ICTSS00120", term="2027 S1", title="AI")

    assert (course.code, course.term, course.slug) == (
        "ICTSS00120",
        "2027 S1",
        "ICTSS00120-2027-S1",
    )
    assert course.state == Course.State.PUBLISHED


def test_a_code_runs_in_several_terms_but_once_per_term():
    course_create(actor=SYSTEM, code="ML101", term="2027 S1", title="ML")
    course_create(actor=SYSTEM, code="ML101", term="2027 S2", title="ML")

    with pytest.raises(ValidationError):
        course_create(actor=SYSTEM, code="ML101", term="2027 S1", title="ML again")


def test_the_command_line_names_an_offering_by_code_and_asks_for_a_term_when_needed():
    first = course_create(actor=SYSTEM, code="ML101", term="2027 S1", title="ML")
    course_create(actor=SYSTEM, code="ML101", term="2027 S2", title="ML")
    single = course_create(actor=SYSTEM, code="DL201", title="DL")

    assert course_find(code="ml101", term="2027 s1") == first
    assert course_find(code="ML101-2027-S1") == first  # the slug works too
    assert course_find(code="DL201") == single
    with pytest.raises(ApplicationError) as ambiguous:
        course_find(code="ML101")
    assert ambiguous.value.code == "ambiguous_course"
    assert "'2027 S1'" in ambiguous.value.message and "--term" in ambiguous.value.message
    with pytest.raises(NotFoundError):
        course_find(code="ML101", term="2030 S1")


def test_pages_name_an_offering_by_its_slug(client):
    course = course_create(actor=SYSTEM, code="ML101", term="2027 S1", title="ML")
    student = MembershipFactory(course=course, role=Membership.Role.STUDENT).user

    assert course_get(user=student, code="ML101-2027-S1") == (course, Membership.Role.STUDENT)
    with pytest.raises(NotFoundError):
        course_get(user=student, code="ML101")


def test_an_unenrolled_member_keeps_the_row_but_loses_the_course(course):
    membership = MembershipFactory(course=course, role=Membership.Role.STUDENT)
    membership.is_active = False
    membership.save()

    assert permissions.course_role(user=membership.user, course=course) is None
    with pytest.raises(NotFoundError):
        permissions.require_member(user=membership.user, course=course)


def test_a_teaching_assistant_is_teaching_staff_but_not_an_instructor(course):
    ta = MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT).user
    student = MembershipFactory(course=course, role=Membership.Role.STUDENT).user

    assert permissions.require_staff(user=ta, course=course) == Membership.Role.TEACHING_ASSISTANT
    assert permissions.is_staff_role(Membership.Role.TEACHING_ASSISTANT)
    assert not permissions.is_instructor(Membership.Role.TEACHING_ASSISTANT)
    with pytest.raises(PermissionDeniedError):
        permissions.require_instructor(user=ta, course=course)
    with pytest.raises(PermissionDeniedError):
        permissions.require_staff(user=student, course=course)


def test_site_staff_make_someone_a_course_creator_with_a_permission():
    creator = UserFactory()
    with pytest.raises(PermissionDeniedError):
        permissions.require_course_creator(user=creator)

    creator.user_permissions.add(Permission.objects.get(codename="create_course"))
    creator = type(creator).objects.get(pk=creator.pk)  # permissions are cached per instance

    permissions.require_course_creator(user=creator)
