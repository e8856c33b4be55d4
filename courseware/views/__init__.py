"""Server-rendered portal for students and instructors.

Views are thin: validate input with a form, call a selector or service, render. Access rules
live in selectors/services (courseware.permissions); an ApplicationError they raise becomes an error
page in core.middleware.ApplicationErrorMiddleware.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.decorators import htmx_login_required
from core.exceptions import ApplicationError
from core.forms import form_error_message
from core.middleware import is_htmx
from courseware import selectors, services
from courseware.deck_images import deck_blocked_images
from courseware.decks import DeckError
from courseware.forms import (
    DeckConfirmForm,
    DeckUploadForm,
    HomeworkDueForm,
    HomeworkToggleForm,
    TokenActionForm,
)
from courseware.models import Course, HomeworkTask, Membership, Session
from courseware.permissions import is_instructor, is_staff_role
from courseware.selectors import students
from courseware.selectors.offerings import can_create_courses

PREVIEW_SLIDES = 3


@dataclass(frozen=True)
class TaskItem:
    """A homework task as one viewer sees it."""

    task: HomeworkTask
    done: bool = False
    done_count: int = 0
    due_form: HomeworkDueForm | None = None


# --- Home, course, session -------------------------------------------------------------------


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(selectors.membership_list(user=request.user))
    is_student = any(m.role == Membership.Role.STUDENT for m in memberships)
    upcoming = selectors.homework_upcoming(user=request.user) if is_student else []
    return render(
        request,
        "courseware/home.html",
        {
            "memberships": memberships,
            "is_student": is_student,
            "upcoming": upcoming,
            "can_create_courses": can_create_courses(user=request.user),
        },
    )


@require_GET
@login_required
def course_detail(request: HttpRequest, code: str) -> HttpResponse:
    course, role = selectors.course_get(user=request.user, code=code)
    sessions = list(selectors.session_list(course=course))
    # Teaching assistants see the staff page (the completion grid); only instructors get the
    # buttons that change the course.
    context = {
        "course": course,
        "role": role,
        "is_instructor": is_instructor(role),
        "is_staff": is_staff_role(role),
    }
    if is_staff_role(role):
        scope = students.student_scope(
            user=request.user, course=course, section=request.GET.get("section", "")
        )
        context["sessions"] = [(s, None) for s in sessions]
        context["scope"] = scope
        context["grid"] = selectors.completion_grid(course=course, section=scope.section)
    else:
        progress = selectors.session_progress(user=request.user, course=course)
        context["sessions"] = [(s, progress.get(s.pk, (0, s.homework_count))) for s in sessions]
    return render(request, "courseware/course_detail.html", context)


def _student_items(*, user, session: Session) -> list[TaskItem]:
    tasks = list(session.homework.all())
    done_ids = selectors.completed_task_ids(user=user, tasks=tasks)
    return [TaskItem(task=t, done=t.pk in done_ids) for t in tasks]


def _instructor_items(*, session: Session, section: str = "") -> list[TaskItem]:
    counts = selectors.homework_done_counts(session=session, section=section)
    return [
        TaskItem(
            task=t,
            done_count=counts.get(t.pk, 0),
            due_form=HomeworkDueForm(initial={"due_at": t.due_at}, prefix=f"task-{t.pk}"),
        )
        for t in session.homework.all()
    ]


@require_GET
@login_required
def session_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    course, role = selectors.course_get(user=request.user, code=code)
    session = selectors.session_get(course=course, number=number)
    staff = is_staff_role(role)
    context = {
        "course": course,
        "session": session,
        "role": role,
        "is_instructor": is_instructor(role),
        "is_staff": staff,
    }
    if staff:
        scope = students.student_scope(
            user=request.user, course=course, section=request.GET.get("section", "")
        )
        context["scope"] = scope
        context["items"] = _instructor_items(session=session, section=scope.section)
        context["students_count"] = selectors.course_students(
            course=course, section=scope.section
        ).count()
    else:
        context["items"] = _student_items(user=request.user, session=session)
        context["students_count"] = 0
    return render(request, "courseware/session_detail.html", context)


# --- Homework ------------------------------------------------------------------------------


@require_POST
@htmx_login_required
def homework_toggle(request: HttpRequest, task_id: int) -> HttpResponse:
    task, _role = selectors.homework_task_get(user=request.user, task_id=task_id)
    form = HomeworkToggleForm(request.POST)
    if not form.is_valid():
        raise ApplicationError("invalid_input", "Send done=1 or done=0.")
    done = services.homework_completion_set(
        actor=request.user, task=task, done=form.cleaned_data["done"]
    )
    if is_htmx(request):
        return render(
            request,
            "courseware/_homework_item.html",
            {"item": TaskItem(task=task, done=done), "is_instructor": False, "is_staff": False},
        )
    messages.success(
        request, f"Saved: task {task.position} marked {'done' if done else 'not done'}."
    )
    return redirect("session-detail", code=task.session.course.slug, number=task.session.number)


@require_POST
@login_required
def homework_due(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.homework_task_get_for_instructor(user=request.user, task_id=task_id)
    form = HomeworkDueForm(request.POST, prefix=f"task-{task.pk}")
    if form.is_valid():
        services.homework_due_set(actor=request.user, task=task, due_at=form.cleaned_data["due_at"])
        state = "cleared" if task.due_at is None else "saved"
        messages.success(request, f"Due date {state} for task {task.position}.")
    else:
        messages.error(request, f"Task {task.position}: {form_error_message(form)}")
    return redirect("session-detail", code=task.session.course.slug, number=task.session.number)


# --- Deck import ---------------------------------------------------------------------------


def _render_upload(
    request: HttpRequest,
    course: Course,
    form: DeckUploadForm,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {"course": course, "form": form, "errors": errors or []}
    return render(request, "courseware/deck_import.html", context, status=status)


def _render_preview(request: HttpRequest, course: Course, cleaned: dict) -> HttpResponse:
    deck = cleaned["deck"]
    confirm = DeckConfirmForm(
        initial={"source": cleaned["source"], "filename": cleaned["filename"]}
    )
    plan = selectors.deck_import_plan(
        course=course, number=deck.number, homework_count=len(deck.homework)
    )
    context = {
        "course": course,
        "deck": deck,
        "plan": plan,
        "filename": cleaned["filename"],
        "preview_slides": deck.slides[:PREVIEW_SLIDES],
        "confirm_form": confirm,
        "blocked_images": deck_blocked_images(
            deck=deck, self_origin=f"{request.scheme}://{request.get_host()}"
        ),
    }
    return render(request, "courseware/deck_preview.html", context)


def _import_confirmed(request: HttpRequest, course: Course) -> HttpResponse:
    form = DeckConfirmForm(request.POST)
    if not form.is_valid():
        errors = [f"Nothing was imported. {form_error_message(form)}"]
        return _render_upload(request, course, DeckUploadForm(), errors=errors, status=400)
    try:
        result = services.session_import_deck(
            actor=request.user,
            course=course,
            source=form.cleaned_data["source"],
            filename=form.cleaned_data["filename"],
        )
    except DeckError as exc:
        errors = [f"Nothing was imported. {exc.message}"]
        return _render_upload(request, course, DeckUploadForm(), errors=errors, status=400)
    messages.success(request, result.summary)
    return redirect("session-detail", code=course.slug, number=result.session.number)


@require_http_methods(["GET", "POST"])
@login_required
def deck_import(request: HttpRequest, code: str) -> HttpResponse:
    course = selectors.course_get_for_instructor(user=request.user, code=code)
    if request.method == "GET":
        return _render_upload(request, course, DeckUploadForm())
    if "source" in request.POST:
        return _import_confirmed(request, course)
    form = DeckUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_upload(request, course, form, status=400)
    return _render_preview(request, course, form.cleaned_data)


# --- Account -------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def account_token(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        form = TokenActionForm(request.POST)
        if not form.is_valid():
            raise ApplicationError("invalid_input", "Choose to create or revoke a token.")
        if form.cleaned_data["action"] == "revoke":
            revoked = services.api_token_revoke(actor=request.user)
            messages.success(request, "Token revoked." if revoked else "You had no token.")
            return redirect("account-token")
        new_key = services.api_token_create(actor=request.user).key
    context = {
        "token": selectors.api_token_get(user=request.user),
        "new_key": new_key,
        "api_url": request.build_absolute_uri("/api/v1/courses/"),
    }
    return render(request, "account/token.html", context)
