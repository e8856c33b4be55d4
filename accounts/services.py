"""Account writes: creating and inviting accounts, profiles, email changes, sign-up.

Who may act (`actor`): a user on their own account; `SYSTEM` and site staff on any. Creating
and inviting accounts is also open to any signed-in actor, because the *course* right to do
it (an instructor enrolling a roster) is checked by the courseware service that calls these;
an invitation only ever goes to an account that has no password yet."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode

from accounts import selectors
from accounts.mail import send_templated
from accounts.models import Profile
from accounts.tokens import invitation_token_generator, signup_token_generator
from core.actors import is_system
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError

User = get_user_model()
EMAIL_CHANGE_SALT = "accounts.email_change"
_USERNAME_UNSAFE = re.compile(r"[^\w.+-]")


def _is_site_staff(actor) -> bool:
    return is_system(actor) or bool(
        getattr(actor, "is_authenticated", False) and actor.is_active and actor.is_staff
    )


def _require_self_or_staff(actor, user: AbstractBaseUser) -> None:
    if _is_site_staff(actor):
        return
    if getattr(actor, "is_authenticated", False) and actor.pk == user.pk:
        return
    raise PermissionDeniedError("You can only change your own account.")


def _require_signed_in(actor) -> None:
    if not (is_system(actor) or getattr(actor, "is_authenticated", False)):
        raise PermissionDeniedError("Log in to create or invite accounts.")


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email(email.strip())
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            "invalid_email", f"{email!r} is not an email address: use name@example.edu."
        ) from None
    return email


def _username_for(email: str) -> str:
    """The email's local part, lower case (logging in compares usernames exactly) and made
    safe for a username, with 2, 3, ... added if taken."""
    base = _USERNAME_UNSAFE.sub("", email.split("@", 1)[0].lower())[:140] or "user"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _link(name: str, **kwargs) -> str:
    return settings.SITE_URL + reverse(name, kwargs=kwargs)


def _uid(user: AbstractBaseUser) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def profile_get_or_create(*, user: AbstractBaseUser) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def _set_student_id(profile: Profile, student_id: str) -> None:
    student_id = student_id.strip()
    taken = Profile.objects.filter(student_id=student_id).exclude(pk=profile.pk).exists()
    if student_id and taken:
        raise ApplicationError(
            "student_id_taken",
            f"Student id {student_id} already belongs to another account: check the roster, "
            "or find that account and correct its student id.",
        )
    profile.student_id = student_id


@transaction.atomic
def account_create(
    *, actor, email: str, first_name: str = "", last_name: str = "", student_id: str = ""
) -> AbstractBaseUser:
    """A new account with no usable password (send it an invitation to set one). Refuses an
    email that already has an account: find it with `selectors.user_by_email` instead."""
    _require_signed_in(actor)
    email = _clean_email(email)
    if selectors.user_by_email(email=email):
        raise ApplicationError(
            "email_taken", f"An account with the email {email} already exists: use that account."
        )
    user = User(
        username=_username_for(email),
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    profile = Profile(user=user)
    _set_student_id(profile, student_id)
    profile.full_clean()
    profile.save()
    return user


@transaction.atomic
def account_invite(*, actor, user: AbstractBaseUser) -> None:
    """Email `user` a one-time link to set their password (expires after
    PASSWORD_RESET_TIMEOUT; setting the password ends it). Calling it again resends, and only
    the newest link then works. The email is sent inside the transaction, so `invited_at` is
    recorded only for an invitation that was handed to the mail server."""
    _require_signed_in(actor)
    if user.has_usable_password():
        raise ApplicationError(
            "already_active",
            f"{user.get_username()} has set a password already: they can log in, or reset "
            "their password from the login page.",
        )
    if not user.email:
        raise ApplicationError(
            "no_email", f"{user.get_username()} has no email address: add one first."
        )
    profile = profile_get_or_create(user=user)
    profile.invited_at = timezone.now()
    profile.invited_by = None if is_system(actor) else actor
    profile.full_clean()
    profile.save()
    token = invitation_token_generator.make_token(user)
    send_templated(
        template="invitation",
        to=user.email,
        context={
            "user": user,
            "invited_by": profile.invited_by,
            "link": _link("invitation-accept", uidb64=_uid(user), token=token),
            "valid_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        },
    )


@transaction.atomic
def profile_update(
    *, actor, user: AbstractBaseUser, preferred_name: str, display_name: str
) -> Profile:
    _require_self_or_staff(actor, user)
    profile = profile_get_or_create(user=user)
    profile.preferred_name = preferred_name.strip()
    profile.display_name = display_name.strip()
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def email_change_request(*, actor, user: AbstractBaseUser, new_email: str) -> None:
    """Email a signed, expiring confirmation link to `new_email`; the account's email changes
    only when it is followed (`email_change_confirm`). An address that another account has
    gets a notice instead, and the answer here is the same, so this reveals no accounts."""
    _require_self_or_staff(actor, user)
    new_email = _clean_email(new_email)
    if new_email.lower() == user.email.lower():
        raise ApplicationError("same_email", f"{new_email} is already your email address.")
    if selectors.user_by_email(email=new_email):
        send_templated(template="email_taken", to=new_email, context={"email": new_email})
        return
    token = signing.dumps(
        {"user": user.pk, "old": user.email, "new": new_email}, salt=EMAIL_CHANGE_SALT
    )
    send_templated(
        template="email_change",
        to=new_email,
        context={"user": user, "link": _link("email-change-confirm", token=token)},
    )


@transaction.atomic
def email_change_confirm(*, token: str) -> AbstractBaseUser:
    """Apply a confirmed email change. The link expires after PASSWORD_RESET_TIMEOUT and works
    once: it names the old address, which is no longer the account's after the change."""
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.SignatureExpired:
        raise ApplicationError(
            "link_expired",
            "This email confirmation link has expired: change your email on your profile "
            "page again to get a new one.",
        ) from None
    except signing.BadSignature:
        raise ApplicationError(
            "link_invalid",
            "This email confirmation link is not valid (perhaps it was cut short): copy the "
            "whole link from the email, or change your email on your profile page again.",
        ) from None
    user = User.objects.select_for_update().filter(pk=data["user"]).first()
    if user is None:
        raise NotFoundError("The account for this link no longer exists.")
    if user.email != data["old"]:
        raise ApplicationError(
            "link_used",
            "This email confirmation link was already used (or your email has changed since): "
            "your profile page shows your current email.",
        )
    if selectors.user_by_email(email=data["new"]):
        raise ApplicationError(
            "email_taken", f"{data['new']} now belongs to another account: choose another."
        )
    user.email = data["new"]
    user.full_clean()
    user.save(update_fields=["email"])
    return user


def _awaits_confirmation(user: AbstractBaseUser) -> bool:
    return not user.is_active and user.last_login is None and user.has_usable_password()


@transaction.atomic
def account_signup(
    *, email: str, password: str, first_name: str, last_name: str, next: str = ""
) -> AbstractBaseUser | None:
    """Self sign-up (for the join-code page). Creates an inactive account and emails it a link
    that activates it (`signup_confirm`, which asks for this password again, so only the one
    who chose it can confirm). Signing up again before confirming replaces the password and
    sends a new link (older ones stop working). An email that has an active or invited
    account gets a notice instead.

    Returns the account awaiting confirmation, or None for an existing account: the caller
    MUST answer both the same way ("check your email"), or the page reveals who has an account.
    An unacceptable password raises ApplicationError("invalid_password") before either.
    `next` (a site path, e.g. the join-code page's) is where the confirmation link, or the
    notice's log-in link, lands afterwards."""
    email = _clean_email(email)
    candidate = User(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise ApplicationError("invalid_password", " ".join(exc.messages)) from None
    user = selectors.user_by_email(email=email)
    if user and not _awaits_confirmation(user):
        make_password(password)  # as long as the new-account path takes: no timing tell
        login_link = _link("login") + (f"?{urlencode({'next': next})}" if next else "")
        send_templated(
            template="signup_existing",
            to=email,
            context={"user": user, "login_link": login_link},
        )
        return None
    if user is None:
        user = User(username=_username_for(email), email=email, is_active=False)
    user.first_name, user.last_name = candidate.first_name, candidate.last_name
    user.set_password(password)
    user.full_clean()
    user.save()
    profile_get_or_create(user=user)
    token = signup_token_generator.make_token(user)
    link = _link("signup-confirm", uidb64=_uid(user), token=token)
    send_templated(
        template="signup",
        to=email,
        context={"user": user, "link": link + (f"?{urlencode({'next': next})}" if next else "")},
    )
    return user


def signup_link_valid(*, user: AbstractBaseUser | None, token: str) -> bool:
    return (
        bool(user)
        and _awaits_confirmation(user)
        and signup_token_generator.check_token(user, token)
    )


@transaction.atomic
def signup_confirm(*, user: AbstractBaseUser, token: str, password: str) -> AbstractBaseUser:
    """Activate a signed-up account from its emailed link (once; it expires), given the
    password chosen at sign-up."""
    if not signup_link_valid(user=user, token=token):
        raise ApplicationError(
            "link_invalid",
            "This sign-up link has expired or was already used: log in, or sign up again "
            "with the same email address for a new link.",
        )
    if not user.check_password(password):
        raise ApplicationError(
            "wrong_password",
            "That is not the password chosen when signing up with this link. Try again, or "
            "sign up again with the same email address for a new link.",
        )
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user
