from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Profile

User = get_user_model()


def user_by_email(*, email: str) -> AbstractBaseUser | None:
    """The account with this email address (compared case-insensitively), if any."""
    return User.objects.filter(email__iexact=email.strip()).order_by("pk").first()


def account_is_pending(user: AbstractBaseUser) -> bool:
    """Invited but has not set a password yet."""
    invited = Profile.objects.filter(user=user, invited_at__isnull=False).exists()
    return invited and not user.has_usable_password()


def profile_of(*, user: AbstractBaseUser) -> Profile:
    """The user's profile, or an unsaved blank one (reading never writes)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def display_name_of(*, user: AbstractBaseUser) -> str:
    """The name leaderboards show other students: the display name the person chose, else
    their preferred name, else their first name, else the username (never the email address:
    an email-like username is cut at the @). Reads `user.profile` when a query loaded it
    (`select_related("profile")`), so a list of users costs no query per row."""
    try:
        profile = user.profile
    except Profile.DoesNotExist:
        profile = Profile(user=user)
    name = profile.display_name or profile.preferred_name or user.first_name
    return name or user.get_username().split("@", 1)[0]
