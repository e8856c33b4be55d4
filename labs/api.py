"""The `/api/v1/` labs API: lab details, model submissions, their results and the leaderboard.

One view per operation (a path with two methods has one view with one handler per method).
A view validates its input, calls a selector or a service and serializes the result.
Membership and role rules live in `courseware.permissions`, the selectors and the services: a
non-member gets 404 `not_found`, a wrong role 403 `permission_denied`. What a role may see of a
submission's metrics is decided by `selectors.submission_visible_metrics`, never here.
Nothing in this module exposes a stored file's path or URL (artifacts, held-out datasets).
"""

from __future__ import annotations

import bisect
from dataclasses import asdict
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import (
    SECTION_PARAMETER,
    ErrorSerializer,
    Pagination,
    error_responses,
    paginated_response,
)
from courseware.permissions import is_staff_role
from labs import selectors, services, uploads
from labs.models import Lab, Submission

URL_NAMESPACE = "labs_api"

LAB_PARAMETER = OpenApiParameter(
    "lab_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Lab id."
)
SUBMISSION_PARAMETER = OpenApiParameter(
    "submission_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Submission id."
)


def _absolute(request: Request, view_name: str, **kwargs: Any) -> str:
    return request.build_absolute_uri(reverse(f"{URL_NAMESPACE}:{view_name}", kwargs=kwargs))


class QuotaExceededErrorSerializer(ErrorSerializer):
    """The 429 body of a refused upload: the error plus what is left and when it resets."""

    left_today = serializers.IntegerField(required=False)
    left_total = serializers.IntegerField(required=False)
    resets_at = serializers.DateTimeField(
        required=False, help_text="When today's quota resets (UTC midnight)."
    )

    class Meta:
        ref_name = "QuotaExceededError"


class QuotaSerializer(serializers.Serializer):
    used_today = serializers.IntegerField(help_text="Charged submissions since UTC midnight.")
    left_today = serializers.IntegerField()
    left_total = serializers.IntegerField(
        allow_null=True, help_text="Null when the lab has no total limit."
    )
    resets_at = serializers.DateTimeField(help_text="When today's quota resets (UTC midnight).")

    class Meta:
        ref_name = "LabQuota"


class VisibleMetricsSerializer(serializers.Serializer):
    public = serializers.JSONField(
        allow_null=True,
        help_text="Scores on the public part of the held-out set (accuracy, macro_f1, "
        "weighted_f1, per_class); null until scored.",
    )
    private = serializers.JSONField(
        allow_null=True,
        help_text="Scores on the private part. Students get null until the lab has closed; "
        "instructors always see it.",
    )

    class Meta:
        ref_name = "SubmissionMetrics"


class SubmissionOutputSerializer(serializers.Serializer):
    """A submission as its student sees it."""

    id = serializers.IntegerField()
    lab = serializers.IntegerField(source="lab_id")
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    error_code = serializers.CharField(help_text="Empty unless `failed`, e.g. `label_mismatch`.")
    error_message = serializers.CharField(help_text="How to fix the problem; empty unless failed.")
    artifact_size = serializers.IntegerField(help_text="Bytes uploaded.")
    artifact_sha256 = serializers.CharField(help_text="SHA-256 of the uploaded archive.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField(help_text="Grading attempts so far.")
    queue_position = serializers.SerializerMethodField(
        help_text="1-based place in the grading queue while `queued`; otherwise null."
    )
    grader_version = serializers.CharField()
    dataset_version = serializers.IntegerField(
        source="dataset.version", allow_null=True, default=None
    )
    notes = serializers.JSONField(help_text="The grader's remarks, e.g. truncated texts.")
    timings = serializers.JSONField(help_text="Seconds spent per grading step.")
    metrics = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        ref_name = "Submission"

    @extend_schema_field(VisibleMetricsSerializer)
    def get_metrics(self, submission: Submission) -> dict:
        return selectors.submission_visible_metrics(
            submission=submission, role=self.context["role"], now=self.context.get("now")
        )

    def get_queue_position(self, submission: Submission) -> int | None:
        if submission.status != Submission.Status.QUEUED or submission.queued_at is None:
            return None
        # A list's rows share the context: the queue is read once per response, not per row.
        if "queue_times" not in self.context:
            self.context["queue_times"] = selectors.queued_times()
        return bisect.bisect_left(self.context["queue_times"], submission.queued_at) + 1

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, submission: Submission) -> str:
        return _absolute(self.context["request"], "submission-detail", submission_id=submission.pk)


class InstructorSubmissionOutputSerializer(SubmissionOutputSerializer):
    """A submission; the fields below `url` are sent to instructors of the course only."""

    student = serializers.CharField(
        source="student.username", required=False, help_text="Instructors only."
    )
    charged = serializers.BooleanField(
        required=False, help_text="Instructors only: whether it counts towards the quota."
    )
    worker_host = serializers.CharField(required=False, help_text="Instructors only.")
    heartbeat_at = serializers.DateTimeField(
        allow_null=True, required=False, help_text="Instructors only."
    )
    regrade_requested_at = serializers.DateTimeField(
        allow_null=True, required=False, help_text="Instructors only: a re-grade is pending."
    )
    regrade_error = serializers.CharField(
        required=False, help_text="Instructors only: why the last re-grade failed."
    )

    class Meta:
        ref_name = "SubmissionDetail"


def _submission_data(request: Request, submission: Submission, role: str) -> dict:
    serializer_class = (
        InstructorSubmissionOutputSerializer if is_staff_role(role) else SubmissionOutputSerializer
    )
    context = {"request": request, "role": role}
    return serializer_class(submission, context=context).data


# --- Labs -----------------------------------------------------------------------------------


class LabDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        title = serializers.CharField()
        course = serializers.CharField(source="session.course.code", help_text="Course code.")
        session = serializers.IntegerField(source="session.number", help_text="Session number.")
        instructions = serializers.CharField(help_text="Markdown.")
        task_type = serializers.ChoiceField(choices=Lab.TaskType.choices)
        labels = serializers.ListField(
            child=serializers.CharField(), help_text="The model's labels, in id order."
        )
        primary_metric = serializers.ChoiceField(
            choices=Lab.Metric.choices, help_text="The leaderboard ranks by this metric."
        )
        opens_at = serializers.DateTimeField(allow_null=True)
        closes_at = serializers.DateTimeField(allow_null=True)
        is_open = serializers.BooleanField(help_text="Whether submissions are taken now.")
        daily_quota = serializers.IntegerField(help_text="Submissions per student per UTC day.")
        total_quota = serializers.IntegerField(allow_null=True)
        max_upload_bytes = serializers.IntegerField()
        grading_timeout_s = serializers.IntegerField()
        quota = QuotaSerializer(required=False, help_text="Students only: your quota.")
        submissions_url = serializers.URLField()
        leaderboard_url = serializers.URLField()

        class Meta:
            ref_name = "LabDetail"

    @extend_schema(
        operation_id="labs_retrieve",
        tags=["labs"],
        summary="One lab",
        description="A lab of one of your courses; students also get their `quota`.",
        parameters=[LAB_PARAMETER],
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, lab_id: int) -> Response:
        lab, role = selectors.lab_get(user=request.user, lab_id=lab_id)
        data: dict[str, Any] = {
            **{f: getattr(lab, f) for f in ("id", "title", "instructions", "task_type")},
            **{f: getattr(lab, f) for f in ("labels", "primary_metric", "opens_at", "closes_at")},
            **{f: getattr(lab, f) for f in ("daily_quota", "total_quota", "max_upload_bytes")},
            "grading_timeout_s": lab.grading_timeout_s,
            "session": lab.session,
            # A student's own deadline extension keeps the lab open for them.
            "is_open": selectors.lab_is_open(
                lab=lab, student=None if is_staff_role(role) else request.user
            ),
            "submissions_url": _absolute(request, "lab-submissions", lab_id=lab.pk),
            "leaderboard_url": _absolute(request, "lab-leaderboard", lab_id=lab.pk),
        }
        if not is_staff_role(role):
            data["quota"] = selectors.quota_status(lab=lab, student=request.user)
        return Response(self.OutputSerializer(data).data)


class LabRegradeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        queued = serializers.IntegerField(help_text="Scored submissions queued for re-grading.")

        class Meta:
            ref_name = "LabRegrade"

    @extend_schema(
        operation_id="labs_regrade",
        tags=["labs"],
        summary="Re-grade a lab",
        description=(
            "Staff only: re-grades every scored submission on the low-priority queue "
            "(e.g. after uploading a new held-out dataset version). Current results stay "
            "visible until the new ones are written."
        ),
        parameters=[LAB_PARAMETER],
        request=None,
        responses={
            202: OutputSerializer,
            **error_responses(
                401, 403, 404, e403="You are a student of the course (`permission_denied`)."
            ),
        },
    )
    def post(self, request: Request, lab_id: int) -> Response:
        lab, _role = selectors.lab_get(user=request.user, lab_id=lab_id)
        queued = services.lab_regrade(lab=lab, actor=request.user)
        return Response(self.OutputSerializer({"queued": queued}).data, status=202)


# --- Submissions ----------------------------------------------------------------------------


class LabSubmissionsApi(APIView):
    """GET lists a lab's submissions, POST uploads a model archive for grading."""

    pagination_class = Pagination
    parser_classes = [MultiPartParser, FormParser]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Submission.Status.choices, required=False)
        section = serializers.CharField(required=False, allow_blank=True, max_length=60)

        class Meta:
            ref_name = "SubmissionFilter"

    class InputSerializer(serializers.Serializer):
        archive = serializers.FileField(
            allow_empty_file=True,  # the service answers `invalid_archive` with a clearer message
            help_text="A .zip (or .tar.gz) of the folder written by `save_pretrained`: "
            "config.json, *.safetensors and the tokenizer files.",
            error_messages={
                "required": "Send the model zip as multipart/form-data field `archive`.",
                "invalid": "Send the model zip as multipart/form-data field `archive` "
                "(a file part, not a text field).",
            },
        )

        class Meta:
            ref_name = "SubmissionUpload"

    class CreateOutputSerializer(serializers.Serializer):
        class RemainingQuotaSerializer(serializers.Serializer):
            left_today = serializers.IntegerField()
            left_total = serializers.IntegerField(allow_null=True)
            resets_at = serializers.DateTimeField()

            class Meta:
                ref_name = "SubmissionQuotaLeft"

        id = serializers.IntegerField()
        status = serializers.ChoiceField(choices=Submission.Status.choices)
        status_url = serializers.URLField(help_text="Poll this for the result.")
        quota = RemainingQuotaSerializer(help_text="Your quota after this submission.")

        class Meta:
            ref_name = "SubmissionAccepted"

    @extend_schema(
        operation_id="lab_submissions_list",
        tags=["submissions"],
        summary="A lab's submissions",
        description=(
            "Newest first. Students get their own submissions; instructors everyone's, with "
            "the student's username, except unenrolled students' (`?section=` for one "
            "section; ignored for students)."
        ),
        parameters=[
            LAB_PARAMETER,
            SECTION_PARAMETER,
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=Submission.Status.values,
                description="Only submissions in this state.",
            ),
        ],
        responses={
            200: InstructorSubmissionOutputSerializer(many=True),
            **error_responses(400, 401, 404, e400="Unknown `status` (`invalid_input`)."),
        },
    )
    def get(self, request: Request, lab_id: int) -> Response:
        lab, role = selectors.lab_get(user=request.user, lab_id=lab_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.submission_list(
            lab=lab,
            user=request.user,
            role=role,
            status=filters.validated_data.get("status"),
            section=filters.validated_data.get("section", ""),
        ).select_related("lab", "dataset")
        return paginated_response(
            queryset=queryset,
            serializer_class=(
                InstructorSubmissionOutputSerializer
                if is_staff_role(role)
                else SubmissionOutputSerializer
            ),
            request=request,
            view=self,
            context={"role": role},
        )

    @extend_schema(
        operation_id="lab_submissions_create",
        tags=["submissions"],
        summary="Submit a model",
        description=(
            "Students only. Upload the archive as multipart field `archive`; it is queued for "
            "grading on the held-out set and the response says where to poll for the result. "
            "Charged submissions count towards the lab's daily and total quotas (failures on "
            "our side, `internal`, do not)."
        ),
        parameters=[LAB_PARAMETER],
        request={"multipart/form-data": InputSerializer},
        responses={
            202: CreateOutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                413,
                415,
                e400="No `archive` part (`invalid_input`), or not a .zip/.tar.gz archive "
                "(`invalid_archive`).",
                e403="You are an instructor of the course (`permission_denied`).",
                e409="The lab is not open yet (`lab_not_open`), has closed (`lab_closed`) or "
                "has no held-out dataset yet (`no_dataset`).",
                e413="The archive exceeds the lab's `max_upload_bytes` (`too_large`); refused "
                "from the `Content-Length` before the body is read when that already says so.",
                e415="Not a multipart/form-data body (`unsupported_media_type`).",
            ),
            429: OpenApiResponse(
                response=QuotaExceededErrorSerializer,
                description="Quota used up (`quota_exceeded`): how many are left and when "
                "the daily quota resets.",
            ),
        },
    )
    def post(self, request: Request, lab_id: int) -> Response:
        lab, _role = selectors.lab_get(user=request.user, lab_id=lab_id)
        # From the headers, before request.data reads (and spools) the body. With a token (the
        # documented way) nothing has read it yet; a session-cookie call has, for its CSRF check.
        uploads.upload_check_length(lab=lab, request=request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["archive"]
        submission = services.submission_create(
            lab=lab, actor=request.user, upload=upload, filename=upload.name or "archive.zip"
        )
        quota = selectors.quota_status(lab=lab, student=request.user)
        data = {
            "id": submission.pk,
            "status": submission.status,
            "status_url": _absolute(request, "submission-detail", submission_id=submission.pk),
            "quota": quota,
        }
        return Response(self.CreateOutputSerializer(data).data, status=status.HTTP_202_ACCEPTED)


class SubmissionDetailApi(APIView):
    @extend_schema(
        operation_id="submissions_retrieve",
        tags=["submissions"],
        summary="One submission",
        description=(
            "Your own submission (instructors: any of their course). Poll it until `status` "
            "is `scored`, `failed` or `cancelled`. `metrics.private` stays null for students "
            "until the lab closes."
        ),
        parameters=[SUBMISSION_PARAMETER],
        responses={200: InstructorSubmissionOutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, submission_id: int) -> Response:
        submission, role = selectors.submission_get(user=request.user, submission_id=submission_id)
        return Response(_submission_data(request, submission, role))


class SubmissionCancelApi(APIView):
    @extend_schema(
        operation_id="submissions_cancel",
        tags=["submissions"],
        summary="Cancel a submission",
        description=(
            "Instructors only: cancels a queued or running submission (a running grade's "
            "result is discarded). Cancelled submissions are not charged."
        ),
        parameters=[SUBMISSION_PARAMETER],
        request=None,
        responses={
            200: InstructorSubmissionOutputSerializer,
            **error_responses(
                401,
                403,
                404,
                409,
                e403="You are a student of the course (`permission_denied`).",
                e409="Already scored, failed or cancelled (`not_cancellable`).",
            ),
        },
    )
    def post(self, request: Request, submission_id: int) -> Response:
        submission, role = selectors.submission_get(user=request.user, submission_id=submission_id)
        submission = services.submission_cancel(submission=submission, actor=request.user)
        return Response(_submission_data(request, submission, role))


# --- Leaderboard ----------------------------------------------------------------------------


class LabLeaderboardApi(APIView):
    class FilterSerializer(serializers.Serializer):
        part = serializers.ChoiceField(choices=selectors.LEADERBOARD_PARTS, required=False)

        class Meta:
            ref_name = "LeaderboardFilter"

    class OutputSerializer(serializers.Serializer):
        class RowSerializer(serializers.Serializer):
            rank = serializers.IntegerField(help_text="Ties share a rank (1, 1, 3).")
            display_name = serializers.CharField(
                help_text="The display name the student chose on their profile, else their "
                "preferred or first name, else their username (never their email); or a stable "
                "pseudonym such as `Student 4F2A` when the lab hides names."
            )
            username = serializers.CharField(required=False, help_text="Instructors only.")
            is_me = serializers.BooleanField(help_text="Your own row.")
            best_score = serializers.FloatField(help_text="Best score on the primary metric.")
            submission_count = serializers.IntegerField(help_text="Scored submissions.")
            last_submitted_at = serializers.DateTimeField(help_text="The latest scored submission.")
            public_rank = serializers.IntegerField(
                allow_null=True,
                help_text="On the private leaderboard: the rank on the public part; otherwise "
                "null.",
            )

            class Meta:
                ref_name = "LeaderboardRow"

        part = serializers.ChoiceField(
            choices=selectors.LEADERBOARD_PARTS,
            help_text="`public` while the lab is open; `private` (the final ranking) after it "
            "closes.",
        )
        primary_metric = serializers.ChoiceField(choices=Lab.Metric.choices)
        closes_at = serializers.DateTimeField(allow_null=True)
        is_closed = serializers.BooleanField()
        rows = RowSerializer(many=True)

        class ReferenceSerializer(serializers.Serializer):
            label = serializers.CharField()
            score = serializers.FloatField(help_text="The reference's score on this part.")
            position = serializers.IntegerField(
                help_text="How many rows rank above the line (those at or above its score)."
            )

            class Meta:
                ref_name = "LeaderboardReference"

        reference = ReferenceSerializer(
            allow_null=True,
            help_text="The instructors' baseline to beat, once scored; it has no rank and "
            "counts in no quota.",
        )

        class Meta:
            ref_name = "Leaderboard"

    @extend_schema(
        operation_id="labs_leaderboard",
        tags=["labs"],
        summary="A lab's leaderboard",
        description=(
            "One row per student with a scored submission, ranked by their best score on the "
            "lab's primary metric. Until the lab closes the ranking uses the public part of the "
            "held-out set; after it closes, the private part (with each row's `public_rank`). "
            "Instructors may preview the private ranking early with `?part=private`."
        ),
        parameters=[
            LAB_PARAMETER,
            OpenApiParameter(
                "part",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(selectors.LEADERBOARD_PARTS),
                description="Default: `public` before the deadline, `private` after.",
            ),
        ],
        responses={
            200: OutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                e400="Unknown `part` (`invalid_input`).",
                e403="A student asked for the private ranking before the lab closed "
                "(`permission_denied`).",
            ),
        },
    )
    def get(self, request: Request, lab_id: int) -> Response:
        lab, role = selectors.lab_get(user=request.user, lab_id=lab_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        closed = selectors.lab_is_closed(lab=lab)
        part = selectors.leaderboard_part(
            lab=lab, role=role, requested=filters.validated_data.get("part")
        )
        board = selectors.leaderboard(lab=lab, part=part, viewer=request.user)
        reference = selectors.leaderboard_reference(lab=lab, part=part, rows=board)
        rows = [asdict(row) for row in board]
        if not is_staff_role(role):
            for row in rows:
                del row["username"]
        data = {
            "part": part,
            "primary_metric": lab.primary_metric,
            "closes_at": lab.closes_at,
            "is_closed": closed,
            "rows": rows,
            "reference": asdict(reference) if reference else None,
        }
        return Response(self.OutputSerializer(data).data)
