"""Roster import: enrol a class list (CSV from the student system) in a course.

`roster_preview` says what an import would do and writes nothing; `roster_import` checks the
file again inside one transaction and applies it, or raises `RosterInvalid` and writes
nothing. Only the course's instructors may do either (a teaching assistant may not).

The rules (docs/people.md, "Importing a roster"):

- A row is matched to an account by email (case-insensitive), else by student id. A row with
  no account creates one (no password) and invites it by email once the import commits.
- A matched account's email is never changed, and its names and student id are only filled
  in where blank: a student id that differs from the account's, or that belongs to another
  account, is a row error.
- A blank cell never clears anything: a blank role is `student` for a new member and keeps an
  existing member's role; a blank section keeps the section.
- A row for an unenrolled member re-enrols them. People not in the file are left alone.
- The uploader's own role never changes (an instructor cannot demote themself by a file).
- Re-importing the same file changes nothing and sends no email.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Profile
from core.actors import is_system
from core.exceptions import ApplicationError
from courseware.models import Course, Membership
from courseware.permissions import Actor, require_instructor, require_writable
from courseware.roster import RosterError, RosterRow, RowError, parse_roster

User = get_user_model()

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


class RosterInvalid(ApplicationError):
    """400 `roster_invalid`; `errors` (and the API body's `rows`) name each row and column."""

    def __init__(self, errors: list[RowError]) -> None:
        count = len(errors)
        super().__init__(
            "roster_invalid",
            f"Nothing was imported: the roster has {count} error{'s' if count != 1 else ''}. "
            "Correct the rows listed and upload the file again.",
            extra={
                "rows": [{"row": e.row, "column": e.column, "message": e.message} for e in errors]
            },
        )
        self.errors = errors


@dataclass(frozen=True)
class RosterChange:
    """What importing one row does. `user` is None for an account still to be created."""

    row: RosterRow
    action: str
    user: AbstractBaseUser | None = None
    membership: Membership | None = None
    details: tuple[str, ...] = ()
    # The uploader's own row: its role cell is ignored.
    keeps_role: bool = False

    @property
    def role(self) -> str:
        if self.row.role and not self.keeps_role:
            return self.row.role
        return self.membership.role if self.membership else Membership.Role.STUDENT

    @property
    def section(self) -> str:
        return self.row.section or (self.membership.section if self.membership else "")

    @property
    def role_label(self) -> str:
        return Membership.Role(self.role).label


@dataclass(frozen=True)
class RosterPlan:
    changes: list[RosterChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def _count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def created(self) -> int:
        return self._count(CREATE)

    @property
    def updated(self) -> int:
        return self._count(UPDATE)

    @property
    def unchanged(self) -> int:
        return self._count(UNCHANGED)

    @property
    def invited(self) -> int:
        return sum(1 for c in self.changes if c.user is None)

    def counts(self) -> RosterResult:
        return RosterResult(
            created=self.created, updated=self.updated, unchanged=self.unchanged,
            invited=self.invited,
        )  # fmt: skip


@dataclass(frozen=True)
class RosterResult:
    created: int
    updated: int
    unchanged: int
    invited: int

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "invited": self.invited,
        }

    @property
    def summary(self) -> str:
        return (
            f"{self.created} added, {self.updated} updated, {self.unchanged} unchanged; "
            f"{self.invited} invitation{'s' if self.invited != 1 else ''} sent."
        )


# --- Planning (reads only) -------------------------------------------------------------------


def _account_for(row: RosterRow) -> tuple[AbstractBaseUser | None, list[RowError]]:
    user = account_selectors.user_by_email(email=row.email)
    holder = (
        Profile.objects.select_related("user").filter(student_id=row.student_id).first()
        if row.student_id
        else None
    )
    if user is None:
        return (holder.user if holder else None), []
    if holder and holder.user_id != user.pk:
        return user, [
            RowError(
                row.row,
                "student_id",
                f"Student id {row.student_id} belongs to another account than {row.email}'s: "
                "correct the roster, or ask an administrator to correct the accounts.",
            )
        ]
    current = account_selectors.profile_of(user=user).student_id
    if row.student_id and current and current != row.student_id:
        return user, [
            RowError(
                row.row,
                "student_id",
                f"The account {row.email} has student id {current}, not {row.student_id}: "
                "correct the roster, or ask an administrator to correct the account.",
            )
        ]
    return user, []


def _account_details(row: RosterRow, user: AbstractBaseUser) -> list[str]:
    details = []
    if row.email.lower() != user.email.lower():
        details.append(f"matched by student id (the account's email {user.email} is kept)")
    if row.first_name and not user.first_name:
        details.append("first name filled in")
    if row.last_name and not user.last_name:
        details.append("last name filled in")
    if row.student_id and not account_selectors.profile_of(user=user).student_id:
        details.append("student id filled in")
    return details


def _membership_details(
    row: RosterRow, membership: Membership, *, is_uploader: bool
) -> tuple[list[str], bool]:
    """What changes on an existing membership, and whether the row's role is ignored."""
    details = []
    if not membership.is_active:
        details.append("re-enrolled")
    keeps_role = is_uploader and bool(row.role) and row.role != membership.role
    if keeps_role:
        details.append("your own role is kept")
    elif row.role and row.role != membership.role:
        details.append(
            f"role {membership.get_role_display().lower()} → "
            f"{Membership.Role(row.role).label.lower()}"
        )
    if row.section and row.section != membership.section:
        details.append(f"section “{membership.section}” → “{row.section}”")
    return details, keeps_role


def _plan_row(*, actor: Actor, course: Course, row: RosterRow) -> RosterChange | list[RowError]:
    user, errors = _account_for(row)
    if errors:
        return errors
    if user is None:
        return RosterChange(row=row, action=CREATE, details=("new account, invited by email",))
    membership = Membership.objects.filter(course=course, user=user).first()
    details = _account_details(row, user)
    if membership is None:
        return RosterChange(
            row=row, action=CREATE, user=user, details=("existing account", *details)
        )
    is_uploader = not is_system(actor) and actor.pk == user.pk
    member_details, keeps_role = _membership_details(row, membership, is_uploader=is_uploader)
    changes = [*details, *member_details]
    significant = [d for d in changes if d != "your own role is kept"]
    return RosterChange(
        row=row,
        action=UPDATE if significant else UNCHANGED,
        user=user,
        membership=membership,
        details=tuple(changes),
        keeps_role=keeps_role,
    )


def _plan(*, actor: Actor, course: Course, data: bytes) -> RosterPlan:
    try:
        rows = parse_roster(data)
    except RosterError as exc:
        return RosterPlan(errors=exc.errors)
    plan = RosterPlan()
    seen: dict[int, int] = {}
    for row in rows:
        outcome = _plan_row(actor=actor, course=course, row=row)
        if isinstance(outcome, list):
            plan.errors.extend(outcome)
            continue
        if outcome.user is not None:
            # Two rows (one by email, one by student id) can name the same account.
            first = seen.setdefault(outcome.user.pk, row.row)
            if first != row.row:
                plan.errors.append(
                    RowError(row.row, "email", f"The same person as row {first}: list each once.")
                )
                continue
        plan.changes.append(outcome)
    return plan


def roster_preview(*, actor: Actor, course: Course, data: bytes) -> RosterPlan:
    """What importing `data` would create, update and leave alone, and its row errors. Writes
    nothing."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    return _plan(actor=actor, course=course, data=data)


def roster_dry_run(*, actor: Actor, course: Course, data: bytes) -> RosterResult:
    """What `roster_import` would count, or RosterInvalid; writes nothing."""
    plan = roster_preview(actor=actor, course=course, data=data)
    if plan.errors:
        raise RosterInvalid(plan.errors)
    return plan.counts()


# --- Applying ---------------------------------------------------------------------------------


def _save(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ApplicationError("invalid_input", " ".join(exc.messages)) from None
    obj.save()


def _fill_account(change: RosterChange, user: AbstractBaseUser) -> None:
    row = change.row
    if (row.first_name and not user.first_name) or (row.last_name and not user.last_name):
        user.first_name = user.first_name or row.first_name
        user.last_name = user.last_name or row.last_name
        _save(user)
    if row.student_id:
        profile = account_services.profile_get_or_create(user=user)
        if not profile.student_id:
            profile.student_id = row.student_id
            _save(profile)


def _create_account(*, actor: Actor, row: RosterRow) -> AbstractBaseUser:
    try:
        return account_services.account_create(
            actor=actor,
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            student_id=row.student_id,
        )
    except ApplicationError as exc:
        # The accounts service is stricter or newer than the plan (e.g. an account made since).
        column = "student_id" if exc.code == "student_id_taken" else "email"
        raise RosterInvalid([RowError(row.row, column, exc.message)]) from None


def _invite(actor: Actor, user: AbstractBaseUser) -> None:
    account_services.account_invite(actor=actor, user=user)


def _apply(*, actor: Actor, course: Course, change: RosterChange) -> None:
    user = change.user
    if user is None:
        user = _create_account(actor=actor, row=change.row)
        # After commit, so a rolled-back import sends nothing; a failed send is logged and
        # the People page's "resend" covers it.
        transaction.on_commit(partial(_invite, actor, user), robust=True)
    else:
        _fill_account(change, user)
    membership = change.membership or Membership(course=course, user=user)
    membership.role = change.role
    membership.section = change.section
    membership.is_active, membership.unenrolled_at = True, None
    _save(membership)


@transaction.atomic
def roster_import(*, actor: Actor, course: Course, data: bytes) -> RosterResult:
    """Apply a roster file; RosterInvalid (and nothing written) if any row has an error."""
    require_instructor(user=actor, course=course)
    require_writable(actor=actor, course=course)
    # One import of a course at a time: the second sees the first's accounts.
    Course.objects.select_for_update().filter(pk=course.pk).first()
    plan = _plan(actor=actor, course=course, data=data)
    if plan.errors:
        raise RosterInvalid(plan.errors)
    for change in plan.changes:
        if change.action != UNCHANGED:
            _apply(actor=actor, course=course, change=change)
    return plan.counts()
