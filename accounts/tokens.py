"""One-time links. Each is Django's PasswordResetTokenGenerator (HMAC over the account's
state and a timestamp, valid for PASSWORD_RESET_TIMEOUT), with its own salt so a link of one
kind never works as another, and with the state that using the link changes in its hash, so
the link works once."""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Setting the password (or logging in) changes the hash, and so does a resend: only the
    newest invitation's link works."""

    key_salt = "accounts.tokens.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        from accounts.models import Profile

        invited_at = Profile.objects.filter(user=user).values_list("invited_at", flat=True).first()
        stamp = invited_at.isoformat() if invited_at else ""
        return super()._make_hash_value(user, timestamp) + stamp


class SignupTokenGenerator(PasswordResetTokenGenerator):
    """Confirming a sign-up activates the account, which changes the hash."""

    key_salt = "accounts.tokens.SignupTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return super()._make_hash_value(user, timestamp) + str(user.is_active)


invitation_token_generator = InvitationTokenGenerator()
signup_token_generator = SignupTokenGenerator()
# Django's own, used by its password-reset views.
reset_token_generator = default_token_generator
