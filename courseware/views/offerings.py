"""Portal pages for offerings: open a new course (course creators) and its settings
(instructors). Copying an offering lives in the `offerings` app, above quizzes and labs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.exceptions import ApplicationError
from courseware import selectors
from courseware.offering_forms import CourseCreateForm, OfferingDatesForm
from courseware.selectors.offerings import course_creator_get
from courseware.services import offerings


@require_http_methods(["GET", "POST"])
@login_required
def course_create(request: HttpRequest) -> HttpResponse:
    # Refused before showing a form that cannot succeed (the service checks again).
    course_creator_get(user=request.user)
    form = CourseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = offerings.offering_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            if exc.denies_access:
                raise
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Created {course.code} {course.term}: you teach it.")
            return redirect("course-detail", code=course.slug)
    status = 400 if form.errors else 200
    return render(request, "courseware/course_create.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def course_settings(request: HttpRequest, code: str) -> HttpResponse:
    course = selectors.course_get_for_instructor(user=request.user, code=code)
    initial = {f: getattr(course, f) for f in ("title", "starts_on", "ends_on", "state")}
    form = OfferingDatesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        course = offerings.course_update(actor=request.user, course=course, **form.cleaned_data)
        messages.success(request, f"Saved the settings of {course.code}.")
        return redirect("course-settings", code=course.slug)
    status = 400 if form.errors else 200
    context = {"course": course, "form": form}
    return render(request, "courseware/course_settings.html", context, status=status)
