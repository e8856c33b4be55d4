"""Sending the accounts emails, and the development backend `make run` uses."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.core.mail.backends.filebased import EmailBackend as FileBasedBackend
from django.template.loader import render_to_string

logger = logging.getLogger("accounts.mail")
_LINK = re.compile(r"https?://\S+")


def send_templated(*, template: str, to: str, context: dict) -> None:
    """Send templates/accounts/email/<template>_subject.txt and <template>.txt to `to`.
    Links are absolute on SITE_URL, never on the request's Host (which the client chooses)."""
    context = {**context, "site_url": settings.SITE_URL}
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
    body = render_to_string(f"accounts/email/{template}.txt", context)
    send_mail(" ".join(subject.split()), body, None, [to])


class DevMailBackend(FileBasedBackend):
    """Django's file backend (one file per connection under EMAIL_FILE_PATH, var/mail/), which
    also logs each message's recipients and links, so `make run`'s console shows the link to
    click without an SMTP server."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = super().send_messages(email_messages)
        for message in email_messages:
            links = " ".join(_LINK.findall(str(message.body))) or "(no links)"
            logger.info(
                "Email to %s, %r (saved in %s): %s",
                ", ".join(message.to),
                message.subject,
                self.file_path,
                links,
            )
        return sent
