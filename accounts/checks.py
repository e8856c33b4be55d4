"""`manage.py check --deploy` warnings for the email settings a production site needs."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs) -> list[checks.CheckMessage]:
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host in {"127.0.0.1", "localhost", "::1"}:
        return [
            checks.Warning(
                f"SITE_URL is {settings.SITE_URL}: links in invitation and password-reset "
                "emails would point at the recipient's own machine.",
                hint="Set SITE_URL to the site's public address, e.g. https://coursebench.example.edu.",
                id="accounts.W001",
            )
        ]
    return []
