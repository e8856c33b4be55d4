"""`POST /api/v1/courses/{code}/roster/`: import a roster CSV (instructors only)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer, error_responses
from core.exceptions import ApplicationError
from courseware import selectors
from courseware.api import CODE_PARAMETER
from courseware.roster import MAX_BYTES
from courseware.services import roster as roster_services


class CsvParser(BaseParser):
    """A `text/csv` body is the roster itself (bytes; the service decodes and checks it)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        # One byte over the limit is enough for the parser to refuse the file by its size.
        return stream.read(MAX_BYTES + 1) if stream is not None else b""


class RosterRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row: the header is row 1.")
    column = serializers.CharField(help_text="`email`, `role`, ...; blank for the file.")
    message = serializers.CharField()

    class Meta:
        ref_name = "RosterRowError"


class RosterInvalidSerializer(ErrorSerializer):
    rows = serializers.ListField(
        child=RosterRowErrorSerializer(), required=False, help_text="Each row error."
    )

    class Meta:
        ref_name = "RosterInvalidError"


class RosterImportApi(APIView):
    parser_classes = [CsvParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="The roster CSV (UTF-8, comma or semicolon).")
        dry_run = serializers.BooleanField(
            required=False, default=False, help_text="Check and count; write nothing."
        )

        class Meta:
            ref_name = "RosterUpload"

    class QuerySerializer(serializers.Serializer):
        dry_run = serializers.BooleanField(required=False, default=False)

        class Meta:
            ref_name = "RosterQuery"

    class OutputSerializer(serializers.Serializer):
        dry_run = serializers.BooleanField(help_text="True: nothing was written.")
        created = serializers.IntegerField(help_text="People added to the course.")
        updated = serializers.IntegerField(
            help_text="Members whose role, section or enrolment changed."
        )
        unchanged = serializers.IntegerField()
        invited = serializers.IntegerField(help_text="New accounts emailed an invitation.")

        class Meta:
            ref_name = "RosterImportResult"

    @extend_schema(
        operation_id="course_roster_import",
        tags=["courses"],
        summary="Import a roster (class list CSV)",
        description=(
            "Instructors only. Send the CSV as multipart field `file` or as a `text/csv` body. "
            "Columns: `email` (required), `first_name`, `last_name`, `student_id`, `role` "
            "(student, ta, instructor; default student), `section`. People are matched by "
            "email, then student id; new accounts are invited by email. Any row error "
            "(`roster_invalid`, with `rows`) means nothing is written. Re-importing the same "
            "file changes nothing. `dry_run` counts without writing."
        ),
        parameters=[
            CODE_PARAMETER,
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description="Check and count; write nothing (also a multipart field).",
            ),
        ],
        request={
            "multipart/form-data": InputSerializer,
            "text/csv": OpenApiTypes.BINARY,
        },
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(
                response=RosterInvalidSerializer,
                description="`roster_invalid` with `rows: [{row, column, message}]`, or no file.",
            ),
            **error_responses(401, 403, 404, 415, e403="Only the course's instructors."),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        course, _role = selectors.course_get(user=request.user, code=code)
        data, dry_run = self._input(request)
        service = roster_services.roster_dry_run if dry_run else roster_services.roster_import
        result = service(actor=request.user, course=course, data=data)
        return Response({"dry_run": dry_run, **result.as_dict()})

    def _input(self, request: Request) -> tuple[bytes, bool]:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        dry_run = query.validated_data["dry_run"]
        if isinstance(request.data, bytes):
            return request.data, dry_run
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError(
                "invalid_input",
                "Send the roster as multipart field `file`, or as a text/csv body.",
            )
        form = self.QuerySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = upload.read(MAX_BYTES + 1)  # over the limit: refused by its size
        return data, dry_run or form.validated_data["dry_run"]
