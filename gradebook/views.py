"""The gradebook pages: the staff grid (instructors and TAs; only instructors change
anything), a student's "My grades" with what-if, and the CSV exports. Views parse input,
call one selector or service and render; selectors and services check the roles."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.decorators import htmx_login_required
from core.exceptions import ApplicationError
from core.forms import form_error_message
from courseware import selectors as courseware_selectors
from courseware.permissions import is_instructor, is_staff_role
from gradebook import exports, selectors, services
from gradebook.forms import (
    CategoryForm,
    GridQueryForm,
    ItemForm,
    ManualItemForm,
    OverrideForm,
    ReleaseForm,
    ScoresImportForm,
    SettingsForm,
    cutoffs_text,
)

EXPORTS = {"canvas": exports.canvas_csv, "moodle": exports.moodle_csv, "plain": exports.plain_csv}


@require_GET
@login_required
def gradebook(request: HttpRequest, code: str) -> HttpResponse:
    _course, role = courseware_selectors.course_get(user=request.user, code=code)
    if not is_staff_role(role):
        grades = selectors.my_grades(user=request.user, code=code)
        return render(request, "gradebook/my_grades.html", {"g": grades, "course": grades.course})
    query = GridQueryForm(request.GET)
    data = query.cleaned_data if query.is_valid() else {}
    grid = selectors.gradebook_grid(
        user=request.user,
        code=code,
        section=data.get("section") or "",
        sort=data.get("sort") or "name",
    )
    return render(
        request,
        "gradebook/grid.html",
        {
            "grid": grid,
            "course": grid.course,
            "can_edit": is_instructor(grid.role),
            "sort": data.get("sort") or "name",
        },
    )


def _cell_context(detail, form=None):
    return {
        "d": detail,
        "course": detail.course,
        "can_edit": is_instructor(detail.role),
        "form": form or OverrideForm(),
    }


@htmx_login_required
def cell(request: HttpRequest, code: str, item_id: int, student_id: int) -> HttpResponse:
    detail = selectors.cell_detail(
        user=request.user, code=code, item_id=item_id, student_id=student_id
    )
    if request.method == "POST":
        form = OverrideForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_error_message(form))
        else:
            try:
                _apply_override(request, detail, form.cleaned_data)
                messages.success(request, "Saved; the totals are updated.")
            except ApplicationError as error:
                if error.denies_access:
                    raise
                messages.error(request, error.message)
        detail = selectors.cell_detail(
            user=request.user, code=code, item_id=item_id, student_id=student_id
        )
    return render(request, "gradebook/_cell_detail.html", _cell_context(detail))


def _apply_override(request, detail, data) -> None:
    excused = data["excused"]
    if detail.cell is None or detail.cell.excused != excused:
        services.cell_excused_set(
            actor=request.user,
            item=detail.item,
            student=detail.student,
            excused=excused,
            reason=data["reason"],
        )
    current = detail.cell.override if detail.cell else None
    if data["override"] != current:
        services.cell_override_set(
            actor=request.user,
            item=detail.item,
            student=detail.student,
            override=data["override"],
            reason=data["reason"],
        )


@require_POST
@login_required
def item_release(request: HttpRequest, code: str, item_id: int) -> HttpResponse:
    item = selectors.grade_item_get_for_staff(user=request.user, code=code, item_id=item_id)
    form = ReleaseForm(request.POST)
    form.is_valid()
    services.grade_item_update(
        actor=request.user, item=item, released=form.cleaned_data["released"]
    )
    return redirect("gradebook", code=code)


@require_POST
@login_required
def item_create(request: HttpRequest, code: str) -> HttpResponse:
    course, _role = courseware_selectors.course_get(user=request.user, code=code)
    form = ManualItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_message(form))
    else:
        services.manual_item_create(actor=request.user, course=course, **form.cleaned_data)
        messages.success(request, f"Added {form.cleaned_data['title']}.")
    return redirect("gradebook", code=code)


@require_POST
@login_required
def scores_import(request: HttpRequest, code: str, item_id: int) -> HttpResponse:
    item = selectors.grade_item_get_for_staff(user=request.user, code=code, item_id=item_id)
    form = ScoresImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error_message(form))
        return redirect("gradebook", code=code)
    try:
        source = form.cleaned_data["file"].read().decode("utf-8")
        report = services.manual_scores_import(actor=request.user, item=item, source=source)
        messages.success(
            request, f"Imported: {report.updated} changed, {report.unchanged} unchanged."
        )
    except UnicodeDecodeError:
        messages.error(request, "Save the CSV as UTF-8 and upload it again.")
    except ApplicationError as error:
        if error.denies_access:
            raise
        messages.error(request, error.message)
    return redirect("gradebook", code=code)


@require_POST
@htmx_login_required
def what_if(request: HttpRequest, code: str) -> HttpResponse:
    hypothetical = {}
    for key, value in request.POST.items():
        if key.startswith("item-") and value.strip():
            try:
                hypothetical[int(key[5:])] = max(0.0, float(value))
            except ValueError:
                continue
    grades = selectors.my_grades(user=request.user, code=code, what_if=hypothetical)
    return render(request, "gradebook/_my_totals.html", {"g": grades, "course": grades.course})


@require_GET
@login_required
def export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    grid = selectors.gradebook_grid(user=request.user, code=code)
    if fmt not in EXPORTS:
        raise ApplicationError("not_found", "Exports: canvas, moodle or plain.", status_code=404)
    response = HttpResponse(EXPORTS[fmt](grid), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{grid.course.slug}-gradebook-{fmt}.csv"'
    )
    return response


# --- settings and categories (instructors) ---------------------------------------------------


@require_GET
@login_required
def setup(request: HttpRequest, code: str) -> HttpResponse:
    data = selectors.gradebook_setup(user=request.user, code=code)
    settings_form = SettingsForm(
        initial={
            "weighted": data.settings.weighted,
            "letter_cutoffs": cutoffs_text(data.settings.letter_cutoffs),
            "lab_choice": data.settings.lab_choice,
            "homework_mode": data.settings.homework_mode,
        }
    )
    return render(
        request,
        "gradebook/settings.html",
        {"s": data, "course": data.course, "settings_form": settings_form},
    )


def _save(request: HttpRequest, form, write, done: str) -> None:
    """Validate the form, run the write, flash what happened (access errors propagate)."""
    if not form.is_valid():
        messages.error(request, form_error_message(form))
        return
    try:
        write(form)
        messages.success(request, done)
    except ApplicationError as error:
        if error.denies_access:
            raise
        messages.error(request, error.message)


@require_POST
@login_required
def settings_update(request: HttpRequest, code: str) -> HttpResponse:
    course = courseware_selectors.course_get_for_instructor(user=request.user, code=code)
    _save(
        request,
        SettingsForm(request.POST),
        lambda f: services.gradebook_settings_update(
            actor=request.user, course=course, **f.cleaned_data
        ),
        "Settings saved; every total is recomputed.",
    )
    return redirect("gradebook-setup", code=code)


@require_POST
@login_required
def category_save(request: HttpRequest, code: str, category_id: int | None = None) -> HttpResponse:
    course = courseware_selectors.course_get_for_instructor(user=request.user, code=code)
    category = None
    if category_id is not None:
        category = selectors.grade_category_get_for_instructor(
            user=request.user, code=code, category_id=category_id
        )
    _save(
        request,
        CategoryForm(request.POST),
        lambda f: services.grade_category_save(
            actor=request.user, course=course, category=category, **f.cleaned_data
        ),
        f"Saved the category {request.POST.get('name', '').strip()}.",
    )
    return redirect("gradebook-setup", code=code)


@require_POST
@login_required
def category_delete(request: HttpRequest, code: str, category_id: int) -> HttpResponse:
    category = selectors.grade_category_get_for_instructor(
        user=request.user, code=code, category_id=category_id
    )
    _save(
        request,
        ReleaseForm(request.POST),  # no fields to read: the POST itself is the request
        lambda _f: services.grade_category_delete(actor=request.user, category=category),
        f"Deleted the category {category.name}.",
    )
    return redirect("gradebook-setup", code=code)


@require_POST
@login_required
def item_update(request: HttpRequest, code: str, item_id: int) -> HttpResponse:
    item = selectors.grade_item_get_for_instructor(user=request.user, code=code, item_id=item_id)
    _save(
        request,
        ItemForm(request.POST, course=item.course),
        lambda f: services.grade_item_update(actor=request.user, item=item, **f.changes(item)),
        f"Saved {item.title}.",
    )
    return redirect("gradebook-setup", code=code)
