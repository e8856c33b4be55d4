"""Reads for the LTI app: registrations for the staff pages, the tool's own URLs and the
values to paste into Canvas and Moodle, frame origins for the middleware."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from lti_tool.models import LtiDeployment, LtiRegistration

from core.exceptions import NotFoundError
from courseware.models import Course
from courseware.permissions import Actor, require_instructor, require_site_staff
from gradebook.models import GradeItem
from labs.models import Lab
from lti.models import CourseLink, LaunchFailure, ScoreSync
from quizzes.models import Quiz

# What the tool asks the LMS for (Canvas developer key "scopes", Moodle "Services").
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def frame_origins_all() -> list[str]:
    """Every active platform's frame origins (an LTI route before the launch says which)."""
    origins: list[str] = []
    for values in LtiRegistration.objects.active().values_list(
        "coursebench__frame_origins", flat=True
    ):
        origins += [o for o in values or [] if o not in origins]
    return origins


def platform_list(*, actor: Actor) -> QuerySet[LtiRegistration]:
    require_site_staff(user=actor)
    return (
        LtiRegistration.objects.select_related("coursebench")
        .prefetch_related("deployments")
        .order_by("name")
    )


def platform_deployment_get(
    *, actor: Actor, registration: LtiRegistration, pk: int
) -> LtiDeployment:
    require_site_staff(user=actor)
    deployment = LtiDeployment.objects.filter(registration=registration, pk=pk).first()
    if deployment is None:
        raise NotFoundError(f"{registration.name} has no deployment {pk}.")
    return deployment


def platform_get(*, actor: Actor, pk: int) -> LtiRegistration:
    require_site_staff(user=actor)
    registration = (
        LtiRegistration.objects.select_related("coursebench")
        .prefetch_related("deployments")
        .filter(pk=pk)
        .first()
    )
    if registration is None:
        raise NotFoundError(f"No LMS platform {pk}: it may have been deleted.")
    return registration


def launch_failure_list(*, actor: Actor, limit: int = 50) -> list[LaunchFailure]:
    require_site_staff(user=actor)
    return list(LaunchFailure.objects.select_related("registration")[:limit])


def _url(name: str, **kwargs) -> str:
    # SITE_URL, never the request's Host header: these are pasted into another system.
    return settings.SITE_URL + reverse(name, kwargs=kwargs)


@dataclass(frozen=True)
class ToolUrls:
    jwks: str
    login: str
    launch: str
    deep_linking: str
    domain: str
    # The login URL that names one registration, for an LMS that sends no client_id with
    # its login request (Canvas and Moodle do send it).
    login_registration: str = ""


def tool_urls(*, registration: LtiRegistration | None = None) -> ToolUrls:
    """The tool's URLs, the same for every platform (the login finds the registration by
    issuer + client id), so they can be pasted into the LMS before it issues a client id."""
    return ToolUrls(
        login_registration=(
            _url("lti-login-registration", registration_uuid=registration.uuid)
            if registration is not None
            else ""
        ),
        jwks=_url("lti-jwks"),
        login=_url("lti-login"),
        launch=_url("lti-launch"),
        deep_linking=_url("lti-deep-link"),
        domain=urlsplit(settings.SITE_URL).netloc,
    )


def canvas_developer_key(*, registration: LtiRegistration | None = None) -> str:
    """Canvas → Admin → Developer Keys → + LTI Key → Method "Paste JSON"."""
    urls = tool_urls(registration=registration)
    config = {
        "title": "Coursebench",
        "description": "Quizzes and model-grading labs for machine-learning courses.",
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(SCOPES),
        "extensions": [
            {
                "domain": urls.domain,
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "placements": [
                        {
                            "placement": "course_navigation",
                            "message_type": "LtiResourceLinkRequest",
                            "target_link_uri": urls.launch,
                        },
                        {
                            "placement": "assignment_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": urls.deep_linking,
                        },
                        {
                            "placement": "link_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": urls.deep_linking,
                        },
                    ]
                },
            }
        ],
        "custom_fields": {},
    }
    return json.dumps(config, indent=2)


def moodle_tool_fields(*, registration: LtiRegistration | None = None) -> list[tuple[str, str]]:
    """Moodle → Site administration → Plugins → Activity modules → External tool → Manage
    tools → configure a tool manually: the form's labels and what goes in each."""
    urls = tool_urls(registration=registration)
    return [
        ("Tool name", "Coursebench"),
        ("Tool URL", urls.launch),
        ("LTI version", "LTI 1.3"),
        ("Public key type", "Keyset URL"),
        ("Public keyset", urls.jwks),
        ("Initiate login URL", urls.login),
        ("Redirection URI(s)", f"{urls.launch}\n{urls.deep_linking}"),
        ("Supports Deep Linking (Content-Item Message)", "Yes"),
        ("Content Selection URL", urls.deep_linking),
        (
            "IMS LTI Assignment and Grade Services",
            "Use this service for grade sync and column management",
        ),
        (
            "IMS LTI Names and Role Provisioning",
            "Use this service to retrieve members' information",
        ),
        ("Share launcher's name with tool", "Always"),
        ("Share launcher's email with tool", "Always"),
    ]


@dataclass(frozen=True)
class DeepLinkChoice:
    resource: str  # the custom parameter: session:<number>, quiz:<id>, lab:<id>
    kind: str
    title: str
    gradable: bool
    max_score: float


def deep_link_choices(*, actor: Actor, course) -> list[DeepLinkChoice]:
    """What an instructor may place in the LMS: every session, quiz and lab of the course, in
    session order. Quizzes and labs are gradable, with the gradebook's points as the maximum
    (so the LMS column and the Coursebench gradebook agree; `deep_link_prepare` syncs the
    gradebook's items first)."""
    require_instructor(user=actor, course=course)
    points = {
        (item.kind, item.source_id): item.points_possible
        for item in GradeItem.objects.filter(course=course, kind__in=["quiz", "lab"])
    }
    choices: list[DeepLinkChoice] = []
    for session in course.sessions.order_by("number"):
        choices.append(
            DeepLinkChoice(
                f"session:{session.number}",
                "session",
                f"Session {session.number}: {session.title}",
                False,
                0.0,
            )
        )
        for quiz in Quiz.objects.filter(session=session).order_by("pk"):
            maximum = float(points.get(("quiz", quiz.pk), 0.0))
            # A quiz worth 0 points (no questions yet) gets no LMS column: AGS needs a maximum.
            choices.append(
                DeepLinkChoice(f"quiz:{quiz.pk}", "quiz", quiz.title, maximum > 0, maximum)
            )
        for lab in Lab.objects.filter(session=session).order_by("pk"):
            choices.append(
                DeepLinkChoice(
                    f"lab:{lab.pk}",
                    "lab",
                    lab.title,
                    True,
                    float(points.get(("lab", lab.pk), 10.0)),
                )
            )
    return choices


def deep_link_course_get(*, actor: Actor, course_id: int) -> Course:
    """The offering a pending deep linking request is for; its instructors only."""
    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        raise NotFoundError("The course this LMS link was for no longer exists.")
    require_instructor(user=actor, course=course)
    return course


@dataclass(frozen=True)
class CourseLti:
    links: list
    scores: list  # (ScoreSync with student loaded, the item's title)


def course_lti_get(*, actor: Actor, code: str) -> tuple[Course, CourseLti]:
    """An offering's LMS links and, per student and placed item, whether the LMS has the
    current score. Instructors only."""
    course = Course.objects.filter(slug__iexact=code).first()
    if course is None:
        raise NotFoundError(f"No course {code} among your courses.")
    require_instructor(user=actor, course=course)
    links = list(CourseLink.objects.filter(course=course).select_related("context"))
    scores = list(
        ScoreSync.objects.filter(context__in=[link.context for link in links])
        .select_related("student", "context")
        .order_by("resource", "student__last_name", "student__first_name", "student__pk")
    )
    resources = {f"quiz:{q.pk}": q.title for q in Quiz.objects.filter(session__course=course)}
    resources |= {f"lab:{lab.pk}": lab.title for lab in Lab.objects.filter(session__course=course)}
    rows = [(sync, resources.get(sync.resource, sync.resource)) for sync in scores]
    return course, CourseLti(links=links, scores=rows)


def score_sync_get(*, actor: Actor, pk: int):
    """One score row, for its course's instructors."""
    sync = ScoreSync.objects.filter(pk=pk).first()
    link = (
        CourseLink.objects.select_related("course")
        .filter(context_id=getattr(sync, "context_id", None))
        .first()
    )
    if sync is None or link is None:
        raise NotFoundError("No such score.")
    require_instructor(user=actor, course=link.course)
    return sync


def course_link_get(*, actor: Actor, code: str, pk: int) -> CourseLink:
    """One LMS course link of an offering, for its instructors."""
    link = (
        CourseLink.objects.select_related("course", "context")
        .filter(pk=pk, course__slug__iexact=code)
        .first()
    )
    if link is None:
        raise NotFoundError(f"No LMS link {pk} in course {code}.")
    require_instructor(user=actor, course=link.course)
    return link
