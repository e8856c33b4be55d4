"""The mastery pages: a student's "My objectives", the staff heatmap (instructors and TAs,
read-only) and the instructor's page that tags labs and homework with objectives. Views parse
input, call one selector or service and render; selectors and services check the roles."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from courseware import selectors as courseware_selectors
from courseware.permissions import is_instructor, is_staff_role
from gradebook import mastery, mastery_selectors
from gradebook.forms import GridQueryForm


@require_GET
@login_required
def objectives(request: HttpRequest, code: str) -> HttpResponse:
    _course, role = courseware_selectors.course_get(user=request.user, code=code)
    if not is_staff_role(role):
        mine = mastery_selectors.my_objectives(user=request.user, code=code)
        return render(request, "gradebook/my_objectives.html", {"m": mine, "course": mine.course})
    query = GridQueryForm(request.GET)
    section = (query.cleaned_data.get("section") if query.is_valid() else "") or ""
    heatmap = mastery_selectors.mastery_heatmap(user=request.user, code=code, section=section)
    return render(
        request,
        "gradebook/mastery_heatmap.html",
        {"h": heatmap, "course": heatmap.course, "can_edit": is_instructor(role)},
    )


@require_GET
@login_required
def tagging(request: HttpRequest, code: str) -> HttpResponse:
    course, sessions = mastery_selectors.objective_tagging(user=request.user, code=code)
    return render(
        request, "gradebook/objective_tagging.html", {"course": course, "sessions": sessions}
    )


def _ids(values: list[str]) -> set[int]:
    return {int(v) for v in values if v.isdigit()}


@require_POST
@login_required
def tagging_save(request: HttpRequest, code: str, number: int) -> HttpResponse:
    session = mastery_selectors.session_get_for_tagging(user=request.user, code=code, number=number)
    # Every lab and task the form listed is sent (`lab`/`task` hidden fields), so one with
    # every box unticked loses its tags.
    labs = {i: _ids(request.POST.getlist(f"lab-{i}")) for i in _ids(request.POST.getlist("lab"))}
    tasks = {i: _ids(request.POST.getlist(f"task-{i}")) for i in _ids(request.POST.getlist("task"))}
    mastery.session_objective_links_set(actor=request.user, session=session, labs=labs, tasks=tasks)
    messages.success(request, f"Saved the tags of session {session.number}; mastery is updated.")
    return redirect("gradebook-objective-tags", code=code)
