"""`/api/v1/` quiz results and statistics (teaching staff only)."""

from __future__ import annotations

from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import renderers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import SECTION_PARAMETER, error_responses
from core.csv import TableCSVRenderer
from courseware.selectors.students import student_scope
from quizzes import reports, selectors
from quizzes.api.serializers import (
    E403_STUDENT,
    QUIZ_PARAMETER,
)


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
            "Staff only: one row per student with attempts, grade (by the quiz's grading "
            "method), percentage, pass and per-question marks. `?format=csv` (or "
            "`Accept: text/csv`) returns the same table as a CSV download."
        ),
        parameters=[
            QUIZ_PARAMETER,
            SECTION_PARAMETER,
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
        quiz, _role = selectors.quiz_get_for_staff(user=request.user, quiz_id=quiz_id)
        scope = student_scope(
            user=request.user,
            course=quiz.session.course,
            section=request.query_params.get("section", ""),
        )
        table = selectors.quiz_results(quiz=quiz, scope=scope)
        data = {
            "columns": table.columns,
            "rows": [dict(zip(table.columns, row, strict=True)) for row in table.rows],
        }
        response = Response(self.OutputSerializer(data).data)
        if getattr(request.accepted_renderer, "format", None) == "csv":
            suffix = f"-section-{slugify(scope.section)}" if scope.section else ""
            filename = f"{quiz.session.course.code}-quiz-{quiz.pk}-results{suffix}.csv"
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
            "Staff only: Moodle's quiz statistics (mean, median, SD, skewness, kurtosis, "
            "CIC, error ratio, standard error) and item analysis per question (facility, SD, "
            "discrimination index, discriminative efficiency), over each student's first "
            "attempt unless `?attempts=` says otherwise. Values needing more attempts are null."
        ),
        parameters=[
            QUIZ_PARAMETER,
            SECTION_PARAMETER,
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
        quiz, _role = selectors.quiz_get_for_staff(user=request.user, quiz_id=quiz_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        scope = student_scope(
            user=request.user,
            course=quiz.session.course,
            section=request.query_params.get("section", ""),
        )
        report = selectors.quiz_statistics(
            quiz=quiz, attempts=filters.validated_data.get("attempts", "first"), scope=scope
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
                    "problem": reports.is_problem_question(stat),
                }
                for stat in report.questions
            ],
            "histogram": reports.grade_histogram(selectors.quiz_results(quiz=quiz, scope=scope)),
        }
        return Response(self.OutputSerializer(data).data)
