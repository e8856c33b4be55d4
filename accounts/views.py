"""Account pages: set a password from an invitation, reset it by email, change it, the
profile (names, email change) and the confirmation links. Bad, expired or used links render
a page that says what to do next, never a 500."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.forms import EmailChangeForm, ProfileForm, ResetForm
from accounts.throttles import Limited, account_request_limited
from accounts.tokens import invitation_token_generator
from core.decorators import htmx_login_required
from core.exceptions import ApplicationError

User = get_user_model()
# Two backends are configured (axes first); a user who just proved a link logs in with this.
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _limited_response(request: HttpRequest, limited: Limited) -> HttpResponse:
    context = {"status": 429, "title": "Too many requests", "message": limited.message}
    response = HttpResponse(render_to_string("error.html", context, request=request), status=429)
    response["Retry-After"] = str(limited.minutes * 60)
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view: the same page (and no email) for an address with no account."""

    form_class = ResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"

    def form_valid(self, form):
        limited = account_request_limited(
            self.request, scope="password_reset", email=form.cleaned_data["email"]
        )
        if limited:
            return _limited_response(self.request, limited)
        # Links on SITE_URL, never on the Host header a client sent.
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The reset link: set a new password, then be logged in and land on My courses."""

    template_name = "accounts/password_reset_confirm.html"
    post_reset_login = True
    post_reset_login_backend = LOGIN_BACKEND
    success_url = reverse_lazy("home")
    success_message = "Your new password is set, and you are logged in."

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, self.success_message)
        return response


class InvitationAcceptView(PasswordResetConfirmView):
    """The invitation link: choose the first password. The link works once (setting the
    password changes what its token signs) and only the newest invitation's link works."""

    template_name = "accounts/invitation_accept.html"
    token_generator = invitation_token_generator
    success_message = "Welcome to Coursebench: your password is set, and you are logged in."


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed.")
        return response


@htmx_login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    current = selectors.profile_of(user=request.user)
    profile_form = ProfileForm(instance=current)
    email_form = EmailChangeForm()
    if request.method == "POST" and request.POST.get("action") == "email":
        email_form = EmailChangeForm(request.POST)
        if email_form.is_valid():
            return _email_change_request(request, email_form)
    elif request.method == "POST":
        profile_form = ProfileForm(request.POST, instance=current)
        if profile_form.is_valid():
            services.profile_update(
                actor=request.user,
                user=request.user,
                preferred_name=profile_form.cleaned_data["preferred_name"],
                display_name=profile_form.cleaned_data["display_name"],
            )
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    context = {"profile_form": profile_form, "email_form": email_form}
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/profile.html", context, status=status)


def _email_change_request(request: HttpRequest, form: EmailChangeForm) -> HttpResponse:
    new_email = form.cleaned_data["new_email"]
    try:
        services.email_change_request(actor=request.user, user=request.user, new_email=new_email)
    except ApplicationError as exc:
        form.add_error("new_email", exc.message)
        context = {"profile_form": ProfileForm(instance=selectors.profile_of(user=request.user))}
        return render(request, "accounts/profile.html", {**context, "email_form": form}, status=400)
    messages.success(
        request,
        f"We sent a confirmation link to {new_email}. Your email changes when you follow it.",
    )
    return redirect("profile")


@require_http_methods(["GET", "POST"])
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for a click (mail scanners follow links), POST applies the change."""
    if request.method == "GET":
        return render(request, "accounts/email_change_confirm.html")
    services.email_change_confirm(token=token)
    messages.success(request, "Your email address is changed.")
    return redirect("profile" if request.user.is_authenticated else "login")


def _user_from_uid(uidb64: str):
    try:
        return User._default_manager.filter(pk=urlsafe_base64_decode(uidb64).decode()).first()
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None


def _safe_next(request: HttpRequest) -> str:
    """The link's `next` (e.g. the join-code page), if it is a path on this site."""
    target = request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""


@require_http_methods(["GET", "POST"])
def signup_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The sign-up link: enter the password chosen at sign-up to activate and log in."""
    user = _user_from_uid(uidb64)
    valid = services.signup_link_valid(user=user, token=token)
    error = ""
    if request.method == "POST" and valid:
        try:
            services.signup_confirm(
                user=user, token=token, password=request.POST.get("password", "")
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            login(request, user, backend=LOGIN_BACKEND)
            messages.success(request, "Your account is confirmed, and you are logged in.")
            return redirect(_safe_next(request) or "home")
    status = 200 if valid and not error else 400
    context = {"validlink": valid, "error": error}
    return render(request, "accounts/signup_confirm.html", context, status=status)
