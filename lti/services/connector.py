"""PyLTI1p3's service connector with a timeout on every HTTP call to the LMS.

PyLTI1p3 calls `requests` without a timeout (a hung LMS would hold the caller forever); it
accepts a `requests.Session`, so we hand it one whose requests default to
settings.LTI_SERVICE_TIMEOUT_S."""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from lti_tool.models import LtiRegistration
from pylti1p3.service_connector import REQUESTS_USER_AGENT, ServiceConnector


class _TimeoutSession(requests.Session):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = REQUESTS_USER_AGENT

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


def service_connector(registration: LtiRegistration) -> ServiceConnector:
    return ServiceConnector(
        registration.to_registration(),
        requests_session=_TimeoutSession(settings.LTI_SERVICE_TIMEOUT_S),
    )
