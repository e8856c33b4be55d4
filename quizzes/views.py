"""Quiz portal pages for students (take a quiz, review it, score history) and instructors
(GIFT import, results, statistics, essay marking, regrading, quiz settings, the quiz's
questions and per-student overrides).

Views are thin: a form checks the input, a selector or service does the work. Access rules
live in the selectors and services (courseware.permissions); an ApplicationError they raise becomes
an error page or an HTMX fragment in core.middleware. What a student sees of an attempt comes
from `selectors.attempt_display` (never answers) and `selectors.attempt_review` (the quiz's
review options) only.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.decorators import htmx_login_required
from core.exceptions import ApplicationError
from core.forms import form_error_message as _form_error_message
from core.middleware import is_htmx
from courseware import selectors as courseware_selectors
from courseware.models import Course
from courseware.permissions import is_instructor, is_staff_role
from courseware.selectors import students
from quizzes import errors, reports, selectors, services
from quizzes.content import DESCRIPTION
from quizzes.forms import (
    AttemptAnswersForm,
    BankFilterForm,
    EssayMarkForm,
    QuestionImportConfirmForm,
    QuestionImportForm,
    QuizOverrideForm,
    QuizQuestionsAddForm,
    QuizRandomAddForm,
    QuizSettingsForm,
    StatisticsForm,
)
from quizzes.models import Attempt, Quiz, QuizSlot
from quizzes.parsing import QuestionFileError
from quizzes.review import DURING

#: Codes after which an attempt page has nothing left to do but show the review.
ATTEMPT_OVER = ("attempt_overdue", "attempt_finished")
TIME_UP = "Time is up: your attempt was submitted with the answers saved before the deadline."
CLOSED = (
    "The quiz closed for you at {closes}: your attempt was submitted with the answers saved "
    "before then."
)


def _time_up_message(attempt: Attempt) -> str:
    """Why an attempt ended on its own: the close date or the time limit."""
    if selectors.attempt_ended_by_close(attempt=attempt):
        closes = timezone.localtime(attempt.deadline).strftime("%H:%M")
        return CLOSED.format(closes=closes)
    return TIME_UP


def _attempt_url(name: str, attempt: Attempt) -> str:
    return reverse(name, args=[attempt.pk])


# --- Quiz list, quiz page ---------------------------------------------------------------------


@require_GET
@login_required
def quiz_list(request: HttpRequest, code: str) -> HttpResponse:
    course, role = courseware_selectors.course_get(user=request.user, code=code)
    staff = is_staff_role(role)
    accesses = selectors.quiz_list(user=request.user, course=course)
    sessions = [
        (session, list(items))
        for session, items in groupby(accesses, key=lambda access: access.quiz.session)
    ]
    history = [] if staff else selectors.score_history(user=request.user, course=course)
    context = {
        "course": course,
        "role": role,
        "is_instructor": is_instructor(role),
        "is_staff": staff,
        "sessions": sessions,
        "history": history,
    }
    return render(request, "quizzes/quiz_list.html", context)


def _history_for(user, quiz: Quiz) -> selectors.QuizHistory | None:
    history = selectors.score_history(user=user, course=quiz.session.course)
    return next((h for h in history if h.quiz.pk == quiz.pk), None)


@require_GET
@login_required
def quiz_detail(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz, role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
    staff = is_staff_role(role)
    question_count, max_grade = selectors.quiz_outline(quiz)
    context: dict[str, Any] = {
        "quiz": quiz,
        "course": quiz.session.course,
        "role": role,
        "is_instructor": is_instructor(role),
        "is_staff": staff,
        "access": selectors.quiz_access(quiz=quiz, user=request.user),
        "question_count": question_count,
        "max_grade": max_grade,
    }
    if staff:
        context["slots"] = selectors.quiz_slot_list(quiz=quiz)
        context["essay_count"] = selectors.essay_marking_queue(
            course=quiz.session.course, quiz=quiz
        ).count()
        context["attempt_count"] = quiz.attempts.filter(state=Attempt.State.FINISHED).count()
        context["overrides"] = list(selectors.quiz_override_list(quiz=quiz))
    else:
        context["history"] = _history_for(request.user, quiz)
    return render(request, "quizzes/quiz_detail.html", context)


@require_POST
@login_required
def attempt_start(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz, _role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
    try:
        attempt = services.attempt_start(actor=request.user, quiz=quiz)
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, exc.message)
        return redirect("quiz-detail", quiz_id=quiz.pk)
    return redirect("quiz-attempt", attempt_id=attempt.pk)


# --- Answering --------------------------------------------------------------------------------


def _own_attempt_in_progress(request: HttpRequest, attempt_id: int) -> tuple[Attempt, Any]:
    """(attempt, None), or (attempt, redirect) when the page should show the review instead:
    the attempt is submitted (perhaps just now, because time ran out) or belongs to someone
    else (an instructor)."""
    attempt = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
    timed_out = services.attempt_finalize_if_overdue(attempt=attempt)
    if attempt.user_id != request.user.pk:
        return attempt, redirect("quiz-attempt-review", attempt_id=attempt.pk)
    if attempt.state == Attempt.State.FINISHED:
        if timed_out:  # time ran out since the last request
            messages.info(request, _time_up_message(attempt))
        return attempt, redirect("quiz-attempt-review", attempt_id=attempt.pk)
    return attempt, None


def _attempt_context(attempt: Attempt) -> dict[str, Any]:
    display = selectors.attempt_display(attempt=attempt)
    questions = display["questions"]
    graded = [q for q in questions if q["type"] != DESCRIPTION]
    return {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "course": attempt.quiz.session.course,
        "header": display["attempt"],
        "questions": questions,
        "graded_count": len(graded),
        "unanswered": [q for q in graded if not q["answered"]],
    }


@never_cache
@require_GET
@login_required
def attempt_page(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt, elsewhere = _own_attempt_in_progress(request, attempt_id)
    if elsewhere is not None:
        return elsewhere
    return render(request, "quizzes/attempt.html", _attempt_context(attempt))


def _time_up(request: HttpRequest, attempt: Attempt, exc: ApplicationError) -> HttpResponse:
    """The answer came too late or to a submitted attempt: go to the review."""
    review = _attempt_url("quiz-attempt-review", attempt)
    messages.info(
        request, _time_up_message(attempt) if exc.code == "attempt_overdue" else exc.message
    )
    if is_htmx(request):
        response = HttpResponse("")
        response["HX-Redirect"] = review
        return response
    return redirect(review)


def _live_feedback(request: HttpRequest, attempt: Attempt, slot: int) -> dict[str, Any] | None:
    """The saved question as the quiz's review options for the current window (during the
    attempt) let the student see it, or None when they show nothing then. The question comes
    from `attempt_display`, which adds only what those options allow."""
    window, options = selectors.review_options_for(attempt=attempt, user=request.user)
    if window != DURING or not any(options.values()):
        return None
    questions = selectors.attempt_display(attempt=attempt)["questions"]
    return next((q for q in questions if q["slot"] == slot), None)


@never_cache
@require_POST
@htmx_login_required
def answer_save(request: HttpRequest, attempt_id: int, slot: int) -> HttpResponse:
    """Autosave of one question (HTMX): answers with the question's save status."""
    attempt = selectors.attempt_get_for_change(user=request.user, attempt_id=attempt_id)
    if services.attempt_finalize_if_overdue(attempt=attempt):
        return _time_up(request, attempt, errors.attempt_overdue())
    questions = selectors.attempt_display(attempt=attempt)["questions"]
    question = next((q for q in questions if q["slot"] == slot), None)
    if question is None or question["type"] == DESCRIPTION:
        raise errors.no_question_in_attempt(slot)
    context: dict[str, Any] = {"slot": slot}
    try:
        response = AttemptAnswersForm([question], request.POST).responses()[slot]
        saved = services.attempt_answer_save(
            actor=request.user, attempt=attempt, slot=slot, response=response
        )
    except ApplicationError as exc:
        if exc.code in ATTEMPT_OVER:
            return _time_up(request, attempt, exc)
        if exc.code != "invalid_response":
            raise
        context["error"] = exc.message
    else:
        context.update(saved_at=saved.answered_at, answered=saved.response is not None)
        context["live"] = _live_feedback(request, attempt, slot)
    if is_htmx(request):
        return render(request, "quizzes/_save_status.html", context)
    if "error" in context:
        messages.error(request, context["error"])
    return redirect(_attempt_url("quiz-attempt", attempt) + f"#q{slot}")


def _save_all(request: HttpRequest, attempt: Attempt) -> None:
    """Save every answer of the attempt form (the page works without JavaScript too)."""
    questions = selectors.attempt_display(attempt=attempt)["questions"]
    responses = AttemptAnswersForm(questions, request.POST).responses()
    for slot, response in responses.items():
        services.attempt_answer_save(
            actor=request.user, attempt=attempt, slot=slot, response=response
        )


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def attempt_summary(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Before submitting: which questions are answered, with the last chance to go back."""
    attempt, elsewhere = _own_attempt_in_progress(request, attempt_id)
    if elsewhere is not None:
        return elsewhere
    if request.method == "POST":
        try:
            _save_all(request, attempt)
        except ApplicationError as exc:
            if exc.code in ATTEMPT_OVER:
                return _time_up(request, attempt, exc)
            if exc.code != "invalid_response":
                raise
            messages.error(request, f"Not saved: {exc.message}")
            return redirect("quiz-attempt", attempt_id=attempt.pk)
        return redirect("quiz-attempt-summary", attempt_id=attempt.pk)
    return render(request, "quizzes/attempt_summary.html", _attempt_context(attempt))


@require_POST
@login_required
def attempt_submit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Submit (idempotent). The attempt page's own form, sent when time runs out, carries
    its answers (`answers=1`) and they are saved first."""
    attempt = selectors.attempt_get_for_change(user=request.user, attempt_id=attempt_id)
    timed_out = services.attempt_finalize_if_overdue(attempt=attempt)
    if attempt.state == Attempt.State.FINISHED:
        if timed_out:
            messages.info(request, _time_up_message(attempt))
        return redirect("quiz-attempt-review", attempt_id=attempt.pk)
    responses = None
    if request.POST.get("answers") == "1":
        questions = selectors.attempt_display(attempt=attempt)["questions"]
        try:
            responses = AttemptAnswersForm(questions, request.POST).responses()
        except ApplicationError:
            responses = None  # submit what autosave kept rather than nothing
    try:
        attempt = services.attempt_submit(actor=request.user, attempt=attempt, responses=responses)
    except ApplicationError as exc:
        if exc.code in ATTEMPT_OVER:
            return _time_up(request, attempt, exc)
        raise
    if attempt.auto_submitted:
        messages.info(request, _time_up_message(attempt))
    else:
        messages.success(request, "Your attempt has been submitted.")
    return redirect("quiz-attempt-review", attempt_id=attempt.pk)


@never_cache
@require_GET
@login_required
def attempt_review(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
    services.attempt_finalize_if_overdue(attempt=attempt)
    own = attempt.user_id == request.user.pk
    if own and attempt.state == Attempt.State.IN_PROGRESS:
        return redirect("quiz-attempt", attempt_id=attempt.pk)
    review = selectors.attempt_review(attempt=attempt, user=request.user)
    context = {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "course": attempt.quiz.session.course,
        "review": review,
        "header": review["attempt"],
        "options": review["options"],
        "questions": review["questions"],
        "is_staff": not own,  # attempt_get lets only its owner and the teaching staff in
        "student": attempt.user,
        "history": _history_for(request.user, attempt.quiz) if own else None,
    }
    return render(request, "quizzes/review.html", context)


# --- Instructors ------------------------------------------------------------------------------


def _instructor_quiz(request: HttpRequest, quiz_id: int) -> Quiz:
    return selectors.quiz_get_for_instructor(user=request.user, quiz_id=quiz_id)


def _staff_quiz(request: HttpRequest, quiz_id: int) -> tuple[Quiz, str]:
    """For the pages teaching assistants see too (results, statistics, essays)."""
    return selectors.quiz_get_for_staff(user=request.user, quiz_id=quiz_id)


def _scope(request: HttpRequest, quiz: Quiz) -> students.StudentScope:
    """The students the staff member's lists show: `?section=`, held to a TA's section."""
    return students.student_scope(
        user=request.user, course=quiz.session.course, section=request.GET.get("section", "")
    )


@require_GET
@login_required
def quiz_results(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz, _role = _staff_quiz(request, quiz_id)
    scope = _scope(request, quiz)
    table = selectors.quiz_results(quiz=quiz, scope=scope)
    # The student columns end with needs_grading; one "Q<n> /<mark>" column per question follows.
    split = table.columns.index("needs_grading") + 1
    context = {
        "quiz": quiz,
        "course": quiz.session.course,
        "table": table,
        "scope": scope,
        "question_columns": table.columns[split:],
        "rows": [(row[:split], row[split:]) for row in table.rows],
    }
    return render(request, "quizzes/results.html", context)


@require_GET
@login_required
def quiz_results_csv(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz, _role = _staff_quiz(request, quiz_id)
    scope = _scope(request, quiz)
    response = HttpResponse(
        reports.results_csv(selectors.quiz_results(quiz=quiz, scope=scope)),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"{quiz.session.course.code}-quiz-{quiz.pk}-results{_section_suffix(scope)}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _section_suffix(scope: students.StudentScope) -> str:
    """A section export's file name says which section it holds ("-section-Tue-lab")."""
    return f"-section-{slugify(scope.section)}" if scope.section else ""


@require_GET
@login_required
def quiz_statistics(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz, role = _staff_quiz(request, quiz_id)
    form = StatisticsForm(request.GET)
    which = form.cleaned_data["attempts"] if form.is_valid() else "first"
    scope = _scope(request, quiz)
    report = selectors.quiz_statistics(quiz=quiz, attempts=which, scope=scope)
    slots = {s.position: s for s in quiz.slots.select_related("question")}
    rows = [
        {
            "stat": stat,
            "name": report.names.get(stat.slot, ""),
            "number": report.numbers.get(stat.slot),
            "question": slots[stat.slot].question if stat.slot in slots else None,
            "problem": reports.is_problem_question(stat),
        }
        for stat in report.questions
    ]
    histogram = reports.grade_histogram(selectors.quiz_results(quiz=quiz, scope=scope))
    context = {
        "quiz": quiz,
        "course": quiz.session.course,
        "scope": scope,
        "form": form,
        "which": which,
        "report": report,
        "summary": report.quiz,
        "percents": {
            name: report.quiz.percent(getattr(report.quiz, name))
            for name in ("mean", "median", "sd", "standard_error")
        },
        "rows": rows,
        "problem_count": sum(1 for row in rows if row["problem"]),
        "histogram": histogram,
        "histogram_rows": list(zip(histogram["labels"], histogram["counts"], strict=True)),
        "is_instructor": is_instructor(role),  # the Regrade buttons
    }
    return render(request, "quizzes/statistics.html", context)


@require_GET
@login_required
def essay_queue(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz, _role = _staff_quiz(request, quiz_id)
    scope = _scope(request, quiz)
    queue = [
        (item, EssayMarkForm(prefix=f"essay-{item.pk}"))
        for item in selectors.essay_marking_queue(
            course=quiz.session.course, quiz=quiz, scope=scope
        )
    ]
    context = {"quiz": quiz, "course": quiz.session.course, "queue": queue, "scope": scope}
    return render(request, "quizzes/essays.html", context)


@require_POST
@login_required
def essay_mark(request: HttpRequest, attempt_id: int, slot: int) -> HttpResponse:
    attempt = selectors.attempt_get_for_grading(user=request.user, attempt_id=attempt_id)
    services.attempt_finalize_if_overdue(attempt=attempt)
    question = selectors.attempt_question_get(attempt=attempt, slot=slot)
    form = EssayMarkForm(request.POST, prefix=f"essay-{question.pk}")
    student = attempt.user.get_full_name() or attempt.user.get_username()
    if not form.is_valid():
        messages.error(request, f"{student}: {_form_error_message(form)}")
    else:
        try:
            services.essay_mark(
                actor=request.user,
                attempt_question=question,
                mark=form.cleaned_data["mark"],
                comment=form.cleaned_data["comment"],
            )
        except ApplicationError as exc:
            if exc.denies_access:
                raise
            messages.error(request, f"{student}: {exc.message}")
        else:
            messages.success(request, f"Marked {student}'s essay: {form.cleaned_data['mark']:g}.")
    return redirect("quiz-essays", quiz_id=attempt.quiz_id)


@require_POST
@login_required
def question_regrade(request: HttpRequest, question_id: int) -> HttpResponse:
    question = selectors.question_get(user=request.user, question_id=question_id)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("quiz-list", args=[question.course.slug])
    try:
        summary = services.question_regrade(actor=request.user, question=question)
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, exc.message)
        return redirect(back)
    changed = len(summary.changed)
    messages.success(
        request,
        f"Regraded “{question.name}” (version {summary.version.number}): "
        f"{len(summary.records)} submitted answer{'s' if len(summary.records) != 1 else ''}, "
        f"{changed} mark{'s' if changed != 1 else ''} changed"
        + (
            f", {summary.in_progress_updated} attempt(s) in progress updated."
            if summary.in_progress_updated
            else "."
        ),
    )
    return redirect(back)


# --- Question import --------------------------------------------------------------------------


def _render_import(
    request: HttpRequest,
    course: Course,
    form: QuestionImportForm,
    *,
    errors: list[dict] | None = None,
    source: str = "",
    status: int = 200,
) -> HttpResponse:
    error_lines = {e["line"] for e in errors or []}
    numbered = [(n, line, n in error_lines) for n, line in enumerate(source.split("\n"), start=1)]
    context = {
        "course": course,
        "form": form,
        "errors": errors or [],
        "numbered": numbered if errors else [],
    }
    return render(request, "quizzes/import.html", context, status=status)


def _problems(exc: QuestionFileError) -> list[dict]:
    return [{"line": p.line, "message": p.message} for p in exc.problems]


def _import_confirmed(request: HttpRequest, course: Course) -> HttpResponse:
    form = QuestionImportConfirmForm(request.POST, course=course)
    if not form.is_valid():
        messages.error(request, f"Nothing was imported. {_form_error_message(form)}")
        return redirect("quiz-import", code=course.slug)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            result = services.question_bank_import(
                actor=request.user,
                course=course,
                source=data["source"],
                format=data["format"],
                session=data["session"],
            )
            quiz = None
            if data["quiz_title"].strip():
                quiz = services.quiz_create(
                    actor=request.user,
                    session=data["session"],
                    title=data["quiz_title"],
                    time_limit=data["time_limit_delta"],
                    attempts_allowed=data["attempts_allowed"],
                )
                for question in result.questions:
                    services.quiz_question_add(actor=request.user, quiz=quiz, question=question)
    except QuestionFileError as exc:
        retry = QuestionImportForm(
            initial={
                "source_text": data["source"],
                "format": data["format"],
                "session": data["session"],
                "quiz_title": data["quiz_title"],
                "time_limit": data["time_limit"],
                "attempts_allowed": data["attempts_allowed"],
            },
            course=course,
        )
        return _render_import(
            request, course, retry, errors=_problems(exc), source=data["source"], status=400
        )
    count = len(result.questions)
    summary = f"Imported {count} question{'s' if count != 1 else ''}"
    summary += f" ({result.created} new, {result.updated} updated)"
    if quiz is not None:
        messages.success(request, f"{summary} and created the quiz “{quiz.title}”.")
        return redirect("quiz-detail", quiz_id=quiz.pk)
    messages.success(request, f"{summary} into the question bank.")
    return redirect("quiz-list", code=course.slug)


@require_http_methods(["GET", "POST"])
@login_required
def question_import(request: HttpRequest, code: str) -> HttpResponse:
    """GIFT/Aiken import: upload or paste → preview (or the problems, with line numbers) →
    confirm. Nothing is saved before the confirmation."""
    course = selectors.course_get_for_instructor(user=request.user, code=code)
    if request.method == "GET":
        return _render_import(request, course, QuestionImportForm(course=course))
    if "confirm" in request.POST:
        return _import_confirmed(request, course)
    form = QuestionImportForm(request.POST, request.FILES, course=course)
    if not form.is_valid():
        return _render_import(request, course, form, status=400)
    data = form.cleaned_data
    preview = services.quiz_import_preview(data["source"], data["format"])
    if not preview.ok:
        retry = QuestionImportForm(
            initial={**data, "source_text": data["source"], "question_file": None}, course=course
        )
        errors = preview.as_dict()["errors"]
        return _render_import(
            request, course, retry, errors=errors, source=data["source"], status=400
        )
    confirm = QuestionImportConfirmForm(
        initial={
            "source": data["source"],
            "format": data["format"],
            "filename": data["filename"],
            "session": data["session"],
            "quiz_title": data["quiz_title"],
            "time_limit": data["time_limit"],
            "attempts_allowed": data["attempts_allowed"],
        },
        course=course,
    )
    context = {
        "course": course,
        "preview": preview.as_dict(),
        "filename": data["filename"],
        "session": data["session"],
        "quiz_title": data["quiz_title"].strip(),
        "time_limit": data["time_limit"],
        "attempts_allowed": data["attempts_allowed"],
        "confirm_form": confirm,
        "now": timezone.now(),
    }
    return render(request, "quizzes/import_preview.html", context)


# --- Quiz settings, questions and overrides ---------------------------------------------------

#: Service error codes that belong to one field of the settings or override form.
_ERROR_FIELDS = {
    "invalid_time_limit": "time_limit",
    "invalid_dates": "closes_at",
}
#: How many bank questions the question page lists at once (search to narrow it).
BANK_PAGE = 100


def _service_error_to_form(form, exc: ApplicationError) -> None:
    """Show a service's refusal on the form: on the field it concerns, or above the form."""
    if exc.denies_access:
        raise exc
    field, message = _ERROR_FIELDS.get(exc.code), exc.message
    if exc.code == "invalid" and "quiz_closes_after_opening" in message:
        field, message = "closes_at", "The quiz must close after it opens."
    form.add_error(field if field in form.fields else None, message)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _render_settings(
    request: HttpRequest, form: QuizSettingsForm, *, course: Course, quiz: Quiz | None, **extra
) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "course": course, "quiz": quiz, **extra}
    return render(request, "quizzes/quiz_settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def quiz_create(request: HttpRequest, code: str) -> HttpResponse:
    """A new quiz in one of the course's sessions (`?session=N` preselects it); then its
    questions."""
    course = selectors.course_get_for_instructor(user=request.user, code=code)
    if request.method == "GET":
        initial = {}
        number = request.GET.get("session", "")
        if number.isdigit():
            session = course.sessions.filter(number=int(number)).first()
            initial["session"] = session.pk if session else None
        form = QuizSettingsForm(course=course, initial=initial)
        return _render_settings(request, form, course=course, quiz=None)
    form = QuizSettingsForm(request.POST, course=course)
    if form.is_valid():
        try:
            quiz = services.quiz_create(
                actor=request.user, session=form.cleaned_data["session"], **form.settings()
            )
        except ApplicationError as exc:
            _service_error_to_form(form, exc)
        else:
            messages.success(request, f"Created the quiz “{quiz.title}”. Now add its questions.")
            return redirect("quiz-questions", quiz_id=quiz.pk)
    return _render_settings(request, form, course=course, quiz=None)


@require_http_methods(["GET", "POST"])
@login_required
def quiz_settings(request: HttpRequest, quiz_id: int) -> HttpResponse:
    """Edit a quiz's settings. Changes apply at once, to attempts in progress too: a
    change that would leave some of them out of time needs a confirmation."""
    quiz = _instructor_quiz(request, quiz_id)
    course = quiz.session.course
    impact = selectors.quiz_settings_impact(quiz=quiz)
    if request.method == "GET":
        form = QuizSettingsForm(quiz=quiz)
        return _render_settings(request, form, course=course, quiz=quiz, impact=impact)
    form = QuizSettingsForm(request.POST, quiz=quiz)
    needs_confirm = False
    if form.is_valid():
        changes = form.changes(quiz)
        if not changes:
            messages.info(request, "Nothing changed.")
            return redirect("quiz-detail", quiz_id=quiz.pk)
        after = selectors.quiz_settings_impact(quiz=quiz, changes=changes)
        if after.cut_off and not form.cleaned_data["confirm_cut_off"]:
            needs_confirm = True
            form.add_error(
                None,
                f"Not saved: with these settings {_plural(after.cut_off, 'attempt')} in "
                "progress would be out of time at once and submitted as they stand. Tick "
                "the box below to save anyway, or keep a later close date or a longer "
                "time limit.",
            )
        else:
            try:
                services.quiz_update(actor=request.user, quiz=quiz, data=changes)
            except ApplicationError as exc:
                _service_error_to_form(form, exc)
            else:
                _settings_saved_messages(request, changes, after)
                return redirect("quiz-detail", quiz_id=quiz.pk)
    return _render_settings(
        request, form, course=course, quiz=quiz, impact=impact, needs_confirm=needs_confirm
    )


def _settings_saved_messages(
    request: HttpRequest, changes: dict[str, Any], impact: selectors.SettingsImpact
) -> None:
    messages.success(request, "Saved the quiz settings.")
    if impact.moved:
        text = f"{_plural(impact.moved, 'attempt')} in progress got a new deadline"
        if impact.cut_off:
            text += f"; {impact.cut_off} of them ran out of time and were submitted"
        messages.warning(request, text + ".")
    if impact.attempts and "grading_method" in changes:
        messages.warning(request, "Students' quiz grades now follow the new grading method.")


def _questions_url(quiz: Quiz, data) -> str:
    """The question page again, with the bank filters the form carried."""
    url = reverse("quiz-questions", args=[quiz.pk])
    query = {key: data.get(key, "") for key in ("category", "q") if data.get(key)}
    if query:
        url += "?" + urlencode(query)
    return url + "#bank"


@require_GET
@login_required
def quiz_questions(request: HttpRequest, quiz_id: int) -> HttpResponse:
    """The quiz's slots, and the course's question bank to add from (by category, by
    name), fixed or N at random."""
    quiz = _instructor_quiz(request, quiz_id)
    course = quiz.session.course
    filters = BankFilterForm(request.GET or None, course=course)
    category, search = None, ""
    if filters.is_bound and filters.is_valid():
        category, search = filters.cleaned_data["category"], filters.cleaned_data["q"].strip()
    bank = selectors.question_list(course=course, category=category).filter(
        current_version__isnull=False
    )
    if search:
        bank = bank.filter(name__icontains=search)
    bank = list(bank.order_by("category__path", "name", "pk")[: BANK_PAGE + 1])
    slots = selectors.quiz_slot_list(quiz=quiz)
    question_count, max_grade = selectors.quiz_outline(quiz)
    context = {
        "quiz": quiz,
        "course": course,
        "slots": slots,
        "question_count": question_count,
        "max_grade": max_grade,
        "attempt_total": quiz.attempts.count(),
        "filters": filters,
        "category": category,
        "search": search,
        "bank": bank[:BANK_PAGE],
        "bank_truncated": len(bank) > BANK_PAGE,
        "in_quiz": {slot.question_id for slot in slots if slot.question_id},
        "add_form": QuizQuestionsAddForm(course=course),
        "random_form": QuizRandomAddForm(course=course, initial={"category": category}),
        "categories": list(selectors.question_category_list(course=course)),
    }
    return render(request, "quizzes/quiz_questions.html", context)


@require_POST
@login_required
def quiz_questions_add(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _instructor_quiz(request, quiz_id)
    form = QuizQuestionsAddForm(request.POST, course=quiz.session.course)
    back = _questions_url(quiz, request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was added. {_form_error_message(form)}")
        return redirect(back)
    present = set(quiz.slots.values_list("question_id", flat=True))
    chosen = [q for q in form.cleaned_data["questions"] if q.pk not in present]
    skipped = len(form.cleaned_data["questions"]) - len(chosen)
    try:
        with transaction.atomic():
            for question in chosen:
                services.quiz_question_add(
                    actor=request.user, quiz=quiz, question=question, mark=form.cleaned_data["mark"]
                )
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, f"Nothing was added: {exc.message}")
        return redirect(back)
    if chosen:
        messages.success(request, f"Added {_plural(len(chosen), 'question')} to the quiz.")
    if skipped:
        messages.info(
            request,
            f"Left out {_plural(skipped, 'question')} already in the quiz.",
        )
    return redirect(back)


@require_POST
@login_required
def quiz_questions_random(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _instructor_quiz(request, quiz_id)
    form = QuizRandomAddForm(request.POST, course=quiz.session.course)
    back = _questions_url(quiz, request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was added. {_form_error_message(form)}")
        return redirect(back)
    data = form.cleaned_data
    try:
        slots = services.quiz_random_questions_add(
            actor=request.user,
            quiz=quiz,
            category=data["category"],
            count=data["count"],
            include_subcategories=data["include_subcategories"],
            mark=data["mark"],
        )
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, f"Nothing was added: {exc.message}")
        return redirect(back)
    messages.success(
        request,
        f"Added {_plural(len(slots), 'random question')} from {data['category'].path}.",
    )
    return redirect(back)


@require_POST
@login_required
def quiz_slot_remove(request: HttpRequest, quiz_id: int, slot_id: int) -> HttpResponse:
    quiz = _instructor_quiz(request, quiz_id)
    slot = QuizSlot.objects.select_related("question", "category").filter(quiz=quiz, pk=slot_id)
    slot = slot.first()
    if slot is None:
        raise ApplicationError("not_found", "That question is not in this quiz.", status_code=404)
    name = slot.question.name if slot.question_id else f"Random from {slot.category.path}"
    number = next(s.number for s in selectors.quiz_slot_list(quiz=quiz) if s.pk == slot.pk)
    what = f"question {number}" if number else "the description"
    try:
        services.quiz_slot_remove(actor=request.user, slot=slot)
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, f"“{name}” was not removed: {exc.message}")
    else:
        messages.success(request, f"Removed {what} (“{name}”) from the quiz.")
    return redirect("quiz-questions", quiz_id=quiz.pk)


@require_http_methods(["GET", "POST"])
@login_required
def quiz_overrides(request: HttpRequest, quiz_id: int) -> HttpResponse:
    """Accommodations: each student's own dates, extra time and extra attempts. GET
    `?student=<id>` fills the form with that student's override."""
    quiz = _instructor_quiz(request, quiz_id)
    course = quiz.session.course
    students = courseware_selectors.course_students(course=course)
    rows = selectors.quiz_override_rows(quiz=quiz)
    status = 200
    if request.method == "POST":
        form = QuizOverrideForm(request.POST, students=students)
        if form.is_valid():
            data = form.cleaned_data
            student = data["student"]
            try:
                services.quiz_override_set(
                    actor=request.user,
                    quiz=quiz,
                    student=student,
                    opens_at=data["opens_at"],
                    closes_at=data["closes_at"],
                    extra_time=data["extra_time_delta"],
                    extra_attempts=data["extra_attempts"],
                )
            except ApplicationError as exc:
                _service_error_to_form(form, exc)
            else:
                name = student.get_full_name() or student.get_username()
                messages.success(request, f"Saved the override for {name}.")
                return redirect("quiz-overrides", quiz_id=quiz.pk)
        status = 400
    else:
        chosen = request.GET.get("student", "")
        current = next(
            (r.override for r in rows if chosen.isdigit() and r.student.pk == int(chosen)), None
        )
        if current is not None:
            initial = QuizOverrideForm.initial_for(current)
        else:
            initial = {"student": int(chosen)} if chosen.isdigit() else {}
        form = QuizOverrideForm(students=students, initial=initial)
    context = {
        "quiz": quiz,
        "course": course,
        "form": form,
        "rows": rows,
        "override_count": sum(1 for r in rows if r.override is not None),
    }
    return render(request, "quizzes/overrides.html", context, status=status)


@require_POST
@login_required
def quiz_override_clear(request: HttpRequest, quiz_id: int, user_id: int) -> HttpResponse:
    quiz = _instructor_quiz(request, quiz_id)
    student = courseware_selectors.course_students(course=quiz.session.course)
    student = student.filter(pk=user_id).first()
    if student is None:
        raise ApplicationError("not_found", "No such student in this course.", status_code=404)
    name = student.get_full_name() or student.get_username()
    if services.quiz_override_delete(actor=request.user, quiz=quiz, student=student):
        messages.success(request, f"Cleared the override for {name}: the quiz's settings apply.")
    else:
        messages.info(request, f"{name} had no override.")
    return redirect("quiz-overrides", quiz_id=quiz.pk)
