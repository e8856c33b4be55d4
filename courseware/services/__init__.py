from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.actors import is_system
from core.events import grade_source_changed_on_commit
from core.exceptions import ApplicationError
from courseware.decks import ParsedDeck, parse_deck
from courseware.models import (
    Course,
    HomeworkCompletion,
    HomeworkTask,
    LearningObjective,
    Membership,
    Session,
    course_slug,
)
from courseware.permissions import (
    Actor,
    require_course_creator,
    require_instructor,
    require_self,
    require_student,
    require_writable,
)

User = get_user_model()


@transaction.atomic
def course_create(
    *,
    actor: Actor,
    code: str,
    title: str,
    term: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    state: str = Course.State.PUBLISHED,
) -> Course:
    require_course_creator(user=actor)
    code, term = code.strip(), term.strip()
    course = Course(
        code=code,
        term=term,
        slug=course_slug(code, term),
        title=title.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        state=state,
    )
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def membership_set(*, actor: Actor, course: Course, user, role: str) -> Membership:
    """Enrol `user` in `course` with `role`, or change their role if already enrolled."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    membership = Membership.objects.filter(course=course, user=user).first() or Membership(
        course=course, user=user
    )
    membership.role = role
    membership.full_clean(validate_constraints=False)
    membership.save()
    return membership


@dataclass(frozen=True)
class DeckImport:
    session: Session
    created: bool
    deck: ParsedDeck
    removed_homework: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        verb = "Imported" if self.created else "Updated"
        s = self.session
        return (
            f'{verb} {s.course.code} session {s.number} "{s.title}" '
            f"(lecturer {s.lecturer or 'not named'}): {len(self.deck.objectives)} objectives, "
            f"{len(self.deck.homework)} homework tasks, {len(self.deck.slides)} slides."
        )


def _sync_ordered(*, model, session: Session, texts: list[str]) -> list[str]:
    """Update rows in place by position so their ids (and homework completions) survive a
    re-import; create missing rows, delete surplus ones. Returns the texts removed."""
    existing = {row.position: row for row in model.objects.filter(session=session)}
    for position, text in enumerate(texts, start=1):
        row = existing.pop(position, None) or model(session=session, position=position)
        if row.pk is None or row.text != text:
            row.text = text
            row.full_clean(validate_constraints=False)
            row.save()
    removed = [row.text for row in existing.values()]
    model.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    return removed


@transaction.atomic
def session_import_deck(
    *, actor: Actor, course: Course, source: str, filename: str = ""
) -> DeckImport:
    """Create or update a session from a Marp deck. Re-importing updates in place: the same
    session, objective and homework rows (so completion records are kept). A deck that
    cannot be parsed raises DeckError and writes nothing."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    deck = parse_deck(source)
    session = Session.objects.select_for_update().filter(course=course, number=deck.number).first()
    created = session is None
    if created:
        session = Session(course=course, number=deck.number)
    session.title = deck.title
    session.lecturer = deck.lecturer
    session.homework_intro = deck.homework_intro
    if deck.date is not None:
        session.date = deck.date
    session.slides_source = source
    session.slides_html = deck.slides_html
    session.slide_count = len(deck.slides)
    session.speaker_notes = deck.speaker_notes
    session.deck_filename = filename[:255]
    session.full_clean(validate_constraints=False)
    session.save()
    _sync_ordered(model=LearningObjective, session=session, texts=deck.objectives)
    removed = _sync_ordered(model=HomeworkTask, session=session, texts=deck.homework)
    return DeckImport(session=session, created=created, deck=deck, removed_homework=removed)


@transaction.atomic
def homework_completion_set(*, actor: Actor, task: HomeworkTask, done: bool, student=None) -> bool:
    """Tick or untick a homework task for a student (the actor themself unless SYSTEM names
    another). Idempotent; returns the new state."""
    student = actor if student is None else student
    require_self(actor=actor, user=student)
    require_student(user=student, course=task.session.course)
    require_writable(actor=actor, course=task.session.course)
    if done:
        HomeworkCompletion.objects.get_or_create(task=task, student=student)
    else:
        HomeworkCompletion.objects.filter(task=task, student=student).delete()
    grade_source_changed_on_commit(
        source="homework", source_id=task.pk, user_id=student.pk, course_id=task.session.course_id
    )
    return done


@transaction.atomic
def homework_due_set(*, actor: Actor, task: HomeworkTask, due_at: datetime | None) -> HomeworkTask:
    require_instructor(user=actor, course=task.session.course)
    require_writable(actor=actor, course=task.session.course)
    task.due_at = due_at
    task.full_clean(validate_constraints=False)
    task.save(update_fields=["due_at", "updated_at"])
    grade_source_changed_on_commit(
        source="homework", source_id=task.pk, course_id=task.session.course_id
    )
    return task


def _require_person(actor: Actor) -> None:
    """API tokens belong to people: SYSTEM (a command) and anonymous visitors have none."""
    if is_system(actor):
        raise ApplicationError("no_person", f"{actor} has no API token: tokens are per person.")
    if not actor.is_authenticated:
        raise ApplicationError(
            "not_authenticated", "Log in to create an API token.", status_code=401
        )


@transaction.atomic
def api_token_create(*, actor: Actor) -> Token:
    """Replace the actor's API token with a fresh one (the old key stops working at once)."""
    _require_person(actor)
    Token.objects.filter(user=actor).delete()
    return Token.objects.create(user=actor)


@transaction.atomic
def api_token_get_or_create(*, actor: Actor) -> Token:
    """The actor's current token, created if they have none (the student client's login:
    unlike api_token_create it does not revoke the token on the user's other devices)."""
    _require_person(actor)
    token, _created = Token.objects.get_or_create(user=actor)
    return token


@transaction.atomic
def api_token_revoke(*, actor: Actor) -> bool:
    _require_person(actor)
    deleted, _ = Token.objects.filter(user=actor).delete()
    return deleted > 0


def is_overdue(task: HomeworkTask) -> bool:
    return task.due_at is not None and task.due_at < timezone.now()
