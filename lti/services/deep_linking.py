"""Deep linking: an instructor, sent by the LMS to pick content, chooses sessions, quizzes
and labs; the reply (a JWT signed with the tool's key, PyLTI1p3's DeepLink) lists them as
LTI resource links, gradable ones (quizzes, labs) with a line item so the LMS creates the
gradebook column. Each link carries the custom parameter `resource` that the launch opens."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from lti_tool.models import LtiLaunch
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from pylti1p3.message_launch import MessageLaunch

from core.exceptions import ApplicationError
from courseware.models import Course
from courseware.permissions import Actor, require_instructor
from gradebook.services import gradebook_items_sync
from lti.models import Placement
from lti.selectors import DeepLinkChoice, deep_link_choices

# Line items Coursebench created carry this tag, so AGS finds its own columns.
LINE_ITEM_TAG = "coursebench"


@dataclass(frozen=True)
class DeepLinkReply:
    return_url: str
    jwt: str
    items: list[DeepLinkChoice]


def _resource(choice: DeepLinkChoice) -> DeepLinkResource:
    resource = (
        DeepLinkResource()
        .set_url(settings.SITE_URL + reverse("lti-launch"))
        .set_title(choice.title)
        .set_custom_params({"resource": choice.resource})
    )
    if choice.gradable:
        resource.set_lineitem(
            LineItem()
            .set_label(choice.title)
            .set_score_maximum(choice.max_score)
            .set_resource_id(choice.resource)
            .set_tag(LINE_ITEM_TAG)
        )
    return resource


def deep_link_prepare(*, actor: Actor, course: Course) -> list[DeepLinkChoice]:
    """What the instructor may pick, after bringing the gradebook's items up to date (their
    points are the line items' maximum scores)."""
    require_instructor(user=actor, course=course)
    gradebook_items_sync(course=course)
    return deep_link_choices(actor=actor, course=course)


@transaction.atomic
def deep_link_reply(
    *, actor: Actor, message_launch: MessageLaunch, course: Course, picks: list[str]
) -> DeepLinkReply:
    """The signed reply for the picked items (`resource` values such as `quiz:12`), in the
    order offered. Instructors of the course only. Records the gradable ones as placed in
    this LMS course (their scores go to the columns the LMS makes from the reply)."""
    require_instructor(user=actor, course=course)
    if not message_launch.is_deep_link_launch():
        raise ApplicationError(
            "not_deep_linking",
            "This launch is not a deep linking request: add content from the LMS's content picker.",
        )
    offered = {choice.resource: choice for choice in deep_link_prepare(actor=actor, course=course)}
    unknown = [p for p in picks if p not in offered]
    if unknown:
        raise ApplicationError(
            "unknown_item", f"{', '.join(unknown)} is not in {course.slug}: reload the list."
        )
    if not picks:
        raise ApplicationError("nothing_picked", "Pick at least one item to add to the LMS.")
    items = [choice for resource, choice in offered.items() if resource in picks]
    context = LtiLaunch(message_launch).context
    for choice in items:
        if choice.gradable:
            Placement.objects.get_or_create(context=context, resource=choice.resource)
    deep_link = message_launch.get_deep_link()
    settings_claim = message_launch.get_launch_data()[
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
    ]
    return DeepLinkReply(
        return_url=settings_claim["deep_link_return_url"],
        jwt=deep_link.get_response_jwt([_resource(choice) for choice in items]),
        items=items,
    )
