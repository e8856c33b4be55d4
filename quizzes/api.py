"""The `/api/v1/` quizzes API: quizzes, attempts, review, results, statistics, essay marking
and regrading.

One view per operation. A view validates its input, calls a selector or a service and
serializes the result; membership and role rules live in `courseware.permissions`, the selectors
and the services, so a non-member gets 404 `not_found` and a wrong role 403
`permission_denied`. What a student may see of an attempt is decided by
`selectors.attempt_display` (never answers) and `selectors.attempt_review` (the quiz's review
options); the serializers below only declare the keys those may return, so nothing else can
leak through them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated_response
from core.csv import TableCSVRenderer, spreadsheet_cell
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from courseware import selectors as courseware_selectors
from courseware.permissions import is_instructor, require_instructor, require_member
from quizzes import selectors, services
from quizzes.content import DESCRIPTION, QUESTION_TYPE_LABELS
from quizzes.grading import round_percentage
from quizzes.models import Attempt, AttemptQuestion, Question, Quiz
from quizzes.presentation import response_to_display
from quizzes.review import OPTIONS, WINDOWS

URL_NAMESPACE = "quizzes_api"
#: Item analysis: a question whose discrimination index (percent) is below this, or negative,
#: does not separate strong from weak students and deserves a look.
DISCRIMINATION_THRESHOLD = 20.0
HISTOGRAM_BINS = 10

CODE_PARAMETER = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Course code (case-insensitive), e.g. `ICTSS00120`.",
)
QUIZ_PARAMETER = OpenApiParameter(
    "quiz_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Quiz id."
)
ATTEMPT_PARAMETER = OpenApiParameter(
    "attempt_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Attempt id."
)
SLOT_PARAMETER = OpenApiParameter(
    "slot",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The question's position in the attempt (its `slot` in the attempt's questions).",
)
QUESTION_PARAMETER = OpenApiParameter(
    "question_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Bank question id."
)

QUIZ_STATUSES = [("upcoming", "Not open yet"), ("open", "Open"), ("closed", "Closed")]
E403_STUDENT = "You are a student of the course (`permission_denied`): instructors only."


def _absolute(request: Request, view_name: str, **kwargs: Any) -> str:
    return request.build_absolute_uri(reverse(f"{URL_NAMESPACE}:{view_name}", kwargs=kwargs))


# --- Shared helpers (also used by the portal) -------------------------------------------------


class PercentageField(serializers.FloatField):
    """A percentage rounded as the pages and the CSV show it (grading.round_percentage)."""

    def to_representation(self, value: float) -> float:
        return round_percentage(super().to_representation(value))


def quiz_outline(quiz: Quiz) -> tuple[int, float]:
    """(number of graded questions, maximum grade) of the quiz's slots; descriptions count
    for neither."""
    slots = quiz.slots.filter(Q(question__isnull=True) | ~Q(question__qtype=DESCRIPTION))
    marks = list(slots.values_list("mark", flat=True))
    return len(marks), round(sum(marks), 7)


def results_csv(table: selectors.ResultsTable) -> str:
    """A results table as CSV text (a header row, then one row per student)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return out.getvalue()


def grade_histogram(table: selectors.ResultsTable) -> dict[str, Any]:
    """How many students' grades fall in each tenth of the maximum (the last bin includes
    100%), from the results table: students without a grade are left out."""
    column = table.columns.index("percentage")
    counts = [0] * HISTOGRAM_BINS
    graded = 0
    for row in table.rows:
        percentage = row[column]
        if percentage is None:
            continue
        graded += 1
        index = min(HISTOGRAM_BINS - 1, max(0, int(percentage // (100 / HISTOGRAM_BINS))))
        counts[index] += 1
    step = 100 // HISTOGRAM_BINS
    labels = [f"{i * step}\u2013{(i + 1) * step}%" for i in range(HISTOGRAM_BINS)]
    return {"labels": labels, "counts": counts, "graded": graded}


def is_problem_question(stat) -> bool:
    """Item analysis: flag a question whose discrimination index is below 20% (or negative)."""
    index = stat.discrimination_index
    return index is not None and index < DISCRIMINATION_THRESHOLD


def question_get(*, user, question_id: int) -> Question:
    """A bank question of one of the user's courses (NotFoundError otherwise)."""
    question = Question.objects.select_related("course").filter(pk=question_id).first()
    if question is None:
        raise NotFoundError(f"No question {question_id}.")
    try:
        require_member(user=user, course=question.course)
    except NotFoundError:
        raise NotFoundError(f"No question {question_id}.") from None
    return question


def attempt_question_get(*, attempt: Attempt, slot: int) -> AttemptQuestion:
    question = attempt.questions.filter(position=slot).first()
    if question is None:
        raise NotFoundError(f"Attempt {attempt.pk} has no question {slot}.")
    return question


def require_owner(*, attempt: Attempt, user) -> None:
    """Only the student who started an attempt answers or submits it (instructors, who may
    read it, get 403)."""
    if attempt.user_id != user.pk:
        raise PermissionDeniedError("Only the student who started this attempt can change it.")


def attempt_get_for_change(*, user, attempt_id: int) -> tuple[Attempt, bool]:
    """(attempt, timed_out): the user's own attempt, about to be answered or submitted.
    `selectors.attempt_get` submits an attempt whose time is up; `timed_out` says that this
    happened on this very request, so the caller reports `attempt_overdue` (the answer came
    too late) rather than `attempt_finished`."""
    was_open = Attempt.objects.filter(pk=attempt_id, state=Attempt.State.IN_PROGRESS).exists()
    attempt = selectors.attempt_get(user=user, attempt_id=attempt_id)
    require_owner(attempt=attempt, user=user)
    return attempt, was_open and attempt.state == Attempt.State.FINISHED


def overdue_error() -> ApplicationError:
    return ApplicationError(
        "attempt_overdue",
        "Time is up: the attempt has been submitted with the answers saved before the deadline.",
        status_code=409,
    )


class OnlyGivenFieldsSerializer(serializers.Serializer):
    """Leaves out optional fields the data does not have (DRF would send them as null), so
    a key the review options withhold is absent rather than null."""

    def to_representation(self, instance: dict) -> dict:
        data = super().to_representation(instance)
        return {
            name: value
            for name, value in data.items()
            if self.fields[name].required or self.fields[name].source in instance
        }


# --- Serializers ------------------------------------------------------------------------------


class QuizSerializer(serializers.Serializer):
    """A quiz as the caller sees it: students get their own dates, limit and attempt counts
    (their override applied); instructors the quiz's settings."""

    id = serializers.IntegerField(source="quiz.pk")
    title = serializers.CharField(source="quiz.title")
    course = serializers.CharField(source="quiz.session.course.code", help_text="Course code.")
    session = serializers.IntegerField(source="quiz.session.number", help_text="Session number.")
    visible = serializers.BooleanField(source="quiz.visible", help_text="Students see only these.")
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    time_limit_seconds = serializers.IntegerField(
        allow_null=True, help_text="Null: no time limit (your extra time included)."
    )
    attempts_allowed = serializers.IntegerField(help_text="0: unlimited.")
    attempts_used = serializers.IntegerField(help_text="Your attempts so far (0 for instructors).")
    attempts_left = serializers.IntegerField(allow_null=True, help_text="Null when unlimited.")
    grading_method = serializers.ChoiceField(
        source="quiz.grading_method", choices=Quiz.GradingMethod.choices
    )
    pass_percentage = serializers.FloatField(source="quiz.pass_percentage", allow_null=True)
    status = serializers.ChoiceField(choices=QUIZ_STATUSES, help_text="For you, now.")
    can_start = serializers.BooleanField(
        help_text="Whether you can start (or continue) an attempt now; always false for "
        "instructors."
    )
    reason = serializers.CharField(help_text="Why you cannot start; empty when you can.")
    in_progress_attempt_id = serializers.IntegerField(
        allow_null=True, help_text="Your attempt in progress, if any."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        ref_name = "Quiz"

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, data: dict) -> str:
        return _absolute(self.context["request"], "quiz-detail", quiz_id=data["quiz"].pk)


def _quiz_data(access: selectors.QuizAccess, role: str) -> dict[str, Any]:
    instructor = is_instructor(role)
    return {
        "quiz": access.quiz,
        "opens_at": access.opens_at,
        "closes_at": access.closes_at,
        "time_limit_seconds": (
            None if access.time_limit is None else int(access.time_limit.total_seconds())
        ),
        "attempts_allowed": access.attempts_allowed,
        "attempts_used": access.attempts_used,
        "attempts_left": access.attempts_left,
        "status": access.status,
        "can_start": access.can_start and not instructor,
        "reason": "Instructors do not take quizzes." if instructor else access.reason,
        "in_progress_attempt_id": access.in_progress_attempt_id,
    }


class AttemptSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Attempt.State.choices)
    started_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    score = serializers.FloatField(
        allow_null=True,
        help_text="Null while the review options hide marks, or until essays are marked.",
    )
    max_score = serializers.FloatField()
    percentage = PercentageField(allow_null=True)
    needs_grading = serializers.BooleanField()

    class Meta:
        ref_name = "QuizAttemptSummary"


class QuizDetailSerializer(QuizSerializer):
    intro = serializers.CharField(source="quiz.intro")
    question_count = serializers.IntegerField(help_text="Graded questions (not descriptions).")
    max_grade = serializers.FloatField()
    shuffle_questions = serializers.BooleanField(source="quiz.shuffle_questions")
    review_options = serializers.DictField(
        source="quiz.review_options",
        child=serializers.DictField(child=serializers.BooleanField()),
        help_text=f"Per window ({', '.join(WINDOWS)}): which of {', '.join(OPTIONS)} students "
        "see when reviewing an attempt.",
    )
    attempts = AttemptSummarySerializer(
        many=True, help_text="Your attempts (empty for instructors)."
    )
    grade = serializers.FloatField(
        allow_null=True,
        help_text="Your grade by the grading method; null until known or while marks are hidden.",
    )
    grade_percentage = PercentageField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True, help_text="Null without a pass mark.")

    class Meta:
        ref_name = "QuizDetail"


class AttemptHeaderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    quiz = serializers.IntegerField(source="quiz_id")
    number = serializers.IntegerField(help_text="1 for your first attempt at the quiz.")
    state = serializers.ChoiceField(choices=Attempt.State.choices)
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(
        allow_null=True, help_text="Answers are refused after this; null: no limit."
    )
    seconds_left = serializers.IntegerField(
        allow_null=True,
        help_text="Seconds until the deadline, computed by the server (null when finished or "
        "without a deadline). Count down from this rather than from your own clock.",
    )
    submitted_at = serializers.DateTimeField(allow_null=True)
    auto_submitted = serializers.BooleanField(help_text="Submitted because time ran out.")

    class Meta:
        ref_name = "QuizAttempt"


class ReviewedAttemptHeaderSerializer(OnlyGivenFieldsSerializer, AttemptHeaderSerializer):
    score = serializers.FloatField(
        allow_null=True,
        required=False,
        help_text="Only when marks may be shown; null until essays are marked.",
    )
    max_score = serializers.FloatField(required=False, help_text="Only when marks may be shown.")
    percentage = PercentageField(allow_null=True, required=False)
    needs_grading = serializers.BooleanField(required=False)
    passed = serializers.BooleanField(allow_null=True, required=False)

    class Meta:
        ref_name = "QuizAttemptResult"


class ChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Display id: send it back in responses.")
    text = serializers.CharField()

    class Meta:
        ref_name = "QuizChoice"


class FeedbackSerializer(serializers.Serializer):
    answers = serializers.ListField(
        child=serializers.CharField(), help_text="Feedback on the answers you gave."
    )
    general = serializers.CharField(help_text="The question's general feedback.")
    comment = serializers.CharField(help_text="The grader's comment (essays).")

    class Meta:
        ref_name = "QuizFeedback"


RESPONSE_HELP = (
    "Your response as the display identifies things, null when unanswered: single_choice "
    '`{"choice": id}`, multiple_choice `{"choices": [id, ...]}`, true_false `{"value": true}`, '
    'short_answer and essay `{"text": "..."}`, numerical `{"value": "3.14"}`, matching '
    '`{"matches": {"<item id>": choice id}}`.'
)


class QuestionSerializer(OnlyGivenFieldsSerializer):
    """A question of an attempt. While answering it never carries answers, weights or
    feedback; `state`, `mark`, `feedback` and `right_answer` appear only where the quiz's
    review options allow them."""

    slot = serializers.IntegerField(help_text="Position in the attempt: the answer URL's slot.")
    number = serializers.IntegerField(
        allow_null=True, help_text="Question number as shown; null for descriptions."
    )
    type = serializers.ChoiceField(choices=list(QUESTION_TYPE_LABELS.items()))
    text = serializers.CharField()
    format = serializers.ChoiceField(
        choices=["moodle", "html", "plain", "markdown"], help_text="How `text` is written."
    )
    max_mark = serializers.FloatField()
    choices = ChoiceSerializer(
        many=True, required=False, help_text="Choice questions and matching: the options."
    )
    items = ChoiceSerializer(many=True, required=False, help_text="Matching: the items to match.")
    response = serializers.JSONField(allow_null=True, required=False, help_text=RESPONSE_HELP)
    answered = serializers.BooleanField(required=False)
    state = serializers.ChoiceField(
        choices=AttemptQuestion.State.choices,
        required=False,
        help_text="Only when correctness may be shown.",
    )
    mark = serializers.FloatField(
        allow_null=True, required=False, help_text="Only when marks may be shown."
    )
    feedback = FeedbackSerializer(required=False, help_text="Only when feedback may be shown.")
    right_answer = serializers.CharField(
        required=False, help_text="Only when the right answers may be shown."
    )

    class Meta:
        ref_name = "QuizQuestion"


class AttemptDisplaySerializer(serializers.Serializer):
    attempt = AttemptHeaderSerializer()
    questions = QuestionSerializer(many=True)

    class Meta:
        ref_name = "QuizAttemptQuestions"


class AttemptReviewSerializer(serializers.Serializer):
    attempt = ReviewedAttemptHeaderSerializer()
    window = serializers.ChoiceField(
        choices=[*WINDOWS, "instructor"],
        help_text="The review window now in force (`instructor`: everything).",
    )
    options = serializers.DictField(
        child=serializers.BooleanField(),
        help_text=f"What this window shows: {', '.join(OPTIONS)}.",
    )
    questions = QuestionSerializer(many=True)

    class Meta:
        ref_name = "QuizAttemptReview"


# --- Quizzes ----------------------------------------------------------------------------------


class QuizListApi(APIView):
    pagination_class = Pagination

    class FilterSerializer(serializers.Serializer):
        session = serializers.IntegerField(required=False, min_value=1)

        class Meta:
            ref_name = "QuizFilter"

    @extend_schema(
        operation_id="quizzes_list",
        tags=["quizzes"],
        summary="A course's quizzes",
        description=(
            "The quizzes of one of your courses (or of one session with `?session=N`), by "
            "session then opening date. Students see visible quizzes only, with their own dates "
            "and attempt counts."
        ),
        parameters=[
            CODE_PARAMETER,
            OpenApiParameter(
                "session",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                description="Only this session's quizzes (session number).",
            ),
        ],
        responses={
            200: QuizSerializer(many=True),
            **error_responses(
                400, 401, 404, e400="`session` is not a whole number (`invalid_input`)."
            ),
        },
    )
    def get(self, request: Request, code: str) -> Response:
        course, role = courseware_selectors.course_get(user=request.user, code=code)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        number = filters.validated_data.get("session")
        session = (
            None
            if number is None
            else courseware_selectors.session_get(course=course, number=number)
        )
        items = [
            _quiz_data(access, role)
            for access in selectors.quiz_list(user=request.user, course=course, session=session)
        ]
        return paginated_response(
            queryset=items, serializer_class=QuizSerializer, request=request, view=self
        )


class QuizDetailApi(APIView):
    @extend_schema(
        operation_id="quizzes_retrieve",
        tags=["quizzes"],
        summary="One quiz",
        description=(
            "A quiz's rules (time limit, attempts, grading method, dates, pass mark, review "
            "options) and, for students, their attempts and grade as the review options allow."
        ),
        parameters=[QUIZ_PARAMETER],
        responses={200: QuizDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, quiz_id: int) -> Response:
        quiz, role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
        access = selectors.quiz_access(quiz=quiz, user=request.user)
        count, max_grade = quiz_outline(quiz)
        data = {
            **_quiz_data(access, role),
            "question_count": count,
            "max_grade": max_grade,
            "attempts": [],
            "grade": None,
            "grade_percentage": None,
            "passed": None,
        }
        if not is_instructor(role):
            history = selectors.score_history(user=request.user, course=quiz.session.course)
            mine = next((h for h in history if h.quiz.pk == quiz.pk), None)
            if mine is not None:
                data.update(
                    attempts=mine.attempts,
                    grade=mine.grade,
                    grade_percentage=mine.percentage,
                    passed=mine.passed,
                )
        return Response(QuizDetailSerializer(data, context={"request": request}).data)


# --- Attempts ---------------------------------------------------------------------------------


class AttemptStartApi(APIView):
    @extend_schema(
        operation_id="quiz_attempts_start",
        tags=["attempts"],
        summary="Start (or continue) an attempt",
        description=(
            "Students only. Starts an attempt and returns its questions (201), or returns the "
            "attempt you already have in progress (200), so retrying is safe. The questions "
            "carry no answers."
        ),
        parameters=[QUIZ_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(AttemptDisplaySerializer, description="Your attempt in progress."),
            201: OpenApiResponse(AttemptDisplaySerializer, description="A new attempt."),
            **error_responses(
                400,
                401,
                403,
                404,
                e400="The quiz has not opened (`quiz_not_open`), has closed (`quiz_closed`), "
                "you have no attempts left (`no_attempts_left`) or it has no questions "
                "(`quiz_empty`).",
                e403="You are an instructor of the course (`permission_denied`).",
            ),
        },
    )
    def post(self, request: Request, quiz_id: int) -> Response:
        quiz, _role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
        now = timezone.now()
        attempt = services.attempt_start(quiz=quiz, user=request.user, now=now)
        created = attempt.started_at == now
        data = selectors.attempt_display(attempt=attempt, now=now)
        return Response(
            AttemptDisplaySerializer(data).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AttemptDetailApi(APIView):
    @extend_schema(
        operation_id="attempts_retrieve",
        tags=["attempts"],
        summary="An attempt's questions",
        description=(
            "Your attempt (instructors: any attempt of their course) with its questions in the "
            "attempt's order, choices in their shuffled order and your saved responses. Never "
            "answers, weights or feedback. An attempt whose time is up is submitted first."
        ),
        parameters=[ATTEMPT_PARAMETER],
        responses={
            200: AttemptDisplaySerializer,
            **error_responses(401, 404, e404="No such attempt among yours (`not_found`)."),
        },
    )
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
        return Response(AttemptDisplaySerializer(selectors.attempt_display(attempt=attempt)).data)


class AnswerSaveApi(APIView):
    class InputSerializer(serializers.Serializer):
        response = serializers.JSONField(allow_null=True, help_text=RESPONSE_HELP)

        class Meta:
            ref_name = "QuizAnswerInput"

    class OutputSerializer(serializers.Serializer):
        slot = serializers.IntegerField()
        answered = serializers.BooleanField()
        response = serializers.JSONField(allow_null=True, help_text="As saved, in display ids.")
        saved_at = serializers.DateTimeField()

        class Meta:
            ref_name = "QuizAnswerSaved"

    @extend_schema(
        operation_id="attempt_answers_save",
        tags=["attempts"],
        summary="Save an answer",
        description=(
            "Saves (or with `null`, clears) your response to one question of your attempt in "
            "progress. After the deadline the answer is refused with 409 `attempt_overdue` and "
            "the attempt is submitted with what was saved in time."
        ),
        parameters=[ATTEMPT_PARAMETER, SLOT_PARAMETER],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                415,
                e400="A malformed response (`invalid_response`), no `response` key "
                "(`invalid_input`) or a malformed body (`parse_error`).",
                e403="Not your attempt (`permission_denied`): instructors cannot answer.",
                e404="No such attempt among yours, or no such question in it (`not_found`).",
                e409="Time is up (`attempt_overdue`; the attempt is now submitted) or the "
                "attempt is already submitted (`attempt_finished`).",
            ),
        },
    )
    def put(self, request: Request, attempt_id: int, slot: int) -> Response:
        attempt, timed_out = attempt_get_for_change(user=request.user, attempt_id=attempt_id)
        if timed_out:
            raise overdue_error()
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = services.attempt_answer_save(
            attempt=attempt,
            user=request.user,
            slot=slot,
            response=serializer.validated_data["response"],
        )
        shown = response_to_display(saved.version.content, saved.order, saved.response)
        data = {
            "slot": saved.position,
            "answered": shown is not None,
            "response": shown,
            "saved_at": saved.answered_at,
        }
        return Response(self.OutputSerializer(data).data)


class AttemptSubmitApi(APIView):
    class InputSerializer(serializers.Serializer):
        responses = serializers.DictField(
            child=serializers.JSONField(allow_null=True),
            required=False,
            help_text="Optional last answers to save first: slot → response.",
        )

        class Meta:
            ref_name = "QuizSubmitInput"

        def validate_responses(self, value: dict) -> dict[int, Any]:
            try:
                return {int(slot): response for slot, response in value.items()}
            except ValueError:
                raise serializers.ValidationError("Keys must be question slots.") from None

    @extend_schema(
        operation_id="attempts_submit",
        tags=["attempts"],
        summary="Submit an attempt",
        description=(
            "Grades and closes your attempt, saving any `responses` sent first, and returns "
            "the review as the quiz's review options allow now. Submitting again returns the "
            "same result. Responses sent after the deadline are refused (409 "
            "`attempt_overdue`), but the attempt is still submitted with what was saved."
        ),
        parameters=[ATTEMPT_PARAMETER],
        request=InputSerializer,
        responses={
            200: AttemptReviewSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                415,
                e400="A malformed response (`invalid_response`) or body (`invalid_input`, "
                "`parse_error`).",
                e403="Not your attempt (`permission_denied`): instructors cannot submit.",
                e409="Responses arrived after the deadline (`attempt_overdue`).",
            ),
        },
    )
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt, timed_out = attempt_get_for_change(user=request.user, attempt_id=attempt_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if timed_out and serializer.validated_data.get("responses"):
            raise overdue_error()  # as the service does for late responses
        attempt = services.attempt_submit(
            attempt=attempt,
            user=request.user,
            responses=serializer.validated_data.get("responses"),
        )
        attempt = selectors.attempt_get(user=request.user, attempt_id=attempt.pk)
        review = selectors.attempt_review(attempt=attempt, user=request.user)
        return Response(AttemptReviewSerializer(review).data)


class AttemptReviewApi(APIView):
    @extend_schema(
        operation_id="attempts_review",
        tags=["attempts"],
        summary="Review an attempt",
        description=(
            "A submitted attempt with what the quiz's review options allow in the current "
            "window (right after submitting, later while the quiz is open, after it closes): "
            "correctness (`state`), marks and score, feedback, right answers. Instructors "
            "see everything, also of attempts in progress."
        ),
        parameters=[ATTEMPT_PARAMETER],
        responses={
            200: AttemptReviewSerializer,
            **error_responses(
                401,
                404,
                409,
                e404="No such attempt among yours (`not_found`).",
                e409="The attempt is still in progress (`attempt_in_progress`).",
            ),
        },
    )
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
        review = selectors.attempt_review(attempt=attempt, user=request.user)
        return Response(AttemptReviewSerializer(review).data)


# --- Instructors ------------------------------------------------------------------------------


class QuizResultsApi(APIView):
    renderer_classes = [renderers.JSONRenderer, TableCSVRenderer]

    class OutputSerializer(serializers.Serializer):
        columns = serializers.ListField(
            child=serializers.CharField(),
            help_text="username, last_name, first_name, email, attempts, grade, max_grade, "
            'percentage, passed, needs_grading, then one "Q<n> /<mark>" per question, '
            "numbered as students see them (descriptions have no number and no column).",
        )
        rows = serializers.ListField(
            child=serializers.DictField(child=serializers.JSONField(allow_null=True)),
            help_text="One object per student of the course, keyed by `columns`; the question "
            "marks are those of the attempt that counts for the grade.",
        )

        class Meta:
            ref_name = "QuizResults"

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON bodies, whatever format was asked for.
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="quiz_results",
        tags=["quiz results"],
        summary="A quiz's results",
        description=(
            "Instructors only: one row per student with attempts, grade (by the quiz's grading "
            "method), percentage, pass and per-question marks. `?format=csv` (or "
            "`Accept: text/csv`) returns the same table as a CSV download."
        ),
        parameters=[
            QUIZ_PARAMETER,
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=["json", "csv"],
                description="`csv` for a CSV download.",
            ),
        ],
        responses={
            (200, "application/json"): OutputSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            **error_responses(401, 403, 404, e403=E403_STUDENT),
        },
    )
    def get(self, request: Request, quiz_id: int) -> Response:
        quiz, _role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
        require_instructor(user=request.user, course=quiz.session.course)
        table = selectors.quiz_results(quiz=quiz)
        data = {
            "columns": table.columns,
            "rows": [dict(zip(table.columns, row, strict=True)) for row in table.rows],
        }
        response = Response(self.OutputSerializer(data).data)
        if getattr(request.accepted_renderer, "format", None) == "csv":
            filename = f"{quiz.session.course.code}-quiz-{quiz.pk}-results.csv"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class QuizStatisticsApi(APIView):
    class FilterSerializer(serializers.Serializer):
        attempts = serializers.ChoiceField(choices=selectors.STATISTICS_ATTEMPTS, required=False)

        class Meta:
            ref_name = "QuizStatisticsFilter"

    class OutputSerializer(serializers.Serializer):
        class QuizStatisticsSerializer(serializers.Serializer):
            count = serializers.IntegerField(help_text="Attempts analysed.")
            max_score = serializers.FloatField()
            mean = serializers.FloatField(allow_null=True)
            median = serializers.FloatField(allow_null=True)
            sd = serializers.FloatField(allow_null=True, help_text="Standard deviation, marks.")
            skewness = serializers.FloatField(allow_null=True)
            kurtosis = serializers.FloatField(allow_null=True)
            cic = serializers.FloatField(
                allow_null=True, help_text="Coefficient of internal consistency (%)."
            )
            error_ratio = serializers.FloatField(allow_null=True, help_text="Percent.")
            standard_error = serializers.FloatField(allow_null=True, help_text="Marks.")

            class Meta:
                ref_name = "QuizStatisticsSummary"

        class QuestionStatisticsSerializer(serializers.Serializer):
            slot = serializers.IntegerField(help_text="Quiz slot (position).")
            number = serializers.IntegerField(
                help_text="Question number as students see it (descriptions are not numbered)."
            )
            name = serializers.CharField()
            question_id = serializers.IntegerField(
                allow_null=True, help_text="The bank question (null for a random slot)."
            )
            count = serializers.IntegerField()
            max_mark = serializers.FloatField()
            mean = serializers.FloatField(allow_null=True)
            facility = serializers.FloatField(allow_null=True, help_text="Percent.")
            sd = serializers.FloatField(allow_null=True)
            sd_percent = serializers.FloatField(allow_null=True)
            discrimination_index = serializers.FloatField(allow_null=True, help_text="Percent.")
            discriminative_efficiency = serializers.FloatField(
                allow_null=True, help_text="Percent."
            )
            problem = serializers.BooleanField(
                help_text="Discrimination index below 20% or negative: review this question."
            )

            class Meta:
                ref_name = "QuestionStatistics"

        class HistogramSerializer(serializers.Serializer):
            labels = serializers.ListField(child=serializers.CharField())
            counts = serializers.ListField(child=serializers.IntegerField())
            graded = serializers.IntegerField(help_text="Students with a grade.")

            class Meta:
                ref_name = "QuizGradeHistogram"

        attempts = serializers.ChoiceField(
            choices=selectors.STATISTICS_ATTEMPTS, help_text="Which attempts were analysed."
        )
        quiz = QuizStatisticsSerializer()
        questions = QuestionStatisticsSerializer(many=True)
        histogram = HistogramSerializer(
            help_text="Students' grades (by the grading method) in tenths of the maximum."
        )

        class Meta:
            ref_name = "QuizStatisticsReport"

    @extend_schema(
        operation_id="quiz_statistics",
        tags=["quiz results"],
        summary="A quiz's statistics",
        description=(
            "Instructors only: Moodle's quiz statistics (mean, median, SD, skewness, kurtosis, "
            "CIC, error ratio, standard error) and item analysis per question (facility, SD, "
            "discrimination index, discriminative efficiency), over each student's first "
            "attempt unless `?attempts=` says otherwise. Values needing more attempts are null."
        ),
        parameters=[
            QUIZ_PARAMETER,
            OpenApiParameter(
                "attempts",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(selectors.STATISTICS_ATTEMPTS),
                description="Which attempts to analyse (default `first`).",
            ),
        ],
        responses={
            200: OutputSerializer,
            **error_responses(
                400, 401, 403, 404, e400="Unknown `attempts` (`invalid_input`).", e403=E403_STUDENT
            ),
        },
    )
    def get(self, request: Request, quiz_id: int) -> Response:
        quiz, _role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
        require_instructor(user=request.user, course=quiz.session.course)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        report = selectors.quiz_statistics(
            quiz=quiz, attempts=filters.validated_data.get("attempts", "first")
        )
        question_ids = dict(quiz.slots.values_list("position", "question_id"))
        data = {
            "attempts": report.attempts,
            "quiz": report.quiz,
            "questions": [
                {
                    **vars(stat),
                    "name": report.names.get(stat.slot, ""),
                    "number": report.numbers.get(stat.slot),
                    "question_id": question_ids.get(stat.slot),
                    "problem": is_problem_question(stat),
                }
                for stat in report.questions
            ],
            "histogram": grade_histogram(selectors.quiz_results(quiz=quiz)),
        }
        return Response(self.OutputSerializer(data).data)


class EssayQueueApi(APIView):
    pagination_class = Pagination

    class OutputSerializer(serializers.Serializer):
        attempt_id = serializers.IntegerField()
        slot = serializers.IntegerField(source="position")
        username = serializers.CharField(source="attempt.user.username")
        display_name = serializers.SerializerMethodField()
        submitted_at = serializers.DateTimeField(source="attempt.submitted_at")
        question = serializers.CharField(source="version.content.name")
        text = serializers.CharField(source="version.content.text")
        answer = serializers.SerializerMethodField(help_text="The student's essay.")
        max_mark = serializers.FloatField()
        mark_url = serializers.SerializerMethodField(help_text="POST the mark here.")

        class Meta:
            ref_name = "EssayToMark"

        def get_display_name(self, question: AttemptQuestion) -> str:
            user = question.attempt.user
            return user.get_full_name() or user.get_username()

        def get_answer(self, question: AttemptQuestion) -> str:
            return (question.response or {}).get("text", "")

        @extend_schema_field(OpenApiTypes.URI)
        def get_mark_url(self, question: AttemptQuestion) -> str:
            return _absolute(
                self.context["request"],
                "essay-mark",
                attempt_id=question.attempt_id,
                slot=question.position,
            )

    @extend_schema(
        operation_id="quiz_essays_list",
        tags=["quiz results"],
        summary="Essays to mark",
        description="Instructors only: essays of submitted attempts still waiting for a mark, "
        "oldest submission first.",
        parameters=[QUIZ_PARAMETER],
        responses={
            200: OutputSerializer(many=True),
            **error_responses(401, 403, 404, e403=E403_STUDENT),
        },
    )
    def get(self, request: Request, quiz_id: int) -> Response:
        quiz, _role = selectors.quiz_get(user=request.user, quiz_id=quiz_id)
        require_instructor(user=request.user, course=quiz.session.course)
        return paginated_response(
            queryset=selectors.essay_marking_queue(course=quiz.session.course, quiz=quiz),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )


class EssayMarkApi(APIView):
    class InputSerializer(serializers.Serializer):
        mark = serializers.FloatField(help_text="Between 0 and the question's mark.")
        comment = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="Shown with the feedback."
        )

        class Meta:
            ref_name = "EssayMarkInput"

    class OutputSerializer(serializers.Serializer):
        attempt_id = serializers.IntegerField()
        slot = serializers.IntegerField()
        mark = serializers.FloatField()
        max_mark = serializers.FloatField()
        comment = serializers.CharField()
        attempt_score = serializers.FloatField(
            allow_null=True, help_text="Null while other essays of the attempt wait."
        )
        needs_grading = serializers.BooleanField()

        class Meta:
            ref_name = "EssayMarked"

    @extend_schema(
        operation_id="essays_mark",
        tags=["quiz results"],
        summary="Mark an essay",
        description="Instructors only: marks (or re-marks) an essay of a submitted attempt; "
        "the attempt's score follows.",
        parameters=[ATTEMPT_PARAMETER, SLOT_PARAMETER],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                415,
                e400="Not an essay (`not_an_essay`), a mark out of range (`invalid_mark`) or "
                "bad input (`invalid_input`).",
                e403=E403_STUDENT,
                e409="The attempt is still in progress (`attempt_in_progress`).",
            ),
        },
    )
    def post(self, request: Request, attempt_id: int, slot: int) -> Response:
        attempt = selectors.attempt_get(user=request.user, attempt_id=attempt_id)
        require_instructor(user=request.user, course=attempt.quiz.session.course)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = services.essay_mark(
            attempt_question=attempt_question_get(attempt=attempt, slot=slot),
            grader=request.user,
            mark=serializer.validated_data["mark"],
            comment=serializer.validated_data["comment"],
        )
        attempt = Attempt.objects.get(pk=attempt.pk)
        data = {
            "attempt_id": attempt.pk,
            "slot": question.position,
            "mark": question.mark,
            "max_mark": question.max_mark,
            "comment": question.comment,
            "attempt_score": attempt.score,
            "needs_grading": attempt.needs_grading,
        }
        return Response(self.OutputSerializer(data).data)


class QuestionRegradeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class ChangeSerializer(serializers.Serializer):
            attempt_id = serializers.IntegerField()
            username = serializers.CharField()
            old_mark = serializers.FloatField(allow_null=True)
            new_mark = serializers.FloatField(allow_null=True)

            class Meta:
                ref_name = "RegradeChange"

        question_id = serializers.IntegerField()
        version = serializers.IntegerField(help_text="The version attempts now use.")
        regraded = serializers.IntegerField(help_text="Submitted attempts regraded.")
        in_progress_updated = serializers.IntegerField(
            help_text="Attempts in progress switched to the current version."
        )
        changes = ChangeSerializer(many=True, help_text="Regraded attempts whose mark changed.")

        class Meta:
            ref_name = "QuestionRegrade"

    @extend_schema(
        operation_id="questions_regrade",
        tags=["quiz results"],
        summary="Regrade a question",
        description=(
            "Instructors only: regrades every attempt at the question against its current "
            "version (after fixing its answer key). Essays keep their hand-given marks."
        ),
        parameters=[QUESTION_PARAMETER],
        request=None,
        responses={
            200: OutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                e400="The fix changed the number or order of answers (`regrade_incompatible`).",
                e403=E403_STUDENT,
            ),
        },
    )
    def post(self, request: Request, question_id: int) -> Response:
        question = question_get(user=request.user, question_id=question_id)
        summary = services.question_regrade(question=question, actor=request.user)
        data = {
            "question_id": question.pk,
            "version": summary.version.number,
            "regraded": len(summary.records),
            "in_progress_updated": summary.in_progress_updated,
            "changes": [
                {
                    "attempt_id": record.attempt_question.attempt_id,
                    "username": record.attempt_question.attempt.user.username,
                    "old_mark": record.old_mark,
                    "new_mark": record.new_mark,
                }
                for record in summary.changed
            ],
        }
        return Response(self.OutputSerializer(data).data)
