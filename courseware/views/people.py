"""The People page: a course's members for its instructors, and the actions on each row.

Every action is a plain POST that redirects back to the page (with the filters the instructor
had) and says what happened in a flash message. Refusals that are about the input (the last
instructor, an email already enrolled) are flashed; a wrong role or course is the error page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.forms import form_error_message
from courseware import selectors
from courseware.models import Course, Membership
from courseware.people_forms import MemberAddForm, MemberUpdateForm, PeopleFilterForm
from courseware.selectors import people as people_selectors
from courseware.services import people as people_services


def _name(membership: Membership) -> str:
    return membership.user.get_full_name() or membership.user.get_username()


def _back(request: HttpRequest, course: Course) -> HttpResponse:
    """To the People page, keeping the filters (`next` is only ever a path on this site)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("course-people", code=course.slug)


def _flash_refusal(request: HttpRequest, exc: ApplicationError, prefix: str) -> None:
    if exc.denies_access:
        raise exc
    messages.error(request, f"{prefix}: {exc.message}")


def _render(request: HttpRequest, course: Course, add_form: MemberAddForm, *, status: int = 200):
    filters = PeopleFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    members = people_selectors.member_list(
        actor=request.user,
        course=course,
        role=chosen.get("role") or None,
        status=chosen.get("status") or None,
        section=chosen.get("section") or None,
    )
    context = {
        "course": course,
        "members": list(members),
        "filters": filters,
        "filtered": any(chosen.values()),
        "sections": people_selectors.member_sections(actor=request.user, course=course),
        "add_form": add_form,
        "roles": Membership.Role.choices,
        "here": request.get_full_path(),
    }
    return render(request, "courseware/people.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def course_people(request: HttpRequest, code: str) -> HttpResponse:
    course = selectors.course_get_for_instructor(user=request.user, code=code)
    if request.method == "GET":
        return _render(request, course, MemberAddForm())
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nobody was added: {form_error_message(form)}")
        return _render(request, course, form, status=400)
    try:
        membership, invited = people_services.member_add(
            actor=request.user, course=course, **form.cleaned_data
        )
    except ApplicationError as exc:
        _flash_refusal(request, exc, "Nobody was added")
        return _render(request, course, form, status=400)
    role = membership.get_role_display().lower()
    note = " and emailed an invitation to set a password" if invited else ""
    messages.success(request, f"Added {_name(membership)} as {role}{note}.")
    return redirect("course-people", code=course.slug)


def _member_action(
    request: HttpRequest, code: str, user_id: int, act: Callable[[Membership], str], failed: str
) -> HttpResponse:
    course = selectors.course_get_for_instructor(user=request.user, code=code)
    membership = people_selectors.member_get(actor=request.user, course=course, user_id=user_id)
    try:
        messages.success(request, act(membership))
    except ApplicationError as exc:
        _flash_refusal(request, exc, f"{failed} {_name(membership)}")
    else:
        if membership.user_id == request.user.pk:
            # Stepping down or out: the People page may no longer be theirs to see.
            return redirect("home")
    return _back(request, course)


@require_POST
@login_required
def course_person_update(request: HttpRequest, code: str, user_id: int) -> HttpResponse:
    def act(membership: Membership) -> str:
        form = MemberUpdateForm(request.POST)
        if not form.is_valid():
            raise ApplicationError("invalid_input", form_error_message(form))
        updated = people_services.member_update(
            actor=request.user, membership=membership, **form.cleaned_data
        )
        section = f", section {updated.section}" if updated.section else ", no section"
        return f"Saved: {_name(updated)} is {updated.get_role_display().lower()}{section}."

    return _member_action(request, code, user_id, act, "Not saved for")


@require_POST
@login_required
def course_person_unenrol(request: HttpRequest, code: str, user_id: int) -> HttpResponse:
    def act(membership: Membership) -> str:
        people_services.member_unenrol(actor=request.user, membership=membership)
        return (
            f"Unenrolled {_name(membership)}: their work is kept, and re-enrolling restores "
            "their access."
        )

    return _member_action(request, code, user_id, act, "Could not unenrol")


@require_POST
@login_required
def course_person_reenrol(request: HttpRequest, code: str, user_id: int) -> HttpResponse:
    def act(membership: Membership) -> str:
        people_services.member_reenrol(actor=request.user, membership=membership)
        return f"Re-enrolled {_name(membership)} as {membership.get_role_display().lower()}."

    return _member_action(request, code, user_id, act, "Could not re-enrol")


@require_POST
@login_required
def course_person_invite(request: HttpRequest, code: str, user_id: int) -> HttpResponse:
    def act(membership: Membership) -> str:
        people_services.member_invite_resend(actor=request.user, membership=membership)
        return f"Sent {_name(membership)} a new invitation to {membership.user.email}."

    return _member_action(request, code, user_id, act, "Could not invite")
