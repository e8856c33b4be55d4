"""The `/api/v1/` courseware API: courses, sessions, homework ticks and API tokens.

One view per operation. A view validates its input, calls a selector or a service and
serializes the result; membership and role rules live in `courseware.permissions`, the selectors
and the services, so a non-member gets 404 `not_found` and a wrong role 403
`permission_denied`. Error bodies come from `core.api.exception_handler`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import authenticate
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.api import SECTION_PARAMETER, Pagination, error_responses, paginated_response
from core.auth import client_ip, lockout_response, login_failures_reset
from core.exceptions import ApplicationError
from courseware import selectors, services
from courseware.models import Course, Membership
from courseware.permissions import is_staff_role

URL_NAMESPACE = "courseware_api"

CODE_PARAMETER = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Course code (case-insensitive), e.g. `ICTSS00120`.",
)
NUMBER_PARAMETER = OpenApiParameter(
    "number", OpenApiTypes.INT, OpenApiParameter.PATH, description="Session number in the course."
)
TASK_PARAMETER = OpenApiParameter(
    "task_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Homework task id."
)


@extend_schema_field(OpenApiTypes.URI)
class ApiLinkField(serializers.Field):
    """An absolute link to another API endpoint, built from the serialized object."""

    def __init__(self, view_name: str, url_kwargs: Callable[[Any], dict[str, Any]], **kwargs):
        self.view_name = f"{URL_NAMESPACE}:{view_name}"
        self.url_kwargs = url_kwargs
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        path = reverse(self.view_name, kwargs=self.url_kwargs(value))
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


# --- Courses --------------------------------------------------------------------------------


class CourseListApi(APIView):
    pagination_class = Pagination

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField(source="course.code")
        term = serializers.CharField(source="course.term", help_text="Blank for a single run.")
        slug = serializers.CharField(
            source="course.slug", help_text="What URLs name the offering by ({code} in paths)."
        )
        title = serializers.CharField(source="course.title")
        role = serializers.ChoiceField(
            choices=Membership.Role.choices, help_text="Your role in the course."
        )
        session_count = serializers.IntegerField()
        url = ApiLinkField("course-detail", lambda m: {"code": m.course.slug})

        class Meta:
            ref_name = "CourseListItem"

    @extend_schema(
        operation_id="courses_list",
        tags=["courses"],
        summary="My courses",
        description="The courses you are enrolled in, as instructor or student, by code.",
        responses={200: OutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        memberships = selectors.membership_list_with_session_count(user=request.user)
        return paginated_response(
            queryset=memberships,
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )


class CourseDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        term = serializers.CharField(help_text="Blank for a single run.")
        slug = serializers.CharField(help_text="What URLs name the offering by.")
        title = serializers.CharField()
        state = serializers.ChoiceField(
            choices=Course.State.choices,
            help_text="draft: teaching staff only; archived: read-only.",
        )
        starts_on = serializers.DateField(allow_null=True)
        ends_on = serializers.DateField(allow_null=True)
        role = serializers.ChoiceField(
            choices=Membership.Role.choices, help_text="Your role in the course."
        )
        session_count = serializers.IntegerField()
        sessions_url = ApiLinkField("session-list", lambda c: {"code": c["slug"]})

        class Meta:
            ref_name = "CourseDetail"

    @extend_schema(
        operation_id="courses_retrieve",
        tags=["courses"],
        summary="One of my courses",
        parameters=[CODE_PARAMETER],
        responses={200: OutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        course, role = selectors.course_get(user=request.user, code=code)
        course_data = {
            "code": course.code,
            "term": course.term,
            "slug": course.slug,
            "title": course.title,
            "state": course.state,
            "starts_on": course.starts_on,
            "ends_on": course.ends_on,
            "role": role,
            "session_count": selectors.session_list(course=course).count(),
        }
        return Response(self.OutputSerializer(course_data, context={"request": request}).data)


# --- Sessions -------------------------------------------------------------------------------


class SessionListApi(APIView):
    pagination_class = Pagination

    class OutputSerializer(serializers.Serializer):
        number = serializers.IntegerField()
        title = serializers.CharField()
        date = serializers.DateField(allow_null=True)
        lecturer = serializers.CharField(help_text="Empty when the deck names no lecturer.")
        objective_count = serializers.IntegerField()
        homework_count = serializers.IntegerField()
        url = ApiLinkField("session-detail", lambda s: {"code": s.course.slug, "number": s.number})

        class Meta:
            ref_name = "SessionListItem"

    @extend_schema(
        operation_id="sessions_list",
        tags=["sessions"],
        summary="A course's sessions",
        description="The sessions of one of your courses, by number.",
        parameters=[CODE_PARAMETER],
        responses={200: OutputSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        course, _role = selectors.course_get(user=request.user, code=code)
        return paginated_response(
            queryset=selectors.session_list_with_counts(course=course),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )


class SessionDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        """A session as a student sees it: never any speaker notes."""

        class ObjectiveSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            position = serializers.IntegerField()
            text = serializers.CharField()

            class Meta:
                ref_name = "SessionObjective"

        class HomeworkSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            position = serializers.IntegerField()
            text = serializers.CharField()
            due_at = serializers.DateTimeField(allow_null=True)
            completed = serializers.SerializerMethodField(
                help_text="Whether you ticked this task; null for the teaching staff."
            )

            class Meta:
                ref_name = "SessionHomework"

            def get_completed(self, task: Any) -> bool | None:
                completed_ids = self.context.get("completed_ids")
                return None if completed_ids is None else task.pk in completed_ids

        number = serializers.IntegerField()
        title = serializers.CharField()
        date = serializers.DateField(allow_null=True)
        lecturer = serializers.CharField()
        homework_intro = serializers.CharField()
        objectives = ObjectiveSerializer(many=True)
        homework = HomeworkSerializer(many=True)
        slide_count = serializers.IntegerField()
        slides_html = serializers.CharField(
            help_text="Sanitised HTML, one `<section>` per slide; never contains speaker notes."
        )

        class Meta:
            ref_name = "SessionDetailStudent"

    class InstructorOutputSerializer(OutputSerializer):
        """A session; `speaker_notes` is only present for instructors of the course."""

        class SpeakerNoteSerializer(serializers.Serializer):
            slide = serializers.IntegerField(help_text="1-based slide number.")
            text = serializers.CharField()

            class Meta:
                ref_name = "SpeakerNote"

        speaker_notes = SpeakerNoteSerializer(
            many=True, required=False, help_text="Instructors only: absent for students."
        )

        class Meta:
            ref_name = "SessionDetail"

    @extend_schema(
        operation_id="sessions_retrieve",
        tags=["sessions"],
        summary="One session",
        description=(
            "A session with its objectives, homework and slides. `homework[].completed` is "
            "your own tick (null for the teaching staff). `speaker_notes` is sent to the teaching "
            "staff (instructors and teaching assistants) only."
        ),
        parameters=[CODE_PARAMETER, NUMBER_PARAMETER],
        responses={200: InstructorOutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, code: str, number: int) -> Response:
        course, role = selectors.course_get(user=request.user, code=code)
        session = selectors.session_get(course=course, number=number)
        if is_staff_role(role):  # instructors and teaching assistants
            serializer_class = self.InstructorOutputSerializer
            completed_ids = None
        else:
            serializer_class = self.OutputSerializer
            completed_ids = selectors.completed_task_ids(
                user=request.user, tasks=session.homework.all()
            )
        context = {"request": request, "completed_ids": completed_ids}
        return Response(serializer_class(session, context=context).data)


# --- Homework -------------------------------------------------------------------------------


class HomeworkCompletionApi(APIView):
    """PUT ticks a homework task for you, DELETE unticks it; both are idempotent."""

    class OutputSerializer(serializers.Serializer):
        task_id = serializers.IntegerField()
        completed = serializers.BooleanField(help_text="Your tick after the request.")

        class Meta:
            ref_name = "HomeworkCompletionState"

    _errors = error_responses(
        401,
        403,
        404,
        e403="You are an instructor of the course (`permission_denied`): only students tick.",
        e404="No such task in your courses (`not_found`).",
    )

    def _set(self, request: Request, task_id: int, *, done: bool) -> Response:
        task, _role = selectors.homework_task_get(user=request.user, task_id=task_id)
        completed = services.homework_completion_set(actor=request.user, task=task, done=done)
        return Response(self.OutputSerializer({"task_id": task.pk, "completed": completed}).data)

    @extend_schema(
        operation_id="homework_completion_set",
        tags=["homework"],
        summary="Tick a homework task",
        description="Marks the task done for you (students of the course only). Idempotent.",
        parameters=[TASK_PARAMETER],
        request=None,
        responses={200: OutputSerializer, **_errors},
    )
    def put(self, request: Request, task_id: int) -> Response:
        return self._set(request, task_id, done=True)

    @extend_schema(
        operation_id="homework_completion_unset",
        tags=["homework"],
        summary="Untick a homework task",
        description="Marks the task not done for you (students of the course only). Idempotent.",
        parameters=[TASK_PARAMETER],
        request=None,
        responses={200: OutputSerializer, **_errors},
    )
    def delete(self, request: Request, task_id: int) -> Response:
        return self._set(request, task_id, done=False)


class HomeworkCompletionListApi(APIView):
    pagination_class = Pagination

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField(source="student.username")
        display_name = serializers.SerializerMethodField(
            help_text="The student's full name, or their username when they have none."
        )
        completed_at = serializers.DateTimeField(source="created_at")

        class Meta:
            ref_name = "HomeworkCompletion"

        def get_display_name(self, completion: Any) -> str:
            return completion.student.get_full_name() or completion.student.get_username()

    @extend_schema(
        operation_id="homework_completions_list",
        tags=["homework"],
        summary="Who ticked a homework task",
        description=(
            "Instructors of the course only: the current students who ticked it (not "
            "unenrolled ones), earliest first."
        ),
        parameters=[TASK_PARAMETER, SECTION_PARAMETER],
        responses={
            200: OutputSerializer(many=True),
            **error_responses(
                401,
                403,
                404,
                e403="You are a student of the course (`permission_denied`).",
                e404="No such task in your courses (`not_found`).",
            ),
        },
    )
    def get(self, request: Request, task_id: int) -> Response:
        task, _role = selectors.homework_task_get(user=request.user, task_id=task_id)
        return paginated_response(
            queryset=selectors.homework_completion_list(
                user=request.user, task=task, section=request.query_params.get("section", "")
            ),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )


# --- API tokens -----------------------------------------------------------------------------


class TokenObtainThrottle(AnonRateThrottle):
    """Slows password guessing: a client address gets 10 attempts a minute (the address as
    NUM_PROXIES trusted proxies report it, never a client-supplied X-Forwarded-For)."""

    scope = "token_obtain"
    rate = "10/minute"

    def get_ident(self, request: Request) -> str:
        return client_ip(request)


class TokenObtainApi(APIView):
    """Exchange a username and password for your API token (the same key on every call)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenObtainThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

        class Meta:
            ref_name = "TokenObtain"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")

        class Meta:
            ref_name = "AuthToken"

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        summary="Get my API token",
        description=(
            "Returns your API token, creating one if you have none. A token made in the "
            "portal (Account → API token) is the same token; replacing it there revokes it."
        ),
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **error_responses(
                400,
                415,
                429,
                e400="Wrong username or password (`invalid_credentials`), missing fields "
                "(`invalid_input`, with `fields`) or a malformed body (`parse_error`).",
                e429="Too many attempts from this address (`throttled`), or too many failed "
                "logins for this username from it (`locked_out`; the message says for how "
                "long, `Retry-After` in seconds).",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request=request, **serializer.validated_data)
        if getattr(request, "axes_locked_out", False):  # set by django-axes' backend
            return lockout_response(request)  # 429 locked_out, as for every login path
        if user is None:
            raise ApplicationError(
                "invalid_credentials",
                "Unable to log in with the username and password given.",
            )
        login_failures_reset(request=request, username=serializer.validated_data["username"])
        token = services.api_token_get_or_create(actor=user)
        return Response(self.OutputSerializer({"token": token.key}).data)
