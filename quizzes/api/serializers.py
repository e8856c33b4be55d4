"""Serializers, path parameters and helpers shared by the quizzes API views: what a
quiz, an attempt and its questions look like on the wire. They only declare the keys the
selectors may return, so nothing else can leak through them."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request

from quizzes.content import QUESTION_TYPE_LABELS
from quizzes.grading import round_percentage
from quizzes.models import Attempt, AttemptQuestion, Quiz
from quizzes.review import OPTIONS, WINDOWS

URL_NAMESPACE = "quizzes_api"
#: Item analysis: a question whose discrimination index (percent) is below this, or negative,


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
E403_STUDENT = "You are a student of the course (`permission_denied`): the teaching staff only."


def absolute_url(request: Request, view_name: str, **kwargs: Any) -> str:
    return request.build_absolute_uri(reverse(f"{URL_NAMESPACE}:{view_name}", kwargs=kwargs))


class PercentageField(serializers.FloatField):
    """A percentage rounded as the pages and the CSV show it (grading.round_percentage)."""

    def to_representation(self, value: float) -> float:
        return round_percentage(super().to_representation(value))


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
        return absolute_url(self.context["request"], "quiz-detail", quiz_id=data["quiz"].pk)


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
    time_up = serializers.BooleanField(
        help_text="The deadline has passed: stop answering and submit. The server still "
        "accepts answers sent in time for a few seconds (network grace), then submits."
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
