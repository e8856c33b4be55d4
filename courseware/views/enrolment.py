"""Self-enrolment pages: the instructor's join-code settings, and /join/, where a signed-in
person joins with a code and a newcomer signs up with one.

Sign-up answers the same page whether or not the email has an account (the email itself says
which); the link in it carries a signed join ticket (`/join/complete/?ticket=…`) so that
confirming, or logging in from the "you already have an account" notice, lands in the
course. Wrong codes are throttled per client address (courseware.throttles)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts import services as account_services
from accounts.throttles import account_request_limited
from core.exceptions import ApplicationError
from core.forms import form_error_message
from courseware import selectors
from courseware.enrolment_forms import JoinForm, JoinSettingsForm, SignupForm
from courseware.models import Course
from courseware.services import enrolment
from courseware.throttles import join_attempts_limited, join_failure_count, join_limited_message

TICKET_SALT = "courseware.join.ticket"


def join_link(code: str) -> str:
    return f"{settings.SITE_URL}{reverse('course-join')}?{urlencode({'code': code})}"


# --- Instructors: the join-code settings -------------------------------------------------------


def _enrolment_page(request: HttpRequest, course: Course, form: JoinSettingsForm, status=200):
    context = {
        "course": course,
        "form": form,
        "join_link": join_link(course.join_code) if course.join_code else "",
    }
    return render(request, "courseware/enrolment.html", context, status=status)


def _initial_settings(course: Course) -> JoinSettingsForm:
    return JoinSettingsForm(
        initial={
            "enabled": course.join_enabled,
            "email_domain": course.join_email_domain,
            "section": course.join_section,
        }
    )


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def course_enrolment(request: HttpRequest, code: str) -> HttpResponse:
    course = selectors.course_get_for_instructor(user=request.user, code=code)
    if request.method == "GET":
        return _enrolment_page(request, course, _initial_settings(course))
    if request.POST.get("action") == "rotate":
        new_code = enrolment.join_code_rotate(actor=request.user, course=course)
        messages.success(request, f"The new join code is {new_code}; the old one no longer works.")
        return redirect("course-enrolment", code=course.slug)
    form = JoinSettingsForm(request.POST)
    if form.is_valid():
        try:
            enrolment.join_settings_update(actor=request.user, course=course, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error("email_domain", exc.message)
        else:
            state = "on" if course.join_enabled else "off"
            messages.success(request, f"Self-enrolment is {state}.")
            return redirect("course-enrolment", code=course.slug)
    course.refresh_from_db()
    return _enrolment_page(request, course, form, status=400)


# --- /join/ -------------------------------------------------------------------------------------


def _join_page(request: HttpRequest, *, code: str = "", error: str = "", signup=None, status=200):
    code = code or request.GET.get("code", "")
    context = {
        "code": code,
        "error": error,
        "join_form": JoinForm(initial={"code": code}),
        "signup_form": signup or SignupForm(initial={"code": code}),
        "login_url": f"{reverse('login')}?{urlencode({'next': _join_path(code)})}",
    }
    return render(request, "courseware/join.html", context, status=status)


def _join_path(code: str) -> str:
    return (
        f"{reverse('course-join')}?{urlencode({'code': code})}" if code else reverse("course-join")
    )


def _limited(request: HttpRequest, message: str, minutes: int) -> HttpResponse:
    context = {"status": 429, "title": "Too many requests", "message": message}
    response = HttpResponse(render_to_string("error.html", context, request=request), status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _checked_course(request: HttpRequest, code: str) -> Course:
    """The course `code` opens; a wrong code counts against the client's address."""
    try:
        return enrolment.course_for_join_code(code=code)
    except ApplicationError:
        join_failure_count(request)
        raise


def _join(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    if not form.is_valid():
        return _join_page(request, error=form_error_message(form), status=400)
    code = form.cleaned_data["code"]
    try:
        _checked_course(request, code)
        membership = enrolment.course_join(actor=request.user, code=code)
    except ApplicationError as exc:
        return _join_page(request, code=code, error=exc.message, status=400)
    messages.success(request, f"Welcome to {membership.course.code}: you are enrolled.")
    return redirect("course-detail", code=membership.course.slug)


def _signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST)
    if not form.is_valid():
        code = request.POST.get("code", "")
        return _join_page(request, code=code, signup=form, status=400)
    data = form.cleaned_data
    try:
        course = _checked_course(request, data["code"])
        enrolment.join_email_check(course=course, email=data["email"])
    except ApplicationError as exc:
        return _join_page(request, code=data["code"], error=exc.message, signup=form, status=400)
    limited = account_request_limited(request, scope="signup", email=data["email"])
    if limited:
        return _limited(request, limited.message, limited.minutes)
    ticket = signing.dumps(
        {"code": course.join_code, "email": data["email"].strip().lower()}, salt=TICKET_SALT
    )
    try:
        # None for an email that has an account: answered exactly like a new one below.
        account_services.account_signup(
            email=data["email"],
            password=data["password"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            next=f"{reverse('course-join-complete')}?{urlencode({'ticket': ticket})}",
        )
    except ApplicationError as exc:
        return _join_page(request, code=data["code"], error=exc.message, signup=form, status=400)
    return render(request, "courseware/join_sent.html", {"email": data["email"]})


@never_cache
@require_http_methods(["GET", "POST"])
def course_join(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        minutes = join_attempts_limited(request)
        if minutes:
            return _limited(request, join_limited_message(minutes), minutes)
        if request.user.is_authenticated:
            return _join(request)
        return _signup(request)
    return _join_page(request)


@never_cache
@require_GET
@login_required
def course_join_complete(request: HttpRequest) -> HttpResponse:
    """Where the sign-up confirmation (or the log-in link in the "you have an account"
    notice) lands: the ticket names the code and the email it was sent to, so only the owner
    of that address can use it, and it expires with the other account links."""
    try:
        ticket = signing.loads(
            request.GET.get("ticket", ""),
            salt=TICKET_SALT,
            max_age=settings.PASSWORD_RESET_TIMEOUT,
        )
    except signing.BadSignature:
        return _join_page(
            request,
            error="This join link has expired or is not complete: enter the join code below.",
            status=400,
        )
    if ticket["email"] != request.user.email.strip().lower():
        error = (
            f"This join link was sent to {ticket['email']}, not to the account you are logged "
            "in with: log out and log in with that account, or enter the join code below."
        )
        return _join_page(request, error=error, status=403)
    try:
        membership = enrolment.course_join(actor=request.user, code=ticket["code"])
    except ApplicationError as exc:
        return _join_page(request, code=ticket["code"], error=exc.message, status=400)
    messages.success(request, f"Welcome to {membership.course.code}: you are enrolled.")
    return redirect("course-detail", code=membership.course.slug)
