"""Names and Role Provisioning Services: the LMS course's member list → the offering.

For each LMS course linked to the offering: every page of the memberships service (PyLTI1p3
follows the `Link: rel="next"` pages), then for each member with a Coursebench role an account
(matched by issuer + subject, as at launch) and an active membership with that role. Members
whose LMS status is not Active, and people who came from this LMS course but are no longer in
its list, are unenrolled: their work is kept and re-enrolling restores it. Members who joined
Coursebench another way (not from this LMS) are left alone.

The LMS is asked for every page first, outside any transaction, with a timeout on each call
(lti/services/connector.py); only then are the changes applied, in one short transaction. An
LMS that fails on page 2 of 3 therefore changes nothing, and no database transaction (or row
lock) waits on the network."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from lti_tool.models import LtiMembership, LtiUser
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.names_roles import NamesRolesProvisioningService
from requests import RequestException, Timeout

from core.actors import SYSTEM
from core.exceptions import ApplicationError
from courseware.models import Course, Membership
from courseware.permissions import Actor, require_instructor
from courseware.services import people as people_services
from lti.models import CourseLink
from lti.services.connector import service_connector
from lti.services.launch import account_for_lti_user, context_role, enrol_from_lms

logger = logging.getLogger("lti.roster")


@dataclass
class RosterSyncResult:
    members: int = 0
    enrolled: list[str] = field(default_factory=list)
    unenrolled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # no Coursebench role, or kept instructor

    @property
    def summary(self) -> str:
        return (
            f"{self.members} members in the LMS: {len(self.enrolled)} enrolled or updated, "
            f"{len(self.unenrolled)} unenrolled, {len(self.skipped)} skipped."
        )


def _fetch_members(link: CourseLink) -> list[dict]:
    """Every page of one LMS course's member list, over the network: called outside any
    transaction (no database connection held open while the LMS answers), each call with
    settings.LTI_SERVICE_TIMEOUT_S. Raises ApplicationError("roster_unavailable") naming the
    page that failed."""
    registration = link.context.deployment.registration
    service = NamesRolesProvisioningService(
        service_connector(registration),
        {"context_memberships_url": link.context.memberships_url},
    )
    members: list[dict] = []
    url: str | None = link.context.memberships_url
    seen: set[str] = set()
    page = 0
    while url and url not in seen:  # an LMS repeating a next link must not loop us forever
        seen.add(url)
        page += 1
        try:
            batch, url = service.get_members_page(url)
        except Timeout as exc:
            raise _unavailable(
                page,
                f"it did not answer within {settings.LTI_SERVICE_TIMEOUT_S} s",
                "try again later (or raise LTI_SERVICE_TIMEOUT_S)",
            ) from exc
        except (LtiServiceException, LtiException, RequestException) as exc:
            raise _unavailable(
                page,
                str(exc),
                "check that the tool has the Names and Role Provisioning service in the LMS, "
                "then try again",
            ) from exc
        # NRPS's status is optional and means Active when left out.
        members += [{"status": "Active", **member} for member in batch]
    return members


def _unavailable(page: int, what: str, fix: str) -> ApplicationError:
    return ApplicationError(
        "roster_unavailable",
        f"The LMS did not give page {page} of the member list ({what}); nothing was changed: "
        f"{fix}.",
        status_code=502,
    )


def _label(user) -> str:
    return user.get_full_name() or user.get_username()


def _apply_link(
    link: CourseLink, members: list[dict], course: Course, result: RosterSyncResult
) -> None:
    result.members += len(members)
    # django-lti's own rows first (LMS users and memberships, with names and emails).
    link.context.update_memberships(members)
    registration = link.context.deployment.registration
    listed = set()
    for member in members:
        sub = member["user_id"]
        listed.add(sub)
        lti_user = LtiUser.objects.get(registration=registration, sub=sub)
        role = context_role(member.get("roles", []))
        active = member.get("status", "Active") == "Active"
        if role is None:
            result.skipped.append(member.get("name") or sub)
            continue
        if active:
            user, _created = account_for_lti_user(lti_user)
            enrol_from_lms(course=course, user=user, role=role)
            result.enrolled.append(_label(user))
        elif lti_user.auth_user_id is not None:
            _unenrol(course, lti_user.auth_user, result)
    # Came from this LMS course before, no longer in its list: they left it.
    gone = LtiMembership.objects.filter(context=link.context).exclude(user__sub__in=listed)
    for membership in gone.select_related("user__auth_user"):
        if membership.user.auth_user_id is not None:
            _unenrol(course, membership.user.auth_user, result)
        membership.is_active = False
        membership.save(update_fields=["is_active", "datetime_modified"])


def _unenrol(course: Course, user, result: RosterSyncResult) -> None:
    membership = Membership.objects.filter(course=course, user=user, is_active=True).first()
    if membership is None:
        return
    try:
        with transaction.atomic():
            people_services.member_unenrol(actor=SYSTEM, membership=membership)
    except ApplicationError:
        # The course's last instructor stays (someone must be able to manage it).
        result.skipped.append(_label(user))
        return
    result.unenrolled.append(_label(user))


def roster_sync(*, actor: Actor, course: Course) -> RosterSyncResult:
    """Sync the offering's members from every LMS course linked to it (instructors, or SYSTEM
    for the periodic task). Two steps: every page of every linked course's list is fetched
    first, outside any transaction; then the changes are applied in one short transaction.
    An LMS failing on any page (or not answering in time) changes nothing."""
    require_instructor(user=actor, course=course)
    links = [
        link
        for link in CourseLink.objects.filter(course=course).select_related(
            "context__deployment__registration"
        )
        if link.context.memberships_url
    ]
    if not links:
        raise ApplicationError(
            "no_roster_service",
            f"{course.code} is not linked to an LMS course that shares its member list: "
            "launch Coursebench from the LMS course (with Names and Role Provisioning on).",
        )
    fetched = [(link, _fetch_members(link)) for link in links]
    result = _roster_apply(course=course, fetched=fetched)
    logger.info("roster sync %s: %s", course.slug, result.summary)
    return result


@transaction.atomic
def _roster_apply(
    *, course: Course, fetched: list[tuple[CourseLink, list[dict]]]
) -> RosterSyncResult:
    """The database step of a sync: no network calls in here."""
    result = RosterSyncResult()
    for link, members in fetched:
        _apply_link(link, members, course, result)
    return result


def roster_linked_course_ids() -> list[int]:
    return list(
        CourseLink.objects.exclude(context__memberships_url="")
        .values_list("course_id", flat=True)
        .distinct()
    )
