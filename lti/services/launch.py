"""OIDC login initiation and the LTI launch.

validate (PyLTI1p3, no database writes) → accept (one transaction: nonce, django-lti's rows,
the account, the course link, the enrolment, the link target) → the view logs the user in.
Any failure raises `LaunchRefused` naming the check that failed; nothing from the launch is
kept (the transaction rolls back) and `launch_failure_record` writes the one row staff see.

Who may do what comes from the platform's signed id_token, not from a Coursebench person, so
the courseware services are called with `SYSTEM` once the token is validated: an LMS
instructor's first launch creates the offering, a learner's launch enrols them."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from lti_tool.lti_core.constants import ContextRole
from lti_tool.lti_core.utils import normalize_role
from lti_tool.models import LtiContext, LtiDeployment, LtiLaunch, LtiRegistration, LtiUser
from lti_tool.utils import DjangoToolConfig, sync_data_from_launch
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, OIDCException

from accounts import selectors as account_selectors
from accounts import services as account_services
from core.actors import SYSTEM
from core.exceptions import ApplicationError
from courseware import services as courseware_services
from courseware.models import Course, Membership, Session, course_code_validator
from courseware.permissions import course_role, is_instructor
from courseware.services import people as people_services
from labs.models import Lab
from lti.models import CourseLink, LaunchFailure, LinkTarget, UsedNonce
from quizzes.models import Quiz

logger = logging.getLogger("lti.launch")
User = get_user_model()

TA_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
CUSTOM_RESOURCE = "resource"
CUSTOM_COURSE = "coursebench_course"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
# PyJWT checks `exp` only when the token has one: require it (and `iat`), so a token with no
# expiry is refused rather than valid for ever. `aud` is PyLTI1p3's check (registration by
# issuer + client id), not PyJWT's.
JWT_OPTIONS = {"verify_aud": False, "require": ["exp", "iat"]}


class LaunchRefused(ApplicationError):
    """A login or launch that failed one check; `check` names it for the page and the log."""

    def __init__(self, check: str, message: str, *, status_code: int = 403) -> None:
        super().__init__(f"lti_{check}", message, status_code=status_code)
        self.check = check


# PyLTI1p3 raises one exception type; its message says which check failed. Order matters:
# the first fragment found names the check.
_LIBRARY_CHECKS = (
    ("state", "the login state", "State not found", "Missing state param"),
    ("token", "the id_token's format", "JWT must contain 3 parts", "can't be decoded"),
    ("nonce", "the nonce", "nonce", "Nonce"),
    ("audience", "the audience (client id)", "Registration not found", "Client id not registered"),
    (
        "expiry",
        "the expiry",
        "Signature has expired",
        "has expired",
        '"exp"',
        '"iat"',
        "not yet valid",
    ),
    (
        "signature",
        "the signature",
        "Signature verification failed",
        "Unable to find public key",
        "JWT KID not found",
        "Can't decode id_token",
        "fetch URL",
        "Invalid response from",
    ),
    ("deployment", "the deployment id", "deployment"),
    ("version", "the LTI version", "Incorrect version"),
    ("message", "the message type", "message type", "Message validation failed", "Validator"),
)

_EXPLANATIONS = {
    "state": "The launch did not come from a login started here (or the browser dropped the "
    "login cookie). Launch again from the LMS; if it keeps failing, open the tool in a new "
    "window.",
    "token": "The LMS sent an id_token that is not a signed JWT.",
    "nonce": "The id_token's nonce is not one this login issued.",
    "audience": "No platform is registered for this issuer with the token's client id "
    "(audience). Check the client id in Coursebench's LTI platforms page against the LMS's "
    "developer key / tool.",
    "expiry": "The id_token has expired (or has no expiry). Launch again from the LMS; check "
    "the LMS server's clock if it keeps happening.",
    "signature": "The id_token's signature does not match the platform's published keys "
    "(its public keyset URL). Check the keyset URL registered for this platform.",
    "deployment": "The deployment id in the launch is not registered for this platform, or "
    "site staff turned it off. They can add it (or turn it on) on the platform's page.",
    "version": "Only LTI 1.3 launches are accepted.",
    "message": "The launch message is incomplete or of a type Coursebench does not handle.",
}


def _refusal(exc: Exception) -> LaunchRefused:
    text = str(exc)
    for check, label, *fragments in _LIBRARY_CHECKS:
        if any(fragment in text for fragment in fragments):
            return LaunchRefused(check, f"Refused: {label} failed. {_EXPLANATIONS[check]} ({text})")
    return LaunchRefused("launch", f"Refused: the launch failed validation ({text}).")


class ToolConfig(DjangoToolConfig):
    """django-lti's tool configuration, except that an unknown or inactive deployment is
    refused instead of being created (inactive) on first sight: a refused launch writes
    nothing."""

    def _deployment(self, lookups: dict) -> Deployment | None:
        deployment = (
            LtiDeployment.objects.filter(is_active=True, registration__is_active=True, **lookups)
            .select_related("registration")
            .first()
        )
        self.deployment = deployment
        if deployment is None:
            return None
        return Deployment().set_deployment_id(deployment.deployment_id)

    def find_deployment(self, iss, deployment_id):
        lookups = {"registration__issuer": iss, "deployment_id": deployment_id}
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._deployment(lookups)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        lookups = {
            "registration__issuer": iss,
            "registration__client_id": client_id,
            "deployment_id": deployment_id,
        }
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._deployment(lookups)


def login_redirect(*, request: HttpRequest, registration_uuid, launch_urls: list[str]):
    """OIDC third-party login initiation: answer the platform's login request with a
    redirect to its auth URL (state and nonce stored for the launch). `target_link_uri` must
    be one of the tool's own launch URLs. No cookie-check page: PyLTI1p3's is inline script,
    which the site's CSP forbids."""
    params = request.POST if request.method == "POST" else request.GET
    target = params.get("target_link_uri", "")
    if target not in launch_urls:
        raise LaunchRefused(
            "target",
            f"Refused: the target link URI {target!r} is not one of Coursebench's launch URLs "
            f"({', '.join(launch_urls)}). Set the tool's target link URI in the LMS to one of "
            "them.",
            status_code=400,
        )
    tool_conf = ToolConfig(registration_uuid)
    oidc_login = DjangoOIDCLogin(request, tool_conf, launch_data_storage=DjangoCacheDataStorage())
    try:
        return oidc_login.redirect(target)
    except (LtiException, OIDCException) as exc:
        raise LaunchRefused(
            "login",
            f"Refused: the login request failed ({exc}). Check that the LMS's issuer and "
            "client id match the platform registered in Coursebench and that the login URL "
            "is the one shown for that platform.",
            status_code=400,
        ) from exc


def launch_validate(*, request: HttpRequest) -> DjangoMessageLaunch:
    """PyLTI1p3's checks on the posted id_token: state, JWT format, nonce issued by our login,
    registration (issuer + audience), signature against the platform's key set, expiry,
    deployment id, message type and version. Writes nothing to the database."""
    if request.method != "POST" or not request.POST.get("id_token"):
        raise LaunchRefused(
            "token",
            "Refused: no id_token was posted. A launch comes from the LMS, after the login "
            "step: open Coursebench from a link in the LMS course.",
            status_code=400,
        )
    message_launch = DjangoMessageLaunch(
        request, ToolConfig(), launch_data_storage=DjangoCacheDataStorage()
    )
    message_launch.set_jwt_verify_options(JWT_OPTIONS)
    try:
        message_launch.validate()
    except LtiException as exc:
        raise _refusal(exc) from exc
    return message_launch


def context_role(roles: list[str]) -> str | None:
    """The Coursebench role for an LTI roles claim: a teaching assistant sub-role first (it
    is also an Instructor role), then instructor (incl. context administrator and content
    developer), then learner. Institution or system roles alone give none."""
    roles = roles or []
    if TA_ROLE in roles or any(r.endswith("#TeachingAssistant") for r in roles):
        return Membership.Role.TEACHING_ASSISTANT
    normalized = {normalize_role(r) for r in roles}
    if normalized & {
        ContextRole.INSTRUCTOR,
        ContextRole.ADMINISTRATOR,
        ContextRole.CONTENT_DEVELOPER,
    }:
        return Membership.Role.INSTRUCTOR
    if ContextRole.LEARNER in normalized:
        return Membership.Role.STUDENT
    return None


@dataclass(frozen=True)
class LaunchResult:
    user: AbstractBaseUser
    course: Course
    role: str
    url: str
    frame_origins: list[str]
    launch_id: str
    is_deep_link: bool
    account_created: bool
    course_created: bool


def _use_nonce(*, issuer: str, nonce: str) -> None:
    try:
        with transaction.atomic():
            UsedNonce.objects.create(issuer=issuer, nonce=nonce)
    except IntegrityError:
        raise LaunchRefused(
            "nonce",
            "Refused: the nonce failed: this id_token was already used (a replayed launch). "
            "Launch again from the LMS.",
        ) from None


def _username(lti_user: LtiUser) -> str:
    reg = lti_user.registration
    digest = hashlib.sha256(f"{reg.issuer}|{reg.client_id}|{lti_user.sub}".encode()).hexdigest()
    return f"lti-{digest[:20]}"


def account_for_lti_user(lti_user: LtiUser) -> tuple[AbstractBaseUser, bool]:
    """The Coursebench account of an LMS user: matched by (registration, subject) only. A new
    one takes the name and email from the claims; an email that already belongs to an account
    is *not* matched or copied (the LMS's say-so about an email is no proof that the person
    owns that Coursebench account: no takeover by email)."""
    if lti_user.auth_user_id is not None:
        user = lti_user.auth_user
        if not user.is_active:
            raise LaunchRefused(
                "account", "Refused: your Coursebench account is disabled. Ask site staff."
            )
        return user, False
    email = (lti_user.email or "").strip()
    if email and account_selectors.user_by_email(email=email) is not None:
        email = ""
    first, last = lti_user.given_name, lti_user.family_name
    if not (first or last) and lti_user.name:
        first, _, last = lti_user.name.partition(" ")
    user = User(
        username=_username(lti_user),
        email=email,
        first_name=(first or "")[:150],
        last_name=(last or "")[:150],
    )
    # They log in through the LMS; a password can be set later with "Forgot your password?"
    # when the account has an email.
    user.set_unusable_password()
    user.full_clean()
    user.save()
    account_services.profile_get_or_create(user=user)
    lti_user.auth_user = user
    lti_user.save(update_fields=["auth_user", "datetime_modified"])
    return user, True


def _course_code(label: str, context: LtiContext) -> str:
    code = re.sub(r"[^A-Za-z0-9_.-]+", "-", label or "").strip("-._")[:40]
    try:
        course_code_validator(code)
    except Exception:
        code = f"LMS-{context.pk}"
    return code


def _course_for(
    *, context: LtiContext, user: AbstractBaseUser, role: str, custom: dict
) -> tuple[Course, bool]:
    link = CourseLink.objects.select_related("course").filter(context=context).first()
    if link is not None:
        return link.course, False
    if not is_instructor(role):
        raise LaunchRefused(
            "course",
            f"Refused: the LMS course {context.title or context.id_on_platform!r} is not open in "
            "Coursebench yet. Its instructor opens it by launching Coursebench from the LMS "
            "first; then try again.",
        )
    slug = (custom or {}).get(CUSTOM_COURSE, "")
    if slug:
        # "Link this LMS course to my existing offering": only an instructor of that offering.
        course = Course.objects.filter(slug__iexact=slug).first()
        if course is None or not is_instructor(course_role(user=user, course=course)):
            raise LaunchRefused(
                "course",
                f"Refused: the custom parameter {CUSTOM_COURSE}={slug!r} names no course you "
                "teach in Coursebench. Fix it in the LMS, or remove it to create a new course.",
            )
        created = False
    else:
        code = _course_code(context.label, context)
        term = "" if not Course.objects.filter(code=code, term="").exists() else f"LMS {context.pk}"
        course = courseware_services.course_create(
            actor=SYSTEM,
            code=code,
            term=term,
            title=(context.title or context.label or code)[:200],
        )
        created = True
    link = CourseLink(context=context, course=course)
    link.full_clean()
    link.save()
    return course, created


def enrol_from_lms(*, course: Course, user: AbstractBaseUser, role: str) -> None:
    """The LMS is the source of truth for the role; an unenrolled member is re-enrolled."""
    membership = Membership.objects.filter(course=course, user=user).first()
    if membership is None or membership.role != role:
        membership = courseware_services.membership_set(
            actor=SYSTEM, course=course, user=user, role=role
        )
    if not membership.is_active:
        people_services.member_reenrol(actor=SYSTEM, membership=membership)


def _parse_resource(value: str) -> tuple[str, int]:
    kind, _, number = (value or "").partition(":")
    if kind not in LinkTarget.Kind.values or not number.isdigit():
        raise LaunchRefused(
            "resource",
            f"Refused: the link's custom parameter {CUSTOM_RESOURCE}={value!r} is not "
            "session:<number>, quiz:<id>, lab:<id> or course:0. Re-add the link from the LMS "
            "(deep linking sets it).",
            status_code=400,
        )
    return kind, int(number)


def _target_url(*, course: Course, kind: str, object_id: int) -> str:
    missing = LaunchRefused(
        "resource",
        f"Refused: the link points to {kind} {object_id}, which is not in {course.slug} (it "
        "may have been deleted). Ask the instructor to re-add the link.",
        status_code=404,
    )
    if kind == LinkTarget.Kind.SESSION:
        if not Session.objects.filter(course=course, number=object_id).exists():
            raise missing
        return reverse("session-detail", kwargs={"code": course.slug, "number": object_id})
    if kind == LinkTarget.Kind.QUIZ:
        if not Quiz.objects.filter(pk=object_id, session__course=course).exists():
            raise missing
        return reverse("quiz-detail", kwargs={"quiz_id": object_id})
    if kind == LinkTarget.Kind.LAB:
        if not Lab.objects.filter(pk=object_id, session__course=course).exists():
            raise missing
        return reverse("labs:lab-detail", kwargs={"lab_id": object_id})
    return reverse("course-detail", kwargs={"code": course.slug})


def _target_for(*, lti_launch: LtiLaunch, course: Course, custom: dict) -> str:
    resource_link = lti_launch.resource_link
    value = (custom or {}).get(CUSTOM_RESOURCE)
    if value:
        kind, object_id = _parse_resource(value)
        target, _ = LinkTarget.objects.update_or_create(
            resource_link=resource_link, defaults={"kind": kind, "object_id": object_id}
        )
    else:
        target = LinkTarget.objects.filter(resource_link=resource_link).first()
    if target is None:
        return reverse("course-detail", kwargs={"code": course.slug})
    return _target_url(course=course, kind=target.kind, object_id=target.object_id)


@transaction.atomic
def launch_accept(*, message_launch: DjangoMessageLaunch) -> LaunchResult:
    """Everything a validated launch creates, in one transaction: a refusal at any step
    rolls all of it back."""
    lti_launch = LtiLaunch(message_launch)
    data = lti_launch.get_launch_data()
    registration: LtiRegistration = lti_launch.registration
    _use_nonce(issuer=data["iss"], nonce=data["nonce"])
    message_type = data.get("https://purl.imsglobal.org/spec/lti/claim/message_type")
    if message_type not in (RESOURCE_LINK, DEEP_LINKING):
        raise LaunchRefused(
            "message", f"Refused: the message type {message_type!r} is not handled here."
        )
    if not lti_launch.context_claim or not lti_launch.context_claim.get("id"):
        raise LaunchRefused(
            "context",
            "Refused: the launch names no LMS course (context claim). Add Coursebench to a "
            "course and launch it from there.",
        )
    role = context_role(lti_launch.roles_claim)
    if role is None:
        raise LaunchRefused(
            "role",
            "Refused: your role in the LMS course is not instructor, teaching assistant or "
            f"learner (roles: {', '.join(lti_launch.roles_claim or []) or 'none'}).",
        )
    sync_data_from_launch(lti_launch)
    user, account_created = account_for_lti_user(lti_launch.user)
    custom = lti_launch.get_claim("https://purl.imsglobal.org/spec/lti/claim/custom") or {}
    course, course_created = _course_for(
        context=lti_launch.context, user=user, role=role, custom=custom
    )
    enrol_from_lms(course=course, user=user, role=role)
    is_deep_link = message_type == DEEP_LINKING
    if is_deep_link:
        url = reverse("course-detail", kwargs={"code": course.slug})
    else:
        url = _target_for(lti_launch=lti_launch, course=course, custom=custom)
    platform = getattr(registration, "coursebench", None)
    return LaunchResult(
        user=user,
        course=course,
        role=role,
        url=url,
        frame_origins=list(platform.frame_origins) if platform else [],
        launch_id=lti_launch.get_launch_id(),
        is_deep_link=is_deep_link,
        account_created=account_created,
        course_created=course_created,
    )


def launch_failure_record(
    *, refused: LaunchRefused, request: HttpRequest, issuer: str = ""
) -> LaunchFailure:
    """Log a refused login or launch for staff (and the server log). Written after the
    launch's transaction rolled back, so it is the only row a refusal leaves. `issuer` is
    what the request claims (unverified): for the log only."""
    issuer = issuer[:255]
    registration = LtiRegistration.objects.filter(issuer=issuer).first() if issuer else None
    logger.warning("LTI %s refused (issuer %r): %s", refused.check, issuer, refused.message)
    failure = LaunchFailure(
        registration=registration,
        issuer=issuer,
        failed_check=refused.check[:40],
        message=refused.message,
    )
    failure.full_clean()
    failure.save()
    return failure
