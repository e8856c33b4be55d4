"""The roster import page: upload a class list, preview what changes, confirm, see the counts.

Nothing is written before the confirm step, and then only if every row is still valid (the
service checks the file again). The role rule lives in the selector and the services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from core.forms import form_error_message
from courseware import selectors
from courseware.models import Course
from courseware.roster_forms import RosterConfirmForm, RosterUploadForm, sign_roster
from courseware.services import roster as roster_services

TEMPLATE = "courseware/roster_import.html"


def _people_url(course: Course) -> str | None:
    # The People page (course-people) is built beside this one; link to it once it exists.
    try:
        return reverse("course-people", kwargs={"code": course.slug})
    except NoReverseMatch:
        return None


def _render(request: HttpRequest, course: Course, status: int = 200, **context) -> HttpResponse:
    context = {"course": course, "people_url": _people_url(course), **context}
    return render(request, TEMPLATE, context, status=status)


def _preview(request: HttpRequest, course: Course) -> HttpResponse:
    form = RosterUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, course, status=400, form=form)
    data = form.cleaned_data["roster_file"]
    plan = roster_services.roster_preview(actor=request.user, course=course, data=data)
    payload = sign_roster(data, course_pk=course.pk, user_pk=request.user.pk)
    return _render(
        request,
        course,
        status=400 if plan.errors else 200,
        form=RosterUploadForm(),
        plan=plan,
        filename=request.FILES["roster_file"].name,
        confirm_form=RosterConfirmForm(
            initial={"payload": payload}, course_pk=course.pk, user_pk=request.user.pk
        ),
    )


def _confirm(request: HttpRequest, course: Course) -> HttpResponse:
    form = RosterConfirmForm(request.POST, course_pk=course.pk, user_pk=request.user.pk)
    if not form.is_valid():
        errors = [f"Nothing was imported. {form_error_message(form)}"]
        return _render(request, course, status=400, form=RosterUploadForm(), errors=errors)
    data = form.cleaned_data["payload"]
    try:
        result = roster_services.roster_import(actor=request.user, course=course, data=data)
    except roster_services.RosterInvalid as exc:
        # Accounts changed since the preview: show the rows that no longer import.
        plan = roster_services.roster_preview(actor=request.user, course=course, data=data)
        return _render(
            request, course, status=400, form=RosterUploadForm(), plan=plan, errors=[exc.message]
        )
    return _render(request, course, result=result)


@require_http_methods(["GET", "POST"])
@login_required
def roster_import(request: HttpRequest, code: str) -> HttpResponse:
    course = selectors.course_get_for_instructor(user=request.user, code=code)
    if request.method == "GET":
        return _render(request, course, form=RosterUploadForm())
    if "payload" in request.POST:
        return _confirm(request, course)
    return _preview(request, course)
