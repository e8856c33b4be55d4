"""Copying an offering's labs into a new term (`offerings.services.offering_copy` calls this
last, after sessions and quizzes).

A lab is copied with its settings (dates moved by the term offset) and every held-out dataset
version. Each dataset's file is copied to a new private file: the two labs never share one, so
deleting either offering leaves the other's data whole. A copied lab gets a fresh salt, so
next term's public/private split of the held-out rows differs from this term's (last term's
students cannot tell this term's which rows the leaderboard shows). Submissions, their
results and "Try it" predictions stay behind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction

from core.copying import copied_fields
from courseware.models import Course, Session
from courseware.permissions import Actor, require_instructor
from courseware.services.offerings import shift
from labs.models import HeldOutDataset, Lab


@dataclass(frozen=True)
class LabCopyPlan:
    lab: Lab
    dataset_versions: list[int]


def labs_copy_plan(*, course: Course) -> list[LabCopyPlan]:
    """What `labs_copy` would copy, for the preview."""
    labs = (
        Lab.objects.filter(session__course=course)
        .select_related("session")
        .prefetch_related("datasets")
        .order_by("session__number", "title")
    )
    return [
        LabCopyPlan(lab=lab, dataset_versions=sorted(d.version for d in lab.datasets.all()))
        for lab in labs
    ]


def _dataset_copy(*, old: HeldOutDataset, lab: Lab, written: list[str]) -> HeldOutDataset:
    new = HeldOutDataset(**copied_fields(old, skip=("file",)), lab=lab)
    with old.file.open("rb") as data:
        new.file.save(f"{uuid.uuid4().hex}.{old.format}", data, save=False)
    written.append(new.file.name)
    new.full_clean(validate_constraints=False)
    new.save()
    return new


def _lab_copy(*, old: Lab, session: Session, offset: timedelta, written: list[str]) -> Lab:
    new = Lab(**copied_fields(old), session=session)
    new.opens_at = shift(old.opens_at, offset)
    new.closes_at = shift(old.closes_at, offset)
    new.full_clean()
    new.save()
    for dataset in old.datasets.order_by("version"):
        _dataset_copy(old=dataset, lab=new, written=written)
    return new


@transaction.atomic
def labs_copy(
    *, actor: Actor, source: Course, target: Course, offset: timedelta, sessions: dict[int, Session]
) -> dict[int, Lab]:
    """Copy every lab of `source` into `target` (whose sessions `sessions` maps from the old
    sessions' ids). Files are not part of the database transaction: if the copy fails, the
    files it wrote are deleted before the error goes on, so a rolled-back copy leaves none."""
    require_instructor(user=actor, course=source)
    require_instructor(user=actor, course=target)
    written: list[str] = []
    try:
        return {
            old.pk: _lab_copy(
                old=old, session=sessions[old.session_id], offset=offset, written=written
            )
            for old in Lab.objects.filter(session__course=source)
        }
    except BaseException:
        storage = HeldOutDataset._meta.get_field("file").storage
        for name in written:
            storage.delete(name)
        raise
