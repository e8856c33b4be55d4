"""The copy page: choose the new term and dates, preview what is copied, confirm.

Views parse input, call a selector or service and render; the rules live in
`offerings.selectors` / `offerings.services` (and courseware.permissions)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.exceptions import ApplicationError
from courseware import selectors as courseware_selectors
from offerings import selectors, services
from offerings.forms import CourseCopyForm


def _render(request: HttpRequest, context: dict, *, template: str, status: int = 200):
    return render(request, f"offerings/{template}.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def course_copy(request: HttpRequest, code: str) -> HttpResponse:
    source = courseware_selectors.course_get_for_instructor(user=request.user, code=code)
    form = CourseCopyForm(request.POST or None, initial={"title": source.title})
    context = {"course": source, "form": form}
    if request.method == "GET" or not form.is_valid():
        return _render(request, context, template="course_copy", status=400 if form.errors else 200)
    data = form.cleaned_data
    try:
        if "confirm" not in request.POST:
            context["plan"] = selectors.offering_copy_plan(
                user=request.user, source=source, term=data["term"], starts_on=data["starts_on"]
            )
            return _render(request, context, template="course_copy_preview")
        target = services.offering_copy(actor=request.user, source=source, **data)
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        form.add_error(None, exc.message)
        return _render(request, context, template="course_copy", status=400)
    messages.success(
        request,
        f"Copied {source.code} into {target.term}. The new offering is a draft: publish it in "
        "its settings when it is ready for students.",
    )
    return redirect("course-detail", code=target.slug)
