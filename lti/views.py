"""LTI routes (login, launch, JWKS; csrf-exempt: the LMS posts them, the id_token is the
proof) and the staff pages that register platforms. Views parse, call one selector or
service, render; the services and selectors check who may."""

from __future__ import annotations

import jwt
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lti_tool.constants import SESSION_KEY
from lti_tool.models import Key
from lti_tool.utils import get_launch_from_request
from pylti1p3.exception import LtiException

from core.exceptions import ApplicationError
from core.forms import form_error_message
from lti import selectors, services
from lti.forms import DeploymentForm, PlatformActiveForm, PlatformEditForm, PlatformForm
from lti.middleware import SESSION_DEEP_LINK, SESSION_FRAME_ORIGINS
from lti.services.launch import (
    LaunchRefused,
    launch_accept,
    launch_failure_record,
    launch_validate,
    login_redirect,
)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys: every active one, so a key that was just rotated out still
    verifies until `rotate_keys` retires it."""
    return JsonResponse(Key.objects.as_jwks())


def _refused(request: HttpRequest, refused: LaunchRefused) -> HttpResponse:
    launch_failure_record(refused=refused, request=request, issuer=_issuer_of(request))
    return render(request, "lti/refused.html", {"refused": refused}, status=refused.status_code)


def _issuer_of(request: HttpRequest) -> str:
    """For the log only: the issuer a login names, or an id_token claims (unverified)."""
    if request.method == "GET":
        return request.GET.get("iss", "")
    token = request.POST.get("id_token", "")
    if token:
        try:
            return str(jwt.decode(token, options={"verify_signature": False}).get("iss", ""))
        except jwt.PyJWTError:
            return ""
    return request.POST.get("iss", "")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest, registration_uuid=None) -> HttpResponse:
    urls = selectors.tool_urls()
    try:
        return login_redirect(
            request=request,
            registration_uuid=registration_uuid,
            launch_urls=[urls.launch, urls.deep_linking],
        )
    except LaunchRefused as refused:
        return _refused(request, refused)


@csrf_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    try:
        result = launch_accept(message_launch=launch_validate(request=request))
    except LaunchRefused as refused:
        return _refused(request, refused)
    if request.user.is_authenticated and request.user.pk != result.user.pk:
        request.session.flush()
    auth_login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_KEY] = result.launch_id
    request.session[SESSION_FRAME_ORIGINS] = result.frame_origins
    if result.is_deep_link:
        request.session[SESSION_DEEP_LINK] = {
            "launch_id": result.launch_id,
            "course": result.course.pk,
        }
        return redirect("lti-deep-link-pick")
    if result.course_created:
        messages.success(
            request,
            f"Opened {result.course.code} in Coursebench from your LMS course: you teach it.",
        )
    return redirect(result.url)


@login_required
@require_http_methods(["GET", "POST"])
def deep_link_pick(request: HttpRequest) -> HttpResponse:
    """The LMS sent an instructor here to pick content: list the course's sessions, quizzes
    and labs; the picks go back to the LMS in a signed reply (an auto-posted form)."""
    pending = request.session.get(SESSION_DEEP_LINK)
    if not pending:
        return _refused(
            request,
            LaunchRefused(
                "deep_link",
                "Refused: no content request from the LMS is waiting in this browser. "
                "Start again from the LMS's “add content” / “external tool” button.",
                status_code=400,
            ),
        )
    course = selectors.deep_link_course_get(actor=request.user, course_id=pending["course"])
    error = ""
    if request.method == "POST":
        try:
            message_launch = get_launch_from_request(
                request, pending["launch_id"]
            ).get_message_launch()
        except LtiException:
            return _refused(
                request,
                LaunchRefused(
                    "deep_link",
                    "Refused: the LMS's content request expired. Start again from the LMS.",
                    status_code=400,
                ),
            )
        try:
            reply = services.deep_link_reply(
                actor=request.user,
                message_launch=message_launch,
                course=course,
                picks=request.POST.getlist("resource"),
            )
        except ApplicationError as exc:
            if exc.denies_access:
                raise
            error = exc.message
        else:
            del request.session[SESSION_DEEP_LINK]
            response = render(request, "lti/deep_link_return.html", {"reply": reply})
            # The reply is a form posted to the LMS: the one place form-action allows it.
            response._csp_update = {"form-action": [selectors.origin_of(reply.return_url)]}
            return response
    choices = services.deep_link_prepare(actor=request.user, course=course)
    context = {"course": course, "choices": choices, "error": error}
    return render(request, "lti/deep_link_pick.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def platform_list(request: HttpRequest) -> HttpResponse:
    platforms = selectors.platform_list(actor=request.user)
    form = PlatformForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                registration = services.platform_register(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                if exc.denies_access:
                    raise
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Registered {registration.name}.")
                return redirect("lti-platform-detail", pk=registration.pk)
        else:
            form.add_error(None, form_error_message(form))
    context = {
        "platforms": platforms,
        "form": form,
        "failures": selectors.launch_failure_list(actor=request.user, limit=20),
        "urls": selectors.tool_urls(),
    }
    return render(request, "lti/platform_list.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def platform_detail(request: HttpRequest, pk: int) -> HttpResponse:
    registration = selectors.platform_get(actor=request.user, pk=pk)
    form = DeploymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.platform_deployment_add(
            actor=request.user, registration=registration, **form.cleaned_data
        )
        messages.success(request, f"Added deployment {form.cleaned_data['deployment_id']}.")
        return redirect("lti-platform-detail", pk=registration.pk)
    context = {
        "registration": registration,
        "platform": getattr(registration, "coursebench", None),
        "form": form,
        "urls": selectors.tool_urls(registration=registration),
        "canvas_json": selectors.canvas_developer_key(registration=registration),
        "moodle_fields": selectors.moodle_tool_fields(registration=registration),
        "scopes": selectors.SCOPES,
    }
    return render(request, "lti/platform_detail.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def platform_active(request: HttpRequest, pk: int) -> HttpResponse:
    registration = selectors.platform_get(actor=request.user, pk=pk)
    form = PlatformActiveForm(request.POST)
    form.is_valid()
    is_active = form.cleaned_data.get("is_active", False)
    services.platform_set_active(actor=request.user, registration=registration, is_active=is_active)
    messages.success(
        request,
        f"{registration.name} is {'on' if is_active else 'off'}: launches from it are "
        f"{'accepted' if is_active else 'refused'}.",
    )
    return redirect("lti-platform-detail", pk=registration.pk)


@login_required
@require_http_methods(["GET", "POST"])
def platform_edit(request: HttpRequest, pk: int) -> HttpResponse:
    registration = selectors.platform_get(actor=request.user, pk=pk)
    platform = getattr(registration, "coursebench", None)
    initial = {
        "name": registration.name,
        "auth_url": registration.auth_url,
        "token_url": registration.token_url,
        "keyset_url": registration.keyset_url,
        "frame_origins": "\n".join(platform.frame_origins if platform else []),
    }
    form = PlatformEditForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.platform_update(
                    actor=request.user, registration=registration, **form.cleaned_data
                )
            except ApplicationError as exc:
                if exc.denies_access:
                    raise
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Saved {registration.name}.")
                return redirect("lti-platform-detail", pk=registration.pk)
        else:
            form.add_error(None, form_error_message(form))
    return render(
        request,
        "lti/platform_edit.html",
        {"registration": registration, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def platform_deployment_active(request: HttpRequest, pk: int, deployment_pk: int) -> HttpResponse:
    registration = selectors.platform_get(actor=request.user, pk=pk)
    deployment = selectors.platform_deployment_get(
        actor=request.user, registration=registration, pk=deployment_pk
    )
    form = PlatformActiveForm(request.POST)
    form.is_valid()
    is_active = form.cleaned_data.get("is_active", False)
    services.platform_deployment_set_active(
        actor=request.user, deployment=deployment, is_active=is_active
    )
    outcome = "accepted" if is_active else "refused"
    messages.success(request, f"Deployment {deployment.deployment_id}: launches {outcome}.")
    return redirect("lti-platform-detail", pk=registration.pk)


@login_required
@require_GET
def course_lti(request: HttpRequest, code: str) -> HttpResponse:
    course, overview = selectors.course_lti_get(actor=request.user, code=code)
    return render(request, "lti/course_lti.html", {"course": course, "overview": overview})


@login_required
@require_POST
def roster_sync(request: HttpRequest, code: str) -> HttpResponse:
    course, _overview = selectors.course_lti_get(actor=request.user, code=code)
    try:
        result = services.roster_sync(actor=request.user, course=course)
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, result.summary)
    return redirect("lti-course", code=course.slug)


@login_required
@require_POST
def score_resend(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    sync = selectors.score_sync_get(actor=request.user, pk=pk)
    services.score_resend(actor=request.user, sync=sync)
    messages.success(request, "Sending the score to the LMS again.")
    return redirect("lti-course", code=code)


@login_required
@require_POST
def course_link_provisional(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    link = selectors.course_link_get(actor=request.user, code=code, pk=pk)
    send = request.POST.get("send_provisional") == "1"
    services.course_link_provisional_set(actor=request.user, link=link, send=send)
    messages.success(
        request,
        "Provisional lab scores now go to the LMS while a lab is open."
        if send
        else "Only final lab scores go to the LMS (the private score at the close).",
    )
    return redirect("lti-course", code=link.course.slug)
