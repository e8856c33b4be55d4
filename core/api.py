"""API plumbing shared by every app: the error body, pagination and helpers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "parse_error",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid_input",
    exceptions.NotAcceptable: "not_acceptable",
}


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_page_message = "There is no page {page_number}: {message}."

    def get_page_number(self, request: Request, paginator: Any) -> int:
        """`?page=` must be a whole number from 1 (or `last`): anything else is a 400 that says
        so, where DRF answered 404 "Invalid page." (a page past the end is still a 404)."""
        raw = request.query_params.get(self.page_query_param) or "1"
        if raw in self.last_page_strings:
            return paginator.num_pages
        if not raw.isdigit() or int(raw) < 1:
            raise ApplicationError(
                "invalid_page",
                f"?{self.page_query_param}={raw} is not a page number: pages are numbered "
                "from 1 (or use `last`).",
            )
        return int(raw)


def paginated_response(
    *,
    queryset: QuerySet,
    serializer_class: type[serializers.BaseSerializer],
    request: Request,
    view: APIView,
    context: dict[str, Any] | None = None,
) -> Response:
    """`{"count", "next", "previous", "results"}` for one page of an ordered queryset.

    The view should set `pagination_class = Pagination` so the schema documents the
    envelope and the `page` / `page_size` query parameters."""
    paginator = getattr(view, "pagination_class", None) or Pagination
    paginator = paginator()
    page = paginator.paginate_queryset(queryset, request, view=view)
    serializer = serializer_class(page, many=True, context={"request": request, **(context or {})})
    return paginator.get_paginated_response(serializer.data)


# --- Error bodies, for the OpenAPI schema ------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every API error response."""

    code = serializers.CharField(
        help_text="Stable, machine-readable error code, e.g. `not_found`, `permission_denied`."
    )
    message = serializers.CharField(help_text="What went wrong, for people.")

    class Meta:
        ref_name = "Error"


class InvalidInputErrorSerializer(ErrorSerializer):
    """A 400 body: `invalid_input` carries `fields`; other 400 codes (`parse_error`,
    or an endpoint's own code such as `invalid_credentials`) do not."""

    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field name → its error messages (`non_field_errors` for the whole input).",
    )

    class Meta:
        ref_name = "InvalidInputError"


_ERROR_DESCRIPTIONS = {
    400: "Invalid input (`invalid_input`, with `fields`) or a malformed body (`parse_error`).",
    401: "No credentials (`not_authenticated`) or a bad/revoked token (`authentication_failed`).",
    403: "Authenticated, but this role may not do this (`permission_denied`).",
    404: "No such object among yours (`not_found`), including other courses' objects.",
    405: "The endpoint does not support this method (`method_not_allowed`).",
    415: "The body's content type is not supported (`unsupported_media_type`).",
    429: "Too many requests (`throttled`); retry after the `Retry-After` header's seconds.",
}


SECTION_PARAMETER = OpenApiParameter(
    "section",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description=(
        "Only this section's students (`unknown_section` if the course has no such section). "
        "A teaching assistant limited to a section always gets theirs (`permission_denied` "
        "for another). Unenrolled students are never listed."
    ),
)


def error_responses(*status_codes: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """`responses=` entries for `@extend_schema`, e.g. `{**error_responses(401, 404)}`.

    Override a description with a keyword such as `e403="Only instructors..."`."""
    responses = {}
    for code in status_codes:
        serializer = InvalidInputErrorSerializer if code == 400 else ErrorSerializer
        description = descriptions.get(f"e{code}", _ERROR_DESCRIPTIONS.get(code, "Error."))
        responses[code] = OpenApiResponse(response=serializer, description=description)
    return responses


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every API error body is `{"code": ..., "message": ...}` (+ `fields` for bad input)."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    # DRF wraps a plain error as {"detail": ...}; take the message from the exception itself.
    detail = response.data if isinstance(exc, exceptions.ValidationError) else exc.detail
    body: dict[str, Any] = {"code": code, "message": _first_message(detail)}
    if isinstance(exc, exceptions.ValidationError):
        body["message"] = "Invalid input. " + body["message"]
        body["fields"] = response.data
    elif isinstance(exc, exceptions.NotAuthenticated):
        body["message"] = (
            "Authentication required: send `Authorization: Token <key>` "
            "(create a token in the portal under Account → API token)."
        )
    response.data = body
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = 'Token realm="api"'
    return response
