"""`/api/v1/` regrading a question after its answer key was fixed (instructors only)."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from quizzes import selectors, services
from quizzes.api.serializers import (
    QUESTION_PARAMETER,
)


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
                e403="You are a student or teaching assistant of the course "
                "(`permission_denied`): instructors only.",
            ),
        },
    )
    def post(self, request: Request, question_id: int) -> Response:
        question = selectors.question_get(user=request.user, question_id=question_id)
        summary = services.question_regrade(actor=request.user, question=question)
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
