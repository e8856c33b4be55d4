"""The `/api/v1/` gradebook API: the grid (teaching staff) or a student's own row, a cell's
history, and the instructor's overrides of a cell and of a final grade.

One view per operation: parse, call a selector or a service, serialize. Roles are checked by
the selectors and services (`courseware.permissions`): a non-member gets 404 `not_found`, a
member in the wrong role 403 `permission_denied`. Error bodies come from
`core.api.exception_handler`.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import SECTION_PARAMETER, Pagination, error_responses
from courseware import selectors as courseware_selectors
from courseware.permissions import is_staff_role
from gradebook import api_selectors, selectors, services
from gradebook.models import CellHistory, GradeCell, GradeItem

TAGS = ["gradebook"]
CODE_PARAMETER = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Course code (case-insensitive), e.g. `ICTSS00120`.",
)
ITEM_PARAMETER = OpenApiParameter(
    "item_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Gradebook item id."
)
USER_PARAMETER = OpenApiParameter(
    "user_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The student's user id."
)
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="From 1."),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Students per page."
    ),
]
E403_STAFF = "You are a student of the course (`permission_denied`)."
E_OVERRIDE = {
    "e400": "`reason_required` (every change needs a reason), `invalid_score`, or `invalid_input`.",
    "e403": "Only instructors change grades; students and TAs get `permission_denied`.",
    "e409": "The course is archived, so read-only (`course_archived`).",
}


class CellSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    score = serializers.FloatField(
        allow_null=True,
        help_text="Staff: the source's score. Students: the score they may see (an override "
        "included; null while the quiz's review options hide its marks).",
    )
    override = serializers.FloatField(
        allow_null=True, help_text="Staff only: the instructor's override (null for students)."
    )
    points = serializers.FloatField(
        allow_null=True, help_text="What counts: the override, or the score less any deduction."
    )
    status = serializers.ChoiceField(choices=GradeCell.Status.choices)
    deduction = serializers.FloatField(help_text="Late deduction, in points.")
    dropped = serializers.BooleanField(help_text="Dropped by the category's drop rules.")
    excused = serializers.BooleanField()
    provisional = serializers.BooleanField(
        help_text="A lab's public-part score before the lab closes."
    )

    class Meta:
        ref_name = "GradebookCell"


class CategoryTotalSerializer(serializers.Serializer):
    earned = serializers.FloatField()
    possible = serializers.FloatField()
    percent = serializers.FloatField(allow_null=True, help_text="Current (ungraded left out).")
    final_percent = serializers.FloatField(allow_null=True, help_text="Missing work as 0.")

    class Meta:
        ref_name = "GradebookCategoryTotal"


class TotalsSerializer(serializers.Serializer):
    current_percent = serializers.FloatField(allow_null=True)
    final_percent = serializers.FloatField(allow_null=True)
    current_letter = serializers.CharField()
    final_letter = serializers.CharField()
    categories = serializers.DictField(
        child=CategoryTotalSerializer(), help_text="Category id → its totals."
    )

    class Meta:
        ref_name = "GradebookTotals"


class FinalOverrideSerializer(serializers.Serializer):
    percent = serializers.FloatField()
    letter = serializers.CharField()
    reason = serializers.CharField()

    class Meta:
        ref_name = "GradebookFinalOverride"


class HistorySerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=CellHistory.Field.choices)
    old_value = serializers.CharField(help_text="Blank: nothing before.")
    new_value = serializers.CharField(help_text="Blank: removed.")
    reason = serializers.CharField()
    changed_by = serializers.CharField(
        source="changed_by.username", allow_null=True, default=None, help_text="Null: the system."
    )
    source = serializers.CharField(help_text="What changed it, when not a person.")
    changed_at = serializers.DateTimeField(source="created_at")

    class Meta:
        ref_name = "GradebookHistoryEntry"


# --- The grid or my row ---------------------------------------------------------------------


class GradebookApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class CategorySerializer(serializers.Serializer):
            id = serializers.IntegerField()
            name = serializers.CharField()
            weight = serializers.FloatField(allow_null=True)
            drop_lowest = serializers.IntegerField()
            drop_highest = serializers.IntegerField()

            class Meta:
                ref_name = "GradebookCategory"

        class ItemSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            title = serializers.CharField()
            kind = serializers.ChoiceField(choices=GradeItem.Kind.choices)
            source_id = serializers.IntegerField(
                allow_null=True, help_text="The quiz, lab, task or session id; null if manual."
            )
            category_id = serializers.IntegerField()
            points_possible = serializers.FloatField()
            due_at = serializers.DateTimeField(allow_null=True)
            released = serializers.BooleanField(help_text="Students see released items only.")
            extra_credit = serializers.BooleanField()
            never_drop = serializers.BooleanField()

            class Meta:
                ref_name = "GradebookItem"

        class RowSerializer(serializers.Serializer):
            user_id = serializers.IntegerField(source="student.pk")
            username = serializers.CharField(source="student.username")
            first_name = serializers.CharField(source="student.first_name")
            last_name = serializers.CharField(source="student.last_name")
            student_id = serializers.CharField(help_text="The roster's student id, if any.")
            section = serializers.CharField()
            totals = TotalsSerializer(allow_null=True)
            final_override = FinalOverrideSerializer(allow_null=True)
            cells = CellSerializer(many=True, help_text="One per item, in `items` order.")

            class Meta:
                ref_name = "GradebookRow"

        count = serializers.IntegerField(help_text="Students (1 for a student: themselves).")
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        section = serializers.CharField(help_text="The section shown; blank: the whole course.")
        sections = serializers.ListField(child=serializers.CharField())
        section_locked = serializers.BooleanField(
            help_text="True for a TA limited to their section (and for a student)."
        )
        categories = CategorySerializer(many=True)
        items = ItemSerializer(many=True, help_text="Students: released items only.")
        results = RowSerializer(many=True)

        class Meta:
            ref_name = "Gradebook"

    @extend_schema(
        operation_id="gradebook_retrieve",
        tags=TAGS,
        summary="The gradebook",
        description=(
            "Instructors and TAs: the grid, every item (released or not) and one page of the "
            "course's current students by name, each with their cells and stored totals "
            "(`?section=`; a TA limited to a section gets only it). A student: their own row "
            "(`count` 1), released items only, with what their pages show (never a hidden "
            "item, a quiz mark their review options hide, or a lab's private score before "
            "it closes); `?section=` is ignored."
        ),
        parameters=[CODE_PARAMETER, SECTION_PARAMETER, *PAGE_PARAMETERS],
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        _course, role = courseware_selectors.course_get(user=request.user, code=code)
        if is_staff_role(role):
            grid = api_selectors.gradebook_grid_for_api(
                user=request.user, code=code, section=request.query_params.get("section", "")
            )
        else:
            grid = api_selectors.gradebook_own_row(user=request.user, code=code)
        paginator = Pagination()
        rows = paginator.paginate_queryset(grid.rows, request, view=self)
        data = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "section": grid.section,
            "sections": list(grid.sections),
            "section_locked": grid.section_locked,
            "categories": grid.categories,
            "items": grid.items,
            "results": rows,
        }
        return Response(self.OutputSerializer(data).data)


# --- One cell -------------------------------------------------------------------------------


class CellDetailSerializer(serializers.Serializer):
    item_id = serializers.IntegerField(source="item.pk")
    user_id = serializers.IntegerField(source="student.pk")
    cell = CellSerializer(allow_null=True)
    override_reason = serializers.CharField(help_text="Why the current override was set.")
    history = HistorySerializer(many=True, help_text="Newest first.")

    class Meta:
        ref_name = "GradebookCellDetail"


def _cell_detail_data(detail: selectors.CellDetail) -> dict:
    return {
        "item": detail.item,
        "student": detail.student,
        "cell": None
        if detail.cell is None
        else api_selectors.CellView.of(detail.item, detail.cell),
        "override_reason": detail.cell.override_reason if detail.cell else "",
        "history": detail.history,
    }


class CellHistoryApi(APIView):
    @extend_schema(
        operation_id="gradebook_cell_history",
        tags=TAGS,
        summary="A cell's history",
        description=(
            "Staff only: one student's cell on one item and every change to it (who, when, "
            "old → new, reason), newest first. A TA limited to a section sees its students."
        ),
        parameters=[CODE_PARAMETER, ITEM_PARAMETER, USER_PARAMETER],
        responses={200: CellDetailSerializer, **error_responses(401, 403, 404, e403=E403_STAFF)},
    )
    def get(self, request: Request, code: str, item_id: int, user_id: int) -> Response:
        detail = selectors.cell_detail(
            user=request.user, code=code, item_id=item_id, student_id=user_id
        )
        return Response(CellDetailSerializer(_cell_detail_data(detail)).data)


class CellOverrideApi(APIView):
    class InputSerializer(serializers.Serializer):
        override = serializers.FloatField(
            allow_null=True,
            min_value=0,
            help_text="Points that replace the computed score (late deduction included); "
            "null removes the override.",
        )
        reason = serializers.CharField(
            allow_blank=True, required=False, default="", help_text="Required: it is kept."
        )

        class Meta:
            ref_name = "GradebookCellOverrideInput"

    @extend_schema(
        operation_id="gradebook_cell_override",
        tags=TAGS,
        summary="Override a cell",
        description=(
            "Instructors only: replace one student's score on one item (null removes the "
            "override), with a reason; the change goes into the cell's history and the "
            "student's totals are recomputed. Answers the cell with its history."
        ),
        parameters=[CODE_PARAMETER, ITEM_PARAMETER, USER_PARAMETER],
        request=InputSerializer,
        responses={
            200: CellDetailSerializer,
            **error_responses(400, 401, 403, 404, 409, **E_OVERRIDE),
        },
    )
    def patch(self, request: Request, code: str, item_id: int, user_id: int) -> Response:
        detail = selectors.cell_detail(
            user=request.user, code=code, item_id=item_id, student_id=user_id
        )
        data = _valid(self.InputSerializer, request)
        services.cell_override_set(
            actor=request.user,
            item=detail.item,
            student=detail.student,
            override=data["override"],
            reason=data["reason"],
        )
        detail = selectors.cell_detail(
            user=request.user, code=code, item_id=item_id, student_id=user_id
        )
        return Response(CellDetailSerializer(_cell_detail_data(detail)).data)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- A final grade --------------------------------------------------------------------------


class FinalGradeApi(APIView):
    class InputSerializer(serializers.Serializer):
        percent = serializers.FloatField(
            allow_null=True,
            min_value=0,
            help_text="The final grade in percent (its letter follows the course's scheme); "
            "null removes the override.",
        )
        reason = serializers.CharField(
            allow_blank=True, required=False, default="", help_text="Required: it is kept."
        )

        class Meta:
            ref_name = "GradebookFinalGradeInput"

    class OutputSerializer(serializers.Serializer):
        user_id = serializers.IntegerField(source="student.pk")
        override = FinalOverrideSerializer(
            allow_null=True, help_text="Null: the computed total stands."
        )
        history = HistorySerializer(many=True, help_text="Final-grade changes, newest first.")

        class Meta:
            ref_name = "GradebookFinalGrade"

    @extend_schema(
        operation_id="gradebook_final_grade_retrieve",
        tags=TAGS,
        summary="A student's final-grade override",
        description="Staff only: the override of a student's final grade and its history.",
        parameters=[CODE_PARAMETER, USER_PARAMETER],
        responses={200: OutputSerializer, **error_responses(401, 403, 404, e403=E403_STAFF)},
    )
    def get(self, request: Request, code: str, user_id: int) -> Response:
        final = api_selectors.final_grade_get(user=request.user, code=code, student_id=user_id)
        return Response(self.OutputSerializer(final).data)

    @extend_schema(
        operation_id="gradebook_final_grade_override",
        tags=TAGS,
        summary="Override a final grade",
        description=(
            "Instructors only: set a student's final grade (null removes the override), with "
            "a reason kept in the history."
        ),
        parameters=[CODE_PARAMETER, USER_PARAMETER],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **error_responses(400, 401, 403, 404, 409, **E_OVERRIDE),
        },
    )
    def patch(self, request: Request, code: str, user_id: int) -> Response:
        course, student = selectors.gradebook_student_get(
            user=request.user, code=code, student_id=user_id
        )
        data = _valid(self.InputSerializer, request)
        services.final_grade_override_set(
            actor=request.user,
            course=course,
            student=student,
            percent=data["percent"],
            reason=data["reason"],
        )
        final = api_selectors.final_grade_get(user=request.user, code=code, student_id=user_id)
        return Response(self.OutputSerializer(final).data)
