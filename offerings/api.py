"""`POST /api/v1/courses/{code}/copy/`: copy an offering into a new term (or, with
`dry_run`, say what would be copied). Rules live in `offerings.selectors`/`services`."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from courseware import selectors as courseware_selectors
from offerings import selectors, services

CODE_PARAMETER = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The offering to copy (its slug: `ICTSS00120` or `ICTSS00120-2027-S1`).",
)


class PlanSerializer(serializers.Serializer):
    class SessionSerializer(serializers.Serializer):
        number = serializers.IntegerField()
        title = serializers.CharField()
        objective_count = serializers.SerializerMethodField()
        homework_count = serializers.SerializerMethodField()

        class Meta:
            ref_name = "OfferingCopySession"

        def get_objective_count(self, session) -> int:
            return len(session.objectives.all())

        def get_homework_count(self, session) -> int:
            return len(session.homework.all())

    class QuizSerializer(serializers.Serializer):
        title = serializers.CharField()
        session = serializers.IntegerField(source="session.number")
        question_count = serializers.IntegerField(source="slot_count")

        class Meta:
            ref_name = "OfferingCopyQuiz"

    class LabSerializer(serializers.Serializer):
        title = serializers.CharField(source="lab.title")
        session = serializers.IntegerField(source="lab.session.number")
        dataset_versions = serializers.ListField(child=serializers.IntegerField())

        class Meta:
            ref_name = "OfferingCopyLab"

    offset_days = serializers.IntegerField(help_text="How many days every date moves.")
    sessions = SessionSerializer(many=True)
    objective_count = serializers.IntegerField()
    homework_count = serializers.IntegerField()
    quizzes = QuizSerializer(many=True, source="quizzes.quizzes")
    question_bank = serializers.SerializerMethodField()
    labs = LabSerializer(many=True)

    class Meta:
        ref_name = "OfferingCopyPlan"

    def get_question_bank(self, plan) -> dict[str, int]:
        return {
            "categories": plan.quizzes.category_count,
            "questions": plan.quizzes.question_count,
        }


class OfferingCopyApi(APIView):
    class InputSerializer(serializers.Serializer):
        term = serializers.CharField(max_length=40, help_text="The new term, e.g. `2027 S2`.")
        starts_on = serializers.DateField()
        ends_on = serializers.DateField()
        title = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
        dry_run = serializers.BooleanField(
            default=False, help_text="Say what would be copied; write nothing."
        )

        class Meta:
            ref_name = "OfferingCopyInput"

        def validate_term(self, value: str) -> str:
            term = " ".join(value.split())
            if not term:
                raise serializers.ValidationError("Name the new term, e.g. 2027 S2.")
            return term

        def validate(self, data: dict) -> dict:
            if data["ends_on"] < data["starts_on"]:
                raise serializers.ValidationError(
                    {"ends_on": "The course must end on or after its start date."}
                )
            return data

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        term = serializers.CharField()
        slug = serializers.CharField(help_text="The new offering's name in URLs.")
        title = serializers.CharField()
        state = serializers.CharField()
        starts_on = serializers.DateField()
        ends_on = serializers.DateField()

        class Meta:
            ref_name = "OfferingCopyResult"

    @extend_schema(
        operation_id="courses_copy",
        tags=["courses"],
        summary="Copy an offering into a new term",
        description=(
            "Instructors of the offering who are course creators. Copies sessions (slides, "
            "objectives, homework), the question bank and quizzes with their settings, and labs "
            "with their settings and held-out datasets into a new draft offering of the same "
            "code, every date moved by (new start - old start). Never attempts, submissions, "
            "grades, homework ticks, overrides or members: you become the new offering's "
            "instructor. One transaction. With `dry_run`, returns what would be copied (200)."
        ),
        parameters=[CODE_PARAMETER],
        request=InputSerializer,
        responses={
            200: OpenApiResponse(PlanSerializer, description="dry_run: what would be copied."),
            201: OpenApiResponse(OutputSerializer, description="The new offering."),
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                e403="Not an instructor of the offering, or not a course creator.",
                e409="The code is already offered in that term (`course_exists`).",
            ),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        source = courseware_selectors.course_get_for_instructor(user=request.user, code=code)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.pop("dry_run"):
            plan = selectors.offering_copy_plan(
                user=request.user, source=source, term=data["term"], starts_on=data["starts_on"]
            )
            return Response(PlanSerializer(plan).data)
        target = services.offering_copy(actor=request.user, source=source, **data)
        return Response(self.OutputSerializer(target).data, status=201)
