"""Quiz portal pages for students (take a quiz, review it, score history) and instructors
(GIFT import, results, statistics, essay marking, regrading).

Views are thin: a form checks the input, a selector or service does the work. Access rules
live in the selectors and services (core.permissions); an ApplicationError they raise becomes
an error page or an HTMX fragment in core.middleware. What a student sees of an attempt comes
from `selectors.attempt_display` (never answers) and `selectors.attempt_review` (the quiz's
review options) only.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.middleware import is_htmx
from core.permissions import require_instructor
from courseware import selectors as courseware_selectors
from courseware.models import Course, Membership
from courseware.views import htmx_login_required
from quizzes import selectors, services
from quizzes.api import (
    attempt_get_for_change,
    attempt_question_get,
    grade_histogram,
    is_problem_question,
    overdue_error,
    question_get,
    quiz_outline,
    results_csv,
)
from quizzes.content import DESCRIPTION
from quizzes.forms import (
    AttemptAnswersForm,
    EssayMarkForm,
    QuestionImportConfirmForm,
    QuestionImportForm,
    StatisticsForm,
)
from quizzes.models import Attempt, Quiz
from quizzes.parsing import QuestionFileError

INSTRUCTOR = Membership.Role.INSTRUCTOR
#: Codes after which an attempt page has nothing left to do but show the review.
ATTEMPT_OVER = ("attempt_overdue", "attempt_finished")
TIME_UP = "Time is up: your attempt was submitted with the answers saved before the deadline."


def _is_instructor(role: str) -> bool:
    return role == INSTRUCTOR


def _attempt_url(name: str, attempt: Attempt) -> str:
    return reverse(name, args=[attempt.pk])


def _form_error_message(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


# --- Quiz list, quiz page ---------------------------------------------------------------------


@require_GET
@login_required
def quiz_list(request: HttpRequest, code: str) -> HttpResponse:
    course, role = courseware_selectors.course_get(user=request.user, code=code)
    instructor = _is_instructor(role)
    accesses = selectors.quiz_list(user=request.user, course=course)
    sessions = [
        (session, list(items))
        for session, items in groupby(accesses, key=lambda access: access.quiz.session)
    ]
    history = [] if instructor else selectors.score_history(user=request.user, course=course)
    context = {
        "course": course,
        "role": role,
        "is_instructor": instructor,
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
    instructor = _is_instructor(role)
    question_count, max_grade = quiz_outline(quiz)
    context: dict[str, Any] = {
        "quiz": quiz,
        "course": quiz.session.course,
        "role": role,
        "is_instructor": instructor,
        "access": selectors.quiz_access(quiz=quiz, user=request.user),
        "question_count": question_count,
        "max_grade": max_grade,
    }
    if instructor:
        context["slots"] = list(
            quiz.slots.select_related("question", "category").order_by("position")
        )
        context["essay_count"] = selectors.essay_marking_queue(
            course=quiz.session.course, quiz=quiz
        ).count()
        context["attempt_count"] = quiz.attempts.filter(state=Attempt.State.FINISHED).count()
    else:
        context["history"] = _history_for(request.user, quiz)
    return render(request, "quizzes/quiz_detail.html", context)


@require_POST
@login_required
def attempt_start(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz, _role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
    try:
        attempt = services.attempt_start(quiz=quiz, user=request.user)
    except ApplicationError as exc:
        if exc.status_code in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("quiz-detail", quiz_id=quiz.pk)
    return redirect("quiz-attempt", attempt_id=attempt.pk)


# --- Answering --------------------------------------------------------------------------------


def _own_attempt_in_progress(request: HttpRequest, attempt_id: int) -> tuple[Attempt, Any]:
    """(attempt, None), or (attempt, redirect) when the page should show the review instead:
    the attempt is submitted (perhaps just now, because time ran out) or belongs to someone
    else (an instructor)."""
    was_open = Attempt.objects.filter(pk=attempt_id, state=Attempt.State.IN_PROGRESS).exists()
    attempt = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
    if attempt.user_id != request.user.pk:
        return attempt, redirect("quiz-attempt-review", attempt_id=attempt.pk)
    if attempt.state == Attempt.State.FINISHED:
        if was_open:  # time ran out since the last request
            messages.info(request, TIME_UP)
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
    messages.info(request, TIME_UP if exc.code == "attempt_overdue" else exc.message)
    if is_htmx(request):
        response = HttpResponse("")
        response["HX-Redirect"] = review
        return response
    return redirect(review)


@never_cache
@require_POST
@htmx_login_required
def answer_save(request: HttpRequest, attempt_id: int, slot: int) -> HttpResponse:
    """Autosave of one question (HTMX): answers with the question's save status."""
    attempt, timed_out = attempt_get_for_change(user=request.user, attempt_id=attempt_id)
    if timed_out:
        return _time_up(request, attempt, overdue_error())
    questions = selectors.attempt_display(attempt=attempt)["questions"]
    question = next((q for q in questions if q["slot"] == slot), None)
    if question is None or question["type"] == DESCRIPTION:
        raise ApplicationError(
            "not_found", f"This attempt has no question {slot}.", status_code=404
        )
    context: dict[str, Any] = {"slot": slot}
    try:
        response = AttemptAnswersForm([question], request.POST).responses()[slot]
        saved = services.attempt_answer_save(
            attempt=attempt, user=request.user, slot=slot, response=response
        )
    except ApplicationError as exc:
        if exc.code in ATTEMPT_OVER:
            return _time_up(request, attempt, exc)
        if exc.code != "invalid_response":
            raise
        context["error"] = exc.message
    else:
        context.update(saved_at=saved.answered_at, answered=saved.response is not None)
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
            attempt=attempt, user=request.user, slot=slot, response=response
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
    attempt, timed_out = attempt_get_for_change(user=request.user, attempt_id=attempt_id)
    if attempt.state == Attempt.State.FINISHED:
        if timed_out:
            messages.info(request, TIME_UP)
        return redirect("quiz-attempt-review", attempt_id=attempt.pk)
    responses = None
    if request.POST.get("answers") == "1":
        questions = selectors.attempt_display(attempt=attempt)["questions"]
        try:
            responses = AttemptAnswersForm(questions, request.POST).responses()
        except ApplicationError:
            responses = None  # submit what autosave kept rather than nothing
    try:
        attempt = services.attempt_submit(attempt=attempt, user=request.user, responses=responses)
    except ApplicationError as exc:
        if exc.code in ATTEMPT_OVER:
            return _time_up(request, attempt, exc)
        raise
    if attempt.auto_submitted:
        messages.info(request, TIME_UP)
    else:
        messages.success(request, "Your attempt has been submitted.")
    return redirect("quiz-attempt-review", attempt_id=attempt.pk)


@never_cache
@require_GET
@login_required
def attempt_review(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
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
        "is_instructor": not own,
        "student": attempt.user,
        "history": _history_for(request.user, attempt.quiz) if own else None,
    }
    return render(request, "quizzes/review.html", context)


# --- Instructors ------------------------------------------------------------------------------


def _instructor_quiz(request: HttpRequest, quiz_id: int) -> Quiz:
    quiz, _role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
    require_instructor(user=request.user, course=quiz.session.course)
    return quiz


@require_GET
@login_required
def quiz_results(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _instructor_quiz(request, quiz_id)
    table = selectors.quiz_results(quiz=quiz)
    # The student columns end with needs_grading; one "Q<slot> /<mark>" column per slot follows.
    split = table.columns.index("needs_grading") + 1
    context = {
        "quiz": quiz,
        "course": quiz.session.course,
        "table": table,
        "question_columns": table.columns[split:],
        "rows": [(row[:split], row[split:]) for row in table.rows],
    }
    return render(request, "quizzes/results.html", context)


@require_GET
@login_required
def quiz_results_csv(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _instructor_quiz(request, quiz_id)
    response = HttpResponse(
        results_csv(selectors.quiz_results(quiz=quiz)), content_type="text/csv; charset=utf-8"
    )
    filename = f"{quiz.session.course.code}-quiz-{quiz.pk}-results.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
def quiz_statistics(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _instructor_quiz(request, quiz_id)
    form = StatisticsForm(request.GET)
    which = form.cleaned_data["attempts"] if form.is_valid() else "first"
    report = selectors.quiz_statistics(quiz=quiz, attempts=which)
    slots = {s.position: s for s in quiz.slots.select_related("question")}
    rows = [
        {
            "stat": stat,
            "name": report.names.get(stat.slot, ""),
            "question": slots[stat.slot].question if stat.slot in slots else None,
            "problem": is_problem_question(stat),
        }
        for stat in report.questions
    ]
    histogram = grade_histogram(selectors.quiz_results(quiz=quiz))
    context = {
        "quiz": quiz,
        "course": quiz.session.course,
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
    }
    return render(request, "quizzes/statistics.html", context)


@require_GET
@login_required
def essay_queue(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = _instructor_quiz(request, quiz_id)
    queue = [
        (item, EssayMarkForm(prefix=f"essay-{item.pk}"))
        for item in selectors.essay_marking_queue(course=quiz.session.course, quiz=quiz)
    ]
    context = {"quiz": quiz, "course": quiz.session.course, "queue": queue}
    return render(request, "quizzes/essays.html", context)


@require_POST
@login_required
def essay_mark(request: HttpRequest, attempt_id: int, slot: int) -> HttpResponse:
    attempt = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
    require_instructor(user=request.user, course=attempt.quiz.session.course)
    question = attempt_question_get(attempt=attempt, slot=slot)
    form = EssayMarkForm(request.POST, prefix=f"essay-{question.pk}")
    student = attempt.user.get_full_name() or attempt.user.get_username()
    if not form.is_valid():
        messages.error(request, f"{student}: {_form_error_message(form)}")
    else:
        try:
            services.essay_mark(
                attempt_question=question,
                grader=request.user,
                mark=form.cleaned_data["mark"],
                comment=form.cleaned_data["comment"],
            )
        except ApplicationError as exc:
            if exc.status_code in (403, 404):
                raise
            messages.error(request, f"{student}: {exc.message}")
        else:
            messages.success(request, f"Marked {student}'s essay: {form.cleaned_data['mark']:g}.")
    return redirect("quiz-essays", quiz_id=attempt.quiz_id)


@require_POST
@login_required
def question_regrade(request: HttpRequest, question_id: int) -> HttpResponse:
    question = question_get(user=request.user, question_id=question_id)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("quiz-list", args=[question.course.code])
    try:
        summary = services.question_regrade(question=question, actor=request.user)
    except ApplicationError as exc:
        if exc.status_code in (403, 404):
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
        return redirect("quiz-import", code=course.code)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            result = services.question_bank_import(
                course=course,
                source=data["source"],
                format=data["format"],
                session=data["session"],
            )
            quiz = None
            if data["quiz_title"].strip():
                quiz = services.quiz_create(
                    session=data["session"],
                    title=data["quiz_title"],
                    time_limit=data["time_limit_delta"],
                    attempts_allowed=data["attempts_allowed"],
                )
                for question in result.questions:
                    services.quiz_question_add(quiz=quiz, question=question)
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
    return redirect("quiz-list", code=course.code)


@require_http_methods(["GET", "POST"])
@login_required
def question_import(request: HttpRequest, code: str) -> HttpResponse:
    """GIFT/Aiken import: upload or paste → preview (or the problems, with line numbers) →
    confirm. Nothing is saved before the confirmation."""
    course, _role = courseware_selectors.course_get(user=request.user, code=code)
    require_instructor(user=request.user, course=course)
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
