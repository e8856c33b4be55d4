"""One permission rule: every labs service that acts for someone checks its `actor` (views
and API views do not). Instructors and SYSTEM may set a lab up; students get forbidden and
non-members not found; what must be stored under a person refuses SYSTEM."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from core.actors import SYSTEM
from core.exceptions import NotFoundError, PermissionDeniedError
from courseware.models import Membership
from labs import selectors, services
from labs.models import HeldOutDataset, Lab
from tests.factories import HELDOUT_CSV, SubmissionFactory
from tests.labs.conftest import model_zip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "task_queue")]


def _heldout() -> ContentFile:
    return ContentFile(HELDOUT_CSV.encode(), name="heldout.csv")


def _create_lab(session, actor) -> Lab:
    return services.lab_create(
        actor=actor, session=session, title="A lab", labels=["negative", "neutral", "positive"]
    )


@pytest.mark.parametrize("who", ["instructor", "system"])
def test_instructors_and_system_create_a_lab_and_its_held_out_set(session12, instructor, who):
    actor = SYSTEM if who == "system" else instructor

    lab = _create_lab(session12, actor)
    dataset = services.heldout_dataset_create(
        lab=lab, actor=actor, upload=_heldout(), filename="heldout.csv"
    )

    assert dataset.lab == lab and dataset.version == 1


@pytest.mark.parametrize(
    ("who", "error"), [("student", PermissionDeniedError), ("other_student", NotFoundError)]
)
def test_nobody_else_creates_a_lab_or_uploads_a_held_out_set(request, session12, lab, who, error):
    actor = request.getfixturevalue(who)

    with pytest.raises(error):
        _create_lab(session12, actor)
    with pytest.raises(error):
        services.heldout_dataset_create(
            lab=lab, actor=actor, upload=_heldout(), filename="heldout.csv"
        )
    assert Lab.objects.count() == 1 and HeldOutDataset.objects.filter(lab=lab).count() == 1


def test_students_neither_edit_nor_regrade_nor_cancel(lab, student):
    with pytest.raises(PermissionDeniedError):
        services.lab_update(lab=lab, actor=student, title="Mine now")
    with pytest.raises(PermissionDeniedError):
        services.lab_regrade(lab=lab, actor=student)
    with pytest.raises(PermissionDeniedError):
        services.submission_cancel(submission=SubmissionFactory(lab=lab), actor=student)


def test_a_submission_is_only_ever_a_students_own(lab, instructor):
    upload = ContentFile(model_zip(), name="model.zip")

    for actor in (instructor, SYSTEM):
        with pytest.raises(PermissionDeniedError):
            services.submission_create(lab=lab, actor=actor, upload=upload, filename="model.zip")


def test_a_reference_or_a_try_it_request_is_never_stored_under_system(lab):
    upload = ContentFile(model_zip(), name="baseline.zip")
    with pytest.raises(ValueError, match="pass the instructor"):
        services.submission_create_reference(
            lab=lab, actor=SYSTEM, upload=upload, filename="baseline.zip"
        )
    scored = SubmissionFactory(lab=lab, status="scored")
    with pytest.raises(NotFoundError):
        services.tryit_create(submission=scored, actor=SYSTEM, text="hello")


def test_only_instructors_see_the_private_leaderboard_before_the_lab_closes(lab):
    assert (
        selectors.leaderboard_part(lab=lab, role=Membership.Role.INSTRUCTOR, requested="private")
        == "private"
    )
    assert (
        selectors.leaderboard_part(lab=lab, role=Membership.Role.STUDENT, requested=None)
        == "public"
    )
    with pytest.raises(PermissionDeniedError, match="revealed when the lab closes"):
        selectors.leaderboard_part(lab=lab, role=Membership.Role.STUDENT, requested="private")


@pytest.mark.parametrize("module", ["labs/views.py", "labs/api.py"])
def test_views_and_api_views_never_call_a_role_check(module):
    from courseware import permissions

    checks = {name for name in vars(permissions) if name.startswith("require_")}
    tree = ast.parse((Path(__file__).resolve().parents[3] / module).read_text(encoding="utf-8"))
    calls = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id in checks)
        or (isinstance(node, ast.Attribute) and node.attr in checks)
        or (isinstance(node, ast.alias) and node.name in checks)
    ]
    assert calls == [], f"{module} checks roles itself at lines {calls}: move it to a service"


# --- Teaching assistants: they watch, re-grade and cancel; they set nothing up ---------------


def test_a_teaching_assistant_sets_up_nothing(session12, lab, teaching_assistant):
    upload = ContentFile(model_zip(), name="baseline.zip")
    with pytest.raises(PermissionDeniedError):
        _create_lab(session12, teaching_assistant)
    with pytest.raises(PermissionDeniedError):
        services.lab_update(lab=lab, actor=teaching_assistant, title="Mine now")
    with pytest.raises(PermissionDeniedError):
        services.heldout_dataset_create(
            lab=lab, actor=teaching_assistant, upload=_heldout(), filename="heldout.csv"
        )
    with pytest.raises(PermissionDeniedError):
        services.submission_create_reference(
            lab=lab, actor=teaching_assistant, upload=upload, filename="baseline.zip"
        )
    with pytest.raises(PermissionDeniedError):
        services.submission_create(
            lab=lab, actor=teaching_assistant, upload=upload, filename="model.zip"
        )
    assert Lab.objects.get(pk=lab.pk).title == lab.title
    assert HeldOutDataset.objects.filter(lab=lab).count() == 1


def test_a_teaching_assistant_regrades_and_cancels(lab, student, teaching_assistant):
    SubmissionFactory(lab=lab, student=student, status="scored")
    queued = SubmissionFactory(lab=lab, student=student, status="queued")

    assert services.lab_regrade(lab=lab, actor=teaching_assistant) == 1
    cancelled = services.submission_cancel(submission=queued, actor=teaching_assistant)

    assert cancelled.status == "cancelled"


def test_a_teaching_assistant_sees_every_submission_and_the_private_part(
    lab, student, teaching_assistant
):
    theirs = SubmissionFactory(lab=lab, student=student)
    role = Membership.Role.TEACHING_ASSISTANT

    found, _role = selectors.submission_get(user=teaching_assistant, submission_id=theirs.pk)
    assert found == theirs
    assert list(selectors.submission_list(lab=lab, user=teaching_assistant, role=role)) == [theirs]
    assert selectors.leaderboard_part(lab=lab, role=role, requested="private") == "private"
    assert selectors.lab_get_for_staff(user=teaching_assistant, lab_id=lab.pk) == (lab, role)
    with pytest.raises(PermissionDeniedError):
        selectors.lab_get_for_instructor(user=teaching_assistant, lab_id=lab.pk)
