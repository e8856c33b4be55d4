"""`/api/v1/` essay marking: the queue and the mark (teaching staff only)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import SECTION_PARAMETER, Pagination, error_responses, paginated_response
from courseware.selectors.students import student_scope
from quizzes import selectors, services
from quizzes.api.serializers import (
    ATTEMPT_PARAMETER,
    E403_STUDENT,
    QUIZ_PARAMETER,
    SLOT_PARAMETER,
    absolute_url,
)
from quizzes.models import Attempt, AttemptQuestion


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
            return absolute_url(
                self.context["request"],
                "essay-mark",
                attempt_id=question.attempt_id,
                slot=question.position,
            )

    @extend_schema(
        operation_id="quiz_essays_list",
        tags=["quiz results"],
        summary="Essays to mark",
        description="Staff only: essays of submitted attempts still waiting for a mark, "
        "oldest submission first.",
        parameters=[QUIZ_PARAMETER, SECTION_PARAMETER],
        responses={
            200: OutputSerializer(many=True),
            **error_responses(401, 403, 404, e403=E403_STUDENT),
        },
    )
    def get(self, request: Request, quiz_id: int) -> Response:
        quiz, _role = selectors.quiz_get_for_staff(user=request.user, quiz_id=quiz_id)
        scope = student_scope(
            user=request.user,
            course=quiz.session.course,
            section=request.query_params.get("section", ""),
        )
        return paginated_response(
            queryset=selectors.essay_marking_queue(
                course=quiz.session.course, quiz=quiz, scope=scope
            ),
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
        description="Staff only: marks (or re-marks) an essay of a submitted attempt; "
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
        attempt = selectors.attempt_get_for_grading(user=request.user, attempt_id=attempt_id)
        services.attempt_finalize_if_overdue(attempt=attempt)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = services.essay_mark(
            actor=request.user,
            attempt_question=selectors.attempt_question_get(attempt=attempt, slot=slot),
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
