"""`/api/v1/courses/{code}/members/`: a course's people, for its instructors.

Teaching assistants and students get 403 `permission_denied` (rosters are instructor-only);
people outside the course 404 `not_found`. DELETE unenrols (the member's work is kept and the
membership stays, with `status: "unenrolled"`); PATCH `{"is_active": true}` re-enrols."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, error_responses, paginated_response
from courseware import selectors
from courseware.api import CODE_PARAMETER, ApiLinkField
from courseware.models import Membership
from courseware.selectors import people as people_selectors
from courseware.services import people as people_services

USER_PARAMETER = OpenApiParameter(
    "user_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The member's user id."
)
SECTION_MAX = Membership._meta.get_field("section").max_length
_E403 = "You are a teaching assistant or student of the course (`permission_denied`)."
_E404 = "No such course among yours, or no such person in it (`not_found`)."


class MemberOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField(source="user.email")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    section = serializers.CharField(help_text="Blank: no section.")
    status = serializers.ChoiceField(
        choices=people_selectors.Status.choices,
        help_text="`active`, `invited` (has not set a password from the invitation yet) or "
        "`unenrolled` (no access; their work is kept).",
    )
    is_active = serializers.BooleanField(help_text="False once unenrolled.")
    unenrolled_at = serializers.DateTimeField(allow_null=True)
    invited_at = serializers.DateTimeField(
        allow_null=True, help_text="When the newest invitation was sent; null if never."
    )
    last_login = serializers.DateTimeField(source="user.last_login", allow_null=True)
    url = ApiLinkField("member-detail", lambda m: {"code": m.course.slug, "user_id": m.user_id})

    class Meta:
        ref_name = "Member"


def _member_response(request: Request, course, user_id: int, *, code: int = 200) -> Response:
    # Read back through the selector: the body carries the computed `status`.
    member = people_selectors.member_get(actor=request.user, course=course, user_id=user_id)
    body = MemberOutputSerializer(member, context={"request": request}).data
    return Response(body, status=code)


class MemberListApi(APIView):
    pagination_class = Pagination

    class FilterSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
        status = serializers.ChoiceField(choices=people_selectors.Status.choices, required=False)
        section = serializers.CharField(required=False, max_length=SECTION_MAX)

        class Meta:
            ref_name = "MemberFilter"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        role = serializers.ChoiceField(
            choices=Membership.Role.choices, default=Membership.Role.STUDENT
        )
        section = serializers.CharField(
            max_length=SECTION_MAX, required=False, allow_blank=True, default=""
        )
        first_name = serializers.CharField(
            max_length=150, required=False, allow_blank=True, default=""
        )
        last_name = serializers.CharField(
            max_length=150, required=False, allow_blank=True, default=""
        )

        class Meta:
            ref_name = "MemberAdd"

    class AddedSerializer(MemberOutputSerializer):
        invited = serializers.BooleanField(
            help_text="True when a new account was made and emailed an invitation."
        )

        class Meta:
            ref_name = "MemberAdded"

    @extend_schema(
        operation_id="members_list",
        tags=["members"],
        summary="A course's people",
        description=(
            "Instructors only: every membership, unenrolled ones included (filter with "
            "`status`), instructors first, then by name."
        ),
        parameters=[CODE_PARAMETER, FilterSerializer],
        responses={
            200: MemberOutputSerializer(many=True),
            **error_responses(400, 401, 403, 404, e403=_E403, e404=_E404),
        },
    )
    def get(self, request: Request, code: str) -> Response:
        course = selectors.course_get_for_instructor(user=request.user, code=code)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        members = people_selectors.member_list(
            actor=request.user, course=course, **filters.validated_data
        )
        return paginated_response(
            queryset=members,
            serializer_class=MemberOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        operation_id="members_create",
        tags=["members"],
        summary="Add a person",
        description=(
            "Instructors only. Enrols the account with this email (re-enrols an unenrolled "
            "member); an email without an account gets a new account and an invitation email "
            "(`invited: true`)."
        ),
        parameters=[CODE_PARAMETER],
        request=InputSerializer,
        responses={
            201: AddedSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                e400="Invalid input (`invalid_input`, with `fields`), or the person is already "
                "enrolled (`already_member`).",
                e403=_E403,
                e404=_E404,
            ),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        course = selectors.course_get_for_instructor(user=request.user, code=code)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, invited = people_services.member_add(
            actor=request.user, course=course, **serializer.validated_data
        )
        response = _member_response(request, course, membership.user_id, code=201)
        response.data["invited"] = invited
        return response


class MemberDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
        section = serializers.CharField(max_length=SECTION_MAX, required=False, allow_blank=True)
        is_active = serializers.BooleanField(
            required=False, help_text="`true` re-enrols, `false` unenrols."
        )

        class Meta:
            ref_name = "MemberChange"

    _errors = error_responses(401, 403, 404, e403=_E403, e404=_E404)

    @extend_schema(
        operation_id="members_retrieve",
        tags=["members"],
        summary="One person in a course",
        parameters=[CODE_PARAMETER, USER_PARAMETER],
        responses={200: MemberOutputSerializer, **_errors},
    )
    def get(self, request: Request, code: str, user_id: int) -> Response:
        course = selectors.course_get_for_instructor(user=request.user, code=code)
        return _member_response(request, course, user_id)

    @extend_schema(
        operation_id="members_partial_update",
        tags=["members"],
        summary="Change a person's role, section or enrolment",
        description=(
            "Instructors only. Fields left out stay as they are. A course keeps at least one "
            "active instructor (`last_instructor`)."
        ),
        parameters=[CODE_PARAMETER, USER_PARAMETER],
        request=InputSerializer,
        responses={
            200: MemberOutputSerializer,
            **error_responses(
                400,
                e400="Invalid input (`invalid_input`, with `fields`), or the change would "
                "leave the course without an instructor (`last_instructor`).",
            ),
            **_errors,
        },
    )
    def patch(self, request: Request, code: str, user_id: int) -> Response:
        course = selectors.course_get_for_instructor(user=request.user, code=code)
        membership = people_selectors.member_get(actor=request.user, course=course, user_id=user_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        people_services.member_change(
            actor=request.user, membership=membership, **serializer.validated_data
        )
        return _member_response(request, course, user_id)

    @extend_schema(
        operation_id="members_destroy",
        tags=["members"],
        summary="Unenrol a person",
        description=(
            "Instructors only. Takes away their access and hides them from lists, "
            "leaderboards and exports; their attempts, submissions and homework are kept and "
            "the membership stays (`status: unenrolled`), so PATCH `is_active: true` "
            "re-enrols them. Idempotent."
        ),
        parameters=[CODE_PARAMETER, USER_PARAMETER],
        request=None,
        responses={
            200: MemberOutputSerializer,
            **error_responses(
                400, e400="They are the course's only instructor (`last_instructor`)."
            ),
            **_errors,
        },
    )
    def delete(self, request: Request, code: str, user_id: int) -> Response:
        course = selectors.course_get_for_instructor(user=request.user, code=code)
        membership = people_selectors.member_get(actor=request.user, course=course, user_id=user_id)
        people_services.member_unenrol(actor=request.user, membership=membership)
        return _member_response(request, course, user_id, code=status.HTTP_200_OK)


class MemberInvitationApi(APIView):
    @extend_schema(
        operation_id="members_invitation_resend",
        tags=["members"],
        summary="Resend a person's invitation",
        description=(
            "Instructors only. Emails a new one-time link to set a password (older links "
            "stop working). Only for enrolled members who have not set a password yet."
        ),
        parameters=[CODE_PARAMETER, USER_PARAMETER],
        request=None,
        responses={
            200: MemberOutputSerializer,
            **error_responses(
                400,
                e400="They have set a password already (`already_active`), are unenrolled "
                "(`not_enrolled`) or have no email (`no_email`).",
            ),
            **MemberDetailApi._errors,
        },
    )
    def post(self, request: Request, code: str, user_id: int) -> Response:
        course = selectors.course_get_for_instructor(user=request.user, code=code)
        membership = people_selectors.member_get(actor=request.user, course=course, user_id=user_id)
        people_services.member_invite_resend(actor=request.user, membership=membership)
        return _member_response(request, course, user_id)
