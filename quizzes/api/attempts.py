"""`/api/v1/` attempts: start, read, answer, submit and review an attempt."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from quizzes import errors, selectors, services
from quizzes.api.serializers import (
    ATTEMPT_PARAMETER,
    QUIZ_PARAMETER,
    RESPONSE_HELP,
    SLOT_PARAMETER,
    AttemptDisplaySerializer,
    AttemptReviewSerializer,
)
from quizzes.presentation import response_to_display


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
        attempt = services.attempt_start(actor=request.user, quiz=quiz, now=now)
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
        services.attempt_finalize_if_overdue(attempt=attempt)
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
            "progress. An answer arriving within the network grace after the deadline "
            "(`QUIZ_NETWORK_GRACE_S`, for requests sent in time) is still saved; later it is "
            "refused with 409 `attempt_overdue` and the attempt is submitted with what was saved."
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
        attempt = selectors.attempt_get_for_change(user=request.user, attempt_id=attempt_id)
        if services.attempt_finalize_if_overdue(attempt=attempt):
            raise errors.attempt_overdue()
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = services.attempt_answer_save(
            actor=request.user,
            attempt=attempt,
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
            "same result. Responses arriving after the deadline and its network grace are "
            "refused (409 `attempt_overdue`), but the attempt is still submitted with what was "
            "saved."
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
        attempt = selectors.attempt_get_for_change(user=request.user, attempt_id=attempt_id)
        timed_out = services.attempt_finalize_if_overdue(attempt=attempt)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if timed_out and serializer.validated_data.get("responses"):
            raise errors.attempt_overdue()  # as the service does for late responses
        attempt = services.attempt_submit(
            actor=request.user,
            attempt=attempt,
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
        services.attempt_finalize_if_overdue(attempt=attempt)
        review = selectors.attempt_review(attempt=attempt, user=request.user)
        return Response(AttemptReviewSerializer(review).data)
