"""`/api/v1/` quizzes: a course's quizzes and one quiz."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated_response
from courseware import selectors as courseware_selectors
from courseware.permissions import is_staff_role
from quizzes import selectors
from quizzes.api.serializers import (
    CODE_PARAMETER,
    QUIZ_PARAMETER,
    QuizDetailSerializer,
    QuizSerializer,
)


def _quiz_data(access: selectors.QuizAccess, role: str) -> dict[str, Any]:
    staff = is_staff_role(role)  # instructors and teaching assistants take no quizzes
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
        "can_start": access.can_start and not staff,
        "reason": "Teaching staff do not take quizzes." if staff else access.reason,
        "in_progress_attempt_id": access.in_progress_attempt_id,
    }


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
        count, max_grade = selectors.quiz_outline(quiz)
        data = {
            **_quiz_data(access, role),
            "question_count": count,
            "max_grade": max_grade,
            "attempts": [],
            "grade": None,
            "grade_percentage": None,
            "passed": None,
        }
        if not is_staff_role(role):
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
